# SPDX-License-Identifier: ISC
# sops-specific bats helpers, on top of helpers.bash (load both:
# `load helpers; load sops_helpers`, then call sops_setup from setup()).
#
#   sops_setup            sotto_setup, then a clean sops environment: every
#                         SOPS_* variable unset, HOME empty, $SOPS symlink,
#                         three key pairs K1..K3 (published test keys),
#                         identity files $T/k1.txt..k3.txt, and cd into the
#                         empty work directory $W (so listings are exact).
#                         SOPS_AGE_KEY_FILE=$T/k1.txt is exported.
#   enc FILE [ARGS...]    run_io sotto encrypt --age $K1_PUB ARGS FILE
#   dec FILE [ARGS...]    run_io sotto decrypt ARGS FILE
#   roundtrip FILE [ARGS] encrypt FILE (ARGS to encrypt) to enc.FILE, check
#                         it is a sops file, decrypt it, compare the bytes
#   sha FILE              sha256 of FILE
#   assert_dir_is D F...  directory D holds exactly the files F... (no
#                         temp files left behind)
#   assert_status_in N... the last status is one of N...
#   need_ini              skip when this build has no INI store
#   oracle FILE [ARGS]    run the independent Python oracle with the K1..K3
#                         identities (--check-only)

# shellcheck disable=SC2034  # K*, SOPS, TOOLS are used by the .bats files
# Published test keys: sops' own age test keys (vectors/sops/hist/keys.txt)
# and talhelper's (vectors/sops/wild/talhelper/key.txt).  Public on purpose.
K1_ID=AGE-SECRET-KEY-1NJT5YCS2LWU4V4QAJQ6R4JNU7LXPDX602DZ9NUFANVU5GDTGUWCQ5T59M6
K1_PUB=age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw
K2_ID=AGE-SECRET-KEY-1T0Z66WSXS6RMNCPSL7P2E8N4Q7SUD8VMG9ND27S08JL7Y2XAU9EQECHDS7
K2_PUB=age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep

sops_setup() {
	sotto_setup || return 1
	local v
	for v in $(env | sed -n 's/^\(SOPS_[A-Z0-9_]*\)=.*/\1/p'); do
		unset "$v"
	done
	unset XDG_CONFIG_HOME
	ln -sf "$SOTTO" "$T/bin/sops"
	SOPS=$T/bin/sops
	ORACLE=$SOTTO_SHARED/vectors/sops/tools/sops_ref_decrypt.py
	TOOLS=$SOTTO_ROOT/tests/tools
	printf '%s\n' "$K1_ID" >"$T/k1.txt"
	printf '%s\n' "$K2_ID" >"$T/k2.txt"
	grep '^AGE-SECRET-KEY' "$SOTTO_SHARED/vectors/sops/wild/talhelper/key.txt" \
	    >"$T/k3.txt"
	K3_ID=$(cat "$T/k3.txt")
	K3_PUB=$(age-keygen -y "$T/k3.txt" 2>/dev/null) ||
	    K3_PUB=age10k9mjx3wcfzd7dwx3uqs68v7dzlwvwpzp8jyjpysjhy9mdwzhghqy2vhvn
	chmod 600 "$T"/k?.txt
	export SOPS_AGE_KEY_FILE=$T/k1.txt
	W=$T/w
	mkdir -p "$W"
	cd "$W" || return 1
}

enc() {
	local f=$1
	shift
	run_io "$SOTTO" encrypt --age "$K1_PUB" "$@" "$f"
}

dec() {
	local f=$1
	shift
	run_io "$SOTTO" decrypt "$@" "$f"
}

sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# roundtrip FILE [ENCRYPT ARGS...]: writes enc.FILE and dec.FILE.
roundtrip() {
	local f=$1
	shift
	enc "$f" "$@"
	assert_status 0 || return 1
	cp "$T/out" "enc.$f"
	grep -q 'ENC\[AES256_GCM,' "enc.$f" || {
		echo "no ENC value in the encryption of $f" >&2
		return 1
	}
	dec "enc.$f"
	assert_status 0 || return 1
	cp "$T/out" "dec.$f"
	same_bytes "$f" "dec.$f"
}

assert_dir_is() {
	local d=$1 want got
	shift
	want=$(printf '%s\n' "$@" | sort)
	got=$(ls -A "$d" | sort)
	if [ "$want" != "$got" ]; then
		printf 'directory %s holds:\n%s\nexpected:\n%s\n' "$d" "$got" \
		    "$want" >&2
		return 1
	fi
}

assert_status_in() {
	local s
	for s in "$@"; do
		[ "$status" = "$s" ] && return 0
	done
	echo "expected status in {$*}, got $status; stderr:" >&2
	printf '%s\n' "$err" >&2
	return 1
}

need_ini() {
	printf '[s]\na = b\n' >"$T/probe.ini"
	if ! "$SOTTO" encrypt --age "$K1_PUB" --input-type ini \
	    "$T/probe.ini" >/dev/null 2>"$T/probe.err" &&
	    grep -q "unknown format 'ini'" "$T/probe.err"; then
		skip "this build has no INI store"
	fi
	rm -f "$T/probe.ini" "$T/probe.err"
}

oracle() {
	local f=$1
	shift
	python3 "$ORACLE" "$f" --identity "$T/k1.txt" --identity "$T/k2.txt" \
	    --identity "$T/k3.txt" --check-only "$@"
}

# same_data FORMAT A B: A and B parse (yaml/json) to equal documents, for
# the cases where a byte-exact round trip is not possible (the encrypted
# file cannot remember a folded scalar's line breaks or a JSON \u escape).
same_data() {
	python3 - "$@" <<'PY'
import json, sys, yaml
fmt, a, b = sys.argv[1:4]
load = (lambda f: list(yaml.safe_load_all(open(f, encoding="utf-8")))) \
    if fmt == "yaml" else (lambda f: json.load(open(f, encoding="utf-8")))
da, db = load(a), load(b)
if da != db:
    print("documents differ:\n %r\n %r" % (da, db), file=sys.stderr)
    sys.exit(1)
PY
}
