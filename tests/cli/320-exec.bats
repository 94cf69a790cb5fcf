#!/usr/bin/env bats
# exec-env / exec-file: the child sees the values, nothing stays on disk,
# and the child's exit status is ours.
# SPDX-License-Identifier: ISC

load helpers
load sops_helpers
load sops_cmd_helpers

setup() { cmd_setup; }

@test "exec-env passes top-level values as environment variables" {
	for p in $(both); do
		run_io "$p" exec-env flat.enc.yaml 'printf "%s/%s" "$API_KEY" "$REGION"'
		assert_status 0
		assert_out abc123/eu-1
	done
}

@test "exec-env keeps the environment unless --pristine" {
	export KEEPME=yes
	run_io "$SOPS" exec-env flat.enc.yaml 'printf "%s" "$KEEPME"'
	assert_out yes
	run_io "$SOPS" exec-env --pristine flat.enc.yaml 'printf "%s" "${KEEPME:-none}"'
	assert_out none
}

@test "exec-env propagates the child's exit status" {
	for p in $(both); do
		run_io "$p" exec-env flat.enc.yaml 'exit 7'
		assert_status 7
	done
}

@test "exec-env refuses a list or map value as sops does" {
	run_io "$SOPS" exec-env enc.yaml 'touch ran'
	assert_status 1
	assert_err "sops: error: cannot use complex value in environment; offending key 'db' (a map)"
	[ ! -e ran ]
	printf 'A: x\nL:\n  - 1\n' >l.yaml
	"$SOTTO" encrypt --age "$K1_PUB" l.yaml >l.enc.yaml
	run_io "$SOTTO" exec-env l.enc.yaml 'touch ran'
	assert_status 1
	assert_err "sotto: error: cannot use complex value in environment; offending key 'L' (a list)"
	[ ! -e ran ]
}

@test "exec-env passes numbers, booleans, times and null as sops' ValToString" {
	printf 'port: 5432\ndebug: true\nratio: 0.5\ntiny: 2.0e-10\nbig: 1234567.0\nround: 200000.0\nhex_unencrypted: 0x1F\nnone_unencrypted: null\nday_unencrypted: !!timestamp 2024-01-01\nat_unencrypted: !!timestamp 2024-01-02T03:04:05.25+00:00\n' >n.yaml
	"$SOTTO" encrypt --age "$K1_PUB" n.yaml >n.enc.yaml
	for p in $(both); do
		run_io "$p" exec-env n.enc.yaml 'printf "%s|" "$port" "$debug" "$ratio" "$tiny" "$big" "$round" "$hex_unencrypted" "$none_unencrypted" "$day_unencrypted" "$at_unencrypted"'
		assert_status 0
		assert_out "5432|true|0.5|2E-10|1.234567E+06|200000.0|31|<nil>|2024-01-01T00:00:00Z|2024-01-02T03:04:05Z|"
	done
}

@test "exec-env with the wrong key exits 128 and runs nothing" {
	SOPS_AGE_KEY_FILE=$T/k2.txt run_io "$SOPS" exec-env flat.enc.yaml 'touch ran'
	assert_status 128
	[ ! -e ran ]
}

# What the child of exec-env/exec-file sees of sotto's key sources: the
# SOPS_AGE_KEY* and SOPS_AGE_SSH_PRIVATE_KEY* variables, and whether the
# SOPS_AGE_KEY_FD descriptor (3) is open in it.
KEYS_SEEN='env | grep -E "^SOPS_AGE_(KEY|SSH)" | cut -d= -f1 | sort | tr "\n" " "; if [ -e /proc/$$/fd/3 ]; then echo fd3-open; else echo fd3-closed; fi; printf "%s %s" "$KEEPME" "$SOPS_AGE_RECIPIENTS"'

@test "exec-env and exec-file pass no SOPS_AGE_KEY* variable and no key descriptor" {
	# control: without sotto in between, the shell sees all of it
	export KEEPME=yes SOPS_AGE_RECIPIENTS=$K2_PUB
	export SOPS_AGE_KEY=$K1_ID SOPS_AGE_KEY_FD=3 SOPS_AGE_KEY_CMD="cat $T/k1.txt"
	export SOPS_AGE_KEY_NEW=x SOPS_AGE_SSH_PRIVATE_KEY_FILE=$T/none
	export SOPS_AGE_SSH_PRIVATE_KEY_CMD=true
	run_io sh -c "$KEYS_SEEN" 3<"$T/k1.txt"
	assert_out "SOPS_AGE_KEY SOPS_AGE_KEY_CMD SOPS_AGE_KEY_FD SOPS_AGE_KEY_FILE SOPS_AGE_KEY_NEW SOPS_AGE_SSH_PRIVATE_KEY_CMD SOPS_AGE_SSH_PRIVATE_KEY_FILE fd3-open
yes $K2_PUB"
	for p in $(both); do
		for c in exec-env "exec-env --same-process" exec-file \
		    "exec-file --no-fifo"; do
			# shellcheck disable=SC2086
			run_io "$p" $c flat.enc.yaml "$KEYS_SEEN" 3<"$T/k1.txt"
			assert_status 0
			assert_out "fd3-closed
yes $K2_PUB"
		done
	done
	# the values of the file reach the child whatever their names
	printf 'SOPS_AGE_KEY_X: from-the-file\n' >k.yaml
	"$SOTTO" encrypt --age "$K1_PUB" k.yaml >k.enc.yaml
	run_io "$SOTTO" exec-env k.enc.yaml 'printf "%s" "$SOPS_AGE_KEY_X"' \
	    3<"$T/k1.txt"
	assert_status 0
	assert_out from-the-file
}

@test "exec-env --same-process runs the command in place" {
	run_io "$SOPS" exec-env --same-process flat.enc.yaml 'printf "%s" "$API_KEY"; exit 3'
	assert_status 3
	assert_out abc123
}

@test "exec-file hands the plaintext through a FIFO and removes it" {
	for p in $(both); do
		run_io "$p" exec-file flat.enc.yaml '[ -p {} ] && cat {}'
		assert_status 0
		assert_out "$(printf 'API_KEY: abc123\nREGION: eu-1')"
		assert_run_empty
	done
}

@test "exec-file --no-fifo uses a 0600 file that is gone afterwards" {
	run_io "$SOPS" exec-file --no-fifo flat.enc.yaml 'stat -c %a {}; echo {} >"'"$T"'/path"; grep -c API_KEY {}'
	assert_status 0
	assert_out "$(printf '600\n1')"
	[ ! -e "$(cat "$T/path")" ]
	assert_run_empty
}

@test "exec-file --no-fifo warns when the file would be on disk; a FIFO does not" {
	case $(stat -f -c %T "$RUN") in
	tmpfs | ramfs) skip "$RUN is on tmpfs here" ;;
	esac
	run_io "$SOPS" exec-file --no-fifo flat.enc.yaml 'dirname {}'
	assert_status 0
	assert_err "sops: warning: '$out' is not on tmpfs: the plaintext file is written to disk there; set XDG_RUNTIME_DIR to a tmpfs directory such as /dev/shm"
	[[ "$out" == "$RUN"/sotto-* ]]
	run_io "$SOPS" exec-file flat.enc.yaml 'cat {} >/dev/null'
	assert_status 0
	assert_err ""
	assert_run_empty
}

@test "exec-file --filename names the file and the child's status is ours" {
	run_io "$SOPS" exec-file --no-fifo --filename app.yaml flat.enc.yaml 'basename {}; exit 4'
	assert_status 4
	assert_out app.yaml
	assert_run_empty
}

@test "exec-file --output-type renders the plaintext in another format" {
	run_io "$SOTTO" exec-file --output-type json flat.enc.yaml 'cat {}'
	assert_status 0
	[[ "$out" == *'"API_KEY": "abc123"'* ]]
}

@test "exec-file does not hang when the child never reads the FIFO" {
	run_io timeout 10 "$SOPS" exec-file flat.enc.yaml 'exit 0'
	assert_status 0
	assert_run_empty
}

@test "exec-file removes the plaintext when sotto is terminated" {
	"$SOPS" exec-file --no-fifo flat.enc.yaml 'echo {} >"'"$T"'/path"; exec sleep 30' &
	pid=$!
	for _ in $(seq 50); do [ -s "$T/path" ] && break; sleep 0.1; done
	[ -e "$(cat "$T/path")" ]
	kill -TERM "$pid"
	wait "$pid" || true
	[ ! -e "$(cat "$T/path")" ]
	assert_run_empty
}

@test "exec-env and exec-file need a file and a command" {
	run_io "$SOPS" exec-env flat.enc.yaml
	assert_status 1
	run_io "$SOPS" exec-file
	assert_status 1
}

@test "exec-env and exec-file --help list their flags" {
	run_io "$SOTTO" exec-env --help
	for f in --pristine --same-process --background --user; do
		[[ "$out" == *"$f"* ]]
	done
	run_io "$SOTTO" exec-file --help
	for f in --no-fifo --filename --output-type; do
		[[ "$out" == *"$f"* ]]
	done
}
