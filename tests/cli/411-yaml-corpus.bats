#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The YAML round-trip corpus: every YAML file under tests/, vectors/ and
# ../shared/vectors (plaintext ones as they are, sops-encrypted ones once
# decrypted, as sops wrote them) encrypts and decrypts back byte for byte,
# or is listed in yaml-roundtrip-exceptions.tsv with the warning that
# encryption prints for it.  Files sotto refuses, as sops does (not a
# mapping, an empty stream, duplicate keys), and PGP-only fixtures are
# counted apart.  The driver is tests/tools/yaml_corpus.py.

load helpers

setup() {
	sotto_setup
	EXC=$SOTTO_ROOT/tests/cli/yaml-roundtrip-exceptions.tsv
	CORPUS=$SOTTO_ROOT/tests/tools/yaml_corpus.py
}

@test "every YAML file of the project's tests and vectors round-trips or is a documented exception" {
	run_io timeout 900 python3 "$CORPUS" --sotto "$SOTTO" --exceptions "$EXC" \
	    --name "tests=$SOTTO_ROOT/tests" --name "vectors=$SOTTO_ROOT/vectors"
	[ "$status" = 0 ] || { cat "$T/out" >&2; return 1; }
	[[ "$out" == *", 0 failed" ]]
	# the corpus is not empty: the render fixtures alone are dozens
	n=$(sed -n 's/^yaml corpus: \([0-9]*\) exact.*/\1/p' "$T/out")
	[ "$n" -ge 50 ]
}

@test "every YAML file of ../shared/vectors (decrypted sops fixtures included) round-trips or is a documented exception" {
	[ -d "$SOTTO_SHARED/vectors" ] || skip "no ../shared/vectors"
	run_io timeout 1800 python3 "$CORPUS" --sotto "$SOTTO" --exceptions "$EXC" \
	    --name "shared=$SOTTO_SHARED/vectors"
	[ "$status" = 0 ] || { cat "$T/out" >&2; return 1; }
	[[ "$out" == *", 0 failed" ]]
	n=$(sed -n 's/^yaml corpus: \([0-9]*\) exact.*/\1/p' "$T/out")
	[ "$n" -ge 1000 ]
}

@test "an exception that no longer applies, or whose warning is missing, fails the corpus" {
	mkdir -p c
	printf 'a: 1\n' >c/exact.yaml
	printf 'b: off\n' >c/quoted.yaml
	printf 'c: &x {k: v}\nd: *x\n' >c/alias.yaml
	printf 'c/exact.yaml\tis under an alias\nc/quoted.yaml\tis under an alias\nc/alias.yaml\tis under an alias\n' >exc.tsv
	run_io python3 "$CORPUS" --sotto "$SOTTO" --exceptions exc.tsv --name "c=$T/c"
	assert_status 1
	grep -qx 'FAIL c/exact.yaml: listed as an exception but round-trips exactly' "$T/out"
	grep -q "^FAIL c/quoted.yaml: listed (is under an alias) but encryption did not warn so; warnings: .*value at 'b' is a plain string that YAML 1.1 reads as a boolean or a number: it decrypts quoted, as sops writes it$" "$T/out"
	refute grep -q 'c/alias.yaml' "$T/out"
	[ "$(tail -1 "$T/out")" = "yaml corpus: 1 exact, 1 documented exceptions, 0 refused, 0 not decryptable here, 2 failed" ]
}

@test "a file that does not round-trip and is not listed fails the corpus, naming the first difference" {
	mkdir -p c
	printf 'b: off\n' >c/quoted.yaml
	: >exc.tsv
	run_io python3 "$CORPUS" --sotto "$SOTTO" --exceptions exc.tsv --name "c=$T/c"
	assert_status 1
	grep -q "^FAIL c/quoted.yaml: round trip differs at line 1: b'off\\\\n' vs b'\"off\"\\\\n'; warnings: " "$T/out"
	[[ "$out" == *"yaml corpus: 0 exact, 0 documented exceptions, 0 refused, 0 not decryptable here, 1 failed" ]]
}
