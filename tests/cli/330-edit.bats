#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# edit with scripted editors: no change (200), one changed value, broken
# syntax, a crashing editor, and signals to sotto.  The private plaintext
# directory must be gone and the original untouched on every failure.

load helpers
load sops_helpers
load sops_cmd_helpers

setup() {
	cmd_setup
	mkdir -p "$T/ed"
	# editor that changes one value
	printf '#!/bin/sh\nsed -i "s/user: app/user: app2/" "$1"\n' >"$T/ed/one"
	# editor that breaks the syntax
	printf '#!/bin/sh\nprintf "db: [unclosed\\n" >"$1"\n' >"$T/ed/broken"
	# editor that crashes
	printf '#!/bin/sh\nkill -9 $$\n' >"$T/ed/crash"
	# editor that records its file and mode, then waits
	printf '#!/bin/sh\necho "$1" >"%s/edpath"\nstat -c %%a "$1" "$(dirname "$1")" >"%s/edmode"\nexec sleep 30\n' "$T" "$T" >"$T/ed/wait"
	# editor with arguments: appends its first argument as a comment
	printf '#!/bin/sh\nprintf "# %%s\\n" "$1" >>"$2"\n' >"$T/ed/args"
	chmod +x "$T"/ed/*
}

@test "edit without a change exits 200 and leaves the file byte-identical" {
	for p in $(both); do
		cp enc.yaml e.yaml
		EDITOR=true run_io "$p" edit e.yaml
		assert_status 200
		assert_err_has "not been modified"
		same_bytes enc.yaml e.yaml
		assert_run_empty
	done
}

@test "sops FILE (no subcommand) edits" {
	cp enc.yaml e.yaml
	EDITOR=true run_io "$SOPS" e.yaml
	assert_status 200
}

@test "edit of one value changes only that ciphertext, the MAC and lastmodified" {
	for p in $(both); do
		cp enc.yaml e.yaml
		EDITOR=$T/ed/one run_io "$p" edit e.yaml
		assert_status 0
		[ "$(diff enc.yaml e.yaml | grep -c '^>')" -le 3 ]
		diff enc.yaml e.yaml | grep -q '^>   user: ENC'
		diff enc.yaml e.yaml | grep -q '^>     mac: ENC'
		grep -F "$(grep 'password:' enc.yaml)" e.yaml
		run_io "$SOTTO" decrypt --extract '["db"]["user"]' e.yaml
		assert_out app2
		assert_no_secret e.yaml
		assert_run_empty
	done
}

@test "edit keeps comments and layout of the document" {
	cp enc.yaml e.yaml
	EDITOR=$T/ed/one run_io "$SOTTO" edit e.yaml
	assert_status 0
	run_io "$SOTTO" decrypt e.yaml
	assert_out "$(sed 's/user: app/user: app2/' plain.yaml)"
}

@test "SOPS_EDITOR wins over EDITOR and may carry arguments" {
	cp enc.yaml e.yaml
	SOPS_EDITOR="$T/ed/args 'two words'" EDITOR=false run_io "$SOPS" edit e.yaml
	assert_status 0
	run_io "$SOTTO" decrypt e.yaml
	[[ "$out" == *"# two words"* ]]
}

@test "edit with broken syntax and no terminal keeps the original and says where" {
	for p in $(both); do
		cp enc.yaml e.yaml
		EDITOR=$T/ed/broken run_io "$p" edit e.yaml
		[ "$status" -ne 0 ]
		assert_err_has "line 2"
		same_bytes enc.yaml e.yaml
		assert_run_empty
	done
}

@test "a crashing editor exits 201, keeps the original and removes the plaintext" {
	cp enc.yaml e.yaml
	EDITOR=$T/ed/crash run_io "$SOPS" edit e.yaml
	assert_status 201
	assert_err_has "killed by signal 9"
	same_bytes enc.yaml e.yaml
	assert_run_empty
}

@test "a missing editor exits 201" {
	cp enc.yaml e.yaml
	EDITOR=/nonexistent/editor run_io "$SOPS" edit e.yaml
	assert_status 201
	same_bytes enc.yaml e.yaml
	assert_run_empty
}

@test "the plaintext is a 0600 file in a 0700 directory on the runtime dir" {
	cp enc.yaml e.yaml
	EDITOR=$T/ed/wait "$SOTTO" edit e.yaml 2>/dev/null &
	pid=$!
	for _ in $(seq 50); do [ -s "$T/edmode" ] && break; sleep 0.1; done
	[ "$(sed -n 1p "$T/edmode")" = 600 ]
	[ "$(sed -n 2p "$T/edmode")" = 700 ]
	[[ "$(cat "$T/edpath")" == "$RUN"/*/e.yaml ]]
	kill -TERM "$pid"
	wait "$pid" || true
	assert_run_empty
}

@test "SIGINT to sotto during the edit exits 85, removes the plaintext, keeps the file" {
	for p in $(both); do
		cp enc.yaml e.yaml
		rm -f "$T/edpath" "$T/edmode"
		EDITOR=$T/ed/wait "$p" edit e.yaml 2>"$T/err" &
		pid=$!
		for _ in $(seq 50); do [ -s "$T/edmode" ] && break; sleep 0.1; done
		[ -e "$(cat "$T/edpath")" ]
		kill -INT "$pid"
		s=0
		wait "$pid" || s=$?
		[ "$s" = 85 ]
		[ ! -e "$(cat "$T/edpath")" ]
		same_bytes enc.yaml e.yaml
		assert_run_empty
	done
}

@test "SIGTERM and SIGHUP to sotto remove the plaintext and keep the file" {
	for sig in TERM HUP; do
		cp enc.yaml e.yaml
		rm -f "$T/edpath" "$T/edmode"
		EDITOR=$T/ed/wait "$SOTTO" edit e.yaml 2>/dev/null &
		pid=$!
		for _ in $(seq 50); do [ -s "$T/edmode" ] && break; sleep 0.1; done
		kill -"$sig" "$pid"
		wait "$pid" || true
		[ ! -e "$(cat "$T/edpath")" ]
		same_bytes enc.yaml e.yaml
		assert_run_empty
	done
}

@test "edit with the wrong key exits 128 and opens no editor" {
	cp enc.yaml e.yaml
	SOPS_AGE_KEY_FILE=$T/k2.txt EDITOR=$T/ed/wait run_io "$SOPS" edit e.yaml
	assert_status 128
	[ ! -e "$T/edpath" ]
	assert_no_plaintext
}

@test "edit of a new file takes its recipients from .sops.yaml" {
	printf 'creation_rules:\n  - path_regex: \\.yaml$\n    age: %s\n' "$K2_PUB" >.sops.yaml
	printf '#!/bin/sh\nsed -i "s/example_value$/mine/" "$1"\n' >"$T/ed/new"
	chmod +x "$T/ed/new"
	EDITOR=$T/ed/new run_io "$SOPS" edit new.yaml
	assert_status 0
	grep -q "recipient: $K2_PUB" new.yaml
	SOPS_AGE_KEY_FILE=$T/k2.txt run_io "$SOTTO" decrypt --extract '["example_key"]' new.yaml
	assert_out mine
	assert_run_empty
}

@test "edit of a new file left unchanged creates nothing (200)" {
	EDITOR=true run_io "$SOTTO" edit --age "$K1_PUB" new.yaml
	assert_status 200
	[ ! -e new.yaml ]
}

@test "edit --help lists its flags" {
	run_io "$SOTTO" edit --help
	for f in --ignore-mac --input-type --age --config --show-master-keys; do
		[[ "$out" == *"$f"* ]]
	done
}

# on_tmpfs DIR: true if DIR is on tmpfs or ramfs.
on_tmpfs() {
	case $(stat -f -c %T "$1") in
	tmpfs | ramfs) return 0 ;;
	esac
	return 1
}

NOT_TMPFS="is not on tmpfs: the plaintext being edited is written to disk there; set XDG_RUNTIME_DIR to a tmpfs directory such as /dev/shm"

@test "edit warns, naming the directory, when the plaintext would be on disk" {
	on_tmpfs "$RUN" && skip "$RUN is on tmpfs here"
	cp enc.yaml e.yaml
	EDITOR=$T/ed/wait "$SOTTO" edit e.yaml 2>"$T/err1" &
	pid=$!
	for _ in $(seq 50); do [ -s "$T/edmode" ] && break; sleep 0.1; done
	d=$(dirname "$(cat "$T/edpath")")
	kill -TERM "$pid"
	wait "$pid" || true
	[[ "$d" == "$RUN"/sotto-* ]]
	[ "$(head -1 "$T/err1")" = "sotto: warning: '$d' $NOT_TMPFS" ]
	EDITOR=true run_io "$SOPS" edit e.yaml
	assert_status 200
	assert_err "sops: warning: '$(sed -n "s/^sops: warning: '\([^']*\)'.*/\1/p" "$T/err")' $NOT_TMPFS
sops: file has not been modified, exiting"
	assert_run_empty
}

@test "edit on tmpfs says nothing about it" {
	on_tmpfs /dev/shm && [ -w /dev/shm ] || skip "no writable tmpfs /dev/shm"
	shm=$(mktemp -d /dev/shm/sotto-test.XXXXXX)
	cp enc.yaml e.yaml
	XDG_RUNTIME_DIR=$shm EDITOR=true run_io "$SOTTO" edit e.yaml
	left=$(ls -A "$shm")
	rmdir "$shm"
	assert_status 200
	assert_err "sotto: file has not been modified, exiting"
	[ -z "$left" ]
}

@test "a plaintext directory left by a killed edit is wiped by the next one; others are left alone" {
	ns=$(stat -L -c %i /proc/self/ns/pid)
	me=$(cut -d' ' -f22 /proc/$$/stat)
	# editor that records its file and its own pid, then waits
	printf '#!/bin/sh\necho "$1" >"%s/hold.$$"\nexec sleep 60\n' "$T" \
	    >"$T/ed/hold"
	chmod +x "$T/ed/hold"
	cp enc.yaml e.yaml
	# edit A, to be killed, and edit B, alive throughout
	EDITOR=$T/ed/hold "$SOTTO" edit e.yaml 2>/dev/null &
	pid=$!
	for _ in $(seq 50); do ls "$T"/hold.* >/dev/null 2>&1 && break; sleep 0.1; done
	hold_a=$(ls "$T"/hold.*)
	mv "$hold_a" "$T/a.${hold_a##*.}"
	hold_a=$T/a.${hold_a##*.}
	EDITOR=$T/ed/hold "$SOTTO" edit e.yaml 2>/dev/null &
	live_pid=$!
	for _ in $(seq 50); do ls "$T"/hold.* >/dev/null 2>&1 && break; sleep 0.1; done
	hold=$(ls "$T"/hold.*)
	live=$(cat "$hold")
	stale=$(cat "$hold_a")
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	kill -TERM "${hold_a##*.}"
	# A left its plaintext behind, in a directory named after it
	[[ "$(dirname "$stale")" == "$RUN/sotto-$ns-$pid-"* ]]
	grep -q hunter2 "$stale"
	# look-alikes: the pid of this live shell with another start time (the
	# pid was reused) is stale; with its own start time, a wrong mode,
	# another pid namespace, a symlink or a foreign name it is not ours
	mkdir -m 700 "$RUN/sotto-$ns-$$-1-aaaaaa" "$RUN/sotto-$ns-$$-$me-bbbbbb" \
	    "$RUN/sotto-$((ns + 1))-999999-1-cccccc" "$RUN/sotto-$ns-1-x-dddddd"
	mkdir -m 755 "$RUN/sotto-$ns-999999-1-eeeeee"
	ln -s "$(dirname "$live")" "$RUN/sotto-$ns-999999-1-ffffff"
	EDITOR=$T/ed/one run_io "$SOTTO" edit e.yaml
	assert_status 0
	[ ! -e "$(dirname "$stale")" ]
	[ ! -e "$RUN/sotto-$ns-$$-1-aaaaaa" ]
	assert_err_has "sotto: warning: removed '$(dirname "$stale")': plaintext left behind by sotto process $pid, which no longer runs"
	assert_err_has "sotto: warning: removed '$RUN/sotto-$ns-$$-1-aaaaaa': plaintext left behind by sotto process $$, which no longer runs"
	[ "$(grep -c 'warning: removed' "$T/err")" -eq 2 ]
	[ -f "$live" ]
	for d in "sotto-$ns-$$-$me-bbbbbb" "sotto-$((ns + 1))-999999-1-cccccc" \
	    "sotto-$ns-1-x-dddddd" "sotto-$ns-999999-1-eeeeee"; do
		[ -d "$RUN/$d" ]
		rmdir "$RUN/$d"
	done
	[ -L "$RUN/sotto-$ns-999999-1-ffffff" ]
	rm "$RUN/sotto-$ns-999999-1-ffffff"
	# the new edit worked and the live one is undisturbed until it ends
	run_io "$SOTTO" decrypt --extract '["db"]["user"]' e.yaml
	assert_out app2
	kill -TERM "$live_pid"
	wait "$live_pid" || true
	kill -TERM "${hold##*.}" 2>/dev/null || true
	[ ! -e "$live" ]
	assert_run_empty
}
