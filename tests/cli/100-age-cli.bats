#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# `sotto age` and the `age` personality: the reference age CLI's flags,
# stdout/stderr and exit statuses, and a failure twin for each success.

load helpers

setup() {
	sotto_setup
	"$SOTTO" age-keygen -o key.txt 2>/dev/null
	REC=$(sed -n 's/^# public key: //p' key.txt)
	"$SOTTO" age-keygen -o other.txt 2>/dev/null
	make_plain plain.txt 1000
}

@test "encrypting to a recipient and decrypting with the identity file round-trips" {
	run_io "$SOTTO" age -r "$REC" -o enc.age plain.txt
	assert_status 0
	assert_out ""
	assert_err ""
	assert_no_plaintext
	head -c 22 enc.age | grep -q '^age-encryption.org/v1'
	run_io "$SOTTO" age --decrypt --identity key.txt --output dec.txt enc.age
	assert_status 0
	assert_err ""
	same_bytes plain.txt dec.txt
}

@test "stdin and stdout are used by default and with '-'" {
	IN=plain.txt run_io "$SOTTO" age -r "$REC"
	assert_status 0
	cp "$T/out" enc.age
	IN=enc.age run_io "$SOTTO" age -d -i key.txt -o - -
	assert_status 0
	same_bytes plain.txt "$T/out"
	IN=enc.age run_io "$SOTTO" age -d -i key.txt
	assert_status 0
	same_bytes plain.txt "$T/out"
}

@test "the age personality (argv[0] symlink) behaves like the reference" {
	run_io "$AGE" -e -r "$REC" -a -o enc.asc plain.txt
	assert_status 0
	head -1 enc.asc | grep -qx -- '-----BEGIN AGE ENCRYPTED FILE-----'
	tail -1 enc.asc | grep -qx -- '-----END AGE ENCRYPTED FILE-----'
	awk 'length($0) > 64 { exit 1 }' enc.asc
	run_io "$AGE" -d -i key.txt enc.asc
	assert_status 0
	same_bytes plain.txt "$T/out"
	run_io "$AGE" -d -i other.txt enc.asc
	assert_status 1
	assert_err "age: error: no identity matched any of the recipients"
	assert_out ""
	assert_no_plaintext
}

@test "armored and binary files are both auto-detected on decryption" {
	"$SOTTO" age -r "$REC" -a -o enc.asc plain.txt
	"$SOTTO" age -r "$REC" -o enc.age plain.txt
	{ printf '\n \r\n'; cat enc.asc; printf '\n\n'; } >spaced.asc
	for f in enc.asc enc.age spaced.asc; do
		run_io "$SOTTO" age -d -i key.txt "$f"
		assert_status 0
		same_bytes plain.txt "$T/out"
	done
}

@test "-R reads a recipients file and -e -i encrypts to an identity's recipient" {
	printf '# team\n%s\n\n%s\n' "$REC" "$(sed -n 's/^# public key: //p' other.txt)" >recipients.txt
	run_io "$SOTTO" age -R recipients.txt -o enc.age plain.txt
	assert_status 0
	for k in key.txt other.txt; do
		run_io "$SOTTO" age -d -i "$k" enc.age
		assert_status 0
		same_bytes plain.txt "$T/out"
	done
	run_io "$SOTTO" age -e -i key.txt -o enc2.age plain.txt
	assert_status 0
	run_io "$SOTTO" age -d -i other.txt -i key.txt enc2.age
	assert_status 0
	same_bytes plain.txt "$T/out"
}

@test "empty input encrypts and decrypts to an empty file" {
	: >empty
	run_io "$SOTTO" age -r "$REC" -o empty.age empty
	assert_status 0
	run_io "$SOTTO" age -d -i key.txt -o empty.out empty.age
	assert_status 0
	[ -f empty.out ] && [ ! -s empty.out ]
}

@test "--help prints usage to stderr (as age) and --version the version" {
	for h in --help -help -h --h; do
		run_io "$SOTTO" age -p "$h"
		assert_status 0
		assert_out ""
		[[ $err == Usage:* ]]
		[[ $err == *"-d, --decrypt"* ]]
		[[ $err == *"-R, --recipients-file PATH"* ]]
		[[ $err == *"SOTTO_AGE_THREADS"* ]]
	done
	run_io "$AGE" -h
	assert_status 0
	[[ $err == *"    age [--encrypt] (-r RECIPIENT | -R PATH)..."* ]]
	run_io "$AGE" --version
	assert_status 0
	assert_out "$(cat "$SOTTO_ROOT/VERSION")"
	run_io "$SOTTO" age --version
	assert_status 0
	[[ $out == "$(cat "$SOTTO_ROOT/VERSION")"* ]]
}

@test "no arguments prints usage to stderr and exits 1" {
	run_io "$AGE"
	assert_status 1
	assert_out ""
	[[ $err == Usage:* ]]
}

@test "encryption without recipients is an error" {
	run_io "$SOTTO" age -e plain.txt
	assert_status 1
	assert_out ""
	assert_err "sotto age: error: missing recipients
sotto age: hint: did you forget to specify -r/--recipient, -R/--recipients-file or -p/--passphrase?"
	assert_no_plaintext
}

@test "-d cannot be combined with -r, -R, -a, -p or -e (age's messages)" {
	run_io "$AGE" -d -r "$REC" plain.txt
	assert_status 1
	assert_err "age: error: -r/--recipient can't be used with -d/--decrypt
age: hint: did you mean to use -i/--identity to specify a private key?"
	run_io "$AGE" -d -R key.txt plain.txt
	assert_status 1
	assert_err "age: error: -R/--recipients-file can't be used with -d/--decrypt
age: hint: did you mean to use -i/--identity to specify a private key?"
	run_io "$AGE" -d -a plain.txt
	assert_status 1
	assert_err "age: error: -a/--armor can't be used with -d/--decrypt
age: hint: note that armored files are detected automatically, try again without -a/--armor"
	run_io "$AGE" -d -p plain.txt
	assert_status 1
	assert_err "age: error: -p/--passphrase can't be used with -d/--decrypt
age: hint: note that password protected files are detected automatically"
	run_io "$AGE" -d -e plain.txt
	assert_status 1
	assert_err "age: error: -e/--encrypt can't be used with -d/--decrypt"
}

@test "two inputs, -i without -e and -p with -r are usage errors" {
	run_io "$AGE" -r "$REC" plain.txt key.txt
	assert_status 1
	assert_err "age: error: too many INPUT arguments: \"plain.txt\" \"key.txt\"
age: hint: only a single input file may be specified at a time"
	run_io "$AGE" -r "$REC" plain.txt -o out.age
	assert_status 1
	assert_err "age: error: too many INPUT arguments: \"plain.txt\" \"-o\" \"out.age\"
age: hint: the input file must be specified after all flags
age: hint: did you mean:
age: hint:     age -r $REC -o out.age plain.txt"
	[ ! -e out.age ]
	run_io "$AGE" -i key.txt plain.txt
	assert_status 1
	assert_err "age: error: -i/--identity and -j can't be used in encryption mode unless symmetric encryption is explicitly selected with -e/--encrypt
age: hint: did you forget to specify -d/--decrypt?"
	run_io "$AGE" -p -r "$REC" plain.txt
	assert_status 1
	assert_err "age: error: -p/--passphrase can't be combined with -r/--recipient"
	run_io "$AGE" -p -R key.txt plain.txt
	assert_status 1
	assert_err "age: error: -p/--passphrase can't be combined with -R/--recipients-file"
}

@test "flags parse as Go's flag package: unknown exits 2 with the usage" {
	run_io "$AGE" --no-such-flag
	assert_status 2
	assert_out ""
	[[ $err == "flag provided but not defined: -no-such-flag
Usage:"* ]]
	run_io "$AGE" -r
	assert_status 2
	[[ $err == "flag needs an argument: -r
Usage:"* ]]
	run_io "$AGE" -a=maybe -r "$REC" plain.txt
	assert_status 2
	[[ $err == "invalid boolean value \"maybe\" for -a: parse error"* ]]
	run_io "$AGE" ---r "$REC" plain.txt
	assert_status 2
	[[ $err == "bad flag syntax: ---r"* ]]
	# one or two dashes, -flag=value, -a=true, and "--" ending the flags
	run_io "$AGE" --recipient="$REC" -a=true -output enc.asc -- plain.txt
	assert_status 0
	head -1 enc.asc | grep -qx -- '-----BEGIN AGE ENCRYPTED FILE-----'
	run_io "$AGE" -decrypt -identity=key.txt enc.asc
	assert_status 0
	same_bytes plain.txt "$T/out"
}

@test "repeated recipients, recipients files and identity files are warned about" {
	printf '%s\n' "$REC" >r.txt
	run_io "$AGE" -r "$REC" -a -r "$REC" -r "$REC" -R r.txt -o x.age -R r.txt plain.txt
	assert_status 0
	assert_err "age: warning: duplicate recipient \"$REC\"
age: warning: duplicate recipients file \"r.txt\""
	run_io "$AGE" -d -i key.txt -o x.out -i key.txt x.age
	assert_status 0
	assert_err "age: warning: duplicate identity file \"key.txt\""
	run_io "$AGE" -d -i key.txt -i other.txt x.age
	assert_status 0
	assert_err ""
}

@test "the same file as input and output is refused and left intact" {
	cp plain.txt copy.txt
	run_io "$AGE" -r "$REC" -o plain.txt plain.txt
	assert_status 1
	assert_err "age: error: input and output file are the same: \"plain.txt\""
	same_bytes copy.txt plain.txt
	mkdir d
	run_io "$AGE" -r "$REC" -o plain.txt d/../plain.txt
	assert_status 1
	assert_err "age: error: input and output file are the same: \"plain.txt\""
	same_bytes copy.txt plain.txt
	# -o onto the identity or recipients file (age >= 1.2)
	cp key.txt keycopy.txt
	"$SOTTO" age -r "$REC" -o enc.age plain.txt
	run_io "$AGE" -d -i keycopy.txt -o keycopy.txt enc.age
	assert_status 1
	assert_err "age: error: input and output file are the same: \"keycopy.txt\""
	same_bytes key.txt keycopy.txt
	printf '%s\n' "$REC" >r.txt
	cp r.txt rcopy.txt
	run_io "$AGE" -R r.txt -o r.txt plain.txt
	assert_status 1
	assert_err "age: error: input and output file are the same: \"r.txt\""
	same_bytes rcopy.txt r.txt
	ln -s plain.txt link.txt
	run_io "$AGE" -r "$REC" -o link.txt plain.txt
	assert_status 1
	same_bytes copy.txt plain.txt
}

@test "standard input cannot serve as both input and a key file" {
	"$SOTTO" age -r "$REC" -o enc.age plain.txt
	IN=enc.age run_io "$AGE" -d -i - -
	assert_status 1
	assert_out ""
	assert_err "age: error: standard input is used for multiple purposes"
	printf '%s\n' "$REC" >r.txt
	IN=r.txt run_io "$AGE" -R -
	assert_status 1
	assert_out ""
	assert_err "age: error: standard input is used for multiple purposes"
	IN=r.txt run_io "$AGE" -R - plain.txt
	assert_status 0
}

@test "an identity file of unknown format is rejected naming the line" {
	"$SOTTO" age -r "$REC" -o enc.age plain.txt
	printf '# mine\n\nnot-a-key\n' >bad.txt
	run_io "$AGE" -d -i bad.txt enc.age
	assert_status 1
	assert_out ""
	assert_err "age: error: reading identity file: 'bad.txt' line 3: not an age identity (expected AGE-SECRET-KEY-1...)"
	printf '%s\n' "$REC" >pub.txt
	run_io "$AGE" -d -i pub.txt enc.age
	assert_status 1
	assert_err "age: error: reading identity file: 'pub.txt' line 1: apparent recipient found: this is a public key (age1...), not an identity"
	run_io "$AGE" -d -i missing.txt enc.age
	assert_status 1
	assert_err "age: error: reading identity file: cannot open 'missing.txt': No such file or directory"
	assert_no_plaintext
}

@test "bad Bech32 in a recipient or an identity is rejected" {
	bad=${REC%?}$([ "${REC: -1}" = q ] && echo p || echo q)
	run_io "$AGE" -r "$bad" plain.txt
	assert_status 1
	assert_out ""
	assert_err "age: error: invalid recipient: malformed recipient '$bad': invalid checksum"
	run_io "$AGE" -r age1qqqq plain.txt
	assert_status 1
	assert_err "age: error: invalid recipient: malformed recipient 'age1qqqq': separator '1' at invalid position"
	"$SOTTO" age -r "$REC" -o enc.age plain.txt
	sed 's/^\(AGE-SECRET-KEY-1\)\(.\)/\1\2\2/' key.txt >badkey.txt
	run_io "$AGE" -d -i badkey.txt enc.age
	assert_status 1
	assert_err "age: error: reading identity file: 'badkey.txt' line 3: malformed secret key: invalid checksum"
	assert_no_plaintext
}

@test "a wrong identity fails with no match and releases nothing" {
	"$SOTTO" age -r "$REC" -o enc.age plain.txt
	run_io "$SOTTO" age -d -i other.txt enc.age
	assert_status 1
	assert_out ""
	assert_err "sotto age: error: no identity matched any of the recipients"
	assert_no_plaintext
	run_io "$SOTTO" age -d enc.age
	assert_status 1
	assert_err "sotto age: error: the file is not passphrase-encrypted, identities are required
sotto age: hint: specify identities with -i/--identity or -j to decrypt this file"
}

@test "a truncated file fails in the header or the payload" {
	make_plain big.txt 200000
	"$SOTTO" age -r "$REC" -o enc.age big.txt
	head -c 60 enc.age >t1.age
	run_io "$AGE" -d -i key.txt t1.age
	assert_status 1
	assert_out ""
	assert_err "age: error: unexpected end of header
age: hint: the file may be truncated, corrupted or tampered with"
	: >t0.age
	run_io "$AGE" -d -i key.txt t0.age
	assert_status 1
	assert_err "age: error: empty input: not an age file
age: hint: the file may be truncated, corrupted or tampered with"
	size=$(wc -c <enc.age)
	head -c $((size - 100)) enc.age >t2.age
	run_io "$AGE" -d -i key.txt -o t2.out t2.age
	assert_status 1
	assert_err "age: error: payload failure: chunk 3 failed to authenticate (truncated or tampered)
age: hint: the file may be truncated, corrupted or tampered with"
	[ ! -e t2.out ]
	assert_no_plaintext
}

@test "a tampered header fails with a MAC or header error" {
	"$SOTTO" age -r "$REC" -o enc.age plain.txt
	off=$(mac_offset enc.age)
	flip_byte enc.age mac.age "$off" 0x03
	run_io "$AGE" -d -i key.txt mac.age
	assert_status 1
	assert_out ""
	if grep -q 'bad header MAC' "$T/err"; then
		assert_err "age: error: bad header MAC
age: hint: the file may be truncated, corrupted or tampered with"
	else
		assert_err "age: error: malformed header MAC line
age: hint: the file may be truncated, corrupted or tampered with"
	fi
	flip_byte enc.age ver.age 3
	run_io "$AGE" -d -i key.txt ver.age
	assert_status 1
	assert_err "age: error: not an age file (bad version line)
age: hint: the file may be truncated, corrupted or tampered with"
	flip_byte enc.age share.age 40
	run_io "$AGE" -d -i key.txt share.age
	assert_status 1
	assert_out ""
	assert_no_plaintext
}

@test "a tampered payload fails and -o leaves no file and keeps an existing one" {
	"$SOTTO" age -r "$REC" -o enc.age plain.txt
	flip_byte enc.age bad.age -5
	run_io "$AGE" -d -i key.txt -o new.txt bad.age
	assert_status 1
	assert_out ""
	assert_err "age: error: payload failure: chunk 0 failed to authenticate (truncated or tampered)
age: hint: the file may be truncated, corrupted or tampered with"
	[ ! -e new.txt ]
	ls -A | grep -v -e '^new' >/dev/null
	[ -z "$(ls -A | grep -e '^\.new\|new\.txt\.')" ]
	echo "keep me" >existing.txt
	run_io "$AGE" -d -i key.txt -o existing.txt bad.age
	assert_status 1
	[ "$(cat existing.txt)" = "keep me" ]
	assert_no_plaintext
}

@test "decrypting to stdout releases exactly the authenticated chunks" {
	make_plain big.txt 200000
	"$SOTTO" age -r "$REC" -o enc.age big.txt
	hdr=$(( $(mac_offset enc.age) + 43 + 1 + 16 ))
	# corrupt the third chunk (chunks are 65536+16 bytes)
	flip_byte enc.age bad.age $((hdr + 2 * 65552 + 100))
	run_io "$AGE" -d -i key.txt bad.age
	assert_status 1
	assert_err "age: error: payload failure: chunk 2 failed to authenticate (tampered)
age: hint: the file may be truncated, corrupted or tampered with"
	[ "$(wc -c <"$T/out")" = 131072 ]
	head -c 131072 big.txt >want
	same_bytes want "$T/out"
	# and -o FILE releases nothing at all
	run_io "$AGE" -d -i key.txt -o part.txt bad.age
	assert_status 1
	[ ! -e part.txt ]
}

@test "malformed armor is an armor failure" {
	"$SOTTO" age -r "$REC" -a -o enc.asc plain.txt
	sed 's/^-----END AGE ENCRYPTED FILE-----$/-----END AGE FILE-----/' enc.asc >noend.asc
	run_io "$AGE" -d -i key.txt noend.asc
	assert_status 1
	assert_out ""
	[[ $err == "age: error: invalid armor: "* ]]
	assert_err_has "age: hint: the file may be truncated, corrupted or tampered with"
	sed '$d' enc.asc >cut.asc
	run_io "$AGE" -d -i key.txt cut.asc
	assert_status 1
	assert_err "age: error: invalid armor: missing END line
age: hint: the file may be truncated, corrupted or tampered with"
	sed '2s/^./*/' enc.asc >char.asc
	run_io "$AGE" -d -i key.txt char.asc
	assert_status 1
	assert_err "age: error: invalid armor: bad base64 line
age: hint: the file may be truncated, corrupted or tampered with"
	{ cat enc.asc; echo trailing; } >trail.asc
	run_io "$AGE" -d -i key.txt trail.asc
	assert_status 1
	assert_err "age: error: invalid armor: trailing data after END line
age: hint: the file may be truncated, corrupted or tampered with"
	assert_no_plaintext
}

@test "an oversized header line is a header failure" {
	{ printf 'age-encryption.org/v1\n-> X25519 '; head -c 20000 /dev/zero | tr '\0' A; printf '\n'; } >long.age
	run_io "$AGE" -d -i key.txt long.age
	assert_status 1
	assert_out ""
	assert_err "age: error: header line too long
age: hint: the file may be truncated, corrupted or tampered with"
}

@test "a passphrase without a terminal fails with 'there is no terminal'" {
	run_io setsid "$AGE" -p -o p.age plain.txt
	assert_status 1
	assert_out ""
	assert_err "age: error: a passphrase is needed but there is no terminal to read it from"
	[ ! -e p.age ]
	cp "$SOTTO_SHARED/vectors/age/scrypt" scrypt.vec
	sed '1,/^$/d' scrypt.vec >scrypt.age
	run_io setsid "$AGE" -d scrypt.age
	assert_status 1
	assert_out ""
	assert_err "age: error: a passphrase is needed but there is no terminal to read it from"
}
