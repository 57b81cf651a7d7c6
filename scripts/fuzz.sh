#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The libFuzzer targets of tests/fuzz/ (docs/TESTING.md, "Fuzzing"). Run from
# the repository root after `make fuzz-build` (build-fuzz/), or through make:
#
#   scripts/fuzz.sh run SECS         each target SECS seconds, one after the
#                                    other (make fuzz, make check)
#   scripts/fuzz.sh long SECS JOBS   a campaign: every target SECS seconds,
#                                    JOBS at a time (make fuzz-long)
#   scripts/fuzz.sh long SECS JOBS TARGET...
#                                    a campaign of the named targets, one
#                                    after the other, each split over JOBS
#                                    processes for SECS seconds (seeds 1 to
#                                    JOBS, one corpus folder: libFuzzer
#                                    reads what the others add every second)
#   scripts/fuzz.sh cov              llvm-cov report of what the corpora
#                                    reach in src/ (make fuzz-cov)
#   scripts/fuzz.sh rate SECS RUNS [TARGET...]
#                                    inputs/s of each target: RUNS runs of
#                                    SECS seconds from its seeds alone
#                                    (\$SEEDS/TARGET, default tests/fuzz/
#                                    corpus; a fresh corpus each run, seed =
#                                    run number), the median and every run;
#                                    then inputs per CPU second (user + sys
#                                    of the run, start-up included), which
#                                    a loaded machine skews less
#
# FUZZ_OPTS="-opt=v ...": libFuzzer options for every target instead of
# the per-target ones (opts_of below); FUZZ_OPTS= none.
#
# Each target starts from tests/fuzz/corpus/<target>/ (seeds, reproducers)
# and grows build-fuzz/corpus-<target>/, with the dictionary of its family
# (tests/fuzz/dict/). A crash stops `run` with the target's log; `long`
# keeps going and lists the crash files at the end (build-fuzz/crash-*).
set -eu

FUZZ_DIR=${FUZZ_DIR:-build-fuzz}

# ASan's quarantine (freed blocks kept poisoned to catch a use after free)
# at 16 MB, not ASan's 256 MB. While the quarantine fills, every allocation
# is fresh memory, and a page fault on this kind of VM costs tens of
# microseconds: with 256 MB the stack targets took 0.2 to 2 faults an
# input (libFuzzer's copy of each input is freed into it too) for the
# first hundreds of thousands of inputs, a third of fuzz_stack_input's CPU
# time (docs/TESTING.md). 16 MB still holds the blocks of a thousand
# inputs or more, so a use after free within an input, or in the next
# ones after a reset, is still caught. Options already in ASAN_OPTIONS
# come after, so they win.
export ASAN_OPTIONS="quarantine_size_mb=16${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

dict_of() {
	case $1 in
	fuzz_stack_*) echo tests/fuzz/dict/stack.dict ;;
	fuzz_ip6 | fuzz_icmp6_* | fuzz_mld) echo tests/fuzz/dict/ip6.dict ;;
	*) echo tests/fuzz/dict/ip4.dict ;;
	esac
}

# libFuzzer options of a target beyond the common ones. The stack targets
# touch thousands of coverage features an input, and libFuzzer looks each
# up in entropic scheduling's list of rare features, which with the
# default threshold (255) holds every feature seen 255 times or fewer:
# InputCorpus::UpdateFeatureFrequency took 36 to 43 % of fuzz_tcp_conn's
# and fuzz_stack_conv's time (perf). A threshold of 16 keeps the list
# near its 100 rarest features, entropic scheduling stays (docs/TESTING.md).
# FUZZ_OPTS, when set (empty too), replaces these for every target.
opts_of() {
	if [ -n "${FUZZ_OPTS+set}" ]; then
		echo "$FUZZ_OPTS"
		return
	fi
	case $1 in
	fuzz_stack_* | fuzz_tcp_conn | fuzz_udp_sock) echo -entropic_feature_frequency_threshold=16 ;;
	esac
}

targets() {
	for f in "$FUZZ_DIR"/fuzz_*; do
		case $f in *.log) continue ;; esac
		[ -x "$f" ] && basename "$f"
	done
}

# CPU seconds (user + sys) of the shell's finished children in FILE, the
# output of the times builtin (its second line), which must run in the
# shell itself: in a subshell it counts the subshell's children.
child_cpu() {
	awk 'NR == 2 { n = split($0, f, /[ms]+/); s = 0
		for (i = 1; i < n; i += 2) s += f[i] * 60 + f[i + 1]; print s }' "$1"
}

median() {
	echo "$@" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# run_one TARGET SECS [WORKER]: fuzz, leave the log in build-fuzz/TARGET.log
# (TARGET.WORKER.log, with -seed=WORKER, for one of a split campaign's).
run_one() {
	t=$1
	log=$FUZZ_DIR/$t${3:+.$3}.log
	mkdir -p "$FUZZ_DIR/corpus-$t"
	rc=0
	# shellcheck disable=SC2046
	"$FUZZ_DIR/$t" -max_total_time="$2" -print_final_stats=1 -dict="$(dict_of "$t")" \
		$(opts_of "$t") ${3:+-seed="$3"} -artifact_prefix="$FUZZ_DIR/crash-$t-" \
		"$FUZZ_DIR/corpus-$t" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	echo "fuzz: $t${3:+ worker $3} ${2}s inputs ${runs:-?} exec/s ${rate:-?} $cov rc $rc"
	return $rc
}

# Inputs run in all by the logs named (0 for a log without final stats).
inputs_of() {
	total=0
	for l in "$@"; do
		[ -f "$l" ] || continue
		n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$l")
		total=$((total + ${n:-0}))
	done
	echo $total
}

# The crash files of the campaign: listed, and the status 1; else 0.
crash_report() {
	crashes=$(ls "$FUZZ_DIR"/crash-* 2>/dev/null || true)
	if [ -n "$crashes" ]; then
		echo "fuzz-long: crashes:"
		echo "$crashes"
		return 1
	fi
	echo "fuzz-long: no crash"
}

# long_split SECS JOBS TARGET...: each target JOBS processes at once.
long_split() {
	secs=$1
	jobs=$2
	shift 2
	start=$(date +%s)
	all=0
	export FUZZ_DIR
	for t in "$@"; do
		[ -x "$FUZZ_DIR/$t" ] || { echo "fuzz-long: no $FUZZ_DIR/$t" >&2; exit 2; }
		rm -f "$FUZZ_DIR/$t".[0-9]*.log
		t0=$(date +%s)
		seq 1 "$jobs" | xargs -P "$jobs" -I{} sh -c "\"$0\" one $t $secs {} || true"
		wall=$(($(date +%s) - t0))
		n=$(inputs_of "$FUZZ_DIR/$t".[0-9]*.log)
		all=$((all + n))
		echo "fuzz-long: $t $jobs processes ${wall} s wall, $n inputs," \
			"$((n / (wall > 0 ? wall : 1))) inputs/s," \
			"corpus $(find "$FUZZ_DIR/corpus-$t" -type f | wc -l)"
	done
	echo "fuzz-long: $(($(date +%s) - start)) s wall, $jobs processes a target, $all inputs in all"
	crash_report
}

cmd=${1:-run}
case $cmd in
run)
	secs=${2:-20}
	for t in $(targets); do
		if ! run_one "$t" "$secs"; then
			tail -n 40 "$FUZZ_DIR/$t.log"
			echo "fuzz: $t FAILED (see $FUZZ_DIR/$t.log)"
			exit 1
		fi
	done
	;;
long)
	secs=${2:-3600}
	jobs=${3:-$(nproc)}
	if [ $# -gt 3 ]; then
		shift 3
		long_split "$secs" "$jobs" "$@"
		exit $?
	fi
	start=$(date +%s)
	export FUZZ_DIR
	targets | xargs -P "$jobs" -I{} sh -c "\"$0\" one {} $secs || true"
	total=0
	for t in $(targets); do
		total=$((total + $(inputs_of "$FUZZ_DIR/$t.log")))
	done
	echo "fuzz-long: $(($(date +%s) - start)) s wall, $jobs jobs, $total inputs in all"
	crash_report
	;;
one)
	run_one "$2" "$3" "${4:-}"
	;;
rate)
	secs=${2:-30}
	runs=${3:-3}
	shift 3 2>/dev/null || shift $#
	list=${*:-$(targets)}
	for t in $list; do
		rates=""
		cpurates=""
		for r in $(seq 1 "$runs"); do
			tmp=$(mktemp -d)
			times >"$FUZZ_DIR/rate.times"
			c0=$(child_cpu "$FUZZ_DIR/rate.times")
			# shellcheck disable=SC2046
			"$FUZZ_DIR/$t" -max_total_time="$secs" -print_final_stats=1 -seed="$r" \
				-dict="$(dict_of "$t")" $(opts_of "$t") -artifact_prefix="$FUZZ_DIR/crash-$t-" \
				"$tmp" "${SEEDS:-tests/fuzz/corpus}/$t" >"$FUZZ_DIR/$t.rate.log" 2>&1 ||
				{ tail -n 30 "$FUZZ_DIR/$t.rate.log"; rm -rf "$tmp"; exit 1; }
			times >"$FUZZ_DIR/rate.times"
			c1=$(child_cpu "$FUZZ_DIR/rate.times")
			rm -rf "$tmp"
			rates="$rates $(sed -n 's/^stat::average_exec_per_sec: *//p' "$FUZZ_DIR/$t.rate.log")"
			n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$FUZZ_DIR/$t.rate.log")
			cpurates="$cpurates $(awk -v n="$n" -v a="$c0" -v b="$c1" 'BEGIN { printf "%d", (b > a ? n / (b - a) : 0) }')"
		done
		echo "fuzz-rate: $t median $(median "$rates") exec/s (runs:$rates)," \
			"$(median "$cpurates") per CPU s (runs:$cpurates)"
	done
	;;
cov)
	# The replay programs (tests/fuzz/replay_main.c), built with clang's
	# source-based coverage and no sanitizer, run over both corpora.
	out=build-fuzz-cov
	CC=clang cmake -S . -B $out -DCMAKE_BUILD_TYPE=Debug -DMPNET_BENCH=OFF \
		-DCMAKE_C_FLAGS="-fprofile-instr-generate -fcoverage-mapping" >/dev/null
	names=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
	cmake --build $out -j "$(nproc)" --target $(for t in $names; do printf 'fuzz_replay_%s ' "$t"; done)
	rm -rf $out/profraw && mkdir -p $out/profraw
	for t in $names; do
		for d in "tests/fuzz/corpus/$t" "$FUZZ_DIR/corpus-$t"; do
			[ -d "$d" ] && [ -n "$(ls "$d")" ] || continue
			LLVM_PROFILE_FILE="$out/profraw/$t-%p.profraw" \
				"$out/fuzz_replay_$t" "$d" >$out/replay.log 2>&1 ||
				{ cat $out/replay.log; exit 1; }
		done
	done
	llvm-profdata merge -sparse $out/profraw/*.profraw -o $out/fuzz.profdata
	# The first program is llvm-cov's binary argument, the others -object.
	objs=""
	for t in $names; do
		if [ -z "$objs" ]; then objs="$out/fuzz_replay_$t"; else objs="$objs -object $out/fuzz_replay_$t"; fi
	done
	# shellcheck disable=SC2086
	llvm-cov report -instr-profile=$out/fuzz.profdata $objs src/ | tee $out/report.txt
	# shellcheck disable=SC2086
	llvm-cov show -format=html -output-dir=$out/html -instr-profile=$out/fuzz.profdata \
		$objs src/ >/dev/null
	for dir in wire l3 l2 stack fib base; do
		llvm-cov report -instr-profile=$out/fuzz.profdata $objs src/$dir |
			awk -v d="src/$dir" '/^TOTAL/ { print "fuzz-cov: " d " lines " $(NF-3) }'
	done
	echo "fuzz-cov: $out/report.txt, $out/html/index.html"
	;;
*)
	echo "usage: $0 run SECS | long SECS JOBS [TARGET...] | cov | rate SECS RUNS [TARGET...]" >&2
	exit 2
	;;
esac
