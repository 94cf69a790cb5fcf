#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# .sops.yaml is found as sops finds it: from the working directory
# upwards (config.LookupConfigFile(".")), not from the file's directory;
# --config and SOPS_CONFIG name one directly.  The rules still see the
# file's path relative to the directory of the .sops.yaml used.

load helpers
load sops_helpers

setup() {
	sops_setup
	mkdir -p repo/a/b elsewhere
	printf 'creation_rules:\n  - path_regex: ^secrets/\n    age: %s\n  - age: %s\n' \
	    "$K2_PUB" "$K1_PUB" >repo/.sops.yaml
	printf 'k: v\n' >elsewhere/s.yaml
}

recipient_of() { # recipient_of TEXT: the age recipient written
	printf '%s\n' "$1" | sed -n 's/^[ -]*recipient: //p'
}

@test "a file outside the working directory uses the working directory's .sops.yaml" {
	cd repo
	run_io "$SOTTO" encrypt ../elsewhere/s.yaml
	assert_status 0
	[ "$(recipient_of "$out")" = "$K1_PUB" ]
}

@test "from a subdirectory: the .sops.yaml two levels up" {
	cd repo/a/b
	run_io "$SOTTO" encrypt "$W/elsewhere/s.yaml"
	assert_status 0
	[ "$(recipient_of "$out")" = "$K1_PUB" ]
}

@test "a .sops.yaml beside the file but not above the working directory is not used" {
	cp repo/.sops.yaml elsewhere/
	mkdir -p other && cd other
	run_io "$SOPS" encrypt ../elsewhere/s.yaml
	assert_status 111
	assert_err "sops: error: '../elsewhere/s.yaml': no recipients to \
encrypt to (use --age, --pgp, SOPS_AGE_RECIPIENTS, SOPS_PGP_FP or a .sops.yaml creation rule)"
}

@test "path_regex sees the path relative to the .sops.yaml's directory" {
	mkdir -p repo/secrets
	printf 'k: v\n' >repo/secrets/s.yaml
	cd repo/a
	run_io "$SOTTO" encrypt ../secrets/s.yaml
	assert_status 0
	[ "$(recipient_of "$out")" = "$K2_PUB" ]
}

@test "--config and SOPS_CONFIG still name the file; --config wins" {
	printf 'creation_rules:\n  - age: %s\n' "$K2_PUB" >c2.yaml
	printf 'creation_rules:\n  - age: %s\n' "$K3_PUB" >c3.yaml
	cd repo
	run_io "$SOTTO" encrypt --config ../c2.yaml ../elsewhere/s.yaml
	assert_status 0
	[ "$(recipient_of "$out")" = "$K2_PUB" ]
	SOPS_CONFIG=../c3.yaml run_io "$SOTTO" encrypt ../elsewhere/s.yaml
	assert_status 0
	[ "$(recipient_of "$out")" = "$K3_PUB" ]
	SOPS_CONFIG=../c3.yaml run_io "$SOTTO" encrypt --config ../c2.yaml \
	    ../elsewhere/s.yaml
	[ "$(recipient_of "$out")" = "$K2_PUB" ]
}

@test "config explain searches from the working directory too" {
	cd repo/a
	run_io "$SOTTO" config explain ../../elsewhere/s.yaml
	assert_status 0
	[ "${out%%$'\n'*}" = "config: $W/repo/.sops.yaml" ]
	cd "$W/elsewhere"
	run_io "$SOTTO" config explain s.yaml
	assert_status 61
	assert_err "sotto: error: no .sops.yaml found from the working \
directory '$W/elsewhere' upwards"
}

@test "a rule without keys, key_groups: [] or a {} group: sops' empty key group, exit 1" {
	cat >.sops.yaml <<-'EOF2'
	creation_rules:
	  - path_regex: none\.yaml$
	  - path_regex: zero\.yaml$
	    key_groups: []
	  - path_regex: empty\.yaml$
	    key_groups:
	      - {}
	EOF2
	for f in none zero empty; do
		printf 'a: secret\n' >$f.yaml
		before=$(sha $f.yaml)
		run_io "$SOPS" encrypt -i $f.yaml
		assert_status 1
		assert_err "Could not generate data key: [empty key group provided]"
		[ "$(sha $f.yaml)" = "$before" ]
	done
	run_io "$SOTTO" encrypt zero.yaml
	assert_status 1
	assert_err "sotto: error: '$W/.sops.yaml' creation_rules[1]: key \
group 0 has no keys: Could not generate data key: [empty key group provided]"
	# keys on the command line replace the rule's, as in sops
	run_io "$SOTTO" encrypt --age "$K1_PUB" zero.yaml
	assert_status 0
}
