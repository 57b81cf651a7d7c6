/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The compiled-in protocol modules, in graph order: each stack assembles
 * its graph from this list (graph.h). The order fixes the core nodes' ids
 * (enum core_node) and the order in which ether-input tries the ethertypes:
 * IPv4 first.
 */
#include "stack/graph.h"

extern const struct mpnet_module mod_ether, mod_ip4, mod_ip6, mod_arp, mod_icmp4, mod_icmp6,
    mod_tcp, mod_neigh, mod_ip4_reass, mod_ip6_reass, mod_udp, mod_sock, mod_igmp, mod_raw;

const struct mpnet_module *const core_modules[] = {
    [MOD_ether] = &mod_ether,
    [MOD_ip4] = &mod_ip4,
    [MOD_ip6] = &mod_ip6,
    [MOD_arp] = &mod_arp,
    [MOD_neigh] = &mod_neigh,
    [MOD_icmp4] = &mod_icmp4,
    [MOD_icmp6] = &mod_icmp6,
    [MOD_tcp] = &mod_tcp,
    [MOD_ip4_reass] = &mod_ip4_reass,
    [MOD_ip6_reass] = &mod_ip6_reass,
    [MOD_udp] = &mod_udp,
    [MOD_sock] = &mod_sock,
    [MOD_igmp] = &mod_igmp,
    [MOD_raw] = &mod_raw,
};
const unsigned n_core_modules = sizeof(core_modules) / sizeof(core_modules[0]);
