#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Runs every benchmark script in tests/bench/ (age.sh, later sops.sh, ...).
# Benchmarks inform, they do not gate: no timing thresholds here.
# Environment: BUILD (default build), BENCH_ONLY=name to run one script.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export SOTTO="$PWD/$BUILD/sotto"
export SOTTO_ROOT="$PWD"
[ -x "$SOTTO" ] || { echo "bench: $SOTTO not built (make build)" >&2; exit 1; }
rc=0
for b in tests/bench/*.sh; do
	n=$(basename "$b" .sh)
	[ "$n" = run ] && continue
	[ -n "${BENCH_ONLY:-}" ] && [ "$n" != "$BENCH_ONLY" ] && continue
	echo "== bench: $n"
	bash "$b" || rc=1
done
exit $rc
