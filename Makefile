# The README's commands. The build itself is Meson + ninja (meson.build).
#   make        set up (first time) and build build/shoal
#   make run    set up, build, create and migrate var/shoal.db, load the demo if new, serve
#   make test   set up what the tests need, build, run every test (tests/run)
#   make format clang-format every C file

BUILD      ?= build
BUILD_ASAN ?= build-asan
DB         ?= sqlite:var/shoal.db
LISTEN     ?= 127.0.0.1:8080

.PHONY: all setup setup-test build run test fuzz format check-format clean

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

# make fuzz: each fuzz target runs for FUZZ_SECONDS under libFuzzer (clang); new
# interesting inputs land in tests/fuzz/corpus/<target>/, crashes in tests/fuzz/crashes/.
FUZZ_SECONDS ?= 60
fuzz:
	@tools/setup fuzz
	@[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzzing=true \
		-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
	@ninja -C build-fuzz --quiet
	@mkdir -p tests/fuzz/crashes
	@for t in form csv router html email; do \
		echo "== fuzzing $$t for $(FUZZ_SECONDS) s"; \
		build-fuzz/tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			-artifact_prefix=tests/fuzz/crashes/$$t- tests/fuzz/corpus/$$t 2>&1 | tail -n 2 || exit 1; \
	done

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) build-fuzz
