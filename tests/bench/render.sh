#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Render benchmark: `sotto render` against `kubectl kustomize` (kustomize
# v5.5) on the largest cases of kustomize's own test corpus
# ($SOTTO_SHARED/vectors/kustomize-krusty, skipped when absent) and on a
# generated overlay of 2,000 objects (gen_overlay.py: namespace, prefix,
# labels, images, replicas, patches, a generator).  Both tools build the
# same directory; the outputs are compared (parsed) before timing.  Prints
# the best of BENCH_RUNS runs of each and the ratio kubectl / sotto side
# by side.  Informs, never gates: no thresholds; exits non-zero only when
# a tool fails or the outputs differ.
# Environment: SOTTO, SOTTO_SHARED, BENCH_RUNS (default 5),
# BENCH_RENDER_OBJECTS (default 2000), BENCH_RENDER_CASES (default 6).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SOTTO=${SOTTO:-$ROOT/build/sotto}
SHARED=${SOTTO_SHARED:-$(cd "$ROOT/../shared" 2>/dev/null && pwd)}
RUNS=${BENCH_RUNS:-5}
NOBJ=${BENCH_RENDER_OBJECTS:-2000}
NCASES=${BENCH_RENDER_CASES:-6}

[ -x "$SOTTO" ] || { echo "render bench: no sotto binary at $SOTTO" >&2; exit 1; }
command -v kubectl >/dev/null || { echo "render bench: kubectl not installed" >&2; exit 1; }
D=$(mktemp -d /tmp/sotto-render-bench.XXXXXX)
trap 'rm -rf "$D"' EXIT
export HOME=$D/home KUBECONFIG=/dev/null
mkdir -p "$HOME"

now() { date +%s%N; }
# best_ms CMD...: the smallest wall time of RUNS runs, in ms (one run
# when it takes over 2 s)
best_ms() {
	local i t0 t1 b=
	for ((i = 0; i < RUNS; i++)); do
		t0=$(now)
		"$@" >/dev/null 2>&1 || return 1
		t1=$(now)
		t1=$(((t1 - t0) / 1000))
		[ -z "$b" ] || [ "$t1" -lt "$b" ] && b=$t1
		[ "$b" -gt 2000000 ] && break
	done
	printf '%d.%d' $((b / 1000)) $((b % 1000 / 100))
}
same() { # A B: same objects in the same order
	python3 - "$1" "$2" <<'PY'
import sys, yaml
a = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]
b = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d is not None]
sys.exit(0 if a == b else 1)
PY
}

rc=0
printf '%-58s %7s %10s %10s %8s\n' case objects "sotto ms" "kubectl ms" ratio
one() { # NAME ROOT DIR
	local name=$1 root=$2 dir=$3 n s k
	kubectl kustomize "$dir" >"$D/k.yaml" 2>/dev/null || return 0
	"$SOTTO" render --root "$root" "$dir" >"$D/s.yaml" 2>"$D/s.err" ||
	    { echo "render bench: sotto failed on $name: $(head -c 200 "$D/s.err")" >&2; rc=1; return; }
	same "$D/k.yaml" "$D/s.yaml" || { echo "render bench: outputs differ on $name" >&2; rc=1; return; }
	n=$(grep -c '^kind:' "$D/s.yaml")
	s=$(best_ms "$SOTTO" render --root "$root" "$dir")
	k=$(best_ms kubectl kustomize "$dir")
	printf '%-58s %7s %10s %10s %7.1fx\n' "${name:0:58}" "$n" "$s" "$k" \
	    "$(echo "$k / $s" | bc -l)"
}

if [ -d "$SHARED/vectors/kustomize-krusty/cases" ]; then
	for c in $(cd "$SHARED/vectors/kustomize-krusty/cases" &&
	    du -sb */root | sort -rn | head -n "$NCASES" | awk '{print $2}'); do
		c=${c%/root}
		cd_=$SHARED/vectors/kustomize-krusty/cases/$c
		run=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run"])' "$cd_/case.json")
		one "krusty $c" "$cd_/root" "$cd_/$run"
	done
else
	echo "(kustomize krusty corpus not found under $SHARED: corpus cases skipped)"
fi
python3 "$ROOT/tests/bench/gen_overlay.py" "$D/gen" "$NOBJ"
one "generated overlay ($NOBJ objects)" "$D/gen" "$D/gen/overlay"
exit $rc
