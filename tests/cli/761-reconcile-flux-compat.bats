#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# `sotto reconcile` behaves as kustomize-controller where a Flux user's
# repository depends on it (issue #15): spec.force recreations end in a
# true Ready status, spec.timeout and spec.retryInterval default as Flux
# defaults them, and a daemon's watch loses no spec edit or
# reconcile.fluxcd.io/requestedAt while another Kustomization runs on a
# short interval.

load helpers
load kube_helpers

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
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

apply_flux() { # [extra Kustomization spec lines]
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
${1:-}
Y
	$K apply --server-side -f "$T/flux.yaml" >/dev/null
}

reconcile() {
	run_io "$SOTTO" reconcile --allow-file-sources --once --cache-dir "$T/cache" \
	    --poll-interval 0.2s "$@"
}

cond() { # TYPE [OBJECT]: "<status> <reason> <message>"
	$K get ${2:-kustomization app} -o json | python3 -c '
import json, sys
s = json.load(sys.stdin).get("status", {})
c = [c for c in s.get("conditions", []) if c["type"] == sys.argv[1]]
print("%s %s %s" % (c[0]["status"], c[0]["reason"], c[0]["message"]) if c else "none")' "$1"
}

ks_field() { # KUSTOMIZATION JSONPATH
	$K get kustomization "$1" -o jsonpath="$2"
}

write_deployment() { # SELECTOR-LABEL
	cat >"$REPO/app/deploy.yaml" <<Y
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: $1}
  template:
    metadata:
      labels: {app: $1}
    spec:
      containers:
        - name: web
          image: nginx
Y
	grep -q deploy.yaml "$REPO/app/kustomization.yaml" ||
	    printf '  - deploy.yaml\n' >>"$REPO/app/kustomization.yaml"
	commit "selector $1"
}

@test "force: a recreated Deployment ends Ready=True with the new revision" {
	write_deployment web
	apply_flux "  force: true"
	reconcile
	[ "$status" -eq 0 ]
	uid=$($K get deployment web -o jsonpath='{.metadata.uid}')
	write_deployment web2	# spec.selector is immutable
	rev=main@sha1:$(git -C "$REPO" rev-parse HEAD)
	reconcile
	[ "$status" -eq 0 ]
	# recreated: a new object with the new selector
	[ "$($K get deployment web -o jsonpath='{.spec.selector.matchLabels.app}')" = web2 ]
	[ "$($K get deployment web -o jsonpath='{.metadata.uid}')" != "$uid" ]
	[ "$(cond Ready)" = "True ReconciliationSucceeded Applied revision: $rev" ]
	[ "$(ks_field app '{.status.lastAppliedRevision}')" = "$rev" ]
	grep -q '"msg":"Deployment/default/web created"' "$T/err"
}

@test "force: the health checks still run after a recreation" {
	write_deployment web
	apply_flux "  force: true
  wait: true
  timeout: 1s"
	reconcile
	[ "$status" -eq 1 ]	# no controller rolls the Deployment out
	gen=$($K get deployment web -o jsonpath='{.metadata.generation}')
	$K patch deployment web --subresource=status --type=merge -p \
	    "{\"status\":{\"observedGeneration\":$gen,\"replicas\":1,\"updatedReplicas\":1,\"readyReplicas\":1,\"availableReplicas\":1}}" >/dev/null
	reconcile
	[ "$status" -eq 0 ]
	old=$($K get kustomization app -o jsonpath='{.status.lastAppliedRevision}')
	write_deployment web2
	reconcile
	[ "$status" -eq 1 ]
	# the recreated Deployment has no status yet: not healthy
	[ "$(cond Ready)" = "False HealthCheckFailed health check failed after 1s: timeout waiting for: [Deployment/default/web]" ]
	[ "$(ks_field app '{.status.lastAppliedRevision}')" = "$old" ]
}

# the Reconciling message of a new revision names the timeout, as Flux's
progress_timeout() {
	ctl_get /bodies | grep -ao 'Fetching manifests for revision [^"]* with a timeout of [0-9a-z.]*' |
	    sed 's/.* with a timeout of //' | tail -1
}

@test "spec.timeout defaults to the interval less 30s, and to at least 30s" {
	apply_flux	# interval 10m
	reconcile
	[ "$status" -eq 0 ]
	[ "$(progress_timeout)" = 9m30s ]
	# Reconciling is gone once Ready
	[ "$(cond Reconciling)" = none ]
	sed -i 's/^  interval: 10m$/  interval: 45s/' "$T/flux.yaml"
	$K apply --server-side -f "$T/flux.yaml" >/dev/null
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: more\ndata:\n  k: v\n' >"$REPO/app/more.yaml"
	printf '  - more.yaml\n' >>"$REPO/app/kustomization.yaml"
	commit more
	ctl_post /reset
	reconcile
	[ "$status" -eq 0 ]
	[ "$(progress_timeout)" = 30s ]
	# an explicit timeout wins
	apply_flux "  timeout: 2m"
	git -C "$REPO" commit -q --allow-empty -m empty
	ctl_post /reset
	reconcile
	[ "$status" -eq 0 ]
	[ "$(progress_timeout)" = 2m0s ]
}

@test "without spec.retryInterval a failure is retried every interval" {
	apply_flux
	sed -i -e 's/^  interval: 10m$/  interval: 1s/' -e 's|path: ./app|path: ./missing|' "$T/flux.yaml"
	$K apply --server-side -f "$T/flux.yaml" >/dev/null
	"$SOTTO" reconcile --allow-file-sources --cache-dir "$T/cache" 2>"$T/agent.err" &
	AGENT=$!
	for i in $(seq 1 100); do
		[ "$(grep -c 'kustomization path not found: missing' "$T/agent.err")" -ge 3 ] && break
		sleep 0.2
	done
	kill -TERM "$AGENT"
	wait "$AGENT" || true
	AGENT=
	[ "$(grep -c 'kustomization path not found: missing' "$T/agent.err")" -ge 3 ]
	[ "$(cond Ready)" = "False ArtifactFailed kustomization path not found: missing" ]
}
