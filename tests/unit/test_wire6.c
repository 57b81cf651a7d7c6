/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6, ICMPv6, ND and MLDv2 wire layer against real frames, captured from
 * Linux 6.18 network namespaces: hosts A (02:00:00:00:00:01, 2001:db8::1),
 * B (..:02, 2001:db8::2) and router R (..:03, 2001:db8::3, forwarding to
 * 2001:db8:1::/64 over a 1280-byte MTU link) on a bridge that is an MLD
 * querier (..:fe). tcpdump on A's bridge port while A's link came up (DAD,
 * RS, MLDv2 reports) and A ran: ping -6 to B (-s 16, then -s 1500 for
 * fragments), to 2001:db8:2::1 through R (redirect to B), to 2001:db8:1::2
 * with -s 1300 -M do (packet too big) and -t 1 (time exceeded), to an
 * unrouted 2001:db8:99::1 (unreachable), over a seg6 inline route (routing
 * header type 4), and UDP sent with IPV6_DSTOPTS and IPV6_HOPOPTS sticky
 * options (B answers the hop-by-hop option 0x9e with a parameter problem).
 * scripts/capture-wire6.sh does all this again. Field values were read back
 * with tshark. Each frame is parsed and re-emitted from its repr, which must
 * give back the captured bytes; malformed cases are these frames with a byte
 * changed, as each test says. Linux sends no router advertisement, so the RA
 * test is built from its repr and read back.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mpnet/wire/checksum.h"
#include "mpnet/wire/ethernet.h"
#include "mpnet/wire/icmp6.h"
#include "mpnet/wire/ipv6.h"

static const uint8_t echo_request[78] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60, 0x0d,
    0x41, 0x8f, 0x00, 0x18, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x80, 0x00, 0x03, 0x1c, 0x37, 0xe3, 0x00, 0x01, 0x71, 0x51,
    0x04, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x6b, 0x7b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00};

static const uint8_t echo_reply[78] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60, 0x00,
    0xbe, 0x0f, 0x00, 0x18, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x81, 0x00, 0x02, 0x1c, 0x37, 0xe3, 0x00, 0x01, 0x71, 0x51,
    0x04, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x6b, 0x7b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00};

static const uint8_t ns[86] = {
    0x33, 0x33, 0xff, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
    0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x02, 0x87, 0x00, 0x1c, 0x27, 0x00, 0x00,
    0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x02, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

static const uint8_t ns_dad[86] = {
    0x33, 0x33, 0xff, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
    0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x01, 0x87, 0x00, 0xd4, 0x32, 0x00, 0x00,
    0x00, 0x00, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfe,
    0x00, 0x00, 0x01, 0x0e, 0x01, 0x6e, 0x97, 0x22, 0xb4, 0x09, 0x9e};

static const uint8_t na[86] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60,
    0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0x00, 0x8a, 0x71, 0x60, 0x00,
    0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x02, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

static const uint8_t rs[70] = {
    0x33, 0x33, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x85, 0x00,
    0x7b, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

static const uint8_t redirect[174] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x03, 0x86, 0xdd, 0x60, 0x00,
    0x00, 0x00, 0x00, 0x78, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xfe, 0x00, 0x00, 0x03, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x89, 0x00, 0xa3, 0x9a, 0x00, 0x00, 0x00, 0x00, 0xfe, 0x80,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x02, 0x20, 0x01,
    0x0d, 0xb8, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x01,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x60, 0x00,
    0xda, 0x22, 0x00, 0x18, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x01, 0x37, 0xe5, 0x00, 0x01, 0x71, 0x51,
    0x04, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x6e, 0x93, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00};

static const uint8_t mld_query[90] = {
    0x33, 0x33, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe, 0x86, 0xdd, 0x60,
    0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0xfe, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x3a, 0x00, 0x05, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x82, 0x00, 0x57, 0x13, 0x27, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x00, 0x00};

static const uint8_t mld_report[90] = {
    0x33, 0x33, 0x00, 0x00, 0x00, 0x16, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
    0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16, 0x3a, 0x00, 0x05, 0x02, 0x00, 0x00,
    0x01, 0x00, 0x8f, 0x00, 0x72, 0x07, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0xff,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x01};

static const uint8_t frag_last[122] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60, 0x0d,
    0x41, 0x8f, 0x00, 0x44, 0x2c, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x3a, 0x00, 0x05, 0xa8, 0x46, 0xbb, 0x63, 0x50, 0xa0, 0xa1,
    0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1,
    0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1,
    0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1,
    0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb};

static const uint8_t udp_dstopts[84] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd,
    0x60, 0x07, 0xdd, 0xc0, 0x00, 0x1e, 0x3c, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x11, 0x01,
    0x1e, 0x04, 0x01, 0x02, 0x03, 0x04, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x81, 0x6d, 0x00, 0x09, 0x00, 0x0e, 0xd9, 0x8f, 0x64, 0x73, 0x74, 0x6f, 0x70, 0x74};

static const uint8_t udp_hbh[76] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60, 0x0b,
    0x05, 0x3e, 0x00, 0x16, 0x00, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x11, 0x00, 0x9e, 0x02, 0xab, 0xcd, 0x01, 0x00, 0xb8, 0xa7,
    0x00, 0x09, 0x00, 0x0e, 0xa2, 0x59, 0x68, 0x6f, 0x70, 0x6f, 0x70, 0x74};

static const uint8_t param_problem[124] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60, 0x08,
    0x5d, 0x47, 0x00, 0x46, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x04, 0x02, 0xde, 0x8d, 0x00, 0x00, 0x00, 0x2a, 0x60, 0x0b,
    0x05, 0x3e, 0x00, 0x16, 0x00, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x11, 0x00, 0x9e, 0x02, 0xab, 0xcd, 0x01, 0x00, 0xb8, 0xa7,
    0x00, 0x09, 0x00, 0x0e, 0xa2, 0x59, 0x68, 0x6f, 0x70, 0x6f, 0x70, 0x74};

static const uint8_t srh_echo[118] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
    0x0a, 0xd3, 0x7b, 0x00, 0x40, 0x2b, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x3a, 0x04, 0x04, 0x01, 0x01, 0x00,
    0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02, 0x80, 0x00, 0x5f, 0x23, 0x38, 0x13, 0x00, 0x01, 0x72, 0x51, 0x04,
    0x6b, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x40, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00};

static const uint8_t time_exceeded[126] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x03, 0x86, 0xdd, 0x60, 0x0a,
    0x1d, 0x13, 0x00, 0x48, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00, 0xfa, 0xf7, 0x00, 0x00, 0x00, 0x00, 0x60, 0x08,
    0x0c, 0x40, 0x00, 0x18, 0x3a, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x80, 0x00, 0x1a, 0xea, 0x37, 0xe7, 0x00, 0x01, 0x71, 0x51,
    0x04, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x53, 0xa8, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00};

static const uint8_t dest_unreach[126] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x03, 0x86, 0xdd, 0x60, 0x0c,
    0x62, 0x13, 0x00, 0x48, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0xb7, 0x55, 0x00, 0x00, 0x00, 0x00, 0x60, 0x06,
    0x51, 0xa5, 0x00, 0x18, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x99, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x80, 0x00, 0x45, 0x48, 0x37, 0xe8, 0x00, 0x01, 0x71, 0x51,
    0x04, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x28, 0xb2, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00};

static const uint8_t too_big[1294] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x03, 0x86, 0xdd, 0x60, 0x09,
    0x3b, 0xe3, 0x04, 0xd8, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x43, 0xb4, 0x00, 0x00, 0x05, 0x00, 0x60, 0x08,
    0x0c, 0x40, 0x05, 0x1c, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x80, 0x00, 0x69, 0x8e, 0x37, 0xe6, 0x00, 0x01, 0x71, 0x51,
    0x04, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x1c, 0x9e, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11,
    0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21,
    0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31,
    0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41,
    0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51,
    0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61,
    0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71,
    0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81,
    0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91,
    0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1,
    0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1,
    0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1,
    0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1,
    0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1,
    0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x00, 0x01,
    0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11,
    0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21,
    0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31,
    0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41,
    0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51,
    0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61,
    0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71,
    0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81,
    0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91,
    0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1,
    0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1,
    0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1,
    0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1,
    0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1,
    0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x00, 0x01,
    0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11,
    0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21,
    0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31,
    0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41,
    0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51,
    0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61,
    0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71,
    0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81,
    0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91,
    0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1,
    0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1,
    0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1,
    0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1,
    0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1,
    0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x00, 0x01,
    0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11,
    0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21,
    0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31,
    0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41,
    0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51,
    0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61,
    0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71,
    0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81,
    0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91,
    0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1,
    0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1,
    0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1,
    0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1,
    0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1,
    0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x00, 0x01,
    0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11,
    0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21,
    0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31,
    0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41,
    0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51,
    0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61,
    0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71,
    0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81,
    0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91,
    0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f};

#define ETH          14
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define FRAME(x)                                                                                   \
        {                                                                                          \
                x, sizeof(x)                                                                       \
        }

static const struct frame {
        const uint8_t *b;
        size_t n;
} frames[] = {
    FRAME(echo_request),  FRAME(echo_reply),  FRAME(ns),
    FRAME(ns_dad),        FRAME(na),          FRAME(rs),
    FRAME(redirect),      FRAME(mld_query),   FRAME(mld_report),
    FRAME(frag_last),     FRAME(udp_dstopts), FRAME(udp_hbh),
    FRAME(param_problem), FRAME(srh_echo),    FRAME(time_exceeded),
    FRAME(dest_unreach),  FRAME(too_big),
};

static const uint8_t mac_a[6] = {2, 0, 0, 0, 0, 1}, mac_b[6] = {2, 0, 0, 0, 0, 2};

/* A copy at the end of a heap block, so ASan catches a read past the packet. */
static uint8_t *tail_copy(const uint8_t *b, size_t n)
{
        uint8_t *c = malloc(n == 0 ? 1 : n);

        assert_non_null(c);
        memcpy(c, b, n);
        return c;
}

static void a6(const char *s, uint8_t *a)
{
        assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

static void assert_addr(const uint8_t *a, const char *s)
{
        uint8_t want[16];

        a6(s, want);
        assert_memory_equal(a, want, 16);
}

static void ip6_of(const uint8_t *frame, size_t n, struct mpnet_ip6_view *v)
{
        assert_int_equal(mpnet_ip6_view_check(frame + ETH, n - ETH, v), 0);
}

static void walk_of(const uint8_t *frame, size_t n, struct mpnet_ip6_view *v,
                    struct mpnet_ip6_chain *c)
{
        ip6_of(frame, n, v);
        assert_int_equal(mpnet_ip6_walk(v, c), 0);
}

/* The ICMPv6 message of a frame, its checksum verified. */
static void icmp6_of(const uint8_t *frame, size_t n, struct mpnet_ip6_view *ip,
                     struct mpnet_icmp6_view *v)
{
        struct mpnet_ip6_chain c;

        walk_of(frame, n, ip, &c);
        assert_int_equal(c.l4_proto, MPNET_IPPROTO_ICMPV6);
        assert_int_equal(mpnet_icmp6_view_check(ip->b + c.l4_off, ip->n - c.l4_off, v), 0);
        assert_true(mpnet_icmp6_csum_ok(v, mpnet_ip6_src(ip), mpnet_ip6_dst(ip)));
}

/* Walk a packet in a writable copy whose payload length is set to plen. */
static int walk_copy(const uint8_t *pkt, size_t plen, struct mpnet_ip6_chain *c)
{
        uint8_t *b = tail_copy(pkt, MPNET_IP6_HLEN + plen);
        struct mpnet_ip6_view v;
        int rc;

        mpnet_put_be16(b + 4, (uint16_t)plen);
        assert_int_equal(mpnet_ip6_view_check(b, MPNET_IP6_HLEN + plen, &v), 0);
        rc = mpnet_ip6_walk(&v, c);
        free(b);
        return rc;
}

static void test_ipv6_both_ways(void **state)
{
        struct mpnet_ip6_view v;
        struct mpnet_ip6_repr r;
        uint8_t out[MPNET_IP6_HLEN];

        (void)state;
        ip6_of(echo_request, sizeof(echo_request), &v);
        assert_int_equal(v.n, 64);
        assert_int_equal(mpnet_ip6_traffic_class(&v), 0);
        assert_int_equal(mpnet_ip6_flow_label(&v), 0x0d418f);
        assert_int_equal(mpnet_ip6_payload_len(&v), 24);
        assert_int_equal(mpnet_ip6_next_header(&v), MPNET_IPPROTO_ICMPV6);
        assert_int_equal(mpnet_ip6_hop_limit(&v), 64);
        assert_addr(mpnet_ip6_src(&v), "2001:db8::1");
        assert_addr(mpnet_ip6_dst(&v), "2001:db8::2");
        assert_ptr_equal(mpnet_ip6_payload(&v), echo_request + ETH + 40);
        mpnet_ip6_repr_parse(&v, &r);
        assert_int_equal(r.flow_label, 0x0d418f);
        assert_int_equal(r.payload_len, 24);
        assert_int_equal(r.hop_limit, 64);
        assert_int_equal(mpnet_ip6_repr_len(&r), 40);
        /* Every captured header comes back byte for byte. */
        for (size_t i = 0; i < ARRAY_LEN(frames); i++) {
                ip6_of(frames[i].b, frames[i].n, &v);
                assert_int_equal(v.n, frames[i].n - ETH);
                mpnet_ip6_repr_parse(&v, &r);
                memset(out, 0xee, sizeof(out));
                mpnet_ip6_repr_emit(&r, out);
                assert_memory_equal(out, frames[i].b + ETH, MPNET_IP6_HLEN);
        }
        /* Traffic class and flow label do not bleed into each other. */
        r = (struct mpnet_ip6_repr){.traffic_class = 0xb8, .flow_label = 0xfffff};
        mpnet_ip6_repr_emit(&r, out);
        assert_int_equal(mpnet_get_be32(out), 0x6b8fffffu);
        assert_int_equal(mpnet_ip6_view_check(out, sizeof(out), &v), 0);
        assert_int_equal(mpnet_ip6_traffic_class(&v), 0xb8);
        assert_int_equal(mpnet_ip6_flow_label(&v), 0xfffff);
}

static void test_ipv6_errors(void **state)
{
        const uint8_t *ip = echo_request + ETH;
        struct mpnet_ip6_view v;
        uint8_t b[80] = {0};

        (void)state;
        for (size_t n = 0; n < 64; n++) {
                uint8_t *c = tail_copy(ip, n);

                assert_int_equal(mpnet_ip6_view_check(c, n, &v),
                                 n < 40 ? -MPNET_WIRE_TRUNCATED : -MPNET_WIRE_BAD_LEN);
                free(c);
        }
        memcpy(b, ip, 64);
        b[0] = 0x40;
        assert_int_equal(mpnet_ip6_view_check(b, 64, &v), -MPNET_WIRE_BAD_VERSION);
        b[0] = 0x70;
        assert_int_equal(mpnet_ip6_view_check(b, 64, &v), -MPNET_WIRE_BAD_VERSION);
        b[0] = 0x60;
        mpnet_put_be16(b + 4, 25);
        assert_int_equal(mpnet_ip6_view_check(b, 64, &v), -MPNET_WIRE_BAD_LEN);
        mpnet_put_be16(b + 4, 0xffff);
        assert_int_equal(mpnet_ip6_view_check(b, 64, &v), -MPNET_WIRE_BAD_LEN);
        /* Ethernet padding past the payload length is not part of the view. */
        mpnet_put_be16(b + 4, 24);
        assert_int_equal(mpnet_ip6_view_check(b, sizeof(b), &v), 0);
        assert_int_equal(v.n, 64);
        mpnet_put_be16(b + 4, 0);
        assert_int_equal(mpnet_ip6_view_check(b, sizeof(b), &v), 0);
        assert_int_equal(v.n, 40);
}

static void test_ipv6_addresses(void **state)
{
        uint8_t a[16], sn[16], mac[6];

        (void)state;
        a6("::", a);
        assert_true(mpnet_ip6_is_unspecified(a));
        assert_false(mpnet_ip6_is_loopback(a));
        a6("::1", a);
        assert_true(mpnet_ip6_is_loopback(a));
        assert_false(mpnet_ip6_is_unspecified(a));
        a6("2001:db8::1", a);
        assert_false(mpnet_ip6_is_multicast(a));
        assert_false(mpnet_ip6_is_link_local(a));
        assert_false(mpnet_ip6_is_loopback(a));
        a6("fe80::ff:fe00:1", a);
        assert_true(mpnet_ip6_is_link_local(a));
        a6("febf:ffff::1", a);
        assert_true(mpnet_ip6_is_link_local(a));
        a6("fec0::1", a);
        assert_false(mpnet_ip6_is_link_local(a));
        a6("fe40::1", a);
        assert_false(mpnet_ip6_is_link_local(a));
        static const struct {
                const char *a;
                uint8_t scope;
        } mc[] = {{"ff01::1", MPNET_IP6_SCOPE_INTERFACE},
                  {"ff02::16", MPNET_IP6_SCOPE_LINK},
                  {"ff05::1:3", MPNET_IP6_SCOPE_SITE},
                  {"ff08::1", MPNET_IP6_SCOPE_ORG},
                  {"ff1e::101", MPNET_IP6_SCOPE_GLOBAL}};
        for (size_t i = 0; i < ARRAY_LEN(mc); i++) {
                a6(mc[i].a, a);
                assert_true(mpnet_ip6_is_multicast(a));
                assert_false(mpnet_ip6_is_link_local(a));
                assert_int_equal(mpnet_ip6_mc_scope(a), mc[i].scope);
        }
        /* The kernel's NS for 2001:db8::2 went to its solicited-node group, on
         * the RFC 2464 MAC. */
        a6("2001:db8::2", a);
        mpnet_ip6_solicited_node(a, sn);
        assert_memory_equal(sn, ns + ETH + 24, 16);
        assert_true(mpnet_ip6_is_solicited_node(sn));
        assert_false(mpnet_ip6_is_solicited_node(a));
        assert_int_equal(mpnet_ip6_mc_scope(sn), MPNET_IP6_SCOPE_LINK);
        mpnet_ip6_mc_mac(sn, mac);
        assert_memory_equal(mac, ns, 6);
        a6("2001:db8:ab:cd::12:3456", a);
        mpnet_ip6_solicited_node(a, sn);
        assert_addr(sn, "ff02::1:ff12:3456");
        mpnet_ip6_mc_mac(mpnet_ip6_dst(&(struct mpnet_ip6_view){mld_report + ETH, 76}), mac);
        assert_memory_equal(mac, mld_report, 6);
        a6("ff02::1:2", a);
        assert_false(mpnet_ip6_is_solicited_node(a));
}

static void next_opt(struct mpnet_ip6_opt_iter *it, uint8_t type, uint8_t len, uint16_t off)
{
        struct mpnet_ip6_opt o;

        assert_int_equal(mpnet_ip6_opt_next(it, &o), 1);
        assert_int_equal(o.type, type);
        assert_int_equal(o.len, len);
        assert_int_equal(o.off, off);
}

static void test_walk_captured(void **state)
{
        struct mpnet_ip6_view v;
        struct mpnet_ip6_chain c;
        struct mpnet_ip6_opt_iter it;
        struct mpnet_ip6_opt o;

        (void)state;
        walk_of(echo_request, sizeof(echo_request), &v, &c);
        assert_int_equal(c.n_ext, 0);
        assert_int_equal(c.l4_proto, MPNET_IPPROTO_ICMPV6);
        assert_int_equal(c.l4_off, 40);
        assert_false(c.has_rh);
        assert_false(c.has_frag);

        /* MLD: hop-by-hop with router alert (RFC 3810 5), then two Pad1
         * (the query) or one PadN (the report). */
        const uint8_t *mld[] = {mld_query, mld_report};
        for (size_t i = 0; i < 2; i++) {
                walk_of(mld[i], sizeof(mld_query), &v, &c);
                assert_int_equal(c.n_ext, 1);
                assert_int_equal(c.ext[0].proto, MPNET_IPPROTO_HOPOPTS);
                assert_int_equal(c.ext[0].off, 40);
                assert_int_equal(c.ext[0].len, 8);
                assert_int_equal(c.l4_proto, MPNET_IPPROTO_ICMPV6);
                assert_int_equal(c.l4_off, 48);
                mpnet_ip6_opt_iter_init(&it, &v, &c.ext[0]);
                next_opt(&it, MPNET_IP6_OPT_ROUTER_ALERT, 2, 42);
                assert_int_equal(mpnet_ip6_opt_action(MPNET_IP6_OPT_ROUTER_ALERT),
                                 MPNET_IP6_OPT_SKIP);
                assert_false(mpnet_ip6_opt_may_change(MPNET_IP6_OPT_ROUTER_ALERT));
                assert_int_equal(mpnet_ip6_opt_next(&it, &o), 0);
        }

        /* Destination options: 0x1e (skip if unknown), Pad1, PadN; then UDP,
         * whose checksum verifies over the same pseudo-header. */
        walk_of(udp_dstopts, sizeof(udp_dstopts), &v, &c);
        assert_int_equal(c.n_ext, 1);
        assert_int_equal(c.ext[0].proto, MPNET_IPPROTO_DSTOPTS);
        assert_int_equal(c.ext[0].len, 16);
        assert_int_equal(c.l4_proto, 17);
        assert_int_equal(c.l4_off, 56);
        mpnet_ip6_opt_iter_init(&it, &v, &c.ext[0]);
        assert_int_equal(mpnet_ip6_opt_next(&it, &o), 1);
        assert_int_equal(o.type, 0x1e);
        assert_int_equal(o.len, 4);
        assert_memory_equal(o.data, "\1\2\3\4", 4);
        assert_int_equal(mpnet_ip6_opt_action(o.type), MPNET_IP6_OPT_SKIP);
        assert_int_equal(mpnet_ip6_opt_next(&it, &o), 0);
        uint64_t sum = mpnet_ip6_pseudo_sum(mpnet_ip6_src(&v), mpnet_ip6_dst(&v), 14, 17);
        assert_int_equal(mpnet_csum_fold(mpnet_csum_add(sum, v.b + 56, 14)), 0);

        /* Hop-by-hop 0x9e: action 10, the one B answered (pointer 42). */
        walk_of(udp_hbh, sizeof(udp_hbh), &v, &c);
        assert_int_equal(c.ext[0].proto, MPNET_IPPROTO_HOPOPTS);
        assert_int_equal(c.l4_off, 48);
        mpnet_ip6_opt_iter_init(&it, &v, &c.ext[0]);
        next_opt(&it, 0x9e, 2, 42);
        assert_int_equal(mpnet_ip6_opt_action(0x9e), MPNET_IP6_OPT_DISCARD_ICMP);
        assert_int_equal(mpnet_ip6_opt_action(0x5e), MPNET_IP6_OPT_DISCARD);
        assert_int_equal(mpnet_ip6_opt_action(0xde), MPNET_IP6_OPT_DISCARD_ICMP_UCAST);
        assert_true(mpnet_ip6_opt_may_change(0x3e));
        assert_int_equal(mpnet_ip6_opt_next(&it, &o), 0);

        /* Segment routing header (routing type 4, one segment left). */
        walk_of(srh_echo, sizeof(srh_echo), &v, &c);
        assert_int_equal(c.ext[0].proto, MPNET_IPPROTO_ROUTING);
        assert_int_equal(c.ext[0].len, 40);
        assert_true(c.has_rh);
        assert_int_equal(c.rh_type, 4);
        assert_int_equal(c.rh_segs_left, 1);
        assert_int_equal(c.l4_proto, MPNET_IPPROTO_ICMPV6);
        assert_int_equal(c.l4_off, 80);

        /* The last fragment of a 1500-byte ping: the walk stops there. */
        walk_of(frag_last, sizeof(frag_last), &v, &c);
        assert_int_equal(c.ext[0].proto, MPNET_IPPROTO_FRAGMENT);
        assert_true(c.has_frag);
        assert_int_equal(c.frag_off, 1448);
        assert_false(c.frag_more);
        assert_false(c.frag_atomic);
        assert_int_equal(c.frag_id, 0x46bb6350);
        assert_int_equal(c.l4_proto, MPNET_IPPROTO_ICMPV6);
        assert_int_equal(c.l4_off, 48);
}

static void test_walk_truncated(void **state)
{
        struct mpnet_ip6_chain c;
        uint8_t b[64];

        (void)state;
        /* Cut inside each captured extension header. */
        static const struct {
                const uint8_t *frame;
                size_t hlen;
        } cut[] = {{udp_dstopts, 16}, {udp_hbh, 8}, {srh_echo, 40}, {frag_last, 8}};
        for (size_t i = 0; i < ARRAY_LEN(cut); i++) {
                for (size_t plen = 0; plen < cut[i].hlen; plen++) {
                        assert_int_equal(walk_copy(cut[i].frame + ETH, plen, &c),
                                         -MPNET_WIRE_TRUNCATED);
                        assert_int_equal(c.err_off, 40);
                }
                assert_int_equal(walk_copy(cut[i].frame + ETH, cut[i].hlen, &c), 0);
        }
        /* Hop-by-hop then "destination options" made of the UDP header: its
         * length byte 0xa7 says 1344 bytes. */
        memcpy(b, udp_hbh + ETH, 62);
        b[40] = MPNET_IPPROTO_DSTOPTS;
        assert_int_equal(walk_copy(b, 22, &c), -MPNET_WIRE_TRUNCATED);
        assert_int_equal(c.err_off, 48);
        assert_int_equal(c.n_ext, 1);
        /* RFC 7112: an atomic first fragment whose chain does not end in it. */
        memcpy(b, frag_last + ETH, 64);
        b[40] = MPNET_IPPROTO_DSTOPTS;
        b[42] = b[43] = 0;
        b[49] = 255;
        assert_int_equal(walk_copy(b, 24, &c), -MPNET_WIRE_TRUNCATED);
        assert_int_equal(c.err_off, 48);
        assert_true(c.has_frag);
        assert_int_equal(c.frag_off, 0);
}

static void test_walk_rules(void **state)
{
        struct mpnet_ip6_chain c;
        uint8_t b[128];

        (void)state;
        /* RFC 8200 4.1: hop-by-hop after destination options, and twice. */
        memcpy(b, udp_dstopts + ETH, 70);
        b[40] = MPNET_IPPROTO_HOPOPTS;
        assert_int_equal(walk_copy(b, 30, &c), -MPNET_WIRE_BAD_ORDER);
        assert_int_equal(c.err_off, 40);
        assert_int_equal(c.n_ext, 1);
        memcpy(b, udp_hbh + ETH, 62);
        b[40] = MPNET_IPPROTO_HOPOPTS;
        assert_int_equal(walk_copy(b, 22, &c), -MPNET_WIRE_BAD_ORDER);
        assert_int_equal(c.err_off, 40);

        /* RFC 5095: routing type 0 with segments left is an error at the
         * type field; with none left it is walked past and reported. */
        memcpy(b, srh_echo + ETH, 104);
        b[42] = 0;
        assert_int_equal(walk_copy(b, 64, &c), -MPNET_WIRE_DEPRECATED);
        assert_int_equal(c.err_off, 42);
        assert_true(c.has_rh);
        assert_int_equal(c.rh_type, 0);
        b[43] = 0;
        assert_int_equal(walk_copy(b, 64, &c), 0);
        assert_true(c.has_rh);
        assert_int_equal(c.rh_type, 0);
        assert_int_equal(c.rh_segs_left, 0);
        assert_int_equal(c.l4_off, 80);

        /* RFC 8200 4.5: M set on a 60-byte fragment; an end past 65535. */
        memcpy(b, frag_last + ETH, 108);
        b[43] |= 1;
        assert_int_equal(walk_copy(b, 68, &c), -MPNET_WIRE_BAD_LEN);
        assert_int_equal(c.err_off, 4);
        assert_true(c.frag_more);
        mpnet_put_be16(b + 42, 0xfff8);
        assert_int_equal(walk_copy(b, 68, &c), -MPNET_WIRE_BAD_LEN);
        assert_int_equal(c.err_off, 42);
        /* Offset 0, M clear: an atomic fragment (RFC 6946), walked through. */
        mpnet_put_be16(b + 42, 0);
        assert_int_equal(walk_copy(b, 68, &c), 0);
        assert_true(c.frag_atomic);
        assert_int_equal(c.l4_proto, MPNET_IPPROTO_ICMPV6);
        assert_int_equal(c.l4_off, 48);
        /* Past a non-first fragment's header is payload, whatever it names. */
        memcpy(b, frag_last + ETH, 108);
        b[40] = MPNET_IPPROTO_DSTOPTS;
        assert_int_equal(walk_copy(b, 68, &c), 0);
        assert_int_equal(c.l4_proto, MPNET_IPPROTO_DSTOPTS);
        assert_int_equal(c.l4_off, 48);
}

/* A packet of n destination options headers of len8 units each, then No Next Header. */
static size_t build_chain(uint8_t *b, size_t n, size_t len8)
{
        size_t off = MPNET_IP6_HLEN;

        memcpy(b, echo_request + ETH, MPNET_IP6_HLEN);
        b[6] = MPNET_IPPROTO_DSTOPTS;
        for (size_t i = 0; i < n; i++) {
                memset(b + off, 0, len8 * 8);
                b[off] = i + 1 < n ? MPNET_IPPROTO_DSTOPTS : MPNET_IPPROTO_NONE;
                b[off + 1] = (uint8_t)(len8 - 1);
                off += len8 * 8;
        }
        mpnet_put_be16(b + 4, (uint16_t)(off - MPNET_IP6_HLEN));
        return off;
}

static void test_walk_bounds(void **state)
{
        static uint8_t b[1400];
        struct mpnet_ip6_view v;
        struct mpnet_ip6_chain c;
        struct mpnet_ip6_opt_iter it;
        struct mpnet_ip6_opt o;
        size_t n;

        (void)state;
        n = build_chain(b, MPNET_IP6_EXT_MAX, 1);
        assert_int_equal(mpnet_ip6_view_check(b, n, &v), 0);
        assert_int_equal(mpnet_ip6_walk(&v, &c), 0);
        assert_int_equal(c.n_ext, MPNET_IP6_EXT_MAX);
        assert_int_equal(c.l4_proto, MPNET_IPPROTO_NONE);
        assert_int_equal(c.l4_off, 40 + 8 * MPNET_IP6_EXT_MAX);
        /* Pad1 only: no option comes out. */
        mpnet_ip6_opt_iter_init(&it, &v, &c.ext[3]);
        assert_int_equal(mpnet_ip6_opt_next(&it, &o), 0);
        n = build_chain(b, MPNET_IP6_EXT_MAX + 1, 1);
        assert_int_equal(mpnet_ip6_view_check(b, n, &v), 0);
        assert_int_equal(mpnet_ip6_walk(&v, &c), -MPNET_WIRE_TOO_LONG);
        assert_int_equal(c.err_off, 40 + 8 * MPNET_IP6_EXT_MAX);
        /* The chain may end at byte 1280, not past it. */
        n = build_chain(b, 1, (MPNET_IP6_CHAIN_MAX - 40) / 8);
        assert_int_equal(mpnet_ip6_view_check(b, n, &v), 0);
        assert_int_equal(mpnet_ip6_walk(&v, &c), 0);
        assert_int_equal(c.l4_off, MPNET_IP6_CHAIN_MAX);
        n = build_chain(b, 1, (MPNET_IP6_CHAIN_MAX - 40) / 8 + 1);
        assert_int_equal(mpnet_ip6_view_check(b, n, &v), 0);
        assert_int_equal(mpnet_ip6_walk(&v, &c), -MPNET_WIRE_TOO_LONG);
        assert_int_equal(c.err_off, 40);
        /* AH counts 4-byte units (RFC 4302 2.2): 4 means 24 bytes. */
        n = build_chain(b, 1, 3);
        b[6] = MPNET_IPPROTO_AH;
        b[41] = 4;
        assert_int_equal(mpnet_ip6_view_check(b, n, &v), 0);
        assert_int_equal(mpnet_ip6_walk(&v, &c), 0);
        assert_int_equal(c.ext[0].proto, MPNET_IPPROTO_AH);
        assert_int_equal(c.ext[0].len, 24);
        assert_int_equal(c.l4_off, 64);
}

static void test_options_truncated(void **state)
{
        struct mpnet_ip6_view v;
        struct mpnet_ip6_chain c;
        struct mpnet_ip6_opt_iter it;
        struct mpnet_ip6_opt o;
        uint8_t b[70];

        (void)state;
        /* The PadN at 49 claims 6 bytes where 5 are left. */
        memcpy(b, udp_dstopts + ETH, sizeof(b));
        b[50] = 6;
        assert_int_equal(mpnet_ip6_view_check(b, sizeof(b), &v), 0);
        assert_int_equal(mpnet_ip6_walk(&v, &c), 0);
        mpnet_ip6_opt_iter_init(&it, &v, &c.ext[0]);
        assert_int_equal(mpnet_ip6_opt_next(&it, &o), 1);
        assert_int_equal(mpnet_ip6_opt_next(&it, &o), -MPNET_WIRE_TRUNCATED);
        assert_int_equal(o.off, 49);
        /* An option type in the header's last byte, without its length. */
        memset(b + 48, 0, 8);
        b[55] = 0x1e;
        mpnet_ip6_opt_iter_init(&it, &v, &c.ext[0]);
        assert_int_equal(mpnet_ip6_opt_next(&it, &o), 1);
        assert_int_equal(mpnet_ip6_opt_next(&it, &o), -MPNET_WIRE_TRUNCATED);
        assert_int_equal(o.off, 55);
}

static void check_echo(const uint8_t *frame, uint8_t type)
{
        struct mpnet_ip6_view ip;
        struct mpnet_icmp6_view v;
        struct mpnet_icmp6_repr r;
        uint8_t out[24];

        icmp6_of(frame, 78, &ip, &v);
        assert_int_equal(mpnet_icmp6_type(&v), type);
        assert_int_equal(mpnet_icmp6_code(&v), 0);
        assert_int_equal(mpnet_icmp6_data_len(&v), 16);
        mpnet_icmp6_repr_parse(&v, &r);
        assert_int_equal(r.id, 0x37e3);
        assert_int_equal(r.seq, 1);
        assert_int_equal(mpnet_icmp6_repr_len(&r), 24);
        memset(out, 0xee, sizeof(out));
        mpnet_icmp6_repr_emit(&r, mpnet_ip6_src(&ip), mpnet_ip6_dst(&ip), out);
        assert_memory_equal(out, v.b, 24);
}

static void test_icmp6_echo(void **state)
{
        struct mpnet_ip6_view ip;
        struct mpnet_icmp6_view v;
        struct mpnet_icmp6_repr r;
        uint8_t b[24], other[16];

        (void)state;
        check_echo(echo_request, MPNET_ICMP6_ECHO_REQUEST);
        check_echo(echo_reply, MPNET_ICMP6_ECHO_REPLY);
        /* In place, as the stack answers: the reply, addresses swapped. */
        ip6_of(echo_request, sizeof(echo_request), &ip);
        memcpy(b, echo_request + 54, 24);
        assert_int_equal(mpnet_icmp6_view_check(b, 24, &v), 0);
        mpnet_icmp6_repr_parse(&v, &r);
        r.type = MPNET_ICMP6_ECHO_REPLY;
        mpnet_icmp6_repr_emit(&r, mpnet_ip6_dst(&ip), mpnet_ip6_src(&ip), b);
        assert_memory_equal(b, echo_reply + 54, 24);
        for (size_t n = 0; n < MPNET_ICMP6_HLEN; n++)
                assert_int_equal(mpnet_icmp6_view_check(b, n, &v), -MPNET_WIRE_TRUNCATED);
        /* The pseudo-header is covered: another destination fails too. */
        memcpy(other, mpnet_ip6_src(&ip), 16);
        other[15] ^= 0x10;
        assert_int_equal(mpnet_icmp6_view_check(b, 24, &v), 0);
        assert_true(mpnet_icmp6_csum_ok(&v, mpnet_ip6_dst(&ip), mpnet_ip6_src(&ip)));
        assert_false(mpnet_icmp6_csum_ok(&v, mpnet_ip6_dst(&ip), other));
        b[10] ^= 4;
        assert_false(mpnet_icmp6_csum_ok(&v, mpnet_ip6_dst(&ip), mpnet_ip6_src(&ip)));
}

static void test_icmp6_errors_captured(void **state)
{
        static const struct {
                const uint8_t *frame;
                size_t n;
                uint8_t type, code;
                uint32_t rest;
        } err[] = {
            {too_big, sizeof(too_big), MPNET_ICMP6_PACKET_TOO_BIG, 0, 1280},
            {time_exceeded, sizeof(time_exceeded), MPNET_ICMP6_TIME_EXCEEDED, 0, 0},
            {dest_unreach, sizeof(dest_unreach), MPNET_ICMP6_DEST_UNREACH, 0, 0},
            {param_problem, sizeof(param_problem), MPNET_ICMP6_PARAM_PROBLEM,
             MPNET_ICMP6_PARAM_OPTION, 42},
        };
        static uint8_t out[1280];
        struct mpnet_ip6_view ip, inner;
        struct mpnet_icmp6_view v;
        struct mpnet_icmp6_repr r;

        (void)state;
        for (size_t i = 0; i < ARRAY_LEN(err); i++) {
                icmp6_of(err[i].frame, err[i].n, &ip, &v);
                mpnet_icmp6_repr_parse(&v, &r);
                assert_int_equal(r.type, err[i].type);
                assert_int_equal(r.code, err[i].code);
                assert_int_equal(r.rest, err[i].rest);
                assert_int_equal(r.data_len, err[i].n - ETH - 48);
                assert_int_equal(r.data[0] >> 4, 6);
                /* RFC 4443 2.4(c): the error fits the minimum MTU. */
                assert_true(ip.n <= MPNET_IP6_MIN_MTU);
                memset(out, 0xee, sizeof(out));
                mpnet_icmp6_repr_emit(&r, mpnet_ip6_src(&ip), mpnet_ip6_dst(&ip), out);
                assert_memory_equal(out, v.b, v.n);
        }
        /* The packet too big quotes as much of the 1348-byte ping as fits:
         * its own payload length overstates what is there. */
        icmp6_of(too_big, sizeof(too_big), &ip, &v);
        assert_int_equal(
            mpnet_ip6_view_check(mpnet_icmp6_data(&v), mpnet_icmp6_data_len(&v), &inner),
            -MPNET_WIRE_BAD_LEN);
        /* The parameter problem quotes the hop-by-hop packet whole. */
        icmp6_of(param_problem, sizeof(param_problem), &ip, &v);
        assert_int_equal(mpnet_icmp6_data_len(&v), sizeof(udp_hbh) - ETH);
        assert_memory_equal(mpnet_icmp6_data(&v), udp_hbh + ETH, sizeof(udp_hbh) - ETH);
}

/* Gather the options of a parsed ND message for emit. */
static void nd_collect(const struct mpnet_nd_repr *r, struct mpnet_nd_opts *o)
{
        struct mpnet_nd_opt_iter it;
        struct mpnet_nd_opt opt;

        memset(o, 0, sizeof(*o));
        mpnet_nd_opt_iter_init(&it, r->opts, r->opts_len);
        while (mpnet_nd_opt_next(&it, &opt) > 0) {
                switch (opt.type) {
                case MPNET_ND_OPT_SLLA:
                        o->slla = mpnet_nd_opt_lladdr(&opt);
                        break;
                case MPNET_ND_OPT_TLLA:
                        o->tlla = mpnet_nd_opt_lladdr(&opt);
                        break;
                case MPNET_ND_OPT_NONCE:
                        o->nonce = opt.b + 2;
                        break;
                case MPNET_ND_OPT_REDIRECTED:
                        o->redirected = opt.b + 8;
                        o->redirected_len = opt.n - 8;
                        break;
                default:
                        fail_msg("unexpected option %u", opt.type);
                }
        }
}

/* Parse the ND message of a frame and emit it again from repr and options. */
static void nd_both_ways(const uint8_t *frame, size_t n, struct mpnet_nd_repr *r,
                         struct mpnet_nd_opts *o)
{
        struct mpnet_ip6_view ip;
        struct mpnet_icmp6_view v;
        uint8_t out[160];

        icmp6_of(frame, n, &ip, &v);
        assert_int_equal(mpnet_nd_repr_parse(&v, r), 0);
        nd_collect(r, o);
        assert_int_equal(mpnet_nd_repr_len(r, o), v.n);
        memset(out, 0xee, sizeof(out));
        mpnet_nd_repr_emit(r, o, mpnet_ip6_src(&ip), mpnet_ip6_dst(&ip), out);
        assert_memory_equal(out, v.b, v.n);
        /* RFC 4861 6.1.1, 7.1.1, 8.1: hop limit 255 on every ND message. */
        assert_int_equal(mpnet_ip6_hop_limit(&ip), 255);
}

static void test_nd_captured(void **state)
{
        struct mpnet_nd_repr r;
        struct mpnet_nd_opts o;

        (void)state;
        /* DAD: from ::, no source link-layer option (RFC 4862 5.4.2), a
         * nonce instead (RFC 7527 4.1). */
        nd_both_ways(ns_dad, sizeof(ns_dad), &r, &o);
        assert_int_equal(r.type, MPNET_ICMP6_ND_NS);
        assert_addr(r.target, "fe80::ff:fe00:1");
        assert_int_equal(r.opts_len, 8);
        assert_null(o.slla);
        assert_ptr_equal(o.nonce, r.opts + 2);
        assert_true(mpnet_ip6_is_unspecified(ns_dad + ETH + 8));

        nd_both_ways(ns, sizeof(ns), &r, &o);
        assert_addr(r.target, "2001:db8::2");
        assert_memory_equal(o.slla, mac_a, 6);
        assert_null(o.tlla);

        nd_both_ways(na, sizeof(na), &r, &o);
        assert_int_equal(r.type, MPNET_ICMP6_ND_NA);
        assert_false(r.router);
        assert_true(r.solicited);
        assert_true(r.override);
        assert_addr(r.target, "2001:db8::2");
        assert_memory_equal(o.tlla, mac_b, 6);

        nd_both_ways(rs, sizeof(rs), &r, &o);
        assert_int_equal(r.type, MPNET_ICMP6_ND_RS);
        assert_memory_equal(o.slla, mac_a, 6);

        /* R sends A to B for 2001:db8:2::1, quoting A's 64-byte echo request. */
        nd_both_ways(redirect, sizeof(redirect), &r, &o);
        assert_int_equal(r.type, MPNET_ICMP6_ND_REDIRECT);
        assert_addr(r.target, "fe80::ff:fe00:2");
        assert_addr(r.dst, "2001:db8:2::1");
        assert_memory_equal(o.tlla, mac_b, 6);
        assert_int_equal(o.redirected_len, 64);
        assert_int_equal(o.redirected[0] >> 4, 6);
        assert_memory_equal(o.redirected + 24, r.dst, 16);
}

static void test_nd_ra(void **state)
{
        static const uint8_t mac_r[6] = {2, 0, 0, 0, 0, 3};
        struct mpnet_nd_prefix pfx[2] = {
            {.prefix_len = 64,
             .onlink = true,
             .autonomous = true,
             .valid = 86400,
             .preferred = 14400},
            {.prefix_len = 48, .autonomous = true, .valid = 3600, .preferred = 0},
        };
        uint8_t dns[32], src[16], dst[16], b[136];
        struct mpnet_nd_repr r = {.type = MPNET_ICMP6_ND_RA,
                                  .cur_hop_limit = 64,
                                  .managed = true,
                                  .router_lifetime = 1800,
                                  .reachable = 30000,
                                  .retrans = 1000};
        struct mpnet_nd_opts o = {.slla = mac_r, .mtu = 1280, .prefix = pfx, .n_prefix = 2};
        struct mpnet_icmp6_view v;
        struct mpnet_nd_repr p;
        struct mpnet_nd_opt_iter it;
        struct mpnet_nd_opt opt;
        struct mpnet_nd_prefix got;
        struct mpnet_nd_rdnss rd;
        uint32_t mtu;

        (void)state;
        a6("2001:db8:1::", pfx[0].prefix);
        a6("2001:2::", pfx[1].prefix);
        a6("2001:db8::53", dns);
        a6("2001:db8::5353", dns + 16);
        o.rdnss = (struct mpnet_nd_rdnss){.lifetime = 600, .addrs = dns, .count = 2};
        a6("fe80::ff:fe00:3", src);
        a6("ff02::1", dst);
        assert_int_equal(mpnet_nd_repr_len(&r, &o), sizeof(b));
        mpnet_nd_repr_emit(&r, &o, src, dst, b);
        /* The layout of RFC 4861 4.2, 4.6.1, 4.6.4, 4.6.2 and RFC 8106 5.1. */
        static const uint8_t fixed[16] = {134, 0, 0,    0,    64, 0x80, 0x07, 0x08,
                                          0,   0, 0x75, 0x30, 0,  0,    0x03, 0xe8};
        assert_memory_equal(b + 4, fixed + 4, 12);
        assert_int_equal(b[0], 134);
        assert_memory_equal(b + 16, "\x01\x01\x02\x00\x00\x00\x00\x03", 8);
        assert_memory_equal(b + 24, "\x05\x01\x00\x00\x00\x00\x05\x00", 8);
        assert_memory_equal(b + 32, "\x03\x04\x40\xc0\x00\x01\x51\x80\x00\x00\x38\x40", 12);
        assert_memory_equal(b + 44, "\x00\x00\x00\x00", 4);
        assert_memory_equal(b + 48, pfx[0].prefix, 16);
        assert_memory_equal(b + 64, "\x03\x04\x30\x40", 4);
        assert_memory_equal(b + 96, "\x19\x05\x00\x00\x00\x00\x02\x58", 8);
        assert_memory_equal(b + 104, dns, 32);

        assert_int_equal(mpnet_icmp6_view_check(b, sizeof(b), &v), 0);
        assert_true(mpnet_icmp6_csum_ok(&v, src, dst));
        assert_int_equal(mpnet_nd_repr_parse(&v, &p), 0);
        assert_int_equal(p.cur_hop_limit, 64);
        assert_true(p.managed);
        assert_false(p.other);
        assert_int_equal(p.router_lifetime, 1800);
        assert_int_equal(p.reachable, 30000);
        assert_int_equal(p.retrans, 1000);
        assert_int_equal(p.opts_len, 120);
        mpnet_nd_opt_iter_init(&it, p.opts, p.opts_len);
        assert_int_equal(mpnet_nd_opt_next(&it, &opt), 1);
        assert_memory_equal(mpnet_nd_opt_lladdr(&opt), mac_r, 6);
        assert_int_equal(mpnet_nd_opt_next(&it, &opt), 1);
        assert_int_equal(mpnet_nd_opt_mtu(&opt, &mtu), 0);
        assert_int_equal(mtu, 1280);
        for (int i = 0; i < 2; i++) {
                assert_int_equal(mpnet_nd_opt_next(&it, &opt), 1);
                assert_int_equal(mpnet_nd_opt_prefix(&opt, &got), 0);
                assert_int_equal(got.prefix_len, pfx[i].prefix_len);
                assert_int_equal(got.onlink, pfx[i].onlink);
                assert_int_equal(got.autonomous, pfx[i].autonomous);
                assert_int_equal(got.valid, pfx[i].valid);
                assert_int_equal(got.preferred, pfx[i].preferred);
                assert_memory_equal(got.prefix, pfx[i].prefix, 16);
        }
        assert_int_equal(mpnet_nd_opt_next(&it, &opt), 1);
        assert_int_equal(mpnet_nd_opt_rdnss(&opt, &rd), 0);
        assert_int_equal(rd.lifetime, 600);
        assert_int_equal(rd.count, 2);
        assert_memory_equal(rd.addrs, dns, 32);
        assert_int_equal(mpnet_nd_opt_next(&it, &opt), 0);
        /* O instead of M; no options at all. */
        r.managed = false;
        r.other = true;
        mpnet_nd_repr_emit(&r, NULL, src, dst, b);
        assert_int_equal(mpnet_nd_repr_len(&r, NULL), 16);
        assert_int_equal(b[5], 0x40);
        assert_int_equal(mpnet_icmp6_view_check(b, 16, &v), 0);
        assert_true(mpnet_icmp6_csum_ok(&v, src, dst));
        assert_int_equal(mpnet_nd_repr_parse(&v, &p), 0);
        assert_true(p.other);
        assert_int_equal(p.opts_len, 0);
}

static int nd_parse_bytes(const uint8_t *b, size_t n)
{
        uint8_t *c = tail_copy(b, n);
        struct mpnet_icmp6_view v;
        struct mpnet_nd_repr r;
        int rc;

        assert_int_equal(mpnet_icmp6_view_check(c, n, &v), 0);
        rc = mpnet_nd_repr_parse(&v, &r);
        free(c);
        return rc;
}

static void test_nd_errors(void **state)
{
        const uint8_t *nsm = ns + 54;
        uint8_t b[40], opt[32] = {0};
        struct mpnet_nd_opt_iter it;
        struct mpnet_nd_opt o;
        struct mpnet_nd_prefix p;
        struct mpnet_nd_rdnss rd;
        uint32_t mtu;

        (void)state;
        assert_int_equal(nd_parse_bytes(nsm, 32), 0);
        /* RFC 4861 4.6: an option of length 0 drops the message. */
        memcpy(b, nsm, 32);
        b[25] = 0;
        assert_int_equal(nd_parse_bytes(b, 32), -MPNET_WIRE_BAD_OPTION);
        mpnet_nd_opt_iter_init(&it, b + 24, 8);
        assert_int_equal(mpnet_nd_opt_next(&it, &o), -MPNET_WIRE_BAD_OPTION);
        assert_int_equal(it.pos, 0);
        /* An option longer than what is left, and a lone trailing byte. */
        b[25] = 2;
        assert_int_equal(nd_parse_bytes(b, 32), -MPNET_WIRE_TRUNCATED);
        b[25] = 1;
        b[32] = MPNET_ND_OPT_MTU;
        assert_int_equal(nd_parse_bytes(b, 33), -MPNET_WIRE_TRUNCATED);
        for (size_t n = 25; n < 32; n++)
                assert_int_equal(nd_parse_bytes(b, n), -MPNET_WIRE_TRUNCATED);
        /* Fixed parts cut short. */
        for (size_t n = 8; n < 24; n++)
                assert_int_equal(nd_parse_bytes(b, n), -MPNET_WIRE_TRUNCATED);
        memcpy(b, redirect + 54, 40);
        assert_int_equal(nd_parse_bytes(b, 40), 0);
        assert_int_equal(nd_parse_bytes(b, 39), -MPNET_WIRE_TRUNCATED);
        b[0] = MPNET_ICMP6_ND_RA;
        assert_int_equal(nd_parse_bytes(b, 15), -MPNET_WIRE_TRUNCATED);
        /* RFC 4861 6.1: code 0 only. */
        memcpy(b, nsm, 32);
        b[1] = 1;
        assert_int_equal(nd_parse_bytes(b, 32), -MPNET_WIRE_BAD_FIELD);
        b[1] = 0;
        b[0] = MPNET_ICMP6_ECHO_REQUEST;
        assert_int_equal(nd_parse_bytes(b, 32), -MPNET_WIRE_UNSUPPORTED);

        /* Content with the wrong length for its type: the option is skipped. */
        o = (struct mpnet_nd_opt){.type = MPNET_ND_OPT_PREFIX, .len8 = 3, .b = opt, .n = 24};
        assert_int_equal(mpnet_nd_opt_prefix(&o, &p), -MPNET_WIRE_BAD_OPTION);
        o = (struct mpnet_nd_opt){.type = MPNET_ND_OPT_MTU, .len8 = 2, .b = opt, .n = 16};
        assert_int_equal(mpnet_nd_opt_mtu(&o, &mtu), -MPNET_WIRE_BAD_OPTION);
        assert_null(mpnet_nd_opt_lladdr(&o));
        static const uint8_t bad_rdnss[] = {1, 2, 4};
        for (size_t i = 0; i < ARRAY_LEN(bad_rdnss); i++) {
                o = (struct mpnet_nd_opt){.type = MPNET_ND_OPT_RDNSS,
                                          .len8 = bad_rdnss[i],
                                          .b = opt,
                                          .n = bad_rdnss[i] * 8u};
                assert_int_equal(mpnet_nd_opt_rdnss(&o, &rd), -MPNET_WIRE_BAD_OPTION);
        }
}

static void test_mld_query(void **state)
{
        struct mpnet_ip6_view ip;
        struct mpnet_icmp6_view v;
        struct mpnet_mld_query q;
        uint8_t b[44] = {0};

        (void)state;
        icmp6_of(mld_query, sizeof(mld_query), &ip, &v);
        assert_int_equal(v.n, 28);
        assert_int_equal(mpnet_mld_query_parse(&v, &q), 0);
        assert_false(q.v1);
        assert_int_equal(q.max_resp, 10000);
        assert_true(mpnet_ip6_is_unspecified(q.group));
        assert_false(q.suppress);
        assert_int_equal(q.qrv, 2);
        assert_int_equal(q.qqi, 3);
        assert_int_equal(q.n_src, 0);
        assert_addr(mpnet_ip6_dst(&ip), "ff02::1");

        memcpy(b, v.b, 28);
        assert_int_equal(mpnet_icmp6_view_check(b, 24, &v), 0);
        assert_int_equal(mpnet_mld_query_parse(&v, &q), 0);
        assert_true(q.v1);
        assert_int_equal(q.max_resp, 10000);
        for (size_t n = 8; n < 28; n++) {
                if (n == 24)
                        continue;
                assert_int_equal(mpnet_icmp6_view_check(b, n, &v), 0);
                assert_int_equal(mpnet_mld_query_parse(&v, &q), -MPNET_WIRE_BAD_LEN);
        }
        /* One source: it must be there. */
        mpnet_put_be16(b + 26, 1);
        a6("2001:db8::1", b + 28);
        b[24] = 0x0a;
        assert_int_equal(mpnet_icmp6_view_check(b, 43, &v), 0);
        assert_int_equal(mpnet_mld_query_parse(&v, &q), -MPNET_WIRE_TRUNCATED);
        assert_int_equal(mpnet_icmp6_view_check(b, 44, &v), 0);
        assert_int_equal(mpnet_mld_query_parse(&v, &q), 0);
        assert_true(q.suppress);
        assert_int_equal(q.qrv, 2);
        assert_int_equal(q.n_src, 1);
        assert_addr(q.src, "2001:db8::1");
        /* RFC 3810 5.1.3 and 5.1.9 floating-point codes. */
        static const struct {
                uint16_t mrc;
                uint32_t ms;
                uint8_t qqic;
                uint32_t qqi;
        } fp[] = {{32767, 32767, 127, 127},
                  {0x8000, 0x1000 << 3, 0x80, 0x10 << 3},
                  {0xffff, 0x1fffu << 10, 0xff, 0x1f << 10}};
        for (size_t i = 0; i < ARRAY_LEN(fp); i++) {
                mpnet_put_be16(b + 4, fp[i].mrc);
                b[25] = fp[i].qqic;
                assert_int_equal(mpnet_mld_query_parse(&v, &q), 0);
                assert_int_equal(q.max_resp, fp[i].ms);
                assert_int_equal(q.qqi, fp[i].qqi);
        }
        b[0] = MPNET_ICMP6_MLD2_REPORT;
        assert_int_equal(mpnet_mld_query_parse(&v, &q), -MPNET_WIRE_UNSUPPORTED);
}

static void test_mld_report(void **state)
{
        struct mpnet_ip6_view ip;
        struct mpnet_icmp6_view v;
        struct mpnet_mld_rec_iter it;
        struct mpnet_mld_record rec, recs[2];
        uint8_t b[128], g1[16], g2[16], srcs[32];

        (void)state;
        icmp6_of(mld_report, sizeof(mld_report), &ip, &v);
        assert_int_equal(mpnet_mld_report_iter_init(&it, &v), 0);
        assert_int_equal(mpnet_mld_record_next(&it, &rec), 1);
        assert_int_equal(rec.type, MPNET_MLD2_TO_EXCLUDE);
        assert_int_equal(rec.n_src, 0);
        assert_addr(rec.group, "ff02::1:ff00:1");
        assert_int_equal(mpnet_mld_record_next(&it, &rec), 0);
        assert_int_equal(mpnet_mld_report_len(&rec, 1), 28);
        memset(b, 0xee, sizeof(b));
        mpnet_mld_report_emit(&rec, 1, mpnet_ip6_src(&ip), mpnet_ip6_dst(&ip), b);
        assert_memory_equal(b, v.b, 28);

        /* Two records, one with sources, read back. */
        a6("ff05::1:3", g1);
        a6("ff02::fb", g2);
        a6("2001:db8::1", srcs);
        a6("2001:2::9", srcs + 16);
        recs[0] = (struct mpnet_mld_record){MPNET_MLD2_ALLOW_NEW, 2, g1, srcs};
        recs[1] = (struct mpnet_mld_record){MPNET_MLD2_MODE_IS_EXCLUDE, 0, g2, NULL};
        assert_int_equal(mpnet_mld_report_len(recs, 2), 8 + 52 + 20);
        mpnet_mld_report_emit(recs, 2, mpnet_ip6_src(&ip), mpnet_ip6_dst(&ip), b);
        assert_int_equal(mpnet_icmp6_view_check(b, 80, &v), 0);
        assert_true(mpnet_icmp6_csum_ok(&v, mpnet_ip6_src(&ip), mpnet_ip6_dst(&ip)));
        assert_int_equal(mpnet_mld_report_iter_init(&it, &v), 0);
        for (int i = 0; i < 2; i++) {
                assert_int_equal(mpnet_mld_record_next(&it, &rec), 1);
                assert_int_equal(rec.type, recs[i].type);
                assert_int_equal(rec.n_src, recs[i].n_src);
                assert_memory_equal(rec.group, recs[i].group, 16);
        }
        assert_memory_equal(rec.src - 32 - 20, srcs, 32);
        assert_int_equal(mpnet_mld_record_next(&it, &rec), 0);
        /* A record cut anywhere is truncated. */
        for (size_t n = 8; n < 80; n++) {
                if (n == 60)
                        continue; /* the first record ends there */
                assert_int_equal(mpnet_icmp6_view_check(b, n, &v), 0);
                assert_int_equal(mpnet_mld_report_iter_init(&it, &v), 0);
                while (mpnet_mld_record_next(&it, &rec) > 0)
                        ;
                assert_int_equal(mpnet_mld_record_next(&it, &rec), -MPNET_WIRE_TRUNCATED);
        }
        /* Auxiliary data (one word) is skipped, not read as the next record. */
        memmove(b + 64, b + 60, 20);
        b[9] = 1;
        assert_int_equal(mpnet_icmp6_view_check(b, 84, &v), 0);
        assert_int_equal(mpnet_mld_report_iter_init(&it, &v), 0);
        assert_int_equal(mpnet_mld_record_next(&it, &rec), 1);
        assert_int_equal(mpnet_mld_record_next(&it, &rec), 1);
        assert_memory_equal(rec.group, g2, 16);
        assert_int_equal(mpnet_mld_record_next(&it, &rec), 0);
        icmp6_of(mld_query, sizeof(mld_query), &ip, &v);
        assert_int_equal(mpnet_mld_report_iter_init(&it, &v), -MPNET_WIRE_UNSUPPORTED);
}

static void test_err_str6(void **state)
{
        (void)state;
        assert_string_equal(mpnet_wire_err_str(-MPNET_WIRE_BAD_ORDER), "header out of order");
        assert_string_equal(mpnet_wire_err_str(-MPNET_WIRE_DEPRECATED), "deprecated");
        assert_string_equal(mpnet_wire_err_str(-MPNET_WIRE_TOO_LONG), "header chain too long");
        assert_string_equal(mpnet_wire_err_str(-MPNET_WIRE_BAD_OPTION), "bad option");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ipv6_both_ways), cmocka_unit_test(test_ipv6_errors),
            cmocka_unit_test(test_ipv6_addresses), cmocka_unit_test(test_walk_captured),
            cmocka_unit_test(test_walk_truncated), cmocka_unit_test(test_walk_rules),
            cmocka_unit_test(test_walk_bounds),    cmocka_unit_test(test_options_truncated),
            cmocka_unit_test(test_icmp6_echo),     cmocka_unit_test(test_icmp6_errors_captured),
            cmocka_unit_test(test_nd_captured),    cmocka_unit_test(test_nd_ra),
            cmocka_unit_test(test_nd_errors),      cmocka_unit_test(test_mld_query),
            cmocka_unit_test(test_mld_report),     cmocka_unit_test(test_err_str6),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
