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

# plugin_identity NAME: a well-formed AGE-PLUGIN-NAME-1... identity.
plugin_identity() {
	python3 -c 'import importlib.machinery as m, importlib.util as u, sys
s = u.spec_from_loader("p", m.SourceFileLoader("p", sys.argv[1]))
p = u.module_from_spec(s); s.loader.exec_module(p)
print(p.bech32_encode("AGE-PLUGIN-" + sys.argv[2].upper() + "-", b"\x42" * 16))' \
	    "$SOTTO_ROOT/tests/tools/age-plugin-sottotest" "$1"
}

@test "a plugin identity in the key Secret is refused and no plugin runs" {
	mkdir -p "$T/pbin"
	printf '#!/bin/sh\ntouch "%s"\nexit 1\n' "$T/plugin-ran" \
	    >"$T/pbin/age-plugin-x"
	chmod +x "$T/pbin/age-plugin-x"
	export PATH="$T/pbin:$PATH"
	plugin_identity x >"$T/plugin.txt"
	# control: the CLI does use plugin identities, so the fake plugin runs
	"$SOTTO" age -r "$PUB" -o "$T/m.age" "$T/key.txt" 2>/dev/null ||
	    echo hi | "$SOTTO" age -r "$PUB" -o "$T/m.age"
	run "$SOTTO" age -d -i "$T/plugin.txt" "$T/m.age"
	[ "$status" -ne 0 ]
	[ -e "$T/plugin-ran" ]
	rm -f "$T/plugin-ran"
	# a native key first, then the plugin line: the whole entry is refused
	"$SOTTO" age-keygen 2>/dev/null >"$T/mixed.txt"
	cat "$T/plugin.txt" >>"$T/mixed.txt"
	$K create secret generic sops-plugin --namespace default \
	    --from-file=age.agekey="$T/mixed.txt" --dry-run=client -o json |
	    $K apply --server-side -f - >/dev/null
	run --separate-stderr "$SOTTO" render --root "$T" \
	    --key-secret default/sops-plugin "$T/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "sotto: error: failed to import 'age.agekey' data from sops decryption Secret 'default/sops-plugin': line 4: plugin identities are not accepted in-cluster (only native age identities: AGE-SECRET-KEY-1..., AGE-SECRET-KEY-PQ-1...)" ]
	[ ! -e "$T/plugin-ran" ]
	[[ "$stderr" != *AGE-PLUGIN-X-1* ]]
}

@test "an SSH private key in the key Secret is refused" {
	command -v ssh-keygen >/dev/null || skip "ssh-keygen not installed"
	ssh-keygen -q -t ed25519 -N '' -f "$T/id_ed25519"
	$K create secret generic sops-ssh --namespace default \
	    --from-file=ssh.agekey="$T/id_ed25519" --dry-run=client -o json |
	    $K apply --server-side -f - >/dev/null
	run --separate-stderr "$SOTTO" render --root "$T" \
	    --key-secret default/sops-ssh "$T/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "sotto: error: failed to import 'ssh.agekey' data from sops decryption Secret 'default/sops-ssh': SSH and PEM private keys are not accepted in-cluster (only native age identities)" ]
}

@test "an identity.asc entry decrypts a file's pgp entry natively (issue 21)" {
	command -v gpg >/dev/null || skip "gpg not installed"
	local fx=$SOTTO_ROOT/tests/fixtures/pgp
	"$SOTTO" age-keygen -o "$T/k2.txt" 2>/dev/null
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: pg\nstringData:\n  password: canary-p9\n' \
	    >"$T/app/pg.yaml"
	"$SOTTO" encrypt --age "$(grep -o 'age1[0-9a-z]*' "$T/k2.txt" | head -1)" \
	    --encrypted-regex '^(data|stringData)$' -i "$T/app/pg.yaml"
	"$SOTTO_ROOT/tests/tools/sops_age_to_pgp.sh" "$T/app/pg.yaml" "$T/k2.txt" \
	    "$fx/cv25519.pub.asc" cv25519@sotto.test
	rm -f "$T/k2.txt"
	refute grep -q "AGE ENCRYPTED" "$T/app/pg.yaml"
	$K create secret generic sops-mixed --namespace default \
	    --from-file=age.agekey=<($K get secret sops-age -o jsonpath='{.data.age\.agekey}' | base64 -d) \
	    --from-file=identity.asc="$fx/cv25519.key.asc" --dry-run=client -o json |
	    $K apply --server-side -f - >/dev/null
	run --separate-stderr "$SOTTO" render --root "$T" --key-secret default/sops-mixed "$T/app"
	[ "$status" -eq 0 ]
	[[ "$output" == *"password: canary-k7"* ]]
	[[ "$output" == *"password: canary-p9"* ]]
	# the age key alone: the pgp entry is a key sotto cannot use there
	run --separate-stderr "$SOTTO" render --root "$T" --key-secret default/sops-age "$T/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *"pg.yaml"*"failed to get the data key: 1 key(s) of types sotto cannot use (pgp/kms/vault...)"* ]]
}
