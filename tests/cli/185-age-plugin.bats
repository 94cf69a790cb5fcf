#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# age plugins, client side, against tests/tools/age-plugin-sottotest (a
# Python plugin written for these tests, installed into a PATH directory
# here): recipient-v1 and identity-v1 with every protocol message (msg,
# grease answered "unsupported", labels, confirm, request-public,
# request-secret, recipient-stanza, file-key, error, done), -j, answers
# from a terminal (tests/tools/pty_run.py) or refused without one, and
# each misbehaving-plugin case with its exact error.

load helpers

setup() {
	sotto_setup
	mkdir -p "$T/pbin"
	ln -sf "$SOTTO_ROOT/tests/tools/age-plugin-sottotest" "$T/pbin/"
	export PATH="$T/pbin:$PATH"
	export SOTTOTEST_LOG=$T/plugin.log
	age-plugin-sottotest --keygen >id.txt
	R=$(sed -n 's/^# recipient: //p' id.txt)
	echo "plugin secret" >m
}

P="age-plugin-sottotest"

@test "recipient-v1 and identity-v1 round trip, every phase message" {
	run_io "$AGE" -r "$R" -o m.age m
	assert_status 0
	assert_err "$P: sottotest: wrapping"
	head -2 m.age | grep -q '^-> sottotest '
	[ "$(cat plugin.log)" = "$(printf '%s\n' add-recipient wrap-file-key \
	    extension-labels done ok unsupported ok)" ]
	: >plugin.log
	run_io "$AGE" -d -i id.txt m.age
	assert_status 0
	assert_out "plugin secret"
	assert_err "$P: sottotest: unwrapping"
	[ "$(cat plugin.log)" = "$(printf '%s\n' add-identity \
	    recipient-stanza done ok unsupported ok)" ]
}

@test "-j NAME uses the plugin's data-less identity" {
	K=$(python3 -c 'import importlib.machinery as m, importlib.util as u, sys
s = u.spec_from_loader("p", m.SourceFileLoader("p", sys.argv[1]))
p = u.module_from_spec(s); s.loader.exec_module(p)
print(p.bech32_encode("age1sottotest", b"\x42" * 16))' "$T/pbin/$P")
	"$AGE" -r "$K" m 2>/dev/null >j.age
	run_io "$AGE" -d -j sottotest j.age
	assert_status 0
	assert_out "plugin secret"
	run_io "$AGE" -d -i id.txt j.age
	assert_status 1
	assert_err_has "no identity matched"
}

@test "a plugin identity sees stanzas after native identities failed" {
	"$KEYGEN" -o x.txt 2>/dev/null
	"$AGE" -r "$R" m 2>/dev/null >m.age
	cat x.txt id.txt >both.txt
	run_io "$AGE" -d -i both.txt m.age
	assert_status 0
	assert_out "plugin secret"
}

@test "request-secret and confirm are answered from the terminal" {
	"$AGE" -r "$R" m 2>/dev/null >m.age
	SOTTOTEST_PIN=2468 SOTTOTEST_ASK=confirm run_io "$PTY_RUN" \
	    --answer 1 --answer 2468 --transcript "$T/tty" -- \
	    "$AGE" -d -i id.txt m.age
	assert_status 0
	assert_out "plugin secret"
	grep -q "Use the sottotest passphrase-less key? \[1 = sure, 2 = nope\]:" tty
	grep -q "Enter passphrase for sottotest:" tty
	grep -q "confirm answer ok \['yes'\]" err
	# a wrong PIN: the plugin reports an identity error
	SOTTOTEST_PIN=2468 run_io "$PTY_RUN" --answer 1111 -- \
	    "$AGE" -d -i id.txt m.age
	assert_status 1
	assert_err_has "age: error: $P: plugin reported an error (identity 0): PIN refused"
}

@test "without a terminal, requests are refused with fail" {
	"$AGE" -r "$R" m 2>/dev/null >m.age
	SOTTOTEST_ASK=public run_io setsid -w "$AGE" -d -i id.txt m.age
	assert_status 0
	SOTTOTEST_PIN=1 run_io setsid -w "$AGE" -d -i id.txt m.age
	assert_status 1
	assert_err "$P: sottotest: unwrapping
age: error: $P: plugin reported an error (identity 0): no PIN given"
	SOTTOTEST_ASK=confirm run_io setsid -w "$AGE" -d -i id.txt m.age
	assert_status 1
	assert_err_has "plugin reported an error (identity 0): not confirmed"
}

@test "labels: a postquantum plugin mixes with age1pq1 but not with X25519" {
	"$KEYGEN" -o x.txt 2>/dev/null
	"$KEYGEN" -pq -o q.txt 2>/dev/null
	SOTTOTEST_LABELS=postquantum run_io "$AGE" -r "$R" -r "$("$KEYGEN" -y x.txt)" -o o.age m
	assert_status 1
	assert_err_has "age: error: incompatible recipients: can't mix post-quantum and classic recipients"
	SOTTOTEST_LABELS=postquantum run_io "$AGE" -r "$("$KEYGEN" -y q.txt)" -r "$R" -o o.age m
	assert_status 0
	"$AGE" -d -i q.txt o.age | cmp - m
	SOTTOTEST_LABELS="postquantum" "$AGE" -d -i id.txt o.age 2>/dev/null | cmp - m
}

# misbehave MODE: encrypt (recipient-v1) and decrypt (identity-v1) under
# SOTTOTEST_MODE=MODE; sets enc_err and dec_err
misbehave() {
	"$AGE" -r "$R" m 2>/dev/null >good.age
	SOTTOTEST_MODE=$1 run_io "$AGE" -r "$R" m
	assert_status 1
	[ ! -s out ]
	enc_err=$err
	SOTTOTEST_MODE=$1 run_io "$AGE" -d -i id.txt good.age
	assert_status 1
	dec_err=$err
}

@test "misbehaving plugin: crash" {
	misbehave crash
	[ "$enc_err" = "age: error: $P: plugin exited unexpectedly with status 3" ]
	[ "$dec_err" = "age: error: $P: plugin exited unexpectedly with status 3" ]
}

@test "misbehaving plugin: closes the connection without done" {
	misbehave exit0
	[ "$enc_err" = "age: error: $P: plugin closed the connection unexpectedly" ]
	[ "$dec_err" = "age: error: $P: plugin closed the connection unexpectedly" ]
}

@test "misbehaving plugin: hangs (timeout)" {
	export SOTTO_AGE_PLUGIN_TIMEOUT=1
	misbehave hang
	[ "$enc_err" = "age: error: $P: timed out after 1 seconds waiting for the plugin (SOTTO_AGE_PLUGIN_TIMEOUT)" ]
	[ "$dec_err" = "$enc_err" ]
}

@test "misbehaving plugin: malformed message" {
	misbehave garbage
	[ "$enc_err" = "age: error: $P: malformed message from plugin: expected a \"-> \" line" ]
	[ "$dec_err" = "$enc_err" ]
}

@test "misbehaving plugin: oversized line and body" {
	misbehave longline
	[ "$enc_err" = "age: error: $P: message line longer than 64 KiB" ]
	[ "$dec_err" = "$enc_err" ]
	misbehave bigbody
	[ "$enc_err" = "age: error: $P: message body larger than 1 MiB" ]
	[ "$dec_err" = "$enc_err" ]
}

@test "misbehaving plugin: error messages, bad file key, no stanza" {
	misbehave error
	[[ $enc_err == *"age: error: $P: plugin reported an error (recipient 0): the token is locked" ]]
	[[ $dec_err == *"age: error: $P: plugin reported an error (internal): the token is locked" ]]
	SOTTOTEST_MODE=badkey run_io "$AGE" -d -i id.txt good.age
	assert_status 1
	assert_err_has "age: error: $P: malformed message from plugin: file-key needs file index 0 and a 16-byte key"
	SOTTOTEST_MODE=nostanza run_io "$AGE" -r "$R" m
	assert_status 1
	assert_err_has "age: error: $P: plugin returned no recipient stanza"
	SOTTOTEST_MODE=nokey run_io "$AGE" -d -i id.txt good.age
	assert_status 1
	assert_err_has "no identity matched"
}

@test "a missing plugin binary is named; the working directory is not searched" {
	K=$(echo "$R" | sed 's/sottotest/nosuchplug/')
	K=$(python3 -c 'import importlib.machinery as m, importlib.util as u, sys
s = u.spec_from_loader("p", m.SourceFileLoader("p", sys.argv[1]))
p = u.module_from_spec(s); s.loader.exec_module(p)
print(p.bech32_encode("age1nosuchplug", b"\x01" * 16))' "$T/pbin/$P")
	cp "$T/pbin/$P" ./age-plugin-nosuchplug
	PATH=":$PATH" run_io "$AGE" -r "$K" m
	assert_status 1
	assert_err "age: error: age-plugin-nosuchplug: plugin not found in \$PATH
age: hint: you might want to install the \"nosuchplug\" plugin
age: hint: visit https://age-encryption.org/awesome#plugins for a list of available plugins"
	"$AGE" -r "$R" -o good.age m 2>/dev/null
	run_io "$AGE" -d -j nosuchplug good.age
	assert_status 1
	assert_err_has "age: hint: visit https://age-encryption.org/awesome#plugins"
}
