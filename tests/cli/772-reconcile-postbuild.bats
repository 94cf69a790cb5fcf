#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# spec.postBuild (issue #15), as kustomize-controller does it: variables
# from substitute and from substituteFrom ConfigMaps and Secrets (optional),
# substituted object by object after decryption, $${var} escapes, the
# kustomize.toolkit.fluxcd.io/substitute: disabled opt-out, strict mode (on
# by default since kustomize-controller v1.9), Flux's messages; a Secret's
# value never in a log, a status, an Event or a request body it does not
# belong to.

load helpers
load kube_helpers

CANARY=sotto-canary-postbuild-4e1d7

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	kube_fixture app
	cat >"$REPO/app/sa.yaml" <<'Y'
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
  labels:
    env: ${cluster_env:=dev}
automountServiceAccountToken: ${automount}
Y
	cat >"$REPO/app/cm.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  region: "${cluster_region}"
  zone: ${zone:-none}
  count: ${q}${replicas}${q}
  shout: ${cluster_env^^}
  escaped: $${not_a_var}
  script: |
    echo "$HOME" $${PATH}
    echo ${cluster_env}
Y
	cat >"$REPO/app/off.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: untouched
  annotations:
    kustomize.toolkit.fluxcd.io/substitute: disabled
data:
  raw: ${cluster_env} $${x}
Y
	cat >"$T/secret.yaml" <<'Y'
apiVersion: v1
kind: Secret
metadata:
  name: creds
stringData:
  token: ${secret_token}
  greeting: hello-${cluster_env}
Y
	"$SOTTO" encrypt --age "$PUB" "$T/secret.yaml" >"$REPO/app/secret.enc.yaml"
	rm -f "$T/secret.yaml"
	cat >"$REPO/app/kustomization.yaml" <<'Y'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: default
resources:
  - sa.yaml
  - cm.yaml
  - off.yaml
  - secret.enc.yaml
Y
	commit initial
	$K create configmap cluster-vars --from-literal=cluster_region=eu-central-1 \
	    --from-literal=cluster_env=staging --from-literal=zone=a \
	    --dry-run=client -o json >"$T/cv.json"
	$K apply --server-side -f "$T/cv.json" >/dev/null
	$K create secret generic cluster-secret-vars \
	    --from-literal=secret_token="$CANARY" --dry-run=client -o json \
	    >"$T/sv.json"
	$K apply --server-side -f "$T/sv.json" >/dev/null
	write_config
}

teardown() {
	standin_stop
}

POSTBUILD='  postBuild:
    substitute:
      cluster_env: prod
      q: "\""
      replicas: "3"
      automount: "false"
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
      - kind: Secret
        name: cluster-secret-vars
      - kind: ConfigMap
        name: not-there
        optional: true'

write_config() { # [postBuild block]
	cat >"$T/config.yaml" <<Y
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: repo
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
spec:
  interval: 1m
  path: ./app
  prune: true
  sourceRef:
    kind: GitRepository
    name: repo
  decryption:
    provider: sops
    secretRef:
      name: sops-age
${1-$POSTBUILD}
Y
}

reconcile() {
	run_io "$SOTTO" reconcile --allow-file-sources --once --config "$T/config.yaml" \
	    --cache-dir "$T/cache" "$@"
	cat "$T/err" >>"$T/all-logs"
}

ready_status() {
	$K get configmap sotto-inventory-app -o jsonpath='{.data.status}' |
	    python3 -c 'import json,sys; s=json.load(sys.stdin); c=[c for c in s["conditions"] if c["type"]=="Ready"][0]; print(c["status"], c["reason"], c["message"])'
}

cm() { # KEY [NAME]
	$K get configmap "${2:-app-config}" -o json |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][sys.argv[1]], end="")' "$1"
}

secret() { # KEY
	$K get secret creds -o jsonpath="{.data.$1}" | base64 -d
}

# the canary is in no log, no status, no request body (the Secret's own
# body carries it base64-encoded, as data), and nothing was left on disk
assert_no_leak() {
	refute grep -rq "$CANARY" "$T/all-logs"
	refute grep -rqa "$CANARY" "$TMPDIR" "$T/cache"
	[ -z "$(ls -A "$TMPDIR")" ]
	ctl_get /bodies >"$T/bodies"
	refute grep -qa "$CANARY" "$T/bodies"
	refute grep -qa "AGE-SECRET-KEY" "$T/bodies"
	run $K get configmap sotto-inventory-app -o json
	refute grep -q "$CANARY" <<<"$output"
}

@test "variables from substitute, ConfigMaps and Secrets are substituted after decryption" {
	ctl_post /reset
	reconcile
	[ "$status" -eq 0 ]
	[[ "$(ready_status)" == "True ReconciliationSucceeded Applied revision: main@sha1:"* ]]
	# inline values override substituteFrom; later sources override earlier
	[ "$($K get serviceaccount app -o jsonpath='{.metadata.labels.env}')" = prod ]
	[ "$(cm region)" = eu-central-1 ]
	[ "$(cm zone)" = a ]
	[ "$(cm shout)" = PROD ]
	# ${q}${replicas}${q}: Flux's way to keep a number a string
	[ "$(cm count)" = 3 ]
	# an unquoted ${automount} is typed, as Flux's text substitution is
	$K get serviceaccount app -o json | python3 -c '
import json, sys
assert json.load(sys.stdin)["automountServiceAccountToken"] is False'
	# $${var} is ${var}; a lone $ is left alone
	[ "$(cm escaped)" = '${not_a_var}' ]
	[ "$(cm script)" = 'echo "$HOME" ${PATH}
echo prod' ]
	# the disabled object keeps its text, escapes included
	[ "$(cm raw untouched)" = '${cluster_env} $${x}' ]
	# ${var} inside an encrypted value: decrypted first, then substituted
	[ "$(secret token)" = "$CANARY" ]
	[ "$(secret greeting)" = hello-prod ]
	# the sources were read in the Kustomization's namespace, the
	# optional one too
	ctl_get /log >"$T/log"
	grep -q '"method": "GET", "path": "/api/v1/namespaces/default/configmaps/cluster-vars"' "$T/log"
	grep -q '"method": "GET", "path": "/api/v1/namespaces/default/secrets/cluster-secret-vars"' "$T/log"
	grep -q '"method": "GET", "path": "/api/v1/namespaces/default/configmaps/not-there"' "$T/log"
	assert_no_leak
}

@test "a missing source that is not optional fails the build with Flux's message and applies nothing" {
	$K delete configmap cluster-vars >/dev/null
	ctl_post /reset
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready_status)" = "False BuildFailed post build failed for 'ServiceAccount.v1.[noGrp]/app': substitute from 'ConfigMap/cluster-vars' error: configmaps \"cluster-vars\" not found" ]
	run $K get serviceaccount app
	[ "$status" -eq 1 ]
	run $K get configmap app-config
	[ "$status" -eq 1 ]
	run $K get secret creds
	[ "$status" -eq 1 ]
	refute grep -q '"method": "PATCH", "path": "/api/v1/namespaces/default/\(serviceaccounts\|secrets\)' <(ctl_get /log)
	# the same source marked optional: the build goes on without it
	write_config "${POSTBUILD/name: cluster-vars/name: cluster-vars
        optional: true}"
	reconcile
	[ "$status" -eq 1 ]
	# ... as far as the variable that source defined (strict mode)
	[ "$(ready_status)" = "False BuildFailed post build failed for 'ConfigMap.v1.[noGrp]/app-config': envsubst error: variable substitution failed: variable not set (strict mode): \"cluster_region\"" ]
	sed -i 's/${cluster_region}/${cluster_region:-unknown}/' "$REPO/app/cm.yaml"
	commit "a default"
	reconcile
	[ "$status" -eq 0 ]
	[ "$(cm region)" = unknown ]
	[ "$(cm zone)" = none ]
	assert_no_leak
}

@test "a missing Secret source is reported the same way, and fixing it recovers" {
	$K delete secret cluster-secret-vars >/dev/null
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready_status)" = "False BuildFailed post build failed for 'ServiceAccount.v1.[noGrp]/app': substitute from 'Secret/cluster-secret-vars' error: secrets \"cluster-secret-vars\" not found" ]
	$K apply --server-side -f "$T/sv.json" >/dev/null
	reconcile
	[ "$status" -eq 0 ]
	[ "$(secret token)" = "$CANARY" ]
	assert_no_leak
}

@test "an unset variable fails the build (strict, Flux's default) and names the variable, not a value" {
	reconcile
	[ "$status" -eq 0 ]
	printf '  extra: ${undefined_var}\n' >>"$REPO/app/cm.yaml"
	sed -i 's/prod/prod-2/' "$T/config.yaml"
	commit "unset variable"
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready_status)" = "False BuildFailed post build failed for 'ConfigMap.v1.[noGrp]/app-config': envsubst error: variable substitution failed: variable not set (strict mode): \"undefined_var\"" ]
	# nothing of the new revision was applied
	[ "$($K get serviceaccount app -o jsonpath='{.metadata.labels.env}')" = prod ]
	# a default makes it fine
	sed -i 's/${undefined_var}/${undefined_var:=fallback}/' "$REPO/app/cm.yaml"
	commit "default"
	reconcile
	[ "$status" -eq 0 ]
	[ "$(cm extra)" = fallback ]
	[ "$($K get serviceaccount app -o jsonpath='{.metadata.labels.env}')" = prod-2 ]
	assert_no_leak
}

@test "a Secret value that breaks the YAML fails the build without showing the value" {
	$K create secret generic cluster-secret-vars \
	    --from-literal=secret_token="$CANARY: {broken" --dry-run=client -o json \
	    >"$T/sv2.json"
	$K apply --server-side -f "$T/sv2.json" >/dev/null
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready_status)" = "False BuildFailed post build failed for 'Secret.v1.[noGrp]/creds': envsubst error: YAMLToJSON: the substituted text is not valid YAML (a value may hold YAML syntax such as ': ' or a quote)" ]
	run $K get secret creds
	[ "$status" -eq 1 ]
	assert_no_leak
}

@test "a variable name Flux refuses fails the build as Flux does" {
	$K create configmap cluster-vars --from-literal=app.properties=x \
	    --dry-run=client -o json >"$T/cv2.json"
	$K apply --server-side -f "$T/cv2.json" >/dev/null
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready_status)" = "False BuildFailed post build failed for 'ServiceAccount.v1.[noGrp]/app': envsubst error: 'app.properties' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*\$'" ]
}

@test "with no variable nothing is substituted, unless substituteStrategy is Always" {
	cat >"$REPO/app/kustomization.yaml" <<'Y'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: default
resources:
  - defaults.yaml
Y
	cat >"$REPO/app/defaults.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: defaults
data:
  color: ${color:=blue}
  price: $$5
Y
	commit "defaults only"
	write_config "  postBuild:
    substituteFrom:
      - kind: ConfigMap
        name: not-there
        optional: true"
	reconcile
	[ "$status" -eq 0 ]
	[ "$(cm color defaults)" = '${color:=blue}' ]
	[ "$(cm price defaults)" = '$$5' ]
	write_config "  postBuild:
    substituteStrategy: Always"
	reconcile
	[ "$status" -eq 0 ]
	[ "$(cm color defaults)" = blue ]
	[ "$(cm price defaults)" = '$5' ]
}

@test "postBuild fields of the wrong shape stall the Kustomization" {
	write_config "  postBuild:
    substitute:
      replicas: 3"
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready_status)" = "False InvalidSpec spec.postBuild.substitute 'replicas' must be a string (quote numbers and booleans)" ]
	write_config "  postBuild:
    substituteFrom:
      - kind: Pod
        name: x"
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready_status)" = "False InvalidSpec spec.postBuild.substituteFrom[].kind 'Pod': must be one of ConfigMap, Secret" ]
	run $K get configmap app-config
	[ "$status" -eq 1 ]
}

@test "in cluster mode the failure is in the status and a Warning Event, never the value" {
	flux_apply sops-age "$POSTBUILD"
	run_io "$SOTTO" reconcile --allow-file-sources --once --cache-dir "$T/cache"
	cat "$T/err" >>"$T/all-logs"
	[ "$status" -eq 0 ]
	[ "$(secret token)" = "$CANARY" ]
	printf '  extra: ${nope}\n' >>"$REPO/app/cm.yaml"
	commit "unset"
	run_io "$SOTTO" reconcile --allow-file-sources --once --cache-dir "$T/cache"
	cat "$T/err" >>"$T/all-logs"
	[ "$status" -eq 1 ]
	msg="post build failed for 'ConfigMap.v1.[noGrp]/app-config': envsubst error: variable substitution failed: variable not set (strict mode): \"nope\""
	$K get kustomization app -o json | python3 -c '
import json, sys
s = json.load(sys.stdin)["status"]
c = [c for c in s["conditions"] if c["type"] == "Ready"][0]
assert (c["status"], c["reason"], c["message"]) == ("False", "BuildFailed", sys.argv[1]), c' "$msg"
	ctl_get /bodies >"$T/bodies"
	grep -qa '"reason":"BuildFailed"' "$T/bodies"
	grep -qa '"kind":"Event"' "$T/bodies"
	refute grep -qa "$CANARY" "$T/bodies"
	refute grep -rq "$CANARY" "$T/all-logs"
}

@test "every form Flux's envsubst reads, end to end" {
	cat >"$REPO/app/kustomization.yaml" <<'Y'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: default
resources:
  - forms.yaml
Y
	cat >"$REPO/app/forms.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: forms
data:
  plain: ${word}
  braced_text: pre-${word}-post
  length: len-${#word}
  upper_first: ${word^}
  upper_all: ${word^^}
  lower_first: ${shout,}
  lower_all: ${shout,,}
  offset: ${path:6}
  offset_len: ${path:6:3}
  trim_short_prefix: ${file#*.}
  trim_long_prefix: ${file##*.}
  trim_short_suffix: ${file%.*}
  trim_long_suffix: ${file%%.*}
  replace_first: ${dots/./-}
  replace_all: ${dots//./-}
  replace_prefix: ${dots/#a/X}
  replace_suffix: ${dots/%c/Z}
  default_assign: ${unset_a=one}
  default_assign_empty: ${empty:=two}
  default_dash_empty: ${empty:-three}
  default_nested: ${unset_b:=${word}-x}
  plus_reads_as_default: ${unset_c:+four}
  question_reads_as_default: ${unset_d:?five}
  kept_when_set: ${word:=never}
  escaped: $${word} and $${unset_e:=x}
  dollars: cost $$5 and $HOME
Y
	commit "forms"
	write_config "  postBuild:
    substitute:
      word: sotto
      shout: LOUD
      path: /home/bozo/x
      file: a.tar.gz
      dots: a.b.c
      empty: \"\""
	reconcile
	[ "$status" -eq 0 ]
	$K get configmap forms -o json >"$T/forms.json"
	python3 - "$T/forms.json" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))["data"]
want = {
    "plain": "sotto", "braced_text": "pre-sotto-post", "length": "len-5",
    "upper_first": "Sotto", "upper_all": "SOTTO", "lower_first": "lOUD",
    "lower_all": "loud", "offset": "bozo/x", "offset_len": "boz",
    "trim_short_prefix": "tar.gz", "trim_long_prefix": "gz",
    "trim_short_suffix": "a.tar", "trim_long_suffix": "a",
    "replace_first": "a-b.c", "replace_all": "a-b-c",
    "replace_prefix": "X.b.c", "replace_suffix": "a.b.Z",
    "default_assign": "one", "default_assign_empty": "two",
    "default_dash_empty": "three", "default_nested": "sotto-x",
    "plus_reads_as_default": "four", "question_reads_as_default": "five",
    "kept_when_set": "sotto", "escaped": "${word} and ${unset_e:=x}",
    "dollars": "cost $5 and $HOME",
}
bad = {k: (d.get(k), v) for k, v in want.items() if d.get(k) != v}
assert not bad, bad
P
}

@test "forms drone's parser refuses fail the build with its text, as in Flux" {
	cat >"$REPO/app/kustomization.yaml" <<'Y'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: default
resources:
  - bad.yaml
Y
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  v: ${word-x}\n' >"$REPO/app/bad.yaml"
	commit "dash without colon"
	write_config "  postBuild:
    substitute:
      word: sotto"
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready_status)" = "False BuildFailed post build failed for 'ConfigMap.v1.[noGrp]/bad': envsubst error: variable substitution failed: missing closing brace" ]
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  v: ${}\n' >"$REPO/app/bad.yaml"
	commit "empty name"
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready_status)" = "False BuildFailed post build failed for 'ConfigMap.v1.[noGrp]/bad': envsubst error: variable substitution failed: unable to parse variable name" ]
	run $K get configmap bad
	[ "$status" -eq 1 ]
}

@test "the substitute: disabled label opts an object out too, and only that object" {
	cat >"$REPO/app/kustomization.yaml" <<'Y'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: default
resources:
  - two.yaml
Y
	cat >"$REPO/app/two.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: labelled
  labels:
    kustomize.toolkit.fluxcd.io/substitute: disabled
data:
  raw: ${word} ${unset_strict} $${x}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: other
  annotations:
    kustomize.toolkit.fluxcd.io/substitute: enabled
data:
  v: ${word}
Y
	commit "label"
	write_config "  postBuild:
    substitute:
      word: sotto"
	reconcile
	[ "$status" -eq 0 ]
	# opted out: not expanded, and strict mode does not look at it
	[ "$(cm raw labelled)" = '${word} ${unset_strict} $${x}' ]
	# any other value is no opt-out
	[ "$(cm v other)" = sotto ]
}

@test "--feature-gates StrictPostBuildSubstitutions=false reads an unset variable as empty, as Flux's gate" {
	printf '  extra: "[${undefined_var}]"\n' >>"$REPO/app/cm.yaml"
	commit "unset variable"
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready_status)" = "False BuildFailed post build failed for 'ConfigMap.v1.[noGrp]/app-config': envsubst error: variable substitution failed: variable not set (strict mode): \"undefined_var\"" ]
	reconcile --feature-gates StrictPostBuildSubstitutions=false
	[ "$status" -eq 0 ]
	[ "$(cm extra)" = '[]' ]
	[ "$(cm region)" = eu-central-1 ]
	# true, spelt as Go's ParseBool takes it, blanks around, is strict
	sed -i 's/prod/prod-2/' "$T/config.yaml"
	reconcile --feature-gates ' StrictPostBuildSubstitutions = True ,'
	[ "$status" -eq 1 ]
	[[ "$(ready_status)" == *'variable not set (strict mode): "undefined_var"' ]]
	[ "$($K get serviceaccount app -o jsonpath='{.metadata.labels.env}')" = prod ]
	assert_no_leak
}

@test "--feature-gates refuses what Flux's flag refuses" {
	ctl_post /reset
	run_io "$SOTTO" reconcile --once --config "$T/config.yaml" --feature-gates Nope=true
	[ "$status" -eq 2 ]
	[ "$(cat "$T/err")" = "sotto: error: --feature-gates: feature-gate 'Nope' not supported (sotto has StrictPostBuildSubstitutions)" ]
	run_io "$SOTTO" reconcile --once --config "$T/config.yaml" --feature-gates StrictPostBuildSubstitutions
	[ "$status" -eq 2 ]
	[ "$(cat "$T/err")" = "sotto: error: --feature-gates 'StrictPostBuildSubstitutions': malformed pair, expect string=bool" ]
	run_io "$SOTTO" reconcile --once --config "$T/config.yaml" --feature-gates $'StrictPostBuildSubstitutions=no\x1b'
	[ "$status" -eq 2 ]
	[ "$(cat "$T/err")" = "sotto: error: --feature-gates: invalid value of 'StrictPostBuildSubstitutions': 'no\\x1b', want true or false" ]
	# nothing was contacted
	[ -z "$(ctl_get /log | grep -F '"method"')" ]
}
