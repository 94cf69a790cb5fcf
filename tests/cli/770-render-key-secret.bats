#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# `sotto render --key-secret NS/NAME`: keys come from a Secret read through
# the Kubernetes API stand-in (issue #7's key input, issue #8's client).

load helpers
load kube_helpers

bats_require_minimum_version 1.5.0

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start
	"$SOTTO" age-keygen -o "$T/key.txt" 2>/dev/null
	PUB=$(grep -o 'age1[0-9a-z]*' "$T/key.txt" | head -1)
	$K create secret generic sops-age --namespace default \
	    --from-file=age.agekey="$T/key.txt" --dry-run=client -o json \
	    >"$T/keysecret.json"
	$K apply --server-side -f "$T/keysecret.json" >/dev/null
	mkdir -p "$T/app"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: canary-k7\n' \
	    >"$T/app/secret.yaml"
	"$SOTTO" encrypt --age "$PUB" --encrypted-regex '^(data|stringData)$' \
	    -i "$T/app/secret.yaml"
	rm -f "$T/key.txt"
	unset SOPS_AGE_KEY_FILE SOPS_AGE_KEY
}

teardown() {
	standin_stop
}

@test "render decrypts with the age key held in a Kubernetes Secret" {
	run "$SOTTO" render --root "$T" --key-secret default/sops-age "$T/app"
	[ "$status" -eq 0 ]
	[[ "$output" == *"password: canary-k7"* ]]
}

@test "a missing key Secret fails with nothing on stdout and no plaintext" {
	run --separate-stderr "$SOTTO" render --root "$T" \
	    --key-secret default/nope "$T/app"
	[ "$status" -ne 0 ]
	[ -z "$output" ]
	[[ "$stderr" == *"default/nope"* ]]
	[[ "$stderr" != *canary-k7* ]]
}
