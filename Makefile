# mapblame: build, demo, test.
#   make demo   install what is missing, build in release mode, run mapblame on the demo program
#   make test   install what is missing, build, run the whole test suite
SWIFT ?= swift
DEBIAN_PACKAGES := libunwind-dev libdw-dev libc6-dbg

.PHONY: all deps build release demo test soak load asan tsan clean bench

all: build

# Debian -dev packages: installed with apt-get when root, otherwise named exactly.
deps:
	@missing=""; \
	for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  else \
	    echo "mapblame needs these Debian packages:$$missing" >&2; \
	    echo "install them with: sudo apt-get install$$missing" >&2; exit 1; \
	  fi; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "mapblame needs Swift 6 (swift not found on PATH)" >&2; exit 1; }

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

demo: release
	.build/release/mapblame run -- .build/release/mapblame-demo

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

clean:
	rm -rf .build

# Long randomized kernel-agreement run: SEEDS seeds x OPS calls, THREADS threads, fork halfway.
SEEDS ?= 100
OPS ?= 10000
THREADS ?= 4
soak: build
	@fail=0; for seed in $$(seq 1 $(SEEDS)); do \
	  .build/debug/mapblame run --verify -o /dev/null -- .build/debug/mbfixture random $$seed $(OPS) $(THREADS) 1 >/dev/null \
	    || { echo "seed $$seed: mismatch (replay: mapblame run --verify -- mbfixture random $$seed $(OPS) $(THREADS) 1)"; fail=1; }; \
	done; echo "soak: $(SEEDS) seeds x $(OPS) calls x $(THREADS) threads, fork halfway: $$([ $$fail = 0 ] && echo no mismatches || echo MISMATCHES)"; exit $$fail

# Benchmarks (bench/README.md): mapblame against no tracer, a bare-stop floor tracer, strace -k and
# valgrind massif; about 5-10 minutes. Results in bench/results/. BENCH_ARGS=--quick for a smoke run.
PYTHON ?= python3
BENCH_ARGS ?=
bench: release
	$(PYTHON) bench/run.py --mapblame .build/release/mapblame $(BENCH_ARGS)
	$(PYTHON) bench/scale.py --mapblame .build/release/mapblame --fixture .build/release/mbfixture

# Load: 256 threads mapping at once, 100 processes, 1,000,000 mapping calls, all under --verify.
load: build
	/usr/bin/time -f "256 threads: %e s, tracer peak %M KiB" .build/debug/mapblame run --verify -q -o /dev/null -- .build/debug/mbfixture threads 256 400
	/usr/bin/time -f "100 processes: %e s, tracer peak %M KiB" .build/debug/mapblame run --verify -q -o /dev/null -- .build/debug/mbfixture forks 100 200
	/usr/bin/time -f "1,000,000 calls: %e s, tracer peak %M KiB" .build/debug/mapblame run --verify -q -o /dev/null -- .build/debug/mbfixture loop 500000

# The test suite under the sanitizers (separate build folders). LeakSanitizer cannot run under
# ptrace (its stop-the-world thread attaches with ptrace itself), so leak detection is off.
asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan

tsan: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan
