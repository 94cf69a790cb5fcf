#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# `sotto age-keygen` and the `age-keygen` personality: output format, file
# mode, refusal to overwrite, -y, and where the public key is printed.

load helpers

setup() {
	sotto_setup
}

@test "age-keygen prints a three-line identity file and the public key on stderr" {
	umask 077
	run_io "$KEYGEN"
	assert_status 0
	[ "$(wc -l <"$T/out")" = 3 ]
	sed -n 1p "$T/out" | grep -Eq '^# created: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})$'
	sed -n 2p "$T/out" | grep -Eq '^# public key: age1[02-9ac-hj-np-z]{58}$'
	sed -n 3p "$T/out" | grep -Eq '^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$'
	pub=$(sed -n 's/^# public key: //p' "$T/out")
	# stdout is not a terminal, so the public key also goes to stderr
	assert_err "Public key: $pub"
}

@test "writing the secret key to a world-readable stdout file warns" {
	umask 022
	run_io "$KEYGEN"
	assert_status 0
	pub=$(sed -n 's/^# public key: //p' "$T/out")
	assert_err "age-keygen: warning: writing secret key to a world-readable file
Public key: $pub"
}

@test "-o creates the file with mode 0600 and prints the public key" {
	run_io "$SOTTO" age-keygen -o key.txt
	assert_status 0
	assert_out ""
	[ "$(stat -c %a key.txt)" = 600 ]
	pub=$(sed -n 's/^# public key: //p' key.txt)
	assert_err "Public key: $pub"
	umask 000
	run_io "$KEYGEN" -o key2.txt
	assert_status 0
	[ "$(stat -c %a key2.txt)" = 600 ]
}

@test "-o refuses to overwrite an existing file and leaves it unchanged" {
	echo "precious" >key.txt
	chmod 644 key.txt
	run_io "$KEYGEN" -o key.txt
	assert_status 1
	assert_out ""
	assert_err "age-keygen: error: cannot create 'key.txt': File exists"
	[ "$(cat key.txt)" = precious ]
	[ "$(stat -c %a key.txt)" = 644 ]
	ln -s nowhere dangling
	run_io "$KEYGEN" -o dangling
	assert_status 1
	[ ! -e nowhere ]
}

@test "-y converts an identity file to its recipients" {
	"$KEYGEN" -o a.txt 2>/dev/null
	"$KEYGEN" -o b.txt 2>/dev/null
	cat a.txt b.txt >both.txt
	run_io "$KEYGEN" -y both.txt
	assert_status 0
	assert_err ""
	assert_out "$(sed -n 's/^# public key: //p' a.txt)
$(sed -n 's/^# public key: //p' b.txt)"
	IN=a.txt run_io "$SOTTO" age-keygen -y
	assert_status 0
	assert_out "$(sed -n 's/^# public key: //p' a.txt)"
	run_io "$KEYGEN" -y -o pub.txt a.txt
	assert_status 0
	[ "$(cat pub.txt)" = "$(sed -n 's/^# public key: //p' a.txt)" ]
	# the key the recipient came from decrypts what was encrypted to it
	echo hi | "$SOTTO" age -R pub.txt >m.age
	[ "$("$SOTTO" age -d -i a.txt m.age)" = hi ]
}

@test "-y rejects files that are not identity files" {
	"$KEYGEN" -o a.txt 2>/dev/null
	sed -n 's/^# public key: //p' a.txt >pub.txt
	run_io "$KEYGEN" -y pub.txt
	assert_status 1
	assert_out ""
	assert_err "age-keygen: error: 'pub.txt' line 1: apparent recipient found: this is a public key (age1...), not an identity"
	run_io "$KEYGEN" -y missing.txt
	assert_status 1
	assert_err "age-keygen: error: cannot open 'missing.txt': No such file or directory"
}

@test "positional arguments without -y and unknown flags are errors" {
	run_io "$KEYGEN" extra
	assert_status 1
	assert_out ""
	assert_err "age-keygen: error: too many arguments (did you mean -y?)"
	run_io "$KEYGEN" -y a b
	assert_status 1
	assert_err "age-keygen: error: too many arguments"
	run_io "$KEYGEN" -pq -y
	assert_status 1
	assert_err "age-keygen: error: -pq cannot be used with -y"
}

@test "--help and --version" {
	run_io "$KEYGEN" --help
	assert_status 0
	[[ $out == Usage:* ]]
	[[ $out == *"age-keygen -y [-o OUTPUT] [INPUT]"* ]]
	run_io "$KEYGEN" --version
	assert_status 0
	assert_out "$(cat "$SOTTO_ROOT/VERSION")"
}

@test "-y converts native age identities only, as age-keygen (a plugin identity or an SSH key is refused)" {
	printf 'AGE-PLUGIN-FUZZ-1YQSJYGEYY5NZW2PF9G4JCTFW9ULZU58X\n' >plugin.txt
	run_io "$KEYGEN" -y plugin.txt
	assert_status 1
	assert_out ""
	assert_err "age-keygen: error: 'plugin.txt': -y converts only native age identities (AGE-SECRET-KEY-1..., AGE-SECRET-KEY-PQ-1...)"
	if command -v ssh-keygen >/dev/null; then
		ssh-keygen -q -t ed25519 -N '' -f id_ed25519
		run_io "$KEYGEN" -y id_ed25519
		assert_status 1
		assert_err "age-keygen: error: 'id_ed25519': -y converts only native age identities (AGE-SECRET-KEY-1..., AGE-SECRET-KEY-PQ-1...)"
	fi
}
