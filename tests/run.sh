#!/usr/bin/env bash
# Runs every test family and prints one closing line "N passed, N failed".
#   unit    build/tests/test_*        (cmocka; vectors included)
#   cli     tests/cli/*.bats          (bats; interop with real peers)
#   fuzz    tests/fuzz/fuzz_*.c       (libFuzzer, a few seconds each)
# Environment: BUILD (build dir, default build), SOTTO_SHARED (default
# ../shared), SKIP_FUZZ=1 to skip the short fuzz run.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export SOTTO_SHARED=${SOTTO_SHARED:-$(cd ../shared 2>/dev/null && pwd)}
export SOTTO="$PWD/$BUILD/sotto"
export SOTTO_ROOT="$PWD"
pass=0; fail=0; failed=()

note() { printf '%s\n' "$*"; }
record() { # name status
	if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$1"); fi
}

note "== unit tests"
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1); s=$?
	n=$(printf '%s\n' "$out" | grep -c '^\[       OK \]')
	printf '  %-28s %s (%s cases)\n' "$(basename "$t")" "$([ $s = 0 ] && echo ok || echo FAIL)" "$n"
	[ $s = 0 ] || printf '%s\n' "$out" | grep -E 'FAILED|ERROR|error|Assert' | head -20 | sed 's/^/    /'
	record "$(basename "$t")" $s
done

note "== cli tests (bats)"
if ls tests/cli/*.bats >/dev/null 2>&1; then
	for f in tests/cli/*.bats; do
		out=$(bats --tap "$f" 2>&1); s=$?
		ok=$(printf '%s\n' "$out" | grep -c '^ok ')
		bad=$(printf '%s\n' "$out" | grep -c '^not ok ')
		printf '  %-40s %s (%s ok, %s failed)\n' "$(basename "$f")" "$([ $s = 0 ] && echo ok || echo FAIL)" "$ok" "$bad"
		[ $s = 0 ] || printf '%s\n' "$out" | grep -A12 '^not ok' | head -40 | sed 's/^/    /'
		record "$(basename "$f")" $s
	done
fi

if [ "${SKIP_FUZZ:-0}" != 1 ] && [ -z "${SOTTO_SANITIZED:-}" ] && ls tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
	note "== fuzz (short run)"
	if make -s fuzz-build >/tmp/sotto-fuzz-build.log 2>&1; then
		FUZZ_SECONDS=${FUZZ_SECONDS:-3} tests/fuzz/run.sh; s=$?
		record fuzz $s
	else
		tail -5 /tmp/sotto-fuzz-build.log; record fuzz-build 1
	fi
fi

[ ${#failed[@]} -eq 0 ] || note "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
