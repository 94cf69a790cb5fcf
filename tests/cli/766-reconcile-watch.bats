#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# `sotto reconcile` watches its Flux objects between passes (issue #8:
# "list/watch via libcurl"): a spec change, an added Kustomization or
# `flux reconcile`'s reconcile.fluxcd.io/requestedAt annotation is
# reconciled at once, long before the 10 minute interval; the agent's own
# status writes do not wake it; 410 Gone means a LIST again; SIGTERM ends
# the watch.  The stand-in ends each watch after 5 s, so resuming from the
# last resourceVersion is exercised too.

load helpers
load kube_helpers

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start --watch-max 5 --bookmark-interval 1
	kube_fixture app app2
	for d in app app2; do
		printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s-config\ndata:\n  color: blue\n' \
		    "$d" >"$REPO/$d/cm.yaml"
		printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: default\nresources:\n  - cm.yaml\n' \
		    >"$REPO/$d/kustomization.yaml"
	done
	commit initial
	apply_flux app
}

teardown() {
	if [ -n "${AGENT:-}" ] && kill -0 "$AGENT" 2>/dev/null; then
		kill -KILL "$AGENT" 2>/dev/null || true
		wait "$AGENT" 2>/dev/null || true
	fi
	standin_stop
}

apply_flux() { # NAME [extra Kustomization spec lines]
	cat >"$T/flux-$1.yaml" <<Y
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
  name: $1
  namespace: default
spec:
  interval: 10m
  path: ./app
  prune: true
  sourceRef:
    kind: GitRepository
    name: repo
  decryption:
    provider: sops
    secretRef:
      name: sops-age
${2:-}
Y
	$K apply --server-side -f "$T/flux-$1.yaml" >/dev/null
}

# wait_for CMD...: until CMD succeeds, for at most 20 s
wait_for() {
	local i
	for i in $(seq 1 100); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

log_has() { grep -q "$1" "$T/agent.err"; }
log_count() { grep -c "$1" "$T/agent.err" || true; }

# The agent with a 10 minute interval: anything it does after its first
# pass within these tests was started by the watch.  The watch resumes
# from the resourceVersion of the pass's LIST, so changes made as soon as
# the pass has finished are seen even before the stream is connected.
start_agent() {
	"$SOTTO" reconcile --allow-file-sources --cache-dir "$T/cache" --interval 10m \
	    --poll-interval 0.2s "$@" 2>"$T/agent.err" &
	AGENT=$!
	wait_for log_has '"msg":"pass finished'
}

ks_field() { # KUSTOMIZATION JSONPATH
	$K get kustomization "$1" -o jsonpath="$2"
}

gr_field() { # JSONPATH of GitRepository repo
	$K get gitrepository repo -o jsonpath="$1"
}

@test "a spec change is reconciled at once, without a full pass" {
	start_agent
	$K get configmap app-config >/dev/null
	$K patch kustomization app --type=merge -p '{"spec":{"path":"./app2"}}' >/dev/null
	wait_for eval '$K get configmap app2-config >/dev/null 2>&1'
	wait_for eval '[ "$(ks_field app "{.status.observedGeneration}")" = 2 ]'
	log_has '"msg":"Kustomization changed (generation 2)","kustomization":"default/app"'
	# pruned with the old path, by the watch's reconcile: one pass only
	run $K get configmap app-config
	[ "$status" -eq 1 ]
	[ "$(log_count '"msg":"pass finished')" -eq 1 ]
	# the stand-in logs a watch when it ends (after 5 s)
	wait_for eval "ctl_get /log | grep -q '\"path\": \"/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations\", \"query\": \"watch=1&resourceVersion=[0-9]*&allowWatchBookmarks=true&timeoutSeconds=[0-9]*\"'"
	ctl_get /log | grep -q '"path": "/apis/source.toolkit.fluxcd.io/v1/gitrepositories", "query": "watch=1&resourceVersion=[0-9]*&allowWatchBookmarks=true&timeoutSeconds=[0-9]*"'
}

@test "reconcile.fluxcd.io/requestedAt triggers a reconcile and is recorded" {
	start_agent
	$K delete configmap app-config >/dev/null
	$K annotate kustomization app --overwrite \
	    reconcile.fluxcd.io/requestedAt=2026-11-26T01:02:03.456Z >/dev/null
	wait_for eval '[ "$(ks_field app "{.status.lastHandledReconcileAt}")" = 2026-11-26T01:02:03.456Z ]'
	# the reconcile it triggered restored the deleted object
	$K get configmap app-config >/dev/null
	log_has '"msg":"Kustomization reconcile requested at 2026-11-26T01:02:03.456Z","kustomization":"default/app"'
	[ "$(log_count '"msg":"pass finished')" -eq 1 ]
}

@test "the agent's own status writes do not wake it" {
	start_agent
	$K annotate kustomization app --overwrite \
	    reconcile.fluxcd.io/requestedAt=one >/dev/null
	wait_for eval '[ "$(ks_field app "{.status.lastHandledReconcileAt}")" = one ]'
	n=$(log_count 'server-side apply completed')
	ctl_post /reset
	sleep 4		# an idle window: watches come and go (5 s each)
	# (core Events of the reconcile above may still be on their way)
	ctl_get /log >"$T/all.log"
	grep -v '"path": "/api/v1/namespaces/default/events' "$T/all.log" >"$T/idle.log" || true
	refute grep -q '"method": "PATCH"' "$T/idle.log"
	refute grep -q '"method": "POST"' "$T/idle.log"
	refute grep -q '"method": "PUT"' "$T/idle.log"
	[ "$(log_count 'server-side apply completed')" -eq "$n" ]
	[ "$(log_count '"msg":"pass finished')" -eq 1 ]
}

@test "requestedAt on the GitRepository is answered in its status, and its own writes wake nothing" {
	start_agent
	[ "$(gr_field '{.status.conditions[?(@.type=="Ready")].reason}')" = Succeeded ]
	$K annotate gitrepository repo --overwrite \
	    reconcile.fluxcd.io/requestedAt=2026-11-26T02:03:04Z >/dev/null
	wait_for eval '[ "$(gr_field "{.status.lastHandledReconcileAt}")" = 2026-11-26T02:03:04Z ]'
	log_has '"msg":"GitRepository default/repo reconcile requested at 2026-11-26T02:03:04Z"'
	wait_for eval '[ "$(log_count "\"msg\":\"pass finished")" -eq 2 ]'
	# that status write (a MODIFIED event on gitrepositories) starts nothing
	ctl_post /reset
	sleep 4
	ctl_get /log >"$T/all.log"
	grep -v '"path": "/api/v1/namespaces/default/events' "$T/all.log" >"$T/idle.log" || true
	refute grep -q '"method": "PATCH"' "$T/idle.log"
	[ "$(log_count '"msg":"pass finished')" -eq 2 ]
	[ "$(gr_field '{.status.observedGeneration}')" = 1 ]
}

@test "an added Kustomization is reconciled; a GitRepository change starts a full pass" {
	start_agent
	apply_flux other "  targetNamespace: other"
	wait_for eval '$K -n other get configmap app-config >/dev/null 2>&1'
	log_has '"msg":"Kustomization added (generation 1)","kustomization":"default/other"'
	[ "$(log_count '"msg":"pass finished')" -eq 1 ]
	$K patch gitrepository repo --type=merge -p '{"spec":{"interval":"2m"}}' >/dev/null
	wait_for eval '[ "$(log_count "\"msg\":\"pass finished")" -eq 2 ]'
	log_has '"msg":"GitRepository default/repo changed (generation 2)"'
}

@test "a suspended Kustomization records requestedAt but is not applied" {
	start_agent
	$K patch kustomization app --type=merge -p '{"spec":{"suspend":true}}' >/dev/null
	wait_for eval '[ "$(log_count "reconciliation is suspended")" -ge 1 ]'
	$K delete configmap app-config >/dev/null
	$K annotate kustomization app --overwrite \
	    reconcile.fluxcd.io/requestedAt=while-suspended >/dev/null
	wait_for eval '[ "$(ks_field app "{.status.lastHandledReconcileAt}")" = while-suspended ]'
	[ "$(log_count "reconciliation is suspended")" -eq 2 ]
	run $K get configmap app-config
	[ "$status" -eq 1 ]
}

@test "after 410 Gone the agent lists again and still sees a change" {
	start_agent
	ctl_post /compact
	wait_for log_has "too old resource version.*listing again"
	$K patch kustomization app --type=merge -p '{"spec":{"path":"./app2"}}' >/dev/null
	wait_for eval '$K get configmap app2-config >/dev/null 2>&1'
	[ "$(log_count '"msg":"pass finished')" -eq 1 ]
}

@test "--once records requestedAt too, and does not watch" {
	$K annotate kustomization app --overwrite \
	    reconcile.fluxcd.io/requestedAt=from-ci >/dev/null
	run_io "$SOTTO" reconcile --allow-file-sources --once --cache-dir "$T/cache"
	[ "$status" -eq 0 ]
	[ "$(ks_field app "{.status.lastHandledReconcileAt}")" = from-ci ]
	refute eval "ctl_get /log | grep -q 'watch=1'"
}

@test "SIGTERM while watching exits 0 at once" {
	start_agent
	kill -TERM "$AGENT"
	wait_for eval '! kill -0 "$AGENT" 2>/dev/null'
	s=0
	wait "$AGENT" || s=$?
	AGENT=
	[ "$s" -eq 0 ]
	log_has '"msg":"stopping on signal"'
}

@test "each Kustomization runs on its own schedule: retryInterval after a failure" {
	# "late" points at a path git does not have yet: ArtifactFailed, retried
	# every retryInterval (1s) with the artifact it has; "app" succeeded
	# and waits for its 10m interval.  As with Flux, a new commit is seen
	# when the GitRepository is fetched again: on its interval (1m), or
	# at once on `flux reconcile source git` (requestedAt).
	cat >"$T/late.yaml" <<Y
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: late
  namespace: default
spec:
  interval: 10m
  retryInterval: 1s
  path: ./late
  prune: true
  sourceRef:
    kind: GitRepository
    name: repo
Y
	$K apply --server-side -f "$T/late.yaml" >/dev/null
	"$SOTTO" reconcile --allow-file-sources --cache-dir "$T/cache" 2>"$T/agent.err" &
	AGENT=$!
	wait_for eval '[ "$(ks_field late "{.status.conditions[?(@.type==\"Ready\")].reason}")" = ArtifactFailed ]'
	wait_for eval '[ "$(log_count "ArtifactFailed: kustomization path not found: late")" -ge 3 ]'
	# app was applied once: its 10m interval is not up; one fetch so far
	[ "$(grep -c '"msg":"server-side apply completed.*"kustomization":"default/app"' "$T/agent.err")" -eq 1 ]
	[ "$(log_count 'GitRepository default/repo: stored artifact')" -eq 1 ]
	mkdir -p "$REPO/late"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: late-config\n  namespace: default\ndata:\n  k: v\n' >"$REPO/late/cm.yaml"
	commit late
	$K annotate gitrepository repo --overwrite \
	    reconcile.fluxcd.io/requestedAt=after-late >/dev/null
	wait_for eval '$K get configmap late-config >/dev/null 2>&1'
	wait_for eval '[ "$(ks_field late "{.status.conditions[?(@.type==\"Ready\")].status}")" = True ]'
	rev=main@sha1:$(git -C "$REPO" rev-parse HEAD)
	[ "$(gr_field '{.status.artifact.revision}')" = "$rev" ]
	[ "$(ks_field late '{.status.lastAppliedRevision}')" = "$rev" ]
	# the new revision reconciles every Kustomization of the source
	wait_for eval '[ "$(ks_field app "{.status.lastAppliedRevision}")" = "$rev" ]'
	kill -TERM "$AGENT"
	wait "$AGENT"
}

@test "a GitRepository is fetched on its own spec.interval; a new revision is applied" {
	$K patch gitrepository repo --type=merge -p '{"spec":{"interval":"1s"}}' >/dev/null
	"$SOTTO" reconcile --allow-file-sources --cache-dir "$T/cache" 2>"$T/agent.err" &
	AGENT=$!
	wait_for log_has '"msg":"pass finished'
	rev1=$(gr_field '{.status.artifact.revision}')
	[ "$(ks_field app '{.status.lastAppliedRevision}')" = "$rev1" ]
	sed -i 's/color: blue/color: red/' "$REPO/app/cm.yaml"
	commit red
	rev=main@sha1:$(git -C "$REPO" rev-parse HEAD)
	# no annotation, no spec change: the source's interval finds it
	wait_for eval '[ "$($K get configmap app-config -o jsonpath={.data.color})" = red ]'
	[ "$(gr_field '{.status.artifact.revision}')" = "$rev" ]
	wait_for eval '[ "$(ks_field app "{.status.lastAppliedRevision}")" = "$rev" ]'
	# fetched again and again; an unchanged artifact reconciles nothing:
	# applied twice (its 10m interval otherwise)
	wait_for eval '[ "$(log_count "GitRepository default/repo: unchanged artifact")" -ge 2 ]'
	[ "$(grep -c '"msg":"server-side apply completed.*"kustomization":"default/app"' "$T/agent.err")" -eq 2 ]
	kill -TERM "$AGENT"
	wait "$AGENT"
}

@test "requestedAt and spec edits are not lost while another Kustomization runs every second" {
	# issue 15 (b): each pass LISTs the Kustomizations; a change the LIST
	# shows must still be reconciled, not only remembered as seen
	apply_flux fast "  targetNamespace: other"
	$K patch kustomization fast --type=merge -p '{"spec":{"interval":"1s"}}' >/dev/null
	"$SOTTO" reconcile --allow-file-sources --cache-dir "$T/cache" 2>"$T/agent.err" &
	AGENT=$!
	wait_for log_has '"msg":"pass finished'
	for n in 1 2 3; do
		$K annotate kustomization app --overwrite \
		    reconcile.fluxcd.io/requestedAt=req-$n >/dev/null
		wait_for eval "[ \"\$(ks_field app '{.status.lastHandledReconcileAt}')\" = req-$n ]"
		sleep 0.$((n * 3))
	done
	$K patch kustomization app --type=merge -p '{"spec":{"path":"./app2"}}' >/dev/null
	wait_for eval '[ "$(ks_field app "{.status.observedGeneration}")" = 2 ]'
	wait_for eval '$K get configmap app2-config >/dev/null 2>&1'
	[ "$(log_count '"msg":"pass finished')" -ge 3 ]
	kill -TERM "$AGENT"
	wait "$AGENT"
}
