#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# config explain: which .sops.yaml and which creation rule, and why not
# the others.

load helpers
load sops_helpers
load sops_cmd_helpers

setup() {
	cmd_setup
	mkdir -p prod dev
	printf 'creation_rules:\n  - path_regex: ^prod/\n    age: %s\n  - path_regex: ^dev/\n    age: %s\n  - age: %s\n' \
	    "$K1_PUB" "$K2_PUB" "$K3_PUB" >.sops.yaml
}

@test "config explain names the file, the selected rule and the others" {
	run_io "$SOTTO" config explain dev/x.yaml
	assert_status 0
	[[ "$out" == *"config: "*"/.sops.yaml"* ]]
	[[ "$out" == *"path seen by the rules: dev/x.yaml"* ]]
	[[ "$out" == *"rule 0: no match (path_regex '^prod/')"* ]]
	[[ "$out" == *"rule 1: selected (path_regex '^dev/')"* ]]
	[[ "$out" == *"rule 2: not reached"* ]]
}

@test "config explain searches from the working directory upwards" {
	cd dev
	run_io "$SOTTO" config explain x.yaml
	assert_status 0
	[[ "$out" == *"rule 1: selected"* ]]
}

@test "config explain without .sops.yaml exits 61" {
	rm .sops.yaml
	run_io "$SOTTO" config explain x.yaml
	assert_status 61
	assert_err_has "no .sops.yaml"
}

@test "config explain with no matching rule says so" {
	printf 'creation_rules:\n  - path_regex: ^prod/\n    age: %s\n' "$K1_PUB" >.sops.yaml
	run_io "$SOTTO" config explain other.yaml
	assert_status 5
	[[ "$out" == *"rule 0: no match"* ]]
}

@test "config explain honours --config" {
	printf 'creation_rules:\n  - age: %s\n' "$K1_PUB" >other.yaml
	run_io "$SOTTO" config explain --config other.yaml prod/x.yaml
	assert_status 0
	[[ "$out" == *"config: other.yaml"* ]]
	[[ "$out" == *"rule 0: selected"* ]]
}

@test "config --help shows the usage; a bad subcommand fails" {
	run_io "$SOTTO" config --help
	assert_status 0
	[[ "$out" == *"config explain"* ]]
	run_io "$SOTTO" config frobnicate
	[ "$status" -ne 0 ]
}

@test "config explain names the keys sops ignores; encrypt still works" {
	cat >.sops.yaml <<-EOF
	creation_rules:
	  - path_regex: ^dev/
	    agee: typo
	    age: $K2_PUB
	    key_groups:
	      - age: [$K1_PUB]
	        kms:
	          - arn: x
	            rol: y
	stores:
	  json:
	    indnet: 2
	creation_rule: []
	EOF
	run_io "$SOTTO" config explain dev/x.yaml
	assert_status 0
	[ "$(printf '%s\n' "$out" | grep '^ignored: ')" = "\
ignored: 'creation_rules[0].agee' is not a key sops reads (sops ignores it)
ignored: 'creation_rules[0].key_groups[0].kms[0].rol' is not a key sops reads (sops ignores it)
ignored: 'stores.json.indnet' is not a key sops reads (sops ignores it)
ignored: 'creation_rule' is not a key sops reads (sops ignores it)" ]
	printf 'a: b\n' >dev/x.yaml
	run_io "$SOTTO" encrypt dev/x.yaml
	assert_status 0
	[ -z "$err" ]
}
