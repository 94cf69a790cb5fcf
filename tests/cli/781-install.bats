#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# `sotto install` (issue #20): the CRDs of the kinds the controller serves,
# the namespace, RBAC and the Deployment of deploy/base, printed or applied
# server-side; idempotent; a CRD of a newer sotto is left alone.  And
# `sotto events`.

load helpers
load kube_helpers

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	python3 -c 'import yaml' 2>/dev/null || skip "python3 yaml missing"
}

teardown() {
	standin_stop
}

# the objects of a YAML stream, as sorted JSON (one per line)
objects() {
	python3 -c '
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
for d in sorted(docs, key=lambda d: (d["kind"], d["metadata"]["name"])):
    print(json.dumps(d, sort_keys=True))'
}

@test "install --export: the CRDs, then deploy/base with the controller's name" {
	run_io "$SOTTO" install --export
	[ "$status" -eq 0 ]
	objects <"$T/out" >"$T/all.json"
	ver=$("$SOTTO" version | head -1 | cut -d' ' -f2)
	python3 - "$T/all.json" "$ver" <<'P'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
crds = {o["metadata"]["name"]: o for o in objs if o["kind"] == "CustomResourceDefinition"}
assert sorted(crds) == ["gitrepositories.source.toolkit.fluxcd.io",
                        "kustomizations.kustomize.toolkit.fluxcd.io"], crds
for name, c in crds.items():
    v = c["spec"]["versions"][0]
    assert v["name"] == "v1" and v["served"] and v["storage"], v
    assert v["subresources"] == {"status": {}}, v
    s = v["schema"]["openAPIV3Schema"]["properties"]
    assert s["spec"]["x-kubernetes-preserve-unknown-fields"] is True
    assert c["metadata"]["labels"]["sotto.dev/version"] == sys.argv[2], c["metadata"]
assert crds["kustomizations.kustomize.toolkit.fluxcd.io"]["spec"]["names"]["shortNames"] == ["ks"]
P
	# the components are deploy/base, as kustomize builds it
	run_io "$SOTTO" install --export --components-only
	[ "$status" -eq 0 ]
	objects <"$T/out" >"$T/comp.json"
	kubectl kustomize "$SOTTO_ROOT/deploy/base" | objects >"$T/base.json"
	diff "$T/base.json" "$T/comp.json"
	grep -q '"controller", "--leader-elect"' "$T/comp.json"
	run_io "$SOTTO" install --export --crds-only
	[ "$(grep -c '^kind: ' "$T/out")" -eq 2 ]
	run_io "$SOTTO" install --export --namespace flux-ops
	[ "$status" -eq 0 ]
	grep -q -- '--lease-namespace=flux-ops' "$T/out"
	refute grep -q 'sotto-system' "$T/out"
}

@test "install applies server-side, is idempotent and keeps a newer CRD" {
	standin_start
	run_io "$SOTTO" install
	[ "$status" -eq 0 ]
	[ "$(head -1 "$T/err")" = "✔ CustomResourceDefinition/kustomizations.kustomize.toolkit.fluxcd.io applied" ]
	[ "$(tail -1 "$T/err")" = "✔ install finished" ]
	$K get crd kustomizations.kustomize.toolkit.fluxcd.io >/dev/null
	$K get crd gitrepositories.source.toolkit.fluxcd.io >/dev/null
	[ "$($K -n sotto-system get deployment sotto-reconcile -o jsonpath='{.spec.template.spec.containers[0].args[0]}')" = controller ]
	$K -n sotto-system get rolebinding sotto-reconcile-key >/dev/null
	ctl_get /log | grep '"method": "PATCH"' | grep -q 'fieldManager=sotto&force=true'
	ctl_get /log | grep '"method": "PATCH"' | grep -q 'apply-patch+yaml'
	# again: same objects, exit 0
	$K get deployment -n sotto-system sotto-reconcile -o json >"$T/d1.json"
	run_io "$SOTTO" install
	[ "$status" -eq 0 ]
	# a CRD labelled by a newer sotto: nothing is applied
	$K label crd kustomizations.kustomize.toolkit.fluxcd.io --overwrite sotto.dev/version=99.0.0 >/dev/null
	$K -n sotto-system delete deployment sotto-reconcile >/dev/null
	run_io "$SOTTO" install
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: CustomResourceDefinition 'kustomizations.kustomize.toolkit.fluxcd.io' is labelled sotto.dev/version=99.0.0, newer than this sotto (${err##*newer than this sotto (}" ]
	[[ "$err" == *"): not overwritten (install with that version, or delete the CRD first)" ]]
	refute $K -n sotto-system get deployment sotto-reconcile
	[ "$($K get crd kustomizations.kustomize.toolkit.fluxcd.io -o jsonpath='{.metadata.labels.sotto\.dev/version}')" = 99.0.0 ]
}

@test "install: usage errors" {
	run_io "$SOTTO" install --namespace 'Bad_NS'
	[ "$status" -eq 2 ]
	[[ "$err" == "sotto: error: --namespace 'Bad_NS': "* ]]
	run_io "$SOTTO" install --components-only --crds-only
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: --components-only and --crds-only are mutually exclusive" ]
	run_io "$SOTTO" install extra
	[ "$status" -eq 2 ]
	run_io "$SOTTO" install --help
	[ "$status" -eq 0 ]
	[[ "$out" == "usage: sotto install "* ]]
}

@test "events lists the Events of the Flux objects, --for filters" {
	standin_start
	kube_fixture app
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  color: blue\n' \
	    >"$REPO/app/cm.yaml"
	printf 'namespace: default\nresources:\n  - cm.yaml\n' >"$REPO/app/kustomization.yaml"
	commit initial
	printf 'apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: repo\n  namespace: default\nspec:\n  interval: 1m\n  url: file://%s\n  ref:\n    branch: main\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n  namespace: default\nspec:\n  interval: 1m\n  path: ./app\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: repo\n' \
	    "$REPO" | $K apply --server-side -f - >/dev/null
	run_io "$SOTTO" events
	[ "$status" -eq 0 ]
	[ "$err" = "No events found in default namespace." ]
	run_io "$SOTTO" controller --allow-file-sources --once --cache-dir "$T/cache"
	[ "$status" -eq 0 ]
	run_io "$SOTTO" events --for Kustomization/app
	[ "$status" -eq 0 ]
	[ "$(sed -n 1p "$T/out" | tr -s ' \t' ' ')" = "LAST SEEN TYPE REASON OBJECT MESSAGE" ]
	grep -q 'Normal.*ReconciliationSucceeded.*Kustomization/app' "$T/out"
	run_io "$SOTTO" events -A
	[ "$(sed -n 1p "$T/out" | cut -f1)" = "NAMESPACE" ]
	run_io "$SOTTO" events --for Kustomization/other
	[ "$err" = "No events found in default namespace." ]
	run_io "$SOTTO" events --for app
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: --for 'app': want Kind/NAME" ]
}

@test "bash completion knows the new commands and flux's kind words" {
	command -v bash >/dev/null || skip "no bash"
	run bash -c '
		complete() { :; }
		. "$SOTTO_ROOT/completions/sotto.bash"
		c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _sotto; echo "${COMPREPLY[*]}"; }
		c sotto ins
		c sotto get k
		c sotto reconcile source g
		c sotto install --exp
		c sotto events --f'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = install ]
	[ "${lines[1]}" = "kustomizations ks" ]
	[ "${lines[2]}" = git ]
	[ "${lines[3]}" = --export ]
	[ "${lines[4]}" = --for ]
}
