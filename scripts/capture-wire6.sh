#!/bin/bash
# Capture the IPv6 frames of tests/unit/test_wire6.c from Linux network
# namespaces (run as root): ./scripts/capture-wire6.sh OUT.pcap
# The namespaces are named w6capPID-* and removed on exit.
set -u
OUT=${1:?usage: capture-wire6.sh OUT.pcap}
P=w6cap$$
SW=$P-sw A=$P-a B=$P-b R=$P-r C=$P-c
cleanup() { for n in $SW $A $B $R $C; do ip netns del $n 2>/dev/null; done; }
trap cleanup EXIT
for n in $SW $A $B $R $C; do ip netns add $n; ip -n $n link set lo up; done
ip -n $SW link add br0 address 02:00:00:00:00:fe type bridge mcast_snooping 1 mcast_querier 1 \
   mcast_mld_version 2 mcast_startup_query_interval 100 mcast_query_interval 300
ip -n $SW link set br0 up
mk() { # ns ifname mac swport
  ip link add $2 netns $1 address $3 type veth peer name $4 netns $SW
  ip -n $SW link set $4 master br0 up
}
mk $A a0 02:00:00:00:00:01 pa
mk $B b0 02:00:00:00:00:02 pb
mk $R r0 02:00:00:00:00:03 pr
ip link add r1 netns $R address 02:00:00:00:00:04 mtu 1280 type veth peer name c0 netns $C address 02:00:00:00:00:05 mtu 1280
ip netns exec $R sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.icmp.ratelimit=0
ip netns exec $B sysctl -qw net.ipv6.icmp.ratelimit=0
ip -n $B addr add 2001:db8::2/64 dev b0; ip -n $B link set b0 up
ip -n $B addr add 2001:db8:2::1/128 dev lo
ip -n $R addr add 2001:db8::3/64 dev r0; ip -n $R link set r0 up
ip -n $R addr add 2001:db8:1::1/64 dev r1; ip -n $R link set r1 up
ip -n $C addr add 2001:db8:1::2/64 dev c0; ip -n $C link set c0 up
ip -n $C route add default via 2001:db8:1::1
ip -n $B route add 2001:db8:1::/64 via 2001:db8::3
sleep 3
ip netns exec $SW tcpdump -i pa -U -w "$OUT" 2>/dev/null &
TD=$!
sleep 1
ip -n $A addr add 2001:db8::1/64 dev a0
ip -n $A link set a0 up
sleep 4
ip -n $R route add 2001:db8:2::/64 via fe80::ff:fe00:2 dev r0
ip -n $A route add 2001:db8:2::/64 via fe80::ff:fe00:3 dev a0
ip -n $A route add default via 2001:db8::3
ip netns exec $A ping -6 -c1 -s 16 2001:db8::2
ip netns exec $A ping -6 -c1 -s 1500 2001:db8::2
ip netns exec $A ping -6 -c1 -s 16 2001:db8:2::1
ip netns exec $A ping -6 -c1 -s 1300 -M do 2001:db8:1::2
ip netns exec $A ping -6 -c1 -s 16 -t 1 2001:db8:1::2
ip netns exec $A ping -6 -c1 -s 16 -W 1 2001:db8:99::1
ip netns exec $A python3 - <<'PY'
import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
# Destination options: unknown type 0x1e (action 00: skip), Pad1, PadN(5).
s.setsockopt(socket.IPPROTO_IPV6, 59, bytes([0, 1, 0x1e, 4, 1, 2, 3, 4, 0, 1, 5, 0, 0, 0, 0, 0]))
s.sendto(b"dstopt", ("2001:db8::2", 9))
time.sleep(0.5)
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
# Hop-by-hop: unknown type 0x9e (action 10: discard, param problem), PadN(0).
s.setsockopt(socket.IPPROTO_IPV6, 54, bytes([0, 0, 0x9e, 2, 0xab, 0xcd, 1, 0]))
s.sendto(b"hopopt", ("2001:db8::2", 9))
time.sleep(0.5)
PY
ip -n $A route add 2001:db8:5::/64 encap seg6 mode inline segs 2001:db8::2 dev a0 && \
  ip netns exec $A ping -6 -c1 -s 16 -W 1 2001:db8:5::1
sleep 3
kill $TD; wait $TD
tcpdump -nr "$OUT" 2>/dev/null | cat -n
