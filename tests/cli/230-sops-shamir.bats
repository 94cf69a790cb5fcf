#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Shamir key groups from .sops.yaml: 3 groups (one age key each) with
# shamir_threshold 2.  Any two groups' identities decrypt, one does not
# (128), and the file verifies with the independent oracle.

load helpers
load sops_helpers

setup() {
	sops_setup
	unset SOPS_AGE_KEY_FILE
	cat >.sops.yaml <<YAML
creation_rules:
    - path_regex: \.(yaml|json)\$
      shamir_threshold: 2
      key_groups:
          - age:
                - $K1_PUB
          - age:
                - $K2_PUB
          - age:
                - $K3_PUB
YAML
	cat >s.yaml <<'YAML'
db:
    user: admin
    password: hunter2
port: 5432
YAML
	run_io "$SOTTO" encrypt s.yaml
	assert_status 0
	cp "$T/out" enc.yaml
}

@test "metadata: three key groups and shamir_threshold 2" {
	grep -q '^    shamir_threshold: 2$' enc.yaml
	python3 - enc.yaml <<'PY'
import sys, yaml
m = yaml.safe_load(open(sys.argv[1]))["sops"]
assert m["shamir_threshold"] == 2, m
assert len(m["key_groups"]) == 3, m["key_groups"]
assert all(len(g["age"]) == 1 for g in m["key_groups"]), m["key_groups"]
assert "age" not in m or not m["age"], "age keys belong in key_groups"
PY
}

@test "any two groups decrypt (SOPS_AGE_KEY with two keys)" {
	local pair
	for pair in "$K1_ID $K2_ID" "$K1_ID $K3_ID" "$K2_ID $K3_ID" \
	    "$K3_ID $K1_ID"; do
		SOPS_AGE_KEY=$pair run_io "$SOTTO" decrypt enc.yaml
		assert_status 0
		same_bytes s.yaml "$T/out"
	done
	# one key per line works too
	SOPS_AGE_KEY=$(printf '%s\n%s\n' "$K2_ID" "$K3_ID") \
	    run_io "$SOTTO" decrypt enc.yaml
	assert_status 0
	same_bytes s.yaml "$T/out"
	# all three
	SOPS_AGE_KEY="$K1_ID $K2_ID $K3_ID" run_io "$SOTTO" decrypt enc.yaml
	assert_status 0
	same_bytes s.yaml "$T/out"
}

@test "a single group's identity is not enough: 128, every group reported" {
	local id
	for id in "$K1_ID" "$K2_ID" "$K3_ID"; do
		SOPS_AGE_KEY=$id run_io "$SOTTO" decrypt enc.yaml
		assert_status 128
		[ -z "$out" ]
		assert_err_has enc.yaml
	done
	# the message names each failing group's recipient
	SOPS_AGE_KEY=$K1_ID run_io "$SOTTO" decrypt enc.yaml
	assert_err_has "${K2_PUB:0:20}"
	assert_err_has "${K3_PUB:0:20}"
}

@test "the oracle verifies the Shamir file with two identities" {
	python3 "$ORACLE" enc.yaml --identity "$T/k1.txt" --identity "$T/k3.txt" \
	    --check-only
	run python3 "$ORACLE" enc.yaml --identity "$T/k2.txt" --check-only
	[ "$status" -ne 0 ]
}

@test "--shamir-secret-sharing-threshold 3 overrides the rule" {
	run_io "$SOTTO" encrypt --shamir-secret-sharing-threshold 3 s.yaml
	assert_status 0
	cp "$T/out" enc3.yaml
	grep -q '^    shamir_threshold: 3$' enc3.yaml
	SOPS_AGE_KEY="$K1_ID $K2_ID" run_io "$SOTTO" decrypt enc3.yaml
	assert_status 128
	SOPS_AGE_KEY="$K1_ID $K2_ID $K3_ID" run_io "$SOTTO" decrypt enc3.yaml
	assert_status 0
	same_bytes s.yaml "$T/out"
}

@test "JSON file under the same rule: 2 of 3 groups decrypt" {
	printf '{"a": "b", "n": 1}\n' >s.json
	run_io "$SOTTO" encrypt s.json
	assert_status 0
	cp "$T/out" enc.json
	SOPS_AGE_KEY="$K2_ID $K3_ID" run_io "$SOTTO" decrypt enc.json
	assert_status 0
	same_bytes s.json "$T/out"
	SOPS_AGE_KEY="$K2_ID" run_io "$SOTTO" decrypt enc.json
	assert_status 128
}
