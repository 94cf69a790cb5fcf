# SPDX-License-Identifier: ISC
# Shared bats helpers.  Load with `load helpers` and call `sotto_setup`
# from setup().  Environment (set by tests/run.sh): SOTTO (absolute path of
# build/sotto), SOTTO_SHARED (vectors), SOTTO_ROOT (work tree).
#
#   sotto_setup           HOME under $BATS_TEST_TMPDIR, cd there, argv[0]
#                         personalities $AGE and $KEYGEN as symlinks
#   run_io CMD...         runs CMD with stdin from $IN (default /dev/null),
#                         stdout -> $T/out, stderr -> $T/err; sets status,
#                         out and err (binary-safe: the files stay)
#   make_plain F SIZE     writes a fixture of SIZE bytes holding a marker
#                         string; the marker is remembered
#   assert_no_plaintext   fails if any remembered marker appears in the
#                         last run_io's stdout or stderr
#   assert_status N / assert_err TEXT / assert_err_has TEXT / assert_out TEXT
#   need_real_age         REAL_AGE = Debian's age (installed with apt-get
#                         when root and missing; else the test is skipped)

sotto_setup() {
	: "${SOTTO_ROOT:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
	: "${SOTTO:=$SOTTO_ROOT/build/sotto}"
	: "${SOTTO_SHARED:=$(cd "$SOTTO_ROOT/../shared" 2>/dev/null && pwd)}"
	export SOTTO SOTTO_ROOT SOTTO_SHARED
	[ -x "$SOTTO" ] || {
		echo "sotto binary not found at '$SOTTO' (run make build)" >&2
		return 1
	}
	T=$BATS_TEST_TMPDIR
	export HOME=$T/home
	mkdir -p "$HOME" "$T/bin"
	ln -sf "$SOTTO" "$T/bin/age"
	ln -sf "$SOTTO" "$T/bin/age-keygen"
	AGE=$T/bin/age
	KEYGEN=$T/bin/age-keygen
	PTY_RUN=$SOTTO_ROOT/tests/tools/pty_run.py
	MARKERS_FILE=$T/.markers
	: >"$MARKERS_FILE"
	cd "$T" || return 1
}

run_io() {
	local s=0
	"$@" <"${IN:-/dev/null}" >"$T/out" 2>"$T/err" || s=$?
	status=$s
	out=$(cat "$T/out")
	err=$(cat "$T/err")
	return 0
}

# make_plain FILE SIZE: a fixture with a unique marker every 4 KiB (so
# any released chunk holds one), padded with random bytes.
make_plain() {
	local f=$1 size=$2 marker
	marker="sotto-fixture-plaintext-$RANDOM$RANDOM$RANDOM"
	printf '%s\n' "$marker" >>"$MARKERS_FILE"
	python3 - "$f" "$size" "$marker" <<'EOF'
import os, sys
f, size, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
out = bytearray()
while len(out) < size:
    out += marker + os.urandom(4096 - len(marker))
with open(f, "wb") as fh:
    fh.write(bytes(out[:size]))
EOF
}

assert_no_plaintext() {
	local m
	while IFS= read -r m; do
		[ -n "$m" ] || continue
		if grep -aqF -- "$m" "$T/out" "$T/err"; then
			echo "fixture plaintext leaked to stdout or stderr" >&2
			return 1
		fi
	done <"$MARKERS_FILE"
}

assert_status() {
	if [ "$status" != "$1" ]; then
		echo "expected status $1, got $status; stderr:" >&2
		printf '%s\n' "$err" >&2
		return 1
	fi
}

assert_err() {
	if [ "$err" != "$1" ]; then
		printf 'stderr differs.\nexpected: %s\nactual:   %s\n' "$1" \
		    "$err" >&2
		return 1
	fi
}

assert_err_has() {
	case $err in
	*"$1"*) return 0 ;;
	esac
	printf 'stderr lacks: %s\nactual: %s\n' "$1" "$err" >&2
	return 1
}

assert_out() {
	if [ "$out" != "$1" ]; then
		printf 'stdout differs.\nexpected: %s\nactual:   %s\n' "$1" \
		    "$out" >&2
		return 1
	fi
}

# same_bytes A B: byte-for-byte equality of two files.
same_bytes() {
	cmp -s "$1" "$2" || {
		echo "files differ: $1 $2 ($(wc -c <"$1") vs $(wc -c <"$2") bytes)" >&2
		return 1
	}
}

need_real_age() {
	local p
	p=$(command -v age 2>/dev/null || true)
	if [ -z "$p" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq age \
		    >/dev/null 2>&1 || true
		p=$(command -v age 2>/dev/null || true)
	fi
	[ -n "$p" ] || skip "Debian 'age' is not installed (apt-get install age)"
	if [ "$(readlink -f "$p")" = "$(readlink -f "$SOTTO")" ]; then
		skip "'age' on PATH is sotto itself, not the reference"
	fi
	REAL_AGE=$p
	REAL_KEYGEN=$(command -v age-keygen)
}

# flip_byte IN OUT OFFSET [MASK]: copies IN to OUT with one byte XORed
# (a negative OFFSET counts from the end).
flip_byte() {
	python3 - "$@" <<'PY'
import sys
src, dst, off = sys.argv[1], sys.argv[2], int(sys.argv[3])
mask = int(sys.argv[4], 0) if len(sys.argv) > 4 else 1
b = bytearray(open(src, "rb").read())
b[off] ^= mask
open(dst, "wb").write(bytes(b))
PY
}

# mac_offset FILE: offset of the first header MAC character.
mac_offset() {
	python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); print(d.index(b"\n--- ")+5)' "$1"
}

# `! cmd` does not fail a bats test (errexit ignores negated commands):
# write `refute cmd ARGS...` for "cmd must fail".
refute() {
	if "$@"; then
		echo "unexpectedly succeeded: $*" >&2
		return 1
	fi
}
