#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# age 1.3's terminal and key behaviours: input typed ahead of a prompt is
# kept, plaintext typed on the terminal ends at one ^D, armored ciphertext
# and then a passphrase on the same terminal, passphrase-protected SSH keys
# unlocked only when a stanza names them, and -e -j/-i with a plugin.

load helpers

setup() {
	sotto_setup
	command -v python3 >/dev/null || skip "python3 is needed for the pty helper"
	make_plain plain.txt 70000
}

# pty [--type FILE] [--stdin-tty] [--answer A]... -- CMD...
pty() {
	run_io timeout 60 python3 "$PTY_RUN" --timeout 30 --transcript "$T/tty" "$@"
}

@test "a passphrase typed before the prompt is not thrown away" {
	printf 'early bird\nearly bird\n' >typed
	pty --type typed -- "$AGE" -p -o p.age plain.txt
	assert_status 0
	assert_out ""
	assert_err ""
	printf 'early bird\n' >typed
	pty --type typed -- "$AGE" -d -o p.out p.age
	assert_status 0
	same_bytes plain.txt p.out
}

@test "plaintext typed on the terminal ends at one ^D, after the prompts" {
	printf 'pw\npw\nsecret typed text\n' >typed
	pty --type typed --stdin-tty -- "$AGE" -p -a -o t.age
	assert_status 0
	assert_err ""
	grep -q 'Enter passphrase' "$T/tty"
	printf 'pw\n' >typed
	pty --type typed -- "$AGE" -d t.age
	assert_status 0
	assert_out "secret typed text"
}

@test "armored ciphertext typed on the terminal, then its passphrase" {
	# small: the terminal's input queue holds 4 KiB
	make_plain small.txt 300
	printf 'pw\npw\n' >typed
	pty --type typed -- "$AGE" -p -a -o t.age small.txt
	assert_status 0
	{ cat t.age; printf 'pw\n'; } >typed
	pty --type typed --stdin-tty -- "$AGE" -d -o t.out
	assert_status 0
	assert_err ""
	grep -q 'Enter passphrase' "$T/tty"
	same_bytes small.txt t.out
	# a wrong one: incorrect passphrase, no file
	{ cat t.age; printf 'nope\n'; } >typed
	pty --type typed --stdin-tty -- "$AGE" -d -o t2.out
	assert_status 1
	assert_err "age: error: incorrect passphrase"
	[ ! -e t2.out ]
}

@test "an encrypted OpenSSH key is unlocked only for a stanza naming it" {
	ssh-keygen -q -t ed25519 -N hunter2 -C '' -f ed
	ssh-keygen -q -t ed25519 -N '' -C '' -f other
	# -e -i needs only the public key: no terminal, no prompt
	run_io "$AGE" -e -i ed -o ed.age plain.txt
	assert_status 0
	assert_err ""
	rm ed.pub	# an OpenSSH file carries its public key
	pty --answer hunter2 -- "$AGE" -d -i ed ed.age
	assert_status 0
	assert_err ""
	same_bytes plain.txt "$T/out"
	grep -q 'Enter passphrase for "ed":' "$T/tty"
	# a file for another key: no prompt, no match
	"$AGE" -R other.pub -o other.age plain.txt
	run_io "$AGE" -d -i ed other.age
	assert_status 1
	assert_out ""
	assert_err "age: error: no identity matched any of the recipients"
	# the wrong passphrase fails, naming nothing secret
	pty --answer wrong -- "$AGE" -d -i ed -o x.out ed.age
	assert_status 1
	assert_err_has "incorrect passphrase"
	[ ! -e x.out ]
}

@test "an encrypted PEM key needs its .pub, which must match" {
	ssh-keygen -q -t rsa -b 2048 -m PEM -N hunter2 -C '' -f rsa
	ssh-keygen -q -t rsa -b 2048 -N '' -C '' -f rsa2
	run_io "$AGE" -e -i rsa -o rsa.age plain.txt
	assert_status 0
	assert_err ""
	pty --answer hunter2 -- "$AGE" -d -i rsa rsa.age
	assert_status 0
	same_bytes plain.txt "$T/out"
	cp rsa rsa_copy
	cp rsa2.pub rsa_copy.pub
	"$AGE" -R rsa2.pub -o rsa2.age plain.txt
	pty --answer hunter2 -- "$AGE" -d -i rsa_copy -o y.out rsa2.age
	assert_status 1
	assert_err "age: error: 'rsa_copy': mismatched private and public SSH key"
	[ ! -e y.out ]
	rm rsa.pub
	run_io "$AGE" -d -i rsa rsa.age
	assert_status 1
	assert_out ""
	assert_err_has "'rsa.pub'"
	assert_err_has "ssh-keygen -p -m RFC4716"
}

@test "-e -j and -e -i encrypt to a plugin identity (add-identity)" {
	mkdir -p "$T/pbin"
	ln -sf "$SOTTO_ROOT/tests/tools/age-plugin-sottotest" "$T/pbin/"
	export PATH="$T/pbin:$PATH" SOTTOTEST_LOG=$T/plugin.log
	run_io "$AGE" -e -j sottotest -o j.age plain.txt
	assert_status 0
	head -1 "$T/plugin.log" | grep -qx add-identity
	run_io "$AGE" -d -j sottotest j.age
	assert_status 0
	same_bytes plain.txt "$T/out"
	age-plugin-sottotest --keygen >id.txt
	run_io "$AGE" -e -i id.txt -o i.age plain.txt
	assert_status 0
	run_io "$AGE" -d -i id.txt i.age
	assert_status 0
	same_bytes plain.txt "$T/out"
	# a passphrase file with -j: the plugin is asked first (batchpass)
	printf 'pw\npw\n' >typed
	pty --type typed -- "$AGE" -p -o p.age plain.txt
	run_io "$AGE" -d -j sottotest -o p.out p.age
	assert_status 1
	assert_err "age-plugin-sottotest: sottotest: unwrapping
age: error: file is passphrase-encrypted but identities were specified with -i/--identity or -j
age: hint: remove all -i/--identity/-j flags to decrypt passphrase-encrypted files"
	[ ! -e p.out ]
}
