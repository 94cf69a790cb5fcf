#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# sops benchmark: `sotto decrypt` / `sotto encrypt` of big YAML files
# against, in the same run and on the same files:
#   - the floor: a libyaml parse+emit of the encrypted file (yamlfloor.c;
#     sops-style decryption must read and write that YAML at least once)
#   - the npm peer `sops-age` decrypting the ~10 MB file (once: it is slow)
# Prints a table: times (best of BENCH_RUNS; one run for the biggest file),
# ratios to the floor, peak RSS against the encrypted size, and seconds
# per plaintext MB at ~1 / 10 / 50 MB (linear scaling shows as a flat
# column).  Inputs come from gen_big_yaml.py N (N values, ~42 bytes each).
# Informs, never gates: no thresholds; exits non-zero only when a tool
# fails or a round trip differs.
# Environment: SOTTO (path of build/sotto), BENCH_RUNS (default 3),
# BENCH_SOPS_SIZES (default "25000 250000 1250000"), BENCH_SOPS_PEER=0 to
# skip sops-age.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SOTTO=${SOTTO:-$ROOT/build/sotto}
RUNS=${BENCH_RUNS:-3}
SIZES=${BENCH_SOPS_SIZES:-25000 250000 1250000}
PEER=${BENCH_SOPS_PEER:-1}
HERE=$ROOT/tests/bench

[ -x "$SOTTO" ] || { echo "sops bench: no sotto binary at $SOTTO" >&2; exit 1; }
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "sops bench: /usr/bin/time missing (apt-get install time)" >&2; TIME=; }

D=$(mktemp -d /tmp/sotto-sops-bench.XXXXXX)
trap 'rm -rf "$D"' EXIT
cc -O2 -o "$D/yamlfloor" "$HERE/yamlfloor.c" \
    $(pkg-config --cflags --libs yaml-0.1) ||
    { echo "sops bench: cannot build yamlfloor" >&2; exit 1; }
"$SOTTO" age-keygen -o "$D/key.txt" 2>/dev/null
REC=$(sed -n 's/^# public key: //p' "$D/key.txt")
export SOPS_AGE_KEY_FILE=$D/key.txt
unset SOPS_AGE_KEY SOPS_AGE_RECIPIENTS

now() { date +%s.%N; }
# secs CMD...: seconds one run of CMD takes (stdout discarded)
secs() {
	local t0 t1
	t0=$(now)
	"$@" >/dev/null || { echo "sops bench: failed: $*" >&2; return 1; }
	t1=$(now)
	echo "$t1 - $t0" | bc -l
}
# best RUNS CMD...: the smallest of RUNS runs
best() {
	local n=$1 i s b=
	shift
	for ((i = 0; i < n; i++)); do
		s=$(secs "$@") || return 1
		if [ -z "$b" ] || [ "$(echo "$s < $b" | bc -l)" = 1 ]; then b=$s; fi
	done
	echo "$b"
}
# rss CMD...: peak RSS of CMD in KB (stdout to $D/rss.out)
rss() { "$TIME" -f %M "$@" 2>&1 >"$D/rss.out" | tail -1; }
div() { echo "$1 / $2" | bc -l | xargs printf "%.${3:-2}f"; }
mb() { div "$1" 1048576 1; }

declare -a ROWS
rc=0
# the peer runs on the ~10 MB file (250000 values), else on the first size
read -r n10 _ <<<"$SIZES"
case " $SIZES " in *" 250000 "*) n10=250000 ;; esac
for n in $SIZES; do
	plain=$D/p$n.yaml enc=$D/p$n.enc.yaml
	python3 "$HERE/gen_big_yaml.py" "$n" >"$plain"
	"$SOTTO" encrypt --age "$REC" "$plain" >"$enc" ||
	    { echo "sops bench: encrypt failed ($n values)" >&2; exit 1; }
	ps=$(stat -c %s "$plain") es=$(stat -c %s "$enc")
	r=$RUNS
	[ "$ps" -gt 30000000 ] && r=1
	tf=$(best "$r" "$D/yamlfloor" "$enc") || exit 1
	td=$(best "$r" "$SOTTO" decrypt "$enc") || exit 1
	te=$(best "$r" "$SOTTO" encrypt --age "$REC" "$plain") || exit 1
	rd=- re=-
	if [ -n "$TIME" ]; then
		rd=$(rss "$SOTTO" decrypt "$enc")
		# sops re-renders YAML, so the output is not the input: check
		# that it is the YAML the floor makes of the input
		"$D/yamlfloor" "$D/rss.out" >"$D/a" && "$D/yamlfloor" "$plain" >"$D/b" &&
		    cmp -s "$D/a" "$D/b" || {
			echo "sops bench: decrypt($n values) is not the input" >&2
			rc=1
		}
		rm -f "$D/a" "$D/b"
		re=$(rss "$SOTTO" encrypt --age "$REC" "$plain")
	fi
	ROWS+=("$(printf '%8s %7s %7s %7.3f %7.3f %6s %7.3f %6s %6s %5s %6s %7.3f %7.3f' \
	    "$n" "$(mb "$ps")" "$(mb "$es")" "$tf" "$td" "$(div "$td" "$tf")" \
	    "$te" "$(div "$te" "$tf")" \
	    "$([ "$rd" = - ] && echo - || div "$rd" 1024 0)" \
	    "$([ "$rd" = - ] && echo - || div "$((rd * 1024))" "$es" 1)" \
	    "$([ "$re" = - ] && echo - || div "$re" 1024 0)" \
	    "$(div "$td" "$(mb "$ps")" 3)" "$(div "$te" "$(mb "$ps")" 3)")")
	if [ "$n" = "$n10" ]; then
		dec10=$td enc10=$enc
	else
		rm -f "$plain" "$enc"
	fi
done

echo
echo "sops YAML: floor = libyaml parse+emit of the encrypted file; best of $RUNS (1 over 30 MB)"
printf '%8s %7s %7s %7s %7s %6s %7s %6s %6s %5s %6s %7s %7s\n' \
    values "MB" "enc MB" "floor s" "dec s" "dec/fl" "enc s" "enc/fl" \
    "decRSS" "x enc" "encRSS" "dec s/MB" "enc s/MB"
for row in "${ROWS[@]}"; do echo "$row"; done
echo "  (MB: plaintext; RSS in MB, peak of one run; 'x enc' = decrypt RSS / encrypted size;"
echo "   s/MB per plaintext MB: a flat column is linear scaling)"

# the npm peer, once, on the ~10 MB file
[ "$PEER" = 1 ] || exit $rc
if ! command -v node >/dev/null ||
    ! PKG=$(bash "$ROOT/tests/tools/npm-peers.sh" 2>"$D/npm.err"); then
	echo "sops-age: not available ($(tail -1 "$D/npm.err" 2>/dev/null)); skipped"
	exit $rc
fi
# the key goes through the environment, never argv
(
	SOPS_AGE_KEY=$(grep '^AGE-SECRET-KEY-' "$D/key.txt")
	export SOPS_AGE_KEY SOPS_AGE_PKG=$PKG
	secs node "$ROOT/tests/tools/sops_age_decrypt.mjs" "$enc10" yaml
) >"$D/peer.t" 2>"$D/peer.err"
if [ -s "$D/peer.t" ]; then
	tp=$(cat "$D/peer.t")
	printf 'sops-age %s (node), %s values, one run: %.2f s = %sx sotto decrypt (%.3f s)\n' \
	    "$(node -p "require('$PKG/package.json').version")" "$n10" "$tp" \
	    "$(div "$tp" "$dec10" 1)" "$dec10"
else
	echo "sops-age: failed on the $n10-value file: $(tail -1 "$D/peer.err")"
fi
exit $rc
