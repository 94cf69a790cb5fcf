# sotto — build, test, check, fuzz, bench.  See README.md.
#
# Sources are found by wildcard so that adding a file needs no Makefile edit:
#   src/{core,crypto,tree,formats,sops,git}/*.c -> build/libsotto.a
#   (src/git/ includes <git2.h> for types only: libgit2 is dlopen()ed)
#   src/kube/*.c too (<curl/curl.h> and <git2.h> for types; dlopen()ed)
#   src/cli/*.c                              -> build/sotto
#   tests/unit/test_*.c                      -> build/tests/test_*  (cmocka)
#   tests/fuzz/fuzz_*.c                      -> build-fuzz/fuzz_*   (libFuzzer)
# Start-up cost: the sotto binary links only libsodium, libcrypto, libyaml,
# jansson, libpcre2-8 (for sops' Go regexes) and zlib (OpenPGP compressed
# data); libgit2, libcurl and libgpgme (own prototypes: no -dev package)
# are loaded with dlopen() by the commands that need them (guard,
# reconcile, sops files with pgp keys), so `sotto age` starts like a
# static tool.

BUILD    ?= build
CC       ?= cc
PREFIX   ?= /usr/local
OPT      ?= -O2 -g
SAN      ?=
PKGS      = libsodium libcrypto yaml-0.1 jansson libpcre2-8 zlib
WARN      = -Wall -Wextra -Wpedantic -Wshadow -Werror
HARDEN    = -D_FORTIFY_SOURCE=2 -fstack-protector-strong
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS_ALL = -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE $(WARN) $(OPT) $(SAN) \
             $(HARDEN) -Iinclude -Isrc $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -ldl $(LDLIBS)

LIB_SRC  := $(sort $(wildcard src/core/*.c src/crypto/*.c src/tree/*.c \
              src/formats/*.c src/sops/*.c src/git/*.c src/render/*.c \
              src/kube/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HDRS     := $(wildcard include/sotto/*.h src/*/*.h)
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
GITREV   := $(shell cat GITREV 2>/dev/null || git rev-parse --short=12 HEAD \
              2>/dev/null || echo unknown)

.PHONY: all deps build test check fuzz fuzz-short bench demo install clean \
        fmt lint unit test-deps

all: deps
	@$(MAKE) --no-print-directory build

deps:
	@scripts/deps.sh build

build: $(BUILD)/libsotto.a $(BUILD)/sotto $(BUILD)/age $(BUILD)/age-keygen \
       $(BUILD)/sops

$(BUILD)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) -DSOTTO_VERSION='"$(VERSION)"' \
	    -DSOTTO_GITREV='"$(GITREV)"' -c $< -o $@

$(BUILD)/libsotto.a: $(LIB_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(BUILD)/sotto: $(CLI_OBJ) $(BUILD)/libsotto.a
	@echo "  LD      $@"
	@$(CC) $(CFLAGS_ALL) -o $@ $(CLI_OBJ) $(BUILD)/libsotto.a $(LDLIBS_ALL)

# argv[0] personalities
$(BUILD)/age $(BUILD)/age-keygen $(BUILD)/sops: $(BUILD)/sotto
	@ln -sf sotto $@

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsotto.a tests/unit/testutil.h
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(CFLAGS_ALL) -Wno-pedantic -Wno-format-truncation -Itests/unit -o $@ $< \
	    $(BUILD)/libsotto.a $(LDLIBS_ALL) -lcmocka -lz

# the test binaries link build/libsotto.a: build it first, not alongside
# (two makes archiving at once under -j2 gave spurious link errors)
unit: all
	@$(MAKE) --no-print-directory $(UNIT_BIN)

test: test-deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@BUILD=$(BUILD) tests/run.sh

test-deps: deps
	@scripts/deps.sh test

check: test-deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT='-O1 -g' \
	    SAN='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' \
	    build unit
	@BUILD=build-asan SOTTO_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1 \
	    UBSAN_OPTIONS=print_stacktrace=1 tests/run.sh

# libFuzzer: clang only.  FUZZ_SECONDS per target (default 60).
FUZZ_SECONDS ?= 60
# FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION (libFuzzer's convention) lowers
# work-factor caps taken from the input (bcrypt_pbkdf rounds) so that a
# fuzzer does not crawl; nothing else depends on it.
FUZZ_FLAGS = -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -O1 -g -Iinclude -Isrc \
             $(PKG_CFLAGS) -fsanitize=address,undefined \
             -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
FUZZ_OBJ  := $(LIB_SRC:%.c=build-fuzz/obj/%.o)
FUZZ_BIN  := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)

# the library is compiled once with coverage instrumentation, then each
# harness links against it
build-fuzz/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@clang $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build-fuzz/libsotto-fuzz.a: $(FUZZ_OBJ)
	@rm -f $@
	@ar rcs $@ $^

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c build-fuzz/libsotto-fuzz.a
	@echo "  FUZZ    $@"
	@clang $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< \
	    build-fuzz/libsotto-fuzz.a $(PKG_LIBS) -ldl

fuzz-build: deps
	@$(MAKE) --no-print-directory $(FUZZ_BIN)

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

fuzz-short: fuzz-build
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-5} tests/fuzz/run.sh

bench: all
	@tests/bench/run.sh

demo: all
	@scripts/deps.sh demo
	@scripts/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BUILD)/sotto $(DESTDIR)$(PREFIX)/bin/sotto
	for m in man/*.1; do install -m 0644 $$m \
	    $(DESTDIR)$(PREFIX)/share/man/man1/; done
	@if ls man/*.5 >/dev/null 2>&1; then \
	    install -d $(DESTDIR)$(PREFIX)/share/man/man5; \
	    install -m 0644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/; fi
	@if ls man/*.8 >/dev/null 2>&1; then \
	    install -d $(DESTDIR)$(PREFIX)/share/man/man8; \
	    install -m 0644 man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/; fi
	@if [ -d completions ]; then \
	    install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	        $(DESTDIR)$(PREFIX)/share/zsh/site-functions; \
	    install -m 0644 completions/sotto.bash \
	        $(DESTDIR)$(PREFIX)/share/bash-completion/completions/sotto; \
	    install -m 0644 completions/_sotto \
	        $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_sotto; fi

fmt:
	clang-format -i $(LIB_SRC) $(CLI_SRC) include/sotto/*.h

lint:
	@scripts/lint.sh

# releases (scripts/*.sh say how each is made reproducible; see README)
.PHONY: dist deb image release-test
dist:
	@scripts/dist.sh
deb: deps
	@scripts/deb.sh
image: deps
	@scripts/image.sh
release-test: test-deps
	@scripts/release-test.sh

clean:
	rm -rf build build-asan build-fuzz
