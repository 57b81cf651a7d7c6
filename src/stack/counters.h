/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The counters of the stack's core and its compiled-in protocols: ids from
 * 0 (STK_*), what STK_INC and STK_ADD bump. Modules outside the core add
 * their own after these (graph.h). Users find them by name
 * (mpnet_stack_counter_find()). X(name, description); a description that
 * starts "drop:" names a reason a packet was dropped.
 */
#ifndef MPNET_STACK_COUNTERS_H
#define MPNET_STACK_COUNTERS_H

#define STACK_COUNTERS(X)                                                                          \
        X(rx_frames, "frames received")                                                            \
        X(link_down, "links that lost their device or carrier")                                    \
        X(link_up, "links that got it back")                                                       \
        X(link_revived, "links opened again by the stack after their device came back")            \
        X(tx_no_iface, "drop: queued for an interface that was detached")                          \
        X(tx_frames, "frames transmitted")                                                         \
        X(eth_truncated, "drop: frame shorter than an Ethernet header")                            \
        X(eth_not_for_us, "drop: destination MAC is not ours")                                     \
        X(eth_unknown_type, "drop: unknown ethertype")                                             \
        X(eth_own_src, "drop: our own source MAC looped back")                                     \
        X(arp_rx, "ARP packets received")                                                          \
        X(arp_truncated, "drop: ARP packet too short")                                             \
        X(arp_unsupported, "drop: ARP for other hardware or protocol types")                       \
        X(arp_bad_op, "drop: ARP operation neither request nor reply")                             \
        X(arp_bad_sender, "drop: ARP sender is broadcast, multicast or ours")                      \
        X(arp_not_for_us, "ARP request for an address that is not ours")                           \
        X(arp_conflict, "ARP from another host claiming our address")                              \
        X(arp_req_tx, "ARP requests sent")                                                         \
        X(arp_reply_tx, "ARP replies sent")                                                        \
        X(arp_queue_drop, "drop: resolution queue full (oldest dropped)")                          \
        X(arp_resolve_failed, "drop: neighbour did not answer")                                    \
        X(arp_table_full, "drop: neighbour table full")                                            \
        X(arp_flushed, "drop: held for resolution when the entry went (carrier lost, detach)")     \
        X(arp_evicted, "never-confirmed neighbour entries deleted for a new one (table full)")     \
        X(arp_learn_limited, "drop: ARP from an unknown sender over the learning rate")            \
        X(arp_resolve_limited, "drop: to a new next hop over the resolution rate")                 \
        X(neigh_held_full, "drop: the stack's packets held for resolution at their cap")           \
        X(ip4_rx, "IPv4 packets received")                                                         \
        X(ip4_truncated, "drop: IPv4 packet shorter than its header")                              \
        X(ip4_bad_version, "drop: IP version is not 4")                                            \
        X(ip4_bad_hlen, "drop: IPv4 header length below 20 or past the packet")                    \
        X(ip4_bad_len, "drop: IPv4 total length inconsistent with the frame")                      \
        X(ip4_bad_csum, "drop: IPv4 header checksum")                                              \
        X(ip4_bad_src, "drop: martian source address")                                             \
        X(ip4_not_for_us, "drop: destination not ours (forwarding is off)")                        \
        X(ip4_frag_rx, "IPv4 fragments received for us")                                           \
        X(ip4_reassembled, "IPv4 datagrams reassembled")                                           \
        X(ip4_reass_bad, "drop: malformed fragment")                                               \
        X(ip4_reass_overlap, "drop: overlapping or conflicting fragments (whole datagram)")        \
        X(ip4_reass_cap, "drop: reassembly memory or fragment caps")                               \
        X(ip4_reass_dup, "drop: duplicate fragment")                                               \
        X(ip4_reass_timeout, "drop: reassembly timed out")                                         \
        X(ip4_fragmented, "IPv4 fragments sent")                                                   \
        X(ip4_unknown_proto, "drop: no handler for the IP protocol")                               \
        X(ip4_no_route, "drop: no route to the destination")                                       \
        X(ip4_multicast, "drop: multicast destination (no groups joined)")                         \
        X(ip4_directed_bcast, "drop: directed broadcast to another network")                       \
        X(ip4_l2_bcast, "drop: unicast packet in a link-layer broadcast, not forwarded")           \
        X(ip4_redirect_tx,                                                                         \
          "ICMP redirects asked for (RFC 1812 5.2.7.2; sent within the rate limit)")               \
        X(ip4_blackhole, "drop: blackhole route")                                                  \
        X(ip4_unreachable, "drop: unreachable or prohibit route")                                  \
        X(ip4_ttl_exceeded, "drop: TTL expired in transit")                                        \
        X(ip4_frag_needed, "drop: too big for the next hop and DF set")                            \
        X(ip4_iface_down, "drop: output interface down")                                           \
        X(ip4_forwarded, "IPv4 packets forwarded")                                                 \
        X(ip4_tx, "IPv4 packets sent")                                                             \
        X(icmp4_rx, "ICMP messages received")                                                      \
        X(icmp4_truncated, "drop: ICMP message too short")                                         \
        X(icmp4_bad_csum, "drop: ICMP checksum")                                                   \
        X(icmp4_echo_req, "ICMP echo requests answered")                                           \
        X(icmp4_echo_reply, "ICMP echo replies received")                                          \
        X(icmp4_other, "ICMP messages of other types ignored")                                     \
        X(icmp4_bcast_echo, "drop: ICMP echo to a broadcast address")                              \
        X(icmp4_err_tx, "ICMP errors sent")                                                        \
        X(icmp4_err_rx, "ICMP errors received")                                                    \
        X(icmp4_err_suppressed, "ICMP errors not sent (RFC 1812 4.3.2.7 rules)")                   \
        X(icmp4_err_ratelimited, "ICMP errors not sent (rate limit)")                              \
        X(ping_overflow, "echo replies lost: the caller did not collect them")                     \
        X(ip6_rx, "IPv6 packets received")                                                         \
        X(ip6_truncated, "drop: IPv6 packet shorter than its header")                              \
        X(ip6_bad_version, "drop: IP version is not 6")                                            \
        X(ip6_bad_len, "drop: IPv6 payload length past the frame")                                 \
        X(ip6_bad_src, "drop: IPv6 source multicast, loopback, or :: not to a group")              \
        X(ip6_bad_dst, "drop: IPv6 destination unspecified or loopback")                           \
        X(ip6_hbh_bad, "drop: hop-by-hop options header malformed")                                \
        X(ip6_opt_unknown, "drop: unrecognised option whose action is discard")                    \
        X(ip6_ext_bad, "drop: extension header error (parameter problem)")                         \
        X(ip6_not_for_us, "drop: IPv6 destination not ours (forwarding is off)")                   \
        X(ip6_mc_not_joined, "drop: multicast group not joined")                                   \
        X(ip6_scope, "drop: link-local address beyond its link")                                   \
        X(ip6_no_route, "drop: no IPv6 route to the destination")                                  \
        X(ip6_blackhole, "drop: IPv6 blackhole route")                                             \
        X(ip6_unreachable, "drop: IPv6 unreachable or prohibit route")                             \
        X(ip6_hlim_exceeded, "drop: hop limit expired in transit")                                 \
        X(ip6_too_big, "drop: larger than the next hop's MTU (packet too big sent)")               \
        X(ip6_iface_down, "drop: IPv6 output interface down")                                      \
        X(ip6_forwarded, "IPv6 packets forwarded")                                                 \
        X(ip6_tx, "IPv6 packets sent")                                                             \
        X(ip6_unknown_proto, "drop: no handler for the IPv6 next header")                          \
        X(ip6_frag_rx, "IPv6 fragments received for us")                                           \
        X(ip6_atomic_frag, "IPv6 atomic fragments (RFC 6946) taken in isolation")                  \
        X(ip6_reassembled, "IPv6 datagrams reassembled")                                           \
        X(ip6_reass_overlap, "drop: overlapping IPv6 fragments (whole datagram, RFC 5722)")        \
        X(ip6_reass_cap, "drop: IPv6 reassembly memory caps")                                      \
        X(ip6_reass_bad, "drop: inconsistent IPv6 fragment")                                       \
        X(ip6_reass_timeout, "drop: IPv6 reassembly timed out")                                    \
        X(ip6_fragmented, "IPv6 fragments sent")                                                   \
        X(icmp6_rx, "ICMPv6 messages received")                                                    \
        X(icmp6_truncated, "drop: ICMPv6 message too short")                                       \
        X(icmp6_bad_csum, "drop: ICMPv6 checksum")                                                 \
        X(icmp6_echo_req, "ICMPv6 echo requests answered")                                         \
        X(icmp6_echo_reply, "ICMPv6 echo replies received")                                        \
        X(icmp6_other, "ICMPv6 messages of other types ignored")                                   \
        X(icmp6_err_tx, "ICMPv6 errors sent")                                                      \
        X(icmp6_err_rx, "ICMPv6 errors received")                                                  \
        X(icmp6_err_suppressed, "ICMPv6 errors not sent (RFC 4443 2.4(e) rules)")                  \
        X(icmp6_err_ratelimited, "ICMPv6 errors not sent (rate limit)")                            \
        X(icmp6_pmtu_update, "path MTU lowered by a packet too big")                               \
        X(nd_ns_rx, "neighbour solicitations received")                                            \
        X(nd_ns_tx, "neighbour solicitations sent")                                                \
        X(nd_na_rx, "neighbour advertisements received")                                           \
        X(nd_na_tx, "neighbour advertisements sent")                                               \
        X(nd_rs_rx, "router solicitations received")                                               \
        X(nd_rs_tx, "router solicitations sent")                                                   \
        X(nd_ra_rx, "router advertisements received")                                              \
        X(nd_ra_tx, "router advertisements sent")                                                  \
        X(nd_bad_hlim, "drop: ND message with hop limit other than 255")                           \
        X(nd_bad_opt, "drop: ND message with a zero-length or truncated option")                   \
        X(nd_invalid, "drop: ND message failing RFC 4861 validation")                              \
        X(nd_not_for_us, "ND solicitation for a target that is not ours")                          \
        X(nd_dad_dup, "duplicate address detected (address not used)")                             \
        X(nd_dad_loopback, "own DAD probe looped back (RFC 7527 nonce)")                           \
        X(nd_queue_drop, "drop: ND resolution queue full (oldest dropped)")                        \
        X(nd_resolve_failed, "drop: IPv6 neighbour did not answer")                                \
        X(nd_table_full, "drop: IPv6 neighbour table full")                                        \
        X(nd_flushed, "drop: held for ND resolution when the entry went (carrier lost, detach)")   \
        X(nd_evicted, "never-confirmed IPv6 neighbour entries deleted for a new one (table full)") \
        X(nd_learn_limited, "drop: solicitation from an unknown sender over the learning rate")    \
        X(nd_resolve_limited, "drop: to a new next hop over the resolution rate")                  \
        X(nd_redirect_rx, "redirects received")                                                    \
        X(nd_redirect_tx, "redirects sent (RFC 4861 8.2)")                                         \
        X(nd_redirect_ignored, "redirects ignored (forwarding on, or accept off)")                 \
        X(nd_redirect_bad_src, "drop: redirect from a source that is not link-local")              \
        X(nd_redirect_bad_dst, "drop: redirect for a multicast destination")                       \
        X(nd_redirect_bad_target, "drop: redirect target neither link-local nor the destination")  \
        X(nd_redirect_not_first_hop, "drop: redirect not from the destination's first-hop router") \
        X(nd_redirect_ratelimited, "redirects not sent (ICMPv6 rate limit)")                       \
        X(mld_rx, "MLD messages received")                                                         \
        X(mld_report_tx, "MLDv2 reports sent")                                                     \
        X(mld_bad, "drop: MLD message failing RFC 3810 validation")                                \
        X(ping6_overflow, "echo6 replies lost: the caller did not collect them")                   \
        X(tx_link_full, "drop: the link did not take the frame")                                   \
        X(tx_tso_nolink, "drop: a TCP super-segment routed to a link without TSO")                 \
        X(punt, "packets handed by workers to the control thread")                                 \
        X(punt_drop, "drop: punt ring to the control thread full")                                 \
        X(punt_nb_drop, "drop: neighbour punt ring (ARP, ND) to the control thread full")          \
        X(neigh_poke, "stale neighbours used: workers asked the control thread to probe")          \
        X(handoff, "packets handed to the context that owns their flow")                           \
        X(handoff_drop, "drop: hand-off ring to the owning context full, or its interface gone")   \
        X(graph_reentry_drop, "drop: re-entered the graph too often (a loop)")                     \
        X(graph_reentry_full, "drop: too many packets re-entering the graph at once")              \
        X(nobufs, "drop: packet pool exhausted")                                                   \
        X(addr6_publish_retry, "IPv6 address copies not published for want of memory (retried)")

enum stack_counter {
#define STK_X_ENUM(name, desc) STK_##name,
        STACK_COUNTERS(STK_X_ENUM)
#undef STK_X_ENUM
            STK__COUNT
};

#endif
