#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# rotate: a new data key, every value re-encrypted, recipients changed
# with --add-age / --rm-age; keys sotto cannot re-wrap (kms, ...) are
# refused (pgp keys: 540-pgp.bats).

load helpers
load sops_helpers
load sops_cmd_helpers

setup() { cmd_setup; }

add_pgp() {
	python3 - "$1" "$2" <<'PY'
import sys
s = open(sys.argv[1]).read()
s = s.replace('    lastmodified:', '    pgp:\n        - created_at: "2024-01-01T00:00:00Z"\n          enc: x\n          fp: ABCDEF0123\n    lastmodified:', 1)
open(sys.argv[2], 'w').write(s)
PY
}

@test "rotate re-encrypts every value and keeps the plaintext, as sotto and sops" {
	for p in $(both); do
		run_io "$p" rotate enc.yaml
		assert_status 0
		cp "$T/out" r.yaml
		refute grep -F "$(grep 'password:' enc.yaml)" r.yaml
		refute grep -F "$(grep 'port:' enc.yaml)" r.yaml
		run_io "$SOTTO" decrypt r.yaml
		assert_out "$(cat plain.yaml)"
	done
}

@test "rotate -i writes in place; --output writes elsewhere" {
	cp enc.yaml e.yaml
	run_io "$SOPS" rotate -i e.yaml
	assert_status 0
	[ -z "$out" ]
	refute same_bytes enc.yaml e.yaml 2>/dev/null
	run_io "$SOPS" rotate --output o.yaml e.yaml
	assert_status 0
	run_io "$SOTTO" decrypt o.yaml
	assert_out "$(cat plain.yaml)"
}

@test "rotate --add-age and --rm-age change who can decrypt" {
	cp enc.yaml e.yaml
	run_io "$SOTTO" rotate -i --add-age "$K2_PUB" e.yaml
	assert_status 0
	SOPS_AGE_KEY_FILE=$T/k2.txt run_io "$SOTTO" decrypt e.yaml
	assert_status 0
	run_io "$SOPS" rotate -i --rm-age "$K1_PUB" e.yaml
	assert_status 0
	run_io "$SOTTO" decrypt e.yaml
	assert_status 128
	SOPS_AGE_KEY_FILE=$T/k2.txt run_io "$SOTTO" decrypt e.yaml
	assert_status 0
}

add_kms() {
	python3 - "$1" "$2" <<'PY'
import sys
s = open(sys.argv[1]).read()
s = s.replace('    lastmodified:', '    kms:\n        - arn: arn:aws:kms:us-east-1:0:key/x\n          created_at: "2024-01-01T00:00:00Z"\n          enc: x\n          aws_profile: ""\n    lastmodified:', 1)
open(sys.argv[2], 'w').write(s)
PY
}

@test "rotate refuses keys it cannot re-wrap, naming their type" {
	add_kms enc.yaml kms.yaml
	for p in $(both); do
		run_io "$p" rotate kms.yaml
		assert_status 1
		assert_err_has "kms"
	done
	run_io "$SOPS" rotate --add-kms ABC enc.yaml
	assert_status 1
	assert_err "sops: error: sotto can add only age and pgp keys (--add-age, --add-pgp)"
}

@test "rotate --rm-pgp removes the pgp key and rotates" {
	add_pgp enc.yaml pgp.yaml
	run_io "$SOPS" rotate --rm-pgp ABCDEF0123 pgp.yaml
	assert_status 0
	refute grep -q ABCDEF0123 "$T/out"
}

@test "rotate of several files needs -i and prints a summary" {
	cp enc.yaml a.yaml
	cp enc.yaml b.yaml
	run_io "$SOTTO" rotate a.yaml b.yaml
	assert_status 8
	run_io "$SOTTO" rotate -i a.yaml b.yaml
	assert_status 0
	assert_err_has "2 file(s) done, 0 failed"
}

@test "rotate with the wrong key exits 128 and keeps the file" {
	cp enc.yaml e.yaml
	SOPS_AGE_KEY_FILE=$T/k2.txt run_io "$SOPS" rotate -i e.yaml
	assert_status 128
	same_bytes enc.yaml e.yaml
}

@test "rotate of a missing file exits 49 as sops" {
	run_io "$SOPS" rotate missing.yaml
	assert_status 49
}

@test "legacy sops -r FILE rotates" {
	run_io "$SOPS" -r enc.yaml
	assert_status 0
	grep -q 'ENC\[AES256_GCM' "$T/out"
}

@test "rotate --help lists its flags" {
	run_io "$SOTTO" rotate --help
	for f in --in-place --output --add-age --rm-age --rm-pgp --input-type; do
		[[ "$out" == *"$f"* ]]
	done
}

@test "rotate --rm-age or --rm-pgp of a key the file does not have: 1, nothing changed" {
	cp enc.yaml e.yaml
	for p in $(both); do
		run_io "$p" rotate -i --rm-age age1typo e.yaml
		assert_status 1
		assert_err "$(basename "$p"): error: 'e.yaml': --rm-age 'age1typo' is not a recipient of the file; nothing was changed"
		same_bytes enc.yaml e.yaml
	done
	# one of two is enough to refuse; no key is needed to say so
	SOPS_AGE_KEY_FILE=$T/k3.txt run_io "$SOPS" rotate -i --rm-age "$K1_PUB, $K2_PUB" e.yaml
	assert_status 1
	assert_err "sops: error: 'e.yaml': --rm-age '$K2_PUB' is not a recipient of the file; nothing was changed"
	add_pgp enc.yaml p.yaml
	cp p.yaml p0.yaml
	run_io "$SOPS" -r -i --rm-pgp ABCDEF0124 p.yaml
	assert_status 1
	assert_err "sops: error: 'p.yaml': --rm-pgp 'ABCDEF0124' is not a key of the file; nothing was changed"
	same_bytes p0.yaml p.yaml
}

@test "rotate --rm-age of an ssh recipient matches it with or without its comment" {
	ssh-keygen -q -t ed25519 -N '' -C 'me@host' -f "$T/id" || skip "no ssh-keygen"
	"$SOTTO" encrypt --age "$K1_PUB,$(cat "$T/id.pub")" plain.yaml >s.yaml
	run_io "$SOTTO" rotate -i --rm-age "$(cut -d' ' -f1,2 "$T/id.pub")" s.yaml
	assert_status 0
	refute grep -q 'me@host' s.yaml
	run_io "$SOTTO" decrypt s.yaml
	assert_out "$(cat plain.yaml)"
}
