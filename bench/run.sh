#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Run every benchmark with its default repeats; write one JSON object per line
# to BUILD_DIR/bench-results.jsonl and print them. The human progress of each
# bench goes to stderr. See docs/PERFORMANCE.md.
#
# usage: bench/run.sh BUILD_DIR
set -eu

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
build=$1
out=$build/bench-results.jsonl
tmp=$out.tmp
: >"$tmp"

# One bench: run it, keep its JSON line, fail loudly if it fails.
run() {
	prog=$build/$1
	shift
	if [ ! -x "$prog" ]; then
		echo "bench: $prog not built, skipped" >&2
		return 0
	fi
	echo "bench: $prog $*" >&2
	"$prog" "$@" >>"$tmp"
}

echo "bench: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cpus, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# The ceilings: producer on cpu 0 and consumer on cpu 1; then one thread
# driving both ends, the peer of the single-threaded benches.
run bench_memwire --pin
run bench_memwire --pin --single
# Buffer recycling: allocated on one thread and freed on another through a
# ring, and allocated and freed on one thread.
run bench_pool --pin
# Ephemeral port picks, plain and steered home over 1, 2 and 4 queues.
run bench_port
# Event sets: notify-to-wake across two threads and notify cost, against
# eventfd + epoll.
run bench_evset --pin
# One request in flight (latency bound), then vectors of 32.
run bench_ping --pin --window 1
run bench_ping --pin --window 32
# IPv4 forwarding, one worker, 64-byte frames, against the raw wire; IPv6
# beside IPv4 in one run.
run bench_forward --pin
run bench_forward6 --pin
run bench_flood --pin
# Workers: 1 and 2 (a 16-core machine: MPNET_BENCH_WORKERS=1,2,4,8,14), the
# router alone between null links; then one worker on the second CPU (vCPUs
# of a VM need not be alike).
run bench_mp --link null --workers "${MPNET_BENCH_WORKERS:-1,2}" --pin
run bench_mp --link null --workers 1 --pin --cpu 1
# LPM lookup with ~1M routes, IPv4 and IPv6; DPDK's rte_lpm and rte_lpm6 in
# the same run when dpdk-test is installed (text in BUILD_DIR/dpdk-lpm.txt).
# bench_lpm4 twice: the default page policy, and 4 KiB pages only (the page
# size dpdk-test --no-huge runs on).
run bench_lpm4 --pin
run bench_lpm4 --pin --small-pages
# A VRF-sized table (sparse tbl24, looked up through its directory).
run bench_lpm4 --pin --routes 1000
run bench_lpm6 --pin
./bench/dpdk_lpm.sh >"$build/dpdk-lpm.txt"
# Kernel-interface links (root; without it each prints a "skipped" object)
# and DPDK's net_ring pair (when the DPDK link is built).
run bench_afpacket --pin
run bench_afxdp --pin
run bench_dpdk --pin

mv "$tmp" "$out"
cat "$out"
echo "bench: results in $out" >&2
