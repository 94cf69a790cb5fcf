#!/usr/bin/env bash
# Runs each libFuzzer target in build-fuzz/ for FUZZ_SECONDS, seeded from
# tests/fuzz/seeds/<target>/ into build-fuzz/corpus/<target>/ (the repository
# is never written).  FUZZ_JOBS targets run at once (default: the number of
# CPUs), so `make fuzz-short` stays near FUZZ_SECONDS * targets / CPUs.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1

# run_one NAME: fuzzes build-fuzz/NAME, leaves "ok" or "crash" in NAME.rc
run_one() {
	local n=$1 corpus=build-fuzz/corpus/$1 seeds=tests/fuzz/seeds/$1
	mkdir -p "$corpus"
	[ -d "$seeds" ] || seeds=
	if "build-fuzz/$n" -max_total_time="$secs" -max_len=65536 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="build-fuzz/$n-" \
		"$corpus" $seeds >"build-fuzz/$n.log" 2>&1; then
		echo ok >"build-fuzz/$n.rc"
	else
		echo crash >"build-fuzz/$n.rc"
	fi
}

names=()
for f in build-fuzz/fuzz_*; do
	[ -x "$f" ] && [ -f "$f" ] || continue
	n=$(basename "$f")
	names+=("$n")
	rm -f "build-fuzz/$n.rc"
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	run_one "$n" &
done
wait

rc=0
for n in "${names[@]}"; do
	if [ "$(cat "build-fuzz/$n.rc" 2>/dev/null)" = ok ]; then
		printf '  %-24s ok (%s s, %s)\n' "$n" "$secs" "$(grep -o '#[0-9]\+' "build-fuzz/$n.log" | tail -1) execs"
	else
		printf '  %-24s CRASH (see build-fuzz/%s.log)\n' "$n" "$n"
		grep -m5 -E 'ERROR|SUMMARY' "build-fuzz/$n.log" | sed 's/^/    /'
		rc=1
	fi
done
exit $rc
