#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# `sotto reconcile` in cluster mode (issue #8, spec in-cluster.md §2, §7.7,
# §8): Flux-shaped GitRepository and Kustomization objects read from the
# API stand-in, conditions and inventory written to the Kustomization's
# status subresource, health checks when `wait: true`.

load helpers
load kube_helpers

CANARY=sotto-canary-cluster-51c2e

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	kube_fixture app
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: %s\n' \
	    "$CANARY" >"$T/secret.yaml"
	"$SOTTO" encrypt --age "$PUB" "$T/secret.yaml" >"$REPO/app/secret.enc.yaml"
	rm -f "$T/secret.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  color: blue\n' \
	    >"$REPO/app/cm.yaml"
	printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: default\nresources:\n  - cm.yaml\n  - secret.enc.yaml\n' \
	    >"$REPO/app/kustomization.yaml"
	commit initial
}

teardown() {
	standin_stop
}

apply_flux() { # [extra Kustomization spec lines]
	flux_apply sops-age "${1:-}"
}

reconcile() {
	run_io "$SOTTO" reconcile --allow-file-sources --once --cache-dir "$T/cache" \
	    --poll-interval 0.2s "$@"
	cat "$T/err" >>"$T/all-logs"
}

# "<status> <reason> <message>" of condition TYPE of Kustomization app
# (or of OBJECT, e.g. "gitrepository repo")
cond() { # TYPE [OBJECT]
	$K get ${2:-kustomization app} -o json | python3 -c '
import json, sys
s = json.load(sys.stdin).get("status", {})
c = [c for c in s.get("conditions", []) if c["type"] == sys.argv[1]]
print("%s %s %s" % (c[0]["status"], c[0]["reason"], c[0]["message"]) if c else "none")' "$1"
}

ks_status() { # python expression over the status object `s`
	$K get kustomization app -o json | python3 -c '
import json, sys
s = json.load(sys.stdin)["status"]
print(eval(sys.argv[1]))' "$1"
}

gr_status() { # python expression over GitRepository repo's status `s`
	$K get gitrepository repo -o json | python3 -c '
import json, sys
s = json.load(sys.stdin).get("status", {})
print(eval(sys.argv[1]))' "$1"
}

# the stand-in's request log: "<method> <path>?<query>" per request
requests() {
	ctl_get /log | python3 -c '
import json, sys
for e in map(json.loads, sys.stdin):
    print(e["method"], e["path"] + "?" + e["query"])'
}

# `! cmd` does not fail a bats test (errexit ignores it): say `refute cmd`

assert_no_leak() {
	refute grep -rq "$CANARY" "$T/all-logs"
	refute grep -rq "$KEY" "$T/all-logs"
	[ -z "$(ls -A "$TMPDIR")" ]
	ctl_get /bodies >"$T/bodies"
	# the bodies scanned include the Events recorded on the Kustomization
	grep -qa '"kind":"Event"' "$T/bodies"
	refute grep -qa "$CANARY" "$T/bodies"
	refute grep -qa "AGE-SECRET-KEY" "$T/bodies"
}

@test "a Kustomization read from the API is applied and its status subresource set" {
	apply_flux
	reconcile
	[ "$status" -eq 0 ]
	rev=main@sha1:$(git -C "$REPO" rev-parse HEAD)
	[ "$(cond Ready)" = "True ReconciliationSucceeded Applied revision: $rev" ]
	[ "$(cond Reconciling)" = none ]
	[ "$(ks_status 's["lastAppliedRevision"]')" = "$rev" ]
	[ "$(ks_status 's["lastAttemptedRevision"]')" = "$rev" ]
	[ "$(ks_status 's["observedGeneration"]')" = 1 ]
	[ "$(ks_status '[e["id"] + " " + e["v"] for e in s["inventory"]["entries"]]')" = \
	    "['default_app-config__ConfigMap v1', 'default_creds__Secret v1']" ]
	run $K get secret creds -o jsonpath='{.data.password}'
	[ "$(printf %s "$output" | base64 -d)" = "$CANARY" ]
	# the list, the source and the status went through the API
	ctl_get /log | grep -q '"method": "GET", "path": "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations"'
	ctl_get /log | grep -q '"method": "GET", "path": "/apis/source.toolkit.fluxcd.io/v1/gitrepositories"'
	ctl_get /log | grep -q '"method": "PATCH", "path": "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/default/kustomizations/app/status", "query": "fieldManager=sotto", "content_type": "application/merge-patch+json"'
	# a new revision first reports Reconciling=True, Ready=Unknown
	ctl_get /bodies | grep -a '"Reconciling"' | grep -q '"status":"Unknown"'
	assert_no_leak
}

@test "a second pass keeps the inventory and prunes a removed manifest" {
	apply_flux
	reconcile
	[ "$status" -eq 0 ]
	git -C "$REPO" rm -q app/cm.yaml
	sed -i '/cm.yaml/d' "$REPO/app/kustomization.yaml"
	commit "drop cm"
	reconcile
	[ "$status" -eq 0 ]
	run $K get configmap app-config
	[ "$status" -eq 1 ]
	[ "$(ks_status '[e["id"] for e in s["inventory"]["entries"]]')" = "['default_creds__Secret']" ]
	grep -q '"msg":"ConfigMap/default/app-config deleted"' "$T/all-logs"
	assert_no_leak
}

@test "a source that cannot be fetched sets Ready=False ArtifactFailed" {
	apply_flux
	sed -i "s|url: file://$REPO|url: file://$T/nowhere|" "$T/flux.yaml"
	$K apply --server-side -f "$T/flux.yaml" >/dev/null
	reconcile
	[ "$status" -eq 1 ]
	[[ "$(cond Ready)" == "False ArtifactFailed "* ]]
	run $K get configmap app-config
	[ "$status" -eq 1 ]
}

@test "an unsupported decryption provider stalls the Kustomization" {
	apply_flux
	sed -i 's/provider: sops/provider: vault/' "$T/flux.yaml"
	$K apply --server-side -f "$T/flux.yaml" >/dev/null
	reconcile
	[ "$status" -eq 1 ]
	# issue #14: refused before anything is read, with the field named
	[ "$(cond Ready)" = "False UnsupportedField spec.decryption.provider 'vault' is not supported (only 'sops')" ]
	[[ "$(cond Stalled)" == "True UnsupportedField "* ]]
}

@test "--namespace limits the agent to one namespace" {
	apply_flux
	reconcile --namespace other
	[ "$status" -eq 0 ]
	[ "$(cond Ready)" = none ]
	ctl_get /log | grep -q '"path": "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/other/kustomizations"'
}

write_deployment() {
	cat >"$REPO/app/deploy.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
Y
	printf '  - deploy.yaml\n' >>"$REPO/app/kustomization.yaml"
	commit deployment
}

@test "wait: a Deployment that is not rolled out makes Ready=False HealthCheckFailed" {
	write_deployment
	apply_flux "  wait: true
  timeout: 1s"
	reconcile
	[ "$status" -eq 1 ]
	[[ "$(cond Ready)" == "False HealthCheckFailed "*"Deployment/default/web"* ]]
	[[ "$(cond Ready)" != *"ConfigMap/"* ]]
	# applied all the same: health is checked after the apply
	run $K get deployment web -o jsonpath='{.spec.replicas}'
	[ "$output" = 1 ]
}

@test "wait: a rolled-out Deployment makes Ready=True" {
	write_deployment
	apply_flux "  wait: true
  timeout: 5s"
	reconcile
	[ "$status" -eq 1 ]
	# the stand-in has no controllers: play the Deployment controller
	gen=$($K get deployment web -o jsonpath='{.metadata.generation}')
	$K patch deployment web --subresource=status --type=merge -p \
	    "{\"status\":{\"observedGeneration\":$gen,\"replicas\":1,\"updatedReplicas\":1,\"readyReplicas\":1,\"availableReplicas\":1}}" >/dev/null
	reconcile
	[ "$status" -eq 0 ]
	[[ "$(cond Ready)" == "True ReconciliationSucceeded Applied revision: main@sha1:"* ]]
}

@test "a 409 on the apply is retried once after a fresh GET" {
	apply_flux
	ctl_post "/fault?code=409&n=1&match=/configmaps/app-config%3FfieldManager"
	reconcile
	[ "$status" -eq 0 ]
	[ "$(cond Ready | cut -d' ' -f1-2)" = "True ReconciliationSucceeded" ]
	ctl_get /log | python3 -c '
import json, sys
seq = [(e["method"], e["status"]) for e in map(json.loads, sys.stdin)
       if e["path"] == "/api/v1/namespaces/default/configmaps/app-config"
       and "dryRun" not in e["query"]]
assert seq == [("PATCH", 409), ("GET", 404), ("PATCH", 201)], seq'
}

@test "a second 409 fails the apply with the API's reason" {
	apply_flux
	ctl_post "/fault?code=409&n=2&match=/configmaps/app-config%3FfieldManager"
	reconcile
	[ "$status" -eq 1 ]
	[[ "$(cond Ready)" == "False ReconciliationFailed ConfigMap/default/app-config apply failed"* ]]
}

@test "spec.timeout bounds each API request of the Kustomization" {
	apply_flux "  timeout: 1s"
	ctl_post "/fault?hang=4&n=4&match=/configmaps/app-config%3FdryRun"
	SECONDS=0
	reconcile
	[ "$status" -eq 1 ]
	# four tries of 1 s plus 3.5 s of back-off, not four hangs of 4 s
	[ "$SECONDS" -lt 14 ]
	[[ "$(cond Ready)" == "False ReconciliationFailed "*"imed out"* ]]
}

@test "a kubectl edit is reverted and kubectl's managedFields entries are dropped" {
	apply_flux
	reconcile
	[ "$status" -eq 0 ]
	$K patch configmap app-config --type merge -p \
	    '{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"}},"data":{"color":"hacked"}}' >/dev/null
	run $K get configmap app-config -o jsonpath='{.metadata.managedFields[*].manager}'
	[[ "$output" == *kubectl-patch* ]]
	ctl_post /reset
	reconcile
	[ "$status" -eq 0 ]
	run $K get configmap app-config -o jsonpath='{.data.color}'
	[ "$output" = blue ]
	run $K get configmap app-config -o jsonpath='{.metadata.managedFields[*].manager}'
	[ "$output" = sotto ]
	run $K get configmap app-config -o jsonpath='{.metadata.annotations}'
	[[ "$output" != *last-applied-configuration* ]]
	ctl_get /log | grep -q '"method": "PATCH", "path": "/api/v1/namespaces/default/configmaps/app-config", "query": "", "content_type": "application/json-patch+json", "status": 200'
	grep -q '"msg":"ConfigMap/default/app-config configured"' "$T/err"
	# the Secret was not touched by kubectl: no clean-up, no write
	refute eval "ctl_get /log | grep -q 'secrets/creds.*json-patch'"
}

@test "wait: an unfinished Job fails the health check until it completes" {
	cat >"$REPO/app/job.yaml" <<'Y'
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: m
          image: busybox
Y
	printf '  - job.yaml\n' >>"$REPO/app/kustomization.yaml"
	commit job
	apply_flux "  wait: true
  timeout: 1s"
	reconcile
	[ "$status" -eq 1 ]
	[ "$(cond Ready)" = "False HealthCheckFailed health check failed after 1s: timeout waiting for: [Job/default/migrate]" ]
	$K patch job migrate --subresource=status --type=merge -p \
	    '{"status":{"succeeded":1,"conditions":[{"type":"Complete","status":"True"}]}}' >/dev/null
	reconcile
	[ "$status" -eq 0 ]
	[[ "$(cond Ready)" == "True ReconciliationSucceeded "* ]]
}

@test "live objects are read in pages; a restarted agent then writes nothing" {
	for i in $(seq 1 260); do
		printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: many-%s\ndata:\n  i: "%s"\n' "$i" "$i"
	done >"$REPO/app/many.yaml"
	printf '  - many.yaml\n' >>"$REPO/app/kustomization.yaml"
	commit many
	apply_flux
	reconcile
	[ "$status" -eq 0 ]
	ctl_post /reset
	reconcile
	[ "$status" -eq 0 ]
	grep -q '0 created, 0 configured, 262 unchanged' "$T/err"
	ctl_get /log >"$T/log"
	grep -q '"path": "/api/v1/namespaces/default/configmaps", "query": "labelSelector=.*&limit=250&continue=250"' "$T/log"
	refute grep -q '"method": "PATCH"' "$T/log"
}

@test "wait: a StatefulSet counts as healthy once its replicas are ready" {
	cat >"$REPO/app/sts.yaml" <<'Y'
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  replicas: 2
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
        - name: db
          image: postgres
Y
	printf '  - sts.yaml\n' >>"$REPO/app/kustomization.yaml"
	commit statefulset
	apply_flux "  wait: true
  timeout: 1s"
	reconcile
	[ "$status" -eq 1 ]
	[[ "$(cond Ready)" == "False HealthCheckFailed "*"[StatefulSet/default/db]" ]]
	# one of two replicas ready is not enough
	$K patch statefulset db --subresource=status --type=merge -p \
	    '{"status":{"observedGeneration":1,"replicas":2,"updatedReplicas":2,"readyReplicas":1}}' >/dev/null
	reconcile
	[ "$status" -eq 1 ]
	$K patch statefulset db --subresource=status --type=merge -p \
	    '{"status":{"readyReplicas":2}}' >/dev/null
	reconcile
	[ "$status" -eq 0 ]
	[[ "$(cond Ready)" == "True ReconciliationSucceeded "* ]]
}

# ---- the GitRepository's status (what source-controller would write) ----

@test "a fetched GitRepository reports Ready=True with its revision" {
	apply_flux
	reconcile
	[ "$status" -eq 0 ]
	rev=main@sha1:$(git -C "$REPO" rev-parse HEAD)
	[ "$(cond Ready 'gitrepository repo')" = "True Succeeded stored artifact for revision '$rev'" ]
	[ "$(cond FetchFailed 'gitrepository repo')" = none ]
	[ "$(gr_status 's["observedGeneration"]')" = 1 ]
	[ "$(gr_status 's["conditions"][0]["observedGeneration"]')" = 1 ]
	# the artifact as source-controller records it; the Kustomization's
	# lastAppliedRevision is its revision
	[ "$(gr_status 's["artifact"]["revision"]')" = "$rev" ]
	[ "$(ks_status 's["lastAppliedRevision"]')" = "$rev" ]
	[[ "$(gr_status 's["artifact"]["digest"]')" =~ ^sha256:[0-9a-f]{64}$ ]]
	[[ "$(gr_status 's["artifact"]["lastUpdateTime"]')" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]
	[ "$(gr_status 's["artifact"]["path"]')" = "gitrepository/default/repo/${rev#main@sha1:}.tar.gz" ]
	[[ "$(gr_status 's["artifact"]["url"]')" == file://* ]]
	[ "$(gr_status '"lastHandledReconcileAt" in s')" = False ]
	ctl_get /log | grep -q '"method": "PATCH", "path": "/apis/source.toolkit.fluxcd.io/v1/namespaces/default/gitrepositories/repo/status", "query": "fieldManager=sotto", "content_type": "application/merge-patch+json", "status": 200'
	[ "$(requests | grep -c 'PATCH .*/gitrepositories/.*/status')" -eq 1 ]
	assert_no_leak
}

@test "a pass with nothing new sends no GitRepository status" {
	apply_flux
	reconcile
	[ "$status" -eq 0 ]
	ctl_post /reset
	reconcile
	[ "$status" -eq 0 ]
	refute eval "requests | grep -q 'PATCH .*/gitrepositories/.*/status'"
	# a new commit is a new status
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: more\ndata:\n  k: v\n' >"$REPO/app/more.yaml"
	printf '  - more.yaml\n' >>"$REPO/app/kustomization.yaml"
	commit more
	ctl_post /reset
	reconcile
	[ "$status" -eq 0 ]
	[ "$(requests | grep -c 'PATCH .*/gitrepositories/repo/status')" -eq 1 ]
	[ "$(cond Ready 'gitrepository repo')" = "True Succeeded stored artifact for revision 'main@sha1:$(git -C "$REPO" rev-parse HEAD)'" ]
}

@test "Kustomizations sharing a GitRepository write its status once" {
	apply_flux
	sed -e 's/^  name: app$/  name: app2/' -e 's/^  interval: 1m$/  interval: 2m/' \
	    "$T/flux.yaml" | awk '/^kind: Kustomization/{k=1} k' |
	    sed '1i apiVersion: kustomize.toolkit.fluxcd.io/v1' \
	    >"$T/app2.yaml"
	sed -i 's/^  path: .\/app$/  path: .\/app\n  targetNamespace: other/' "$T/app2.yaml"
	$K apply --server-side -f "$T/app2.yaml" >/dev/null
	reconcile
	[ "$status" -eq 0 ]
	# one LIST of the sources, no GET of each, one fetch, one status
	[ "$(requests | grep -c 'GET .*/gitrepositories?')" -eq 1 ]
	[ "$(requests | grep -c 'GET .*/gitrepositories/repo?')" -eq 0 ]
	[ "$(requests | grep -c 'PATCH .*/gitrepositories/repo/status')" -eq 1 ]
}

@test "a bad URL or a missing branch sets Ready=False GitOperationFailed" {
	apply_flux
	sed -i "s|url: file://$REPO|url: file://$T/nowhere|" "$T/flux.yaml"
	$K apply --server-side -f "$T/flux.yaml" >/dev/null
	reconcile
	[ "$status" -eq 1 ]
	[[ "$(cond Ready 'gitrepository repo')" == "False GitOperationFailed failed to fetch: "* ]]
	[ "$(cond FetchFailed 'gitrepository repo')" = "$(cond Ready 'gitrepository repo' | sed 's/^False/True/')" ]
	# the same text as the Kustomization's ArtifactFailed
	[ "$(cond Ready | cut -d' ' -f3-)" = "$(cond Ready 'gitrepository repo' | cut -d' ' -f3-)" ]
	[ "$(gr_status 's["observedGeneration"]')" = 2 ]
	# a wrong ref
	sed -i -e "s|url: file://$T/nowhere|url: file://$REPO|" \
	    -e 's/branch: main/branch: nope/' "$T/flux.yaml"
	$K apply --server-side -f "$T/flux.yaml" >/dev/null
	reconcile
	[ "$status" -eq 1 ]
	[[ "$(cond Ready 'gitrepository repo')" == "False GitOperationFailed "*nope* ]]
	[ "$(gr_status 's["observedGeneration"]')" = 3 ]
	# fixed: Ready again, FetchFailed gone
	sed -i 's/branch: nope/branch: main/' "$T/flux.yaml"
	$K apply --server-side -f "$T/flux.yaml" >/dev/null
	reconcile
	[ "$status" -eq 0 ]
	[[ "$(cond Ready 'gitrepository repo')" == "True Succeeded stored artifact for revision 'main@sha1:"* ]]
	[ "$(cond FetchFailed 'gitrepository repo')" = none ]
}

@test "a source Secret that cannot be read sets Ready=False AuthenticationFailed" {
	apply_flux
	sed -i 's/^    branch: main$/    branch: main\n  secretRef:\n    name: no-such-secret/' "$T/flux.yaml"
	$K apply --server-side -f "$T/flux.yaml" >/dev/null
	reconcile
	[ "$status" -eq 1 ]
	[[ "$(cond Ready 'gitrepository repo')" == "False AuthenticationFailed cannot get source Secret 'default/no-such-secret'"* ]]
	[[ "$(cond FetchFailed 'gitrepository repo')" == "True AuthenticationFailed "* ]]
}

@test "reconcile.fluxcd.io/requestedAt on the GitRepository is answered in its status" {
	apply_flux
	$K annotate gitrepository repo reconcile.fluxcd.io/requestedAt=ci-42 >/dev/null
	reconcile
	[ "$status" -eq 0 ]
	[ "$(gr_status 's["lastHandledReconcileAt"]')" = ci-42 ]
	# kept when the annotation goes
	$K annotate gitrepository repo reconcile.fluxcd.io/requestedAt- >/dev/null
	ctl_post /reset
	reconcile
	[ "$status" -eq 0 ]
	[ "$(gr_status 's["lastHandledReconcileAt"]')" = ci-42 ]
	refute eval "requests | grep -q 'PATCH .*/gitrepositories/.*/status'"
}

@test "local mode writes no GitRepository status" {
	apply_flux
	reconcile --config "$T/flux.yaml"
	[ "$status" -eq 0 ]
	refute eval "requests | grep -q 'PATCH .*/gitrepositories/.*/status'"
	[ "$(gr_status '"conditions" in s')" = False ]
}

@test "a password in the GitRepository's URL stays out of its status" {
	apply_flux
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	sed -i "s|url: file://$REPO|url: https://git:sotto-url-password-77@127.0.0.1:$port/repo.git|" "$T/flux.yaml"
	$K apply --server-side -f "$T/flux.yaml" >/dev/null
	ctl_post /reset
	reconcile
	[ "$status" -eq 1 ]
	cond Ready "gitrepository repo" >&2	# shown when the test fails
	[[ "$(cond Ready 'gitrepository repo')" == "False GitOperationFailed failed to fetch: "* ]]
	ctl_get /bodies >"$T/bodies"
	grep -qa GitOperationFailed "$T/bodies"
	refute grep -qa sotto-url-password-77 "$T/bodies"
	refute grep -q sotto-url-password-77 "$T/all-logs"
}

@test "--concurrent N: N workers apply every Kustomization; a bad N is a usage error" {
	apply_flux
	for n in 1 2 3 4 5 6; do
		sed -e "s/^  name: app\$/  name: app$n/" "$T/flux.yaml" |
		    awk '/^kind: Kustomization/{k=1} k' |
		    sed -e '1i apiVersion: kustomize.toolkit.fluxcd.io/v1' \
		    -e "s|^  path: ./app\$|  path: ./app\\n  targetNamespace: t$n|" >"$T/app$n.yaml"
		$K apply --server-side -f "$T/app$n.yaml" >/dev/null
	done
	reconcile --concurrent 3
	[ "$status" -eq 0 ]
	grep -q '"msg":"reconciler started (cluster mode, field manager sotto, 3 workers)"' "$T/err"
	for n in 1 2 3 4 5 6; do
		[ "$($K -n t$n get configmap app-config -o jsonpath='{.data.color}')" = blue ]
	done
	# one fetch for the seven
	[ "$(grep -c 'GitRepository default/repo: stored artifact' "$T/err")" -eq 1 ]
	assert_no_leak
	for bad in 0 65 x 4x ''; do
		run_io "$SOTTO" reconcile --once --concurrent "$bad"
		[ "$status" -eq 2 ]
		assert_err "sotto: error: --concurrent '$bad': want a number from 1 to 64"
	done
}
