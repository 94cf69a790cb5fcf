#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# In-place writes (encrypt -i, decrypt -i, set, unset, edit, rotate -i,
# updatekeys, --output over a file): a symbolic link is followed and its
# target replaced atomically in the target's directory, mode kept, link
# kept; what cannot be written that way (read-only file, other hard links,
# a link to nothing) is refused with exit 3, the original unchanged.

load helpers
load sops_helpers
load sops_cmd_helpers

setup() {
	cmd_setup
	mkdir -p real repo
	printf 'a: b\n' >real/p.yaml
	chmod 640 real/p.yaml
	ln -s ../real/p.yaml repo/link.yaml
	printf 'creation_rules:\n  - age: %s\n' "$K1_PUB" >.sops.yaml
}

# is_link L TARGET: L is still a symbolic link to TARGET.
is_link() {
	[ -L "$1" ] && [ "$(readlink "$1")" = "$2" ] || {
		echo "$1 is no longer a link to $2" >&2
		return 1
	}
}

@test "encrypt -i through a symbolic link encrypts the target and keeps the link" {
	for p in $(both); do
		printf 'a: b\n' >real/p.yaml
		chmod 640 real/p.yaml
		run_io "$p" encrypt -i --age "$K1_PUB" repo/link.yaml
		assert_status 0
		is_link repo/link.yaml ../real/p.yaml
		grep -q '^a: ENC\[' real/p.yaml
		[ "$(stat -c %a real/p.yaml)" = 640 ]
		# nothing left beside the link or the target
		[ "$(ls -A repo)" = link.yaml ]
		[ "$(ls -A real)" = p.yaml ]
		run_io "$p" decrypt -i repo/link.yaml
		assert_status 0
		is_link repo/link.yaml ../real/p.yaml
		[ "$(cat real/p.yaml)" = "a: b" ]
	done
}

@test "set, unset, rotate -i, updatekeys and edit write through a chain of links" {
	ln -s repo/link.yaml chain.yaml
	"$SOTTO" encrypt -i --age "$K1_PUB" real/p.yaml
	run_io "$SOPS" set chain.yaml '["c"]' '"d"'
	assert_status 0
	run_io "$SOPS" unset chain.yaml '["a"]'
	assert_status 0
	run_io "$SOPS" rotate -i --add-age "$K2_PUB" chain.yaml
	assert_status 0
	printf 'creation_rules:\n  - age: %s\n' "$K2_PUB" >.sops.yaml
	run_io "$SOPS" updatekeys -y chain.yaml
	assert_status 0
	printf '#!/bin/sh\nsed -i "s/d$/e/" "$1"\n' >"$T/ed"
	chmod +x "$T/ed"
	EDITOR=$T/ed SOPS_AGE_KEY_FILE=$T/k2.txt run_io "$SOTTO" edit chain.yaml
	assert_status 0
	is_link chain.yaml repo/link.yaml
	is_link repo/link.yaml ../real/p.yaml
	[ "$(stat -c %a real/p.yaml)" = 640 ]
	refute grep -q "$K1_PUB" real/p.yaml
	SOPS_AGE_KEY_FILE=$T/k2.txt run_io "$SOTTO" decrypt real/p.yaml
	assert_out 'c: e'
	[ "$(ls -A real)" = p.yaml ]
}

@test "--output over a symbolic link writes its target" {
	printf 'old\n' >real/o.yaml
	ln -s ../real/o.yaml repo/o.yaml
	run_io "$SOTTO" encrypt --age "$K1_PUB" --output repo/o.yaml real/p.yaml
	assert_status 0
	is_link repo/o.yaml ../real/o.yaml
	grep -q '^a: ENC\[' real/o.yaml
}

@test "a symbolic link to nothing: 3, nothing created" {
	ln -s ../real/gone.yaml repo/dangling.yaml
	run_io "$SOTTO" encrypt --age "$K1_PUB" --output repo/dangling.yaml real/p.yaml
	assert_status 3
	assert_err "sotto: error: cannot write 'repo/dangling.yaml': it is a symbolic link to '../real/gone.yaml', which does not exist"
	[ ! -e real/gone.yaml ]
	EDITOR=true run_io "$SOTTO" edit repo/dangling.yaml
	assert_status 3
	assert_err "sotto: error: cannot write 'repo/dangling.yaml': it is a symbolic link to '../real/gone.yaml', which does not exist"
	[ ! -e real/gone.yaml ]
}

@test "a file with other hard links is refused: 3, every name unchanged" {
	ln real/p.yaml hard.yaml
	run_io "$SOTTO" encrypt -i --age "$K1_PUB" repo/link.yaml
	assert_status 3
	assert_err "sotto: error: cannot write '$W/real/p.yaml' (the target of the symbolic link 'repo/link.yaml') in place: it has 2 hard links, and replacing it would leave the old content under the other names (copy it to a file of its own first)"
	[ "$(cat hard.yaml)" = "a: b" ]
	[ "$(cat real/p.yaml)" = "a: b" ]
	# an encrypted one: set, rotate, edit refuse too (edit before the editor)
	rm hard.yaml
	"$SOTTO" encrypt -i --age "$K1_PUB" real/p.yaml
	ln real/p.yaml hard.yaml
	cp real/p.yaml before.yaml
	run_io "$SOPS" set hard.yaml '["a"]' '"x"'
	assert_status 3
	assert_err "sops: error: cannot write 'hard.yaml' in place: it has 2 hard links, and replacing it would leave the old content under the other names (copy it to a file of its own first)"
	run_io "$SOTTO" rotate -i hard.yaml
	assert_status 3
	EDITOR="touch $T/editor-ran" run_io "$SOTTO" edit hard.yaml
	assert_status 3
	[ ! -e "$T/editor-ran" ]
	same_bytes before.yaml real/p.yaml
	same_bytes before.yaml hard.yaml
}

@test "a read-only file is refused as sops refuses it: 3, unchanged" {
	[ "$(id -u)" != 0 ] || command -v setpriv >/dev/null || skip "root without setpriv"
	# as an unprivileged user (root may write a 0444 file, in sops too)
	D=$(mktemp -d /tmp/sotto-ro.XXXXXX)
	chmod 777 "$D"
	cp "$T/k1.txt" "$D/k1.txt"
	chmod 644 "$D/k1.txt"
	"$SOTTO" encrypt --age "$K1_PUB" real/p.yaml >"$D/e.yaml"
	printf 'a: b\n' >"$D/p.yaml"
	chmod 444 "$D/e.yaml" "$D/p.yaml"
	cp "$D/e.yaml" e0.yaml
	user() {
		if [ "$(id -u)" = 0 ]; then
			setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
		else
			"$@"
		fi
	}
	cd "$D"
	SOPS_AGE_KEY_FILE=$D/k1.txt HOME=$D run_io user "$SOPS" set e.yaml '["a"]' '"x"'
	assert_status 3
	assert_err "sops: error: cannot write 'e.yaml': Permission denied"
	same_bytes "$W/e0.yaml" e.yaml
	SOPS_AGE_KEY_FILE=$D/k1.txt HOME=$D run_io user "$SOTTO" encrypt -i --age "$K1_PUB" p.yaml
	assert_status 3
	assert_err "sotto: error: cannot write 'p.yaml': Permission denied"
	[ "$(cat p.yaml)" = "a: b" ]
	cd "$W"
	rm -rf "$D"
}
