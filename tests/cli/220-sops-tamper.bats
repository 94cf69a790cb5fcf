#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Tampered sops files (variants from tests/tools/tamper_sops.py): one
# base64 character of every value's data / iv / tag, two values swapped
# between key paths, the stored MAC's parts and lastmodified.  Each must
# fail with sops' status (25 for a value, 51 for the MAC), print no
# plaintext, and behave as sops does with --ignore-mac (a value still
# fails; a MAC or lastmodified change is then accepted).

load helpers
load sops_helpers

setup() {
	sops_setup
}

# tamper_all PLAINFILE: encrypts it, makes every variant and checks each.
tamper_all() {
	local p=$1 ext=${1##*.} name want ign n=0 bad=0
	enc "$p"
	assert_status 0
	cp "$T/out" "enc.$ext"
	dec "enc.$ext"
	assert_status 0
	same_bytes "$p" "$T/out"
	python3 "$TOOLS/tamper_sops.py" "enc.$ext" "$T/v.$ext" >"$T/manifest"
	while IFS=$'\t' read -r name want ign; do
		n=$((n + 1))
		run_io "$SOTTO" decrypt "$T/v.$ext/$name.$ext"
		if [ "$status" != "$want" ]; then
			echo "$name: status $status, want $want: $err" >&2
			bad=$((bad + 1))
		elif [ -n "$out" ] || grep -q 'plaintext-marker' "$T/err"; then
			echo "$name: output on failure" >&2
			bad=$((bad + 1))
		elif [ "$want" = 25 ] && [[ $err != *"$T/v.$ext/$name.$ext"* ]]; then
			echo "$name: message does not name the file: $err" >&2
			bad=$((bad + 1))
		fi
		run_io "$SOTTO" decrypt --ignore-mac "$T/v.$ext/$name.$ext"
		if [ "$status" != "$ign" ]; then
			echo "$name --ignore-mac: status $status, want $ign: $err" >&2
			bad=$((bad + 1))
		elif [ "$ign" = 0 ] && ! cmp -s "$p" "$T/out"; then
			echo "$name --ignore-mac: output differs from the plaintext" >&2
			bad=$((bad + 1))
		fi
	done <"$T/manifest"
	echo "# $p: $n variants, $bad wrong" >&3
	# every value x 3 parts, a swap, 3 MAC parts, lastmodified
	[ "$n" -ge 8 ]
	[ "$bad" = 0 ]
}

@test "tampered YAML: every value part, swap, MAC, lastmodified" {
	cat >t.yaml <<'YAML'
first: plaintext-marker-1
second: plaintext-marker-2
n: 42
f: 2.5
b: true
nested:
    deep: plaintext-marker-3
list:
    - plaintext-marker-4
    - plaintext-marker-5
YAML
	tamper_all t.yaml
}

@test "tampered JSON: every value part, swap, MAC, lastmodified" {
	cat >t.json <<'JSON'
{
  "first": "plaintext-marker-1",
  "second": "plaintext-marker-2",
  "n": 42,
  "f": 2.5,
  "b": false,
  "nested": {"deep": "plaintext-marker-3"},
  "list": ["plaintext-marker-4", "plaintext-marker-5"]
}
JSON
	tamper_all t.json
}

@test "tampered dotenv: every value part, swap, MAC, lastmodified" {
	printf 'FIRST=plaintext-marker-1\nSECOND=plaintext-marker-2\n' >t.env
	tamper_all t.env
}

@test "list items moved within a list: only the MAC notices (51)" {
	printf 'l:\n    - plaintext-marker-a\n    - plaintext-marker-b\n' >l.yaml
	enc l.yaml
	assert_status 0
	cp "$T/out" enc.l.yaml
	# swap the two list items (same AAD "l:"): values decrypt, MAC fails
	python3 - enc.l.yaml <<'PY'
import sys
f = sys.argv[1]
lines = open(f).read().split("\n")
i = [n for n, l in enumerate(lines) if l.startswith("    - ENC[")]
lines[i[0]], lines[i[1]] = lines[i[1]], lines[i[0]]
open(f, "w").write("\n".join(lines))
PY
	dec enc.l.yaml
	assert_status 51
	[ -z "$out" ]
	assert_err_has enc.l.yaml
	dec enc.l.yaml --ignore-mac
	assert_status 0
	printf 'l:\n    - plaintext-marker-b\n    - plaintext-marker-a\n' >want.yaml
	same_bytes want.yaml "$T/out"
}

@test "MAC removed: 51 unless --ignore-mac (vectors/sops/current/no_mac.yaml)" {
	# sops: the file still has a sops block, so it is loaded; decrypting
	# the empty MAC fails -> MacMismatch (51); --ignore-mac skips it
	printf 'a: b\n' >m.yaml
	enc m.yaml
	assert_status 0
	grep -v '^    mac: ' "$T/out" >nomac.yaml
	dec nomac.yaml
	assert_status 51
	[ -z "$out" ]
	dec nomac.yaml --ignore-mac
	assert_status 0
	same_bytes m.yaml "$T/out"
}

@test "a value's type changed (str -> int): fails, no output" {
	printf 'a: plaintext-marker\n' >ty.yaml
	enc ty.yaml
	assert_status 0
	sed 's/type:str\]/type:int]/' "$T/out" >ty2.yaml
	dec ty2.yaml
	assert_status 25
	[ -z "$out" ]
	dec ty2.yaml --ignore-mac
	assert_status 25
}
