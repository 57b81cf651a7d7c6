#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

Every seed is built here from the protocol's fields (RFC 826, 791, 792,
8200, 4443, 4861, 3810), with correct checksums, so a reader can see what
each one is and regenerate them:  python3 tests/fuzz/gen_seeds.py
Files the fuzzer found (crash-*, and inputs kept by hand) are left alone;
only the seed-* files are rewritten.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# The addresses the stack targets configure (fuzz_stack_input.c,
# fuzz_stack_conv.c); the peer is the wire's other end.
MAC_IN = bytes([2, 0, 0, 0, 0, 1])      # fuzz_stack_input: the stack
MAC_IN_PEER = bytes([2, 0, 0, 0, 0, 2])
MAC_C = [bytes([2, 0, 0, 0, 1, 1]), bytes([2, 0, 0, 0, 2, 1])]  # fuzz_stack_conv
MAC_C_PEER = [bytes([2, 0, 0, 0, 1, 2]), bytes([2, 0, 0, 0, 2, 2])]
BCAST = b"\xff" * 6


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ip6(s):
    head, _, tail = s.partition("::")
    h = [int(x, 16) for x in head.split(":") if x]
    t = [int(x, 16) for x in tail.split(":") if x]
    w = h + [0] * (8 - len(h) - len(t)) + t
    return struct.pack("!8H", *w)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + ip4(spa) + tha + ip4(tpa)


def ipv4(src, dst, proto, payload, ident=1, ttl=64, flags_off=0, opts=b""):
    hl = 20 + len(opts)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, hl + len(payload), ident, flags_off,
                    ttl, proto, 0, ip4(src), ip4(dst)) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def icmp4(typ, code, rest, data):
    m = struct.pack("!BBHI", typ, code, 0, rest) + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def udp4_payload(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def ipv6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB", 6 << 28, len(payload), nh, hlim) + ip6(src) + ip6(dst) + payload


def icmp6(src, dst, typ, code, body):
    m = struct.pack("!BBH", typ, code, 0) + body
    pseudo = ip6(src) + ip6(dst) + struct.pack("!IxxxB", len(m), 58)
    return m[:2] + struct.pack("!H", csum(pseudo + m)) + m[4:]


def nd_opt(typ, data):
    n = 2 + len(data)
    pad = (-n) % 8
    return struct.pack("!BB", typ, (n + pad) // 8) + data + b"\0" * pad


def mcast_mac(a6):
    return b"\x33\x33" + ip6(a6)[12:]


def solicited(a6):
    return "ff02::1:ff%02x:%02x%02x" % tuple(ip6(a6)[13:16])


# ---- the messages ----------------------------------------------------------

def msgs():
    """(name, kind, bytes): kind says which layer the bytes start at."""
    out = []
    a = arp(1, MAC_IN_PEER, "192.0.2.2", b"\0" * 6, "192.0.2.1")
    out.append(("arp_request", "arp", a))
    out.append(("arp_reply", "arp", arp(2, MAC_IN_PEER, "192.0.2.2", MAC_IN, "192.0.2.1")))
    out.append(("arp_announce", "arp", arp(1, MAC_IN_PEER, "192.0.2.1", b"\0" * 6, "192.0.2.1")))
    echo = icmp4(8, 0, 0x12340001, b"mpnet fuzz seed!" * 2)
    out.append(("ip4_echo", "ip4", ipv4("192.0.2.2", "192.0.2.1", 1, echo)))
    out.append(("ip4_udp_closed", "ip4",
                ipv4("192.0.2.2", "192.0.2.1", 17, udp4_payload(1000, 9, b"hello"))))
    out.append(("ip4_forward", "ip4",
                ipv4("192.0.2.2", "203.0.113.9", 17, udp4_payload(1000, 9, b"x" * 32), ttl=2)))
    out.append(("ip4_ttl1", "ip4",
                ipv4("192.0.2.2", "203.0.113.9", 17, udp4_payload(1, 2, b"y"), ttl=1)))
    rr = bytes([7, 11, 4]) + b"\0" * 8 + bytes([1])          # record route, NOP
    lsrr = bytes([131, 7, 4]) + ip4("198.51.100.2") + bytes([0])  # loose source route, EOL
    out.append(("ip4_opts_rr", "ip4", ipv4("192.0.2.2", "192.0.2.1", 1, echo, opts=rr)))
    out.append(("ip4_opts_lsrr", "ip4", ipv4("192.0.2.2", "192.0.2.1", 1, echo, opts=lsrr)))
    big = icmp4(8, 0, 0x12340002, bytes(range(256)) * 2)
    out.append(("ip4_frag0", "ip4",
                ipv4("192.0.2.2", "192.0.2.1", 1, big[:256], ident=77, flags_off=0x2000)))
    out.append(("ip4_frag1", "ip4",
                ipv4("192.0.2.2", "192.0.2.1", 1, big[256:], ident=77, flags_off=256 // 8)))
    out.append(("icmp4_unreach", "ip4",
                ipv4("192.0.2.2", "192.0.2.1", 1,
                     icmp4(3, 3, 0, ipv4("192.0.2.1", "192.0.2.2", 17, udp4_payload(5, 6, b""))))))
    out.append(("icmp4_redirect", "ip4",
                ipv4("192.0.2.2", "192.0.2.1", 1,
                     icmp4(5, 1, struct.unpack("!I", ip4("192.0.2.3"))[0],
                           ipv4("192.0.2.1", "203.0.113.9", 17, udp4_payload(5, 6, b""))))))
    # fuzz_stack_conv's gateways on interface 2 answering the router.
    out.append(("arp_reply_gw", "arp", arp(2, MAC_C_PEER[1], "198.51.100.2", MAC_C[1], "198.51.100.1")))
    gw6 = "2001:db8:1::2"
    na_gw = icmp6(gw6, "2001:db8:1::1", 136, 0,
                  struct.pack("!I", 0x60000000) + ip6(gw6) + nd_opt(2, MAC_C_PEER[1]))
    out.append(("ip6_na_gw", "ip6", ipv6(gw6, "2001:db8:1::1", 58, na_gw, hlim=255)))
    out.append(("ip4_forward_df", "ip4",
                ipv4("192.0.2.2", "203.0.113.9", 17, udp4_payload(1, 2, b"z" * 1400), ttl=9,
                     flags_off=0x4000)))
    out.append(("ip4_unroutable", "ip4",
                ipv4("192.0.2.2", "198.18.7.7", 17, udp4_payload(1, 2, b"u"), ttl=9)))
    out.append(("ip4_bcast_unicast", "ip4",
                ipv4("192.0.2.2", "203.0.113.9", 17, udp4_payload(1, 2, b"b"), ttl=9)))
    ll_peer = "fe80::2"
    us = "2001:db8::1"
    peer = "2001:db8::2"
    e6 = icmp6(peer, us, 128, 0, struct.pack("!HH", 7, 1) + b"ping6 seed" * 3)
    out.append(("ip6_echo", "ip6", ipv6(peer, us, 58, e6)))
    ns = icmp6(ll_peer, solicited(us), 135, 0, b"\0" * 4 + ip6(us) + nd_opt(1, MAC_IN_PEER))
    out.append(("ip6_ns", "ip6", ipv6(ll_peer, solicited(us), 58, ns, hlim=255)))
    dad = icmp6("::", solicited(us), 135, 0,
                b"\0" * 4 + ip6(us) + nd_opt(14, b"\x01\x02\x03\x04\x05\x06"))
    out.append(("ip6_ns_dad", "ip6", ipv6("::", solicited(us), 58, dad, hlim=255)))
    na = icmp6(peer, us, 136, 0, struct.pack("!I", 0x60000000) + ip6(peer) + nd_opt(2, MAC_IN_PEER))
    out.append(("ip6_na", "ip6", ipv6(peer, us, 58, na, hlim=255)))
    rs = icmp6(ll_peer, "ff02::2", 133, 0, b"\0" * 4 + nd_opt(1, MAC_IN_PEER))
    out.append(("ip6_rs", "ip6", ipv6(ll_peer, "ff02::2", 58, rs, hlim=255)))
    pfx = nd_opt(3, struct.pack("!BBIII", 64, 0xC0, 86400, 14400, 0) + ip6("2001:db8:7::"))
    rdnss = nd_opt(25, struct.pack("!HI", 0, 600) + ip6("2001:db8::53"))
    mtu = nd_opt(5, struct.pack("!HI", 0, 1400))
    ra = icmp6(ll_peer, "ff02::1", 134, 0,
               struct.pack("!BBHII", 64, 0, 1800, 30000, 1000) + nd_opt(1, MAC_IN_PEER) + mtu + pfx +
               rdnss)
    out.append(("ip6_ra", "ip6", ipv6(ll_peer, "ff02::1", 58, ra, hlim=255)))
    redir = icmp6(ll_peer, us, 137, 0, b"\0" * 4 + ip6("fe80::3") + ip6("2001:db8:5::9") +
                  nd_opt(2, b"\x02\0\0\0\0\x03"))
    out.append(("ip6_redirect", "ip6", ipv6(ll_peer, us, 58, redir, hlim=255)))
    q = icmp6(ll_peer, "ff02::1", 130, 0,
              struct.pack("!HH", 1000, 0) + ip6("::") + struct.pack("!BBH", 2, 125, 0))
    ra_hbh = bytes([58, 0, 5, 2, 0, 0, 1, 0])  # hop-by-hop: router alert (MLD), PadN
    out.append(("ip6_mld_query", "ip6", ipv6(ll_peer, "ff02::1", 0, ra_hbh + q, hlim=1)))
    rep = icmp6(ll_peer, "ff02::16", 143, 0,
                struct.pack("!HH", 0, 2) + struct.pack("!BBH", 4, 0, 0) + ip6("ff02::1:ff00:1") +
                struct.pack("!BBH", 1, 0, 1) + ip6("ff05::1:3") + ip6("2001:db8::99"))
    out.append(("ip6_mld_report", "ip6", ipv6(ll_peer, "ff02::16", 0, ra_hbh + rep, hlim=1)))
    dst_opts = bytes([58, 1]) + bytes([0x1E, 4, 0, 0, 0, 0]) + bytes([1, 6]) + b"\0" * 6
    out.append(("ip6_dstopts", "ip6", ipv6(peer, us, 60, dst_opts + e6)))
    rh0 = bytes([58, 2, 0, 0, 0, 0, 0, 0]) + ip6("2001:db8::9")
    out.append(("ip6_rh0_done", "ip6", ipv6(peer, us, 43, rh0 + e6)))
    big6 = icmp6(peer, us, 128, 0, struct.pack("!HH", 8, 1) + bytes(range(256)) * 3)
    fh = lambda off, m: struct.pack("!BBHI", 58, 0, off | m, 0xABCD)
    out.append(("ip6_frag0", "ip6", ipv6(peer, us, 44, fh(0, 1) + big6[:384])))
    out.append(("ip6_frag1", "ip6", ipv6(peer, us, 44, fh(384, 0) + big6[384:])))
    out.append(("ip6_forward", "ip6", ipv6(peer, "2001:db8:5::9", 17,
                                           struct.pack("!HHHH", 1, 2, 12, 0) + b"data", hlim=2)))
    # An echo bigger than the link: reassembled, its reply fragmented
    # (IPv4 with a record-route option in the first fragment).
    big4 = icmp4(8, 0, 0x12340003, bytes(range(250)) * 8)
    out.append(("ip4_bigfrag0", "ip4", ipv4("192.0.2.2", "192.0.2.1", 1, big4[:1000], ident=78,
                                            flags_off=0x2000, opts=rr)))
    out.append(("ip4_bigfrag1", "ip4", ipv4("192.0.2.2", "192.0.2.1", 1, big4[1000:], ident=78,
                                            flags_off=1000 // 8)))
    big6b = icmp6(peer, us, 128, 0, struct.pack("!HH", 9, 1) + bytes(range(250)) * 8)
    fh2 = lambda off, m, ident=0xABCE: struct.pack("!BBHI", 58, 0, off | m, ident)
    out.append(("ip6_bigfrag0", "ip6", ipv6(peer, us, 44, fh2(0, 1) + big6b[:1000])))
    out.append(("ip6_bigfrag1", "ip6", ipv6(peer, us, 44, fh2(1000, 0) + big6b[1000:])))
    # RFC 5722: an overlap drops the datagram.
    out.append(("ip6_frag_overlap", "ip6", ipv6(peer, us, 44, fh2(8, 1, 0xABCF) + big6[:64])))
    out.append(("ip6_frag_first", "ip6", ipv6(peer, us, 44, fh2(0, 1, 0xABCF) + big6[:384])))
    # A redirect from the default router (after ip6_ra) for an off-link
    # destination, then an echo from it: the reply takes the redirect.
    far = "2001:db8:9::9"
    redir_ok = icmp6(ll_peer, us, 137, 0, b"\0" * 4 + ip6("fe80::3") + ip6(far) +
                     nd_opt(2, b"\x02\0\0\0\0\x03"))
    out.append(("ip6_redirect_ok", "ip6", ipv6(ll_peer, us, 58, redir_ok, hlim=255)))
    e_far = icmp6(far, us, 128, 0, struct.pack("!HH", 7, 2) + b"far" * 8)
    out.append(("ip6_echo_far", "ip6", ipv6(far, us, 58, e_far)))
    # A router sends a packet back out of the link it came in on: redirects
    # (RFC 1812 5.2.7.2, RFC 4861 8.2).
    out.append(("ip4_same_link", "ip4",
                ipv4("192.0.2.2", "192.0.2.9", 17, udp4_payload(1, 2, b"s" * 16), ttl=9)))
    out.append(("ip6_same_link", "ip6", ipv6(peer, "2001:db8::9", 17,
                                             struct.pack("!HHHH", 1, 2, 12, 0) + b"same", hlim=9)))
    # Forwarded onto link 2 (MTU 1280 in fuzz_stack_conv): fragmented, or
    # too big.
    out.append(("ip4_forward_big", "ip4",
                ipv4("192.0.2.2", "203.0.113.9", 17, udp4_payload(1, 2, b"f" * 1400), ttl=9)))
    out.append(("ip6_forward_big", "ip6", ipv6(peer, "2001:db8:5::9", 17,
                                               struct.pack("!HHHH", 1, 2, 1408, 0) + b"g" * 1400,
                                               hlim=9)))
    # ICMP errors about what the stack sent: an echo of ours, a packet too
    # big, time exceeded.
    our_echo4 = ipv4("192.0.2.1", "192.0.2.2", 1, icmp4(8, 0, 0x00050006, b"q" * 8))
    out.append(("icmp4_unreach_echo", "ip4",
                ipv4("192.0.2.2", "192.0.2.1", 1, icmp4(3, 1, 0, our_echo4))))
    out.append(("icmp4_time_exceeded", "ip4",
                ipv4("192.0.2.2", "192.0.2.1", 1, icmp4(11, 0, 0, our_echo4))))
    out.append(("icmp4_frag_needed", "ip4",
                ipv4("192.0.2.2", "192.0.2.1", 1, icmp4(3, 4, 576, our_echo4))))
    our_echo6 = ipv6(us, far, 58, icmp6(us, far, 128, 0, struct.pack("!HH", 5, 6) + b"q" * 8))
    out.append(("icmp6_unreach_echo", "ip6",
                ipv6(peer, us, 58, icmp6(peer, us, 1, 3, b"\0" * 4 + our_echo6))))
    out.append(("icmp6_ptb", "ip6",
                ipv6(peer, us, 58, icmp6(peer, us, 2, 0, struct.pack("!I", 1280) + our_echo6))))
    out.append(("icmp6_time_exceeded", "ip6",
                ipv6(peer, us, 58, icmp6(peer, us, 3, 0, b"\0" * 4 + our_echo6))))
    out.append(("icmp6_param_problem", "ip6",
                ipv6(peer, us, 58, icmp6(peer, us, 4, 1, struct.pack("!I", 6) + our_echo6))))
    # Advertisements over a host's life (RFC 4861 6.3.4, RFC 4862 5.5.3):
    # new parameters, a prefix renewed with a short lifetime (the two-hour
    # rule), one withdrawn (valid 0), one that runs out, a router that
    # leaves (lifetime 0), one that times out, more routers than the list
    # holds.
    def ra_msg(src, life, reach, pfxs, retrans=1000):
        opts = nd_opt(1, MAC_IN_PEER)
        for pfx, valid, pref in pfxs:
            opts += nd_opt(3, struct.pack("!BBIII", 64, 0xC0, valid, pref, 0) + ip6(pfx))
        body = struct.pack("!BBHII", 64, 0, life, reach, retrans) + opts
        return ipv6(src, "ff02::1", 58, icmp6(src, "ff02::1", 134, 0, body), hlim=255)
    out.append(("ip6_ra_new", "ip6", ra_msg(ll_peer, 1800, 20000, [("2001:db8:7::", 86400, 14400),
                                                                    ("2001:db8:8::", 4, 2)], 500)))
    out.append(("ip6_ra_renew", "ip6", ra_msg(ll_peer, 1800, 20000, [("2001:db8:7::", 60, 30),
                                                                      ("2001:db8:8::", 4, 2)])))
    out.append(("ip6_ra_withdraw", "ip6", ra_msg(ll_peer, 0, 0, [("2001:db8:7::", 0, 0)])))
    for k in range(4, 10):
        out.append(("ip6_ra_router%d" % k, "ip6", ra_msg("fe80::%d" % k, 3, 0, [])))
    # Answers to the stack's own pings (fuzz_stack_conv commands, below).
    out.append(("ip4_echo_reply", "ip4", ipv4("192.0.2.2", "192.0.2.1", 1,
                                              icmp4(0, 0, 0x4D500000, b"\0" * 56))))
    out.append(("ip6_echo_reply", "ip6", ipv6(peer, us, 58, icmp6(peer, us, 129, 0,
                                                                  struct.pack("!HH", 0x4D50, 3) +
                                                                  b"\0" * 56))))
    out.append(("ip6_udp_closed", "ip6", ipv6(peer, us, 17, struct.pack("!HHHH", 1, 9, 13, 0) +
                                              b"hello")))
    # A router's special destinations and sources (fuzz_stack_conv's
    # routes): blackhole, unreachable, prohibit; ECMP; broadcasts and
    # multicast; a link-local source forwarded off its link.
    u = lambda port: udp4_payload(1, port, b"r" * 8)
    for k, name in enumerate(("blackhole", "unreachable", "prohibit")):
        out.append(("ip4_to_" + name, "ip4", ipv4("192.0.2.2", "10.0.%d.9" % k, 17, u(9), ttl=9)))
        out.append(("ip6_to_" + name, "ip6", ipv6(peer, "2001:db8:%x::9" % (0xA + k), 17,
                                                  struct.pack("!HHHH", 1, 9, 16, 0) + b"r" * 8)))
    for k in range(4):
        out.append(("ip4_ecmp%d" % k, "ip4", ipv4("192.0.2.2", "198.18.0.%d" % (9 + k), 17,
                                                  u(1000 + k), ttl=9)))
        out.append(("ip6_ecmp%d" % k, "ip6", ipv6(peer, "2001:db8:6::%x" % (9 + k), 17,
                                                  struct.pack("!HHHH", 1, 1000 + k, 16, 0) +
                                                  b"e" * 8)))
    out.append(("ip4_directed_bcast", "ip4", ipv4("192.0.2.2", "198.51.100.255", 17, u(9), ttl=9)))
    out.append(("ip4_limited_bcast", "ip4", ipv4("192.0.2.2", "255.255.255.255", 17, u(9))))
    out.append(("ip4_multicast", "ip4", ipv4("192.0.2.2", "224.0.0.1", 17, u(9), ttl=1)))
    out.append(("ip4_src_multicast", "ip4", ipv4("224.0.0.5", "192.0.2.1", 17, u(9))))
    out.append(("ip6_forward_ll_src", "ip6", ipv6(ll_peer, "2001:db8:5::9", 17,
                                                  struct.pack("!HHHH", 1, 2, 12, 0) + b"ll!!",
                                                  hlim=9)))
    # An echo to the subnet broadcast (RFC 1122 3.2.2.6: may be ignored).
    out.append(("ip4_bcast_echo", "ip4", ipv4("192.0.2.2", "192.0.2.255", 1, echo)))
    # IGMP (RFC 3376 4): queries of each version, reports, a leave, TTL 1
    # and a Router Alert option; a bad checksum and a 10-byte query.
    ra = b"\x94\x04\x00\x00"
    def igmp(typ, code, group, rest=b"", ck=None):
        m = struct.pack("!BBH4s", typ, code, 0, ip4(group)) + rest
        return m[:2] + struct.pack("!H", csum(m) if ck is None else ck) + m[4:]
    g = "233.252.0.1"
    for name, dst, m in [
            ("igmp_q3_general", "224.0.0.1", igmp(0x11, 100, "0.0.0.0", b"\x02\x7d\x00\x00")),
            ("igmp_q3_group_src", g, igmp(0x11, 0x8c, g, b"\x0a\x90\x00\x01" + ip4("192.0.2.9"))),
            ("igmp_q2_general", "224.0.0.1", igmp(0x11, 100, "0.0.0.0")),
            ("igmp_q1_general", "224.0.0.1", igmp(0x11, 0, "0.0.0.0")),
            ("igmp_v2_report", g, igmp(0x16, 0, g)),
            ("igmp_v2_leave", "224.0.0.2", igmp(0x17, 0, g)),
            ("igmp_v3_report", "224.0.0.22",
             igmp(0x22, 0, "0.0.0.1", b"\x04\x00\x00\x00" + ip4(g))),
            ("igmp_bad_csum", "224.0.0.1", igmp(0x11, 100, "0.0.0.0", ck=0x1234)),
            ("igmp_q_len10", "224.0.0.1", igmp(0x11, 100, "0.0.0.0", b"\x02\x7d"))]:
        out.append((name, "ip4", ipv4("192.0.2.2", dst, 2, m, ttl=1, opts=ra)))
    return out


def ip4_faults():
    """IPv4 packets each with one fault, to fuzz_stack_input's stack."""
    echo = ipv4("192.0.2.2", "192.0.2.1", 1, icmp4(8, 0, 0x12340003, b"faults" * 4))
    fix = lambda h: h[:10] + struct.pack("!H", csum(h[:10] + b"\0\0" + h[12:20])) + h[20:]
    out = [bytes([0x55]) + echo[1:],                        # version 5
           bytes([0x44]) + echo[1:],                        # header length 16
           fix(echo[:2] + struct.pack("!H", 12) + echo[4:]),  # total below the header
           fix(echo[:2] + struct.pack("!H", 900) + echo[4:]),  # total beyond the frame
           echo[:10] + b"\x12\x34" + echo[12:],              # checksum
           echo[:15],                                       # shorter than a header
           echo + b"\0" * 20,                               # link padding
           ipv4("192.0.2.2", "192.0.2.1", 99, b"unknown protocol"),
           ipv4("192.0.2.2", "192.0.2.1", 17, struct.pack("!HHHH", 1, 7, 4, 0))]
    big = icmp4(8, 0, 0x12340004, bytes(range(64)) * 4)
    f0 = ipv4("192.0.2.2", "192.0.2.1", 1, big[:128], ident=91, flags_off=0x2000)
    f0b = ipv4("192.0.2.2", "192.0.2.1", 1, b"\xee" * 128, ident=91, flags_off=0x2000)
    f1 = ipv4("192.0.2.2", "192.0.2.1", 1, big[128:], ident=91, flags_off=128 // 8)
    fbad = ipv4("192.0.2.2", "192.0.2.1", 1, big[:100], ident=92, flags_off=0x2000)
    return out + [f0, f0, f0b, f1, fbad]


def ip6_faults():
    """IPv6 packets each with one fault, to fuzz_stack_input's stack."""
    me, peer = "2001:db8::1", "2001:db8::2"
    echo = icmp6(peer, me, 128, 0, struct.pack("!HH", 0x4d50, 1) + b"faults")

    def opts(nh, o):
        body = bytes([nh, 0]) + o
        body += bytes([1, 8 - len(body) % 8 - 2]) + b"\0" * (8 - len(body) % 8 - 2) \
            if len(body) % 8 else b""
        return bytes([body[0], len(body) // 8 - 1]) + body[2:]
    p = ipv6(peer, me, 58, echo)
    return [bytes([0x40]) + p[1:],                          # version 4
            p[:4] + struct.pack("!H", 400) + p[6:],         # payload beyond the frame
            ipv6("ff02::1", me, 58, echo), ipv6("::1", me, 58, echo),
            ipv6("::", me, 58, echo), ipv6(peer, "::1", 58, echo), ipv6(peer, "::", 58, echo),
            p + b"\0" * 12,                                 # link padding
            p[:30],                                         # shorter than a header
            ipv6(peer, me, 0, opts(58, bytes([0x41, 0])) + echo),   # option: discard
            ipv6(peer, me, 0, opts(58, bytes([0x81, 0])) + echo),   # discard, error
            ipv6(peer, me, 0, opts(58, bytes([0xC1, 0])) + echo),   # error if unicast
            ipv6(peer, "ff02::1", 0, opts(58, bytes([0xC1, 0])) + echo),
            ipv6(peer, me, 0, opts(58, bytes([0x01, 9]))[:8] + echo),  # option beyond
            ipv6(peer, me, 0, bytes([58, 3]) + b"\0" * 6 + echo),   # header beyond
            ipv6(peer, me, 0, b"\x3a"),                     # shorter than 8
            ipv6(peer, me, 60, opts(0, b"") + opts(58, b"") + echo),  # hop-by-hop not first
            ipv6(peer, me, 60, b"\x3a\x04"),               # destination options cut
            ipv6(peer, me, 60, opts(58, bytes([0x81, 0])) + echo),  # unknown destination option
            ipv6(peer, me, 99, b"unknown next header....."),
            ipv6(peer, "ff02::1234", 58, echo),             # a group not joined
            ipv6(peer, "ff01::1", 58, echo),                # interface-local
            ipv6(peer, "fe80::99", 58, echo),               # link-local, not ours
            ipv6(peer, "2001:db8:77::1", 58, echo)]         # no route (forwarding)


def frame_of(kind, b, dst=MAC_IN, src=MAC_IN_PEER):
    if kind == "arp":
        return eth(BCAST if b[7] == 1 else dst, src, 0x0806, b)
    if kind == "ip4":
        return eth(dst, src, 0x0800, b)
    d = b[24:40]
    if d[0] == 0xFF:
        dst = b"\x33\x33" + d[12:]
    return eth(dst, src, 0x86DD, b)


def l4_of_ip6(b):
    """The ICMPv6 message of an IPv6 packet (after hop-by-hop/dest options)."""
    nh, off = b[6], 40
    while nh in (0, 60, 43):
        nh, off = b[off], off + (b[off + 1] + 1) * 8
    return (b[off:] if nh == 58 else None), b[8:24], b[24:40]


def rec16(frame):
    return struct.pack("!H", len(frame)) + frame


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def udp_seeds():
    """fuzz_udp: family byte, pseudo-header addresses, IP payload (RFC 768,
    RFC 8200 8.1): good, zero and bad checksums, and each length fault."""
    def dgram(src, dst, sport, dport, data, v6, ck=None, ulen=None):
        n = 8 + len(data)
        u = struct.pack("!HHHH", sport, dport, n if ulen is None else ulen, 0) + data
        if ck is None:
            ph = src + dst + (struct.pack("!IxxxB", n, 17) if v6 else struct.pack("!xBH", 17, n))
            ck = csum(ph + u[:8] + data) or 0xFFFF
        return bytes([int(v6)]) + src + dst + u[:6] + struct.pack("!H", ck) + u[8:]
    a4, b4 = ip4("192.0.2.1"), ip4("192.0.2.2")
    a6, b6 = ip6("2001:db8::1"), ip6("2001:db8::2")
    out = [("v4", dgram(a4, b4, 40000, 7, b"mpnet udp", False)),
           ("v6", dgram(a6, b6, 33133, 9, b"dstopt", True)),
           ("v4_zero_csum", dgram(a4, b4, 40000, 7, b"mpnet udp", False, ck=0)),
           ("v6_zero_csum", dgram(a6, b6, 33133, 9, b"dstopt", True, ck=0)),
           ("v4_bad_csum", dgram(a4, b4, 40000, 7, b"mpnet udp", False, ck=0x1234)),
           ("len_below_8", dgram(a4, b4, 1, 2, b"abcd", False, ulen=7)),
           ("len_beyond", dgram(a6, b6, 1, 2, b"abcd", True, ulen=13)),
           ("len_short", dgram(a4, b4, 1, 2, b"abcd", False, ulen=10)),
           ("truncated", bytes([0]) + a4 + b4 + b"\x00\x01\x00\x02\x00")]
    for name, b in out:
        write("fuzz_udp", name, b)


def tcp_seeds():
    """fuzz_tcp: family byte, pseudo-header addresses, a segment (RFC 9293
    3.1): the option layouts Linux sends (SYN, SYN-ACK, SACK with
    timestamps), IPv6, a bad checksum, each view fault and malformed
    options."""
    def seg(src, dst, v6, flags, opts=b"", data=b"", seq=0x1b66057b, ack=0, ck=None, doff=None):
        hl = 20 + len(opts)
        d = hl // 4 if doff is None else doff
        t = struct.pack("!HHIIBBHHH", 53198, 7, seq, ack, d << 4, flags, 64240, 0, 0) + opts + data
        if ck is None:
            n = len(t)
            ph = src + dst + (struct.pack("!IxxxB", n, 6) if v6 else struct.pack("!xBH", 6, n))
            ck = csum(ph + t)
        return bytes([int(v6)]) + src + dst + t[:16] + struct.pack("!H", ck) + t[18:]
    a4, b4 = ip4("192.0.2.1"), ip4("192.0.2.2")
    a6, b6 = ip6("2001:db8::1"), ip6("2001:db8::2")
    ts = lambda v, e: struct.pack("!II", v, e)
    syn_opts = b"\x02\x04\x05\xb4\x04\x02\x08\x0a" + ts(1000, 0) + b"\x01\x03\x03\x0a"
    sack = b"\x01\x01\x05\x12" + struct.pack("!IIII", 4297, 4309, 4197, 4210)
    out = [("syn", seg(a4, b4, False, 0x02, syn_opts)),
           ("synack", seg(b4, a4, False, 0x12, syn_opts[:12] + ts(2000, 1000) + syn_opts[16:],
                          ack=4097)),
           ("sack_ts", seg(b4, a4, False, 0x10, b"\x01\x01\x08\x0a" + ts(2001, 1001) + sack,
                           ack=4097)),
           ("data_sack", seg(b4, a4, False, 0x19, b"\x01\x01\x08\x0a" + ts(2002, 1001) + sack,
                             data=b"mpnet data", ack=4097)),
           ("syn6", seg(a6, b6, True, 0x02, syn_opts)),
           ("unknown_opt", seg(a4, b4, False, 0x10, b"\x1e\x06abcd\x02\x04\x05\xb4")),
           ("eol", seg(a4, b4, False, 0x10, b"\x02\x04\x05\xb4\x00\x02\x00\x00")),
           ("bad_csum", seg(a4, b4, False, 0x02, syn_opts, ck=0x1234)),
           ("opt_len_zero", seg(a4, b4, False, 0x02, b"\x1e\x00\x01\x01")),
           ("opt_past_end", seg(a4, b4, False, 0x02, b"\x01\x01\x02\x08")),
           ("mss_len_3", seg(a4, b4, False, 0x02, b"\x02\x03\x05\x01")),
           ("sack_half", seg(a4, b4, False, 0x10, b"\x05\x06\x00\x00\x00\x01\x01\x01")),
           ("doff_4", seg(a4, b4, False, 0x02, doff=4)),
           ("doff_beyond", seg(a4, b4, False, 0x02, syn_opts, doff=15)),
           ("truncated", bytes([0]) + a4 + b4 + b"\xcf\xce\x00\x07\x00")]
    for name, b in out:
        write("fuzz_tcp", name, b)


def tcp_conn_seeds():
    """fuzz_tcp_conn: a mode byte, then records of target, flags, seq,
    ack, window, options, data and a time step (tests/fuzz/fuzz_tcp_conn.c).
    Each seed twice: on the stack marked with the connection established
    (seed-NAME), and on the fresh stack, whose inputs make the handshake
    and close the connection (seed-fresh-NAME: the mode byte's bits 3-4
    set, ECN mode 0)."""
    FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16

    def write(target, name, data):
        globals()["write"](target, name, data)
        globals()["write"](target, "fresh-" + name, bytes([data[0] | 0x18]) + data[1:])

    def rec(what, flags, seq=0, ack=0, win=65535, opts=b"", data=b"", step=0, off=0):
        return (struct.pack("!BBIIHB", what | off << 2, flags, seq & 0xffffffff,
                            ack & 0xffffffff, win, len(opts)) + opts +
                bytes([len(data)]) + data + bytes([step]))

    mss = bytes([2, 4, 5, 0xb4])
    ts = lambda v, e=0: bytes([1, 1, 8, 10]) + struct.pack("!II", v, e)
    allo = mss + bytes([1, 3, 3, 7, 4, 2]) + ts(100)
    write("fuzz_tcp_conn", "established", bytes([0]) + rec(0, ACK | PSH, data=b"hello") +
          rec(0, RST, seq=5) + rec(0, SYN, seq=3) + rec(0, ACK, ack=7) + rec(0, RST))
    write("fuzz_tcp_conn", "cookie_always", bytes([2]) + rec(1, SYN, seq=500, opts=allo) +
          rec(1, ACK, seq=501, opts=ts(101, 0)) + rec(1, SYN, seq=9, off=1) +
          rec(1, ACK, seq=10, ack=1, off=1))
    write("fuzz_tcp_conn", "synq_overflow", bytes([0]) + b"".join(
        rec(1, SYN, seq=100 * k, off=k, opts=mss) for k in range(5)) +
        rec(1, ACK, seq=401, off=4) + rec(1, ACK, seq=1, off=0, step=200))
    write("fuzz_tcp_conn", "simopen", bytes([4]) + rec(3, 0) + rec(2, SYN, seq=77, opts=allo) +
          rec(2, SYN | ACK, seq=77, opts=ts(5)) + rec(0, ACK))
    write("fuzz_tcp_conn", "active", bytes([1]) + rec(3, 0, off=1) +
          rec(2, SYN | ACK, seq=9, off=1, opts=mss) + rec(2, RST, seq=10, off=1) +
          rec(3, 0, off=2) + rec(2, RST | ACK, off=2) + rec(3, 0, step=255))
    write("fuzz_tcp_conn", "rst_flood", bytes([4]) + rec(1, SYN, seq=1, opts=mss) + b"".join(
        rec(1, ACK, seq=k, ack=k * 7919, off=k % 64) for k in range(40)))


def udp_sock_seeds():
    """fuzz_udp_sock: frames to fuzz_stack_input's stack with sockets on
    7 (IPv4), 53 (dual stack), 1000 (connected to 192.0.2.2:9), 5353
    (IPv6 only, one in ff02::fb) and 67 (broadcast): datagrams for each,
    and each malformed shape (RFC 768, RFC 8200 8.1)."""
    def udp(src, dst, sport, dport, data, v6, ck=None, ulen=None):
        n = 8 + len(data)
        u = struct.pack("!HHHH", sport, dport, n if ulen is None else ulen, 0) + data
        if ck is None:
            s, d = (ip6(src), ip6(dst)) if v6 else (ip4(src), ip4(dst))
            ph = s + d + (struct.pack("!IxxxB", n, 17) if v6 else struct.pack("!xBH", 17, n))
            ck = csum(ph + u) or 0xFFFF
        return u[:6] + struct.pack("!H", ck) + u[8:]

    def v4(dport, data=b"hello mpnet", sport=40000, dst="192.0.2.1", dmac=MAC_IN, **kw):
        return rec16(eth(dmac, MAC_IN_PEER, 0x0800,
                         ipv4("192.0.2.2", dst, 17, udp("192.0.2.2", dst, sport, dport, data,
                                                        False, **kw))))

    def v6(dport, data=b"hello mpnet", dst="2001:db8::1", dmac=MAC_IN, **kw):
        return rec16(eth(dmac, MAC_IN_PEER, 0x86DD,
                         ipv6("2001:db8::2", dst, 17,
                              udp("2001:db8::2", dst, 40001, dport, data, True, **kw))))
    big = bytes(range(256)) * 8  # 2048 bytes: two fragments
    whole = ipv4("192.0.2.2", "192.0.2.1", 17, udp("192.0.2.2", "192.0.2.1", 40000, 7, big, False),
                 ident=77)
    pay = whole[20:]
    fr0 = ipv4("192.0.2.2", "192.0.2.1", 17, pay[:1480], ident=77, flags_off=0x2000)
    fr1 = ipv4("192.0.2.2", "192.0.2.1", 17, pay[1480:], ident=77, flags_off=1480 // 8)
    seeds = [("v4_echo", v4(7)), ("v6_dual", v6(53)), ("v4_mapped", v4(53)),
             ("connected", v4(1000, sport=9) + v4(1000, sport=10)),
             ("mdns6", v6(5353, dst="ff02::fb", dmac=mcast_mac("ff02::fb"))),
             ("bcast", v4(67, dst="192.0.2.255", dmac=BCAST) +
              v4(68, dst="255.255.255.255", dmac=BCAST)),
             ("closed", v4(9999) + v6(9999)),
             ("frag", rec16(eth(MAC_IN, MAC_IN_PEER, 0x0800, fr0)) +
              rec16(eth(MAC_IN, MAC_IN_PEER, 0x0800, fr1))),
             ("bad_csum", v4(7, ck=0x1234) + v6(53, ck=0x1234)),
             ("zero_csum", v4(7, ck=0) + v6(53, ck=0)),
             ("len_below_8", v4(7, ulen=7)), ("len_beyond", v6(53, ulen=200)),
             ("len_short", v4(7, ulen=10)),
             ("short", rec16(eth(MAC_IN, MAC_IN_PEER, 0x0800,
                                 ipv4("192.0.2.2", "192.0.2.1", 17, b"\x01\x02\x03"))))]

    # ICMP errors quoting UDP (l4/udp.c udp_err, l4/sock_err.c): about the
    # connected socket's datagram 192.0.2.1:1000 -> 192.0.2.2:9, the dual
    # stack one's [2001:db8::1]:53 -> [2001:db8::2]:40001, a port nothing
    # holds, and quotes cut short.
    def err4(typ, code, rest, sport=1000, dport=9, cut=None, src="192.0.2.2"):
        q = ipv4("192.0.2.1", "192.0.2.2", 17, udp4_payload(sport, dport, b"quoted data"))
        q = q if cut is None else q[:cut]
        return rec16(eth(MAC_IN, MAC_IN_PEER, 0x0800,
                         ipv4(src, "192.0.2.1", 1, icmp4(typ, code, rest, q))))

    def err6(typ, code, rest, sport=53, dport=40001, cut=None):
        u = struct.pack("!HHHH", sport, dport, 8 + 6, 0x1234) + b"quoted"
        q = ipv6("2001:db8::1", "2001:db8::2", 17, u)
        q = q if cut is None else q[:cut]
        return rec16(eth(MAC_IN, MAC_IN_PEER, 0x86DD,
                         ipv6("2001:db8::2", "2001:db8::1", 58,
                              icmp6("2001:db8::2", "2001:db8::1", typ, code,
                                    struct.pack("!I", rest) + q))))
    seeds += [("err4_port_unreach", err4(3, 3, 0) + v4(1000, sport=9)),
              ("err4_frag_needed", err4(3, 4, 1280)),
              ("err4_frag_needed_old", err4(3, 4, 0)),
              ("err4_time_exceeded", err4(11, 0, 0, src="198.18.0.9")),
              ("err4_param", err4(12, 0, 20 << 24)),
              ("err4_nosock", err4(3, 3, 0, sport=4444)),
              ("err4_other_peer", err4(3, 3, 0, dport=10)),
              ("err4_short", err4(3, 3, 0, cut=24)),
              ("err6_port_unreach", err6(1, 4, 0)),
              ("err6_too_big", err6(2, 0, 1280)),
              ("err6_time_exceeded", err6(3, 0, 0)),
              ("err6_short", err6(1, 4, 0, cut=44)),
              ("err6_nosock", err6(1, 4, 0, sport=4444))]
    # Answers that pick their output (fuzz_udp_sock.c answer(): 0xfa, a
    # mode byte, TTL, TOS, a destination): own addresses (loopback), the
    # special routes, no route, broadcasts and multicast, each path MTU
    # discovery mode with 3,000 bytes, control messages naming the
    # interface, the connected socket's peer, IPV6_DONTFRAG.
    def ans(mode, ttl=0, tos=0, dst=b""):
        return bytes([0xFA, mode, ttl, tos]) + dst
    seeds += [("answer4_dst", b"".join(v4(7, ans(0x10, dst=ip4(a))) for a in (
                   "192.0.2.1", "198.18.0.1", "10.0.0.1", "10.0.1.1", "10.0.2.1", "8.8.8.8",
                   "192.0.2.255", "255.255.255.255", "233.252.0.1", "198.18.7.7")) +
               v4(67, ans(0x10, dst=ip4("255.255.255.255"))) +
               v4(67, ans(0x18, 3, 0x10, dst=ip4("255.255.255.255"))) +
               v4(7, ans(0x18, 1, 0xB8, dst=ip4("8.8.8.8"))) +
               v4(7, ans(0x18, 0, 0, dst=ip4("233.252.0.1")))),
              ("answer4_pmtu", b"".join(v4(7, ans(0x20 | k)) for k in range(7)) +
               b"".join(v4(7, ans(0x28 | k, 9, 4)) for k in range(7)) +
               v4(7, ans(0x32, dst=ip4("192.0.2.1")))),
              ("answer6_dst", b"".join(v6(53, ans(0x10, dst=ip6(a))) for a in (
                   "2001:db8::1", "2001:db8:a::1", "2001:db8:b::1", "2001:db8:c::1",
                   "2001:db8:5::1", "2001:db8:99::1", "ff02::1", "ff02::fb", "::ffff:c000:202",
                   "::ffff:a00:101", "fe80::2")) +
               v6(53, ans(0x18, 7, 0x20, dst=ip6("ff02::1"))) +
               v6(5353, ans(0x18, 255, 0, dst=ip6("2001:db8:99::1")))),
              ("answer6_pmtu", b"".join(v6(53, ans(0x20 | k)) for k in range(7)) +
               b"".join(v6(53, ans(0x60 | k)) for k in range(7)) +
               b"".join(v6(53, ans(0x28 | k, 2, 0xFC)) for k in range(7))),
              ("answer_connected", v4(1000, ans(0x80), sport=9) + v4(1000, ans(0xA2), sport=9) +
               v4(7, ans(0x80)) + v6(53, ans(0x80)))]
    for name, b in seeds:
        write("fuzz_udp_sock", name, b)


def main():
    for t in os.listdir(os.path.join(HERE, "corpus")) if os.path.isdir(os.path.join(HERE, "corpus")) else []:
        for f in os.listdir(os.path.join(HERE, "corpus", t)):
            if f.startswith("seed-"):
                os.remove(os.path.join(HERE, "corpus", t, f))
    udp_sock_seeds()
    m = msgs()
    by = dict((n, (k, b)) for n, k, b in m)
    for name, kind, b in m:
        fr = frame_of(kind, b)
        write("fuzz_eth", name, fr)
        write("fuzz_stack_input", name, rec16(fr))
        if kind == "arp":
            write("fuzz_arp", name, b)
        elif kind == "ip4":
            write("fuzz_ip4", name, b)
            if b[9] == 1:
                write("fuzz_icmp4", name, b[(b[0] & 15) * 4:])
            if b[9] == 2:
                write("fuzz_igmp", name, b[(b[0] & 15) * 4:])
        else:
            write("fuzz_ip6", name, b)
            l4, src, dst = l4_of_ip6(b)
            if l4 is not None and b[6] != 44:
                write("fuzz_icmp6_nd", name, src + dst + l4)
                if l4[0] in (130, 143):
                    write("fuzz_mld", name, l4)
    # Reassembly: fragments in order, out of order, duplicated, overlapping,
    # and left to time out (time steps squared in ms: 200 -> 40 s).
    f0, f1 = by["ip4_frag0"][1], by["ip4_frag1"][1]
    r = lambda dt, p: struct.pack("!BH", dt, len(p)) + p
    write("fuzz_reass4", "in_order", r(0, f0) + r(1, f1))
    write("fuzz_reass4", "reversed", r(0, f1) + r(1, f0))
    write("fuzz_reass4", "duplicate", r(0, f0) + r(0, f0) + r(1, f1))
    ov = bytearray(f1)
    struct.pack_into("!H", ov, 6, 248 // 8)
    write("fuzz_reass4", "overlap", r(0, f0) + r(0, bytes(ov)) + r(1, f1))
    write("fuzz_reass4", "timeout", r(0, f0) + r(200, f1))
    write("fuzz_reass4", "not_fragment", r(0, by["ip4_echo"][1]))
    udp_seeds()
    tcp_seeds()
    tcp_conn_seeds()
    # The stack, one frame after another (700 ms apart): a whole exchange.
    seq = lambda *names: b"".join(rec16(frame_of(*by[n])) for n in names)
    write("fuzz_stack_input", "v4_all", seq("arp_request", "ip4_echo", "ip4_frag0", "ip4_frag1",
                                            "ip4_forward", "icmp4_redirect"))
    write("fuzz_stack_input", "igmp_all", seq("igmp_q3_general", "igmp_q3_group_src",
                                              "igmp_q2_general", "igmp_v2_report",
                                              "igmp_q1_general", "igmp_bad_csum"))
    write("fuzz_stack_input", "v6_all", seq("ip6_ns", "ip6_echo", "ip6_ra", "ip6_mld_query",
                                            "ip6_frag0", "ip6_frag1", "ip6_forward"))
    # Each drop of IPv4 and IPv6 input (RFC 791 3.1, RFC 1122 3.2.1, RFC
    # 8200 4, RFC 4291 2.5/2.7): one frame each, to the stack's own
    # addresses unless the fault is the address.
    write("fuzz_stack_input", "ip4_faults", b"".join(rec16(eth(MAC_IN, MAC_IN_PEER, 0x0800, b))
                                                      for b in ip4_faults()))
    write("fuzz_stack_input", "ip6_faults", b"".join(rec16(frame_of("ip6", b))
                                                      for b in ip6_faults()))
    # fuzz_udp_sock's IPv4 socket is in 233.252.0.1: queries of each
    # version for it, another host's report and leave (RFC 3376 7).
    write("fuzz_udp_sock", "igmp_group", seq("igmp_q3_general", "igmp_q3_group_src",
                                             "igmp_v2_report", "igmp_q2_general",
                                             "igmp_v2_leave", "igmp_q1_general",
                                             "igmp_v3_report", "igmp_q3_general"))
    # The conversation target: mode byte, then (time step, interface, frame).
    # Mode bit 2 (SETTLED): DAD of the configured addresses is over when the
    # input starts (stack_env.h FZ_CONV_SETTLE), which saves an input a
    # third of its time in the stack; the seeds about DAD itself, a host's
    # and a router's first seconds, go without it.
    SETTLED = 4
    def conv(mode, steps):
        out = bytes([mode])
        for dt, ifc, n in steps:
            if isinstance(n, bytes):  # a command (stack_env.h, fz_command)
                out += struct.pack("!BBH", dt, ifc | 2, len(n)) + n
                continue
            k, b = by[n]
            # RFC 1812 5.3.4: a unicast packet in a link-layer broadcast.
            dst = BCAST if n in ("ip4_bcast_unicast", "ip4_bcast_echo") else MAC_C[ifc]
            fr = frame_of(k, b, dst=dst, src=MAC_C_PEER[ifc])
            out += struct.pack("!BBH", dt, ifc, len(fr)) + fr
        return out
    host = [(0, 0, "arp_request"), (10, 0, "ip4_echo"), (0, 0, "ip4_frag0"), (5, 0, "ip4_frag1"),
            (40, 0, "ip6_ns"), (40, 0, "ip6_ra"), (50, 0, "ip6_mld_query"), (30, 0, "ip6_echo"),
            (0, 0, "ip6_frag0"), (200, 0, "ip6_frag1"), (0, 0, "ip6_redirect")]
    router = [(0, 0, "ip4_forward"), (30, 1, "arp_reply_gw"), (0, 0, "ip4_forward"),
              (0, 0, "ip4_ttl1"), (0, 0, "ip4_forward_df"), (0, 0, "ip4_unroutable"),
              (0, 0, "ip4_opts_lsrr"), (0, 0, "icmp4_redirect"), (0, 0, "ip4_bcast_unicast"),
              (40, 0, "ip6_forward"), (0, 1, "ip6_na_gw"), (0, 0, "ip6_forward"), (0, 1, "ip6_rs"),
              (250, 0, "ip6_echo"), (250, 1, "ip6_mld_report"), (250, 0, "ip4_forward")]
    write("fuzz_stack_conv", "host", conv(0, host))
    write("fuzz_stack_conv", "host_stable_iid", conv(2, host))
    write("fuzz_stack_conv", "router", conv(1, router))
    write("fuzz_stack_conv", "dad_conflict", conv(0, [(0, 0, "ip6_ns_dad"), (0, 0, "arp_announce"),
                                                      (100, 0, "ip6_echo")]))
    write("fuzz_stack_conv", "idle_timers", conv(1, [(255, 0, "arp_request")] * 8))
    # The stack moves when polled, once before and once after each record:
    # DAD (a probe within 1 s, the address 1 s after the probe) is over by
    # the third record when the first two wait 1.6 s each.
    # Reassembly: datagrams bigger than the link (replies fragmented), an
    # overlap, timeouts (IPv4 30 s, IPv6 60 s: time exceeded).
    write("fuzz_stack_conv", "reass", conv(SETTLED, [
        (40, 0, "arp_request"), (40, 0, "ip6_ns"), (0, 0, "ip4_bigfrag1"), (1, 0, "ip4_bigfrag0"),
        (0, 0, "ip6_bigfrag0"), (1, 0, "ip6_bigfrag1"), (0, 0, "ip6_frag_first"),
        (0, 0, "ip6_frag_overlap"), (0, 0, "ip4_frag0"), (200, 0, "ip6_frag0"),
        (250, 0, "ip4_echo")]))
    # A host: RA, a redirect it takes, traffic that follows it; ICMP errors
    # about what it sent; a broadcast echo.
    write("fuzz_stack_conv", "host_errors", conv(SETTLED, [
        (40, 0, "arp_request"), (40, 0, "ip6_ns"), (0, 0, "ip6_ra"), (0, 0, "ip6_redirect_ok"), (10, 0, "ip6_echo_far"),
        (0, 0, "icmp4_unreach_echo"), (0, 0, "icmp4_time_exceeded"), (0, 0, "icmp4_frag_needed"),
        (0, 0, "icmp6_unreach_echo"), (0, 0, "icmp6_ptb"), (0, 0, "icmp6_time_exceeded"),
        (0, 0, "icmp6_param_problem"), (0, 0, "ip4_bcast_echo"), (0, 0, "ip4_opts_rr"),
        (250, 0, "ip6_echo_far")]))
    # A router: redirects for traffic back out of its link, forwarding onto
    # the smaller link 2, the hold queue overflowing while ARP and ND go
    # unanswered (then resolution fails: host unreachable for each).
    write("fuzz_stack_conv", "router_redirects", conv(1 | SETTLED, [
        (40, 0, "arp_request"), (40, 0, "ip6_ns"), (0, 0, "ip4_same_link"), (0, 0, "ip6_same_link"),
        (30, 1, "arp_reply_gw"), (0, 1, "ip6_na_gw"), (0, 0, "ip4_forward_big"),
        (0, 0, "ip4_forward_df"), (0, 0, "ip6_forward_big"), (0, 0, "ip4_same_link")]))
    write("fuzz_stack_conv", "ra_life", conv(SETTLED, [
        (40, 0, "arp_request"), (40, 0, "ip6_ns"), (0, 0, "ip6_ra_new"), (30, 0, "ip6_echo"),
        (0, 0, "ip6_ra_renew")] + [(0, 0, "ip6_ra_router%d" % k) for k in range(4, 10)] +
        [(60, 0, "ip6_echo"), (60, 0, "ip6_ra_withdraw"), (90, 0, "ip6_echo"), (90, 0, "ip6_echo"),
         (255, 0, "ip6_echo"), (255, 0, "ip6_echo")]))
    # The stack's own pings: to a neighbour learnt unasked (STALE, then
    # DELAY, PROBE), bigger than the link (fragmented), too big with DF,
    # through a gateway that never answers, link-local; the replies.
    ping4 = lambda n, dst="192.0.2.2", df=0: bytes([df << 1]) + struct.pack("!H", n) + ip4(dst)
    ping6 = lambda n, dst="2001:db8::2": bytes([1]) + struct.pack("!H", n) + ip6(dst)
    write("fuzz_stack_conv", "pings", conv(SETTLED, [
        (40, 0, "arp_request"), (40, 0, "ip6_ns"), (0, 0, ping4(56)), (0, 0, "ip4_echo_reply"),
        (0, 0, ping4(3000)), (0, 0, ping4(3000, df=1)), (0, 0, ping4(56, "203.0.113.9")),
        (0, 0, ping6(56)), (0, 0, "ip6_na"), (0, 0, "ip6_echo_reply"), (0, 0, ping6(3000)),
        (0, 0, ping6(56, "fe80::2")), (0, 0, ping6(56, "2001:db8:5::9")), (80, 0, ping4(56)),
        (80, 0, ping6(56)), (100, 0, ping4(56)), (255, 0, "ip4_echo")]))
    # Errors past the rate limit (RFC 1812 4.3.2.8, RFC 4443 2.4(f)).
    write("fuzz_stack_conv", "error_flood", conv(SETTLED, [(40, 0, "arp_request"), (40, 0, "ip6_ns")] +
                                                [(0, 0, "ip4_udp_closed")] * 60 +
                                                [(0, 0, "ip6_udp_closed")] * 60))
    # A router's special routes, ECMP, broadcasts; bursts of frames (the
    # nodes' vector paths).
    burst = lambda n, name, ifc=0: bytes([4, n - 1]) + frame_of(*by[name], dst=MAC_C[ifc],
                                                                 src=MAC_C_PEER[ifc])
    special = ["ip4_to_blackhole", "ip4_to_unreachable", "ip4_to_prohibit", "ip6_to_blackhole",
               "ip6_to_unreachable", "ip6_to_prohibit", "ip4_directed_bcast", "ip4_limited_bcast",
               "ip4_multicast", "ip4_src_multicast", "ip6_forward_ll_src"]
    write("fuzz_stack_conv", "router_special", conv(1 | SETTLED, [
        (40, 0, "arp_request"), (40, 0, "ip6_ns"), (0, 1, "arp_reply_gw"), (0, 1, "ip6_na_gw")] +
        [(0, 0, n) for n in special] + [(0, 0, "ip4_ecmp%d" % k) for k in range(4)] +
        [(0, 0, "ip6_ecmp%d" % k) for k in range(4)] +
        [(0, 0, burst(16, "ip4_forward")), (0, 0, burst(16, "ip6_forward")),
         (0, 0, burst(16, "ip4_echo")), (0, 0, burst(16, "ip6_echo")),
         (0, 0, burst(12, "ip4_ecmp1")), (0, 0, burst(12, "ip6_ecmp2")), (90, 0, "ip4_forward")]))
    # Mode bit 3 (LIMITS, stack_env.h FZ_CONV_LIMITS): bursts of 2 for
    # learning and resolution, 2 packets held per neighbour, 4 ICMP errors.
    # At one instant: ARP requests and solicitations from new senders past
    # the learning burst, traffic to new next hops on link 2 past the
    # resolution burst, a hold queue past 2, errors past 4.
    LIMITS = 8
    raw = lambda dt, ifc, fr: struct.pack("!BBH", dt, ifc, len(fr)) + fr
    mac_k = lambda k: bytes([2, 0, 0, 0, 0x10, k])
    learn4 = [raw(0, 0, eth(BCAST, mac_k(k), 0x0806,
                            arp(1, mac_k(k), "192.0.2.%d" % (10 + k), b"\0" * 6, "192.0.2.1")))
              for k in range(4)]
    us6 = "2001:db8::1"

    def ns_from(k):
        src = "2001:db8::%x" % (0x10 + k)
        m = icmp6(src, solicited(us6), 135, 0, b"\0" * 4 + ip6(us6) + nd_opt(1, mac_k(k)))
        return raw(0, 0, eth(b"\x33\x33\xff" + ip6(us6)[13:], mac_k(k), 0x86DD,
                             ipv6(src, solicited(us6), 58, m, hlim=255)))
    fwd4 = lambda dst: raw(0, 0, eth(MAC_C[0], MAC_C_PEER[0], 0x0800,
                                     ipv4("192.0.2.2", dst, 17, udp4_payload(1, 2, b"lim"), ttl=9)))
    fwd6 = lambda dst: raw(0, 0, eth(MAC_C[0], MAC_C_PEER[0], 0x86DD,
                                     ipv6("2001:db8::2", dst, 17,
                                          struct.pack("!HHHH", 1, 2, 11, 0) + b"lim", hlim=9)))
    pre = conv(1 | SETTLED | LIMITS, [(40, 0, "arp_request"), (40, 0, "ip6_ns")])
    write("fuzz_stack_conv", "limits", pre + b"".join(learn4) +
          b"".join(ns_from(k) for k in range(4)) +
          b"".join(fwd4("198.51.100.%d" % (10 + k)) for k in range(4)) +
          b"".join(fwd6("2001:db8:1::%x" % (0x10 + k)) for k in range(4)) +
          fwd4("198.51.100.30") * 4 + fwd6("2001:db8:1::30") * 4 +
          raw(0, 0, frame_of(*by["ip4_udp_closed"], dst=MAC_C[0], src=MAC_C_PEER[0])) * 6 +
          raw(0, 0, frame_of(*by["ip6_udp_closed"], dst=MAC_C[0], src=MAC_C_PEER[0])) * 6 +
          raw(250, 0, frame_of(*by["ip4_echo"], dst=MAC_C[0], src=MAC_C_PEER[0])))
    # A router fragmenting onto link 2 (MTU 1280) what carries options
    # (RFC 791 3.1: the copied ones, router alert, go into every fragment;
    # record route only into the first), a fragment to fragment again, a
    # header with a malformed option, DF with options (too big).
    opts = bytes([0x94, 4, 0, 0, 1, 7, 7, 4]) + b"\0" * 4 + bytes([0, 0, 0, 0])
    bad_opts = bytes([0x94, 9, 0, 0])
    to_gw = lambda b, ifc=0: raw(0, ifc, eth(MAC_C[ifc], MAC_C_PEER[ifc], 0x0800, b))
    u1400 = udp4_payload(1, 2, bytes(range(200)) * 7)
    write("fuzz_stack_conv", "router_frag_opts", conv(1 | SETTLED, [
        (40, 0, "arp_request"), (0, 1, "arp_reply_gw")]) +
        to_gw(ipv4("192.0.2.2", "203.0.113.9", 17, u1400, ttl=9, opts=opts)) +
        to_gw(ipv4("192.0.2.2", "203.0.113.9", 17, u1400, ttl=9, opts=bad_opts)) +
        to_gw(ipv4("192.0.2.2", "203.0.113.9", 17, u1400[:1304], ttl=9, opts=opts,
                   ident=5, flags_off=0x2000)) +
        to_gw(ipv4("192.0.2.2", "203.0.113.9", 17, u1400, ttl=9, opts=opts, flags_off=0x4000)) +
        to_gw(ipv4("198.51.100.2", "192.0.2.2", 17, u1400, ttl=9, opts=opts), 1))
    # Neighbour discovery's checks and updates (RFC 4861 7.1, 7.2.5, 8.1):
    # a host resolving the peer, then advertisements that keep, stale,
    # override and un-router the entry, each invalid shape of NA, NS and
    # redirect, and redirects taken and replaced.
    peer6, ll6 = "2001:db8::2", "fe80::2"
    mac_a, mac_b = bytes([2, 0, 0, 0, 0x20, 1]), bytes([2, 0, 0, 0, 0x20, 2])

    def nd6(src, dst, typ, body, hlim=255, code=0, dmac=None):
        m = icmp6(src, dst, typ, code, body)
        d = ip6(dst)
        dm = dmac or (b"\x33\x33" + d[12:] if d[0] == 0xFF else MAC_C[0])
        return raw(0, 0, eth(dm, MAC_C_PEER[0], 0x86DD, ipv6(src, dst, 58, m, hlim=hlim)))
    na = lambda flags, mac, tgt=peer6, **kw: nd6(
        peer6, kw.pop("dst", us6), 136,
        struct.pack("!I", flags) + ip6(tgt) + (nd_opt(2, mac) if mac else b""), **kw)
    ns = lambda src, tgt, opt=b"", **kw: nd6(src, kw.pop("dst", solicited(tgt)), 135,
                                             b"\0" * 4 + ip6(tgt) + opt, **kw)
    rd = lambda src, tgt, dst: nd6(src, us6, 137, b"\0" * 4 + ip6(tgt) + ip6(dst) +
                                   nd_opt(2, mac_a))
    S, O, R = 0x40000000, 0x20000000, 0x80000000
    write("fuzz_stack_conv", "nd_checks", conv(SETTLED, [
        (40, 0, "arp_request"), (40, 0, "ip6_ns"), (0, 0, ping6(56))]) +
        na(S | O, mac_a) + na(R | S, mac_b) + na(O, mac_b) + na(R | O, mac_b) + na(O, mac_b) +
        na(S, mac_a) + na(0, None) + na(S | O, mac_a, hlim=64) + na(S | O, mac_a, code=1) +
        na(S | O, mac_a, tgt="ff02::1") + na(S | O, mac_a, dst="ff02::1") +
        na(O, b"") + nd6(peer6, us6, 136, b"\0" * 8) +
        na(S | O, mac_a, tgt="2001:db8::1") +
        ns(peer6, us6, nd_opt(1, mac_a), hlim=64) + ns(peer6, "ff02::1", dst=us6) +
        ns("::", us6, nd_opt(1, mac_a)) + ns("::", us6, dst=us6) + ns(peer6, us6, b"\x01\x00" + b"\0" * 6) +
        ns(peer6, "2001:db8:99::1") +
        rd(peer6, "fe80::3", "2001:db8:9::9") + rd(ll6, "fe80::3", "ff02::1") +
        rd(ll6, "2001:db8:9::8", "2001:db8:9::9") + rd(ll6, "2001:db8:9::9", "2001:db8:9::9") +
        b"".join(rd(ll6, "fe80::3", "2001:db8:9::%x" % k) for k in range(1, 40)) +
        raw(250, 0, frame_of(*by["ip6_echo"], dst=MAC_C[0], src=MAC_C_PEER[0])))
    write("fuzz_stack_conv", "router_queue", conv(1, [(0, 0, "ip4_forward")] * 20 +
                                                 [(0, 0, "ip6_forward")] * 20 + [(80, 0, "ip4_forward")] * 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
