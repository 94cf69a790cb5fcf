#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Where decryption gets its age identities, as sops' age key source does
# (age/keysource.go): every source is read, a failing one is reported but
# does not stop the others, no identity at all is exit 128 with every place
# tried listed, and the key commands get SOPS_AGE_RECIPIENT per recipient.

load helpers
load sops_helpers

setup() {
	sops_setup
	printf 'a: b\n' >p.yaml
	"$SOTTO" encrypt --age "$K1_PUB" p.yaml >e.yaml
	unset SOPS_AGE_KEY_FILE
	cp e.yaml e0.yaml
}

# The report after "failed to get the data key" when $1 is the line for
# SOPS_AGE_KEY, $2 for SOPS_AGE_KEY_FILE, $3 for SOPS_AGE_KEY_CMD.
tried() {
	printf '%s\n' "sotto: age identities tried:" \
	    "    $1" \
	    "    $2" \
	    "    SOPS_AGE_SSH_PRIVATE_KEY_FILE: not set" \
	    "    $HOME/.ssh/id_ed25519: not found" \
	    "    $HOME/.ssh/id_rsa: not found" \
	    "    $HOME/.config/sops/age/keys.txt: not found" \
	    "    $3" \
	    "    SOPS_AGE_SSH_PRIVATE_KEY_CMD: not set"
}

@test "no identity anywhere: 128, every place tried is listed" {
	run_io "$SOTTO" decrypt e.yaml
	assert_status 128
	assert_err "sotto: error: 'e.yaml': failed to get the data key: no age identity could be loaded
$(tried 'SOPS_AGE_KEY: not set' 'SOPS_AGE_KEY_FILE: not set' 'SOPS_AGE_KEY_CMD: not set')"
	[ -z "$out" ]
}

@test "a missing SOPS_AGE_KEY_FILE is named with the variable: 128" {
	SOPS_AGE_KEY_FILE=$T/nope.txt run_io "$SOTTO" decrypt e.yaml
	assert_status 128
	assert_err "sotto: error: 'e.yaml': failed to get the data key: no age identity could be loaded
$(tried 'SOPS_AGE_KEY: not set' "SOPS_AGE_KEY_FILE=$T/nope.txt: no such file" 'SOPS_AGE_KEY_CMD: not set')"
	# the same for the commands that change the file; it is unchanged
	SOPS_AGE_KEY_FILE=$T/nope.txt run_io "$SOPS" set e.yaml '["a"]' '"c"'
	assert_status 128
	assert_err_has "SOPS_AGE_KEY_FILE=$T/nope.txt: no such file"
	same_bytes e0.yaml e.yaml
}

@test "an unparsable SOPS_AGE_KEY or failing key commands: 128 (sops: could not retrieve the key)" {
	SOPS_AGE_KEY=invalid run_io "$SOPS" decrypt e.yaml
	assert_status 128
	assert_err_has "'SOPS_AGE_KEY' line 1: not an age identity"
	SOPS_AGE_KEY_CMD=meow run_io "$SOPS" decrypt e.yaml
	assert_status 128
	assert_err_has "    cannot run 'meow' from SOPS_AGE_KEY_CMD for ${K1_PUB:0:24}...: No such file or directory"
	SOPS_AGE_SSH_PRIVATE_KEY_CMD=false run_io "$SOPS" exec-env e.yaml 'touch ran'
	assert_status 128
	assert_err_has "command 'false' from SOPS_AGE_SSH_PRIVATE_KEY_CMD for ${K1_PUB:0:24}... failed: exit status 1"
	[ ! -e ran ]
}

@test "a failing source does not stop the others" {
	SOPS_AGE_KEY=invalid SOPS_AGE_KEY_FILE=$T/k1.txt run_io "$SOTTO" decrypt e.yaml
	assert_status 0
	assert_out 'a: b'
}

@test "identities that match no recipient: 128, each source with its count" {
	SOPS_AGE_KEY_FILE=$T/k2.txt run_io "$SOTTO" decrypt e.yaml
	assert_status 128
	assert_err "sotto: error: 'e.yaml': failed to get the data key: age recipient ${K1_PUB:0:24}...: no identity matched any of the recipients
$(tried 'SOPS_AGE_KEY: not set' "SOPS_AGE_KEY_FILE=$T/k2.txt: 1 key" 'SOPS_AGE_KEY_CMD: not set')"
}

@test "SOPS_AGE_KEY_CMD runs per recipient with SOPS_AGE_RECIPIENT, until one gives its key" {
	"$SOTTO" encrypt --age "$K2_PUB,$K1_PUB,$K3_PUB" p.yaml >e3.yaml
	cat >"$T/keycmd" <<EOF
#!/bin/sh
echo "\$SOPS_AGE_RECIPIENT" >>"$T/runs"
[ "\$SOPS_AGE_RECIPIENT" = "$K1_PUB" ] && cat "$T/k1.txt"
exit 0
EOF
	chmod +x "$T/keycmd"
	for p in "$SOTTO" "$SOPS"; do
		rm -f "$T/runs"
		SOPS_AGE_KEY_CMD=$T/keycmd run_io "$p" decrypt e3.yaml
		assert_status 0
		assert_out 'a: b'
		[ "$(cat "$T/runs")" = "$K2_PUB
$K1_PUB" ]
	done
	# edit-like commands too (set decrypts, re-encrypts, writes)
	rm -f "$T/runs"
	SOPS_AGE_KEY_CMD=$T/keycmd run_io "$SOTTO" set e3.yaml '["a"]' '"c"'
	assert_status 0
	SOPS_AGE_KEY_FILE=$T/k1.txt run_io "$SOTTO" decrypt e3.yaml
	assert_out 'a: c'
	# a file whose recipients the command has no key for
	rm -f "$T/runs"
	SOPS_AGE_KEY_CMD=$T/keycmd run_io "$SOTTO" decrypt --input-type yaml \
	    <(sed "s/$K1_PUB/${K1_PUB}x/" e.yaml)
	assert_status 128
	[ "$(cat "$T/runs")" = "${K1_PUB}x" ]
}

@test "an ssh recipient keeps its comment in the metadata, as sops" {
	ssh-keygen -q -t ed25519 -N '' -C 'me@host' -f "$T/id" || skip "no ssh-keygen"
	SSH_PUB=$(cat "$T/id.pub")
	run_io "$SOTTO" encrypt --age "  $K1_PUB , $SSH_PUB  " p.yaml
	assert_status 0
	printf '%s\n' "$out" >s.yaml
	grep -qxF "          recipient: $SSH_PUB" s.yaml
	grep -qxF "          recipient: $K1_PUB" s.yaml
	SOPS_AGE_SSH_PRIVATE_KEY_FILE=$T/id run_io "$SOTTO" decrypt s.yaml
	assert_status 0
	assert_out 'a: b'
}
