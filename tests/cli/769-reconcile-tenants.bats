#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Tenant isolation (issue #14): two tenants on one agent, in cluster mode
# against the API stand-in, objects set up with real kubectl.  Tenant a
# holds a decryption Secret, git credentials and a GitRepository but no
# Kustomization, so any request that names namespace tenant-a while the
# agent handles tenant b's objects is a leak.  Each hostile object must
# end Stalled or not Ready, with the field named, and the request log
# must show no path outside tenant-b, no dot segment, no injected header.
#
# Differs from spec in-cluster.md §2 ("unknown fields are ignored") on
# purpose: the issue wins, an unknown or unsupported field stalls the
# object (see sotto-reconcile(8), FIELDS).

load helpers
load kube_helpers

# tenant a's GitRepository is reconciled too (its status and Events, in
# its own namespace, without its Secrets): source-controller's part,
# its finalizer included
CONFINED_ALLOW='/apis/source\.toolkit\.fluxcd\.io/v1/namespaces/tenant-a/gitrepositories/repo(/status)?|/api/v1/namespaces/tenant-a/events(/[^/]*)?'

CANARY=sotto-canary-tenant-a-93d1e

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	# tenant a: its age key, git credentials and a repository holding a
	# Secret encrypted to that key
	"$SOTTO" age-keygen -o "$T/key-a.txt" 2>/dev/null
	PUB_A=$(grep -o 'age1[0-9a-z]*' "$T/key-a.txt" | head -1)
	KEY_A=$(grep -o 'AGE-SECRET-KEY-1[0-9A-Z]*' "$T/key-a.txt")
	for ns in tenant-a tenant-b; do
		printf '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"%s"}}\n' "$ns" |
		    $K apply --server-side -f - >/dev/null
	done
	$K -n tenant-a create secret generic sops-age \
	    --from-file=age.agekey="$T/key-a.txt" --dry-run=client -o json |
	    $K apply --server-side -f - >/dev/null
	$K -n tenant-a create secret generic git-creds \
	    --from-literal=username=a --from-literal=password=tenant-a-git-pw \
	    --dry-run=client -o json | $K apply --server-side -f - >/dev/null
	REPO=$T/repo
	git_repo "$REPO" app
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: %s\n' \
	    "$CANARY" >"$T/secret.yaml"
	"$SOTTO" encrypt --age "$PUB_A" "$T/secret.yaml" >"$REPO/app/secret.enc.yaml"
	rm -f "$T/secret.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  color: blue\n' \
	    >"$REPO/app/cm.yaml"
	printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: tenant-a\nresources:\n  - cm.yaml\n  - secret.enc.yaml\n' \
	    >"$REPO/app/kustomization.yaml"
	commit initial
	gitrepo tenant-a repo
	# tenant b: a repository that only needs no key
	PLAIN=$T/plain
	git_repo "$PLAIN" app
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b-config\n  namespace: tenant-b\ndata:\n  k: v\n' \
	    >"$PLAIN/app/cm.yaml"
	git -C "$PLAIN" add -A && git -C "$PLAIN" commit -qm plain
}

teardown() {
	standin_stop
}

gitrepo() { # NS NAME [URL] [extra spec lines]
	cat >"$T/gr.yaml" <<Y
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: $2
  namespace: $1
spec:
  interval: 1m
  url: ${3:-file://$REPO}
  ref:
    branch: main
${4:-}
Y
	$K apply --server-side -f "$T/gr.yaml" >/dev/null
}

# A Kustomization NAME in NS from JSON spec fields (merged into a valid
# default spec by python, so hostile strings need no YAML quoting).
ks() { # NS NAME SPEC_JSON
	python3 - "$1" "$2" "$3" >"$T/ks.json" <<'P'
import json, sys
ns, name, extra = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
spec = {"interval": "1m", "path": "./app", "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "repo"}}
for k, v in extra.items():
    if v is None:
        spec.pop(k, None)
    else:
        spec[k] = v
print(json.dumps({"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                  "kind": "Kustomization",
                  "metadata": {"name": name, "namespace": ns},
                  "spec": spec}))
P
	$K apply --server-side -f "$T/ks.json" >/dev/null
}

reconcile() {
	ctl_post /reset
	run_io "$SOTTO" reconcile --once --cache-dir "$T/cache" \
	    --poll-interval 0.2s --allow-file-sources "$@"
	cat "$T/err" >>"$T/all-logs"
}

# "<status> <reason> <message>" of condition TYPE of OBJECT in NS
cond() { # NS OBJECT TYPE
	$K -n "$1" get $2 -o json | python3 -c '
import json, sys
s = json.load(sys.stdin).get("status", {})
c = [c for c in s.get("conditions", []) if c["type"] == sys.argv[1]]
print("%s %s %s" % (c[0]["status"], c[0]["reason"], c[0]["message"]) if c else "none")' "$3"
}

assert_no_leak() {
	refute grep -rq "$CANARY" "$T/all-logs"
	refute grep -rq "$KEY_A" "$T/all-logs"
	refute grep -rq tenant-a-git-pw "$T/all-logs"
	ctl_get /bodies >"$T/bodies"
	refute grep -qa "$CANARY" "$T/bodies"
	refute grep -qa "AGE-SECRET-KEY" "$T/bodies"
}

# nothing of tenant a's repository reached tenant b
assert_nothing_applied() {
	run $K -n tenant-b get secret creds
	[ "$status" -eq 1 ]
	run $K -n tenant-b get configmap app-config
	[ "$status" -eq 1 ]
}

@test "decryption.secretRef.name climbing into tenant a's Secrets is Stalled, nothing read" {
	gitrepo tenant-b repo
	ks tenant-b app '{"decryption": {"provider": "sops", "secretRef": {"name": "../../tenant-a/secrets/sops-age"}}}'
	reconcile
	[ "$status" -eq 1 ]
	[ "$(cond tenant-b 'kustomization app' Ready)" = "False InvalidSpec spec.decryption.secretRef.name '../../tenant-a/secrets/sops-age': not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)" ]
	[[ "$(cond tenant-b 'kustomization app' Stalled)" == "True InvalidSpec "* ]]
	assert_confined tenant-b
	assert_nothing_applied
	assert_no_leak
}

@test "percent-encoded and absolute variants of the secretRef are refused the same way" {
	gitrepo tenant-b repo
	for bad in '..%2F..%2Ftenant-a%2Fsecrets%2Fsops-age' '/api/v1/namespaces/tenant-a/secrets/sops-age' \
	    '..' 'sops-age/../../../tenant-a/secrets/sops-age' 'SOPS-AGE' 'sops-age?x=1' 'sops age'; do
		ks tenant-b app "{\"decryption\": {\"provider\": \"sops\", \"secretRef\": {\"name\": $(printf %s "$bad" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}}}"
		reconcile
		[ "$status" -eq 1 ]
		[[ "$(cond tenant-b 'kustomization app' Ready)" == "False InvalidSpec spec.decryption.secretRef.name "* ]]
		assert_confined tenant-b
	done
	assert_nothing_applied
}

@test "a GitRepository secretRef into tenant a stalls the source; its credentials are never read" {
	gitrepo tenant-b repo "file://$PLAIN" "  secretRef:
    name: ../../tenant-a/secrets/git-creds"
	ks tenant-b app '{}'
	reconcile
	[ "$status" -eq 1 ]
	[ "$(cond tenant-b 'gitrepository repo' Ready)" = "False InvalidSpec spec.secretRef.name '../../tenant-a/secrets/git-creds': not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)" ]
	[[ "$(cond tenant-b 'gitrepository repo' Stalled)" == "True InvalidSpec "* ]]
	[ "$(cond tenant-b 'kustomization app' Ready)" = "False ArtifactFailed GitRepository 'tenant-b/repo': spec.secretRef.name '../../tenant-a/secrets/git-creds': not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)" ]
	assert_confined tenant-b
	run $K -n tenant-b get configmap b-config
	[ "$status" -eq 1 ]
	assert_no_leak
}

@test "sourceRef name and namespace that climb out are Stalled before any GET" {
	ks tenant-b app '{"sourceRef": {"kind": "GitRepository", "name": "../../tenant-a/gitrepositories/repo"}}'
	reconcile
	[ "$status" -eq 1 ]
	[[ "$(cond tenant-b 'kustomization app' Ready)" == "False InvalidSpec spec.sourceRef.name '../../tenant-a/gitrepositories/repo': not a DNS-1123 subdomain"* ]]
	assert_confined tenant-b
	ks tenant-b app '{"sourceRef": {"kind": "GitRepository", "name": "repo", "namespace": "tenant-b/../../tenant-a"}}'
	reconcile
	[ "$status" -eq 1 ]
	[[ "$(cond tenant-b 'kustomization app' Ready)" == "False InvalidSpec spec.sourceRef.namespace 'tenant-b/../../tenant-a': not a DNS-1123 label"* ]]
	assert_confined tenant-b
	assert_nothing_applied
}

@test "CR/LF in serviceAccountName injects no Impersonate-Group header" {
	gitrepo tenant-b repo "file://$PLAIN"
	ks tenant-b app '{"serviceAccountName": "deployer\r\nImpersonate-Group: system:masters"}'
	reconcile
	[ "$status" -eq 1 ]
	[ "$(cond tenant-b 'kustomization app' Ready)" = "False InvalidSpec spec.serviceAccountName 'deployer\\x0d\\x0aImpersonate-Group: system:masters': must not contain control characters" ]
	assert_confined tenant-b
	refute grep -q 'system:masters' <(ctl_get /log)
	run $K -n tenant-b get configmap b-config
	[ "$status" -eq 1 ]
}

@test "--default-service-account: every write of a tenant is impersonated in its namespace" {
	gitrepo tenant-b repo "file://$PLAIN"
	ks tenant-b app '{}'
	reconcile --default-service-account deployer
	[ "$status" -eq 0 ]
	$K -n tenant-b get configmap b-config >/dev/null
	ctl_get /log | python3 -c '
import json, sys
n = 0
for e in map(json.loads, sys.stdin):
    if e["method"] == "GET" or e["path"].endswith("/status") or "/events" in e["path"]:
        continue
    # the finalizers on the Kustomization itself and on the
    # GitRepositories: the controller writes them
    if e["path"] == "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/tenant-b/kustomizations/app" or \
       e["path"].startswith("/apis/source.toolkit.fluxcd.io/v1/namespaces/") and \
       e["path"].endswith("/gitrepositories/repo"):
        continue
    n += 1
    assert e["impersonate_user"] == "system:serviceaccount:tenant-b:deployer", e
assert n >= 2, n'
	# an explicit serviceAccountName wins; a bad flag is a usage error
	ks tenant-b app '{"serviceAccountName": "own"}'
	reconcile --default-service-account deployer
	[ "$status" -eq 0 ]
	ctl_get /log | grep -q '"impersonate_user": "system:serviceaccount:tenant-b:own"'
	refute grep -q 'tenant-b:deployer' <(ctl_get /log)
	run_io "$SOTTO" reconcile --once --default-service-account 'a/b'
	[ "$status" -eq 2 ]
	assert_err "sotto: error: --default-service-account 'a/b': not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)"
}

@test "cross-namespace sourceRef: allowed by default as in Flux, AccessDenied with --no-cross-namespace-refs" {
	ks tenant-b app '{"sourceRef": {"kind": "GitRepository", "name": "repo", "namespace": "tenant-a"}}'
	reconcile --no-cross-namespace-refs
	[ "$status" -eq 1 ]
	[ "$(cond tenant-b 'kustomization app' Ready)" = "False AccessDenied can't access 'GitRepository/tenant-a/repo', cross-namespace references have been blocked" ]
	[ "$(cond tenant-b 'kustomization app' Stalled)" = "True AccessDenied can't access 'GitRepository/tenant-a/repo', cross-namespace references have been blocked" ]
	assert_confined tenant-b
	assert_nothing_applied
	# without the flag the reference works (Flux's default); the
	# Kustomization has no key, so only the ConfigMap could be applied and
	# the encrypted Secret stops the whole revision
	reconcile
	[ "$status" -eq 1 ]
	[[ "$(cond tenant-b 'kustomization app' Ready)" == "False BuildFailed "* ]]
	[ "$($K -n tenant-b get kustomization app -o jsonpath='{.status.lastAttemptedRevision}')" = \
	    "$($K -n tenant-a get gitrepository repo -o jsonpath='{.status.artifact.revision}')" ]
	assert_nothing_applied
	assert_no_leak
}

@test "dependsOn, healthChecks and targetNamespace with hostile names are Stalled" {
	gitrepo tenant-b repo "file://$PLAIN"
	ks tenant-b app '{"dependsOn": [{"name": "../x"}]}'
	reconcile
	[[ "$(cond tenant-b 'kustomization app' Ready)" == "False InvalidSpec spec.dependsOn[].name '../x': not a DNS-1123 subdomain"* ]]
	ks tenant-b app '{"dependsOn": [{"name": "x", "namespace": "tenant-a/.."}]}'
	reconcile
	[[ "$(cond tenant-b 'kustomization app' Ready)" == "False InvalidSpec spec.dependsOn[].namespace 'tenant-a/..': not a DNS-1123 label"* ]]
	ks tenant-b app '{"targetNamespace": "../tenant-a"}'
	reconcile
	[[ "$(cond tenant-b 'kustomization app' Ready)" == "False InvalidSpec spec.targetNamespace '../tenant-a': not a DNS-1123 label"* ]]
	ks tenant-b app '{"healthChecks": [{"apiVersion": "v1", "kind": "Secret", "name": "x", "namespace": "tenant-a/secrets/sops-age/.."}]}'
	reconcile
	[[ "$(cond tenant-b 'kustomization app' Ready)" == "False InvalidSpec spec.healthChecks[].namespace 'tenant-a/secrets/sops-age/..': not a DNS-1123 label"* ]]
	[[ "$(cond tenant-b 'kustomization app' Stalled)" == "True InvalidSpec "* ]]
	assert_confined tenant-b
	run $K -n tenant-b get configmap b-config
	[ "$status" -eq 1 ]
}

@test "a rendered object whose name or namespace climbs out is refused, nothing applied" {
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ../../../api/v1/namespaces/tenant-a/secrets/sops-age\ndata:\n  k: v\n' \
	    >"$PLAIN/app/bad.yaml"
	printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cm.yaml\n  - bad.yaml\n' \
	    >"$PLAIN/app/kustomization.yaml"
	git -C "$PLAIN" add -A && git -C "$PLAIN" commit -qm bad
	gitrepo tenant-b repo "file://$PLAIN"
	ks tenant-b app '{}'
	reconcile
	[ "$status" -eq 1 ]
	[ "$(cond tenant-b 'kustomization app' Ready)" = "False BuildFailed ConfigMap: metadata.name '../../../api/v1/namespaces/tenant-a/secrets/sops-age': may not contain '/' or '%'" ]
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n  namespace: tenant-a/../x\ndata:\n  k: v\n' \
	    >"$PLAIN/app/bad.yaml"
	git -C "$PLAIN" add -A && git -C "$PLAIN" commit -qm bad2
	reconcile
	[ "$status" -eq 1 ]
	[[ "$(cond tenant-b 'kustomization app' Ready)" == "False BuildFailed ConfigMap/ok: metadata.namespace 'tenant-a/../x': not a DNS-1123 label"* ]]
	assert_confined tenant-b
	# no namespace at all: as in Flux an error, never the "default"
	# namespace (another tenant's, or nobody's)
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nons\ndata:\n  k: v\n' \
	    >"$PLAIN/app/bad.yaml"
	git -C "$PLAIN" add -A && git -C "$PLAIN" commit -qm bad3
	reconcile
	[ "$status" -eq 1 ]
	[ "$(cond tenant-b 'kustomization app' Ready)" = "False ReconciliationFailed ConfigMap/nons namespace not specified: the server could not find the requested resource" ]
	run $K -n default get configmap nons
	[ "$status" -eq 1 ]
	run $K -n tenant-b get configmap b-config
	[ "$status" -eq 1 ]
}

@test "a hostile inventory in the status cannot aim prune outside a request path" {
	gitrepo tenant-b repo "file://$PLAIN"
	ks tenant-b app '{}'
	reconcile
	[ "$status" -eq 0 ]
	# a status someone edited: ids that would climb out of the namespace
	$K -n tenant-b get kustomization app -o json | python3 -c '
import json, sys
o = json.load(sys.stdin)
o["status"]["inventory"]["entries"] += [
    {"id": "tenant-b_..%2F..%2Ftenant-a%2Fsecrets%2Fsops-age__Secret", "v": "v1"},
    {"id": "tenant-b_../../tenant-a/secrets/sops-age__Secret", "v": "v1"},
    {"id": "tenant-a/.._x__Secret", "v": "v1"}]
print(json.dumps({"status": o["status"]}))' >"$T/st.json"
	$K -n tenant-b patch kustomization app --subresource=status --type=merge \
	    --patch-file "$T/st.json" >/dev/null
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n  namespace: tenant-b\ndata:\n  k: v\n' >"$PLAIN/app/cm.yaml"
	git -C "$PLAIN" add -A && git -C "$PLAIN" commit -qm other
	reconcile
	[ "$status" -eq 0 ]
	assert_confined tenant-b
	$K -n tenant-a get secret sops-age >/dev/null
	run $K -n tenant-b get configmap b-config
	[ "$status" -eq 1 ]
}

@test "unsupported fields stall the object with the field named and apply nothing" {
	gitrepo tenant-b repo "file://$PLAIN"
	for spec in '{"kubeConfig": {"secretRef": {"name": "remote"}}}|spec.kubeConfig' \
	    '{"buildMetadata": ["originAnnotations"]}|spec.buildMetadata' \
	    '{"dependsOn": [{"name": "x", "readyExpr": "true"}]}|spec.dependsOn[].readyExpr' \
	    '{"healthCheckExprs": [{"apiVersion": "v1", "kind": "ConfigMap", "current": "true"}]}|spec.healthCheckExprs'; do
		ks tenant-b app "${spec%|*}"
		reconcile
		[ "$status" -eq 1 ]
		[ "$(cond tenant-b 'kustomization app' Ready)" = "False UnsupportedField ${spec#*|} is not supported by sotto: nothing is applied (see sotto-reconcile(8))" ]
		[ "$(cond tenant-b 'kustomization app' Stalled)" = "True UnsupportedField ${spec#*|} is not supported by sotto: nothing is applied (see sotto-reconcile(8))" ]
		refute grep -q '"method": "PATCH", "path": "/api/v1/namespaces/tenant-b/configmaps' <(ctl_get /log)
		refute grep -q '"method": "GET", "path": "/apis/source.toolkit.fluxcd.io/v1/namespaces/tenant-b/gitrepositories/repo"' <(ctl_get /log)
	done
	ks tenant-b app '{"frobnicate": true}'
	reconcile
	[ "$(cond tenant-b 'kustomization app' Ready)" = "False UnsupportedField spec.frobnicate is not a field sotto knows in Kustomization v1: nothing is applied (see sotto-reconcile(8))" ]
	# a field set to its default is as if absent
	ks tenant-b app '{"ignoreMissingComponents": false, "deletionPolicy": "MirrorPrune"}'
	reconcile
	[ "$status" -eq 0 ]
	$K -n tenant-b get configmap b-config >/dev/null
}

@test "GitRepository verify (and other unsupported source fields) stall the source, nothing applied" {
	for extra in 'verify:|  verify:
    mode: HEAD
    secretRef:
      name: pgp-keys' 'include|  include:
    - repository:
        name: other' 'recurseSubmodules|  recurseSubmodules: true'; do
		gitrepo tenant-b repo "file://$PLAIN" "${extra#*|}"
		ks tenant-b app '{}'
		reconcile
		[ "$status" -eq 1 ]
		f=spec.${extra%%|*}
		f=${f%:}
		[ "$(cond tenant-b 'gitrepository repo' Ready)" = "False UnsupportedField $f is not supported by sotto: nothing is applied (see sotto-reconcile(8))" ]
		[ "$(cond tenant-b 'gitrepository repo' Stalled)" = "True UnsupportedField $f is not supported by sotto: nothing is applied (see sotto-reconcile(8))" ]
		[ "$(cond tenant-b 'kustomization app' Ready)" = "False ArtifactFailed GitRepository 'tenant-b/repo': $f is not supported by sotto: nothing is applied (see sotto-reconcile(8))" ]
		run $K -n tenant-b get configmap b-config
		[ "$status" -eq 1 ]
	done
}

@test "--list-fields and sotto-reconcile(8) list the same fields" {
	run_io "$SOTTO" reconcile --list-fields
	[ "$status" -eq 0 ]
	grep -q '^Kustomization  spec.kubeConfig  *refused' "$T/out"
	grep -q '^GitRepository  spec.verify  *refused' "$T/out"
	grep -q '^Kustomization  spec.decryption.secretRef.name  *supported' "$T/out"
	"$SOTTO" reconcile --list-fields=roff >"$T/roff"
	sed -n '/^\.\\" BEGIN FIELDS/,/^\.\\" END FIELDS/p' "$SOTTO_ROOT/man/sotto-reconcile.8" |
	    sed '1d;$d' >"$T/man"
	diff -u "$T/roff" "$T/man"
}
