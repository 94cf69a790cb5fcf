#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# `sotto reconcile` end to end: a local git repository (file://), the API
# stand-in (HTTPS, bearer token), keys in a Secret (issue #8).

load helpers
load kube_helpers

CANARY=sotto-canary-plaintext-7f3a9

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	kube_fixture app base
	write_secret "$CANARY"
	cat >"$REPO/app/cm.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  color: blue
Y
	cat >"$REPO/app/extra.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
data:
  k: v
Y
	cat >"$REPO/app/kustomization.yaml" <<'Y'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: default
resources:
  - cm.yaml
  - extra.yaml
  - secret.enc.yaml
Y
	cat >"$REPO/base/ns.yaml" <<'Y'
apiVersion: v1
kind: Namespace
metadata:
  name: team
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: base-config
  namespace: team
data:
  a: b
Y
	commit "initial"
	write_config
}

teardown() {
	standin_stop
}

write_secret() { # VALUE
	cat >"$T/secret.yaml" <<Y
apiVersion: v1
kind: Secret
metadata:
  name: creds
stringData:
  password: $1
Y
	"$SOTTO" encrypt --age "$PUB" "$T/secret.yaml" >"$REPO/app/secret.enc.yaml"
	rm -f "$T/secret.yaml"
}

write_config() { # [extra spec lines for app]
	cat >"$T/config.yaml" <<Y
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: repo
spec:
  interval: 1m
  url: file://$REPO
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app
spec:
  interval: 1m
  path: ./app
  prune: true
  sourceRef:
    kind: GitRepository
    name: repo
  decryption:
    provider: sops
    secretRef:
      name: sops-age
${1:-}
Y
}

reconcile() {
	run_io "$SOTTO" reconcile --allow-file-sources --once --config "$T/config.yaml" \
	    --cache-dir "$T/cache" "$@"
	cat "$T/err" >>"$T/all-logs"
}

secret_value() {
	$K get secret creds -o jsonpath='{.data.password}' | base64 -d
}

ready_status() { # prints Ready's status and message from the status ConfigMap
	$K get configmap sotto-inventory-app -o jsonpath='{.data.status}' |
	    python3 -c 'import json,sys; s=json.load(sys.stdin); c=[c for c in s["conditions"] if c["type"]=="Ready"][0]; print(c["status"], c["reason"], c["message"])'
}


assert_no_leak() {
	refute grep -rq "$CANARY" "$T/all-logs"
	refute grep -rq "$KEY" "$T/all-logs"
	refute grep -rqa "$CANARY" "$TMPDIR" "$T/cache"
	refute grep -rqa "$KEY" "$TMPDIR" "$T/cache"
	[ -z "$(ls -A "$TMPDIR")" ]
	ctl_get /bodies >"$T/bodies"
	refute grep -qa "$CANARY" "$T/bodies"
	refute grep -qa "AGE-SECRET-KEY" "$T/bodies"
}

@test "the first reconcile creates the objects with Secrets decrypted" {
	reconcile
	[ "$status" -eq 0 ]
	[ "$(secret_value)" = "$CANARY" ]
	run $K get configmap app-config -o jsonpath='{.data.color}'
	[ "$output" = blue ]
	run $K get configmap app-config -o jsonpath='{.metadata.labels.kustomize\.toolkit\.fluxcd\.io/name}'
	[ "$output" = app ]
	[[ "$(ready_status)" == "True ReconciliationSucceeded Applied revision: main@sha1:"* ]]
	grep -q '"msg":"Secret/default/creds created"' "$T/all-logs"
	ctl_get /log | grep -q '"method": "PATCH", "path": "/api/v1/namespaces/default/secrets/creds", "query": "fieldManager=sotto&force=true", "content_type": "application/apply-patch+yaml"'
	assert_no_leak
}

@test "a commit that changes a value is applied, a removed manifest is pruned" {
	reconcile
	[ "$status" -eq 0 ]
	write_secret "$CANARY-rotated"
	sed -i 's/blue/green/' "$REPO/app/cm.yaml"
	git -C "$REPO" rm -q app/extra.yaml
	sed -i '/extra.yaml/d' "$REPO/app/kustomization.yaml"
	commit "change"
	reconcile
	[ "$status" -eq 0 ]
	[ "$(secret_value)" = "$CANARY-rotated" ]
	run $K get configmap app-config -o jsonpath='{.data.color}'
	[ "$output" = green ]
	run $K get configmap extra
	[ "$status" -eq 1 ]
	grep -q '"msg":"ConfigMap/default/extra deleted"' "$T/all-logs"
	assert_no_leak
}

@test "an object edited or deleted by hand is restored" {
	reconcile
	$K patch configmap app-config --type merge -p '{"data":{"color":"hacked"}}'
	$K delete secret creds
	reconcile
	[ "$status" -eq 0 ]
	run $K get configmap app-config -o jsonpath='{.data.color}'
	[ "$output" = blue ]
	[ "$(secret_value)" = "$CANARY" ]
	assert_no_leak
}

@test "a no-change reconcile writes nothing" {
	reconcile
	ctl_post /reset
	reconcile
	[ "$status" -eq 0 ]
	grep -q '0 created, 0 configured, 3 unchanged' "$T/err"
	refute eval "ctl_get /log | grep -q '\"method\": \"PATCH\"'"
}

@test "tampered ciphertext leaves the cluster as it was and sets Ready=False" {
	reconcile
	python3 - "$REPO/app/secret.enc.yaml" <<'P'
import re, sys
p = sys.argv[1]; s = open(p).read()
m = re.search(r"password: ENC\[AES256_GCM,data:(.)", s)
c = "A" if m.group(1) != "A" else "B"
s = s[:m.start(1)] + c + s[m.end(1):]
open(p, "w").write(s)
P
	sed -i 's/blue/red/' "$REPO/app/cm.yaml"
	commit "tampered"
	reconcile
	[ "$status" -eq 1 ]
	[ "$(secret_value)" = "$CANARY" ]
	run $K get configmap app-config -o jsonpath='{.data.color}'
	[ "$output" = blue ]
	[[ "$(ready_status)" == "False BuildFailed "* ]]
	grep -q '"level":"error".*BuildFailed' "$T/all-logs"
	assert_no_leak
}

@test "invalid YAML leaves the cluster as it was and sets Ready=False" {
	reconcile
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: [broken\n' >"$REPO/app/cm.yaml"
	commit "broken"
	reconcile
	[ "$status" -eq 1 ]
	run $K get configmap app-config -o jsonpath='{.data.color}'
	[ "$output" = blue ]
	[[ "$(ready_status)" == "False BuildFailed "* ]]
}

@test "a missing decryption Secret is reported with the spec's message" {
	$K delete secret sops-age
	reconcile
	[ "$status" -eq 1 ]
	[[ "$(ready_status)" == "False BuildFailed decryption Secret 'default/sops-age' not found" ]]
}

@test "dependsOn order holds" {
	write_config "  dependsOn:
    - name: base
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: base
spec:
  interval: 1m
  path: ./base
  prune: true
  sourceRef:
    kind: GitRepository
    name: repo"
	reconcile
	[ "$status" -eq 0 ]
	base=$(grep -n 'ConfigMap/team/base-config created' "$T/err" | cut -d: -f1)
	app=$(grep -n 'ConfigMap/default/app-config created' "$T/err" | cut -d: -f1)
	[ -n "$base" ] && [ -n "$app" ] && [ "$base" -lt "$app" ]
	ns=$(grep -n 'Namespace/team created' "$T/err" | cut -d: -f1)
	[ "$ns" -lt "$base" ]
	# both use GitRepository repo: one fetch in the pass, the same revision
	[ "$(grep -c "GitRepository default/repo: stored artifact" "$T/err")" -eq 1 ]
}

@test "a failed dependency blocks its dependants" {
	write_config "  dependsOn:
    - name: base
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: base
spec:
  interval: 1m
  path: ./nowhere
  prune: true
  sourceRef:
    kind: GitRepository
    name: repo"
	reconcile
	[ "$status" -eq 1 ]
	grep -q 'kustomization path not found: nowhere' "$T/err"
	# a missing spec.path is ArtifactFailed, as in Flux
	grep 'kustomization path not found: nowhere' "$T/err" | grep -q ArtifactFailed
	grep -q "dependency 'default/base' is not ready" "$T/err"
	run $K get configmap app-config
	[ "$status" -eq 1 ]
}

@test "serviceAccountName sends impersonation headers on every write" {
	write_config "  serviceAccountName: deployer"
	reconcile
	[ "$status" -eq 0 ]
	ctl_get /log | python3 -c '
import json, sys
n = 0
for l in sys.stdin:
    e = json.loads(l)
    if e["method"] in ("GET",) or "sotto-inventory" in e["path"]:
        continue
    if "/secrets/sops-age" in e["path"] or "kubectl" in e["user_agent"]:
        continue
    n += 1
    assert e["impersonate_user"] == "system:serviceaccount:default:deployer", e
assert n >= 4, n'
}

@test "SIGTERM during apply exits 0 after the current object" {
	for i in $(seq 1 30); do
		printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: many-%s\ndata:\n  i: "%s"\n' "$i" "$i" >"$REPO/app/many-$i.yaml"
		echo "  - many-$i.yaml" >>"$REPO/app/kustomization.yaml"
	done
	commit "many"
	ctl_post "/fault?hang=0.2&n=100000"
	"$SOTTO" reconcile --allow-file-sources --once --config "$T/config.yaml" --cache-dir "$T/cache" 2>"$T/err" &
	pid=$!
	for i in $(seq 1 200); do
		grep -q ' created"' "$T/err" && break
		sleep 0.1
	done
	kill -TERM $pid
	s=0; wait $pid || s=$?
	[ "$s" -eq 0 ]
	grep -q 'stopped after the current object' "$T/err"
	n=$(grep -c ' created"' "$T/err")
	[ "$n" -ge 1 ] && [ "$n" -lt 33 ]
}

@test "two replicas: only the Lease holder applies" {
	for r in r1 r2; do
		"$SOTTO" reconcile --allow-file-sources --config "$T/config.yaml" --cache-dir "$T/cache-$r" \
		    --interval 1s --leader-elect --lease-namespace default \
		    --identity "$r" --lease-duration 10s 2>"$T/err-$r" &
		eval "pid_$r=$!"
	done
	sleep 4
	kill -TERM "$pid_r1" "$pid_r2"
	wait "$pid_r1"; wait "$pid_r2"
	ctl_get /log | python3 -c '
import json, sys
agents = set()
for l in sys.stdin:
    e = json.loads(l)
    if e["method"] == "PATCH" and "sotto-inventory" not in e["path"] and "sotto-reconcile" in e["user_agent"]:
        agents.add(e["user_agent"])
assert len(agents) == 1, agents'
	cat "$T/err-r1" "$T/err-r2" | grep -c 'acquired lease' | grep -qx 1
}

@test "health and metrics endpoints answer" {
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$SOTTO" reconcile --allow-file-sources --config "$T/config.yaml" --cache-dir "$T/cache" \
	    --interval 1s --health-addr "127.0.0.1:$port" 2>"$T/err" &
	pid=$!
	for i in $(seq 1 50); do
		curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
		sleep 0.1
	done
	run curl -sf "http://127.0.0.1:$port/healthz"
	[ "$output" = ok ]
	run curl -sf "http://127.0.0.1:$port/metrics"
	[[ "$output" == *"sotto_reconcile_passes_total"* ]]
	# per Kustomization: Ready, last applied revision, duration
	rev=$(git -C "$REPO" rev-parse HEAD)
	for i in $(seq 1 50); do
		curl -sf "http://127.0.0.1:$port/metrics" >"$T/metrics"
		grep -q 'sotto_kustomization_ready{kustomization="default/app"} 1' "$T/metrics" && break
		sleep 0.1
	done
	grep -qx 'sotto_kustomization_ready{kustomization="default/app"} 1' "$T/metrics"
	grep -qx "sotto_kustomization_last_applied_revision{kustomization=\"default/app\",revision=\"main@sha1:$rev\"} 1" "$T/metrics"
	grep -qE '^sotto_kustomization_reconcile_duration_seconds\{kustomization="default/app"\} [0-9]+\.[0-9]{6}$' "$T/metrics"
	# the exposition format parses (promtool is not here: check each line)
	python3 - "$T/metrics" <<'P'
import re, sys
for l in open(sys.argv[1]):
    l = l.rstrip("\n")
    assert l.startswith("# TYPE ") or re.fullmatch(r'[a-z_]+(\{[a-z_]+="[^"\\]*"(,[a-z_]+="[^"\\]*")*\})? -?[0-9.e+-]+', l), l
P
	kill -TERM $pid
	wait $pid
}

@test "--key-secret-style lookups: a Secret without *.agekey entries is refused" {
	$K create secret generic sops-age --from-literal=other=x --dry-run=client -o json >"$T/bad.json"
	$K delete secret sops-age
	$K apply --server-side -f "$T/bad.json"
	reconcile
	[ "$status" -eq 1 ]
	[[ "$(ready_status)" == "False BuildFailed decryption Secret 'default/sops-age' has no '*.agekey' or '*.asc' entries" ]]
}

# The file's age entry is replaced by a `pgp` entry made by real gpg for a
# throwaway cv25519 test key (sops' MAC covers the values only); the Secret
# holds only identity.asc, as Flux's.  The agent has no gpg and no keyring.
@test "an identity.asc entry decrypts the file's pgp entry natively (issue 21)" {
	command -v gpg >/dev/null || skip "gpg not installed"
	local fx=$SOTTO_ROOT/tests/fixtures/pgp
	"$SOTTO_ROOT/tests/tools/sops_age_to_pgp.sh" "$REPO/app/secret.enc.yaml" \
	    "$T/key.txt" "$fx/cv25519.pub.asc" cv25519@sotto.test
	refute grep -q "AGE ENCRYPTED" "$REPO/app/secret.enc.yaml"
	commit "pgp only"
	$K delete secret sops-age
	$K create secret generic sops-age --from-file=identity.asc="$fx/cv25519.key.asc" \
	    --dry-run=client -o json >"$T/pgp.json"
	$K apply --server-side -f "$T/pgp.json"
	reconcile
	[ "$status" -eq 0 ]
	[ "$(secret_value)" = "$CANARY" ]
	assert_no_leak
	refute grep -rqa "PGP PRIVATE" "$T/all-logs" "$TMPDIR" "$T/cache"
	# a protected key is refused with Flux's import message and the reason
	$K delete secret sops-age
	$K create secret generic sops-age --from-file=identity.asc="$fx/protected.key.asc" \
	    --dry-run=client -o json >"$T/prot.json"
	$K apply --server-side -f "$T/prot.json"
	reconcile
	[ "$status" -eq 1 ]
	[[ "$(ready_status)" == "False BuildFailed failed to import 'identity.asc' data from sops decryption Secret 'default/sops-age': 'identity.asc': secret key is protected with a passphrase; Flux and sotto need an unprotected key" ]]
}

@test "spec.healthChecks without wait: listed objects are polled, a missing one fails" {
	write_config "  timeout: 3s
  healthChecks:
    - apiVersion: v1
      kind: ConfigMap
      name: app-config
    - apiVersion: v1
      kind: ConfigMap
      name: never-there
      namespace: default"
	reconcile
	[ "$status" -eq 1 ]
	[[ "$(ready_status)" == "False HealthCheckFailed health check failed after 3s: timeout waiting for: [ConfigMap/default/never-there (not found)]" ]]
	# the objects were applied all the same
	[ "$(secret_value)" = "$CANARY" ]
	write_config "  timeout: 3s
  healthChecks:
    - apiVersion: v1
      kind: ConfigMap
      name: app-config"
	reconcile
	[ "$status" -eq 0 ]
	[[ "$(ready_status)" == "True ReconciliationSucceeded "* ]]
	assert_no_leak
}

# write_source REF_YAML [GitRepository spec lines] [path]: a GitRepository
# with the given ref lines and a Kustomization "app" on path (./app).
write_source() {
	cat >"$T/config.yaml" <<Y
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: repo
spec:
  interval: 1m
  url: file://$REPO
  ref:
$1
${2:-}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app
spec:
  interval: 1m
  path: ${3:-./app}
  prune: true
  sourceRef:
    kind: GitRepository
    name: repo
  decryption:
    provider: sops
    secretRef:
      name: sops-age
Y
}

color() { $K get configmap app-config -o jsonpath='{.data.color}'; }

@test "GitRepository refs: semver range, name, a commit on a branch (Flux's precedence and revisions)" {
	v100=$(git -C "$REPO" rev-parse HEAD)
	git -C "$REPO" tag v1.0.0
	for c in green:v1.1.0 red:v2.0.0 yellow:; do
		sed -i "s/color: .*/color: ${c%%:*}/" "$REPO/app/cm.yaml"
		commit "${c%%:*}"
		[ -z "${c#*:}" ] || git -C "$REPO" tag "${c#*:}"
	done
	git -C "$REPO" tag not-a-version
	v110=$(git -C "$REPO" rev-parse v1.1.0)
	write_source "    semver: '>=1.0.0 <2.0.0'
    branch: main"
	reconcile
	[ "$status" -eq 0 ]
	[ "$(color)" = green ]
	[ "$(ready_status)" = "True ReconciliationSucceeded Applied revision: v1.1.0@sha1:$v110" ]
	write_source "    name: refs/tags/v2.0.0
    semver: '*'"
	reconcile
	[ "$(color)" = red ]
	[[ "$(ready_status)" == "True ReconciliationSucceeded Applied revision: refs/tags/v2.0.0@sha1:"* ]]
	write_source "    commit: $v100
    name: refs/tags/v2.0.0
    branch: main"
	reconcile
	[ "$(color)" = blue ]
	[ "$(ready_status)" = "True ReconciliationSucceeded Applied revision: main@sha1:$v100" ]
	write_source "    commit: $v110"
	reconcile
	[ "$(color)" = green ]
	[ "$(ready_status)" = "True ReconciliationSucceeded Applied revision: sha1:$v110" ]
	write_source "    branch: main"
	reconcile
	[ "$(color)" = yellow ]
	# errors: nothing in range, a malformed range, a short name
	write_source "    semver: '>=5'"
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready_status)" = "False ArtifactFailed no match found for semver: >=5" ]
	write_source "    semver: '>>1'"
	reconcile
	[ "$(ready_status)" = "False ArtifactFailed semver parse error: improper constraint: >>1" ]
	write_source "    name: main"
	reconcile
	[ "$(ready_status)" = "False ArtifactFailed spec.ref.name 'main' is not a full reference (refs/...)" ]
	[ "$(color)" = yellow ]
	assert_no_leak
}

@test "GitRepository spec.ignore and .sourceignore leave files out, like Flux's artifact" {
	mkdir -p "$REPO/plain/skip"
	for n in a b c; do
		printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain-%s\n  namespace: default\ndata:\n  k: v\n' "$n" >"$REPO/plain/$n.yaml"
	done
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain-skip\n' >"$REPO/plain/skip/d.yaml"
	printf '# not for the cluster\nskip/\n' >"$REPO/plain/.sourceignore"
	# Flux leaves .sops.yaml out by default; it would not parse as a manifest
	printf 'creation_rules:\n  - age: %s\n' "$PUB" >"$REPO/plain/.sops.yaml"
	commit "plain"
	write_source "    branch: main" "  ignore: |
    /plain/b.yaml" ./plain
	reconcile
	[ "$status" -eq 0 ]
	$K get configmap plain-a plain-c >/dev/null
	run $K get configmap plain-b
	[ "$status" -eq 1 ]
	run $K get configmap plain-skip
	[ "$status" -eq 1 ]
	# without spec.ignore b comes back (the checkout is restored on every
	# fetch); .sourceignore still holds skip/ back
	write_source "    branch: main" "" ./plain
	reconcile
	[ "$status" -eq 0 ]
	$K get configmap plain-b >/dev/null
	run $K get configmap plain-skip
	[ "$status" -eq 1 ]
}

@test "a suspended GitRepository is not fetched: its last fetched revision stays applied" {
	write_source "    branch: main" "  suspend: true"
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready_status)" = "False ArtifactFailed source is suspended and was never fetched: no artifact to apply" ]
	write_source "    branch: main"
	reconcile
	[ "$status" -eq 0 ]
	rev=$(git -C "$REPO" rev-parse HEAD)
	sed -i 's/blue/green/' "$REPO/app/cm.yaml"
	commit "green"
	write_source "    branch: main" "  suspend: true"
	reconcile
	[ "$status" -eq 0 ]
	[ "$(color)" = blue ]
	[ "$(ready_status)" = "True ReconciliationSucceeded Applied revision: main@sha1:$rev" ]
	write_source "    branch: main" "  suspend: false"
	reconcile
	[ "$(color)" = green ]
}
