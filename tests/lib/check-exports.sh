#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# libmpnet.so exports exactly the public API: every name it exports starts
# with mpnet_ and is declared in include/mpnet/, and every mpnet_ name the
# library defines and a public header declares is exported (a declaration
# that lacks MPNET_API would leave it hidden, and a program linking the
# shared library would fail where the tests, which link libmpnet.a, pass).
#
# usage: check-exports.sh LIBMPNET.so LIBMPNET.a INCLUDE_DIR
set -eu
so=$1 a=$2 inc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# AddressSanitizer adds an __odr_asan.NAME beside each exported object.
nm -D --defined-only "$so" | awk 'NF >= 3 && $3 !~ /^__odr_asan[._]/ { print $3 }' |
	sort -u >"$tmp/exported"
nm -g --defined-only "$a" | awk 'NF >= 3 && $3 ~ /^mpnet_/ { print $3 }' | sort -u >"$tmp/defined"
# Every identifier the public headers mention.
find "$inc/mpnet" -name '*.h' -exec cat {} + | tr -c 'A-Za-z0-9_' '\n' | sort -u >"$tmp/words"

[ -s "$tmp/exported" ] || { echo "check-exports: $so exports nothing"; exit 1; }
bad=0
for n in $(comm -23 "$tmp/exported" "$tmp/words"); do
	echo "check-exports: $n is exported but no header in $inc/mpnet declares it"
	bad=1
done
for n in $(grep -v '^mpnet_' "$tmp/exported"); do
	echo "check-exports: $n is exported without the mpnet_ prefix"
	bad=1
done
for n in $(comm -12 "$tmp/defined" "$tmp/words" | comm -23 - "$tmp/exported"); do
	echo "check-exports: $n is declared in $inc/mpnet but not exported (MPNET_API missing?)"
	bad=1
done
[ $bad -eq 0 ] && echo "check-exports: $(wc -l <"$tmp/exported") names, all public"
exit $bad
