# cdfs build entry points. Everything runs with a pinned Deno installed from the npm registry
# into .tools/ (never a package.json at the project root: that would switch Deno into manual
# node_modules mode, where `npm:` imports fail).

DENO_VERSION := 2.9.6
WABT_VERSION := 1.0.39
TOOLS := .tools
LOCAL_DENO := $(TOOLS)/node_modules/@deno/linux-x64-glibc/deno
# Reuse a deno on PATH only when it is exactly the pinned version.
PATH_DENO := $(shell command -v deno 2>/dev/null)
ifneq ($(PATH_DENO),)
ifeq ($(shell $(PATH_DENO) --version 2>/dev/null | head -n1 | cut -d' ' -f2),$(DENO_VERSION))
DENO := $(PATH_DENO)
endif
endif
DENO ?= $(LOCAL_DENO)

export NO_COLOR := 1
export DENO_NO_UPDATE_CHECK := 1
export RUST_BACKTRACE := 0
export DENO

.PHONY: all deno deps test test-repeat fuzz soak faults-full demo bench bench-deps build wasm fmt clean

all: test

deno: $(DENO)

# Deno and wabt (a dev tool: the tests check that the embedded WebAssembly modules are their .wat
# sources assembled) are installed by ONE npm command: with --no-save, a second `npm install`
# into the same prefix would remove what the first one installed.
TOOLS_STAMP := $(TOOLS)/.installed-deno-$(DENO_VERSION)-wabt-$(WABT_VERSION)

$(TOOLS_STAMP):
	npm install --no-save --no-audit --no-fund --prefix $(TOOLS) deno@$(DENO_VERSION) wabt@$(WABT_VERSION)
	@test -x $(LOCAL_DENO) || { echo "error: npm did not install $(LOCAL_DENO)"; exit 1; }
	touch $@

$(LOCAL_DENO): $(TOOLS_STAMP)

# npm packages that the code imports, pinned by deno.lock.
deps: $(DENO) $(TOOLS_STAMP)
	$(DENO) install --frozen

## The tests: format, lint, type check, documentation lint and examples, then every test; ends
## with "N passed, N failed".
test: deps
	bash scripts/test.sh

## The suite RUNS times (default 10), each from a fresh clone of HEAD in a mode-0700 directory.
RUNS ?= 10
test-repeat:
	bash scripts/test_repeat.sh $(RUNS)

## The fuzz tests (tests/fuzz/) in full: 100,000 generated inputs per property (the suite runs
## them shortened). FUZZ_RUNS=N for another count, CDFS_FUZZ_SEED=N for another seed.
FUZZ_RUNS ?= 100000
fuzz: deps
	CDFS_FUZZ_RUNS=$(FUZZ_RUNS) $(DENO) test -A tests/fuzz/

## The long hardening suites in full (the suite runs them shortened): fuzzing, then the fault
## injection (FAULT_TRIALS kills per operation, tests/faults/kill_test.ts; the partition and
## disk-full tests as in the suite) and the soak (SOAK_CLIENTS clients, SOAK_SECONDS per phase,
## without and with the hostile mix, tests/faults/soak_test.ts).
FAULT_TRIALS ?= 100
SOAK_CLIENTS ?= 200
SOAK_SECONDS ?= 60
soak: fuzz faults-full

faults-full: deps
	CDFS_FAULT_TRIALS=$(FAULT_TRIALS) CDFS_SOAK_CLIENTS=$(SOAK_CLIENTS) \
	  CDFS_SOAK_SECONDS=$(SOAK_SECONDS) $(DENO) test -A tests/faults/

## The main job on an embedded default.
demo: deps
	$(DENO) run -A main.ts demo

## Benchmarks (bench/README.md); the ISA-L reference needs Debian's libisal-dev and a C compiler.
bench: deps bench-deps
	$(DENO) run -A bench/run.ts

bench-deps:
	@if ! [ -f /usr/include/isa-l.h ] && ! [ -f /usr/include/isa-l/erasure_code.h ]; then \
	  echo "installing libisal-dev (reference kernels for the benchmarks)"; \
	  (apt-get update -qq && apt-get install -y -qq libisal-dev gcc) >/dev/null; \
	fi

## A single binary, dist/cdfs. deno compile downloads its denort runtime unless DENORT_BIN names one.
## It is compiled with -A, which includes --allow-ffi: the ISA-L GF backend (--gf-backend) calls
## libisal.so.2 through FFI; without that permission `auto` falls back to WebAssembly.
build: deps
	bash scripts/build.sh

## Regenerate the embedded WebAssembly kernel from its .wat source (needs wabt from npm).
wasm: $(DENO) $(TOOLS_STAMP)
	$(DENO) run -A scripts/build_wasm.ts

fmt: $(DENO)
	$(DENO) fmt

clean:
	rm -rf dist .test-results bench/out
