#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# sotto encrypt / decrypt failures: the exact sops exit status (spec
# sops-format.md §8.3), a message naming the file (and key path), the input
# left byte-identical and no temp file left behind.

load helpers
load sops_helpers

setup() {
	sops_setup
}

# fails STATUS NAME FILE CMD...: runs CMD, expects STATUS and NAME in
# stderr, FILE unchanged (sha256) and the directory listing unchanged.
fails() {
	local want=$1 name=$2 file=$3 before listing
	shift 3
	before=$(sha "$file")
	listing=$(ls -A | sort)
	run_io "$@"
	assert_status "$want"
	[ -n "$name" ] && assert_err_has "$name"
	[ -z "$out" ] || {
		echo "unexpected stdout: $out" >&2
		return 1
	}
	[ "$(sha "$file")" = "$before" ] || {
		echo "$file was modified" >&2
		return 1
	}
	[ "$(ls -A | sort)" = "$listing" ] || {
		printf 'directory changed:\n%s\n' "$(ls -A)" >&2
		return 1
	}
}

encrypted() { # encrypted SRC DST
	run_io "$SOTTO" encrypt --age "$K1_PUB" "$1"
	assert_status 0
	cp "$T/out" "$2"
}

@test "malformed YAML: 2, names the file and line" {
	printf 'a: [x\nb: c\n' >bad.yaml
	fails 2 bad.yaml bad.yaml "$SOTTO" encrypt -i --age "$K1_PUB" bad.yaml
	assert_err_has line
}

@test "malformed JSON: 2, names the file" {
	printf '{"a": }\n' >bad.json
	fails 2 bad.json bad.json "$SOTTO" encrypt -i --age "$K1_PUB" bad.json
	printf '{"a": "b"' >trunc.json
	fails 2 trunc.json trunc.json "$SOTTO" encrypt --age "$K1_PUB" trunc.json
}

@test "malformed dotenv: 2, names the file" {
	printf 'GOOD=1\nNOEQUALS\n' >bad.env
	fails 2 bad.env bad.env "$SOTTO" encrypt -i --age "$K1_PUB" bad.env
	assert_err_has 'line 2'
}

@test "malformed INI: 2, names the file" {
	need_ini
	printf '[sect\na = b\n' >bad.ini
	fails 2 bad.ini bad.ini "$SOTTO" encrypt -i --age "$K1_PUB" bad.ini
}

@test "already encrypted: 203" {
	printf 'a: b\n' >p.yaml
	encrypted p.yaml e.yaml
	fails 203 e.yaml e.yaml "$SOTTO" encrypt -i --age "$K1_PUB" e.yaml
	fails 203 e.yaml e.yaml "$SOPS" -e --age "$K1_PUB" e.yaml
}

@test "no recipients: 111" {
	printf 'a: b\n' >p.yaml
	fails 111 p.yaml p.yaml "$SOTTO" encrypt -i p.yaml
	assert_err_has recipient
}

@test "missing file: 100, names it" {
	printf 'a: b\n' >p.yaml
	fails 100 nope.yaml p.yaml "$SOTTO" encrypt --age "$K1_PUB" nope.yaml
	fails 100 nope.yaml p.yaml "$SOTTO" decrypt nope.yaml
}

@test "-i with standard input: 8" {
	printf 'a: b\n' >p.yaml
	IN=p.yaml fails 8 'in-place' p.yaml "$SOTTO" encrypt -i --age "$K1_PUB" \
	    --filename-override p.yaml -
	IN=p.yaml fails 8 'in-place' p.yaml "$SOTTO" decrypt -i -
}

@test "-i with --output: 8" {
	printf 'a: b\n' >p.yaml
	fails 8 'output' p.yaml "$SOTTO" encrypt -i --output o.yaml \
	    --age "$K1_PUB" p.yaml
	[ ! -e o.yaml ]
}

@test "encrypt from stdin without --filename-override: 8" {
	printf 'a: b\n' >p.yaml
	IN=p.yaml fails 8 'filename-override' p.yaml "$SOTTO" encrypt \
	    --age "$K1_PUB" -
}

@test "no matching identity: 128, names the file" {
	printf 'a: b\n' >p.yaml
	encrypted p.yaml e.yaml
	SOPS_AGE_KEY_FILE=$T/k3.txt fails 128 e.yaml e.yaml \
	    "$SOTTO" decrypt -i e.yaml
	assert_err_has SOPS_AGE_KEY_FILE
	# no identity source at all
	(
		unset SOPS_AGE_KEY_FILE
		fails 128 e.yaml e.yaml "$SOTTO" decrypt e.yaml
	)
}

@test "decrypting a file without sops metadata: 1, names the file" {
	printf 'a: b\n' >p.yaml
	fails 1 p.yaml p.yaml "$SOTTO" decrypt -i p.yaml
	assert_err_has metadata
}

@test "truncated encrypted JSON: 2, names the file" {
	printf '{"a": "b", "c": "d"}\n' >p.json
	encrypted p.json e.json
	head -c $(($(wc -c <e.json) / 2)) e.json >t.json
	fails 2 t.json t.json "$SOTTO" decrypt -i t.json
}

@test "truncated encrypted YAML (sops block cut off): 1, names the file" {
	printf 'a: b\nc: d\n' >p.yaml
	encrypted p.yaml e.yaml
	# keep everything before the sops block
	sed '/^sops:/,$d' e.yaml >t.yaml
	fails 1 t.yaml t.yaml "$SOTTO" decrypt -i t.yaml
	# cut inside the metadata: no mac / version -> not a sops file or
	# a metadata error, never success
	head -n $(($(grep -n '^sops:' e.yaml | cut -d: -f1) + 3)) e.yaml >t2.yaml
	run_io "$SOTTO" decrypt t2.yaml
	[ "$status" -ne 0 ]
	assert_err_has t2.yaml
}

@test "oversized input (sparse file over the 256 MiB cap): 2, fast" {
	truncate -s 257M big.yaml
	fails 2 big.yaml big.yaml "$SOTTO" encrypt -i --age "$K1_PUB" big.yaml
}

@test "--extract with a malformed path: 91" {
	printf 'a: b\n' >p.yaml
	encrypted p.yaml e.yaml
	fails 91 'garbage' e.yaml "$SOTTO" decrypt --extract 'garbage' e.yaml
	fails 91 '' e.yaml "$SOTTO" decrypt --extract '["a"' e.yaml
}

@test "--extract of a key that does not exist: 1 (sops: error truncating tree)" {
	printf 'a: b\n' >p.yaml
	encrypted p.yaml e.yaml
	fails 1 zz e.yaml "$SOTTO" decrypt --extract '["zz"]' e.yaml
}

@test "invalid regular expression: 1 (ErrorGeneric), names the regex" {
	printf 'a: b\n' >p.yaml
	fails 1 '(' p.yaml "$SOTTO" encrypt -i --age "$K1_PUB" \
	    --encrypted-regex '(' p.yaml
}

@test "two selection rules at once: 8 (conflicting parameters)" {
	printf 'a: b\n' >p.yaml
	fails 8 '' p.yaml "$SOTTO" encrypt -i --age "$K1_PUB" \
	    --encrypted-regex a --unencrypted-suffix _x p.yaml
}

@test "ENC value with a bad key path: 25, names the key path" {
	printf 'first: one\nsecond: two\n' >p.yaml
	encrypted p.yaml e.yaml
	python3 "$TOOLS/tamper_sops.py" e.yaml "$T/v" >/dev/null
	cp "$T/v/swap-0-1.yaml" s.yaml
	# the value of "second" now sits at "first": that path fails first
	fails 25 first s.yaml "$SOTTO" decrypt -i s.yaml
	assert_err_has s.yaml
}
