#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Interop of sotto's sops output with independent implementations:
#   * the npm package sops-age (tests/tools/npm-peers.sh installs it into
#     tests/.peers/; tests/tools/sops_age_decrypt.mjs runs it),
#   * the Python oracle vectors/sops/tools/sops_ref_decrypt.py (values and
#     MAC), for every store,
#   * a property test: ~200 random YAML/JSON documents (tests/tools/
#     gen_docs.py) must round-trip byte for byte through sotto and verify
#     with the oracle, leaves included.  GEN_DOCS_SEED / GEN_DOCS_COUNT
#     reproduce or resize a run.

load helpers
load sops_helpers

setup() {
	sops_setup
}

need_sops_age() {
	command -v node >/dev/null || skip "node is not installed"
	PEER=$("$TOOLS/npm-peers.sh") || {
		echo "cannot install the npm package sops-age (see above);" \
		    "the interop test needs it" >&2
		return 1
	}
}

# js_matches ENCFILE TYPE WANTJSON: sops-age decrypts ENCFILE to WANTJSON
# (compared as data).
js_matches() {
	SOPS_AGE_KEY=$K1_ID run node "$TOOLS/sops_age_decrypt.mjs" "$1" "$2"
	[ "$status" = 0 ] || {
		echo "sops-age failed on $1: $output" >&2
		return 1
	}
	python3 - "$output" "$3" <<'PY'
import json, sys
got, want = json.loads(sys.argv[1]), json.loads(sys.argv[2])
if got != want:
    print("sops-age result differs:\n got  %r\n want %r" % (got, want),
          file=sys.stderr)
    sys.exit(1)
PY
}

ALLTYPES_JSON='{"str": "plain text", "uni": "ünïcödé 日本語 ελληνικά",
 "quotes": "say \"hi\" and it'"'"'s", "multi": "line one\nline two\n",
 "int": 42, "neg": -7, "big": 9007199254740991, "float": 3.25,
 "tiny": 0.001, "yes": true, "no": false, "nothing": null, "empty": "",
 "nested": {"deeper": {"deepest": "bottom", "n": 1}},
 "list": ["a", 2, 2.5, true, {"k": "v", "l": ["x", "z"]}],
 "numstr": "123", "boolstr": "true"}'

@test "sops-age decrypts sotto's YAML (nested, every type, unicode)" {
	need_sops_age
	cat >all.yaml <<'EOF'
str: plain text
uni: ünïcödé 日本語 ελληνικά
quotes: "say \"hi\" and it's"
multi: |
    line one
    line two
int: 42
neg: -7
big: 9007199254740991
float: 3.25
tiny: 0.001
yes: true
no: false
nothing: null
empty: ""
nested:
    deeper:
        deepest: bottom
        n: 1
list:
    - a
    - 2
    - 2.5
    - true
    - k: v
      l:
        - x
        - z
numstr: "123"
boolstr: "true"
EOF
	roundtrip all.yaml
	oracle enc.all.yaml
	js_matches enc.all.yaml yaml "$ALLTYPES_JSON"
}

@test "sops-age decrypts sotto's JSON (nested, every type, unicode)" {
	need_sops_age
	printf '%s\n' "$ALLTYPES_JSON" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), indent=2, ensure_ascii=False))' >all.json
	roundtrip all.json
	oracle enc.all.json
	js_matches enc.all.json json "$ALLTYPES_JSON"
}

@test "sops-age decrypts sotto's dotenv" {
	need_sops_age
	printf 'USER=admin\nPASS=p=ss w0rd "q"\nUNI=ünïcödé 日本語\nNUM=42\n' >all.env
	roundtrip all.env
	oracle enc.all.env
	js_matches enc.all.env env \
	    '{"USER": "admin", "PASS": "p=ss w0rd \"q\"", "UNI": "ünïcödé 日本語", "NUM": "42"}'
}

@test "oracle verifies every store: yaml, json, dotenv, ini, binary" {
	printf 'a: b\nl:\n    - 1\n    - x\n' >s.yaml
	printf '{"a": {"b": [1, "c"]}}\n' >s.json
	printf 'A=1\nB=two\n' >s.env
	head -c 3000 /dev/urandom >s.bin
	for f in s.yaml s.json s.env s.bin; do
		roundtrip "$f"
		oracle "enc.$f"
	done
}

@test "oracle verifies INI output" {
	need_ini
	printf '[db]\nuser = admin\npass = secret\n\n[srv]\nport = 80\n' >s.ini
	roundtrip s.ini
	oracle enc.s.ini
}

@test "oracle verifies regex / suffix / mac-only / multi-document output" {
	printf 'apiVersion: v1\ndata:\n    k: v\n' >r.yaml
	roundtrip r.yaml --encrypted-regex '^data$'
	oracle enc.r.yaml
	printf 'a_unencrypted: x\nb: z\n' >m.yaml
	roundtrip m.yaml --mac-only-encrypted
	oracle enc.m.yaml
	printf 'keySecret: x\nother: z\n' >e.yaml
	roundtrip e.yaml --encrypted-suffix Secret
	oracle enc.e.yaml
	printf 'a: 1\n---\nb: 2\n' >d.yaml
	roundtrip d.yaml
	oracle enc.d.yaml
}

@test "bools keep the user's spelling inside the ciphertext, one Go's ParseBool accepts" {
	# Intended difference from sops (issue 4): sops always encrypts
	# True/False (spec 9.4); sotto encrypts the spelling as written when
	# strconv.ParseBool accepts it, so decryption reproduces the file byte
	# for byte, while the MAC still covers sops' canonical True/False.
	printf 'b: true\nc: false\nl:\n    - true\n' >b.yaml
	printf '{"b": true, "c": false}\n' >b.json
	for f in b.yaml b.json; do
		roundtrip "$f"
		python3 "$ORACLE" "enc.$f" --identity "$T/k1.txt" >"$T/leaves" \
		    2>/dev/null
		python3 - "$T/leaves" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))["values"]
got = [x["plain"] for x in v if x["type"] == "bool"]
assert got and all(p in ("true", "false") for p in got), \
    "bool plaintexts inside the ciphertext: %r (want the spelling as written)" % got
PY
	done
}

@test "property: ~200 random documents round-trip and verify with the oracle" {
	local count=${GEN_DOCS_COUNT:-200} seed
	seed=$(python3 "$TOOLS/gen_docs.py" "$T/docs" "$count" \
	    ${GEN_DOCS_SEED:-})
	echo "# gen_docs $seed (GEN_DOCS_SEED to reproduce)" >&3
	python3 - "$SOTTO" "$ORACLE" "$T/docs" "$T/k1.txt" "$K1_PUB" <<'PY'
import glob, importlib.util, json, os, subprocess, sys
sotto, oracle_path, d, idfile, rcp = sys.argv[1:6]
spec = importlib.util.spec_from_file_location("oracle", oracle_path)
oracle = importlib.util.module_from_spec(spec)
spec.loader.exec_module(oracle)
env = dict(os.environ, SOPS_AGE_KEY_FILE=idfile)
docs = sorted(f for f in glob.glob(d + "/doc-*")
              if not f.endswith(".leaves.json") and ".enc." not in f)
bad = []
for f in docs:
    ext = f.rsplit(".", 1)[1]
    enc = f[:-len(ext)] + "enc." + ext
    p = subprocess.run([sotto, "encrypt", "--age", rcp, f],
                       capture_output=True, env=env)
    if p.returncode:
        bad.append("%s: encrypt exit %d: %s" % (f, p.returncode,
                   p.stderr.decode(errors="replace").strip()))
        continue
    open(enc, "wb").write(p.stdout)
    p = subprocess.run([sotto, "decrypt", enc], capture_output=True, env=env)
    if p.returncode:
        bad.append("%s: decrypt exit %d: %s" % (f, p.returncode,
                   p.stderr.decode(errors="replace").strip()))
        continue
    if p.stdout != open(f, "rb").read():
        open(f + ".got", "wb").write(p.stdout)
        bad.append("%s: decrypted bytes differ (diff %s %s.got)" % (f, f, f))
        continue
    try:
        branches, md = oracle.load(enc, "yaml" if ext == "yaml" else "json")
        key = oracle.get_data_key(md, [idfile])
        computed, values, _, problems = oracle.verify(branches, md, key,
                                                      lambda m: None)
        ok, why = oracle.check_mac(md, key, computed)
    except Exception as e:  # the oracle's SopsError and friends
        bad.append("%s: oracle: %s" % (enc, e))
        continue
    if problems or not ok:
        bad.append("%s: oracle: %s" % (enc, problems[0] if problems else why))
        continue
    want = json.load(open(f + ".leaves.json", encoding="utf-8"))
    # compare as sops hashes them: bools as True/False whatever the
    # ciphertext holds (the spelling inside is checked by its own test)
    got = [{"true": "True", "false": "False"}.get(v["plain"], v["plain"])
           if v.get("type") == "bool" else v["plain"]
           for v in values if v.get("plain", "") != ""]
    if got != want:
        i = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b),
                 min(len(got), len(want)))
        bad.append("%s: oracle leaf %d is %r, want %r (%d vs %d leaves)" % (
            enc, i, got[i] if i < len(got) else None,
            want[i] if i < len(want) else None, len(got), len(want)))
print("# %d documents, %d failed" % (len(docs), len(bad)), file=sys.stderr)
for b in bad[:15]:
    print(b, file=sys.stderr)
sys.exit(1 if bad or not docs else 0)
PY
}
