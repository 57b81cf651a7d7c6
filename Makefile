# mpnet top-level targets. The work is done by CMake; this file wires the
# README's commands to it and installs missing Debian packages first.
JOBS      ?= $(shell nproc)
BUILD     ?= build
FUZZ_SECS ?= 20
PREFIX    ?= /usr/local

.PHONY: all deps build install run check test check-asan check-tsan bench fuzz fuzz-build format clean

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
	@cmake --build build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -L concurrency

fuzz-build: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DMPNET_BENCH=OFF \
		-DMPNET_TESTS=OFF -DMPNET_FUZZ=ON -DMPNET_SANITIZE=address,undefined >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

# Run each fuzz target for FUZZ_SECS seconds from the seed corpus.
fuzz: fuzz-build
	@set -e; for f in build-fuzz/fuzz_*; do \
		case $$f in *.log) continue;; esac; [ -x $$f ] || continue; \
		name=$$(basename $$f); mkdir -p build-fuzz/corpus-$$name; \
		echo "fuzz: $$name for $(FUZZ_SECS)s"; \
		rc=0; $$f -max_total_time=$(FUZZ_SECS) -print_final_stats=1 \
			build-fuzz/corpus-$$name tests/fuzz/corpus/$$name \
			>build-fuzz/$$name.log 2>&1 || rc=$$?; \
		tail -n 12 build-fuzz/$$name.log; \
		if [ $$rc -ne 0 ]; then echo "fuzz: $$name FAILED (see build-fuzz/$$name.log)"; exit 1; fi; \
	done

check: test check-asan check-tsan
	@$(MAKE) --no-print-directory fuzz FUZZ_SECS=15

bench: build
	@./bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-tsan build-fuzz
