#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# `sotto build kustomization` and `sotto diff kustomization` (issue #20)
# against the API stand-in with real kubectl: build prints what a
# controller pass applies (the same render, spec transformations and
# substitution), with Secrets masked unless --show-secrets and a local
# key; diff runs the controller's server-side dry-run apply, masks Secret
# values and exits 1 on changes, 0 without.

load helpers
load kube_helpers

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start
	kube_fixture app
	cat >"$REPO/app/cm.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  color: blue
  greeting: hello ${who}
Y
	cat >"$T/secret.yaml" <<'Y'
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: s3cr3t-fixture-pw
Y
	encrypt_secret
	cat >"$REPO/app/plain-secret.yaml" <<'Y'
apiVersion: v1
kind: Secret
metadata:
  name: plain
data:
  token: cGxhaW4tZml4dHVyZS10b2tlbg==
Y
	cat >"$REPO/app/kustomization.yaml" <<'Y'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - cm.yaml
  - secret.enc.yaml
  - plain-secret.yaml
Y
	commit initial
	$K create configmap vars --from-literal=who=world -n default \
	    --dry-run=client -o json >"$T/vars.json"
	$K apply --server-side -f "$T/vars.json" >/dev/null
	flux_apply sops-age '  targetNamespace: default
  namePrefix: my-
  commonMetadata:
    labels:
      team: blue
  postBuild:
    substituteFrom:
      - kind: ConfigMap
        name: vars'
	unset SOPS_AGE_KEY SOPS_AGE_KEY_FILE
}

teardown() {
	standin_stop
}

# $T/secret.yaml encrypted into the repository, data and stringData only
# (as Flux's guides write .sops.yaml), so it builds without a key too.
encrypt_secret() {
	"$SOTTO" encrypt --age "$PUB" --encrypted-regex '^(data|stringData)$' \
	    "$T/secret.yaml" >"$REPO/app/secret.enc.yaml"
}

controller_once() {
	run_io "$SOTTO" controller --allow-file-sources --once --cache-dir "$T/cache"
	[ "$status" -eq 0 ] || { cat "$T/err"; return 1; }
}

# The objects of a YAML stream (or a kubectl JSON object) as sorted JSON
# lines, without what the API server adds.
normalize() {
	python3 -c '
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
if len(docs) == 1 and docs[0].get("kind") == "List":
    docs = docs[0]["items"]
for d in docs:
    m = d.get("metadata", {})
    for k in ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"):
        m.pop(k, None)
    d.pop("status", None)
    print(json.dumps(d, sort_keys=True))' | sort
}

no_fixture_plaintext() {
	refute grep -q 's3cr3t-fixture-pw' "$T/out" "$T/err"
	refute grep -q "$(printf s3cr3t-fixture-pw | base64)" "$T/out" "$T/err"
	refute grep -q 'plain-fixture-token' "$T/out" "$T/err"
	refute grep -q 'cGxhaW4tZml4dHVyZS10b2tlbg' "$T/out" "$T/err"
}

@test "build prints what a controller pass applies, transformations and substitution included" {
	cat >"$REPO/app/deploy.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    kustomize.toolkit.fluxcd.io/substitute: disabled
    note: keeps ${who}
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.0
Y
	printf '  - deploy.yaml\n' >>"$REPO/app/kustomization.yaml"
	commit deployment
	$K patch ks app --type=merge -p '{"spec":{"images":[{"name":"nginx","newTag":"1.27"}],"patches":[{"target":{"kind":"ConfigMap"},"patch":"- op: add\n  path: /metadata/annotations\n  value: {patched: \"yes\"}"}]}}' >/dev/null
	export SOPS_AGE_KEY_FILE=$T/key.txt
	run_io "$SOTTO" build ks app --path "$REPO/app" --show-secrets
	[ "$status" -eq 0 ]
	[ "$err" = "" ]
	normalize <"$T/out" >"$T/built"
	# each document ends with ---, as flux build prints them
	[ "$(grep -c '^---$' "$T/out")" -eq 4 ]
	[ "$(tail -1 "$T/out")" = "---" ]
	controller_once
	$K get configmap,secret,deployment -n default -l kustomize.toolkit.fluxcd.io/name=app -o json | normalize >"$T/applied"
	diff -u "$T/applied" "$T/built"
	[ "$(wc -l <"$T/built")" -eq 4 ]
	grep -q '"greeting": "hello world"' "$T/built"
	grep -q '"name": "my-app-config", "namespace": "default"' "$T/built"
	grep -q '"team": "blue"' "$T/built"
	grep -q '"patched": "yes"' "$T/built"
	grep -q '"image": "nginx:1.27"' "$T/built"
	grep -q '"note": "keeps ${who}"' "$T/built"
}

@test "build masks every Secret and needs no key; --show-secrets with a local key shows them" {
	run_io "$SOTTO" build kustomization app --path "$REPO/app"
	[ "$status" -eq 0 ]
	no_fixture_plaintext
	[ "$(grep -c 'KipTT1BTKio=' "$T/out")" -eq 2 ]
	grep -q 'color: blue' "$T/out"
	refute grep -q 'ENC\[' "$T/out"
	refute grep -q 'sops' "$T/out"
	export SOPS_AGE_KEY_FILE=$T/key.txt
	run_io "$SOTTO" build ks app --path "$REPO/app" --show-secrets
	[ "$status" -eq 0 ]
	grep -q "password: $(printf s3cr3t-fixture-pw | base64)" "$T/out"
	grep -q 'token: cGxhaW4tZml4dHVyZS10b2tlbg==' "$T/out"
	# with the key but without --show-secrets: decrypted in memory, masked
	run_io "$SOTTO" build ks app --path "$REPO/app"
	[ "$status" -eq 0 ]
	no_fixture_plaintext
	[ "$(grep -c 'KipTT1BTKio=' "$T/out")" -eq 2 ]
}

@test "build without a key refuses a file whose kind or metadata is encrypted too" {
	"$SOTTO" encrypt --age "$PUB" "$T/secret.yaml" >"$REPO/app/secret.enc.yaml"
	run_io "$SOTTO" build ks app --path "$REPO/app"
	[ "$status" -eq 1 ]
	[ "$out" = "" ]
	[ "$err" = "sotto: error: 'app/secret.enc.yaml': its apiVersion, kind or metadata is encrypted: a key is needed to build it (or encrypt only data and stringData: encrypted_regex '^(data|stringData)\$')" ]
	# --show-secrets never prints ciphertext or plaintext without a key
	run_io "$SOTTO" build ks app --path "$REPO/app" --show-secrets
	[ "$status" -eq 1 ]
	[ "$out" = "" ]
	[[ "$err" == "sotto: error: cannot decrypt 'app/secret.enc.yaml': "* ]]
	export SOPS_AGE_KEY_FILE=$T/key.txt
	run_io "$SOTTO" build ks app --path "$REPO/app"
	[ "$status" -eq 0 ]
	no_fixture_plaintext
	grep -q 'name: my-db' "$T/out"
}

@test "build --show-secrets without a key that opens the file fails and prints nothing" {
	"$SOTTO" age-keygen -o "$T/other.txt" 2>/dev/null
	export SOPS_AGE_KEY_FILE=$T/other.txt
	run_io "$SOTTO" build ks app --path "$REPO/app" --show-secrets
	[ "$status" -eq 1 ]
	[ "$out" = "" ]
	[[ "$err" == "sotto: error: cannot decrypt 'app/secret.enc.yaml': "* ]]
	no_fixture_plaintext
}

@test "build --dry-run reads the Kustomization from a file and no cluster" {
	cat >"$T/ks.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: other
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app
spec:
  interval: 5m
  path: ./app
  targetNamespace: staging
  sourceRef:
    kind: GitRepository
    name: repo
  postBuild:
    substitute:
      who: file
Y
	KUBECONFIG=$T/nowhere run_io "$SOTTO" build ks app --path "$REPO/app" \
	    --kustomization-file "$T/ks.yaml" --dry-run
	[ "$status" -eq 0 ]
	grep -q 'greeting: hello file' "$T/out"
	grep -q 'namespace: staging' "$T/out"
	grep -q 'kustomize.toolkit.fluxcd.io/namespace: default' "$T/out"
	run_io "$SOTTO" build ks nope --path "$REPO/app" \
	    --kustomization-file "$T/ks.yaml" --dry-run
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: no Kustomization 'nope' in namespace 'default' in '$T/ks.yaml'" ]
	run_io "$SOTTO" build ks app --path "$REPO/app" --kustomization-file "$T/none.yaml" --dry-run
	[ "$status" -eq 1 ]
	[[ "$err" == "sotto: error: invalid kustomization file: "*"$T/none.yaml"* ]]
	run_io "$SOTTO" build ks app --path "$REPO/app" --dry-run
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: build: --dry-run needs --kustomization-file" ]
}

@test "diff: a changed ConfigMap is drifted (exit 1); a changed Secret value is masked; exit 0 after apply" {
	# the new password has the old one's length: masked, still a change
	export SOPS_AGE_KEY_FILE=$T/key.txt
	controller_once
	run_io "$SOTTO" diff ks app --path "$REPO/app"
	[ "$status" -eq 0 ]
	[ "$out" = "" ]
	sed -i 's/color: blue/color: red/' "$REPO/app/cm.yaml"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: n3wn3w-fixture-pw\n' >"$T/secret.yaml"
	encrypt_secret
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n' >"$REPO/app/extra.yaml"
	printf '  - extra.yaml\n' >>"$REPO/app/kustomization.yaml"
	run_io "$SOTTO" diff ks app --path "$REPO/app"
	[ "$status" -eq 1 ]
	[ "$out" = "► ConfigMap/default/my-app-config drifted

data.color
± value change
- blue
+ red

► ConfigMap/default/my-extra created
► Secret/default/my-db drifted

data.password
± value change
- *** (before)
+ *** (after)" ]
	no_fixture_plaintext
	refute grep -q 'n3wn3w-fixture-pw' "$T/out"
	refute grep -q "$(printf n3wn3w-fixture-pw | base64)" "$T/out"
	commit change
	controller_once
	ctl_post /reset
	run_io "$SOTTO" diff ks app --path "$REPO/app"
	[ "$status" -eq 0 ]
	[ "$out" = "" ]
	# diff writes nothing: reads, and applies as dry runs only; it never
	# reads the decryption Secret (nor any Secret but its own objects)
	ctl_get /log | python3 -c '
import json, sys
bad, dry = [], 0
for line in sys.stdin:
    e = json.loads(line)
    dry += e["method"] == "PATCH"
    if e["method"] not in ("GET", "PATCH"):
        bad.append(e["method"] + " " + e["path"])
    if e["method"] == "PATCH" and "dryRun=All" not in e["query"]:
        bad.append("PATCH " + e["path"])
    if "/secrets" in e["path"] and not e["path"].endswith("/secrets/my-db") \
            and not e["path"].endswith("/secrets/my-plain"):
        bad.append(e["method"] + " " + e["path"])
print("\n".join(bad))
sys.exit(1 if bad or dry < 3 else 0)'
}

@test "diff without a local key compares encrypted Secrets by their data keys" {
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: conf\ndata:\n  dsn: conf-fixture-dsn\n' >"$T/conf.yaml"
	"$SOTTO" encrypt --age "$PUB" --encrypted-regex '^data$' "$T/conf.yaml" >"$REPO/app/conf.enc.yaml"
	printf '  - conf.enc.yaml\n' >>"$REPO/app/kustomization.yaml"
	commit conf
	export SOPS_AGE_KEY_FILE=$T/key.txt
	controller_once
	unset SOPS_AGE_KEY_FILE
	run_io "$SOTTO" diff ks app --path "$REPO/app"
	[ "$status" -eq 0 ]
	[ "$out" = "" ]
	[ "$err" = "◎ ConfigMap/default/my-conf is SOPS encrypted and no local key is set: not compared
◎ Secret/default/my-db is SOPS encrypted and no local key is set: its data keys are compared, not its values" ]
	refute grep -q 'conf-fixture-dsn' "$T/out" "$T/err"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  user: admin\n' >"$T/secret.yaml"
	encrypt_secret
	run_io "$SOTTO" diff ks app --path "$REPO/app"
	[ "$status" -eq 1 ]
	[ "$out" = "► Secret/default/my-db drifted

data
- one map entry removed:
  password: ***

data
+ one map entry added:
  user: ***" ]
	no_fixture_plaintext
	refute grep -q 'conf-fixture-dsn' "$T/out" "$T/err"
}

@test "diff lists what prune would delete" {
	controller_once
	rm "$REPO/app/plain-secret.yaml"
	sed -i '/plain-secret.yaml/d' "$REPO/app/kustomization.yaml"
	run_io "$SOTTO" diff ks app --path "$REPO/app"
	[ "$status" -eq 1 ]
	[ "$out" = "► Secret/default/my-plain deleted" ]
	# an object the controller leaves alone is skipped, whatever changed
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\n  annotations:\n    kustomize.toolkit.fluxcd.io/reconcile: disabled\ndata:\n  color: green\n' >"$REPO/app/cm.yaml"
	run_io "$SOTTO" diff ks app --path "$REPO/app"
	[ "$status" -eq 1 ]
	[ "$out" = "► ConfigMap/default/my-app-config skipped
► Secret/default/my-plain deleted" ]
}

@test "hostile: missing Kustomization, --path, path escaping, usage" {
	run_io "$SOTTO" build ks nope --path "$REPO/app"
	[ "$status" -eq 1 ]
	[ "$out" = "" ]
	[ "$err" = "sotto: error: Kustomization 'default/nope' not found" ]
	run_io "$SOTTO" diff ks nope --path "$REPO/app"
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: Kustomization 'default/nope' not found" ]
	run_io "$SOTTO" build ks app
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: build: --path is required" ]
	run_io "$SOTTO" diff ks app --path "$T/missing"
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: --path '$T/missing': no such directory" ]
	run_io "$SOTTO" build ks app --path "$REPO/app/cm.yaml"
	[ "$status" -eq 1 ]
	[ "$err" = "sotto: error: --path '$REPO/app/cm.yaml': not a directory" ]
	printf 'outside\n' >"$T/outside.yaml"
	printf 'resources:\n  - ../../outside.yaml\n' >"$REPO/app/kustomization.yaml"
	run_io "$SOTTO" build ks app --path "$REPO/app"
	[ "$status" -eq 2 ]
	[ "$out" = "" ]
	[ "$err" = "sotto: error: 'app/kustomization.yaml': '../../outside.yaml' (from 'app') leaves the root" ]
	run_io "$SOTTO" diff ks app --path "$REPO/app"
	[ "$status" -eq 2 ]
	[ "$out" = "" ]
	[ "$err" = "sotto: error: 'app/kustomization.yaml': '../../outside.yaml' (from 'app') leaves the root" ]
	run_io "$SOTTO" build ks 'a/../b' --path "$REPO/app"
	[ "$status" -eq 2 ]
	[[ "$err" == "sotto: error: name 'a/../b': "* ]]
	run_io "$SOTTO" build helmrelease x --path "$REPO/app"
	[ "$status" -eq 2 ]
	[ "$(head -1 "$T/err")" = "sotto: error: build: kind 'helmrelease' is not served by sotto (kustomization or ks)" ]
	run_io "$SOTTO" diff ks
	[ "$status" -eq 2 ]
	[ "$(head -1 "$T/err")" = "sotto: error: diff: name is required" ]
	run_io "$SOTTO" diff ks app --path "$REPO/app" --show-secrets
	[ "$status" -eq 2 ]
	[ "$(head -1 "$T/err")" = "sotto: error: diff: unknown flag '--show-secrets'" ]
	run_io "$SOTTO" build --help
	[ "$status" -eq 0 ]
	[[ "$out" == "usage: sotto build kustomization|ks NAME --path DIR"* ]]
}
