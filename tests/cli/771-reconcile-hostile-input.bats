#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The agent under hostile input (issue #14): one tenant's repository holds
# an alias bomb, a doubling kustomization DAG, 10,000-level nesting or a
# 200 MB value (the shapes of 705, from hostile_helpers.bash); another
# tenant's healthy Kustomization comes after it in the same pass.  Each
# pass must end (`timeout` proves it, no test measures speed) with the
# hostile Kustomization not Ready and the renderer's message, and the
# healthy one applied.  The health server must answer while idle clients
# hold connections open.  The hanging git server is in 768.

load helpers
load kube_helpers
load hostile_helpers

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	for ns in tenant-b tenant-c; do
		printf '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"%s"}}\n' "$ns" |
		    $K apply --server-side -f - >/dev/null
	done
	REPO=$T/repo
	git_repo "$REPO" good
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good-config\n  namespace: tenant-c\ndata:\n  k: v\n' \
	    >"$REPO/good/cm.yaml"
}

teardown() {
	standin_stop
}

# config: tenant-b's Kustomization "hostile" on PATH first, then
# tenant-c's "good"; each tenant has its own GitRepository
write_config() { # PATH [TIMEOUT]
	: >"$T/config.yaml"
	for ns in tenant-b tenant-c; do
		cat >>"$T/config.yaml" <<Y
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: repo
  namespace: $ns
spec:
  interval: 1m
  url: file://$REPO
  ref:
    branch: main
Y
	done
	cat >>"$T/config.yaml" <<Y
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: hostile
  namespace: tenant-b
spec:
  interval: 1m
  timeout: ${2:-60s}
  targetNamespace: tenant-b
  path: $1
  prune: true
  sourceRef:
    kind: GitRepository
    name: repo
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: good
  namespace: tenant-c
spec:
  interval: 1m
  path: ./good
  prune: true
  sourceRef:
    kind: GitRepository
    name: repo
Y
}

reconcile() {
	run_io timeout 120 "$SOTTO" reconcile --once --config "$T/config.yaml" \
	    --cache-dir "$T/cache" --allow-file-sources "$@"
}

# "<status> <reason> <message>" of Ready for Kustomization NAME in NS
ready() { # NS NAME
	$K -n "$1" get configmap "sotto-inventory-$2" -o jsonpath='{.data.status}' |
	    python3 -c 'import json,sys; s=json.load(sys.stdin); c=[c for c in s["conditions"] if c["type"]=="Ready"][0]; print(c["status"], c["reason"], c["message"])'
}

assert_good_applied() {
	$K -n tenant-c get configmap good-config >/dev/null
	[[ "$(ready tenant-c good)" == "True ReconciliationSucceeded Applied revision: main@sha1:"* ]]
	# nothing of the hostile tree reached the cluster
	run $K -n tenant-b get configmaps -o name
	[ "$(printf '%s\n' "$output" | grep -vc '^configmap/sotto-inventory-')" -eq 0 ]
}

@test "an alias bomb fails its own Kustomization; the next tenant is applied in the same pass" {
	gen bomb "$REPO/bomb"
	echo 'resources: [bomb.yaml]' >"$REPO/bomb/kustomization.yaml"
	commit bomb
	write_config ./bomb
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready tenant-b hostile)" = "False BuildFailed 'bomb/bomb.yaml' line 8: alias expansion exceeds 67108864 bytes" ]
	assert_good_applied
}

@test "a kustomization DAG that doubles per level ends at the object budget" {
	gen dag "$REPO/dag" 16,prefix
	commit dag
	write_config ./dag/l0
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready tenant-b hostile)" = "False BuildFailed 'dag/l2': rendering exceeds 100000 objects" ]
	assert_good_applied
	# the same DAG without prefixes: kustomize's duplicate-id error
	rm -rf "$REPO/dag"
	gen dag "$REPO/dag" 16
	commit dag2
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready tenant-b hostile)" = "False BuildFailed 'dag/l15/kustomization.yaml': may not add resource with an already registered id: ConfigMap.v1.[noGrp]/cm.[noNs]" ]
	assert_good_applied
}

@test "10,000-level nesting, in a file and as a chain of kustomizations, ends at the depth limits" {
	gen flow "$REPO/flow"
	commit flow
	write_config ./flow
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready tenant-b hostile)" = "False BuildFailed 'flow/deep.yaml' line 5: nesting deeper than 256 levels" ]
	assert_good_applied
	gen chain "$REPO/chain"
	commit chain
	write_config ./chain/d00000
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready tenant-b hostile)" = "False BuildFailed 'chain/d00064': kustomizations nested deeper than 64 levels" ]
	assert_good_applied
}

@test "a 200 MB value is refused on its size" {
	gen big "$REPO/big"
	echo 'resources: [big.yaml]' >"$REPO/big/kustomization.yaml"
	commit big
	write_config ./big
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready tenant-b hostile)" = "False BuildFailed 'big/big.yaml': file size (209715265 bytes) exceeds the render limit (67108864 bytes)" ]
	assert_good_applied
}

@test "60,000 anchors each aliased once are applied (a lookup, not a scan)" {
	gen anchors "$REPO/anchors"
	commit anchors
	write_config ./anchors
	reconcile
	[ "$status" -eq 0 ]
	[ "$($K -n tenant-b get configmap anchors -o jsonpath='{.data.b59999}')" = v59999 ]
	$K -n tenant-c get configmap good-config >/dev/null
}

@test "idle connections to the health server do not block /healthz" {
	commit good
	write_config ./good
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$SOTTO" reconcile --config "$T/config.yaml" --cache-dir "$T/cache" \
	    --allow-file-sources --interval 1s --health-addr "127.0.0.1:$port" \
	    2>"$T/agent.err" &
	pid=$!
	for i in $(seq 1 50); do
		curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
		sleep 0.1
	done
	# 40 clients that connect and never send a byte, held for 20 s
	python3 - "$port" <<'P' &
import socket, sys, time
s = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(40)]
time.sleep(20)
P
	idle=$!
	sleep 1
	# a probe with the kubelet's default 1 s timeout still gets its answer
	run curl -sf -m 1 "http://127.0.0.1:$port/healthz"
	kill $idle 2>/dev/null || true
	kill -TERM $pid
	wait $pid
	[ "$output" = ok ]
}
