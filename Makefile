# The README's commands. The build itself is Meson + ninja (meson.build).
#   make        set up (first time) and build build/shoal
#   make run    set up, build, create and migrate var/shoal.db, load the demo if new, serve
#   make test   set up what the tests need, build, run every test (tests/run)
#   make bench  measure Shoal at region scale against nginx and raw inserts (bench/README.md)
#   make format clang-format every C file

BUILD      ?= build
BUILD_ASAN ?= build-asan
DB         ?= sqlite:var/shoal.db
LISTEN     ?= 127.0.0.1:8080

.PHONY: all setup setup-test build run test fuzz bench format check-format clean test-security test-valgrind

all: build

setup:
	@tools/setup run

setup-test:
	@tools/setup test

$(BUILD)/build.ninja:
	@meson setup $(BUILD) >/dev/null

build: setup $(BUILD)/build.ninja
	@ninja -C $(BUILD) --quiet shoal

run: build
	@mkdir -p var
	@new=0; [ -e var/shoal.db ] || new=1; \
	$(BUILD)/shoal migrate --db $(DB) && \
	if [ $$new = 1 ]; then $(BUILD)/shoal demo --db $(DB); fi && \
	echo && \
	echo "  Shoal is at http://$(LISTEN)/  (Ctrl-C stops it)" && \
	echo "  The demo is the fictional Wyvern Vale GP Collective." && \
	$(BUILD)/shoal demo --accounts && \
	echo && \
	exec $(BUILD)/shoal serve --db $(DB) --listen $(LISTEN)

test: setup-test
	@tests/run

# make fuzz: each fuzz target built from tests/fuzz/meson.build runs for FUZZ_SECONDS under
# libFuzzer (clang); new interesting inputs land in tests/fuzz/corpus/<target>/, crashes in
# tests/fuzz/crashes/.
FUZZ_SECONDS ?= 60
fuzz:
	@tools/setup fuzz
	@[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzzing=true \
		-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
	@ninja -C build-fuzz --quiet
	@mkdir -p tests/fuzz/crashes
	@for f in build-fuzz/tests/fuzz/fuzz_*; do \
		[ -f "$$f" ] && [ -x "$$f" ] || continue; t=$${f##*/fuzz_}; mkdir -p tests/fuzz/corpus/$$t; \
		echo "== fuzzing $$t for $(FUZZ_SECONDS) s"; \
		build-fuzz/tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			-artifact_prefix=tests/fuzz/crashes/$$t- tests/fuzz/corpus/$$t 2>&1 | tail -n 2 || exit 1; \
	done

# make bench: an optimised build against a region-sized data set, on SQLite and
# PostgreSQL, beside nginx and raw inserts (bench/README.md). BENCH_ARGS passes options,
# e.g. BENCH_ARGS="--backend sqlite --scenario 'search, member'".
BENCH_ARGS ?=
bench:
	@tools/setup bench
	@[ -f build-release/build.ninja ] || meson setup build-release --buildtype=release \
		-Db_ndebug=true >/dev/null
	@ninja -C build-release --quiet shoal bench/shoal-bench-gen bench/shoal-bench-raw
	@node bench/run.mjs $(BENCH_ARGS)

# make test-security: sqlmap against every form and API endpoint that takes input,
# signed in, on SQLite and PostgreSQL (tests/security/sqlmap.mjs); fails on any finding.
test-security: build
	@tools/setup security
	@tests/security/run

# make test-valgrind: the HTTP suite with shoal under valgrind, both backends
# (tests/valgrind); slow, so not part of make test.
test-valgrind: build
	@tools/setup valgrind
	@tests/valgrind

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) build-fuzz
