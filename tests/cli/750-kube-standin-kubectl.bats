#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The API stand-in checked with the real kubectl (kube-api-standin.md §3):
# if one of these fails after a kubectl upgrade, fix the stand-in.

load helpers
load kube_helpers

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start
	cat >"$T/cm.json" <<'JSON'
{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"demo"},"data":{"k":"v1"}}
JSON
	sed 's/"v1"}}/"v2"}}/' "$T/cm.json" >"$T/cm2.json"
}

teardown() {
	standin_stop
}

@test "the stand-in reports server version 1.32 over HTTPS" {
	run $K version -o json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"minor": "32"'* ]]
	grep -q 'server: https://127.0.0.1:' "$KUBECONFIG"
}

@test "kubectl apply --server-side creates then updates an object" {
	run $K apply --server-side -f "$T/cm.json"
	[ "$status" -eq 0 ]
	[ "$output" = "configmap/demo serverside-applied" ]
	run $K apply --server-side -f "$T/cm2.json"
	[ "$status" -eq 0 ]
	run $K get configmap demo -o json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["k"])')" = v2 ]
	ctl_get /log | grep -q '"method": "PATCH".*fieldManager=kubectl.*"content_type": "application/apply-patch+yaml", "status": 201'
}

@test "a second field manager conflicts, --force-conflicts takes over" {
	$K apply --server-side -f "$T/cm.json"
	run $K apply --server-side --field-manager other -f "$T/cm2.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *'Apply failed with 1 conflict: conflict with "kubectl": .data.k'* ]]
	[[ "$output" == *'--force-conflicts'* ]]
	run $K apply --server-side --field-manager other --force-conflicts -f "$T/cm2.json"
	[ "$status" -eq 0 ]
	run $K get configmap demo -o json --show-managed-fields
	[[ "$output" == *'"manager": "other"'* ]]
	[[ "$output" != *'"manager": "kubectl"'* ]]
}

@test "--dry-run=server returns the result without storing it" {
	$K apply --server-side -f "$T/cm.json"
	run $K apply --server-side --dry-run=server -f "$T/cm2.json"
	[ "$status" -eq 0 ]
	[ "$output" = "configmap/demo serverside-applied (server dry run)" ]
	run $K get configmap demo -o jsonpath='{.data.k}'
	[ "$output" = v1 ]
	ctl_get /log | grep -q 'dryRun=All'
}

@test "kubectl get -o json returns the stored object, a missing name is NotFound" {
	$K apply --server-side -f "$T/cm.json"
	run $K get configmap demo -o json
	[ "$status" -eq 0 ]
	printf '%s' "$output" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["kind"] == "ConfigMap" and o["data"] == {"k": "v1"}
m = o["metadata"]
assert m["namespace"] == "default" and m["uid"] and m["resourceVersion"]
assert m["generation"] == 1 and m["creationTimestamp"]'
	run $K get configmap nope
	[ "$status" -eq 1 ]
	[[ "$output" == *'Error from server (NotFound): configmaps "nope" not found'* ]]
	run $K get configmaps
	[ "$status" -eq 0 ]
	[[ "$output" == *demo* ]]
}

@test "kubectl get --chunk-size follows the stand-in's continue tokens" {
	for i in 1 2 3 4 5; do
		printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c%s"},"data":{"k":"v"}}\n' "$i"
	done >"$T/many.json"
	$K apply --server-side -f "$T/many.json" >/dev/null
	ctl_post /reset
	run $K get configmaps --chunk-size=2 -o name
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'configmap/c%s\n' 1 2 3 4 5 | head -c -1)" ]
	ctl_get /log | python3 -c '
import json, sys
q = [e["query"] for e in map(json.loads, sys.stdin)
     if e["path"] == "/api/v1/namespaces/default/configmaps"]
assert q == ["limit=2&timeout=20s", "continue=2&limit=2&timeout=20s",
            "continue=4&limit=2&timeout=20s"], q'
}

@test "kubectl delete removes the object; a second delete is NotFound" {
	$K apply --server-side -f "$T/cm.json"
	run $K delete configmap demo
	[ "$status" -eq 0 ]
	[ "$output" = 'configmap "demo" deleted' ]
	run $K delete configmap demo
	[ "$status" -eq 1 ]
	[[ "$output" == *NotFound* ]]
	run $K delete configmap demo --ignore-not-found
	[ "$status" -eq 0 ]
}

@test "kubectl delete waits for a delayed deletion" {
	$K apply --server-side -f "$T/cm.json"
	ctl_post "/delete-delay?seconds=1"
	run $K delete configmap demo
	[ "$status" -eq 0 ]
	run $K get configmap demo
	[ "$status" -eq 1 ]
}

@test "Secrets: stringData is folded into data, status subresource patches" {
	cat >"$T/s.json" <<'JSON'
{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"stringData":{"a":"hello"}}
JSON
	run $K apply --server-side -f "$T/s.json"
	[ "$status" -eq 0 ]
	run $K get secret s -o jsonpath='{.data.a}'
	[ "$output" = aGVsbG8= ]
	cat >"$T/ks.json" <<'JSON'
{"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization","metadata":{"name":"app"},"spec":{"interval":"1m","prune":true}}
JSON
	run $K apply --server-side -f "$T/ks.json"
	[ "$status" -eq 0 ]
	run $K patch kustomization app --subresource=status --type=merge -p '{"status":{"observedGeneration":1}}'
	[ "$status" -eq 0 ]
	run $K get kustomization app -o jsonpath='{.status.observedGeneration}'
	[ "$output" = 1 ]
}

@test "kubectl get --watch-only sees a patched Kustomization" {
	cat >"$T/ks.json" <<'JSON'
{"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization","metadata":{"name":"app"},"spec":{"interval":"1m","path":"./a"}}
JSON
	$K apply --server-side -f "$T/ks.json" >/dev/null
	# -v=6 logs the watch request once its response headers are in
	timeout 25 $K get kustomizations --watch-only -v=6 \
	    -o jsonpath='{.metadata.name} {.spec.path}{"\n"}' \
	    >"$T/watch.out" 2>"$T/watch.err" &
	pid=$!
	for i in $(seq 1 100); do
		grep -q 'watch=true.* 200 OK' "$T/watch.err" && break
		sleep 0.2
	done
	grep -q 'kustomizations?resourceVersion=[0-9]*&.*watch=true' "$T/watch.err"
	$K patch kustomization app --type=merge -p '{"spec":{"path":"./b"}}' >/dev/null
	for i in $(seq 1 100); do
		grep -q '^app ./b$' "$T/watch.out" && break
		sleep 0.2
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" || true
	[ "$(cat "$T/watch.out")" = "app ./b" ]
}

@test "a watch resumed from a compacted resourceVersion gets 410 Gone" {
	$K apply --server-side -f "$T/cm.json" >/dev/null
	rv=$($K get configmap demo -o jsonpath='{.metadata.resourceVersion}')
	ctl_post /compact
	port=$(cat "$T/api/port")
	run curl -s --cacert "$T/api/ca.pem" -H "Authorization: Bearer standin-token" \
	    "https://127.0.0.1:$port/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv&timeoutSeconds=5"
	[[ "$output" == '{"type": "ERROR", "object": {'*'"reason": "Expired"'*'"code": 410}}' ]]
}

@test "an immutable field change is 422 Invalid" {
	cat >"$T/im.json" <<'JSON'
{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"im"},"immutable":true,"data":{"k":"v1"}}
JSON
	$K apply --server-side -f "$T/im.json"
	sed 's/"v1"}}/"v2"}}/' "$T/im.json" >"$T/im2.json"
	run $K apply --server-side -f "$T/im2.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *'field is immutable'* ]]
}

@test "requests without the bearer token are refused" {
	port=$(cat "$T/api/port")
	run curl -s --cacert "$T/api/ca.pem" "https://127.0.0.1:$port/api/v1/namespaces/default/configmaps"
	[[ "$output" == *'"code": 401'* ]]
}

@test "deploy/ applies with kubectl apply --server-side -k" {
	run $K apply --server-side -k "$SOTTO_ROOT/deploy"
	[ "$status" -eq 0 ]
	[[ "$output" == *"deployment.apps/sotto-reconcile serverside-applied"* ]]
	run $K -n sotto-system get deployment sotto-reconcile -o jsonpath='{.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem}'
	[ "$output" = true ]
	run $K apply --server-side -f "$SOTTO_ROOT/deploy/example-kustomization.yaml"
	[ "$status" -eq 0 ]
}

@test "deploy/multi-tenant locks the agent down for tenants (issue #14)" {
	run $K apply --server-side -k "$SOTTO_ROOT/deploy/multi-tenant"
	[ "$status" -eq 0 ]
	run $K -n sotto-system get deployment sotto-reconcile -o jsonpath='{.spec.template.spec.containers[0].args}'
	[[ "$output" == *'"--no-cross-namespace-refs"'* ]]
	[[ "$output" == *'"--default-service-account=sotto-tenant"'* ]]
	run $K -n team-a get rolebinding sotto-tenant -o jsonpath='{.roleRef.name} {.subjects[0].name}'
	[ "$output" = "admin sotto-tenant" ]
	# the flags the manifest passes are ones the agent takes
	"$SOTTO" reconcile --help | grep -q -- --no-cross-namespace-refs
	"$SOTTO" reconcile --help | grep -q -- --default-service-account
}

@test "core/v1 Events: create, merge-patch the count, kubectl get events and events" {
	ts=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	cat >"$T/ev.json" <<JSON
{"apiVersion":"v1","kind":"Event","metadata":{"name":"demo.17f0a1","namespace":"default"},
 "involvedObject":{"apiVersion":"v1","kind":"ConfigMap","name":"demo","namespace":"default"},
 "reason":"Tested","message":"a test event","type":"Warning","source":{"component":"bats"},
 "firstTimestamp":"$ts","lastTimestamp":"$ts","count":1}
JSON
	run $K create -f "$T/ev.json"
	[ "$status" -eq 0 ]
	ctl_get /log | grep -q '"method": "POST", "path": "/api/v1/namespaces/default/events".*"status": 201'
	run $K patch event demo.17f0a1 --type merge -p '{"count":3}'
	[ "$status" -eq 0 ]
	run $K get events -n default
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "LAST SEEN"*"TYPE"*"REASON"*"OBJECT"*"MESSAGE" ]]
	[[ "${lines[1]}" == *"Warning "*"Tested "*"configmap/demo "*"a test event" ]]
	run $K get events -n default -o wide
	[[ "$output" == *"bats"* ]]
	run $K events -n default --for configmap/demo
	[ "$status" -eq 0 ]
	[[ "$output" == *"Warning "*"Tested "*"ConfigMap/demo "*"a test event" ]]
	[[ "$output" == *"(x3 over "* ]]
	run $K delete events --all -n default
	[ "$status" -eq 0 ]
	[ -z "$($K get events -n default -o name)" ]
}

@test "finalizers: delete sets deletionTimestamp, the last finalizer removed deletes" {
	cat >"$T/ks.json" <<'JSON'
{"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization","metadata":{"name":"fin","namespace":"default","finalizers":["finalizers.fluxcd.io","example.com/other"]},"spec":{"interval":"1m","prune":true}}
JSON
	$K apply --server-side -f "$T/ks.json" >/dev/null
	[ "$($K get kustomization fin -o jsonpath='{.metadata.generation}')" = 1 ]
	# kubectl's own wait times out: the object stays while finalizers remain
	run $K delete kustomization fin --timeout=2s
	[ "$status" -eq 1 ]
	[[ "$output" == *'kustomization.kustomize.toolkit.fluxcd.io "fin" deleted'* ]]
	[[ "$output" == *"timed out waiting for the condition"* ]]
	run $K get kustomization fin -o json
	[ "$status" -eq 0 ]
	printf '%s' "$output" | python3 -c '
import json, sys
md = json.load(sys.stdin)["metadata"]
assert md["deletionTimestamp"] and md["deletionGracePeriodSeconds"] == 0, md
assert md["generation"] == 2, md   # set generations are bumped
assert md["finalizers"] == ["finalizers.fluxcd.io", "example.com/other"], md'
	# a second delete changes nothing
	ts=$($K get kustomization fin -o jsonpath='{.metadata.deletionTimestamp}')
	$K delete kustomization fin --wait=false >/dev/null
	[ "$($K get kustomization fin -o jsonpath='{.metadata.deletionTimestamp}')" = "$ts" ]
	[ "$($K get kustomization fin -o jsonpath='{.metadata.generation}')" = 2 ]
	# no new finalizer on an object being deleted
	run $K patch kustomization fin --type=json -p '[{"op":"add","path":"/metadata/finalizers/-","value":"late.example.com/x"}]'
	[ "$status" -eq 1 ]
	[[ "$output" == *'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"late.example.com/x"}'* ]]
	# one finalizer removed: still there; the last removed: gone
	$K patch kustomization fin --type=merge -p '{"metadata":{"finalizers":["example.com/other"]}}' >/dev/null
	$K get kustomization fin >/dev/null
	$K patch kustomization fin --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]' >/dev/null
	run $K get kustomization fin
	[ "$status" -eq 1 ]
	[[ "$output" == *'NotFound'* ]]
}

@test "finalizers: a Namespace stays Terminating until its finalized objects go" {
	$K create namespace fin-ns --dry-run=client -o json | $K apply --server-side -f - >/dev/null
	sed -e 's/"name":"fin","namespace":"default"/"name":"held","namespace":"fin-ns"/' \
	    -e 's/"finalizers.fluxcd.io","example.com\/other"/"finalizers.fluxcd.io"/' \
	    >"$T/held.json" <<'JSON'
{"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization","metadata":{"name":"fin","namespace":"default","finalizers":["finalizers.fluxcd.io","example.com/other"]},"spec":{"interval":"1m","prune":true}}
JSON
	$K apply --server-side -f "$T/held.json" >/dev/null
	sed 's/"name":"demo"}/"name":"demo","namespace":"fin-ns"}/' "$T/cm.json" >"$T/cm-ns.json"
	$K apply --server-side -f "$T/cm-ns.json" >/dev/null
	$K delete namespace fin-ns --wait=false >/dev/null
	[ "$($K get namespace fin-ns -o jsonpath='{.status.phase}')" = Terminating ]
	run $K -n fin-ns get configmap demo
	[ "$status" -eq 1 ]
	[ -n "$($K -n fin-ns get kustomization held -o jsonpath='{.metadata.deletionTimestamp}')" ]
	$K -n fin-ns patch kustomization held --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
	run $K get namespace fin-ns
	[ "$status" -eq 1 ]
}
