#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# YAML output: values print as sops (go-yaml v3) prints them, in a file
# sotto did not write as in a fresh document; a file sotto wrote comes
# back byte for byte, and where sops' format forces a change encryption
# names the key path in a warning.  Every write path keeps untouched lines.

load helpers
load sops_helpers

setup() {
	sops_setup
}

# A sops-shaped YAML file (every value plain ENC[...], go-yaml layout),
# as sops writes one, from JSON: sotto encrypt --output-type yaml.
sops_shaped() {
	printf '%s\n' "$1" >"$2.json"
	"$SOTTO" encrypt --age "$K1_PUB" --output-type yaml "$2.json" \
	    >"$2.yaml" || return 1
	rm -f "$2.json"
}

@test "strings YAML 1.1 reads as something else decrypt double-quoted, as sops prints them" {
	sops_shaped '{"a": "off", "b": "on", "c": "yes", "d": "n", "e": "1:20", "f": "true", "g": "123", "h": "2024-01-01", "i": "hello", "k": "", "l": "y", "m": " lead", "n": "it'"'"'s: x"}' s
	dec s.yaml
	assert_status 0
	assert_out 'a: "off"
b: "on"
c: "yes"
d: "n"
e: "1:20"
f: "true"
g: "123"
h: "2024-01-01"
i: hello
k: ""
l: "y"
m: '"'"' lead'"'"'
"n": '"'"'it'"'"''"'"'s: x'"'"
	assert_err ""
}

@test "the same strings converted to YAML from JSON are quoted the same way" {
	printf '{"a": "off", "d": "n", "e": "1:20", "i": "hello"}\n' >s.json
	enc s.json
	assert_status 0
	cp "$T/out" e.json
	dec e.json --output-type yaml
	assert_status 0
	assert_out 'a: "off"
d: "n"
e: "1:20"
i: hello'
}

@test "floats sops wrote print in go-yaml's shortest form; the real sops 3.7 example decrypts to sops' bytes" {
	export SOPS_AGE_KEY_FILE=$SOTTO_SHARED/vectors/sops/hist/keys.txt
	cp "$SOTTO_SHARED/vectors/sops/hist/example.yaml" ex.yaml
	dec ex.yaml
	assert_status 0
	same_bytes "$T/out" "$SOTTO_SHARED/vectors/sops/hist/example.yaml.plain"
	grep -qx '    - 1.234568e+09' "$T/out" || grep -qx 'number: 1.234568e+09' "$T/out"
	dec ex.yaml --extract '["number"]'
	assert_status 0
	assert_out '1.234568e+09'
	# the twin: the same file with one ciphertext byte changed fails
	# and prints nothing
	off=$(grep -bo 'number: ENC\[AES256_GCM,data:' ex.yaml | cut -d: -f1)
	flip_byte ex.yaml bad.yaml $((off + 30))
	dec bad.yaml
	[ "$status" -ne 0 ]
	assert_out ''
	assert_err_has "cannot decrypt the value at 'number'"
}

@test "a float whose text YAML reads as an integer or a string prints in go-yaml's form" {
	printf '{"j": 1e21, "g": 1.7976931348623157e308, "h": 6.02214076e23, "i": 1234568000.0, "z": 0.000001}\n' >f.json
	enc f.json
	assert_status 0
	cp "$T/out" e.json
	dec e.json --output-type yaml
	assert_status 0
	assert_out 'j: 1e+21
g: 1.7976931348623157e+308
h: 6.02214076e+23
i: 1.234568e+09
z: 1e-06'
	printf 'big: 1000000000000000000000\ntagged: !!float 1234568000\ninf: .inf\nkept: 1.50\n' >f.yaml
	enc f.yaml
	assert_status 0
	cp "$T/out" e.yaml
	assert_err "'f.yaml': value at 'big' decrypts in the spelling go-yaml gives its value, as sops writes it
'f.yaml': value at 'tagged' has a tag, which sops does not keep: it decrypts untagged
'f.yaml': the float value at 'inf' is spelled in a way sops cannot read: it was encrypted in sops' canonical form"
	dec e.yaml
	assert_status 0
	assert_out 'big: 1e+21
tagged: 1.234568e+09
inf: .inf
kept: 1.50'
}

@test "a plain date is a time value as sops 3.10 encrypts it and decrypts as sops prints it" {
	printf 'a: 2024-01-01\nb: 2006-01-02T15:04:05+07:06\nc: "2024-01-01"\n' >t.yaml
	enc t.yaml
	assert_status 0
	assert_err "'t.yaml': the time value at 'a' is spelled in a way sops cannot read: it was encrypted in sops' canonical form"
	cp "$T/out" e.yaml
	[ "$(grep -c 'type:time\]' e.yaml)" = 2 ]
	[ "$(grep -c 'type:str\]' e.yaml)" = 2 ]	# c and the MAC
	dec e.yaml
	assert_status 0
	assert_out 'a: 2024-01-01T00:00:00Z
b: 2006-01-02T15:04:05+07:06
c: "2024-01-01"'
	# a clear date counts in the MAC in sops' form (ToBytes: MarshalText),
	# so the clear spelling may stay as written and the file verifies
	printf 'd_unencrypted: 2024-01-01\ne: x\n' >u.yaml
	roundtrip u.yaml
	grep -qx 'd_unencrypted: 2024-01-01' enc.u.yaml
	sed -i 's/^d_unencrypted: 2024-01-01$/d_unencrypted: 2024-01-02/' enc.u.yaml
	dec enc.u.yaml
	assert_status 51
	assert_out ''
}

@test "an empty YAML file cannot be encrypted (exit 92, as sops), nor one of comments only" {
	: >empty.yaml
	enc empty.yaml
	assert_status 92
	assert_out ''
	assert_err "sotto: error: 'empty.yaml': File cannot be completely empty, it must contain at least one document"
	printf '# nothing here\n\n' >c.yaml
	"$SOPS" encrypt --age "$K1_PUB" -i c.yaml 2>"$T/err" && return 1
	[ "$(cat "$T/err")" = "sops: error: 'c.yaml': File cannot be completely empty, it must contain at least one document" ]
	[ "$(cat c.yaml)" = "# nothing here" ]
}

@test "an empty mapping {} and an empty trailing document round-trip as sops writes them" {
	printf '{}\n' >e.yaml
	roundtrip e.yaml
	assert_err ""
	printf 'a: 1\n---\n' >d.yaml
	enc d.yaml
	assert_status 0
	assert_err "'d.yaml': value at '(root)' is an empty document: it decrypts as {}, as sops writes one"
	cp "$T/out" enc.d.yaml
	dec enc.d.yaml
	assert_out 'a: 1
---
{}'
}

@test "aliases: only those whose values are encrypted are written out, in the file's own indentation, with a warning" {
	cat >a.yaml <<'EOF'
base: &b
  user: admin  # who
  pass: hunter2
prod:
  <<: *b
  host: p
list:
- *b
- [*b]
EOF
	enc a.yaml
	assert_status 0
	assert_err "'a.yaml': value at 'prod.<<.user' is under an alias, which sops cannot keep: the encrypted file holds a copy, and it decrypts written out in full
'a.yaml': value at 'list.user' is under an alias, which sops cannot keep: the encrypted file holds a copy, and it decrypts written out in full
'a.yaml': value at 'list.user' is under an alias, which sops cannot keep: the encrypted file holds a copy, and it decrypts written out in full"
	cp "$T/out" enc.a.yaml
	oracle enc.a.yaml
	dec enc.a.yaml
	assert_status 0
	assert_out 'base: &b
  user: admin  # who
  pass: hunter2
prod:
  <<:
    user: admin
    pass: hunter2
  host: p
list:
- user: admin
  pass: hunter2
- [{user: admin, pass: hunter2}]'
	# an alias of values left clear stays an alias, both ways
	printf 'kind: Secret\nd: &d {app: x}\nlabels: *d\ndata:\n  k: v\n' >k.yaml
	roundtrip k.yaml --encrypted-regex '^data$'
	assert_err ""
	grep -qx 'labels: \*d' enc.k.yaml
}

@test "unset and set keep every line they do not change" {
	cat >s.yaml <<'EOF'
# top
a:  1   # spaced
b:
  c: 2
  d: [1, 2]
  e:
  - x
  - z
q: last
EOF
	enc s.yaml
	assert_status 0
	cp "$T/out" e.yaml
	cp e.yaml e2.yaml
	run_io "$SOTTO" unset e.yaml '["b"]["c"]'
	assert_status 0
	run_io "$SOTTO" unset e.yaml '["b"]["e"][0]'
	assert_status 0
	dec e.yaml
	assert_out '# top
a:  1   # spaced
b:
  d: [1, 2]
  e:
  - z
q: last'
	run_io "$SOTTO" set e2.yaml '["b"]["new"]' '{"k": [1, "off"]}'
	assert_status 0
	run_io "$SOTTO" set e2.yaml '["r"]' '"added"'
	assert_status 0
	dec e2.yaml
	assert_out '# top
a:  1   # spaced
b:
  c: 2
  d: [1, 2]
  e:
  - x
  - z
  new:
    k:
    - 1
    - "off"
q: last
r: added'
	oracle e2.yaml
	# the twin: a path that is not there changes nothing
	cp e.yaml before.yaml
	run_io "$SOTTO" unset e.yaml '["nope"]'
	assert_status 1
	assert_err "sotto: error: component ['nope'] not found"
	same_bytes e.yaml before.yaml
}

@test "set and unset on a file that ends without a line break keep it so" {
	printf 'a: 2\nb: ba' >n.yaml
	enc n.yaml
	assert_status 0
	cp "$T/out" e.yaml
	[ "$(tail -c 1 e.yaml)" != "" ] && [ "$(tail -c 1 e.yaml | od -An -c | tr -d ' ')" != '\n' ]
	run_io "$SOTTO" set e.yaml '["c"]' '{"cc": "ccc"}'
	assert_status 0
	dec e.yaml
	# no nested map to learn the indentation from: sops' 4
	assert_out 'a: 2
b: ba
c:
    cc: ccc'
	[ "$(tail -c 3 "$T/out")" = "ccc" ]
	run_io "$SOTTO" unset e.yaml '["c"]'
	assert_status 0
	dec e.yaml
	same_bytes "$T/out" n.yaml
}

@test "plain and quoted strings in flow collections, folded blocks and 4-byte UTF-8 round-trip byte for byte" {
	printf 'l: [a, b c, "d", '"'"'e,f'"'"', 1, x: z]\nm: {k: v, n: "w"}\nf: >\n  one line\n\n  next\ng: "\360\237\232\200 and \303\251"\nh: "tab\\there"\n' >r.yaml
	roundtrip r.yaml
	assert_err ""
	grep -q "^l: \['ENC" enc.r.yaml
}

@test "what cannot come back is named: escapes, wrapped folded lines, flow quotes, YAML 1.1 strings, True" {
	printf 's: "caf\\u00e9"\nf: >\n  wrapped\n  line\nl: ['"'"'x'"'"']\nn: off\nb: True\n' >w.yaml
	enc w.yaml
	assert_status 0
	assert_err "'w.yaml': value at 's' has escapes in its double quotes: it decrypts with the characters they stand for
'w.yaml': value at 'f' is a folded block with wrapped lines: it decrypts with each paragraph on one line
'w.yaml': value at 'l' is single-quoted in a flow collection where it needs no quotes: it decrypts plain
'w.yaml': value at 'n' is a plain string that YAML 1.1 reads as a boolean or a number: it decrypts quoted, as sops writes it
'w.yaml': value at 'b' decrypts in the spelling go-yaml gives its value, as sops writes it"
	cp "$T/out" e.yaml
	dec e.yaml
	assert_status 0
	assert_out "s: \"café\"
f: >
  wrapped line
l: [x]
n: \"off\"
b: true"
	assert_err ""
}

@test "a file with many values that cannot come back lists the first 20 and counts the rest" {
	for i in $(seq 1 25); do printf 'v%d: !!float 1.5\n' "$i"; done >m.yaml
	enc m.yaml
	assert_status 0
	[ "$(grep -c "has a tag, which sops does not keep" "$T/err")" = 20 ]
	assert_err_has "'m.yaml': 5 more values like these (only the first 20 are listed)"
}

@test "a literal block with a line of only spaces is named: that line decrypts empty" {
	printf 'a: |\n  one\n \n  two\nb: |\n  kept\n\n  too\n' >l.yaml
	enc l.yaml
	assert_status 0
	assert_err "'l.yaml': value at 'a' is a literal block with a line holding only spaces: it decrypts with that line empty"
	cp "$T/out" e.yaml
	dec e.yaml
	assert_status 0
	assert_out 'a: |
  one

  two
b: |
  kept

  too'
}
