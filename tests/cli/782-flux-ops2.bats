#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Operating sotto like Flux, part two (issue #20): `sotto check` (a
# controller holding the Lease beside the stand-in), `sotto uninstall`
# (key Secrets kept), `sotto tree ks`, `sotto logs` (pods/log of the
# stand-in) and `--watch` of `get` and `events`, with real kubectl.

load helpers
load kube_helpers

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start --watch-max 3 --bookmark-interval 1
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

# install, an available Deployment, and a controller holding the Lease
installed() {
	"$SOTTO" install >/dev/null 2>&1
	$K -n sotto-system patch deployment sotto-reconcile --subresource=status \
	    --type=merge -p '{"status":{"replicas":2,"readyReplicas":2,"availableReplicas":2}}' >/dev/null
	"$SOTTO" controller --leader-elect --lease-namespace sotto-system \
	    --identity pod-a --cache-dir "$T/cache" --poll-interval 0.2s 2>"$T/agent.err" &
	AGENT=$!
	wait_for grep -q 'acquired lease' "$T/agent.err"
}

# the number of permissions the ClusterRole sotto-reconcile of `sotto
# install` grants (rule by rule: groups x resources x verbs x names)
perms() {
	"$SOTTO" install --export --components-only |
	    $K create --dry-run=client -o json -f - | python3 -c '
import json, sys
text, dec, objs, i = sys.stdin.read(), json.JSONDecoder(), [], 0
while text[i:].strip():
    o, i = dec.raw_decode(text, i + len(text[i:]) - len(text[i:].lstrip()))
    objs += o.get("items", [o])
for o in objs:
    if o["kind"] == "ClusterRole":
        print(sum(len(r.get("apiGroups", [])) * len(r.get("resources", [])) *
                  len(r.get("verbs", [])) * max(1, len(r.get("resourceNames", [])))
                  for r in o["rules"]))'
}

secret() { # NAME ARGS...: a Secret in sotto-system
	local n=$1
	shift
	$K -n sotto-system create secret generic "$n" "$@" --dry-run=client -o json |
	    $K apply --server-side -f - >/dev/null
}

@test "install, then check passes: version, clock, controller, leader, crds, permissions" {
	installed
	run_io "$SOTTO" check
	[ "$status" -eq 0 ]
	[ "$out" = "" ]
	n=$(perms)
	cat >"$T/want" <<W
► checking prerequisites
✔ Kubernetes 1.32.4 >=1.22.0-0
✔ clock skew 0s (at most 5s)
► checking controller
✔ sotto-reconcile: deployment ready (2/2 available)
► sotto-agent:0.1.0
✔ leader elected: pod-a (Lease sotto-system/sotto-reconcile)
► checking crds
✔ kustomizations.kustomize.toolkit.fluxcd.io/v1
✔ gitrepositories.source.toolkit.fluxcd.io/v1
► checking permissions
✔ ClusterRole/sotto-reconcile: $n permissions granted to system:serviceaccount:sotto-system:sotto-reconcile
✔ Role/sotto-reconcile-leader: 3 permissions granted to system:serviceaccount:sotto-system:sotto-reconcile
✔ Role/sotto-reconcile-key: 5 permissions granted to system:serviceaccount:sotto-system:sotto-reconcile
✔ all checks passed
W
	# the image line follows deploy/base
	img=$(grep -o 'image: [^ ]*' "$SOTTO_ROOT/deploy/base/deployment.yaml" | cut -d' ' -f2)
	sed -i "s|sotto-agent:0.1.0|$img|" "$T/want"
	diff -u "$T/want" "$T/err"
	# the reviews were made as the controller's ServiceAccount
	ctl_get /log | grep selfsubjectaccessreviews | grep -q '"impersonate_user": "system:serviceaccount:sotto-system:sotto-reconcile"'
	run_io "$SOTTO" check --pre
	[ "$status" -eq 0 ]
	[ "$err" = "$(printf '► checking prerequisites\n✔ Kubernetes 1.32.4 >=1.22.0-0\n✔ prerequisites checks passed')" ]
}

@test "check fails with the fix named: nothing installed" {
	run_io "$SOTTO" check
	[ "$status" -eq 1 ]
	grep -qx "✗ Deployment sotto-system/sotto-reconcile not found (run 'sotto install')" "$T/err"
	grep -qx "✗ CustomResourceDefinition kustomizations.kustomize.toolkit.fluxcd.io not found (run 'sotto install')" "$T/err"
	grep -qx "✗ CustomResourceDefinition gitrepositories.source.toolkit.fluxcd.io not found (run 'sotto install')" "$T/err"
	grep -qx "✗ ClusterRole/sotto-reconcile: none of its $(perms) permissions is granted to system:serviceaccount:sotto-system:sotto-reconcile (run 'sotto install' to restore the ClusterRole and its binding)" "$T/err"
	[ "$(tail -1 "$T/err")" = "✗ check failed" ]
	refute grep -q '^✔ all checks passed' "$T/err"
}

@test "check fails with the fix named: a missing rule, no leader, not ready, clock skew, a newer CRD" {
	installed
	kill -KILL "$AGENT"
	wait "$AGENT" 2>/dev/null || true
	AGENT=
	# the Lease expires: no holder renews it
	$K -n sotto-system patch lease sotto-reconcile --type=merge \
	    -p '{"spec":{"renewTime":"2020-01-01T00:00:00.000000Z"}}' >/dev/null
	$K -n sotto-system patch deployment sotto-reconcile --subresource=status \
	    --type=merge -p '{"status":{"availableReplicas":0}}' >/dev/null
	# the rule granting impersonate, wherever it is
	i=$($K get clusterrole sotto-reconcile -o json | python3 -c '
import json, sys
rules = json.load(sys.stdin)["rules"]
print([n for n, r in enumerate(rules) if "impersonate" in r["verbs"]][0])')
	$K patch clusterrole sotto-reconcile --type=json \
	    -p "[{\"op\":\"remove\",\"path\":\"/rules/$i\"}]" >/dev/null
	$K label crd gitrepositories.source.toolkit.fluxcd.io --overwrite sotto.dev/version=99.0.0 >/dev/null
	ctl_post '/clock?skew=120'
	run_io "$SOTTO" check
	[ "$status" -eq 1 ]
	grep -qx "✗ clock skew 120s: the API server's clock is 120s ahead of this machine's, more than 5s (synchronise both clocks, e.g. with NTP)" "$T/err" ||
	    grep -qx "✗ clock skew 121s: the API server's clock is 121s ahead of this machine's, more than 5s (synchronise both clocks, e.g. with NTP)" "$T/err"
	grep -qx "✗ sotto-reconcile: deployment not ready: 0/2 replicas available (see 'kubectl -n sotto-system describe deployment sotto-reconcile' and 'sotto logs')" "$T/err"
	grep -qx "✗ no leader elected: Lease sotto-system/sotto-reconcile expired (is the controller running? see 'sotto logs')" "$T/err"
	grep -qx "✗ the controller may not impersonate serviceaccounts cluster-wide (run 'sotto install' to restore ClusterRole sotto-reconcile and its binding)" "$T/err"
	grep -qx "✗ gitrepositories.source.toolkit.fluxcd.io was installed by sotto 99.0.0, newer than this sotto ($("$SOTTO" version | head -1 | cut -d' ' -f2)) (upgrade the sotto CLI)" "$T/err"
	grep -qx '✔ kustomizations.kustomize.toolkit.fluxcd.io/v1' "$T/err"
	[ "$(tail -1 "$T/err")" = "✗ check failed" ]
}

@test "check --pre: the Kubernetes version only; an old server fails" {
	ctl_post '/version?git=v1.20.15'
	run_io "$SOTTO" check --pre
	[ "$status" -eq 1 ]
	[ "$err" = "$(printf '► checking prerequisites\n✗ Kubernetes version v1.20.15 does not match >=1.22.0-0 (sotto needs Kubernetes 1.22.0 or later: upgrade the cluster)\n✗ check failed')" ]
	# --pre asked nothing else
	ctl_get /log >"$T/log"
	refute grep -q customresourcedefinitions "$T/log"
	run_io "$SOTTO" check --kubeconfig "$T/missing"
	[ "$status" -eq 1 ]
	[ "$(tail -1 "$T/err")" = "✗ check failed" ]
	run_io "$SOTTO" check extra
	[ "$status" -eq 2 ]
	run_io "$SOTTO" check --bogus
	[ "$status" -eq 2 ]
	run_io "$SOTTO" check --help
	[ "$status" -eq 0 ]
	[[ "$out" == "usage: sotto check "* ]]
}

@test "tree prints the inventory, nested Kustomizations followed" {
	cat >"$T/ks.yaml" <<'Y'
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: root, namespace: default}
spec: {interval: 1m, path: ./, prune: true, sourceRef: {kind: GitRepository, name: repo}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: infra, namespace: default}
spec: {interval: 1m, path: ./infra, prune: true, sourceRef: {kind: GitRepository, name: repo}}
Y
	$K apply --server-side -f "$T/ks.yaml" >/dev/null
	$K patch ks root --subresource=status --type=merge -p '{"status":{"inventory":{"entries":[
	    {"id":"_apps__Namespace","v":"v1"},
	    {"id":"default_root_kustomize.toolkit.fluxcd.io_Kustomization","v":"v1"},
	    {"id":"default_infra_kustomize.toolkit.fluxcd.io_Kustomization","v":"v1"},
	    {"id":"apps_web_apps_Deployment","v":"v1"}]}}}' >/dev/null
	$K patch ks infra --subresource=status --type=merge -p '{"status":{"inventory":{"entries":[
	    {"id":"_cert-manager__Namespace","v":"v1"},
	    {"id":"cert-manager_cm_source.toolkit.fluxcd.io_GitRepository","v":"v1"}]}}}' >/dev/null
	run_io "$SOTTO" tree ks root
	[ "$status" -eq 0 ]
	cat >"$T/want" <<'W'
Kustomization/default/root
├── Namespace/apps
├── Kustomization/default/infra
│   ├── Namespace/cert-manager
│   └── GitRepository/cert-manager/cm
└── Deployment/apps/web
W
	diff -u "$T/want" "$T/out"
	[ "$err" = "" ]
	run_io "$SOTTO" tree kustomization infra -n default
	[ "$status" -eq 0 ]
	[ "$out" = "$(printf 'Kustomization/default/infra\n├── Namespace/cert-manager\n└── GitRepository/cert-manager/cm')" ]
	# no inventory yet: the root alone
	printf 'apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: empty, namespace: default}\nspec: {interval: 1m, path: ./, prune: true, sourceRef: {kind: GitRepository, name: repo}}\n' |
	    $K apply --server-side -f - >/dev/null
	run_io "$SOTTO" tree ks empty
	[ "$status" -eq 0 ]
	[ "$out" = "Kustomization/default/empty" ]
}

@test "tree: errors and exit codes" {
	run_io "$SOTTO" tree ks nope
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: Kustomization 'default/nope' not found" ]
	run_io "$SOTTO" tree ks
	[ "$status" -eq 2 ]
	[ "$(head -1 "$T/err")" = "sotto: error: tree: kustomization name is required" ]
	run_io "$SOTTO" tree helmrelease x
	[ "$status" -eq 2 ]
	[ "$(head -1 "$T/err")" = "sotto: error: tree: kind 'helmrelease' is not served by sotto (kustomization or ks)" ]
	run_io "$SOTTO" tree ks 'Bad/Name'
	[ "$status" -eq 2 ]
	[[ "$(head -1 "$T/err")" == "sotto: error: name 'Bad/Name': "* ]]
	run_io "$SOTTO" tree --help
	[ "$status" -eq 0 ]
	[[ "$out" == "usage: sotto tree "* ]]
}

# a controller Pod in sotto-system whose log is the lines of $T/log.txt
pod_with_log() {
	"$SOTTO" install >/dev/null 2>&1
	printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-a\n  namespace: sotto-system\n  labels: {app.kubernetes.io/name: sotto-reconcile}\nspec:\n  containers: [{name: reconcile, image: x}]\n' |
	    $K apply --server-side -f - >/dev/null
	curl -s -m 10 -X POST --data-binary @"$T/log.txt" \
	    "$CTL/podlog?namespace=sotto-system&name=pod-a" >/dev/null
}

@test "logs: the controller's JSON lines as flux prints them, filtered" {
	cat >"$T/log.txt" <<'L'
{"ts":"2026-01-01T00:00:01Z","level":"info","msg":"reconciler started"}
{"ts":"2026-01-01T00:00:02Z","level":"info","msg":"GitRepository default/repo: stored artifact for revision 'main@sha1:abc'","revision":"main@sha1:abc"}
{"ts":"2026-01-01T00:00:03Z","level":"error","msg":"Kustomization skipped: boom","kustomization":"default/app"}
not a JSON line
{"ts":"2026-01-01T00:00:04Z","level":"info","msg":"server-side apply completed","kustomization":"prod/app","revision":"main@sha1:abc"}
L
	pod_with_log
	run_io "$SOTTO" logs
	[ "$status" -eq 0 ]
	cat >"$T/want" <<'W'
2026-01-01T00:00:01Z info - reconciler started
2026-01-01T00:00:02Z info GitRepository/repo.default - GitRepository default/repo: stored artifact for revision 'main@sha1:abc'
2026-01-01T00:00:03Z error Kustomization/app.default - Kustomization skipped: boom
2026-01-01T00:00:04Z info Kustomization/app.prod - server-side apply completed
W
	diff -u "$T/want" "$T/out"
	run_io "$SOTTO" logs --level error
	[ "$out" = "2026-01-01T00:00:03Z error Kustomization/app.default - Kustomization skipped: boom" ]
	run_io "$SOTTO" logs --kind gitrepository
	[ "$out" = "2026-01-01T00:00:02Z info GitRepository/repo.default - GitRepository default/repo: stored artifact for revision 'main@sha1:abc'" ]
	run_io "$SOTTO" logs --kind Kustomization --name app -n prod
	[ "$out" = "2026-01-01T00:00:04Z info Kustomization/app.prod - server-side apply completed" ]
	run_io "$SOTTO" logs --tail 1
	[ "$out" = "2026-01-01T00:00:04Z info Kustomization/app.prod - server-side apply completed" ]
	ctl_get /log | grep -q '"path": "/api/v1/namespaces/sotto-system/pods/pod-a/log", "query": "tailLines=1"'
	# --follow: a line appended later shows; the stream ends with the server's
	(sleep 1; echo '{"ts":"2026-01-01T00:00:05Z","level":"info","msg":"later","kustomization":"default/app"}' |
	    curl -s -m 10 -X POST --data-binary @- "$CTL/podlog?namespace=sotto-system&name=pod-a" >/dev/null) &
	bg=$!
	run_io timeout 20 "$SOTTO" logs -f --name app -n default
	wait "$bg"
	[ "$status" -eq 0 ]
	[ "$out" = "$(printf '2026-01-01T00:00:03Z error Kustomization/app.default - Kustomization skipped: boom\n2026-01-01T00:00:05Z info Kustomization/app.default - later')" ]
}

@test "logs: errors and exit codes" {
	run_io "$SOTTO" logs
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: no controller found: Deployment 'sotto-system/sotto-reconcile' not found (run 'sotto install', or pass --flux-namespace)" ]
	"$SOTTO" install >/dev/null 2>&1
	run_io "$SOTTO" logs
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: no controller Pods found in namespace 'sotto-system'" ]
	run_io "$SOTTO" logs --level warn
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: --level 'warn': want debug, info or error" ]
	run_io "$SOTTO" logs --tail x
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: --tail 'x': want a number of lines" ]
	run_io "$SOTTO" logs extra
	[ "$status" -eq 2 ]
	run_io "$SOTTO" logs -n a -A
	[ "$status" -eq 2 ]
	run_io "$SOTTO" logs --help
	[ "$status" -eq 0 ]
	[[ "$out" == "usage: sotto logs "* ]]
}

@test "get --watch prints new and changed rows until the watch ends" {
	printf 'apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: app, namespace: default}\nspec: {interval: 1m, path: ./, prune: true, sourceRef: {kind: GitRepository, name: repo}}\n' |
	    $K apply --server-side -f - >/dev/null
	(sleep 1
	 $K patch ks app --subresource=status --type=merge -p '{"status":{"lastAppliedRevision":"main@sha1:def","conditions":[{"type":"Ready","status":"True","reason":"ReconciliationSucceeded","message":"Applied revision: main@sha1:def","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}' >/dev/null
	 # a change no column shows: no row
	 $K annotate ks app a=b >/dev/null) &
	bg=$!
	run_io timeout 20 "$SOTTO" get ks --watch
	wait "$bg"
	[ "$status" -eq 0 ]
	printf 'NAME\tREVISION\tSUSPENDED\tREADY\tMESSAGE\napp\t\tFalse\tFalse\twaiting to be reconciled\napp\tmain@sha1:def\tFalse\tTrue\tApplied revision: main@sha1:def\n' >"$T/want"
	diff -u "$T/want" "$T/out"
	watched() {
		ctl_get /log | grep '"path": "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/default/kustomizations"' |
		    grep -q '"query": "watch=1&timeoutSeconds=1800"'
	}
	wait_for watched
	run_io timeout 20 "$SOTTO" get ks app -w -A
	[ "$status" -eq 0 ]
	[ "$out" = "$(printf 'NAMESPACE\tNAME\tREVISION\tSUSPENDED\tREADY\tMESSAGE\ndefault\tapp\tmain@sha1:def\tFalse\tTrue\tApplied revision: main@sha1:def')" ]
	run_io timeout 20 "$SOTTO" get sources git -w
	[ "$status" -eq 0 ]
	[ "$out" = "" ]
	run_io "$SOTTO" get ks -w -o json
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: --watch and --output are mutually exclusive" ]
}

@test "events --watch prints the Events as they come" {
	ev() { # NAME REASON
		printf '{"apiVersion":"v1","kind":"Event","metadata":{"name":"%s","namespace":"default"},"involvedObject":{"kind":"Kustomization","name":"app","namespace":"default"},"reason":"%s","message":"m %s","type":"Normal","lastTimestamp":"2026-01-01T00:00:00Z"}' "$1" "$2" "$1" |
		    $K apply --server-side -f - >/dev/null
	}
	ev e1 Progressing
	(sleep 1; ev e2 ReconciliationSucceeded) &
	bg=$!
	run_io timeout 20 "$SOTTO" events --watch --for Kustomization/app
	wait "$bg"
	[ "$status" -eq 0 ]
	printf 'LAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE\n2026-01-01T00:00:00Z\tNormal\tProgressing\tKustomization/app\tm e1\n2026-01-01T00:00:00Z\tNormal\tReconciliationSucceeded\tKustomization/app\tm e2\n' >"$T/want"
	diff -u "$T/want" "$T/out"
	run_io timeout 20 "$SOTTO" events -w --for Kustomization/other
	[ "$status" -eq 0 ]
	[ "$out" = "" ]
	run_io "$SOTTO" events -w --for app
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: --for 'app': want Kind/NAME" ]
}

@test "uninstall refuses without a terminal, and --dry-run deletes nothing" {
	"$SOTTO" install >/dev/null 2>&1
	run_io "$SOTTO" uninstall
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: uninstall: refusing to delete without confirmation: stdin is not a terminal (pass --silent)" ]
	$K -n sotto-system get deployment sotto-reconcile >/dev/null
	run_io "$SOTTO" uninstall --dry-run
	[ "$status" -eq 0 ]
	grep -qx '✔ Deployment/sotto-system/sotto-reconcile deleted (dry run)' "$T/err"
	grep -qx '✔ Namespace/sotto-system deleted (dry run)' "$T/err"
	[ "$(tail -1 "$T/err")" = "✔ uninstall finished (dry run)" ]
	$K -n sotto-system get deployment sotto-reconcile >/dev/null
	$K get crd kustomizations.kustomize.toolkit.fluxcd.io >/dev/null
	run_io "$SOTTO" uninstall extra
	[ "$status" -eq 2 ]
	run_io "$SOTTO" uninstall --help
	[ "$status" -eq 0 ]
	[[ "$out" == "usage: sotto uninstall "* ]]
}

@test "uninstall asks on a terminal: n aborts, y deletes" {
	command -v python3 >/dev/null || skip "python3 is needed for the pty helper"
	"$SOTTO" install >/dev/null 2>&1
	printf 'n\n' >"$T/no"
	run_io python3 "$PTY_RUN" --timeout 60 --stdin-tty --type "$T/no" -- "$SOTTO" uninstall
	[ "$status" -eq 1 ]
	[ "$err" = "? Are you sure you want to delete sotto and its custom resource definitions? [y/N] sotto: error: uninstall: aborting" ]
	$K -n sotto-system get deployment sotto-reconcile >/dev/null
	printf 'y\n' >"$T/yes"
	run_io python3 "$PTY_RUN" --timeout 60 --stdin-tty --type "$T/yes" -- "$SOTTO" uninstall
	[ "$status" -eq 0 ]
	[ "$(tail -1 "$T/err")" = "✔ uninstall finished" ]
	refute $K -n sotto-system get deployment sotto-reconcile
	refute $K get ns sotto-system
}

@test "uninstall deletes what install applied and the finalizers, never the key Secrets without --delete-keys" {
	"$SOTTO" install >/dev/null 2>&1
	secret sops-age --from-literal=age.agekey=not-a-real-key
	secret cluster-key --from-literal=x=y
	$K -n sotto-system label secret cluster-key sotto.dev/age-key=generated >/dev/null
	secret plain --from-literal=a=b
	printf 'apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: app, namespace: default, finalizers: [finalizers.fluxcd.io]}\nspec: {interval: 1m, path: ./, prune: true, sourceRef: {kind: GitRepository, name: repo}}\n' |
	    $K apply --server-side -f - >/dev/null
	run_io "$SOTTO" uninstall -s
	[ "$status" -eq 0 ]
	cat >"$T/want" <<'W'
► deleting components in sotto-system namespace
✔ Deployment/sotto-system/sotto-reconcile deleted
✔ RoleBinding/sotto-system/sotto-reconcile-key deleted
✔ Role/sotto-system/sotto-reconcile-key deleted
✔ RoleBinding/sotto-system/sotto-reconcile-leader deleted
✔ Role/sotto-system/sotto-reconcile-leader deleted
✔ ClusterRoleBinding/sotto-reconcile deleted
✔ ClusterRole/sotto-reconcile deleted
✔ ServiceAccount/sotto-system/sotto-reconcile deleted
► deleting toolkit.fluxcd.io finalizers in all namespaces
✔ Kustomization/default/app finalizers deleted
► deleting toolkit.fluxcd.io custom resource definitions
✔ CustomResourceDefinition/kustomizations.kustomize.toolkit.fluxcd.io deleted
✔ CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io deleted
⚠️ Namespace/sotto-system kept: it holds the key Secrets cluster-key, sops-age (pass --delete-keys to delete them with it)
✔ uninstall finished
W
	diff -u "$T/want" "$T/err"
	[ "$($K -n sotto-system get secrets -o name | sort | tr '\n' ' ')" = "secret/cluster-key secret/plain secret/sops-age " ]
	[ "$($K get ks app -o jsonpath='{.metadata.finalizers}')" = "" ]
	refute $K get clusterrole sotto-reconcile
	# again: nothing left but the namespace, still kept
	run_io "$SOTTO" uninstall --silent
	[ "$status" -eq 0 ]
	[ "$(grep -c deleted "$T/err")" -eq 0 ]
	# --keep-namespace --delete-keys: the key Secrets only
	run_io "$SOTTO" uninstall -s --keep-namespace --delete-keys
	[ "$status" -eq 0 ]
	grep -qx '✔ Secret/sotto-system/cluster-key deleted' "$T/err"
	grep -qx '✔ Secret/sotto-system/sops-age deleted' "$T/err"
	[ "$($K -n sotto-system get secrets -o name)" = "secret/plain" ]
	$K get ns sotto-system >/dev/null
	# --delete-keys: the namespace goes
	secret sops-age --from-literal=age.agekey=not-a-real-key
	run_io "$SOTTO" uninstall -s --delete-keys
	[ "$status" -eq 0 ]
	grep -qx '✔ Namespace/sotto-system deleted' "$T/err"
	refute $K get ns sotto-system
}

@test "uninstall leaves a CRD that is not sotto's, and a Secret named by a Kustomization counts as a key" {
	"$SOTTO" install >/dev/null 2>&1
	$K label crd gitrepositories.source.toolkit.fluxcd.io --overwrite app.kubernetes.io/part-of=flux >/dev/null
	secret dec --from-literal=k=v
	printf 'apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: app, namespace: sotto-system}\nspec: {interval: 1m, path: ./, prune: true, sourceRef: {kind: GitRepository, name: repo}, decryption: {provider: sops, secretRef: {name: dec}}}\n' |
	    $K apply --server-side -f - >/dev/null
	run_io "$SOTTO" uninstall -s
	[ "$status" -eq 0 ]
	grep -qx '⚠️ CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io kept: not installed by sotto (app.kubernetes.io/part-of=flux)' "$T/err"
	grep -qx '⚠️ Namespace/sotto-system kept: it holds the key Secrets dec (pass --delete-keys to delete them with it)' "$T/err"
	$K get crd gitrepositories.source.toolkit.fluxcd.io >/dev/null
	refute $K get crd kustomizations.kustomize.toolkit.fluxcd.io
	$K -n sotto-system get secret dec >/dev/null
}

@test "uninstall: a failed deletion is exit 1" {
	"$SOTTO" install >/dev/null 2>&1
	ctl_post '/fault?code=403&n=1&match=/clusterroles/sotto-reconcile'
	run_io "$SOTTO" uninstall -s --keep-namespace
	[ "$status" -eq 1 ]
	grep -q '^✗ ClusterRole/sotto-reconcile deletion failed' "$T/err"
	[ "$(tail -1 "$T/err")" = "✗ uninstall failed" ]
}

@test "bash completion covers every command of issue #20 and their flags" {
	command -v bash >/dev/null || skip "no bash"
	run bash -c '
		complete() { :; }
		. "$SOTTO_ROOT/completions/sotto.bash"
		c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _sotto; echo "${COMPREPLY[*]}"; }
		c sotto ch
		c sotto uni
		c sotto tr
		c sotto lo
		c sotto bu
		c sotto di
		c sotto boot
		c sotto tree k
		c sotto bootstrap g
		c sotto logs --level e
		c sotto logs -f --fl
		c sotto uninstall --d
		c sotto get ks --wa
		c sotto events --wa
		c sotto bootstrap git --pass
		c sotto build ks x --show
		c sotto diff ks x --pa
		c sotto check --p'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = check ]
	[ "${lines[1]}" = uninstall ]
	[ "${lines[2]}" = tree ]
	[ "${lines[3]}" = logs ]
	[ "${lines[4]}" = build ]
	[ "${lines[5]}" = diff ]
	[ "${lines[6]}" = bootstrap ]
	[ "${lines[7]}" = "kustomization ks" ]
	[ "${lines[8]}" = git ]
	[ "${lines[9]}" = error ]
	[ "${lines[10]}" = --flux-namespace ]
	[ "${lines[11]}" = "--delete-keys --dry-run" ]
	[ "${lines[12]}" = --watch ]
	[ "${lines[13]}" = --watch ]
	[ "${lines[14]}" = --password-stdin ]
	[ "${lines[15]}" = --show-secrets ]
	[ "${lines[16]}" = --path ]
	[ "${lines[17]}" = --pre ]
	# zsh: the same commands
	for c in check uninstall tree logs build diff bootstrap; do
		grep -q "^		'$c:" "$SOTTO_ROOT/completions/_sotto"
		grep -q "^	$c)" "$SOTTO_ROOT/completions/_sotto"
	done
}
