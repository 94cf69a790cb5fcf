# SPDX-License-Identifier: ISC
# Helpers for the 3xx/5xx command tests (load after helpers and
# sops_helpers, call cmd_setup from setup()).
#
#   cmd_setup        sops_setup, a private XDG_RUNTIME_DIR ($RUN) whose
#                    emptiness shows that no plaintext was left behind,
#                    and fixtures plain.yaml / enc.yaml (K1) / flat.enc.yaml
#   both             the two personalities: "$SOTTO" and "$SOPS"
#   assert_run_empty no file is left under $RUN
#   assert_no_secret FILE   FILE does not hold the fixture's plaintext

cmd_setup() {
	sops_setup || return 1
	RUN=$T/run
	mkdir -p "$RUN"
	chmod 700 "$RUN"
	export XDG_RUNTIME_DIR=$RUN
	printf '# settings\ndb:\n  user: app  # login\n  password: hunter2\nport: 5432\nlist:\n  - a\n  - b\n' >plain.yaml
	"$SOTTO" encrypt --age "$K1_PUB" plain.yaml >enc.yaml || return 1
	printf 'API_KEY: abc123\nREGION: eu-1\n' >flat.yaml
	"$SOTTO" encrypt --age "$K1_PUB" flat.yaml >flat.enc.yaml || return 1
	rm -f flat.yaml
	printf 'hunter2\n' >>"$MARKERS_FILE"
}

both() {
	printf '%s\n' "$SOTTO" "$SOPS"
}

assert_run_empty() {
	local left
	left=$(find "$RUN" -mindepth 1 2>/dev/null)
	if [ -n "$left" ]; then
		printf 'left behind in %s:\n%s\n' "$RUN" "$left" >&2
		return 1
	fi
}

assert_no_secret() {
	if grep -q hunter2 "$1"; then
		echo "plaintext found in $1" >&2
		return 1
	fi
}
