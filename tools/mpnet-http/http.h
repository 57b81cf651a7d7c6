/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HTTP/1.1 message heads for mpnet-http (RFC 9112): a request's head as a
 * server reads it, a response's head as a client reads it, the chunked
 * transfer coding (RFC 9112 7.1), and a request target turned into a file
 * path that cannot leave the served folder. Pure functions on bytes: no
 * sockets, no allocation; every input is untrusted and every malformed one
 * gets a status code, never a read past its end.
 */
#ifndef MPNET_TOOLS_HTTP_H
#define MPNET_TOOLS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A head longer than this is refused (431 for a request). */
#define HTTP_HEAD_MAX 8192

enum http_method { HTTP_GET = 1, HTTP_HEAD };

struct http_req {
        enum http_method method;
        unsigned minor;       /* HTTP/1.minor */
        char target[1024];    /* the request target as sent (origin form) */
        bool keep_alive;      /* after the response (RFC 9112 9.3) */
        uint64_t content_len; /* a body to skip (Content-Length) */
        size_t head_len;      /* bytes of the head, the empty line included */
};

/*
 * Parse a request head at the start of buf.
 * @return 1 with r filled; 0 when the head is not complete yet (and shorter
 * than HTTP_HEAD_MAX); or minus the status to answer: -400 (malformed, or
 * HTTP/1.1 without Host, RFC 9112 3.2), -431 (head too long), -501 (a
 * method other than GET and HEAD, or a Transfer-Encoding), -505 (not
 * HTTP/1.x), -414 (target too long).
 */
int http_req_parse(const char *buf, size_t n, struct http_req *r);

struct http_resp {
        unsigned status;
        unsigned minor;
        bool chunked;      /* Transfer-Encoding: chunked */
        bool has_len;      /* Content-Length given */
        uint64_t body_len; /* its value */
        bool close;        /* Connection: close, or HTTP/1.0 without keep-alive */
        size_t head_len;
};

/* Parse a response head. @return 1, 0 (incomplete), -1 (malformed or
 * longer than HTTP_HEAD_MAX). */
int http_resp_parse(const char *buf, size_t n, struct http_resp *r);

/* The chunked transfer coding, decoded as bytes arrive. */
struct http_chunk {
        int state;
        uint64_t left; /* bytes of the current chunk still to come */
        unsigned digits;
};

/*
 * Decode n bytes of a chunked body from in, writing the data to out (room
 * for n bytes: the data is never longer than its coding).
 * @return the bytes consumed from in (all of n, or fewer once the body
 * ended: the rest is not the body's), -1 on a malformed coding. *out_len
 * gets the data written; http_chunk_done() tells when the body ended.
 */
long http_chunk_feed(struct http_chunk *c, const uint8_t *in, size_t n, uint8_t *out,
                     size_t *out_len);
bool http_chunk_done(const struct http_chunk *c);

/*
 * The file path for a request target (origin form, RFC 9112 3.2.1): the
 * query dropped, %XX decoded, under root. A target that does not start
 * with '/', holds a '..' or '.' segment, a NUL, a control byte or a bad
 * escape is refused. @return 0, or -400, or -414 (too long for out).
 */
int http_target_path(const char *root, const char *target, char *out, size_t n);

/* The reason phrase of a status code ("Not Found"). */
const char *http_reason(unsigned status);

#endif
