# mapblame: build, demo, test.
#   make demo   install what is missing, build in release mode, run mapblame on the demo program
#   make test   install what is missing, build, run the whole test suite
#   make install [PREFIX=/usr/local] [DESTDIR=]   the release binary, man pages, completions, docs
#   make uninstall, make dist (relocatable tarball), make deb, make test-install (packaging/README.md)
SWIFT ?= swift
DEBIAN_PACKAGES := libunwind-dev libdw-dev zlib1g-dev libc6-dbg libiberty-dev rustc golang-go libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 python3-dbg chromium nodejs gcc-multilib strace sudo
# The user the GitHub Action's scripts run as in the tests (ci/action/, Tests/.../ActionTests):
# not root, with passwordless sudo, as on a hosted runner. Created by `make deps` as root, so that
# no test changes the machine; `make remove-ci-user` takes it away.
CI_USER := mapblame-ci

.PHONY: all deps remove-ci-user install-missing build-deps ship install uninstall dist deb test-install test-install-deps build release demo test soak load asan tsan fixtures clean bench fuzz fuzz-build realworld realworld-deps golden

all: build

# Debian -dev packages: installed with apt-get when root, otherwise named exactly.
deps:
	@$(MAKE) --no-print-directory install-missing PACKAGES="$(DEBIAN_PACKAGES)"
	@command -v $(SWIFT) >/dev/null || { echo "mapblame needs Swift 6 (swift not found on PATH)" >&2; exit 1; }
	@if [ "$$(id -u)" = 0 ]; then \
	  id $(CI_USER) >/dev/null 2>&1 || useradd --system --create-home --shell /bin/bash $(CI_USER) || exit 1; \
	  [ -f /etc/sudoers.d/$(CI_USER) ] || { echo "$(CI_USER) ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/$(CI_USER).tmp && \
	    chmod 0440 /etc/sudoers.d/$(CI_USER).tmp && mv /etc/sudoers.d/$(CI_USER).tmp /etc/sudoers.d/$(CI_USER); } || exit 1; \
	fi

install-missing:
	@missing=""; \
	for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
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

remove-ci-user:
	rm -f /etc/sudoers.d/$(CI_USER)
	-userdel --remove $(CI_USER)


build: deps
	$(SWIFT) build

# The release build is the shipped one (`make ship`): the Swift libraries linked in, so `make bench`
# measures what users run (dynamic loading of the Swift libraries was half of `run /bin/true`: 35 ms
# against 17 ms), and switching between `make release` and `make ship` rebuilds nothing.
release: deps
	$(SWIFT) build -c release --static-swift-stdlib

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
	$(PYTHON) bench/slope.py --mapblame .build/release/mapblame
	$(PYTHON) bench/scale.py --mapblame .build/release/mapblame --fixture .build/release/mbfixture
	$(PYTHON) bench/goals.py --mapblame .build/release/mapblame

# Real programs nobody here wrote (realworld/README.md), each under run --verify: exit status and
# output as untraced, 0 mismatched pages, 100% coverage, 0 label disagreements, no allocator-internal
# top site, no crash. About 10-20 minutes; installs the programs first (as root).
REALWORLD_PACKAGES := perl ruby php-cli python3 nodejs golang-go default-jdk-headless mono-runtime mono-mcs nginx-light \
	curl redis-server redis-tools memcached postgresql postgresql-contrib mariadb-server mariadb-client chromium \
	firefox-esr libreoffice-nogui passwd gcc-multilib busybox-static rustc
REALWORLD_ARGS ?=
realworld-deps:
	@missing=""; for p in $(REALWORLD_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing:$$missing"; apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	  else echo "make realworld needs:$$missing (sudo apt-get install$$missing); cases without them are skipped" >&2; fi; \
	fi
# Golden check of a refactoring (golden/README.md): the same traces give byte-identical outputs
# with this tree and with BASE.
BASE ?= HEAD
golden: deps
	golden/compare.sh $(BASE)

realworld: release realworld-deps
	$(PYTHON) realworld/run.py --mapblame .build/release/mapblame $(REALWORLD_ARGS)

# Load: 256 threads mapping at once, 100 processes, 1,000,000 mapping calls, all under --verify
# (release build: the figures are the product's).
load: release
	/usr/bin/time -f "256 threads: %e s, tracer peak %M KiB" .build/release/mapblame run --verify -q -o /dev/null -- .build/release/mbfixture threads 256 400
	/usr/bin/time -f "100 processes: %e s, tracer peak %M KiB" .build/release/mapblame run --verify -q -o /dev/null -- .build/release/mbfixture forks 100 200
	/usr/bin/time -f "1,000,000 calls: %e s, tracer peak %M KiB" .build/release/mapblame run --verify -q -o /dev/null -- .build/release/mbfixture loop 500000

# The test suite under the sanitizers (separate build folders): mapblame and the tests are
# instrumented, the programs they trace (mbfixture, mapblame-demo) come from the plain build
# (MAPBLAME_FIXTURE_DIR): a sanitizer's allocator in them would change the mappings the tests check.
# LeakSanitizer cannot run under ptrace (its stop-the-world thread attaches with ptrace itself), so
# leak detection is off.
FIXTURES = mbfixture mapblame-demo mbfixturelib
fixtures: deps
	@for p in $(FIXTURES); do $(SWIFT) build --product $$p || exit 1; done

asan: fixtures
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS=detect_leaks=0 MAPBLAME_FIXTURE_DIR=$$($(SWIFT) build --show-bin-path) \
	  $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan

tsan: fixtures
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	MAPBLAME_FIXTURE_DIR=$$($(SWIFT) build --show-bin-path) \
	  $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan

# libFuzzer on each parser (Fuzz/README.md): FUZZ_SECONDS per target, seeds from Fuzz/corpus/TARGET,
# new inputs kept in .build-fuzz/corpus/TARGET, a crashing input in .build-fuzz/crashes/. The
# package in Fuzz/ is built optimized (traps stay; -enable-testing for fuzz-trace-records' @testable
# import) with coverage and ASan; libFuzzer (its no-main variant, as SwiftPM
# executables have their own main) comes from the Swift toolchain's clang.
FUZZ_SECONDS ?= 120
FUZZ_TARGETS ?= maps smaps trace trace-records json baseline
FUZZ_ARGS ?=
FUZZ_CLANG = $(dir $(realpath $(shell command -v $(SWIFT))))clang
fuzz-build: deps
	@rt=$$($(FUZZ_CLANG) -print-file-name=libclang_rt.fuzzer_no_main-x86_64.a); \
	[ -f "$$rt" ] || { echo "libFuzzer (libclang_rt.fuzzer_no_main) not found next to $(SWIFT)" >&2; exit 1; }; \
	set -x; $(SWIFT) build -c release --package-path Fuzz --scratch-path .build-fuzz -Xswiftc -enable-testing \
	  -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table \
	  -Xlinker --whole-archive -Xlinker "$$rt" -Xlinker --no-whole-archive -Xlinker -lstdc++

fuzz: fuzz-build
	@fail=0; mkdir -p .build-fuzz/crashes; for t in $(FUZZ_TARGETS); do \
	  mkdir -p .build-fuzz/corpus/$$t; log=.build-fuzz/fuzz-$$t.log; \
	  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 .build-fuzz/release/fuzz-$$t \
	    .build-fuzz/corpus/$$t Fuzz/corpus/$$t $$([ -f Fuzz/dict/$$t.dict ] && echo -dict=Fuzz/dict/$$t.dict) -max_total_time=$(FUZZ_SECONDS) \
	    -print_final_stats=1 -artifact_prefix=.build-fuzz/crashes/$$t- $(FUZZ_ARGS) >$$log 2>&1; status=$$?; \
	  runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log); \
	  crash=$$(sed -n 's/.*Test unit written to //p' $$log); \
	  if [ $$status = 0 ]; then echo "fuzz-$$t: $$runs executions in $(FUZZ_SECONDS) s, no crash"; \
	  else fail=1; echo "fuzz-$$t: CRASH after $${runs:-?} executions: $${crash:-see $$log}"; \
	    grep -m3 -E "Fatal error|ERROR: AddressSanitizer|SUMMARY" $$log | sed 's/^/    /'; fi; \
	done; exit $$fail

# Shipping (packaging/README.md). The binary links the Swift runtime statically: the installed
# mapblame needs only Debian's runtime packages, never the Swift toolchain. The version number is
# written once, in Sources/MapBlameCLI/Version.swift; the commit comes from git at build time.
PREFIX ?= /usr/local
DESTDIR ?=
VERSION := $(shell sed -n 's/^let mapblameVersion = "\([^"]*\)"$$/\1/p' Sources/MapBlameCLI/Version.swift)
SHIP_ROOT = .build/ship/root
DIST_NAME = mapblame-$(VERSION)-x86_64-linux
DEB_FILE = mapblame_$(VERSION)_$(shell dpkg --print-architecture 2>/dev/null || echo amd64).deb
BUILD_PACKAGES := libunwind-dev libdw-dev libiberty-dev
TEST_INSTALL_PACKAGES := man-db groff-base dpkg-dev debootstrap zsh fish

# Only what building needs (not the test suite's programs): a user's `make install`.
build-deps:
	@$(MAKE) --no-print-directory install-missing PACKAGES="$(BUILD_PACKAGES)"
	@command -v $(SWIFT) >/dev/null || { echo "mapblame needs Swift 6 (swift not found on PATH)" >&2; exit 1; }

# The installed tree in $(SHIP_ROOT), relative to any prefix (packaging/stage.sh). generate-manual
# (swift-argument-parser's man page writer) is built with the same flags as mapblame: a flag that
# differs would rebuild the modules they share at every switch.
ship: build-deps
	@obj=$$(packaging/buildinfo.sh .build/buildinfo) && set -x && \
	  $(SWIFT) build -c release --static-swift-stdlib --product mapblame -Xlinker $$obj
	$(SWIFT) build -c release --static-swift-stdlib --product generate-manual
	packaging/stage.sh $(SHIP_ROOT) $$($(SWIFT) build -c release --show-bin-path)

# install rebuilds only when a source is newer than the staged tree: `make ship && sudo make install`
# then needs no Swift on root's PATH.
SHIP_SOURCES := $(shell find Sources CShims docs packaging -type f 2>/dev/null) Package.swift README.md
$(SHIP_ROOT)/bin/mapblame: $(SHIP_SOURCES)
	@$(MAKE) --no-print-directory ship

install: $(SHIP_ROOT)/bin/mapblame
	mkdir -p $(DESTDIR)$(PREFIX)
	cp -R $(SHIP_ROOT)/. $(DESTDIR)$(PREFIX)/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/mapblame $(DESTDIR)$(PREFIX)/share/man/man1/mapblame.1 \
	  $(DESTDIR)$(PREFIX)/share/man/man1/mapblame-*.1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mapblame \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_mapblame $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/mapblame.fish
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/mapblame

# Same tree as install, under one top folder; extract it anywhere (or into /usr/local with
# --strip-components=1). Owner root, times of the commit: the same tree gives the same archive.
dist: ship
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$$(git log -1 --format=%ct 2>/dev/null || date +%s) \
	  -C $(SHIP_ROOT) --transform 's,^\.,$(DIST_NAME),' -czf $(DIST_NAME).tar.gz .
	@echo $(DIST_NAME).tar.gz

deb: ship
	@$(MAKE) --no-print-directory install-missing PACKAGES=dpkg-dev
	packaging/deb.sh $(SHIP_ROOT) $(VERSION) $(DEB_FILE)

# Installs, tarball, .deb, a Debian 12 chroot the .deb is installed in, the README's library
# snippet (packaging/README.md); run by .ci/run after make test. The release build is most of it
# from a clean clone; the script itself took 3-6 minutes on the shared 2-core machine.
test-install-deps:
	@$(MAKE) --no-print-directory install-missing PACKAGES="$(TEST_INSTALL_PACKAGES)"

test-install: test-install-deps dist deb
	packaging/test-install.sh --dist $(DIST_NAME).tar.gz --deb $(DEB_FILE)
