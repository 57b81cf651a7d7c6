#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench_tcp_afxdp in a tiny quick mode (2 MB, one run of each sender): it
# must print one JSON object, and either say why it skipped (not root, no
# network namespaces, no AF_XDP: exit 77, CTest's skip) or carry both
# flows' figures with the receiver's check passed (integrity_ok true); then
# with --flip (mpnet sends one byte changed) the check must fail. No
# figure is judged: a loaded machine makes any speed.
# Usage: check-bench-tcp-afxdp.sh BENCH_BINARY
set -u
bin=$1
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
timeout 240 "$bin" --mbytes 2 --repeat 1 >"$out" 2>"$err"
rc=$?
if [ "$(grep -c . "$out")" -ne 1 ]; then
        echo "expected one line of JSON on stdout (exit $rc):"
        cat "$out" "$err"
        exit 1
fi
if command -v python3 >/dev/null 2>&1; then
        python3 - "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["bench"] == "tcp_afxdp", d
if "skipped" in d:
    print("skipped:", d["skipped"])
    sys.exit(77)
for k in ("linux_gbps_median", "mpnet_gbps_median", "linux_gbps_per_cpu_median",
          "mpnet_gbps_per_cpu_median", "mpnet_cycles_per_byte_median", "ratio_per_cpu_median"):
    assert isinstance(d[k], (int, float)) and d[k] > 0, (k, d.get(k))
assert d["xdp_mode"] in ("native", "generic"), d["xdp_mode"]
assert d["bytes"] == 2 << 20, d["bytes"]
assert d["integrity_ok"] is True, "the receiver's check failed"
assert len(d["repeats"]) == 1 and d["repeats"][0]["mpnet_ok"] and d["repeats"][0]["linux_ok"]
print("ok: xdp", d["xdp_mode"], "mpnet", round(d["mpnet_gbps_median"], 2), "Gbit/s, Linux",
      round(d["linux_gbps_median"], 2))
PY
        prc=$?
else
        if grep -q '"skipped"' "$out"; then
                cat "$out"
                prc=77
        elif grep -q '"integrity_ok":true' "$out"; then
                prc=0
        else
                prc=1
        fi
fi
if [ "$prc" -eq 0 ] && [ "$rc" -ne 0 ]; then
        echo "bench exited $rc"
        prc=1
fi
[ "$prc" -ne 0 ] && [ "$prc" -ne 77 ] && cat "$out" "$err"
[ "$prc" -ne 0 ] && exit "$prc"
# The check itself: mpnet sending one byte changed must fail it (exit 1,
# integrity_ok false, Linux's run still fine).
timeout 240 "$bin" --mbytes 2 --repeat 1 --flip >"$out" 2>"$err"
rc=$?
if [ "$rc" -ne 1 ] || ! grep -q '"integrity_ok":false' "$out" ||
        ! grep -q '"linux_ok":true,"mpnet_ok":false' "$out"; then
        echo "--flip: the receiver's check did not catch the changed byte (exit $rc):"
        cat "$out" "$err"
        exit 1
fi
echo "ok: --flip caught"
exit 0
