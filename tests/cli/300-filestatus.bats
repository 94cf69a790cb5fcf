#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# filestatus prints sops' JSON status line and needs no key.

load helpers
load sops_helpers
load sops_cmd_helpers

setup() { cmd_setup; }

@test "filestatus reports an encrypted file as encrypted, as sotto and as sops" {
	unset SOPS_AGE_KEY_FILE
	for p in $(both); do
		run_io "$p" filestatus enc.yaml
		assert_status 0
		assert_out '{"encrypted":true}'
		[ -z "$err" ]
	done
}

@test "filestatus reports a plain file as not encrypted" {
	for p in $(both); do
		run_io "$p" filestatus plain.yaml
		assert_status 0
		assert_out '{"encrypted":false}'
	done
}

@test "filestatus counts a file without a MAC as not encrypted" {
	grep -v '^    mac:' enc.yaml >nomac.yaml
	run_io "$SOPS" filestatus nomac.yaml
	assert_status 0
	assert_out '{"encrypted":false}'
}

@test "filestatus honours --input-type" {
	cp enc.yaml enc.txt
	run_io "$SOPS" filestatus --input-type yaml enc.txt
	assert_status 0
	assert_out '{"encrypted":true}'
}

@test "filestatus on a missing file exits 100" {
	for p in $(both); do
		run_io "$p" filestatus missing.yaml
		assert_status 100
		assert_err_has "missing.yaml"
	done
}

@test "filestatus without a file exits 100" {
	run_io "$SOPS" filestatus
	assert_status 100
}

@test "filestatus --help lists its flags" {
	run_io "$SOTTO" filestatus --help
	assert_status 0
	[[ "$out" == *--input-type* ]]
}
