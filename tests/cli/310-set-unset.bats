#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# set / unset change one value in place; every other value keeps its
# ciphertext and the MAC is updated.

load helpers
load sops_helpers
load sops_cmd_helpers

setup() { cmd_setup; }

# changed_lines A B: number of lines of B that differ from A
changed_lines() {
	diff "$1" "$2" | grep -c '^>' || true
}

@test "set replaces a scalar: only that value, the MAC and lastmodified change" {
	for p in $(both); do
		cp enc.yaml e.yaml
		run_io "$p" set e.yaml '["port"]' '6543'
		assert_status 0
		[ -z "$out" ]
		[ "$(changed_lines enc.yaml e.yaml)" -le 3 ]
		diff enc.yaml e.yaml | grep -q '^> port: ENC'
		run_io "$SOTTO" decrypt --extract '["port"]' e.yaml
		assert_out 6543
		run_io "$SOTTO" decrypt --extract '["db"]["password"]' e.yaml
		assert_out hunter2
		assert_no_secret e.yaml
	done
}

@test "set takes a JSON string, object and creates missing path components" {
	cp enc.yaml e.yaml
	run_io "$SOPS" set e.yaml '["db"]["user"]' '"root"'
	assert_status 0
	run_io "$SOPS" set e.yaml '["extra"]["deep"][0]' '{"k": true, "n": 2}'
	assert_status 0
	run_io "$SOTTO" decrypt --extract '["extra"]["deep"][0]["n"]' e.yaml
	assert_out 2
	run_io "$SOTTO" decrypt --extract '["db"]["user"]' e.yaml
	assert_out root
}

@test "set on a list index past the end appends" {
	cp enc.yaml e.yaml
	run_io "$SOTTO" set e.yaml '["list"][5]' '"c"'
	assert_status 0
	run_io "$SOTTO" decrypt --extract '["list"][2]' e.yaml
	assert_out c
}

@test "set --value-file and --value-stdin read the JSON value" {
	cp enc.yaml e.yaml
	printf '"from-file"' >v.json
	run_io "$SOPS" set --value-file e.yaml '["db"]["user"]' v.json
	assert_status 0
	run_io "$SOTTO" decrypt --extract '["db"]["user"]' e.yaml
	assert_out from-file
	printf '42' >v.json
	IN=v.json run_io "$SOPS" set --value-stdin e.yaml '["port"]'
	assert_status 0
	run_io "$SOTTO" decrypt --extract '["port"]' e.yaml
	assert_out 42
}

@test "set --idempotent leaves the file alone when the value is already there" {
	cp enc.yaml e.yaml
	run_io "$SOPS" set --idempotent e.yaml '["port"]' '5432'
	assert_status 0
	same_bytes enc.yaml e.yaml
	run_io "$SOPS" set e.yaml '["port"]' '5432'
	assert_status 0
}

@test "set rejects a value that is not JSON with exit 7 and leaves the file" {
	cp enc.yaml e.yaml
	for p in $(both); do
		run_io "$p" set e.yaml '["port"]' 'not json'
		assert_status 7
		same_bytes enc.yaml e.yaml
	done
}

@test "set rejects a bad path with exit 91" {
	cp enc.yaml e.yaml
	run_io "$SOPS" set e.yaml 'port' '1'
	assert_status 91
	same_bytes enc.yaml e.yaml
}

@test "set with the wrong key exits 128 and changes nothing" {
	cp enc.yaml e.yaml
	SOPS_AGE_KEY_FILE=$T/k2.txt run_io "$SOPS" set e.yaml '["port"]' '1'
	assert_status 128
	same_bytes enc.yaml e.yaml
	assert_no_plaintext
}

@test "set on a missing file exits 100" {
	run_io "$SOPS" set missing.yaml '["a"]' '1'
	assert_status 100
}

@test "set with --value-file and --value-stdin together is a conflict (8)" {
	run_io "$SOPS" set --value-file --value-stdin enc.yaml '["a"]'
	assert_status 8
}

@test "unset removes a key and keeps the other ciphertexts" {
	for p in $(both); do
		cp enc.yaml e.yaml
		run_io "$p" unset e.yaml '["port"]'
		assert_status 0
		refute grep -q '^port:' e.yaml
		grep -F "$(grep 'password:' enc.yaml)" e.yaml
		run_io "$SOTTO" decrypt --extract '["db"]["password"]' e.yaml
		assert_out hunter2
	done
}

@test "unset of a missing key fails, and succeeds with --idempotent" {
	cp enc.yaml e.yaml
	run_io "$SOPS" unset e.yaml '["nope"]'
	assert_status 1
	assert_err_has "not found"
	run_io "$SOPS" unset --idempotent e.yaml '["nope"]'
	assert_status 0
	same_bytes enc.yaml e.yaml
}

@test "unset removes a list element" {
	cp enc.yaml e.yaml
	run_io "$SOTTO" unset e.yaml '["list"][0]'
	assert_status 0
	run_io "$SOTTO" decrypt --extract '["list"][0]' e.yaml
	assert_out b
}

@test "legacy sops --set 'PATH VALUE' FILE works" {
	cp enc.yaml e.yaml
	run_io "$SOPS" --set '["port"] 7' e.yaml
	assert_status 0
	run_io "$SOTTO" decrypt --extract '["port"]' e.yaml
	assert_out 7
}

@test "set keeps master keys sotto cannot use" {
	python3 - <<'PY'
s = open('enc.yaml').read()
s = s.replace('    lastmodified:', '    pgp:\n        - created_at: "2024-01-01T00:00:00Z"\n          enc: x\n          fp: ABCDEF0123\n    lastmodified:', 1)
open('pgp.yaml', 'w').write(s)
PY
	run_io "$SOPS" set pgp.yaml '["port"]' '1'
	assert_status 0
	grep -q 'fp: ABCDEF0123' pgp.yaml
}

@test "set and unset --help list their flags" {
	run_io "$SOTTO" set --help
	for f in --value-file --value-stdin --idempotent --ignore-mac; do
		[[ "$out" == *"$f"* ]]
	done
	run_io "$SOTTO" unset --help
	[[ "$out" == *--idempotent* ]]
}

@test "set and unset --output-type rewrite the file in that format, as sops" {
	printf '{"a": 2, "b": "ba"}\n' >j.json
	"$SOTTO" encrypt -i --age "$K1_PUB" j.json
	cp j.json j0.json
	# same value: sops still rewrites (without --idempotent)
	run_io "$SOPS" set --output-type yaml --idempotent j.json '["b"]' '"ba"'
	assert_status 0
	same_bytes j0.json j.json
	run_io "$SOPS" set --output-type yaml j.json '["b"]' '"ba"'
	assert_status 0
	[ "$(head -c 3 j.json)" = "a: " ]
	run_io "$SOTTO" decrypt --input-type yaml j.json
	assert_out "a: 2
b: ba"
	run_io "$SOTTO" unset --input-type yaml --output-type json j.json '["a"]'
	assert_status 0
	run_io "$SOTTO" decrypt j.json
	assert_out '{
	"b": "ba"
}'
	cp j.json j1.json
	run_io "$SOTTO" set --output-type toml j.json '["b"]' '"x"'
	assert_status 7
	same_bytes j1.json j.json
	assert_err "sotto: error: unknown format 'toml' (use yaml, json, dotenv, ini or binary)"
}
