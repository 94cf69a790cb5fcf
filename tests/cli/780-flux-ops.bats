#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Operating sotto like Flux (issue #20): `sotto controller` (and its alias
# `sotto reconcile` without a kind), `sotto reconcile ks|source git NAME`,
# `sotto get`, `sotto suspend`, `sotto resume` and `sotto events` against
# the API stand-in, a controller running beside them, real kubectl.

load helpers
load kube_helpers

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start --watch-max 5 --bookmark-interval 1
	kube_fixture app
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  color: blue\n' \
	    >"$REPO/app/cm.yaml"
	printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: default\nresources:\n  - cm.yaml\n' \
	    >"$REPO/app/kustomization.yaml"
	commit initial
	REV="main@sha1:$(git -C "$REPO" rev-parse HEAD)"
	cat >"$T/flux.yaml" <<Y
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: repo
  namespace: default
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
  namespace: default
spec:
  interval: 10m
  path: ./app
  prune: true
  sourceRef:
    kind: GitRepository
    name: repo
Y
	$K apply --server-side -f "$T/flux.yaml" >/dev/null
}

teardown() {
	if [ -n "${AGENT:-}" ] && kill -0 "$AGENT" 2>/dev/null; then
		kill -KILL "$AGENT" 2>/dev/null || true
		wait "$AGENT" 2>/dev/null || true
	fi
	standin_stop
}

wait_for() {
	local i
	for i in $(seq 1 100); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

log_has() { grep -q "$1" "$T/agent.err"; }

start_controller() {
	"$SOTTO" controller --allow-file-sources --cache-dir "$T/cache" --interval 10m \
	    --poll-interval 0.2s "$@" 2>"$T/agent.err" &
	AGENT=$!
	wait_for log_has '"msg":"pass finished'
}

@test "sotto controller --once is the agent; reconcile without a kind stays its alias" {
	run_io "$SOTTO" controller --allow-file-sources --once --cache-dir "$T/cache"
	[ "$status" -eq 0 ]
	$K get configmap app-config >/dev/null
	$K delete configmap app-config >/dev/null
	run_io "$SOTTO" reconcile --allow-file-sources --once --cache-dir "$T/cache"
	[ "$status" -eq 0 ]
	$K get configmap app-config >/dev/null
	run_io "$SOTTO" controller --help
	[ "$status" -eq 0 ]
	[[ "$out" == "usage: sotto controller [--once]"* ]]
	run_io "$SOTTO" help
	[[ "$out" == *"    controller     in-cluster agent"* ]]
}

@test "reconcile ks NAME annotates, waits and prints the applied revision" {
	start_controller
	run_io timeout 60 "$SOTTO" reconcile ks app -n default --timeout 30s
	[ "$status" -eq 0 ]
	[ "$out" = "" ]
	[ "$(sed -n 1p "$T/err")" = "► annotating Kustomization app in default namespace" ]
	[ "$(sed -n 2p "$T/err")" = "✔ Kustomization annotated" ]
	[ "$(sed -n 3p "$T/err")" = "◎ waiting for Kustomization reconciliation" ]
	[ "$(sed -n 4p "$T/err")" = "✔ applied revision $REV" ]
	req=$($K get ks app -o jsonpath='{.metadata.annotations.reconcile\.fluxcd\.io/requestedAt}')
	[ "$($K get ks app -o jsonpath='{.status.lastHandledReconcileAt}')" = "$req" ]
}

@test "reconcile ks --with-source reconciles the GitRepository first; reconcile source git" {
	start_controller
	run_io timeout 60 "$SOTTO" reconcile kustomization app --with-source --timeout 30s
	[ "$status" -eq 0 ]
	[ "$(cat "$T/err")" = "► annotating GitRepository repo in default namespace
✔ GitRepository annotated
◎ waiting for GitRepository reconciliation
✔ fetched revision $REV
► annotating Kustomization app in default namespace
✔ Kustomization annotated
◎ waiting for Kustomization reconciliation
✔ applied revision $REV" ]
}

@test "reconcile fails with the Ready message, on timeout, for a missing or suspended object" {
	run_io "$SOTTO" reconcile ks nope
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: Kustomization 'default/nope' not found" ]
	# no controller: the wait times out
	run_io timeout 60 "$SOTTO" reconcile ks app --timeout 1s
	[ "$status" -eq 1 ]
	[ "$(tail -1 "$T/err")" = "✗ timed out after 1s waiting for Kustomization 'default/app' to be reconciled (is the controller running?)" ]
	start_controller
	$K patch ks app --type=merge -p '{"spec":{"path":"./missing"}}' >/dev/null
	run_io timeout 60 "$SOTTO" reconcile ks app --timeout 30s
	[ "$status" -eq 1 ]
	[[ "$(tail -1 "$T/err")" == "✗ "*"missing"* ]]
	$K patch ks app --type=merge -p '{"spec":{"suspend":true}}' >/dev/null
	run_io "$SOTTO" reconcile ks app
	[ "$status" -eq 1 ]
	[ "$err" = "✗ resource is suspended" ]
}

@test "reconcile: usage errors" {
	run_io "$SOTTO" reconcile ks
	[ "$status" -eq 2 ]
	[ "$(head -1 "$T/err")" = "sotto: error: reconcile: name is required" ]
	run_io "$SOTTO" reconcile source helm x
	[ "$status" -eq 2 ]
	[ "$(head -1 "$T/err")" = "sotto: error: reconcile: kind 'source helm' is not served by sotto (kustomization, ks or source git)" ]
	run_io "$SOTTO" reconcile ks 'a/../b'
	[ "$status" -eq 2 ]
	[[ "$err" == "sotto: error: name 'a/../b': "* ]]
	run_io "$SOTTO" reconcile source git repo --with-source
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: --with-source: only for a kustomization" ]
	run_io "$SOTTO" reconcile ks app --timeout soon
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: --timeout 'soon': want a duration like 30s" ]
}

@test "get ks and get sources git print flux's columns" {
	run_io "$SOTTO" get ks
	[ "$status" -eq 0 ]
	[ "$out" = "NAME	REVISION	SUSPENDED	READY	MESSAGE
app 	        	False    	False	waiting to be reconciled" ]
	run_io "$SOTTO" controller --allow-file-sources --once --cache-dir "$T/cache"
	[ "$status" -eq 0 ]
	run_io "$SOTTO" get kustomizations
	[ "$(sed -n 2p "$T/out")" = "$(printf 'app \t%s\tFalse    \tTrue \tApplied revision: %s' "$REV" "$REV")" ]
	run_io "$SOTTO" get ks -A
	[ "$(sed -n 1p "$T/out" | cut -f1-2)" = "NAMESPACE	NAME" ]
	[ "$(sed -n 2p "$T/out" | cut -f1-2)" = "default  	app " ]
	run_io "$SOTTO" get sources git
	[ "$status" -eq 0 ]
	[ "$(sed -n 2p "$T/out")" = "$(printf 'repo\t%s\tFalse    \tTrue \tstored artifact for revision '"'%s'" "$REV" "$REV")" ]
	run_io "$SOTTO" get ks app -o json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["name"])')" = app ]
	run_io "$SOTTO" get ks -o yaml
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$out" | python3 -c 'import yaml,sys; d=yaml.safe_load(sys.stdin); print(d["kind"], d["items"][0]["metadata"]["name"])')" = "List app" ]
	run_io "$SOTTO" get ks -n other
	[ "$status" -eq 0 ]
	[ "$err" = '✗ no Kustomization objects found in "other" namespace' ]
	run_io "$SOTTO" get ks nope
	[ "$status" -eq 1 ]
	[[ "$err" == "sotto: error: cannot get Kustomization 'default/nope' (NotFound): "* ]]
	run_io "$SOTTO" get ks -o wide
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: --output 'wide': want json or yaml" ]
	run_io "$SOTTO" get ks -A -n default
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: --all-namespaces and --namespace are mutually exclusive" ]
	run_io "$SOTTO" get helmreleases
	[ "$status" -eq 2 ]
	[ "$(head -1 "$T/err")" = "sotto: error: get: kind 'helmreleases' is not served by sotto (kustomization, ks or source git)" ]
}

@test "a hostile status message is escaped in the table" {
	run_io "$SOTTO" controller --allow-file-sources --once --cache-dir "$T/cache"
	$K patch ks app --subresource=status --type=merge \
	    -p '{"status":{"conditions":[{"type":"Ready","status":"False","reason":"X","message":"a\u001b[31mred\nb","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}' >/dev/null
	run_io "$SOTTO" get ks
	[ "$status" -eq 0 ]
	[[ "$(sed -n 2p "$T/out")" == *'	a\x1b[31mred\x0ab' ]]
}

@test "suspend sets spec.suspend; resume clears it and waits for the reconcile" {
	start_controller
	run_io "$SOTTO" suspend ks app
	[ "$status" -eq 0 ]
	[ "$err" = "► suspending kustomization app in default namespace
✔ kustomization suspended" ]
	[ "$($K get ks app -o jsonpath='{.spec.suspend}')" = true ]
	run_io "$SOTTO" get ks app
	[ "$(sed -n 2p "$T/out" | cut -f3)" = "True     " ]
	run_io timeout 60 "$SOTTO" resume ks app --timeout 30s
	[ "$status" -eq 0 ]
	[ "$err" = "► resuming kustomization app in default namespace
✔ kustomization resumed
◎ waiting for Kustomization reconciliation
✔ Kustomization reconciliation completed
✔ applied revision $REV" ]
	[ "$($K get ks app -o jsonpath='{.spec.suspend}')" = false ]
	run_io "$SOTTO" suspend source git repo
	[ "$status" -eq 0 ]
	[ "$err" = "► suspending source git repo in default namespace
✔ source git suspended" ]
	run_io "$SOTTO" suspend ks nope
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: Kustomization 'default/nope' not found" ]
	run_io "$SOTTO" suspend
	[ "$status" -eq 2 ]
	[ "$(head -1 "$T/err")" = "sotto: error: suspend: which kind? (kustomization, ks or source git)" ]
}
