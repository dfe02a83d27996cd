# mapblame: build, demo, test.
#   make demo   install what is missing, build in release mode, run mapblame on the demo program
#   make test   install what is missing, build, run the whole test suite
SWIFT ?= swift
DEBIAN_PACKAGES := libunwind-dev libdw-dev libc6-dbg

.PHONY: all deps build release demo test soak clean bench

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
