#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# sotto encrypt / decrypt: decrypt(encrypt(x)) == x byte for byte for every
# store, -i / --output / several files / stdin, --extract, --output-type,
# the selection rules and the sops personality.

load helpers
load sops_helpers

setup() {
	sops_setup
}

# ---- YAML -------------------------------------------------------------------

@test "yaml: comments, nesting, lists and scalar types round-trip" {
	cat >a.yaml <<'EOF'
# top comment
app:
    name: demo # inline comment
    password: s3cr3t
    port: 5432
    ratio: 0.75
    enabled: true
    nothing: null
    empty: ""
    # comment inside a map
    users:
        - alice
        - bob
        - name: carol
          token: "quoted: yes"
    single: 'it''s'
    unicode: "ünïcödé 日本語"
list_at_top:
    - 1
    - -2
    - 3.5
EOF
	roundtrip a.yaml
	# values are encrypted, the structure is not
	grep -q '^    password: ENC\[AES256_GCM,' enc.a.yaml
	grep -q 'type:int\]' enc.a.yaml
	grep -q 'type:float\]' enc.a.yaml
	grep -q 'type:bool\]' enc.a.yaml
	grep -q '^    nothing: null$' enc.a.yaml
	grep -q '^    empty: ""$' enc.a.yaml
	refute grep -q 's3cr3t' enc.a.yaml
}

@test "yaml: block scalars (literal, folded, chomping) round-trip" {
	cat >b.yaml <<'EOF'
literal: |
    line one
    line two
folded: >
    folded text on one line
strip: |-
    no trailing newline
keep: |+
    keep trailing

pem: |
    -----BEGIN KEY-----
    MIIBPAIBAAJBAPTMNIyHuZtpLYc7VsHQtwOkWYobkUblmHWRmbXzlAX6K8tMf3Wf
    -----END KEY-----
after: x
EOF
	roundtrip b.yaml
	refute grep -q 'line one' enc.b.yaml
}

@test "yaml: multi-line folded scalar keeps its value (line breaks may move)" {
	printf 'f: >\n    folded text\n    continues here\nx: y\n' >fo.yaml
	enc fo.yaml
	assert_status 0
	cp "$T/out" enc.fo.yaml
	dec enc.fo.yaml
	assert_status 0
	same_data yaml fo.yaml "$T/out"
}

@test "yaml: characters outside the BMP round-trip byte for byte in every style" {
	# go-yaml's emitter escapes 4-byte UTF-8 as \U... (sops does too when
	# it re-emits); sotto splices values back in their original style, so
	# the decrypted file equals the input, emoji included
	printf 'a: \360\237\216\211 party\nb: "\303\274"\nc: |\n    emoji \360\237\216\211\nd: x\ne: '"'"'\360\237\216\211'"'"'\n' >em.yaml
	enc em.yaml
	assert_status 0
	cp "$T/out" enc.em.yaml
	dec enc.em.yaml
	assert_status 0
	same_bytes em.yaml "$T/out"
}

@test "yaml: multi-document file round-trips, metadata in every document" {
	cat >m.yaml <<'EOF'
first: one
---
second: two
nested:
    k: v
---
third: 3
EOF
	roundtrip m.yaml
	[ "$(grep -c '^sops:' enc.m.yaml)" = 3 ]
}

@test "yaml: CRLF line endings round-trip" {
	printf 'a: one\r\nb:\r\n    c: two\r\n    d: 3\r\n' >crlf.yaml
	roundtrip crlf.yaml
}

@test "yaml: 2-space indentation and quoted flow collections round-trip" {
	cat >f.yaml <<'EOF'
a:
  b: x
  c: [1, "two", 3.5]
  d: {e: "f", g: 7}
EOF
	roundtrip f.yaml
}

@test "yaml: plain strings in flow collections keep their value" {
	# an ENC string must be quoted inside [...] / {...}; the decrypted
	# value cannot know it was plain before, so only the data is compared
	printf 'c: [1, two, 3.5]\nd: {e: f, g: 7}\n' >fl.yaml
	enc fl.yaml
	assert_status 0
	cp "$T/out" enc.fl.yaml
	dec enc.fl.yaml
	assert_status 0
	same_data yaml fl.yaml "$T/out"
}

# ---- JSON -------------------------------------------------------------------

@test "json: 2-space indented nested document round-trips" {
	cat >j2.json <<'EOF'
{
  "name": "demo",
  "nested": {
    "list": ["a", "b", {"c": "d"}],
    "deeper": {"x": true, "y": false, "z": null}
  },
  "empty": ""
}
EOF
	roundtrip j2.json
	grep -q '"empty": ""' enc.j2.json
	grep -q '"z": null' enc.j2.json
}

@test "json: 4-space indentation round-trips" {
	cat >j4.json <<'EOF'
{
    "a": "b",
    "c": {
        "d": [
            1,
            2
        ]
    }
}
EOF
	roundtrip j4.json
}

@test "json: tab indentation round-trips" {
	printf '{\n\t"a": "b",\n\t"c": {\n\t\t"d": 1\n\t}\n}\n' >jt.json
	roundtrip jt.json
}

@test "json: numbers (int64 limits, small, floats) round-trip" {
	cat >n.json <<'EOF'
{
  "zero": 0,
  "neg": -17,
  "max": 9223372036854775807,
  "min": -9223372036854775808,
  "pi": 3.14159,
  "small": 0.001,
  "negf": -0.5,
  "big": 1234567.875
}
EOF
	roundtrip n.json
	grep -q '"max": "ENC\[AES256_GCM,.*type:int\]"' enc.n.json
	grep -q '"pi": "ENC\[AES256_GCM,.*type:float\]"' enc.n.json
}

@test "json: unicode strings round-trip" {
	cat >u.json <<'EOF'
{"greek": "αβγ", "cjk": "日本語", "emoji": "🎉🔐", "mixed": "ünïcödé"}
EOF
	roundtrip u.json
}

@test "json: escapes (quote, backslash, newline, tab, control) round-trip" {
	cat >e.json <<'EOF'
{"q": "say \"hi\"", "bs": "C:\\path", "nl": "a\nb", "tab": "a\tb", "ctl": "\u0001x"}
EOF
	roundtrip e.json
}

@test "json: \\u escapes of printable characters keep their value" {
	# the ciphertext holds the decoded text; its escape spelling is lost
	cat >ue.json <<'EOF'
{"e": "caf\u00e9", "lt": "\u003cb\u003e"}
EOF
	enc ue.json
	assert_status 0
	cp "$T/out" enc.ue.json
	dec enc.ue.json
	assert_status 0
	same_data json ue.json "$T/out"
}

@test "json: top-level-only sops key is added once, document stays valid" {
	printf '{"a": "b"}\n' >s.json
	roundtrip s.json
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "sops" in d and d["sops"]["mac"].startswith("ENC[")' enc.s.json
}

# ---- dotenv, INI, binary ----------------------------------------------------

@test "dotenv: round-trips (comments, = in values, spaces, unicode)" {
	cat >a.env <<'EOF'
# comment line
DB_USER=admin
DB_PASS=p=ss w0rd
EMPTY=
URL=https://example.com/?a=1&b=2
UNI=ünïcödé
EOF
	roundtrip a.env
	grep -q '^DB_PASS=ENC\[AES256_GCM,' enc.a.env
	grep -q '^sops_version=' enc.a.env
}

@test "ini: sections and comments round-trip" {
	need_ini
	cat >a.ini <<'EOF'
; top comment
[database]
user = admin
password = s3cr3t

[server]
port = 8080
EOF
	roundtrip a.ini
	grep -q '^\[sops\]' enc.a.ini
	refute grep -q 's3cr3t' enc.a.ini
}

@test "binary: random bytes round-trip exactly" {
	head -c 4099 /dev/urandom >blob.bin
	printf '\0\n\r\377' >>blob.bin
	roundtrip blob.bin
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["data"].startswith("ENC[")' enc.blob.bin
}

@test "binary: empty file round-trips" {
	: >empty.bin
	enc empty.bin
	assert_status 0
	cp "$T/out" enc.empty.bin
	dec enc.empty.bin
	assert_status 0
	same_bytes empty.bin "$T/out"
}

# ---- output modes -------------------------------------------------------------

@test "-i: encrypts in place atomically, keeps the mode, leaves no temp file" {
	printf 'a: secret\nb: 2\n' >ip.yaml
	cp ip.yaml orig.yaml
	chmod 640 ip.yaml
	run_io "$SOTTO" encrypt -i --age "$K1_PUB" ip.yaml
	assert_status 0
	[ -z "$out" ]
	grep -q '^a: ENC\[' ip.yaml
	[ "$(stat -c %a ip.yaml)" = 640 ]
	assert_dir_is . ip.yaml orig.yaml
	run_io "$SOTTO" decrypt -i ip.yaml
	assert_status 0
	same_bytes orig.yaml ip.yaml
	[ "$(stat -c %a ip.yaml)" = 640 ]
	assert_dir_is . ip.yaml orig.yaml
}

@test "--output: writes the file, nothing on stdout" {
	printf '{"a": "b"}\n' >o.json
	run_io "$SOTTO" encrypt --age "$K1_PUB" --output o.enc.json o.json
	assert_status 0
	[ -z "$out" ]
	grep -q '"a": "ENC\[' o.enc.json
	run_io "$SOTTO" decrypt --output o.dec.json o.enc.json
	assert_status 0
	same_bytes o.json o.dec.json
	[ "$(stat -c %a o.dec.json)" = 600 ]
	assert_dir_is . o.json o.enc.json o.dec.json
}

@test "several files: each is processed; one failure -> non-zero exit" {
	printf 'a: 1\n' >one.yaml
	printf 'bad: [unclosed\n' >bad.yaml
	printf '{"c": "d"}\n' >three.json
	cp bad.yaml bad.orig
	run_io "$SOTTO" encrypt -i --age "$K1_PUB" one.yaml bad.yaml three.json
	[ "$status" -ne 0 ]
	assert_err_has bad.yaml
	grep -q '^a: ENC\[' one.yaml
	grep -q '"c": "ENC\[' three.json
	same_bytes bad.orig bad.yaml
	assert_dir_is . one.yaml bad.yaml three.json bad.orig
	# decrypt several, one missing
	run_io "$SOTTO" decrypt -i one.yaml missing.yaml three.json
	assert_status 100
	assert_err_has missing.yaml
	[ "$(cat one.yaml)" = "a: 1" ]
}

@test "stdin: --filename-override picks the store; decrypt from stdin" {
	printf '{"k": "v"}\n' >in.json
	IN=in.json run_io "$SOTTO" encrypt --age "$K1_PUB" \
	    --filename-override x.json -
	assert_status 0
	cp "$T/out" enc.json
	grep -q '"k": "ENC\[' enc.json
	IN=enc.json run_io "$SOTTO" decrypt --input-type json -
	assert_status 0
	same_bytes in.json "$T/out"
	IN=enc.json run_io "$SOTTO" decrypt --filename-override y.json -
	assert_status 0
	same_bytes in.json "$T/out"
}

@test "--extract: string, int, bool and map values" {
	cat >x.yaml <<'EOF'
db:
    user: admin
    port: 5432
    tls: true
    opts:
        a: b
list:
    - zero
    - one
EOF
	roundtrip x.yaml
	dec enc.x.yaml --extract '["db"]["user"]'
	assert_status 0
	assert_out admin
	dec enc.x.yaml --extract '["db"]["port"]'
	assert_status 0
	assert_out 5432
	dec enc.x.yaml --extract '["db"]["tls"]'
	assert_status 0
	assert_out true
	dec enc.x.yaml --extract '["list"][1]'
	assert_status 0
	assert_out one
	dec enc.x.yaml --extract '["db"]["opts"]'
	assert_status 0
	assert_out 'a: b'
}

@test "--extract from JSON: a map is a JSON document" {
	printf '{"a": {"b": "c", "n": 1}}\n' >xj.json
	roundtrip xj.json
	dec enc.xj.json --extract '["a"]'
	assert_status 0
	python3 -c 'import json,sys; assert json.load(sys.stdin) == {"b": "c", "n": 1}' <"$T/out"
	dec enc.xj.json --extract '["a"]["b"]'
	assert_status 0
	assert_out c
}

@test "--output-type json from yaml" {
	cat >t.yaml <<'EOF'
s: text
i: 42
f: 1.5
b: false
n: null
l:
    - x
    - z
m:
    k: v
EOF
	roundtrip t.yaml
	dec enc.t.yaml --output-type json
	assert_status 0
	python3 - "$T/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
want = {"s": "text", "i": 42, "f": 1.5, "b": False, "n": None,
        "l": ["x", "z"], "m": {"k": "v"}}
assert d == want, d
assert "sops" not in d
EOF
}

# ---- selection rules ------------------------------------------------------------

@test "--encrypted-regex: only matching keys are encrypted" {
	cat >k.yaml <<'EOF'
apiVersion: v1
kind: Secret
metadata:
    name: demo
data:
    password: c2VjcmV0
stringData:
    token: abc
EOF
	roundtrip k.yaml --encrypted-regex '^(data|stringData)$'
	grep -q '^kind: Secret$' enc.k.yaml
	grep -q '^    name: demo$' enc.k.yaml
	grep -q '^    password: ENC\[' enc.k.yaml
	grep -q '^    token: ENC\[' enc.k.yaml
	grep -q 'encrypted_regex: \^(data|stringData)\$' enc.k.yaml
}

@test "--unencrypted-regex: matching keys stay clear" {
	printf 'public: hello\nsecret: world\n' >ur.yaml
	roundtrip ur.yaml --unencrypted-regex '^pub'
	grep -q '^public: hello$' enc.ur.yaml
	grep -q '^secret: ENC\[' enc.ur.yaml
}

@test "default _unencrypted suffix and --encrypted-suffix" {
	printf 'a_unencrypted: clear\nb: hidden\n' >us.yaml
	roundtrip us.yaml
	grep -q '^a_unencrypted: clear$' enc.us.yaml
	grep -q '^b: ENC\[' enc.us.yaml
	printf 'passwordSecret: hidden\nname: clear\n' >es.yaml
	roundtrip es.yaml --encrypted-suffix Secret
	grep -q '^passwordSecret: ENC\[' enc.es.yaml
	grep -q '^name: clear$' enc.es.yaml
	grep -q 'encrypted_suffix: Secret' enc.es.yaml
}

@test "--mac-only-encrypted: recorded and decrypts" {
	printf 'a_unencrypted: clear\nb: hidden\n' >mo.yaml
	roundtrip mo.yaml --mac-only-encrypted
	grep -q 'mac_only_encrypted: true' enc.mo.yaml
}

@test "sotto output verifies with the Python oracle (yaml, json, env)" {
	printf 'a: b\nn: 3\nl:\n    - x\n' >o1.yaml
	printf '{"a": {"b": [1, 2.5, true, "s"]}}\n' >o2.json
	printf 'A=b\nC=d\n' >o3.env
	for f in o1.yaml o2.json o3.env; do
		roundtrip "$f"
		oracle "enc.$f"
	done
}

# ---- the sops personality --------------------------------------------------------

@test "sops personality: sops -e / sops -d and sops encrypt / decrypt" {
	printf 'k: v\nn: 1\n' >p.yaml
	run_io "$SOPS" -e --age "$K1_PUB" p.yaml
	assert_status 0
	cp "$T/out" p1.yaml
	grep -q '^k: ENC\[' p1.yaml
	run_io "$SOPS" -d p1.yaml
	assert_status 0
	same_bytes p.yaml "$T/out"
	run_io "$SOPS" encrypt --age "$K1_PUB" p.yaml
	assert_status 0
	cp "$T/out" p2.yaml
	run_io "$SOPS" decrypt p2.yaml
	assert_status 0
	same_bytes p.yaml "$T/out"
	# sops-encrypted by one personality, decrypted by the other
	run_io "$SOTTO" decrypt p1.yaml
	assert_status 0
	same_bytes p.yaml "$T/out"
}

@test "recipients from SOPS_AGE_RECIPIENTS and from .sops.yaml" {
	printf 'k: v\n' >r.yaml
	SOPS_AGE_RECIPIENTS=$K2_PUB run_io "$SOTTO" encrypt r.yaml
	assert_status 0
	cp "$T/out" r1.yaml
	grep -q "recipient: $K2_PUB" r1.yaml
	SOPS_AGE_KEY_FILE=$T/k2.txt run_io "$SOTTO" decrypt r1.yaml
	assert_status 0
	same_bytes r.yaml "$T/out"
	cat >.sops.yaml <<EOF
creation_rules:
    - path_regex: \.yaml\$
      age: $K1_PUB,$K2_PUB
EOF
	run_io "$SOTTO" encrypt r.yaml
	assert_status 0
	cp "$T/out" r2.yaml
	grep -q "recipient: $K1_PUB" r2.yaml
	grep -q "recipient: $K2_PUB" r2.yaml
	run_io env -u SOPS_AGE_KEY_FILE SOPS_AGE_KEY="$K2_ID" "$SOTTO" \
	    decrypt r2.yaml
	assert_status 0
	same_bytes r.yaml "$T/out"
}
