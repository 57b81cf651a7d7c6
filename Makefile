# mpnet top-level targets. The work is done by CMake; this file wires the
# README's commands to it and installs missing Debian packages first.
JOBS      ?= $(shell nproc)
BUILD     ?= build
FUZZ_SECS ?= 20
# make fuzz-long: seconds per target, and targets run at once; with
# FUZZ_TARGETS (names), those targets one after the other, each split over
# FUZZ_JOBS processes.
FUZZ_LONG_SECS ?= 3600
FUZZ_JOBS ?= $(JOBS)
FUZZ_TARGETS ?=
PREFIX    ?= /usr/local

.PHONY: all deps build install run check test check-asan check-tsan bench fuzz fuzz-build fuzz-long fuzz-cov format clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The libraries, headers, mpnet.pc and the tools under $(DESTDIR)$(PREFIX).
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# The main job on in-process links: RFC 2544 against the built-in mpnet router.
run: build
	./$(BUILD)/mpgen rfc2544 --quick --dut builtin --out $(BUILD)/mpgen-report

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

check-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMPNET_BENCH=OFF \
		-DMPNET_SANITIZE=address,undefined >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS)

check-tsan: deps
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DMPNET_BENCH=OFF \
		-DMPNET_SANITIZE=thread >/dev/null
	@cmake --build build-tsan -j $(JOBS) --target concurrency_tests
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -L concurrency

# -O1: a third to a quarter of -O0's time per input under ASan+UBSan.
fuzz-build: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-O1 \
		-DMPNET_BENCH=OFF -DMPNET_TESTS=OFF -DMPNET_FUZZ=ON \
		-DMPNET_SANITIZE=address,undefined >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

# Each fuzz target for FUZZ_SECS seconds from its seed corpus (scripts/fuzz.sh).
fuzz: fuzz-build
	@./scripts/fuzz.sh run $(FUZZ_SECS)

# A campaign: every target FUZZ_LONG_SECS seconds, FUZZ_JOBS at once (or
# the FUZZ_TARGETS, each over FUZZ_JOBS processes).
fuzz-long: fuzz-build
	@./scripts/fuzz.sh long $(FUZZ_LONG_SECS) $(FUZZ_JOBS) $(FUZZ_TARGETS)

# llvm-cov report of what the corpora (seeds and build-fuzz/corpus-*) reach.
fuzz-cov: deps
	@./scripts/fuzz.sh cov

check: test check-asan check-tsan
	@$(MAKE) --no-print-directory fuzz FUZZ_SECS=4

bench: build
	@./bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-tsan build-fuzz build-fuzz-cov
