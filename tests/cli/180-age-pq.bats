#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Post-quantum hybrid age (mlkem768x25519, age1pq1... / AGE-SECRET-KEY-PQ-1)
# through the CLI: age-keygen -pq / --pq / -y, encrypt and decrypt, the
# reference's mixing rule, modulus-check rejection, the CCTV hybrid vectors,
# and sops mode (--age age1pq1..., .sops.yaml, the Flux age-pq.yaml file).

load helpers

setup() {
	sotto_setup
}

pq_key() { # pq_key FILE: a new PQ identity file; prints its recipient
	"$SOTTO" age-keygen -pq -o "$1" 2>/dev/null &&
	    "$SOTTO" age-keygen -y "$1"
}

@test "age-keygen -pq writes a 0600 PQ identity; -y gives its recipient" {
	run_io "$KEYGEN" -pq -o k.txt
	assert_status 0
	[ "$(stat -c %a k.txt)" = 600 ]
	grep -q '^AGE-SECRET-KEY-PQ-1[0-9A-Z]*$' k.txt
	R=$(sed -n 's/^# public key: //p' k.txt)
	[ "${#R}" = 1959 ]
	[ "${R#age1pq1}" != "$R" ]
	assert_err "Public key: $R"
	run_io "$KEYGEN" -y k.txt
	assert_status 0
	assert_out "$R"
	run_io "$SOTTO" age-keygen --pq
	assert_status 0
	[[ $out == *"AGE-SECRET-KEY-PQ-1"* ]]
}

@test "age-keygen -pq refuses -y and an existing file" {
	"$KEYGEN" -pq -o k.txt 2>/dev/null
	run_io "$KEYGEN" -pq -y k.txt
	assert_status 1
	assert_err "age-keygen: error: -pq cannot be used with -y"
	run_io "$KEYGEN" -pq -o k.txt
	assert_status 1
}

@test "PQ round trip: binary, armored, -R file, two PQ recipients" {
	R1=$(pq_key k1.txt); R2=$(pq_key k2.txt)
	make_plain m 200000
	run_io "$AGE" -r "$R1" -o m.age m
	assert_status 0
	head -2 m.age | grep -q '^-> mlkem768x25519 '
	"$AGE" -d -i k1.txt m.age | cmp - m
	"$AGE" -a -r "$R1" -r "$R2" -o m.asc m
	head -1 m.asc | grep -q 'BEGIN AGE ENCRYPTED FILE'
	"$AGE" -d -i k2.txt m.asc | cmp - m
	printf '# PQ\n%s\n' "$R2" >rcpts
	"$AGE" -R rcpts m | "$AGE" -d -i k2.txt | cmp - m
	run_io "$AGE" -d -i k1.txt <(echo x | "$AGE" -r "$R2")
	assert_status 1
	assert_err_has "no identity matched"
}

@test "a PQ recipient cannot be mixed with a classic one (reference rule)" {
	R=$(pq_key k.txt)
	"$KEYGEN" -o x.txt 2>/dev/null
	X=$("$KEYGEN" -y x.txt)
	IN=/dev/null run_io "$AGE" -r "$R" -r "$X" -o out.age
	assert_status 1
	assert_err "age: error: incompatible recipients: can't mix post-quantum and classic recipients, or the file would be vulnerable to quantum computers"
	[ ! -e out.age ]
	IN=/dev/null run_io "$AGE" -r "$X" -r "$R"
	assert_status 1
	# decrypting a mixed file (made by another tool) works: CCTV hybrid_and_x25519
}

@test "age1pq1 recipients failing the ML-KEM modulus check are refused" {
	python3 - "$SOTTO_SHARED/vectors/mlkem/cctv/modulus/ML-KEM-768.txt.gz" \
	    "$SOTTO_ROOT/tests/tools/age-plugin-sottotest" >bad.txt <<'PY'
import gzip, importlib.machinery, importlib.util, sys
spec = importlib.util.spec_from_loader("p", importlib.machinery.SourceFileLoader("p", sys.argv[2]))
p = importlib.util.module_from_spec(spec); spec.loader.exec_module(p)
for i, line in enumerate(gzip.open(sys.argv[1], "rt")):
    if i % 65 == 0:
        print(p.bech32_encode("age1pq", bytes.fromhex(line.strip()) + b"\x09" * 32))
PY
	[ "$(wc -l <bad.txt)" = 12 ]
	while read -r R; do
		IN=/dev/null run_io "$AGE" -r "$R"
		assert_status 1
		assert_err_has "fails the modulus check"
	done <bad.txt
}

@test "malformed PQ keys give clear errors" {
	R=$(pq_key k.txt)
	# change the last character (to q, or to p when it already is q)
	last=${R: -1}
	IN=/dev/null run_io "$AGE" -r "${R%?}$([ "$last" = q ] && echo p || echo q)"
	assert_status 1
	assert_err_has "malformed recipient"
	sed 's/^\(AGE-SECRET-KEY-PQ-1.\)Q/\1P/; t; s/^\(AGE-SECRET-KEY-PQ-1.\)./\1Q/' k.txt >bad.txt
	echo x | "$AGE" -r "$R" >m.age
	run_io "$AGE" -d -i bad.txt m.age
	assert_status 1
	assert_err_has "malformed post-quantum secret key"
}

@test "CCTV: the 19 hybrid vectors give their expected outcome via the CLI" {
	run python3 "$SOTTO_SHARED/acceptance/lib/cctv.py" --pq \
	    "$SOTTO_SHARED/vectors/age" "$SOTTO" age
	echo "$output"
	[ "$status" = 0 ]
	[[ $output == *"19/19"* ]]
}

@test "sops: the Flux age-pq.yaml fixture decrypts with the identity beside it" {
	W=$SOTTO_SHARED/vectors/sops/wild/kustomize-controller
	SOPS_AGE_KEY_FILE=$W/age-pq.txt run_io "$SOTTO" decrypt \
	    "$W/algorithms/age-pq.yaml"
	assert_status 0
	[[ $out == *"stringData:"* ]]
}

@test "sops: --age age1pq1..., .sops.yaml and keys files round trip" {
	R=$(pq_key k.txt)
	printf 'db:\n    password: hunter2\n' >s.yaml
	run_io "$SOTTO" encrypt --age "$R" s.yaml
	assert_status 0
	cp "$T/out" s.enc.yaml
	grep -q "recipient: $R" s.enc.yaml

	SOPS_AGE_KEY_FILE=$PWD/k.txt run_io "$SOTTO" decrypt s.enc.yaml
	assert_status 0
	[[ $out == *"password: hunter2"* ]]
	printf 'creation_rules:\n  - age: %s\n' "$R" >.sops.yaml
	cp s.yaml c.yaml
	run_io "$SOTTO" encrypt -i c.yaml
	assert_status 0
	grep -q "recipient: $R" c.yaml
	SOPS_AGE_KEY=$(grep '^AGE-' k.txt) run_io "$SOTTO" decrypt c.yaml
	assert_status 0
	[[ $out == *"password: hunter2"* ]]
}
