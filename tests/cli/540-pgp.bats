#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# pgp keys in the sops CLI (issue 21): sotto wraps and unwraps the data key
# with the user's GnuPG through GPGME, interoperating with real gpg and
# with files written by real sops.  Every test has its own GNUPGHOME (a
# short path: gpg-agent's sockets live there) and stops its gpg-agent.
# Keys: tests/fixtures/pgp (made by gen.sh for this purpose); sops' own
# published functional-test key when a getsops/sops snapshot is at hand.

load helpers
load sops_helpers
load sops_cmd_helpers

fx() { printf '%s\n' "$SOTTO_ROOT/tests/fixtures/pgp/$1"; }

# fpr EMAIL: the primary key's fingerprint in the keyring
fpr() {
	gpg --list-keys --with-colons "$1" | awk -F: '/^fpr/{print $10; exit}'
}

# enc_of FILE [N]: the N-th (from 0) pgp `enc` of a YAML sops file, any group
enc_of() {
	python3 - "$1" "${2:-0}" <<'PY'
import sys, yaml
m = yaml.safe_load(open(sys.argv[1]))['sops']
ents = list(m.get('pgp') or [])
for g in m.get('key_groups') or []:
    ents += g.get('pgp') or []
sys.stdout.write(ents[int(sys.argv[2])]['enc'])
PY
}

# datakey FILE: the hex data key gpg gets from FILE's first pgp entry
datakey() {
	enc_of "$1" | gpg --batch --quiet --decrypt | od -An -tx1 -v | tr -d ' \n'
}

setup() {
	command -v gpg >/dev/null || skip "gpg is not installed (apt-get install gnupg)"
	cmd_setup || return 1
	GNUPGHOME=$(mktemp -d /tmp/sotto-gpg.XXXXXX)
	export GNUPGHOME
	gpg --batch --quiet --import "$(fx rsa2048.key.asc)" \
	    "$(fx cv25519.key.asc)" 2>/dev/null
	RSA=$(fpr rsa2048@sotto.test)
	CV=$(fpr cv25519@sotto.test)
	[ -n "$RSA" ] && [ -n "$CV" ] || return 1
	# no age identity unless a test sets one: pgp alone must do
	unset SOPS_AGE_KEY_FILE
	printf 'password: hunter2\nport: 5432\n' >p.yaml
}

teardown() {
	gpgconf --kill gpg-agent >/dev/null 2>&1 || true
	rm -rf "$GNUPGHOME"
}

@test "encrypt --pgp: sops' stanza layout; gpg opens it and the oracle checks every value and the MAC" {
	run_io "$SOTTO" encrypt --pgp "$RSA" p.yaml
	assert_status 0
	cp "$T/out" e.yaml
	# created_at, enc (a literal block without the final newline), fp;
	# the list after mac, as sops 3.13 sorts the metadata
	python3 - e.yaml "$RSA" <<'PY'
import sys, re
s = open(sys.argv[1]).read()
keys = re.findall(r'^    ([a-z_]+):', s, re.M)
assert keys == ['lastmodified', 'mac', 'pgp', 'unencrypted_suffix', 'version'], keys
assert re.search(r'\n    pgp:\n        - created_at: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\n'
                 r'          enc: \|-\n            -----BEGIN PGP MESSAGE-----\n\n', s), s
assert '            -----END PGP MESSAGE-----\n          fp: ' + sys.argv[2] + '\n' in s, s
PY
	dk=$(datakey e.yaml)
	[ ${#dk} = 64 ]
	run_io python3 "$ORACLE" e.yaml --datakey "$dk" --check-only
	assert_status 0
	[[ "$out" == OK* ]]
	for p in $(both); do
		run_io "$p" decrypt e.yaml
		assert_status 0
		assert_out "$(cat p.yaml)"
	done
}

@test "SOPS_PGP_FP, .sops.yaml pgp rules and json/dotenv/ini files decrypt with the gpg data key" {
	SOPS_PGP_FP="$CV" run_io "$SOTTO" encrypt p.yaml
	assert_status 0
	grep -q "fp: $CV" "$T/out"
	printf 'creation_rules:\n  - pgp: "%s, %s"\n' "$RSA" "$CV" >.sops.yaml
	run_io "$SOTTO" config explain j.json
	assert_out "config: $PWD/.sops.yaml
path seen by the rules: j.json
rule 0: selected (no path_regex): no path_regex: matches every file
    1 key group(s), 0 age recipient(s), 2 pgp key(s)"
	printf '{"a": "x", "n": 2}\n' >j.json
	printf 'A=x\nB=y\n' >d.env
	printf '[s]\nk = v\n' >i.ini
	for f in j.json d.env i.ini; do
		run_io "$SOTTO" encrypt "$f"
		assert_status 0
		cp "$T/out" "enc.$f"
		run_io "$SOTTO" decrypt "enc.$f"
		assert_status 0
		assert_out "$(cat "$f")"
	done
	# sops' flattened spelling of the list
	grep -q '^sops_pgp__list_1__map_fp='"$CV"'$' enc.d.env
	grep -q '^sops_pgp__list_0__map_enc=-----BEGIN PGP MESSAGE-----\\n\\n' enc.d.env
	python3 - enc.j.json "$RSA" "$CV" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))['sops']
assert list(m) == ['lastmodified', 'mac', 'pgp', 'unencrypted_suffix', 'version'], list(m)
assert [list(e) for e in m['pgp']] == [['created_at', 'enc', 'fp']] * 2
assert [e['fp'] for e in m['pgp']] == sys.argv[2:]
assert m['pgp'][0]['enc'].endswith('-----END PGP MESSAGE-----')
PY
	dk=$(python3 -c 'import json,sys; sys.stdout.write(json.load(open("enc.j.json"))["sops"]["pgp"][1]["enc"])' |
	    gpg --batch --quiet --decrypt | od -An -tx1 -v | tr -d ' \n')
	run_io python3 "$ORACLE" enc.j.json --datakey "$dk" --check-only
	assert_status 0
}

@test "mixed age+pgp key groups with Shamir: any two groups open the file" {
	cat >.sops.yaml <<EOF
creation_rules:
  - shamir_threshold: 2
    key_groups:
      - age: [$K1_PUB]
      - pgp: [$RSA]
      - pgp: [$CV]
        age: [$K2_PUB]
EOF
	run_io "$SOTTO" encrypt p.yaml
	assert_status 0
	cp "$T/out" s.yaml
	python3 - s.yaml <<'PY'
import sys, yaml
m = yaml.safe_load(open(sys.argv[1]))['sops']
g = m['key_groups']
assert m['shamir_threshold'] == 2
assert [list(x) for x in g] == [['age', 'hc_vault'], ['age', 'hc_vault', 'pgp'], ['age', 'hc_vault', 'pgp']], g
assert g[1]['age'] == [] and len(g[2]['age']) == 1
PY
	# groups 1 and 2 through gpg alone
	run_io "$SOTTO" decrypt s.yaml
	assert_status 0
	assert_out "$(cat p.yaml)"
	# group 0 (age) with group 1 or 2 (gpg)
	SOPS_AGE_KEY_FILE=$T/k1.txt run_io "$SOPS" decrypt s.yaml
	assert_status 0
	# the age identity alone: one group of two
	mkdir -m 700 "$T/nogpg"
	GNUPGHOME=$T/nogpg SOPS_AGE_KEY_FILE=$T/k1.txt run_io "$SOTTO" decrypt s.yaml
	assert_status 128
	assert_err_has "failed to get the data key: 1 of 2 key groups needed could be decrypted"
	assert_err_has "pgp key $RSA: gpg: no secret key for it in the GnuPG keyring"
	GNUPGHOME=$T/nogpg SOPS_AGE_KEY_FILE=$T/k2.txt run_io "$SOTTO" decrypt s.yaml
	assert_status 128
	# a share is 33 bytes: the gpg-wrapped share of group 1
	dk=$(enc_of s.yaml 0 | gpg --batch --quiet --decrypt | wc -c)
	[ "$dk" = 33 ]
}

@test "decrypt: age first, then gpg, as sops' default decryption order" {
	run_io "$SOTTO" encrypt --age "$K1_PUB" --pgp "$RSA" p.yaml
	assert_status 0
	cp "$T/out" b.yaml
	grep -q 'recipient: age1' b.yaml
	grep -q "fp: $RSA" b.yaml
	# with the age key, GnuPG is not needed (nor loaded)
	SOTTO_GPGME_SONAME=libsotto-absent.so.0 SOPS_AGE_KEY_FILE=$T/k1.txt \
	    run_io "$SOTTO" decrypt b.yaml
	assert_status 0
	assert_out "$(cat p.yaml)"
	# without it, gpg
	run_io "$SOTTO" decrypt b.yaml
	assert_status 0
	assert_out "$(cat p.yaml)"
}

@test "--decryption-order and SOPS_DECRYPTION_ORDER put pgp before age, as sops" {
	cat >"$T/bin/mygpg" <<EOF
#!/bin/sh
echo ran >>"$T/mygpg.log"
exec gpg "\$@"
EOF
	chmod +x "$T/bin/mygpg"
	export SOPS_GPG_EXEC=$T/bin/mygpg SOPS_AGE_KEY_FILE=$T/k1.txt
	"$SOTTO" encrypt --age "$K1_PUB" --pgp "$RSA" p.yaml >b.yaml
	rm -f "$T/mygpg.log"
	run_io "$SOPS" decrypt b.yaml
	assert_status 0
	[ ! -e "$T/mygpg.log" ]
	for p in $(both); do
		run_io "$p" decrypt --decryption-order pgp,age b.yaml
		assert_status 0
		assert_out "$(cat p.yaml)"
		[ -s "$T/mygpg.log" ]
		rm "$T/mygpg.log"
	done
	# sops sorts stably and a group lists pgp before age: an order that
	# names neither tries pgp first too
	SOPS_DECRYPTION_ORDER=kms run_io "$SOPS" exec-env b.yaml 'printf "%s" "$port"'
	assert_out 5432
	[ -s "$T/mygpg.log" ]
	rm "$T/mygpg.log"
	SOPS_DECRYPTION_ORDER=age,pgp run_io "$SOPS" set b.yaml '["port"]' '1'
	assert_status 0
	[ ! -e "$T/mygpg.log" ]
	cp b.yaml b0.yaml
	run_io "$SOPS" set --decryption-order age,pgp,age b.yaml '["port"]' '2'
	assert_status 112
	assert_err "sops: error: duplicate decryption key type 'age' (in --decryption-order)"
	same_bytes b0.yaml b.yaml
	SOPS_DECRYPTION_ORDER=pgp,pgp run_io "$SOTTO" decrypt b.yaml
	assert_status 112
	assert_err "sotto: error: duplicate decryption key type 'pgp' (in SOPS_DECRYPTION_ORDER)"
}

@test "edit, set, unset, exec-env and the git textconv work on a pgp-only file" {
	"$SOTTO" encrypt --pgp "$CV" p.yaml >e.yaml
	run_io "$SOPS" set e.yaml '["port"]' '6543'
	assert_status 0
	grep -q "fp: $CV" e.yaml
	run_io "$SOTTO" decrypt --extract '["port"]' e.yaml
	assert_out 6543
	run_io "$SOPS" unset e.yaml '["port"]'
	assert_status 0
	run_io "$SOPS" exec-env e.yaml 'printf "%s" "$password"'
	assert_status 0
	assert_out hunter2
	printf '#!/bin/sh\nsed -i "s/hunter2/hunter3/" "$1"\n' >"$T/ed.sh"
	chmod +x "$T/ed.sh"
	EDITOR=$T/ed.sh run_io "$SOPS" edit e.yaml
	assert_status 0
	run_io "$SOTTO" decrypt --extract '["password"]' e.yaml
	assert_out hunter3
	# git diff's textconv too
	run_io "$SOTTO" git-setup textconv e.yaml
	assert_status 0
	assert_out "password: hunter3"
	assert_run_empty
}

@test "rotate re-wraps a new data key for pgp keys; --add-pgp and --rm-pgp" {
	"$SOTTO" encrypt --pgp "$RSA" p.yaml >e.yaml
	old=$(datakey e.yaml)
	run_io "$SOTTO" rotate -i --add-pgp "$CV" e.yaml
	assert_status 0
	new=$(datakey e.yaml)
	[ "$old" != "$new" ]
	[ "$(enc_of e.yaml 1 | gpg --batch --quiet --decrypt | od -An -tx1 -v | tr -d ' \n')" = "$new" ]
	run_io python3 "$ORACLE" e.yaml --datakey "$new" --check-only
	assert_status 0
	run_io "$SOPS" rotate -i --rm-pgp "$RSA" e.yaml
	assert_status 0
	refute grep -q "fp: $RSA" e.yaml
	grep -q "fp: $CV" e.yaml
	run_io "$SOTTO" decrypt e.yaml
	assert_out "$(cat p.yaml)"
}

@test "updatekeys adds and removes pgp keys from .sops.yaml; kept entries stay byte for byte" {
	printf 'creation_rules:\n  - pgp: %s\n' "$RSA" >.sops.yaml
	"$SOTTO" encrypt p.yaml >e.yaml
	dk=$(datakey e.yaml)
	keep=$(enc_of e.yaml 0)
	printf 'creation_rules:\n  - pgp: %s,%s\n    age: %s\n' "$RSA" "$CV" "$K1_PUB" >.sops.yaml
	run_io "$SOPS" updatekeys -y e.yaml
	assert_status 0
	assert_out "The following changes will be made to the file's groups:
Group 1
    $RSA
+++ $K1_PUB
+++ $CV"
	[ "$(enc_of e.yaml 0)" = "$keep" ]
	[ "$(enc_of e.yaml 1 | gpg --batch --quiet --decrypt | od -An -tx1 -v | tr -d ' \n')" = "$dk" ]
	SOPS_AGE_KEY_FILE=$T/k1.txt GNUPGHOME=/nonexistent run_io "$SOTTO" decrypt e.yaml
	assert_status 0
	printf 'creation_rules:\n  - age: %s\n' "$K1_PUB" >.sops.yaml
	run_io "$SOPS" updatekeys -y e.yaml
	assert_status 0
	assert_out "The following changes will be made to the file's groups:
Group 1
    $K1_PUB
--- $RSA
--- $CV"
	refute grep -q 'pgp:' e.yaml
}

@test "groups add --pgp and delete: Shamir across age and pgp groups" {
	"$SOTTO" encrypt --age "$K1_PUB" p.yaml >e.yaml
	SOPS_AGE_KEY_FILE=$T/k1.txt run_io "$SOPS" groups add -i --file e.yaml \
	    --pgp "$RSA"
	assert_status 0
	grep -q 'shamir_threshold: 2' e.yaml
	refute grep -q '^    pgp:' e.yaml
	SOPS_AGE_KEY_FILE=$T/k1.txt run_io "$SOTTO" decrypt e.yaml
	assert_status 0
	assert_out "$(cat p.yaml)"
	SOPS_AGE_KEY_FILE=$T/k1.txt run_io "$SOPS" groups delete -i --file e.yaml 0
	assert_status 0
	refute grep -q key_groups e.yaml
	grep -q "^    pgp:" e.yaml
	run_io "$SOTTO" decrypt e.yaml
	assert_status 0
	assert_out "$(cat p.yaml)"
}

@test "a fingerprint not in the keyring: the error names it, nothing is written" {
	cp p.yaml keep.yaml
	run_io "$SOTTO" encrypt -i --pgp 0123456789ABCDEF0123456789ABCDEF01234567 p.yaml
	assert_status 1
	assert_err "sotto: error: pgp key '0123456789ABCDEF0123456789ABCDEF01234567' is not in the GnuPG keyring of GNUPGHOME '$GNUPGHOME'; import it with gpg --import"
	same_bytes keep.yaml p.yaml
	"$SOTTO" encrypt --pgp "$RSA" p.yaml >e.yaml
	cp e.yaml e0.yaml
	run_io "$SOPS" rotate -i --add-pgp $'BAD\x01KEY' e.yaml
	assert_status 1
	assert_err "sops: error: pgp key 'BAD\\x01KEY' is not a fingerprint or key ID gpg can look up"
	same_bytes e0.yaml e.yaml
	# a keyring without the secret key
	mkdir -m 700 "$T/pub"
	gpg --export "$RSA" | GNUPGHOME=$T/pub gpg --batch --quiet --import 2>/dev/null
	GNUPGHOME=$T/pub run_io "$SOTTO" decrypt e.yaml
	GNUPGHOME=$T/pub gpgconf --kill gpg-agent >/dev/null 2>&1 || true
	assert_status 128
	assert_err_has "sotto: error: 'e.yaml': failed to get the data key: pgp key $RSA: gpg: no secret key for it in the GnuPG keyring"
}

@test "a damaged pgp message: the error names the key, the file is not changed" {
	"$SOTTO" encrypt --pgp "$RSA" p.yaml >e.yaml
	python3 - e.yaml <<'PY'
import sys
f = sys.argv[1]
s = open(f).read()
i = s.index('-----BEGIN PGP MESSAGE-----\n\n') + 41
s = s[:i] + ('A' if s[i] != 'A' else 'B') + s[i + 1:]
open(f, 'w').write(s)
PY
	cp e.yaml e0.yaml
	run_io "$SOPS" set e.yaml '["port"]' '1'
	assert_status 128
	assert_err_has "sops: error: 'e.yaml': failed to get the data key: pgp key $RSA: gpg: "
	same_bytes e0.yaml e.yaml
}

@test "without GPGME: a clear error for pgp, age files still work" {
	export SOTTO_GPGME_SONAME=libsotto-absent.so.0
	"$SOTTO" encrypt --age "$K1_PUB" p.yaml >a.yaml
	SOPS_AGE_KEY_FILE=$T/k1.txt run_io "$SOTTO" decrypt a.yaml
	assert_status 0
	assert_out "$(cat p.yaml)"
	run_io "$SOTTO" encrypt --pgp "$RSA" p.yaml
	assert_status 1
	assert_err "sotto: error: pgp key '$RSA': cannot load 'libsotto-absent.so.0' for pgp keys (install libgpgme11 and gnupg): libsotto-absent.so.0: cannot open shared object file: No such file or directory"
	SOTTO_GPGME_SONAME= "$SOTTO" encrypt --pgp "$RSA" p.yaml >e.yaml
	run_io "$SOTTO" decrypt e.yaml
	assert_status 128
	assert_err_has "sotto: error: 'e.yaml': failed to get the data key: pgp key $RSA: cannot load 'libsotto-absent.so.0' for pgp keys (install libgpgme11 and gnupg)"
}

@test "SOPS_GPG_EXEC names the gpg binary (a PATH name or a path)" {
	cat >"$T/bin/mygpg" <<EOF
#!/bin/sh
echo ran >>"$T/mygpg.log"
exec gpg "\$@"
EOF
	chmod +x "$T/bin/mygpg"
	"$SOTTO" encrypt --pgp "$RSA" p.yaml >e.yaml
	PATH=$T/bin:$PATH SOPS_GPG_EXEC=mygpg run_io "$SOTTO" decrypt e.yaml
	assert_status 0
	assert_out "$(cat p.yaml)"
	grep -q ran "$T/mygpg.log"
	rm "$T/mygpg.log"
	SOPS_GPG_EXEC=$T/bin/mygpg run_io "$SOTTO" encrypt --pgp "$CV" p.yaml
	assert_status 0
	grep -q ran "$T/mygpg.log"
	SOPS_GPG_EXEC=no-such-gpg run_io "$SOTTO" encrypt --pgp "$CV" p.yaml
	assert_status 100
	assert_err "sotto: error: pgp key '$CV': SOPS_GPG_EXEC: 'no-such-gpg' not found on PATH"
	SOPS_GPG_EXEC=$T/no/gpg run_io "$SOTTO" decrypt e.yaml
	assert_status 128
	assert_err_has "sotto: error: 'e.yaml': failed to get the data key: pgp key $RSA: cannot run GnuPG '$T/no/gpg' (SOPS_GPG_EXEC names no working gpg)"
}

@test "a passphrase-protected key: gpg-agent does the private-key operation" {
	gpg --batch --quiet --import "$(fx protected.key.asc)" 2>/dev/null
	P=$(fpr prot@sotto.test)
	"$SOTTO" encrypt --pgp "$P" p.yaml >e.yaml
	# no pinentry: the agent refuses (a smartcard or a cached passphrase
	# answers here in real use)
	printf 'allow-preset-passphrase\npinentry-program /bin/false\n' \
	    >"$GNUPGHOME/gpg-agent.conf"
	gpgconf --kill gpg-agent
	run_io "$SOTTO" decrypt e.yaml
	assert_status 128
	assert_err_has "pgp key $P: gpg: "
	grip=$(gpg --list-secret-keys --with-keygrip --with-colons "$P" |
	    awk -F: '/^grp/{g=$10} END{print g}')
	/usr/lib/gnupg/gpg-preset-passphrase --preset -P hunter2 "$grip"
	run_io "$SOTTO" decrypt e.yaml
	assert_status 0
	assert_out "$(cat p.yaml)"
}

@test "sotto guard counts a pgp stanza as a recipient" {
	export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t \
	    GIT_COMMITTER_EMAIL=t@t GIT_CONFIG_NOSYSTEM=1
	git init -q r
	cd r
	printf 'creation_rules:\n  - path_regex: secrets/.*$\n    pgp: %s\n' "$RSA" >.sops.yaml
	mkdir secrets
	"$SOTTO" encrypt --pgp "$RSA" ../p.yaml >secrets/db.yaml
	git add .sops.yaml secrets/db.yaml
	run_io "$SOTTO" guard
	assert_status 0
	# the same file with its pgp list emptied lists no recipient
	sed -i '/^    pgp:/,/^          fp:/d' secrets/db.yaml
	git add secrets/db.yaml
	run_io "$SOTTO" guard
	assert_status 1
	[[ "$out$err" == *"secrets/db.yaml:1: sops-plaintext malformed sops file: the metadata lists no recipient"* ]]
}

# sops' published functional-test key (pgp/sops_functional_tests_key.asc,
# MPL-2.0 repository, FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4) opens the
# fixtures real sops wrote (vectors/sops/current, copied unchanged).
sops_key() {
	if [ -n "${SOTTO_SOPS_PGP_KEY:-}" ]; then
		cat "$SOTTO_SOPS_PGP_KEY"
		return
	fi
	local g
	for g in "$SOTTO_ROOT/../.mirror/getsops+sops/repo" \
	    "$SOTTO_ROOT/../../.mirror/getsops+sops/repo"; do
		git -C "$g" show HEAD:pgp/sops_functional_tests_key.asc 2>/dev/null &&
		    return
	done
	return 1
}

@test "files written by real sops with pgp decrypt with the published test key" {
	sops_key >"$T/sops.asc" || skip "sops' functional-test key is not at hand (set SOTTO_SOPS_PGP_KEY)"
	gpg --batch --quiet --import "$T/sops.asc" 2>/dev/null
	V=$SOTTO_SHARED/vectors/sops/current
	for f in format.enc.yaml format.enc.json format.enc.env format.enc.ini \
	    format-2.enc.ini comments.enc.yaml multiple_keys.yaml; do
		for p in $(both); do
			run_io "$p" decrypt "$V/$f"
			assert_status 0
		done
		# every leaf, as the oracle lists it
		python3 - "$V/$f.leaves.json" "$T/out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
out = open(sys.argv[2]).read()
assert doc['mac_ok'] and doc['values']
for leaf in doc['values']:
    v = leaf['plain']
    if '\n' not in v:
        assert v in out, (v, out)
PY
	done
	run_io "$SOTTO" decrypt "$V/format.enc.yaml"
	assert_out "foo: bar"
	run_io "$SOTTO" decrypt "$V/no_mac.yaml"
	assert_status 51
	run_io "$SOTTO" decrypt --ignore-mac "$V/no_mac.yaml"
	assert_status 0
}
