#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# updatekeys: recipients follow .sops.yaml; the same data key is re-wrapped,
# the values, MAC and lastmodified do not change.

load helpers
load sops_helpers
load sops_cmd_helpers

setup() {
	cmd_setup
	printf 'creation_rules:\n  - path_regex: \\.yaml$\n    age: %s,%s\n' \
	    "$K1_PUB" "$K2_PUB" >.sops.yaml
}

body() {
	sed '/^sops:/,$d' "$1"
}

@test "updatekeys -y adds a recipient without re-encrypting the values" {
	for p in $(both); do
		cp enc.yaml e.yaml
		run_io "$p" updatekeys -y e.yaml
		assert_status 0
		[[ "$out" == *"+++ $K2_PUB"* ]]
		[ "$(body enc.yaml)" = "$(body e.yaml)" ]
		grep -F "$(grep 'mac:' enc.yaml)" e.yaml
		SOPS_AGE_KEY_FILE=$T/k2.txt run_io "$SOTTO" decrypt e.yaml
		assert_out "$(cat plain.yaml)"
	done
}

@test "updatekeys shows the diff in sops' format and removes recipients" {
	"$SOTTO" encrypt --age "$K1_PUB,$K3_PUB" plain.yaml >e.yaml
	run_io "$SOPS" updatekeys -y e.yaml
	assert_status 0
	[[ "$out" == *"The following changes will be made to the file's groups:"* ]]
	[[ "$out" == *"Group 1"* ]]
	[[ "$out" == *"    $K1_PUB"* ]]
	[[ "$out" == *"--- $K3_PUB"* ]]
	refute grep -q "$K3_PUB" e.yaml
}

@test "updatekeys on an up-to-date file changes nothing" {
	"$SOTTO" encrypt --age "$K1_PUB,$K2_PUB" plain.yaml >e.yaml
	cp e.yaml e0.yaml
	run_io "$SOPS" updatekeys -y e.yaml
	assert_status 0
	assert_err_has "already up to date"
	same_bytes e0.yaml e.yaml
}

@test "updatekeys without -y reads its answer from standard input, terminal or not, as sops" {
	cp enc.yaml e.yaml
	# input ends before an answer: 1, unchanged
	run_io "$SOTTO" updatekeys e.yaml
	assert_status 1
	assert_err "sotto: error: 'e.yaml': not updated: standard input ended before an answer (y or n; -y does not ask)"
	same_bytes enc.yaml e.yaml
	# asked again until y or n; n keeps the file
	printf 'maybe\nyes\nn\n' >answers
	IN=answers run_io "$SOPS" updatekeys e.yaml
	assert_status 0
	[[ "$out" == *"+++ $K2_PUB
Is this okay? (y/n):Is this okay? (y/n):Is this okay? (y/n):" ]]
	assert_err "File e.yaml left unchanged"
	same_bytes enc.yaml e.yaml
	# y applies: `yes | sops updatekeys` works
	printf 'y\n' >answers
	IN=answers run_io "$SOPS" updatekeys e.yaml
	assert_status 0
	assert_err "File e.yaml synced with new keys"
	grep -q "$K2_PUB" e.yaml
	# one answer per file
	cp enc.yaml a.yaml
	cp enc.yaml b.yaml
	printf 'n\ny\n' >answers
	IN=answers run_io "$SOTTO" updatekeys a.yaml b.yaml
	assert_status 0
	same_bytes enc.yaml a.yaml
	grep -q "$K2_PUB" b.yaml
}

@test "updatekeys asks at a terminal: 'n' keeps the file, 'y' applies" {
	command -v tmux >/dev/null || skip "tmux is not installed"
	SOCK=$T/tmux.sock
	for answer in n y; do
		cp enc.yaml e.yaml
		rm -f "$T/rc"
		tmux -S "$SOCK" new-session -d -x 120 -y 30 \
		    "cd '$W' && HOME='$HOME' SOPS_AGE_KEY_FILE='$SOPS_AGE_KEY_FILE' '$SOPS' updatekeys e.yaml; echo \$? >'$T/rc'; sleep 2"
		for _ in $(seq 100); do
			tmux -S "$SOCK" capture-pane -p | grep -q 'Is this okay' && break
			sleep 0.1
		done
		tmux -S "$SOCK" send-keys "$answer" Enter
		for _ in $(seq 100); do [ -s "$T/rc" ] && break; sleep 0.1; done
		tmux -S "$SOCK" kill-server 2>/dev/null || true
		[ "$(cat "$T/rc")" = 0 ]
		if [ "$answer" = n ]; then
			same_bytes enc.yaml e.yaml
		else
			grep -q "$K2_PUB" e.yaml
		fi
	done
}

@test "updatekeys -r walks a directory and prints a summary" {
	mkdir -p d/sub d/.git
	cp enc.yaml d/a.yaml
	cp enc.yaml d/sub/b.yaml
	cp enc.yaml d/.git/c.yaml
	cp plain.yaml d/plain.yaml
	run_io "$SOTTO" updatekeys -y -r d
	assert_status 0
	assert_err_has "2 file(s) done, 0 failed"
	grep -q "$K2_PUB" d/a.yaml
	grep -q "$K2_PUB" d/sub/b.yaml
	refute grep -q "$K2_PUB" d/.git/c.yaml
}

@test "updatekeys keeps master keys sotto cannot use" {
	python3 - <<'PY'
s = open('enc.yaml').read()
s = s.replace('    lastmodified:', '    kms:\n        - arn: arn:aws:kms:us-east-1:0:key/x\n          created_at: "2024-01-01T00:00:00Z"\n          enc: x\n          aws_profile: ""\n    lastmodified:', 1)
open('kms.yaml', 'w').write(s)
PY
	run_io "$SOPS" updatekeys -y kms.yaml
	assert_status 0
	grep -q 'arn: arn:aws:kms:us-east-1:0:key/x' kms.yaml
	grep -q "$K2_PUB" kms.yaml
}

@test "updatekeys with the wrong key exits 128 and keeps the file" {
	cp enc.yaml e.yaml
	SOPS_AGE_KEY_FILE=$T/k2.txt run_io "$SOPS" updatekeys -y e.yaml
	assert_status 128
	same_bytes enc.yaml e.yaml
}

@test "updatekeys ignores SOPS_AGE_RECIPIENTS: keys come from .sops.yaml" {
	cp enc.yaml e.yaml
	SOPS_AGE_RECIPIENTS=$K3_PUB run_io "$SOPS" updatekeys -y e.yaml
	assert_status 0
	refute grep -q "$K3_PUB" e.yaml
}

@test "updatekeys --help lists its flags" {
	run_io "$SOTTO" updatekeys --help
	for f in --yes --recursive --input-type --config; do
		[[ "$out" == *"$f"* ]]
	done
}

@test "updatekeys: an ssh recipient with or without its comment is the same key" {
	ssh-keygen -q -t ed25519 -N '' -C 'me@host' -f "$T/id" || skip "no ssh-keygen"
	"$SOTTO" encrypt --age "$K1_PUB,$(cut -d' ' -f1,2 "$T/id.pub")" plain.yaml >e.yaml
	cp e.yaml e0.yaml
	printf 'creation_rules:\n  - age: %s,%s\n' "$K1_PUB" "$(cat "$T/id.pub")" >.sops.yaml
	run_io "$SOTTO" updatekeys -y e.yaml
	assert_status 0
	assert_err "File e.yaml already up to date"
	same_bytes e0.yaml e.yaml
}
