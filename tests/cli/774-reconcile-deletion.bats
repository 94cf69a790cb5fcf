#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Deleting a Kustomization (issue 15): Flux's finalizer
# finalizers.fluxcd.io is added on the first reconcile; when the object is
# deleted the agent garbage-collects its inventory per spec.deletionPolicy
# (MirrorPrune follows spec.prune, Delete, WaitForTermination, Orphan),
# then removes the finalizer and the API server deletes the object.  The
# API stand-in keeps a deleted object with finalizers as the API server
# does (deletionTimestamp set, generation bumped); objects are made and
# deleted with real kubectl.

load helpers
load kube_helpers

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start
	kube_fixture app
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  color: blue\n' \
	    >"$REPO/app/cm.yaml"
	printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: default\nresources:\n  - cm.yaml\n' \
	    >"$REPO/app/kustomization.yaml"
	commit initial
}

teardown() {
	if [ -n "${AGENT:-}" ] && kill -0 "$AGENT" 2>/dev/null; then
		kill -KILL "$AGENT" 2>/dev/null || true
		wait "$AGENT" 2>/dev/null || true
	fi
	standin_stop
}

apply_flux() { # PRUNE [extra Kustomization spec lines]
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
  prune: $1
  sourceRef:
    kind: GitRepository
    name: repo
${2:-}
Y
	$K apply --server-side -f "$T/flux.yaml" >/dev/null
}

reconcile() {
	run_io "$SOTTO" reconcile --allow-file-sources --once --cache-dir "$T/cache" \
	    --poll-interval 0.2s "$@"
}

# applies, checks the finalizer, deletes without waiting: the object stays
applied_then_deleted() {
	reconcile
	[ "$status" -eq 0 ]
	$K get configmap app-config >/dev/null
	[ "$($K get kustomization app -o jsonpath='{.metadata.finalizers}')" = '["finalizers.fluxcd.io"]' ]
	$K delete kustomization app --wait=false >/dev/null
	[ -n "$($K get kustomization app -o jsonpath='{.metadata.deletionTimestamp}')" ]
}

gone() { # KIND NAME
	run $K get "$1" "$2"
	[ "$status" -eq 1 ]
	[[ "$output" == *"NotFound"* || "$output" == *"not found"* ]]
}

@test "finalizer added first; deleting with prune: true deletes the inventory, then the object" {
	apply_flux true
	applied_then_deleted
	ctl_post /reset
	reconcile
	[ "$status" -eq 0 ]
	gone configmap app-config
	gone kustomization app
	grep -q '"msg":"finalizer finalizers.fluxcd.io removed","kustomization":"default/app"' "$T/err"
	# the finalizer went with a merge patch of the list
	ctl_get /log | grep -q '"method": "DELETE", "path": "/api/v1/namespaces/default/configmaps/app-config"'
	ctl_get /log | grep -q '"method": "PATCH", "path": "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/default/kustomizations/app", "query": "fieldManager=sotto", "content_type": "application/merge-patch+json"'
	# the GitRepository stays
	$K get gitrepository repo >/dev/null
}

@test "MirrorPrune with prune: false keeps the objects; Orphan keeps them with prune: true" {
	apply_flux false
	applied_then_deleted
	reconcile
	[ "$status" -eq 0 ]
	gone kustomization app
	$K get configmap app-config >/dev/null
	grep -q '"msg":"being deleted: objects kept (deletionPolicy MirrorPrune)"' "$T/err"
	$K delete configmap app-config >/dev/null
	apply_flux true "  deletionPolicy: Orphan"
	applied_then_deleted
	reconcile
	[ "$status" -eq 0 ]
	gone kustomization app
	$K get configmap app-config >/dev/null
	grep -q '"msg":"being deleted: objects kept (deletionPolicy Orphan)"' "$T/err"
}

@test "Delete and WaitForTermination delete the inventory even with prune: false" {
	for policy in Delete WaitForTermination; do
		apply_flux false "  deletionPolicy: $policy"
		applied_then_deleted
		reconcile
		[ "$status" -eq 0 ]
		gone configmap app-config
		gone kustomization app
	done
}

@test "a suspended Kustomization being deleted keeps its objects" {
	apply_flux true
	reconcile
	[ "$status" -eq 0 ]
	$K patch kustomization app --type=merge -p '{"spec":{"suspend":true}}' >/dev/null
	$K delete kustomization app --wait=false >/dev/null
	reconcile
	[ "$status" -eq 0 ]
	gone kustomization app
	$K get configmap app-config >/dev/null
	grep -q '"msg":"being deleted: objects kept (deletionPolicy MirrorPrune, suspended)"' "$T/err"
}

@test "an unknown deletionPolicy is Stalled with the field named" {
	apply_flux true "  deletionPolicy: Shred"
	reconcile
	[ "$status" -eq 1 ]
	run $K get kustomization app -o jsonpath='{.status.conditions[?(@.type=="Stalled")].reason} {.status.conditions[?(@.type=="Stalled")].message}'
	[ "$output" = "InvalidSpec spec.deletionPolicy 'Shred': must be one of MirrorPrune, Delete, WaitForTermination, Orphan" ]
	gone configmap app-config
}

@test "the agent running: kubectl delete --wait returns once the inventory is gone" {
	apply_flux true
	"$SOTTO" reconcile --allow-file-sources --cache-dir "$T/cache" --interval 10m \
	    --poll-interval 0.2s 2>"$T/agent.err" &
	AGENT=$!
	for i in $(seq 1 100); do
		grep -q '"msg":"pass finished' "$T/agent.err" && break
		sleep 0.2
	done
	$K get configmap app-config >/dev/null
	timeout 30 $K delete kustomization app --timeout=25s >/dev/null
	gone kustomization app
	gone configmap app-config
	# one pass only: the watch saw the deletion
	[ "$(grep -c '"msg":"pass finished' "$T/agent.err")" -le 2 ]
	kill -TERM "$AGENT"
	wait "$AGENT"
	AGENT=
}

@test "GitRepository: finalizer added first; deleting it removes the checkout, then the finalizer" {
	apply_flux true
	reconcile
	[ "$status" -eq 0 ]
	[ "$($K get gitrepository repo -o jsonpath='{.metadata.finalizers}')" = '["finalizers.fluxcd.io"]' ]
	ls -d "$T"/cache/default_repo_* >/dev/null
	$K delete gitrepository repo --wait=false >/dev/null
	[ -n "$($K get gitrepository repo -o jsonpath='{.metadata.deletionTimestamp}')" ]
	reconcile
	[ "$status" -eq 1 ]	# the Kustomization lost its source
	gone gitrepository repo
	grep -q '"msg":"GitRepository default/repo: garbage collected artifacts for deleted resource"' "$T/err"
	grep -q '"msg":"GitRepository default/repo: finalizer finalizers.fluxcd.io removed"' "$T/err"
	refute ls -d "$T"/cache/default_repo_*
	# what it applied stays: a source going away prunes nothing
	$K get configmap app-config >/dev/null
	run $K get kustomization app -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'
	[ "$output" = False ]
}

@test "GitRepository: kubectl delete --wait returns while the agent runs" {
	apply_flux true
	"$SOTTO" reconcile --allow-file-sources --cache-dir "$T/cache" --interval 10m \
	    --poll-interval 0.2s 2>"$T/agent.err" &
	AGENT=$!
	for i in $(seq 1 100); do
		grep -q '"msg":"pass finished' "$T/agent.err" && break
		sleep 0.2
	done
	[ "$($K get gitrepository repo -o jsonpath='{.metadata.finalizers}')" = '["finalizers.fluxcd.io"]' ]
	timeout 30 $K delete gitrepository repo --timeout=25s >/dev/null
	gone gitrepository repo
	kill -TERM "$AGENT"
	wait "$AGENT" || true
	AGENT=
}
