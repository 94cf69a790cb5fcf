#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Where flags may go and which go together: a flag after the file name is
# parsed (sops' command-line library moves a subcommand's flags before its
# arguments), an unknown one is refused before anything is printed (never
# taken for one more file), two legacy modes at once are refused, and the
# legacy `--set 'PATH VALUE' -i FILE` form works.

load helpers
load sops_helpers

setup() {
	sops_setup
	printf 'a: b\nn: 1\n' >p.yaml
	"$SOTTO" encrypt --age "$K1_PUB" p.yaml >e.yaml
	cp e.yaml e0.yaml
	cp p.yaml p0.yaml
}

@test "flags after the file name are parsed" {
	for p in "$SOTTO" "$SOPS"; do
		run_io "$p" decrypt e.yaml --extract '["a"]'
		assert_status 0
		assert_out b
		run_io "$p" encrypt p.yaml --age "$K1_PUB" --output o.yaml
		assert_status 0
		[ -z "$out" ]
		run_io "$SOTTO" decrypt o.yaml
		assert_out "$(cat p.yaml)"
		cp e.yaml e2.yaml
		run_io "$p" set e2.yaml '["a"]' '"c"' --idempotent
		assert_status 0
		run_io "$p" rotate e2.yaml -i
		assert_status 0
		[ -z "$out" ]
		run_io "$p" exec-env e2.yaml 'printf %s "$a"' --pristine
		assert_status 0
		assert_out c
		run_io "$p" filestatus e2.yaml --input-type yaml
		assert_out '{"encrypted":true}'
	done
}

@test "an unknown flag after the file is refused before anything is printed" {
	run_io "$SOTTO" decrypt e.yaml --bogus
	assert_status 2
	[ -z "$out" ]
	assert_err "decrypt: unrecognized option '--bogus'
sotto: hint: run 'sotto decrypt --help' for usage"
	# several files: refused before the first one is decrypted
	run_io "$SOTTO" decrypt e.yaml e0.yaml -x
	assert_status 2
	[ -z "$out" ]
	assert_err_has "decrypt: invalid option -- 'x'"
	run_io "$SOTTO" encrypt --age "$K1_PUB" p.yaml -i --nope
	assert_status 2
	same_bytes p0.yaml p.yaml
	# after --, everything is a file name
	run_io "$SOTTO" decrypt -- --bogus
	assert_status 100
	assert_err "sotto: error: '--bogus': no such file"
}

@test "a set VALUE may start with '-' (a flag only when sotto knows it)" {
	run_io "$SOTTO" set e.yaml '["n"]' -5
	assert_status 0
	run_io "$SOTTO" decrypt --extract '["n"]' e.yaml
	assert_out -5
	run_io "$SOPS" set e.yaml -- '["n"]' -6
	assert_status 0
	run_io "$SOTTO" decrypt --extract '["n"]' e.yaml
	assert_out -6
}

@test "-e and -d together: 8, nothing written" {
	for args in "-e -d p.yaml" "-d e.yaml -e" "--encrypt --rotate e.yaml" "-d --set x e.yaml"; do
		# shellcheck disable=SC2086
		run_io "$SOPS" $args
		assert_status 8
		[ -z "$out" ]
		assert_err "sops: error: cannot use more than one of --encrypt (-e), --decrypt (-d), --rotate (-r) and --set"
	done
	same_bytes p0.yaml p.yaml
	same_bytes e0.yaml e.yaml
	# the same mode twice is fine
	run_io "$SOPS" -d -d e.yaml
	assert_status 0
	# -e and -d are not flags of the subcommands
	run_io "$SOPS" encrypt -d p.yaml
	assert_status 2
	assert_err_has "encrypt: invalid option -- 'd'"
}

@test "legacy --set 'PATH VALUE' -i FILE sets in place, as sops" {
	run_io "$SOPS" --set '["a"] "aaa"' -i e.yaml
	assert_status 0
	[ -z "$out" ]
	run_io "$SOPS" -d -i e.yaml
	assert_status 0
	assert_out ""
	[ "$(cat e.yaml)" = "a: aaa
n: 1" ]
}
