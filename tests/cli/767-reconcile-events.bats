#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# `sotto reconcile` records Kubernetes Events on the Kustomization as
# Flux's kustomize-controller does (issue #8): the change set (reason
# Progressing), ReconciliationSucceeded on success, a Warning with the
# Ready reason on failure.  A repeat of the same event increments the
# count of the Event already sent (PATCH) instead of creating another.
# Events carry condition texts only: never the canary plaintext or a key.

load helpers
load kube_helpers

CANARY=sotto-canary-events-8f31d

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
  decryption:
    provider: sops
    secretRef:
      name: sops-age
Y
	$K apply --server-side -f "$T/flux.yaml" >/dev/null
}

teardown() {
	[ -n "${AGENT:-}" ] && kill -TERM "$AGENT" 2>/dev/null
	standin_stop
}

reconcile() {
	run_io "$SOTTO" reconcile --allow-file-sources --once --cache-dir "$T/cache" \
	    --poll-interval 0.2s "$@"
	cat "$T/err" >>"$T/all-logs"
}

tamper() {
	python3 - "$REPO/app/secret.enc.yaml" <<'P'
import re, sys
p = sys.argv[1]; s = open(p).read()
m = re.search(r"password: ENC\[AES256_GCM,data:(.)", s)
c = "A" if m.group(1) != "A" else "B"
s = s[:m.start(1)] + c + s[m.end(1):]
open(p, "w").write(s)
P
	commit tampered
}

# "<type> <reason> <count> <message with \n as |>" per Event on a KIND
# (default Kustomization), oldest first
events() { # [KIND]
	$K get events -n default -o json | python3 -c '
import json, sys
items = [e for e in json.load(sys.stdin)["items"]
         if e["involvedObject"]["kind"] == sys.argv[1]]
items.sort(key=lambda e: e["metadata"]["name"].rsplit(".", 1)[1].rjust(20, "0"))
for e in items:
    print("%s %s %d %s" % (e["type"], e["reason"], e["count"], e["message"].replace("\n", "|")))' "${1:-Kustomization}"
}

# a long-running agent: waits for N passes, then SIGTERM
agent_passes() { # N
	"$SOTTO" reconcile --allow-file-sources --cache-dir "$T/cache" --interval 0.3s \
	    --poll-interval 0.2s 2>"$T/err" &
	AGENT=$!
	local i
	for i in $(seq 1 300); do
		[ "$(grep -c 'pass finished' "$T/err")" -ge "$1" ] && break
		sleep 0.1
	done
	kill -TERM "$AGENT"
	wait "$AGENT" || true
	AGENT=
	cat "$T/err" >>"$T/all-logs"
	[ "$(grep -c 'pass finished' "$T/err")" -ge "$1" ]
}

assert_no_leak() {
	refute grep -rq "$CANARY" "$T/all-logs"
	refute grep -rq "$KEY" "$T/all-logs"
	[ -z "$(ls -A "$TMPDIR")" ]
	ctl_get /bodies >"$T/bodies"
	# the bodies scanned include the Events sent
	grep -qa '"kind":"Event"' "$T/bodies"
	refute grep -qa "$CANARY" "$T/bodies"
	refute grep -qa "AGE-SECRET-KEY" "$T/bodies"
	$K get events -n default -o json >"$T/events.json"
	refute grep -q "$CANARY" "$T/events.json"
}

@test "a good pass records the change set and ReconciliationSucceeded" {
	reconcile
	[ "$status" -eq 0 ]
	rev=main@sha1:$(git -C "$REPO" rev-parse HEAD)
	run events
	[ "${lines[0]}" = "Normal Progressing 1 ConfigMap/default/app-config created|Secret/default/creds created" ]
	[ "${lines[1]}" = "Normal ReconciliationSucceeded 1 Reconciliation finished revision $rev, next run in 10m0s" ]
	[ "${#lines[@]}" -eq 2 ]
	ctl_get /log | grep -q '"method": "POST", "path": "/api/v1/namespaces/default/events", "query": "", "content_type": "application/json", "status": 201'
	# the involved object is the Kustomization, with its uid
	uid=$($K get kustomization app -o jsonpath='{.metadata.uid}')
	$K get events -n default -o json | python3 -c '
import json, sys
uid = sys.argv[1]
for e in json.load(sys.stdin)["items"]:
    o = e["involvedObject"]
    if o["kind"] == "GitRepository":
        continue
    assert (o["apiVersion"], o["kind"], o["name"], o["namespace"], o["uid"]) == \
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "app", "default", uid), o
    assert o["resourceVersion"], o
    assert e["source"]["component"] == "sotto", e
    assert e["reportingComponent"] == "sotto" and e["reportingInstance"], e
    assert e["firstTimestamp"] and e["lastTimestamp"], e
    assert e["metadata"]["name"].startswith("app."), e
    assert e["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/revision"].startswith("main@sha1:"), e' "$uid"
	# kubectl's own views of them
	run $K get events -n default
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "LAST SEEN"*"TYPE"*"REASON"*"OBJECT"*"MESSAGE" ]]
	[[ "$output" == *"Normal "*"ReconciliationSucceeded "*"kustomization/app "*"Reconciliation finished revision $rev, next run in 10m0s"* ]]
	run $K events -n default --for kustomization/app
	[ "$status" -eq 0 ]
	[[ "$output" == *"Normal "*"ReconciliationSucceeded "*"Kustomization/app "*"Reconciliation finished"* ]]
	run $K describe kustomization app
	[ "$status" -eq 0 ]
	assert_no_leak
}

@test "a tampered commit records a Warning with the Ready reason" {
	reconcile
	[ "$status" -eq 0 ]
	tamper
	reconcile
	[ "$status" -eq 1 ]
	run events
	[[ "${lines[2]}" == "Warning BuildFailed 1 cannot decrypt 'app/secret.enc.yaml': "* ]]
	[ "${#lines[@]}" -eq 3 ]
	# the same text as the Ready condition
	msg=$($K get kustomization app -o json | python3 -c '
import json, sys
print([c for c in json.load(sys.stdin)["status"]["conditions"] if c["type"] == "Ready"][0]["message"])')
	[ "${lines[2]}" = "Warning BuildFailed 1 $msg" ]
	assert_no_leak
}

@test "repeated passes count on one Event instead of flooding" {
	agent_passes 4
	run events
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "Normal Progressing 1 "* ]]
	[[ "${lines[1]}" =~ ^Normal\ ReconciliationSucceeded\ ([0-9]+)\ Reconciliation\ finished ]]
	[ "${BASH_REMATCH[1]}" -ge 4 ]
	ctl_get /log >"$T/log"
	# two on the Kustomization, one NewArtifact on the GitRepository
	[ "$(grep -c '"method": "POST", "path": "/api/v1/namespaces/default/events"' "$T/log")" -eq 3 ]
	grep -q '"method": "PATCH", "path": "/api/v1/namespaces/default/events/app\.[0-9a-f]*", "query": "", "content_type": "application/merge-patch+json", "status": 200' "$T/log"
	# a failure that persists is one Warning, counted
	tamper
	agent_passes 3
	run events
	n=$(printf '%s\n' "${lines[@]}" | grep -c '^Warning BuildFailed ')
	[ "$n" -eq 1 ]
	[[ "$(printf '%s\n' "${lines[@]}" | grep '^Warning')" =~ ^Warning\ BuildFailed\ ([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -ge 3 ]
	assert_no_leak
}

@test "a GitRepository records NewArtifact once, then a Warning on failure" {
	reconcile
	[ "$status" -eq 0 ]
	rev=main@sha1:$(git -C "$REPO" rev-parse HEAD)
	run events GitRepository
	[ "${lines[0]}" = "Normal NewArtifact 1 stored artifact for commit '$rev'" ]
	[ "${#lines[@]}" -eq 1 ]
	# annotated as source-controller does: revision and digest
	$K get events -n default -o json | python3 -c '
import json, sys
rev, dig = sys.argv[1], sys.argv[2]
ev = [e for e in json.load(sys.stdin)["items"]
      if e["involvedObject"]["kind"] == "GitRepository"]
assert len(ev) == 1, ev
a = ev[0]["metadata"]["annotations"]
assert a["source.toolkit.fluxcd.io/revision"] == rev, a
assert a["source.toolkit.fluxcd.io/digest"] == dig, a
assert ev[0]["involvedObject"]["apiVersion"] == "source.toolkit.fluxcd.io/v1"' \
	    "$rev" "$($K get gitrepository repo -o jsonpath='{.status.artifact.digest}')"
	# nothing new: silent
	reconcile
	[ "$status" -eq 0 ]
	run events GitRepository
	[ "${#lines[@]}" -eq 1 ]
	# a fetch that fails: a Warning with the Ready reason
	$K patch gitrepository repo --type=merge -p \
	    "{\"spec\":{\"url\":\"file://$T/nowhere\"}}" >/dev/null
	reconcile
	[ "$status" -eq 1 ]
	run events GitRepository
	[[ "${lines[1]}" == "Warning GitOperationFailed 1 failed to fetch: "* ]]
	[ "${#lines[@]}" -eq 2 ]
	assert_no_leak
}

@test "an Event that expired is recorded afresh" {
	"$SOTTO" reconcile --allow-file-sources --cache-dir "$T/cache" --interval 0.3s 2>"$T/err" &
	AGENT=$!
	for i in $(seq 1 100); do
		[ "$(grep -c 'pass finished' "$T/err")" -ge 1 ] && break
		sleep 0.1
	done
	# the API server drops Events after their TTL (1 h by default)
	$K delete events --all -n default >/dev/null
	n=$(grep -c 'pass finished' "$T/err")
	for i in $(seq 1 100); do
		[ "$(grep -c 'pass finished' "$T/err")" -ge $((n + 2)) ] && break
		sleep 0.1
	done
	kill -TERM "$AGENT"
	wait "$AGENT" || true
	AGENT=
	run events
	[[ "${lines[0]}" == "Normal ReconciliationSucceeded "* ]]
	[ "${#lines[@]}" -eq 1 ]
	refute grep -q '"level":"warning"' "$T/err"
}

@test "local mode records no Events" {
	cat >"$T/config.yaml" <<Y
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: repo}
spec: {interval: 1m, url: "file://$REPO", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: local}
spec:
  interval: 1m
  path: ./app
  prune: true
  sourceRef: {kind: GitRepository, name: repo}
  decryption: {provider: sops, secretRef: {name: sops-age}}
Y
	reconcile --config "$T/config.yaml"
	[ "$status" -eq 0 ]
	refute eval "ctl_get /log | grep -q '/events'"
	[ -z "$($K get events -n default -o name)" ]
}
