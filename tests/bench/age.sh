#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# age benchmark: sotto against Debian's age in the same run, on the same
# inputs.  Prints a table:
#   - encrypt / decrypt of a 512 MiB file (best of 3, runs alternate)
#   - the ChaCha20-Poly1305 ceiling (`openssl speed`, 64 KiB blocks, one
#     core) times the cores sotto may use, and sotto's fraction of it
#     (sotto runs the payload on one thread per core; SOTTO_AGE_THREADS)
#   - whole-process time on a 100-byte file (hyperfine if present, else a
#     loop of 200 runs)
#   - peak RSS decrypting 1 GiB (/usr/bin/time -v) on 16 threads; sotto
#     must stay under 16 MB (the only check that fails this script; no
#     timing thresholds)
# Environment: SOTTO (path of build/sotto), BENCH_MIB (default 512),
# BENCH_RSS_MIB (default 1024), BENCH_RUNS (default 3), BENCH_SMALL_N (200).
set -u
SOTTO=${SOTTO:-$(cd "$(dirname "$0")/../.." && pwd)/build/sotto}
MIB=${BENCH_MIB:-512}
RSS_MIB=${BENCH_RSS_MIB:-1024}
RUNS=${BENCH_RUNS:-3}
SMALL_N=${BENCH_SMALL_N:-200}
RSS_LIMIT_KB=16384

need() { # need CMD PACKAGE: install with apt-get when root and missing
	command -v "$1" >/dev/null && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" \
		    >/dev/null 2>&1
	fi
	command -v "$1" >/dev/null
}

[ -x "$SOTTO" ] || { echo "age bench: no sotto binary at $SOTTO" >&2; exit 1; }
AGE=
if need age age && [ "$(readlink -f "$(command -v age)")" != "$(readlink -f "$SOTTO")" ]; then
	AGE=$(command -v age)
else
	echo "age bench: Debian age not available; sotto only" >&2
fi
TIME=
if [ -x /usr/bin/time ] || need /usr/bin/time time; then TIME=/usr/bin/time; fi

D=$(mktemp -d /tmp/sotto-bench.XXXXXX)
trap 'rm -rf "$D"' EXIT
"$SOTTO" age-keygen -o "$D/key.txt" 2>/dev/null
REC=$(sed -n 's/^# public key: //p' "$D/key.txt")

now() { date +%s.%N; }
# secs CMD...: runs CMD (output discarded by the caller) and prints seconds
secs() {
	local t0 t1
	t0=$(now)
	"$@" || { echo "age bench: failed: $*" >&2; return 1; }
	t1=$(now)
	echo "$t1 - $t0" | bc -l
}
min() { printf '%s\n' "$@" | sort -g | head -1; }
fmt() { printf '%.3f' "$1"; }
mibs() { echo "$1 / $2" | bc -l | xargs printf '%.0f'; }

# tool-specific command lines ($1 = binary path or "sotto")
# timed encryptions write to /dev/null (no file-system cost in the figure)
enc() { if [ "$1" = sotto ]; then "$SOTTO" age -r "$REC" "$3" >"$2"; else "$AGE" -r "$REC" "$3" >"$2"; fi; }
dec() { if [ "$1" = sotto ]; then "$SOTTO" age -d -i "$D/key.txt" "$2" >/dev/null; else "$AGE" -d -i "$D/key.txt" "$2" >/dev/null; fi; }

echo "preparing a $MIB MiB input in $D ..." >&2
head -c "${MIB}M" /dev/urandom >"$D/plain"
tools="sotto"
[ -n "$AGE" ] && tools="sotto age"

declare -A E DEC
for t in $tools; do E[$t]=""; DEC[$t]=""; done
for ((i = 0; i < RUNS; i++)); do
	for t in $tools; do
		s=$(secs enc "$t" /dev/null "$D/plain") || exit 1
		E[$t]="${E[$t]} $s"
	done
done
for t in $tools; do enc "$t" "$D/enc.$t" "$D/plain" || exit 1; done
# both tools decrypt the same (sotto-made) ciphertext
for ((i = 0; i < RUNS; i++)); do
	for t in $tools; do
		s=$(secs dec "$t" "$D/enc.sotto") || exit 1
		DEC[$t]="${DEC[$t]} $s"
	done
done
# the other direction is checked once, untimed
if [ -n "$AGE" ]; then
	"$SOTTO" age -d -i "$D/key.txt" "$D/enc.age" | cmp -s - "$D/plain" ||
	    { echo "age bench: sotto cannot decrypt age's output" >&2; exit 1; }
fi
rm -f "$D/enc.age"

# openssl ceiling: one core, 64 KiB blocks (1000s of bytes per second),
# times the cores sotto may use
cores=$(nproc)
one=$(openssl speed -evp chacha20-poly1305 -seconds 2 -bytes 65536 2>/dev/null |
    tail -1 | awk '{ v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1048576 }')
ceiling=$((one * cores))

printf '\n%-34s %10s %10s %10s\n' "age, $MIB MiB file (best of $RUNS)" sotto age "age/sotto"
for op in encrypt decrypt; do
	if [ $op = encrypt ]; then
		# shellcheck disable=SC2086
		s=$(min ${E[sotto]}); a=$([ -n "$AGE" ] && min ${E[age]})
	else
		# shellcheck disable=SC2086
		s=$(min ${DEC[sotto]}); a=$([ -n "$AGE" ] && min ${DEC[age]})
	fi
	if [ -n "$AGE" ]; then
		printf '%-34s %9ss %9ss %9sx\n' "  $op time" "$(fmt "$s")" "$(fmt "$a")" "$(printf '%.2f' "$(echo "$a / $s" | bc -l)")"
		printf '%-34s %10s %10s\n' "  $op MiB/s" "$(mibs "$MIB" "$s")" "$(mibs "$MIB" "$a")"
	else
		printf '%-34s %9ss %10s\n' "  $op time" "$(fmt "$s")" -
		printf '%-34s %10s %10s\n' "  $op MiB/s" "$(mibs "$MIB" "$s")" -
	fi
	[ $op = encrypt ] && enc_mibs=$(mibs "$MIB" "$s")
	[ $op = decrypt ] && dec_mibs=$(mibs "$MIB" "$s")
done
if [ -n "$ceiling" ] && [ "$ceiling" -gt 0 ]; then
	printf '%-34s %10s\n' "openssl chacha20-poly1305 64 KiB" "$one MiB/s x $cores cores"
	printf '%-34s %9s%% %9s%%\n' "  sotto fraction of cores x openssl (enc / dec)" \
	    "$(echo "100 * $enc_mibs / $ceiling" | bc)" "$(echo "100 * $dec_mibs / $ceiling" | bc)"
fi

# whole-process time on a 100-byte file
head -c 100 /dev/urandom >"$D/small"
"$SOTTO" age -r "$REC" -o "$D/small.age" "$D/small"
small_loop() { # small_loop MODE TOOL: per-run milliseconds over SMALL_N runs
	local t0 t1 i bin
	bin=$SOTTO; [ "$2" = age ] && bin=$AGE
	t0=$(now)
	for ((i = 0; i < SMALL_N; i++)); do
		if [ "$1" = enc ]; then
			if [ "$2" = sotto ]; then "$bin" age -r "$REC" "$D/small" >/dev/null
			else "$bin" -r "$REC" "$D/small" >/dev/null; fi
		else
			if [ "$2" = sotto ]; then "$bin" age -d -i "$D/key.txt" "$D/small.age" >/dev/null
			else "$bin" -d -i "$D/key.txt" "$D/small.age" >/dev/null; fi
		fi
	done
	t1=$(now)
	echo "($t1 - $t0) * 1000 / $SMALL_N" | bc -l | xargs printf '%.2f'
}
printf '\n%-34s %10s %10s %10s\n' "100-byte file, whole process" sotto age "age/sotto"
for m in enc dec; do
	s=$(small_loop $m sotto)
	if [ -n "$AGE" ]; then
		a=$(small_loop $m age)
		printf '%-34s %8sms %8sms %9sx\n' "  ${m}rypt (mean of $SMALL_N)" "$s" "$a" "$(printf '%.2f' "$(echo "$a / $s" | bc -l)")"
	else
		printf '%-34s %8sms %10s\n' "  ${m}rypt (mean of $SMALL_N)" "$s" -
	fi
done
if command -v hyperfine >/dev/null; then
	hyperfine -N -w 20 -r "$SMALL_N" \
	    "$SOTTO age -d -i $D/key.txt $D/small.age" \
	    ${AGE:+"$AGE -d -i $D/key.txt $D/small.age"} 2>/dev/null |
	    grep -E 'Time|±' | sed 's/^/  hyperfine: /'
fi

# peak RSS decrypting 1 GiB
rc=0
if [ -n "$TIME" ]; then
	rm -f "$D/plain" "$D/enc.sotto"
	head -c "${RSS_MIB}M" /dev/zero | "$SOTTO" age -r "$REC" >"$D/big.age"
	rss() { "$TIME" -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ { print $2 }'; }
	rs=$(SOTTO_AGE_THREADS=16 rss "$SOTTO" age -d -i "$D/key.txt" "$D/big.age")
	ra=-; [ -n "$AGE" ] && ra=$(rss "$AGE" -d -i "$D/key.txt" "$D/big.age")
	printf '\n%-34s %8sKB %8sKB\n' "peak RSS, decrypt $RSS_MIB MiB (16 thr.)" "$rs" "$ra"
	if [ "$rs" -lt "$RSS_LIMIT_KB" ]; then
		echo "  sotto peak RSS under 16 MB: ok"
	else
		echo "  sotto peak RSS ${rs} KB exceeds 16 MB" >&2
		rc=1
	fi
else
	echo "peak RSS: /usr/bin/time not available (apt-get install time)" >&2
fi
exit $rc
