#!/usr/bin/env bash
# Runs each libFuzzer target in build-fuzz/ for FUZZ_SECONDS, seeded from
# tests/fuzz/corpus/<target>/ (created from vectors when missing).
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-60}
rc=0
for f in build-fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	n=$(basename "$f")
	corpus=build-fuzz/corpus/$n
	mkdir -p "$corpus"
	seeds=tests/fuzz/seeds/$n
	[ -d "$seeds" ] || seeds=
	if "$f" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		"$corpus" $seeds >"build-fuzz/$n.log" 2>&1; then
		printf '  %-24s ok (%s s, %s)\n' "$n" "$secs" "$(grep -o '#[0-9]\+' "build-fuzz/$n.log" | tail -1) execs"
	else
		printf '  %-24s CRASH (see build-fuzz/%s.log)\n' "$n" "$n"
		grep -m5 -E 'ERROR|SUMMARY' "build-fuzz/$n.log" | sed 's/^/    /'
		rc=1
	fi
done
exit $rc
