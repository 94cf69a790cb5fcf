#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# edit with a real terminal editor: vi driven through tmux send-keys.

load helpers
load sops_helpers
load sops_cmd_helpers

setup() {
	command -v tmux >/dev/null || skip "tmux is not installed (scripts/deps.sh test installs it)"
	VI=$(command -v vi || command -v vim || command -v nvi) ||
	    skip "no vi on PATH (install vim-tiny or nvi)"
	cmd_setup
	SOCK=$T/tmux.sock
}

teardown() {
	[ -n "${SOCK:-}" ] && tmux -S "$SOCK" kill-server 2>/dev/null || true
}

# wait_for TEXT: until the pane shows TEXT (10 s)
wait_for() {
	local i
	for i in $(seq 100); do
		tmux -S "$SOCK" capture-pane -p 2>/dev/null | grep -qF -- "$1" &&
		    return 0
		sleep 0.1
	done
	echo "pane never showed '$1':" >&2
	tmux -S "$SOCK" capture-pane -p >&2 || true
	return 1
}

wait_rc() {
	local i
	for i in $(seq 100); do
		[ -s "$T/rc" ] && return 0
		sleep 0.1
	done
	return 1
}

start_edit() {
	tmux -S "$SOCK" new-session -d -x 100 -y 30 \
	    "cd '$W' && HOME='$HOME' XDG_RUNTIME_DIR='$RUN' SOPS_AGE_KEY_FILE='$SOPS_AGE_KEY_FILE' EDITOR='$VI' TERM=xterm '$1' edit e.yaml; echo \$? >'$T/rc'"
}

@test "vi in a terminal edits a value and sotto re-encrypts it" {
	cp enc.yaml e.yaml
	start_edit "$SOTTO"
	wait_for "user: app"
	tmux -S "$SOCK" send-keys ':%s/user: app /user: vi-app /' Enter
	tmux -S "$SOCK" send-keys ':wq' Enter
	wait_rc
	[ "$(cat "$T/rc")" = 0 ]
	run_io "$SOTTO" decrypt --extract '["db"]["user"]' e.yaml
	assert_out vi-app
	[ "$(diff enc.yaml e.yaml | grep -c '^>')" -le 3 ]
	assert_no_secret e.yaml
	assert_run_empty
}

@test "quitting vi without saving exits 200 as sops" {
	cp enc.yaml e.yaml
	start_edit "$SOPS"
	wait_for "user: app"
	tmux -S "$SOCK" send-keys ':q!' Enter
	wait_rc
	[ "$(cat "$T/rc")" = 200 ]
	same_bytes enc.yaml e.yaml
	assert_run_empty
}

@test "broken syntax at a terminal offers to re-open the editor" {
	cp enc.yaml e.yaml
	start_edit "$SOTTO"
	wait_for "user: app"
	tmux -S "$SOCK" send-keys ':%s/^port: 5432/port: [unclosed/' Enter
	tmux -S "$SOCK" send-keys ':wq' Enter
	wait_for "Re-open the editor"
	tmux -S "$SOCK" send-keys 'y' Enter
	wait_for "port: [unclosed"
	tmux -S "$SOCK" send-keys ':%s/^port: .unclosed/port: 5432/' Enter
	tmux -S "$SOCK" send-keys ':wq' Enter
	wait_rc
	# the fixed file equals the original: nothing changed
	[ "$(cat "$T/rc")" = 200 ]
	same_bytes enc.yaml e.yaml
	assert_run_empty
}
