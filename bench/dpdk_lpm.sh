#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# The peer of bench_lpm4 and bench_lpm6: DPDK's own LPM benchmarks, run the
# way docs/PERFORMANCE.md compares them (no hugepages, no PCI, one lcore,
# pinned to CPU 1 like the mpnet benches). Needs dpdk-test (Debian package
# dpdk-dev); without it, says so and exits 0. Output: dpdk-test's text on
# stdout.
#
# usage: bench/dpdk_lpm.sh
set -eu

if ! command -v dpdk-test >/dev/null 2>&1; then
	echo "dpdk_lpm: dpdk-test not found (apt-get install dpdk-dev); skipped" >&2
	exit 0
fi
for t in lpm_perf_autotest lpm6_perf_autotest; do
	echo "dpdk_lpm: $t" >&2
	echo "$t" | taskset -c 1 dpdk-test --no-huge -m 2048 --no-pci -l 0 2>&1 |
		grep -E "routes|Unique|Average|BULK|LookupX4|fails|Delete|Add"
done
