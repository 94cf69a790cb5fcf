#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Post-quantum benchmark: sotto's ML-KEM-768 (keygen/encaps/decaps per
# second) and hybrid age1pq1 encrypt+decrypt of a 1 KB file (round trips
# per second, in process), next to @noble/post-quantum and age-encryption
# (typage) measured in the same run (tests/tools/pq-peers.sh installs them,
# pinned).  Goal: >= 10x the JavaScript peer.  Informs, does not gate.
# Environment: BENCH_PQ_SECS (seconds per measurement, default 2).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
SECS=${BENCH_PQ_SECS:-2}
cd "$ROOT" || exit 1
BIN=$BUILD/bench/mlkem_bench
mkdir -p "$BUILD/bench"
# shellcheck disable=SC2046
cc -std=c11 -D_DEFAULT_SOURCE -O2 -Iinclude -Isrc -o "$BIN" \
    tests/bench/mlkem_bench.c "$BUILD/libsotto.a" \
    $(pkg-config --libs libsodium libcrypto yaml-0.1 jansson) -ldl || {
	echo "pq bench: cannot build $BIN" >&2; exit 1; }
PEERS=$(tests/tools/pq-peers.sh) || exit 1
C=$("$BIN" "$SECS") || { echo "pq bench: $BIN failed" >&2; exit 1; }
J=$(cd "$PEERS" && node "$ROOT/tests/bench/age_pq_bench.mjs" "$SECS") || {
	echo "pq bench: JavaScript side failed" >&2; exit 1; }
python3 - "$C" "$J" <<'PY'
import json, sys
c, j = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rows = [("ML-KEM-768 keygen", "keygen"), ("ML-KEM-768 encaps", "encaps"),
        ("ML-KEM-768 decaps", "decaps"),
        ("age1pq1 encrypt+decrypt 1 KB", "age_pq_1k")]
print("%-30s %12s %12s %8s" % ("ops/s", "sotto", "JS peer", "ratio"))
for label, k in rows:
    print("%-30s %12.0f %12.0f %7.1fx" % (label, c[k], j[k], c[k] / j[k]))
print("JS peer: @noble/post-quantum (ML-KEM), age-encryption (age round trip)")
PY
