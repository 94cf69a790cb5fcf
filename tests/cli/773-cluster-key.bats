#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Issue #19: a key that is born in the cluster and never leaves it.  The
# agent (`sotto reconcile`) fills a Secret labelled sotto.dev/age-key and
# publishes its recipients; `sotto cluster` asks it to rotate, retire and
# export through annotations and reads its answers from a ConfigMap.  All
# against the API stand-in with real kubectl.

load helpers
load kube_helpers

CANARY=sotto-canary-cluster-key-7f3a1
CANARY2=sotto-canary-cluster-key-second-90be

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	REPO=$T/repo
	git_repo "$REPO" app
	: >"$T/all-logs"
}

teardown() {
	[ -n "${AGENT:-}" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	standin_stop
}

agent_once() {
	"$SOTTO" reconcile --allow-file-sources --once --cache-dir "$T/cache" \
	    --poll-interval 0.2s "$@" >>"$T/agent-out" 2>>"$T/all-logs" || true
}

# Runs `sotto cluster ARGS` in the background and one-pass agents until
# it is done: the CLI waits for the agent's answer.  Sets status, out, err.
cluster() {
	(s=0; "$SOTTO" cluster "$@" --timeout 30s >"$T/out" 2>"$T/err" ||
	    s=$?; echo $s >"$T/rc") &
	local bg=$! i
	for i in $(seq 1 100); do
		kill -0 "$bg" 2>/dev/null || break
		agent_once
		sleep 0.1
	done
	wait "$bg"
	status=$(cat "$T/rc")
	out=$(cat "$T/out")
	err=$(cat "$T/err")
	cat "$T/err" >>"$T/all-logs"
}

keygen() { # NAME [--pq]: sets R
	cluster keygen --secret "$@"
	[ "$status" -eq 0 ]
	R=$out
}

# The age.agekey text of Secret NAME (only the test reads it).
key_text() {
	$K get secret "$1" -o jsonpath='{.data.age\.agekey}' | base64 -d
}

cm() { # NAME KEY
	$K get configmap "$1-recipient" -o json | python3 -c '
import json, sys
print(json.load(sys.stdin)["data"].get(sys.argv[1], ""), end="")' "$2"
}

secret_file() { # VALUE RECIPIENT FILE
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\nstringData:\n  password: %s\n' \
	    "${4:-creds}" "$1" >"$T/plain.yaml"
	"$SOTTO" encrypt --age "$2" "$T/plain.yaml" >"$REPO/app/$3"
	rm -f "$T/plain.yaml"
}

apply_flux() { # SECRET
	flux_apply "$1"
}

kustomization() { # FILES...
	{
		printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: default\nresources:\n'
		printf '  - %s\n' "$@"
	} >"$REPO/app/kustomization.yaml"
	commit "$*"
}

password_of() { # SECRET
	$K get secret "$1" -o jsonpath='{.data.password}' | base64 -d
}

used() {
	$K get kustomization app -o json | python3 -c '
import json, sys
print(" ".join(json.load(sys.stdin)["status"].get("decryptionRecipients", ["none"])))'
}

# No identity of Secret NAME in any log, Event, status, ConfigMap or the
# agent's output; the CLI never read a Secret (it has no need to).
assert_key_kept() { # NAME [imported]: import-key reads the Secret
	local k b
	key_text "$1" | grep -o 'AGE-SECRET-KEY-[0-9A-Z-]*' >"$T/keys"
	[ -s "$T/keys" ]
	b=$($K get secret "$1" -o jsonpath='{.data.age\.agekey}')
	$K get events -A -o json >"$T/events.json"
	$K get kustomizations,configmaps -A -o json >"$T/objs.json"
	while read -r k; do
		refute grep -q "$k" "$T/all-logs" "$T/events.json" "$T/objs.json"
		refute grep -q "$k" "$T/agent-out"
	done <"$T/keys"
	refute grep -qF "${b:0:40}" "$T/all-logs" "$T/events.json" "$T/objs.json"
	refute grep -q "AGE-SECRET-KEY" "$T/all-logs"
	[ -n "${2:-}" ] && return 0
	ctl_get /log | python3 -c '
import json, sys
bad = [e["method"] + " " + e["path"] for e in map(json.loads, sys.stdin)
       if e.get("user_agent") == "sotto-cluster" and "/secrets" in e["path"]
       and e["method"] not in ("POST", "PATCH")]
print("\n".join(bad))
sys.exit(1 if bad else 0)'
}

@test "keygen: the agent fills the labelled Secret and publishes its recipient" {
	keygen ck
	[[ "$R" =~ ^age1[0-9a-z]{58}$ ]]
	[ "$(cm ck recipient)" = "$R" ]
	[ "$(cm ck recipients)" = "$R" ]
	[ "$($K get secret ck -o jsonpath='{.metadata.labels.sotto\.dev/age-key}')" = generated ]
	# the identity behind it is in the Secret, under Flux's data key
	key_text ck >"$T/ck.txt"
	[ "$("$SOTTO" age-keygen -y "$T/ck.txt")" = "$R" ]
	grep -q "\"msg\":\"Secret default/ck: new age identity, recipient $R\"" "$T/all-logs"
	assert_key_kept ck
}

@test "keygen --pq makes a post-quantum hybrid key" {
	keygen pqk --pq
	[[ "$R" == age1pq1* ]]
	key_text pqk | grep -q '^AGE-SECRET-KEY-PQ-1'
	[ "$($K get secret pqk -o jsonpath='{.metadata.annotations.sotto\.dev/age-key-type}')" = pq ]
	assert_key_kept pqk
}

@test "keygen refuses a Secret that exists and names that are not names" {
	keygen ck
	cluster keygen --secret ck
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: Secret 'default/ck' already exists (print its recipient with 'sotto cluster recipient')" ]
	run_io "$SOTTO" cluster keygen --secret ../../x
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: --secret '../../x': not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)" ]
	run_io "$SOTTO" cluster rotate-key --secret ck --namespace 'A B'
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: --namespace 'A B': not a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit)" ]
	run_io "$SOTTO" cluster frob
	[ "$status" -eq 2 ]
	[ "$(head -1 "$T/err")" = "sotto: error: unknown cluster command 'frob'" ]
	# a hostile request is answered, escaped, and changes nothing
	$K annotate secret ck "sotto.dev/retire=x
\"y" sotto.dev/retire-id=h1 >/dev/null
	agent_once
	[ "$(cm ck retire-result)" = "refused: 'x\\x0a\"y' is not a recipient of Secret 'default/ck'" ]
	[ "$(cm ck recipients)" = "$R" ]
	run_io "$SOTTO" cluster rotate-key --secret ck --to x
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: an option given is not one of 'sotto cluster rotate-key' (see --help)" ]
	run_io "$SOTTO" cluster retire-key --secret ck
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: retire-key needs --recipient" ]
}

@test "keygen without an agent gives up after --timeout with a hint" {
	run_io "$SOTTO" cluster keygen --secret lonely --timeout 1s
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: no answer from the agent for Secret 'default/lonely' within 1 s (is 'sotto reconcile' running, and may it update that Secret? see 'sotto cluster keygen --rbac')" ]
}

@test "keygen --rbac prints the Role for that one Secret" {
	run_io "$SOTTO" cluster keygen --rbac --secret ck --namespace apps
	[ "$status" -eq 0 ]
	printf '%s\n' "$out" >"$T/rbac.yaml"
	grep -q '    resourceNames: \["ck"\]' "$T/rbac.yaml"
	grep -q '    resourceNames: \["ck-recipient"\]' "$T/rbac.yaml"
	grep -q '    namespace: sotto-system' "$T/rbac.yaml"
	$K apply --server-side -f "$T/rbac.yaml" >/dev/null
	[ "$($K get role sotto-key-ck -n apps -o jsonpath='{.rules[0].verbs}')" = '["get","update"]' ]
}

@test "recipient prints it, --sops-rule prints a rule, --add-to edits .sops.yaml in place" {
	keygen ck
	run_io "$SOTTO" cluster recipient --secret ck
	[ "$status" -eq 0 ]
	[ "$out" = "$R" ]
	run_io "$SOTTO" cluster recipient --secret ck --sops-rule '\.enc\.yaml$'
	[ "$out" = "creation_rules:
  - path_regex: '\\.enc\\.yaml\$'
    age: $R" ]
	cat >"$T/.sops.yaml" <<'Y'
# our rules
creation_rules:
    # dev first
    - path_regex: dev/.*
      age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p # break-glass
stores:
    yaml:
        indent: 4
Y
	cp "$T/.sops.yaml" "$T/orig.yaml"
	run_io "$SOTTO" cluster recipient --secret ck --add-to "$T/.sops.yaml" 'dev/.*'
	[ "$status" -eq 0 ]
	run_io "$SOTTO" cluster recipient --secret ck --add-to "$T/.sops.yaml" 'app/.*'
	[ "$status" -eq 0 ]
	run diff "$T/orig.yaml" "$T/.sops.yaml"
	[ "$output" = "2a3,4
>     - path_regex: 'app/.*'
>       age: $R
5c7
<       age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p # break-glass
---
>       age: $R,age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p # break-glass" ]
	# again: nothing changes
	cp "$T/.sops.yaml" "$T/twice.yaml"
	"$SOTTO" cluster recipient --secret ck --add-to "$T/.sops.yaml" 'dev/.*'
	cmp "$T/twice.yaml" "$T/.sops.yaml"
	# sotto itself reads the rule: both recipients
	(cd "$T" && "$SOTTO" config explain --config .sops.yaml dev/x.yaml) |
	    grep -qx '    1 key group(s), 2 age recipient(s)'
	# a flow-style file is refused and left as it was
	printf 'creation_rules: [{path_regex: x, age: y}]\n' >"$T/flow.yaml"
	cp "$T/flow.yaml" "$T/flow.orig"
	run_io "$SOTTO" cluster recipient --secret ck --add-to "$T/flow.yaml" x
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: '$T/flow.yaml' line 1: creation_rules in flow style; edit it by hand" ]
	cmp "$T/flow.yaml" "$T/flow.orig"
	run_io "$SOTTO" cluster recipient --secret nope
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: no recipient published for Secret 'default/nope' (ConfigMap 'default/nope-recipient' not found)" ]
	assert_key_kept ck
}

@test "a file encrypted to the cluster recipient is applied decrypted" {
	keygen ck
	secret_file "$CANARY" "$R" secret.enc.yaml
	kustomization secret.enc.yaml
	apply_flux ck
	agent_once
	[ "$(password_of creds)" = "$CANARY" ]
	[ "$(used)" = "$R" ]
	refute grep -q "$CANARY" "$T/all-logs"
	assert_key_kept ck
}

@test "rotate: a second identity, the new recipient current, the old file still decrypts" {
	keygen ck
	R1=$R
	secret_file "$CANARY" "$R1" old.enc.yaml
	cluster rotate-key --secret ck
	[ "$status" -eq 0 ]
	R2=$out
	[[ "$R2" =~ ^age1[0-9a-z]{58}$ ]]
	[ "$R2" != "$R1" ]
	[ "$(cm ck recipient)" = "$R2" ]
	[ "$(cm ck recipients)" = "$R2
$R1" ]
	[ "$(key_text ck | grep -c '^AGE-SECRET-KEY-1')" -eq 2 ]
	secret_file "$CANARY2" "$R2" new.enc.yaml creds2
	kustomization old.enc.yaml new.enc.yaml
	apply_flux ck
	agent_once
	[ "$(password_of creds)" = "$CANARY" ]
	[ "$(password_of creds2)" = "$CANARY2" ]
	[ "$(used)" = "$(printf '%s\n' "$R1" "$R2" | sort | tr '\n' ' ' | sed 's/ $//')" ]
	assert_key_kept ck
}

@test "retire is refused while a file uses the recipient and allowed after updatekeys" {
	keygen ck
	R1=$R
	# the recommended rule: the cluster plus a key kept outside it
	"$SOTTO" age-keygen -o "$T/team.txt" 2>/dev/null
	TEAM=$("$SOTTO" age-keygen -y "$T/team.txt")
	printf 'creation_rules:\n  - path_regex: ^app/\n    age: %s\n' "$TEAM" >"$REPO/.sops.yaml"
	"$SOTTO" cluster recipient --secret ck --add-to "$REPO/.sops.yaml" '^app/'
	grep -qx "    age: $R1,$TEAM" "$REPO/.sops.yaml"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: %s\n' \
	    "$CANARY" >"$REPO/app/secret.enc.yaml"
	(cd "$REPO" && "$SOTTO" encrypt -i app/secret.enc.yaml)
	kustomization secret.enc.yaml
	apply_flux ck
	agent_once
	[ "$(password_of creds)" = "$CANARY" ]
	cluster rotate-key --secret ck
	R2=$out
	cluster retire-key --secret ck --recipient "$R1"
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: the agent refused: still used by the files of Kustomization 'default/app' (re-encrypt them with 'sotto updatekeys' first)" ]
	[ "$(key_text ck | grep -c '^AGE-SECRET-KEY-1')" -eq 2 ]
	# the rule names the new recipient in place of the old; updatekeys
	"$SOTTO" cluster recipient --secret ck --add-to "$REPO/.sops.yaml" '^app/'
	grep -qx "    age: $R2,$TEAM" "$REPO/.sops.yaml"
	(cd "$REPO" && SOPS_AGE_KEY_FILE=$T/team.txt "$SOTTO" updatekeys -y \
	    app/secret.enc.yaml) 2>>"$T/all-logs"
	refute grep -q "$R1" "$REPO/app/secret.enc.yaml"
	commit "updatekeys"
	agent_once
	[ "$(used)" = "$(printf '%s\n' "$R2" "$TEAM" | sort | tr '\n' ' ' | sed 's/ $//')" ]
	cluster retire-key --secret ck --recipient "$R1"
	[ "$status" -eq 0 ]
	[ "$out" = "retired $R1" ]
	[ "$(cm ck recipients)" = "$R2" ]
	[ "$(key_text ck | grep -c '^AGE-SECRET-KEY-1')" -eq 1 ]
	# and the file still decrypts with what is left
	$K delete secret creds >/dev/null
	$K annotate kustomization app reconcile.fluxcd.io/requestedAt=now >/dev/null
	agent_once
	[ "$(password_of creds)" = "$CANARY" ]
	# a recipient the Secret does not have, and the last identity
	cluster retire-key --secret ck --recipient "$R1"
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: the agent refused: '$R1' is not a recipient of Secret 'default/ck'" ]
	cluster retire-key --secret ck --recipient "$R2"
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: the agent refused: '$R2' is the only identity of Secret 'default/ck' (rotate first)" ]
	assert_key_kept ck
}

@test "export and import: the identities travel encrypted to an offline recipient" {
	keygen ck
	R1=$R
	cluster rotate-key --secret ck
	R2=$out
	"$SOTTO" age-keygen -o "$T/offline.txt" 2>/dev/null
	OFF=$("$SOTTO" age-keygen -y "$T/offline.txt")
	cluster export-key --secret ck --to "$OFF" -o "$T/bundle.age"
	[ "$status" -eq 0 ]
	[ "$(head -1 "$T/bundle.age")" = "-----BEGIN AGE ENCRYPTED FILE-----" ]
	[ "$(cm ck export)" = "$(cat "$T/bundle.age")" ]
	# only the offline identity opens it
	"$SOTTO" age -d -i "$T/offline.txt" "$T/bundle.age" | grep -c '^AGE-SECRET-KEY-1' | grep -qx 2
	assert_key_kept ck
	"$SOTTO" age-keygen -o "$T/other.txt" 2>/dev/null
	run_io "$SOTTO" cluster import-key --secret restored --from "$T/bundle.age" -i "$T/other.txt"
	[ "$status" -eq 1 ]
	[[ "$err" == "sotto: error: cannot decrypt '$T/bundle.age': "* ]]
	run $K get secret restored
	[ "$status" -eq 1 ]
	# a new cluster (namespace): restored, merged, published by the agent
	run_io "$SOTTO" cluster import-key --namespace dr --secret restored --from "$T/bundle.age" -i "$T/offline.txt"
	[ "$status" -eq 0 ]
	[ "$err" = "sotto: 2 identities imported into Secret 'dr/restored'" ]
	agent_once
	[ "$($K get configmap restored-recipient -n dr -o jsonpath='{.data.recipients}')" = "$R2
$R1" ]
	# importing again adds nothing
	run_io "$SOTTO" cluster import-key --namespace dr --secret restored --from "$T/bundle.age" -i "$T/offline.txt"
	[ "$err" = "sotto: 0 identities imported into Secret 'dr/restored'" ]
	# the agent runs no plugin: a plugin recipient is refused
	cluster export-key --secret ck --to age1yubikey1qwerty
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: the agent refused: 'age1yubikey1qwerty' is not an X25519, age1pq1 or SSH recipient (the agent runs no plugin)" ]
	assert_key_kept ck imported
}

@test "the PQ variant rotates, exports and decrypts too" {
	keygen pqk --pq
	R1=$R
	secret_file "$CANARY" "$R1" secret.enc.yaml
	kustomization secret.enc.yaml
	apply_flux pqk
	agent_once
	[ "$(password_of creds)" = "$CANARY" ]
	cluster rotate-key --secret pqk
	[[ "$out" == age1pq1* ]]
	[ "$out" != "$R1" ]
	"$SOTTO" age-keygen -o "$T/offline.txt" 2>/dev/null
	cluster export-key --secret pqk --to "$("$SOTTO" age-keygen -y "$T/offline.txt")"
	printf '%s\n' "$out" | "$SOTTO" age -d -i "$T/offline.txt" | grep -c '^AGE-SECRET-KEY-PQ-1' | grep -qx 2
	assert_key_kept pqk
}

@test "in daemon mode the agent answers at once, through its watch" {
	"$SOTTO" reconcile --allow-file-sources --cache-dir "$T/cache" \
	    --poll-interval 0.2s >"$T/agent-out" 2>"$T/all-logs" &
	AGENT=$!
	run_io timeout 20 "$SOTTO" cluster keygen --secret ck --timeout 15s
	[ "$status" -eq 0 ]
	R1=$out
	run_io timeout 20 "$SOTTO" cluster rotate-key --secret ck --timeout 15s
	[ "$status" -eq 0 ]
	[ "$(cm ck recipients)" = "$out
$R1" ]
	kill "$AGENT"
	wait "$AGENT" || true
	AGENT=
	assert_key_kept ck
}

@test "--add-to rewrites folded and sequence age values, older cluster recipients out" {
	OLD=age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
	NEW=age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg
	GLASS=age1yhm4gctwfmrpz87tdslm550wrx6m79y9f2hdzt0lndjnehwj0ukqrjpyx5
	# the ConfigMap the agent would publish after a rotation
	$K create configmap ck-recipient --from-literal=recipient=$NEW \
	    --from-literal=recipients="$NEW
$OLD
" --dry-run=client -o json | $K apply --server-side -f - >/dev/null
	cat >"$T/s.yaml" <<Y
creation_rules:
    - path_regex: ^folded/
      encrypted_regex: ^(data|stringData)\$
      age: >-
        $OLD,
        $GLASS
    # listed
    - path_regex: ^seq/
      age:
        - $OLD
        - $GLASS
      pgp: ABC
Y
	run_io "$SOTTO" cluster recipient --secret ck --add-to "$T/s.yaml" '^folded/'
	[ "$status" -eq 0 ]
	run_io "$SOTTO" cluster recipient --secret ck --add-to "$T/s.yaml" '^seq/'
	[ "$status" -eq 0 ]
	[ "$(cat "$T/s.yaml")" = "creation_rules:
    - path_regex: ^folded/
      encrypted_regex: ^(data|stringData)\$
      age: >-
        $NEW,
        $GLASS
    # listed
    - path_regex: ^seq/
      age:
        - $NEW
        - $GLASS
      pgp: ABC" ]
	# a file that is not there is created with the one rule
	run_io "$SOTTO" cluster recipient --secret ck --add-to "$T/new.yaml" 'x'
	[ "$(cat "$T/new.yaml")" = "creation_rules:
  - path_regex: 'x'
    age: $NEW" ]
	# the CLI read only the ConfigMap
	[ "$(ctl_get /log | grep -c '/secrets')" -eq 0 ]
}

@test "a key Secret holding no usable identity is left alone, named in the log, its text not" {
	labelled() { # NAME FILE
		$K create secret generic "$1" --from-file=age.agekey="$2" \
		    --dry-run=client -o json | python3 -c '
import json, sys
o = json.load(sys.stdin)
o["metadata"]["labels"] = {"sotto.dev/age-key": "generated"}
print(json.dumps(o))' | $K apply --server-side -f - >/dev/null
	}
	printf 'AGE-PLUGIN-YUBIKEY-1QQQQQQQQQQQQQQQQQQQQQQQ\n' >"$T/plugin.txt"
	printf 'AGE-SECRET-KEY-1NOTAKEYATALLSOTTOCANARY\n' >"$T/bad.txt"
	labelled plugin "$T/plugin.txt"
	labelled bad "$T/bad.txt"
	agent_once
	run $K get configmap plugin-recipient
	[ "$status" -eq 1 ]
	run $K get configmap bad-recipient
	[ "$status" -eq 1 ]
	grep -qF '"msg":"age key Secret default/plugin: '"'"'age.agekey'"'"': line 1: plugin identities are not accepted in-cluster (only native age identities: AGE-SECRET-KEY-1..., AGE-SECRET-KEY-PQ-1...)"}' "$T/all-logs"
	grep -qF '"msg":"age key Secret default/bad: '"'"'age.agekey'"'"': line 1: malformed secret key: invalid data character at position 17"}' "$T/all-logs"
	refute grep -q 'QQQQQQQQ' "$T/all-logs"
	refute grep -q 'SOTTOCANARY' "$T/all-logs"
	# the Secrets are as they were
	[ "$(key_text plugin)" = "$(cat "$T/plugin.txt")" ]
	[ "$(key_text bad)" = "$(cat "$T/bad.txt")" ]
}
