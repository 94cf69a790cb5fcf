#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# sotto is non-dumpable (prctl PR_SET_DUMPABLE 0) while it holds keys and
# plaintext.  What these tests prove: while sotto runs a child (the
# exec-env/exec-file command, the editor of edit, the SOPS_AGE_KEY_CMD of
# decrypt/set/rotate/updatekeys), a process of the same user cannot read
# sotto's /proc/PID/environ, and the files in sotto's /proc/PID belong to
# root, not to the user: the kernel's two visible effects of a
# non-dumpable process.  The same check (ptrace_may_access) denies that
# user /proc/PID/mem and ptrace(ATTACH) too.  A control shows the same
# probe under an ordinary parent: "UID readable".
#
# root may read any process, so as root the tests run sotto as nobody
# (setpriv); without setpriv they are skipped.

load helpers

setup() {
	sotto_setup
	AS=()
	if [ "$(id -u)" = 0 ]; then
		command -v setpriv >/dev/null || skip "root without setpriv"
		AS=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
		W=$(mktemp -d /tmp/sotto-dumpable.XXXXXX)
		chmod 755 "$W"
	else
		W=$T/w
		mkdir -p "$W"
	fi
	U=$("${AS[@]}" id -u)
	"${AS[@]}" test -x "$SOTTO" || skip "'$SOTTO' is not executable as uid $U"
	# probe [PID]: who owns the /proc entry of PID (default: the parent),
	# can its environ be read
	cat >"$W/probe" <<'EOF'
#!/bin/sh
p=${1:-$PPID}
if cat /proc/$p/environ >/dev/null 2>&1; then r=readable; else r=denied; fi
echo "$(stat -c %u /proc/$p/status) $r" >>"${PROBE_OUT:?}"
EOF
	# the same as an editor, and as a key command that then prints the key
	printf '#!/bin/sh\n"%s/probe" $PPID\n' "$W" >"$W/editor"
	printf '#!/bin/sh\n"%s/probe" $PPID\ncat "%s/key.txt"\n' "$W" "$W" \
	    >"$W/keycmd"
	chmod 755 "$W/probe" "$W/editor" "$W/keycmd"
	"$SOTTO" age-keygen -o "$W/key.txt" 2>/dev/null
	PUB=$("$SOTTO" age-keygen -y "$W/key.txt")
	printf 'API_KEY: abc123\n' >"$W/flat.yaml"
	"$SOTTO" encrypt --age "$PUB" "$W/flat.yaml" >"$W/flat.enc.yaml"
	mkdir -m 700 "$W/run"
	[ "$(id -u)" != 0 ] || chown -R 65534:65534 "$W"
	export PROBE_OUT=$W/probe.out SOPS_AGE_KEY_FILE=$W/key.txt
	export XDG_RUNTIME_DIR=$W/run
	cd "$W"
}

teardown() {
	[ "$(id -u)" != 0 ] || rm -rf "${W:?}"
}

# as_user CMD...: runs CMD as $U; status and the probe's lines in $seen.
as_user() {
	rm -f "$PROBE_OUT"
	status=0
	"${AS[@]}" "$@" >/dev/null 2>"$W/err" || status=$?
	seen=$(cat "$PROBE_OUT" 2>/dev/null)
}

# The probe saw root-owned /proc files and an unreadable environ.
assert_denied() {
	[ "$seen" = "0 denied" ] && return 0
	printf 'probe saw: %s\nstderr:\n%s\n' "$seen" "$(cat "$W/err")" >&2
	return 1
}

@test "control: under an ordinary parent the probe reads its environ" {
	as_user sh -c "$W/probe"
	[ "$status" -eq 0 ]
	[ "$seen" = "$U readable" ]
}

@test "exec-env and exec-file: the command cannot read sotto" {
	for c in exec-env exec-file "exec-file --no-fifo"; do
		# shellcheck disable=SC2086
		as_user "$SOTTO" $c flat.enc.yaml "$W/probe \$PPID"
		[ "$status" -eq 0 ]
		assert_denied
	done
}

@test "edit: the editor cannot read sotto" {
	cp flat.enc.yaml e.yaml
	[ "$(id -u)" != 0 ] || chown 65534 e.yaml
	EDITOR=$W/editor as_user "$SOTTO" edit e.yaml
	[ "$status" -eq 200 ]
	assert_denied
}

@test "decrypt, set, rotate, updatekeys: the key command cannot read sotto" {
	cp flat.enc.yaml s.yaml
	[ "$(id -u)" != 0 ] || chown 65534 s.yaml
	unset SOPS_AGE_KEY_FILE
	export SOPS_AGE_KEY_CMD=$W/keycmd
	as_user "$SOTTO" decrypt flat.enc.yaml
	[ "$status" -eq 0 ]
	assert_denied
	as_user "$SOTTO" set s.yaml '["API_KEY"]' '"xyz"'
	[ "$status" -eq 0 ]
	assert_denied
	as_user "$SOTTO" rotate -i s.yaml
	[ "$status" -eq 0 ]
	assert_denied
	printf 'creation_rules:\n  - age: %s\n' "$PUB" >.sops.yaml
	as_user "$SOTTO" updatekeys -y s.yaml
	[ "$status" -eq 0 ]
	assert_denied
}
