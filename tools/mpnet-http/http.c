/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HTTP/1.1 heads, chunked coding and request targets (see http.h).
 * A head is read line by line: a line ends with LF, a CR before it is
 * dropped (RFC 9112 2.2 lets a recipient take a bare LF).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"

/* RFC 9110 5.6.2: tchar. */
static bool is_tchar(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

struct line {
        const char *p;
        size_t n;
};

/* The next line of buf[*off, lim). @return 1, or 0 when no LF is left. */
static int next_line(const char *buf, size_t lim, size_t *off, struct line *l)
{
        const char *s = buf + *off, *lf = memchr(s, '\n', lim - *off);

        if (lf == NULL)
                return 0;
        l->p = s;
        l->n = (size_t)(lf - s);
        if (l->n > 0 && s[l->n - 1] == '\r')
                l->n--;
        *off = (size_t)(lf - buf) + 1;
        return 1;
}

/* Whether a head's end (an empty line) is in buf[0, lim). */
static bool head_complete(const char *buf, size_t lim, size_t skip)
{
        size_t off = skip;
        struct line l;

        while (next_line(buf, lim, &off, &l))
                if (l.n == 0)
                        return true;
        return false;
}

static bool eq_ci(const struct line *l, const char *s)
{
        return l->n == strlen(s) && strncasecmp(l->p, s, l->n) == 0;
}

/* A header field line split into name and value (OWS trimmed).
 * @return 0, or -1 when malformed (RFC 9112 5.1: no whitespace before the
 * colon; 5.2: obsolete line folding refused). */
static int field_split(const struct line *l, struct line *name, struct line *val)
{
        const char *colon = memchr(l->p, ':', l->n);
        size_t i;

        if (colon == NULL || colon == l->p)
                return -1;
        name->p = l->p;
        name->n = (size_t)(colon - l->p);
        for (i = 0; i < name->n; i++)
                if (!is_tchar((unsigned char)name->p[i]))
                        return -1;
        val->p = colon + 1;
        val->n = l->n - name->n - 1;
        while (val->n > 0 && (*val->p == ' ' || *val->p == '\t')) {
                val->p++;
                val->n--;
        }
        while (val->n > 0 && (val->p[val->n - 1] == ' ' || val->p[val->n - 1] == '\t'))
                val->n--;
        for (i = 0; i < val->n; i++) {
                unsigned char c = (unsigned char)val->p[i];

                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        return -1;
        }
        return 0;
}

/* A Content-Length value: digits only, at most 18. @return 0 or -1. */
static int parse_len(const struct line *v, uint64_t *out)
{
        uint64_t x = 0;

        if (v->n == 0 || v->n > 18)
                return -1;
        for (size_t i = 0; i < v->n; i++) {
                if (v->p[i] < '0' || v->p[i] > '9')
                        return -1;
                x = x * 10 + (uint64_t)(v->p[i] - '0');
        }
        *out = x;
        return 0;
}

/* Whether a comma-separated list value holds token tok (any case). */
static bool list_has(const struct line *v, const char *tok)
{
        size_t i = 0, k = strlen(tok);

        while (i < v->n) {
                size_t j = i;

                while (j < v->n && v->p[j] != ',')
                        j++;
                size_t a = i, b = j;

                while (a < b && (v->p[a] == ' ' || v->p[a] == '\t'))
                        a++;
                while (b > a && (v->p[b - 1] == ' ' || v->p[b - 1] == '\t'))
                        b--;
                if (b - a == k && strncasecmp(v->p + a, tok, k) == 0)
                        return true;
                i = j + 1;
        }
        return false;
}

/* "HTTP/1.x": 1 with *minor; 0 for another major version; -1 malformed. */
static int parse_version(const char *p, size_t n, unsigned *minor)
{
        if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' || p[5] > '9' ||
            p[7] < '0' || p[7] > '9')
                return -1;
        *minor = (unsigned)(p[7] - '0');
        return p[5] == '1' ? 1 : 0;
}

/* The request line: METHOD SP TARGET SP VERSION (RFC 9112 3). */
static int req_line(const struct line *l, struct http_req *r)
{
        const char *sp1 = memchr(l->p, ' ', l->n), *sp2, *t;
        size_t tn, i;
        int v;

        if (sp1 == NULL || sp1 == l->p)
                return -400;
        sp2 = memchr(sp1 + 1, ' ', l->n - (size_t)(sp1 + 1 - l->p));
        if (sp2 == NULL || sp2 == sp1 + 1)
                return -400;
        for (const char *m = l->p; m < sp1; m++)
                if (!is_tchar((unsigned char)*m))
                        return -400;
        v = parse_version(sp2 + 1, l->n - (size_t)(sp2 + 1 - l->p), &r->minor);
        if (v < 0)
                return -400;
        if (v == 0)
                return -505;
        t = sp1 + 1;
        tn = (size_t)(sp2 - t);
        for (i = 0; i < tn; i++)
                if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] == 0x7f)
                        return -400;
        /* The absolute form (RFC 9112 3.2.2) is taken as its path. */
        if (tn > 7 && strncasecmp(t, "http://", 7) == 0) {
                const char *slash = memchr(t + 7, '/', tn - 7);

                if (slash == NULL)
                        return -400;
                tn -= (size_t)(slash - t);
                t = slash;
        }
        if (tn >= sizeof(r->target))
                return -414;
        memcpy(r->target, t, tn);
        r->target[tn] = '\0';
        if ((size_t)(sp1 - l->p) == 3 && memcmp(l->p, "GET", 3) == 0)
                r->method = HTTP_GET;
        else if ((size_t)(sp1 - l->p) == 4 && memcmp(l->p, "HEAD", 4) == 0)
                r->method = HTTP_HEAD;
        else
                return -501;
        return 0;
}

int http_req_parse(const char *buf, size_t n, struct http_req *r)
{
        size_t lim = n < HTTP_HEAD_MAX ? n : HTTP_HEAD_MAX, off = 0, skip = 0;
        unsigned hosts = 0;
        bool have_len = false, close = false, keep = false;
        struct line l, name, val;
        int err;

        /* Empty lines before the request line are ignored (RFC 9112 2.2). */
        while (skip < lim && (buf[skip] == '\r' || buf[skip] == '\n'))
                skip++;
        if (!head_complete(buf, lim, skip))
                return n >= HTTP_HEAD_MAX ? -431 : 0;
        memset(r, 0, sizeof(*r));
        off = skip;
        next_line(buf, lim, &off, &l);
        if ((err = req_line(&l, r)) != 0)
                return err;
        while (next_line(buf, lim, &off, &l) && l.n > 0) {
                if (l.p[0] == ' ' || l.p[0] == '\t' || field_split(&l, &name, &val) != 0)
                        return -400;
                if (eq_ci(&name, "Host")) {
                        hosts++;
                } else if (eq_ci(&name, "Connection")) {
                        close |= list_has(&val, "close");
                        keep |= list_has(&val, "keep-alive");
                } else if (eq_ci(&name, "Content-Length")) {
                        uint64_t len;

                        /* Differing or bad lengths: 400 (RFC 9112 6.3). */
                        if (parse_len(&val, &len) != 0 || (have_len && len != r->content_len))
                                return -400;
                        r->content_len = len;
                        have_len = true;
                } else if (eq_ci(&name, "Transfer-Encoding")) {
                        return -501;
                }
        }
        /* One Host, required in HTTP/1.1 (RFC 9112 3.2). */
        if (hosts > 1 || (r->minor >= 1 && hosts == 0))
                return -400;
        /* Persistence: RFC 9112 9.3. */
        r->keep_alive = !close && (r->minor >= 1 || keep);
        r->head_len = off;
        return 1;
}

int http_resp_parse(const char *buf, size_t n, struct http_resp *r)
{
        size_t lim = n < HTTP_HEAD_MAX ? n : HTTP_HEAD_MAX, off = 0;
        bool keep = false;
        struct line l, name, val;

        if (!head_complete(buf, lim, 0))
                return n >= HTTP_HEAD_MAX ? -1 : 0;
        memset(r, 0, sizeof(*r));
        next_line(buf, lim, &off, &l);
        /* HTTP-version SP 3DIGIT SP reason (RFC 9112 4). */
        if (l.n < 12 || parse_version(l.p, 8, &r->minor) != 1 || l.p[8] != ' ' ||
            (l.n > 12 && l.p[12] != ' '))
                return -1;
        for (int i = 9; i < 12; i++) {
                if (l.p[i] < '0' || l.p[i] > '9')
                        return -1;
                r->status = r->status * 10 + (unsigned)(l.p[i] - '0');
        }
        while (next_line(buf, lim, &off, &l) && l.n > 0) {
                if (l.p[0] == ' ' || l.p[0] == '\t' || field_split(&l, &name, &val) != 0)
                        return -1;
                if (eq_ci(&name, "Content-Length")) {
                        uint64_t len;

                        if (parse_len(&val, &len) != 0 || (r->has_len && len != r->body_len))
                                return -1;
                        r->body_len = len;
                        r->has_len = true;
                } else if (eq_ci(&name, "Transfer-Encoding")) {
                        /* Only chunked, as the last coding, is understood. */
                        if (!list_has(&val, "chunked"))
                                return -1;
                        r->chunked = true;
                } else if (eq_ci(&name, "Connection")) {
                        r->close |= list_has(&val, "close");
                        keep |= list_has(&val, "keep-alive");
                }
        }
        if (r->minor == 0 && !keep)
                r->close = true;
        /* Transfer-Encoding overrides Content-Length (RFC 9112 6.3). */
        if (r->chunked)
                r->has_len = false;
        r->head_len = off;
        return 1;
}

enum {
        CH_SIZE,     /* hex digits of the chunk size */
        CH_EXT,      /* a chunk extension, up to the line's end */
        CH_SIZE_LF,  /* CR seen after the size line */
        CH_DATA,     /* chunk data */
        CH_DATA_END, /* CRLF after the data */
        CH_DATA_LF,
        CH_TRAILER, /* at the start of a trailer line (or the final CRLF) */
        CH_TRAIL_LINE,
        CH_END_LF,
        CH_DONE,
};

static int hexval(uint8_t c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* The end of a size line: a chunk follows, or (size 0) the trailers. */
static void size_line_done(struct http_chunk *c)
{
        c->state = c->left > 0 ? CH_DATA : CH_TRAILER;
        c->digits = 0;
}

long http_chunk_feed(struct http_chunk *c, const uint8_t *in, size_t n, uint8_t *out,
                     size_t *out_len)
{
        size_t i = 0, o = 0;

        while (i < n && c->state != CH_DONE) {
                uint8_t b = in[i];
                int h;

                switch (c->state) {
                case CH_SIZE:
                        h = hexval(b);
                        if (h >= 0) {
                                /* 15 hex digits: no overflow of 64 bits. */
                                if (++c->digits > 15)
                                        return -1;
                                c->left = c->left * 16 + (uint64_t)h;
                        } else if (c->digits == 0) {
                                return -1;
                        } else if (b == ';' || b == ' ' || b == '\t') {
                                c->state = CH_EXT;
                        } else if (b == '\r') {
                                c->state = CH_SIZE_LF;
                        } else if (b == '\n') {
                                size_line_done(c);
                        } else {
                                return -1;
                        }
                        i++;
                        break;
                case CH_EXT:
                        if (b == '\n')
                                size_line_done(c);
                        else if (b == '\r')
                                c->state = CH_SIZE_LF;
                        i++;
                        break;
                case CH_SIZE_LF:
                        if (b != '\n')
                                return -1;
                        size_line_done(c);
                        i++;
                        break;
                case CH_DATA: {
                        size_t k = n - i;

                        if (k > c->left)
                                k = (size_t)c->left;
                        memcpy(out + o, in + i, k);
                        o += k;
                        i += k;
                        c->left -= k;
                        if (c->left == 0)
                                c->state = CH_DATA_END;
                        break;
                }
                case CH_DATA_END:
                        if (b == '\r')
                                c->state = CH_DATA_LF;
                        else if (b == '\n')
                                c->state = CH_SIZE;
                        else
                                return -1;
                        i++;
                        break;
                case CH_DATA_LF:
                        if (b != '\n')
                                return -1;
                        c->state = CH_SIZE;
                        i++;
                        break;
                case CH_TRAILER:
                        if (b == '\r')
                                c->state = CH_END_LF;
                        else if (b == '\n')
                                c->state = CH_DONE;
                        else
                                c->state = CH_TRAIL_LINE;
                        i++;
                        break;
                case CH_TRAIL_LINE:
                        if (b == '\n')
                                c->state = CH_TRAILER;
                        i++;
                        break;
                case CH_END_LF:
                        if (b != '\n')
                                return -1;
                        c->state = CH_DONE;
                        i++;
                        break;
                default:
                        return -1;
                }
        }
        *out_len = o;
        return (long)i;
}

bool http_chunk_done(const struct http_chunk *c)
{
        return c->state == CH_DONE;
}

int http_target_path(const char *root, const char *target, char *out, size_t n)
{
        size_t k, seg;

        if (target[0] != '/')
                return -400;
        k = (size_t)snprintf(out, n, "%s", root);
        if (k >= n)
                return -414;
        seg = k;
        for (const char *p = target; *p != '\0' && *p != '?' && *p != '#'; p++) {
                int c = (unsigned char)*p;

                if (c == '%') {
                        int hi = hexval((uint8_t)p[1]), lo = hi >= 0 ? hexval((uint8_t)p[2]) : -1;

                        if (hi < 0 || lo < 0)
                                return -400;
                        c = hi * 16 + lo;
                        p += 2;
                }
                if (c < 0x20 || c == 0x7f)
                        return -400;
                if (c == '/') {
                        /* The segment that ended: "." and ".." are refused. */
                        if ((k - seg == 1 && out[seg] == '.') ||
                            (k - seg == 2 && out[seg] == '.' && out[seg + 1] == '.'))
                                return -400;
                        seg = k + 1;
                }
                if (k + 1 >= n)
                        return -414;
                out[k++] = (char)c;
        }
        if ((k - seg == 1 && out[seg] == '.') ||
            (k - seg == 2 && out[seg] == '.' && out[seg + 1] == '.'))
                return -400;
        out[k] = '\0';
        if (out[k - 1] == '/') {
                if (k + sizeof("index.html") > n)
                        return -414;
                memcpy(out + k, "index.html", sizeof("index.html"));
        }
        return 0;
}

const char *http_reason(unsigned status)
{
        switch (status) {
        case 200:
                return "OK";
        case 400:
                return "Bad Request";
        case 403:
                return "Forbidden";
        case 404:
                return "Not Found";
        case 408:
                return "Request Timeout";
        case 414:
                return "URI Too Long";
        case 431:
                return "Request Header Fields Too Large";
        case 500:
                return "Internal Server Error";
        case 501:
                return "Not Implemented";
        case 505:
                return "HTTP Version Not Supported";
        default:
                return "Unknown";
        }
}
