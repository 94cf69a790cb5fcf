#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# groups add / delete: key groups and Shamir threshold.

load helpers
load sops_helpers
load sops_cmd_helpers

setup() { cmd_setup; }

@test "groups add makes a second key group that both keys are needed for" {
	for p in $(both); do
		cp enc.yaml e.yaml
		run_io "$p" groups add --file e.yaml --age "$K2_PUB" -i
		assert_status 0
		grep -q 'key_groups:' e.yaml
		grep -q 'shamir_threshold: 2' e.yaml
		run_io "$SOTTO" decrypt e.yaml
		assert_status 128
		SOPS_AGE_KEY="$K1_ID
$K2_ID" run_io "$SOTTO" decrypt e.yaml
		assert_out "$(cat plain.yaml)"
	done
}

@test "groups add refuses a Shamir threshold of 1 for two groups" {
	cp enc.yaml e.yaml
	run_io "$SOPS" groups add --file e.yaml --age "$K2_PUB" \
	    --shamir-secret-sharing-threshold 1 -i
	[ "$status" -ne 0 ]
	same_bytes enc.yaml e.yaml
}

@test "groups delete goes back to one group" {
	cp enc.yaml e.yaml
	"$SOTTO" groups add --file e.yaml --age "$K2_PUB" -i
	export SOPS_AGE_KEY="$K1_ID
$K2_ID"
	run_io "$SOPS" groups delete --file e.yaml -i 1
	assert_status 0
	refute grep -q 'key_groups:' e.yaml
	unset SOPS_AGE_KEY
	run_io "$SOTTO" decrypt e.yaml
	assert_out "$(cat plain.yaml)"
}

@test "groups writes to standard output without -i" {
	run_io "$SOPS" groups add --file enc.yaml --age "$K2_PUB"
	assert_status 0
	[[ "$out" == *key_groups:* ]]
}

@test "groups rejects a bad index, kms keys and missing arguments" {
	run_io "$SOPS" groups delete --file enc.yaml 5
	[ "$status" -ne 0 ]
	run_io "$SOPS" groups add --file enc.yaml --kms ABC
	assert_status 1
	assert_err "sops: error: sotto can add only age and pgp keys (--age, --pgp)"
	run_io "$SOPS" groups add --age "$K2_PUB"
	assert_status 1
	run_io "$SOPS" groups
	assert_status 1
}

@test "groups --help lists its flags" {
	run_io "$SOTTO" groups --help
	for f in --file --age --in-place --shamir-secret-sharing-threshold; do
		[[ "$out" == *"$f"* ]]
	done
}
