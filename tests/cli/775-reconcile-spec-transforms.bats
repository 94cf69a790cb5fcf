#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Kustomization v1 spec-level transformations (issue #15): patches, images,
# namePrefix, nameSuffix, components, ignoreMissingComponents merged into
# the kustomization at spec.path as Flux's generator does (in memory), and
# commonMetadata set on every object before the apply.

load helpers
load kube_helpers

CANARY=sotto-canary-spec-7d31a

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
	cat >"$REPO/app/deploy.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.25
Y
	printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: default\nresources:\n  - cm.yaml\n  - secret.enc.yaml\n  - deploy.yaml\n' \
	    >"$REPO/app/kustomization.yaml"
	commit initial
}

teardown() {
	standin_stop
}

reconcile() {
	run_io "$SOTTO" reconcile --allow-file-sources --once --cache-dir "$T/cache" \
	    --poll-interval 0.2s "$@"
	cat "$T/err" >>"$T/all-logs"
}

cond() { # TYPE
	$K get kustomization app -o json | python3 -c '
import json, sys
s = json.load(sys.stdin).get("status", {})
c = [c for c in s.get("conditions", []) if c["type"] == sys.argv[1]]
print("%s %s %s" % (c[0]["status"], c[0]["reason"], c[0]["message"]) if c else "none")' "$1"
}

# nothing is written into a checkout: the spec's patch is in no file
assert_checkout_clean() {
	[ -z "$(git -C "$REPO" status --porcelain)" ]
	refute grep -rqa "color: green" "$REPO" "$T/cache"
}

@test "spec.patches: strategic merge and JSON6902 with target, after the kustomization's own" {
	cat >>"$REPO/app/kustomization.yaml" <<'Y'
patches:
  - patch: |
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: app-config
      data:
        color: red
        size: small
Y
	commit own-patch
	flux_apply sops-age "  patches:
    - patch: |
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: app-config
        data:
          color: green
    - patch: |
        - op: replace
          path: /spec/replicas
          value: 3
      target:
        kind: Deployment
        name: \"w.*\""
	reconcile
	[ "$status" -eq 0 ]
	[[ "$(cond Ready)" == "True ReconciliationSucceeded "* ]]
	# the spec's patch runs after the file's: green wins, size stays
	[ "$($K get configmap app-config -o jsonpath='{.data.color} {.data.size}')" = "green small" ]
	[ "$($K get deployment web -o jsonpath='{.spec.replicas}')" = 3 ]
	[ "$($K get secret creds -o jsonpath='{.data.password}' | base64 -d)" = "$CANARY" ]
	assert_checkout_clean
	refute grep -rq "$CANARY" "$T/all-logs"
}

@test "spec.images updates the kustomization's entry of the same name, tag and digest together" {
	cat >>"$REPO/app/kustomization.yaml" <<'Y'
images:
  - name: nginx
    newName: registry.example/nginx
    digest: sha256:0000000000000000000000000000000000000000000000000000000000000000
Y
	commit own-image
	flux_apply sops-age "  images:
    - name: nginx
      newTag: \"1.27\""
	reconcile
	[ "$status" -eq 0 ]
	[ "$($K get deployment web -o jsonpath='{.spec.template.spec.containers[0].image}')" = \
	    registry.example/nginx:1.27 ]
}

@test "spec.namePrefix and nameSuffix replace the kustomization's own" {
	printf 'namePrefix: own-\n' >>"$REPO/app/kustomization.yaml"
	commit own-prefix
	flux_apply sops-age "  namePrefix: pre-
  nameSuffix: -suf"
	reconcile
	[ "$status" -eq 0 ]
	$K get configmap pre-app-config-suf >/dev/null
	$K get secret pre-creds-suf >/dev/null
	run $K get configmap own-app-config
	[ "$status" -eq 1 ]
	# the same as kubectl kustomize over the hand-written equivalent
	mkdir -p "$T/hand"
	cp "$REPO/app/cm.yaml" "$REPO/app/deploy.yaml" "$T/hand/"
	printf 'namespace: default\nnamePrefix: pre-\nnameSuffix: -suf\nresources:\n  - cm.yaml\n  - deploy.yaml\n' \
	    >"$T/hand/kustomization.yaml"
	$K kustomize "$T/hand" >"$T/want.yaml"
	grep -q '^  name: pre-web-suf$' "$T/want.yaml"
	$K get deployment pre-web-suf >/dev/null
}

@test "without a kustomization file one listing every manifest is built, as Flux" {
	git -C "$REPO" rm -q app/kustomization.yaml app/secret.enc.yaml
	mkdir -p "$REPO/app/sub"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nested\ndata:\n  a: b\n' \
	    >"$REPO/app/sub/nested.yml"
	commit plain
	flux_apply sops-age "  namePrefix: p-
  targetNamespace: default"
	reconcile
	[ "$status" -eq 0 ]
	$K get configmap p-app-config >/dev/null
	$K get configmap p-nested >/dev/null
	$K get deployment p-web >/dev/null
	[ ! -e "$REPO/app/kustomization.yaml" ]
}

@test "spec.commonMetadata sets labels and annotations on every object" {
	flux_apply sops-age "  commonMetadata:
    labels:
      team: blue
    annotations:
      example.com/owner: ops"
	reconcile
	[ "$status" -eq 0 ]
	[ "$($K get configmap app-config -o jsonpath='{.metadata.labels.team}')" = blue ]
	[ "$($K get secret creds -o jsonpath='{.metadata.annotations.example\.com/owner}')" = ops ]
	# metadata only: the selector and the pod template are left alone
	[ "$($K get deployment web -o jsonpath='{.metadata.labels.team}')" = blue ]
	[ -z "$($K get deployment web -o jsonpath='{.spec.template.metadata.labels.team}')" ]
	# Flux's owner labels are still there
	[ "$($K get configmap app-config -o jsonpath='{.metadata.labels.kustomize\.toolkit\.fluxcd\.io/name}')" = app ]
}

component() { # DIR
	mkdir -p "$REPO/$1"
	cat >"$REPO/$1/kustomization.yaml" <<'Y'
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - patch: |
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: app-config
      data:
        feature: "on"
Y
}

@test "spec.components are relative to spec.path; ignoreMissingComponents leaves a missing one out" {
	component components/feature
	commit component
	flux_apply sops-age "  components:
    - ../components/feature
    - ../components/absent
  ignoreMissingComponents: true"
	reconcile
	[ "$status" -eq 0 ]
	[ "$($K get configmap app-config -o jsonpath='{.data.feature}')" = on ]
}

@test "a missing component without ignoreMissingComponents fails the build, nothing applied" {
	flux_apply sops-age "  components:
    - ../components/absent"
	reconcile
	[ "$status" -eq 1 ]
	[[ "$(cond Ready)" == "False BuildFailed "*"components/absent"* ]]
	run $K get configmap app-config
	[ "$status" -eq 1 ]
}

@test "a remote component is refused" {
	flux_apply sops-age "  components:
    - https://example.com/c"
	reconcile
	[ "$status" -eq 1 ]
	[ "$(cond Ready)" = "False BuildFailed component path 'https://example.com/c' must be local and relative" ]
	run $K get configmap app-config
	[ "$status" -eq 1 ]
}

@test "a sops Secret is decrypted through an overlay the spec patches" {
	mkdir -p "$REPO/overlay"
	git -C "$REPO" mv app/secret.enc.yaml overlay/
	sed -i '/secret.enc.yaml/d' "$REPO/app/kustomization.yaml"
	printf 'namespace: default\nresources:\n  - ../app\n  - secret.enc.yaml\n' >"$REPO/overlay/kustomization.yaml"
	commit overlay
	flux_apply sops-age "  patches:
    - patch: |
        apiVersion: v1
        kind: Secret
        metadata:
          name: creds
          labels:
            patched: \"yes\"
        stringData:
          user: admin"
	sed -i 's|path: ./app|path: ./overlay|' "$T/flux.yaml"
	$K apply --server-side -f "$T/flux.yaml" >/dev/null
	reconcile
	[ "$status" -eq 0 ]
	[ "$($K get secret creds -o jsonpath='{.data.password}' | base64 -d)" = "$CANARY" ]
	[ "$($K get secret creds -o jsonpath='{.data.user}' | base64 -d)" = admin ]
	[ "$($K get secret creds -o jsonpath='{.metadata.labels.patched}')" = yes ]
	refute grep -rq "$CANARY" "$T/all-logs"
	ctl_get /bodies >"$T/bodies"
	[ -z "$(ls -A "$TMPDIR")" ]
}

# the ```yaml block after "`clusters/prod/apps.yaml`:" in README.md
readme_apps_yaml() {
	awk '/^`clusters\/prod\/apps.yaml`:$/ { want = 1; next }
	    want && /^```yaml$/ { f = 1; next }
	    f && /^```$/ { exit }
	    f { print }' "$SOTTO_ROOT/README.md"
}

@test "README: the Flux repository layout (clusters/, infrastructure/, apps/) is reconciled" {
	readme_apps_yaml >"$T/apps.yaml"
	grep -q 'name: apps' "$T/apps.yaml"
	$K create namespace flux-system --dry-run=client -o json >"$T/ns.json"
	$K apply --server-side -f "$T/ns.json" >/dev/null
	$K -n flux-system create secret generic sops-age --from-file=age.agekey="$T/key.txt" \
	    --dry-run=client -o json >"$T/ks.json"
	$K apply --server-side -f "$T/ks.json" >/dev/null
	$K -n flux-system create configmap cluster-vars --from-literal=region=eu-1 \
	    --dry-run=client -o json >"$T/cm.json"
	$K apply --server-side -f "$T/cm.json" >/dev/null
	git -C "$REPO" rm -rq app
	mkdir -p "$REPO/clusters/prod/flux-system" "$REPO/infrastructure/prod" \
	    "$REPO/apps/base/podinfo" "$REPO/apps/prod"
	cp "$T/apps.yaml" "$REPO/clusters/prod/apps.yaml"
	cat >"$REPO/clusters/prod/flux-system/gotk-sync.yaml" <<Y
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m
  url: file://$REPO
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
  path: ./clusters/prod
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
Y
	cat >"$REPO/clusters/prod/infrastructure.yaml" <<'Y'
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: infrastructure
  namespace: flux-system
spec:
  interval: 10m
  path: ./infrastructure/prod
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
Y
	printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: podinfo\n' \
	    >"$REPO/infrastructure/prod/namespace.yaml"
	cat >"$REPO/apps/base/podinfo/deployment.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  labels:
    env: ${cluster_env}
    region: ${region}
spec:
  replicas: 1
  selector:
    matchLabels: {app: podinfo}
  template:
    metadata:
      labels: {app: podinfo}
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:6.0.0
Y
	git -C "$REPO" show HEAD:app/secret.enc.yaml >"$REPO/apps/base/podinfo/secret.enc.yaml"
	printf 'namespace: podinfo\nresources:\n  - deployment.yaml\n  - secret.enc.yaml\n' \
	    >"$REPO/apps/base/podinfo/kustomization.yaml"
	printf 'resources:\n  - ../base/podinfo\n' >"$REPO/apps/prod/kustomization.yaml"
	commit layout
	$K apply --server-side -f "$REPO/clusters/prod/flux-system/gotk-sync.yaml" >/dev/null
	for pass in 1 2 3; do
		reconcile
	done
	[ "$status" -eq 0 ]
	[ "$($K -n flux-system get kustomization apps -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
	[ "$($K -n podinfo get deployment podinfo -o jsonpath='{.spec.replicas} {.metadata.labels.env} {.metadata.labels.region}')" = "2 prod eu-1" ]
	[ "$($K -n podinfo get deployment podinfo -o jsonpath='{.spec.template.spec.containers[0].image}')" = \
	    ghcr.io/stefanprodan/podinfo:6.7.0 ]
	[ "$($K -n podinfo get secret creds -o jsonpath='{.data.password}' | base64 -d)" = "$CANARY" ]
	refute grep -rq "$CANARY" "$T/all-logs"
}
