#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ML-KEM-768 beyond the fixed vectors of build/tests/test_mlkem:
#   * cross-check with the npm package @noble/post-quantum (pinned, installed
#     into tests/.peers by tests/tools/pq-peers.sh) on 100 random inputs:
#     KeyGen_internal(d, z), Encaps_internal(ek, m), Decaps of a random
#     (implicitly rejected) ciphertext;
#   * the constant-time check: test_mlkem under valgrind with the secret
#     inputs marked undefined (SOTTO_CT_TEST=1) must report nothing.

load helpers

setup() {
	sotto_setup
	BUILD_DIR=$(dirname "$SOTTO")
	TEST_MLKEM=$BUILD_DIR/tests/test_mlkem
	[ -x "$TEST_MLKEM" ] || { echo "$TEST_MLKEM not built" >&2; return 1; }
}

@test "ML-KEM-768 agrees with @noble/post-quantum on 100 random inputs" {
	PEERS=$("$SOTTO_ROOT/tests/tools/pq-peers.sh") || {
		echo "cannot install the npm peers (see above)" >&2
		return 1
	}
	(cd "$PEERS" && node "$SOTTO_ROOT/tests/tools/mlkem_noble.mjs" 100) \
	    >cross.txt
	[ "$(wc -l <cross.txt)" = 100 ]
	SOTTO_MLKEM_CROSS=$PWD/cross.txt SOTTO_MLKEM_ITERATIONS=100 \
	    run "$TEST_MLKEM"
	echo "$output"
	[ "$status" = 0 ]
	[[ $output == *"cross-check with @noble/post-quantum: 100 inputs"* ]]
}

@test "constant time: no secret-dependent branch or index under valgrind" {
	command -v valgrind >/dev/null || {
		echo "valgrind is required for the constant-time check" >&2
		return 1
	}
	[ -z "${SOTTO_SANITIZED:-}" ] || skip "not under ASan"
	SOTTO_CT_TEST=1 SOTTO_MLKEM_ITERATIONS=1 run valgrind -q \
	    --error-exitcode=9 "$TEST_MLKEM"
	echo "$output" | grep -v '^\[' | head -40
	[ "$status" = 0 ]
	[[ $output == *"[       OK ] test_constant_time"* ]]
}
