#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Round-trip corpus for the JSON, dotenv and INI stores (issue 17): every
# such file under tests/ and the shared vectors encrypts and decrypts back
# byte for byte, and so does the plaintext of every real sops fixture we
# hold a key for.  A file that does not come back byte for byte must be
# one of the documented exceptions, each checked for what it is:
#   * JSON whose top level is not an object: refused, as sops refuses it
#     (exit 2, sops' "top-level object" message), nothing to round-trip;
#   * a value or comment whose spelling the ciphertext cannot keep (a JSON
#     "\u3042" or "\/" escape, a plain-digit number sops prints in exponent
#     form, INI continuation lines, an INI comment block with mixed markers
#     or a comment after a section header): encrypt names its key path in a
#     warning, and the decrypted file holds the same data;
#   * an empty top-level JSON object comes back as "{}" (sops' layout);
#   * encrypted files we hold no key for (PGP fixtures, fuzz seeds) are
#     not corpus members.
# tests/corpus/fmt holds the edge files (number spellings, CRLF, BOM, no
# final newline, quotes and comment markers in INI, compact and spaced
# JSON).  The YAML corpus has its own file.

load helpers
load sops_helpers

setup() {
	sops_setup
	CORPUS=$T/corpus.list
	{
		if git -C "$SOTTO_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
			git -C "$SOTTO_ROOT" ls-files -- tests |
			    sed "s|^|$SOTTO_ROOT/|"
		else
			find "$SOTTO_ROOT/tests" -type f
		fi
		find "$SOTTO_SHARED/vectors" -type f
	} | grep -E '\.(json|env|ini)$' | sort >"$CORPUS"
	# every published identity among the vectors (public test keys)
	grep -rhE '^AGE-SECRET-KEY-1[0-9A-Z]+$' "$SOTTO_SHARED/vectors/sops" \
	    "$SOTTO_SHARED/vectors/sops-oracle-check" | sort -u >"$T/all-ids.txt"
	chmod 600 "$T/all-ids.txt"
}

# run_corpus plain|real: the Python driver over the file list.  Prints one
# line per exception and per failure, then a summary; exits 1 on any
# failure or when it found nothing to check.
run_corpus() {
	python3 - "$1" "$CORPUS" "$SOTTO" "$K1_PUB" "$T" "$T/all-ids.txt" \
	    "$SOTTO_ROOT" "$SOTTO_SHARED" <<'PYEOF'
import json, os, re, subprocess, sys

mode, listf, sotto, pub, tmp, ids, root, shared = sys.argv[1:9]
files = [l.strip() for l in open(listf) if l.strip()]
TOP = re.compile(r"^sotto: error: '[^']*' line \d+: cannot unmarshal JSON: "
                 r"SOPS only supports JSON files with a top-level object "
                 r"\(starting with '\{'\), not (arrays; to encrypt this file, "
                 r"wrap it in an object, e\.g\. \{\"data\": \[\.\.\.\]\}|other "
                 r"JSON types \(got (a string|a number|a boolean|null)\))\n$")
RESPELL = re.compile(r"^'[^']*': the (?:value|comment) at '([^']*)' will "
                     r"decrypt spelled differently \(the same (?:value|text); "
                     r"the ciphertext cannot keep how it was written\)$")
env = dict(os.environ, SOPS_AGE_KEY_FILE=ids)
fails, exc, same, done = [], [], 0, 0
ours = subprocess.run([sotto, "age-keygen", "-y", ids], capture_output=True,
                      check=True).stdout.decode().split()


def run(*args):
    return subprocess.run([sotto, *args], capture_output=True, env=env,
                          timeout=60, stdin=subprocess.DEVNULL)


def put(name, data):
    p = os.path.join(tmp, name)
    with open(p, "wb") as fh:
        fh.write(data)
    return p


def values(p):
    """The data of an encrypted file as sotto's JSON view (order kept)."""
    r = run("decrypt", "--output-type", "json", p)
    if r.returncode != 0:
        return None
    return json.loads(r.stdout, object_pairs_hook=lambda x: ["{}"] + x)


def cycle(name, ext, plain):
    """Encrypts and decrypts plain as a .ext file: None, or a failure."""
    global same
    e = run("encrypt", "--age", pub, put("c." + ext, plain))
    if e.returncode != 0:
        err = e.stderr.decode(errors="replace")
        if ext == "json" and e.returncode == 2 and TOP.match(err):
            try:
                top = json.loads(plain)
            except ValueError:
                top = {}
            if not isinstance(top, dict):
                exc.append(f"{name}: top level is not an object "
                           f"(refused as sops refuses it)")
                return None
        return f"{name}: encrypt exit {e.returncode}: {err.strip()[:200]}"
    encf = put("e." + ext, e.stdout)
    d = run("decrypt", encf)
    if d.returncode != 0:
        return f"{name}: decrypt exit {d.returncode}: {d.stderr.decode()[:200]}"
    warn = [l for l in e.stderr.decode(errors="replace").splitlines() if l]
    if d.stdout == plain:
        if warn:
            return f"{name}: warned although it came back: {warn[0]}"
        same += 1
        return None
    paths = [RESPELL.match(l) for l in warn]
    if warn and all(paths):
        # same data: the decrypted file encrypts to the same values
        e2 = run("encrypt", "--age", pub, put("d." + ext, d.stdout))
        v1 = values(encf)
        if e2.returncode == 0 and v1 is not None and \
                v1 == values(put("e2." + ext, e2.stdout)):
            exc.append(f"{name}: spelling not kept at " +
                       ", ".join(repr(m.group(1)) for m in paths) +
                       " (warned; same data)")
            return None
    if ext == "json" and re.fullmatch(rb"\s*\{\s*\}\s*", plain) and \
            d.stdout == re.sub(rb"\{\s*\}", b"{}", plain):
        exc.append(f"{name}: empty top-level object comes back as {{}}")
        return None
    return f"{name}: decrypted bytes differ (warnings: {warn})"


for f in files:
    ext = f.rsplit(".", 1)[1]
    if f.startswith(root + "/"):
        name = os.path.relpath(f, root)
    else:
        name = "shared/" + os.path.relpath(f, shared)
    st = run("filestatus", f)
    encrypted = st.returncode == 0 and b'"encrypted":true' in st.stdout
    if mode == "plain":
        if encrypted:
            continue
        done += 1
        r = cycle(name, ext, open(f, "rb").read())
    else:
        if not encrypted:
            continue
        d = run("decrypt", f)
        if d.returncode != 0:
            # a fuzz seed, or a fixture for keys we do not hold (PGP)
            text = open(f, "rb").read().decode(errors="replace")
            if "/fuzz/seeds/" in f or (d.returncode == 128 and
                                        not any(r in text for r in ours)):
                exc.append(f"{name}: encrypted without a key here "
                           f"(exit {d.returncode}), not a corpus member")
                continue
            fails.append(f"{name}: decrypt exit {d.returncode}: "
                         f"{d.stderr.decode()[:200]}")
            continue
        done += 1
        r = cycle(name + " (decrypted)", ext, d.stdout)
    if r:
        fails.append(r)
for l in exc:
    print("exception: " + l)
for l in fails:
    print("FAIL: " + l)
print(f"{mode}: {done} files, {same} byte for byte, {len(exc)} documented "
      f"exceptions, {len(fails)} failures")
sys.exit(1 if fails or done == 0 else 0)
PYEOF
}

@test "every plaintext JSON, dotenv and INI file under tests/ and the vectors round-trips byte for byte" {
	run run_corpus plain
	echo "$output"
	[ "$status" -eq 0 ]
	# the in-tree edge files are all there and none is an exception
	n=$(grep -c "/tests/corpus/fmt/" "$CORPUS")
	[ "$n" -ge 12 ]
	refute grep -q "exception: .*tests/corpus/fmt/" <<<"$output"
	[[ "$output" == *"plain: "*" files, "*" byte for byte, "* ]]
}

@test "the plaintext of every real sops fixture (JSON, dotenv, INI) we hold a key for round-trips byte for byte" {
	run run_corpus real
	echo "$output"
	[ "$status" -eq 0 ]
	# sops' own, talhelper's, mise's and kustomize-controller's files
	for f in hist/example.json hist/example.ini talhelper/decrypt/encrypted.json \
	    talhelper/decrypt/encrypted.env mise/multiple_age_keys.env.json \
	    kustomize-controller/envs/env.env humphd-sops-age/secret.enc.json; do
		refute grep -q "$f" <<<"$(grep '^exception\|^FAIL' <<<"$output")"
	done
	[[ "$output" =~ real:\ ([0-9]+)\ files ]]
	[ "${BASH_REMATCH[1]}" -ge 12 ]
}

@test "exception: a JSON escape the ciphertext cannot keep is named in a warning and decrypts to the same text" {
	printf '{"a": "caf\\u00e9", "b": "x\\/y", "k\\u00e9": "\\u3042", "ok": "tab\\t"}\n' >e.json
	enc e.json
	assert_status 0
	assert_err "'e.json': the value at 'a' will decrypt spelled differently (the same value; the ciphertext cannot keep how it was written)
'e.json': the value at 'b' will decrypt spelled differently (the same value; the ciphertext cannot keep how it was written)
'e.json': the value at 'ké' will decrypt spelled differently (the same value; the ciphertext cannot keep how it was written)"
	cp "$T/out" e.enc.json
	dec e.enc.json
	assert_status 0
	assert_out '{"a": "café", "b": "x/y", "k\u00e9": "あ", "ok": "tab\t"}'
	# an unencrypted value keeps its escapes: nothing to warn about
	printf '{"a_unencrypted": "caf\\u00e9"}\n' >u.json
	roundtrip u.json
}

@test "exception: a plain-digit JSON number sops prints in exponent form is named and decrypts as sops prints it" {
	printf '{"big": 1000000000000000000000, "tiny": -0.0000001, "kept": [1E+21, 2.50, 12345678901234567890, 1.0, -0.0]}\n' >n.json
	enc n.json
	assert_status 0
	assert_err "'n.json': the value at 'big' will decrypt spelled differently (the same value; the ciphertext cannot keep how it was written)
'n.json': the value at 'tiny' will decrypt spelled differently (the same value; the ciphertext cannot keep how it was written)"
	cp "$T/out" n.enc.json
	dec n.enc.json
	assert_status 0
	assert_out '{"big": 1e+21, "tiny": -1e-7, "kept": [1E+21, 2.50, 12345678901234567890, 1.0, -0.0]}'
	# what sops prints for the same file (--output-type json re-renders)
	dec n.enc.json --output-type yaml
	assert_status 0
	dec n.enc.json --extract '["kept"]'
	assert_status 0
	assert_out '[
	1e+21,
	2.5,
	12345678901234567000,
	1,
	-0
]'
}

@test "exception: JSON whose top level is not an object is refused as sops refuses it, and nothing is written" {
	for v in '[42]' '42' '"s"' 'true' 'null'; do
		printf '%s\n' "$v" >t.json
		cp t.json t.orig
		run_io "$SOTTO" encrypt -i --age "$K1_PUB" t.json
		assert_status 2
		case $v in
		'[42]') want="not arrays; to encrypt this file, wrap it in an object, e.g. {\"data\": [...]}" ;;
		42) want='not other JSON types (got a number)' ;;
		'"s"') want='not other JSON types (got a string)' ;;
		true) want='not other JSON types (got a boolean)' ;;
		null) want='not other JSON types (got null)' ;;
		esac
		assert_err "sotto: error: 't.json' line 1: cannot unmarshal JSON: SOPS only supports JSON files with a top-level object (starting with '{'), $want"
		cmp t.json t.orig
	done
}

@test "exception: INI continuation lines are joined (go-ini's value), named in a warning" {
	printf '[s]\nkey = first\\\n  second\nplain = v\n' >c.ini
	enc c.ini
	assert_status 0
	assert_err "'c.ini': the value at 's.key' will decrypt spelled differently (the same value; the ciphertext cannot keep how it was written)"
	cp "$T/out" c.enc.ini
	dec c.enc.ini
	assert_status 0
	assert_out '[s]
key = firstsecond
plain = v'
}

@test "exception: an empty top-level JSON object comes back as {} (sops' layout), other whitespace stays" {
	printf '{\n}\n' >o.json
	enc o.json
	assert_status 0
	assert_err ""
	cp "$T/out" o.enc.json
	dec o.enc.json
	assert_status 0
	assert_out '{}'
	printf '  {"a": {\n\n}, "b": [ ]}  \n' >p.json
	roundtrip p.json
}

@test "exception: an INI comment after a section header moves above it, named in a warning; other text there is refused" {
	printf '[s] ; note\nk = v\n' >h.ini
	enc h.ini
	assert_status 0
	assert_err "'h.ini': the comment at 's' will decrypt spelled differently (the same text; the ciphertext cannot keep how it was written)"
	cp "$T/out" h.enc.ini
	# the encrypted file reads as INI: section 's', its comment encrypted
	refute grep -q 'note' h.enc.ini
	oracle h.enc.ini
	dec h.enc.ini
	assert_status 0
	assert_out '; note
[s]
k = v'
	printf '[s] secret\nk = v\n' >j.ini
	cp j.ini j.orig
	run_io "$SOTTO" encrypt -i --age "$K1_PUB" j.ini
	assert_status 2
	assert_err "sotto: error: 'j.ini' line 1: text after a section header"
	cmp j.ini j.orig
}
