#!/bin/sh
# `make demo`: the main job on an embedded default.  Generates a throwaway
# age key, encrypts a sample with age and with sops value-level
# encryption, decrypts both, renders a kustomization whose Secret is
# decrypted in memory, and shows the results; then, against the test API
# stand-in on loopback, a key born in the cluster: the agent generates it,
# a secret is committed encrypted to its recipient and the agent applies
# it decrypted.  Nothing is kept.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
S=$root/build/sotto
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sotto-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "generate a throwaway age identity"
"$S" age-keygen -o key.txt
recipient=$("$S" age-keygen -y key.txt)

step "age: encrypt and decrypt a file"
printf 'the eagle lands at dawn\n' > note.txt
"$S" age -r "$recipient" -a -o note.txt.age note.txt
head -3 note.txt.age; echo "..."
"$S" age -d -i key.txt note.txt.age

if "$S" encrypt --help >/dev/null 2>&1; then
	step "sops: encrypt the values of a YAML file (keys stay readable)"
	cat > app.yaml <<'YAML'
# database settings
db:
    user: app
    password: hunter2   # rotate monthly
    port: 5432
debug_unencrypted: true
YAML
	cat app.yaml
	"$S" encrypt --age "$recipient" app.yaml > app.enc.yaml
	echo "--- encrypted:"
	cat app.enc.yaml
	step "sops: decrypt it again (byte for byte the original)"
	SOPS_AGE_KEY_FILE=$tmp/key.txt "$S" decrypt app.enc.yaml | tee app.dec.yaml
	cmp app.yaml app.dec.yaml && echo "(identical to the input)"
	step "extract one value"
	SOPS_AGE_KEY_FILE=$tmp/key.txt "$S" decrypt --extract '["db"]["password"]' app.enc.yaml
	echo
	step "render a kustomization, decrypting its Secret in memory"
	mkdir -p k8s
	cat > k8s/secret.yaml <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: hunter2
YAML
	printf 'resources:\n- secret.yaml\nnamespace: prod\nnamePrefix: demo-\n' \
	    > k8s/kustomization.yaml
	"$S" encrypt --age "$recipient" --encrypted-regex '^(data|stringData)$' \
	    -i k8s/secret.yaml
	echo "--- committed (encrypted) k8s/secret.yaml:"
	sed -n 1,7p k8s/secret.yaml
	echo "--- sotto render k8s (what would be applied):"
	SOPS_AGE_KEY_FILE=$tmp/key.txt "$S" render --root "$tmp" k8s
fi
if command -v python3 >/dev/null && command -v kubectl >/dev/null &&
    command -v git >/dev/null && command -v openssl >/dev/null &&
    "$S" cluster --help >/dev/null 2>&1; then
	step "in the cluster: a key born there (the test API stand-in on loopback)"
	python3 "$root/tests/standin/kube_standin.py" --dir "$tmp/api" \
	    --idle-timeout 60 >/dev/null 2>"$tmp/api.err" &
	standin=$!
	i=0
	while [ ! -s "$tmp/api/port" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	export KUBECONFIG=$tmp/api/kubeconfig
	K="kubectl --cache-dir $tmp/kcache --request-timeout=20s"
	"$S" reconcile --allow-file-sources --cache-dir "$tmp/cache" \
	    --poll-interval 0.2s 2>"$tmp/agent.log" &
	agent=$!
	trap 'kill $agent $standin 2>/dev/null || true; rm -rf "$tmp"' EXIT INT TERM
	echo "\$ sotto cluster keygen --secret sops-age"
	cr=$("$S" cluster keygen --secret sops-age --timeout 20s)
	echo "$cr"
	echo "(the agent made the identity inside the Secret; the CLI only got its recipient)"
	grep -o '"msg":"Secret [^"]*"' "$tmp/agent.log" | head -1
	step "commit a Secret encrypted to the cluster's recipient"
	mkdir -p repo/app
	git -C repo init -q -b main
	git -C repo config user.email demo@example.com
	git -C repo config user.name demo
	"$S" cluster recipient --secret sops-age --add-to repo/.sops.yaml '^app/'
	cat repo/.sops.yaml
	cat > repo/app/db.enc.yaml <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: hunter2
YAML
	(cd repo && "$S" encrypt --encrypted-regex '^(data|stringData)$' \
	    -i app/db.enc.yaml)
	printf 'resources:\n- db.enc.yaml\nnamespace: default\n' \
	    > repo/app/kustomization.yaml
	git -C repo add -A && git -C repo commit -qm "db secret"
	sed -n 1,7p repo/app/db.enc.yaml
	step "the agent applies it, decrypted in memory with the cluster's key"
	cat > flux.yaml <<YAML
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: repo, namespace: default}
spec: {interval: 1m, url: "file://$tmp/repo", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app, namespace: default}
spec:
  interval: 1m
  path: ./app
  prune: true
  sourceRef: {kind: GitRepository, name: repo}
  decryption: {provider: sops, secretRef: {name: sops-age}}
YAML
	$K apply --server-side -f flux.yaml >/dev/null
	i=0
	until $K get secret db >/dev/null 2>&1 || [ $i -ge 100 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	echo "\$ kubectl get secret db -o jsonpath='{.data.password}' | base64 -d"
	$K get secret db -o jsonpath='{.data.password}' | base64 -d
	echo
	echo "\$ kubectl get kustomization app -o jsonpath='{.status.decryptionRecipients}'"
	$K get kustomization app -o jsonpath='{.status.decryptionRecipients}'
	echo
	step "rotate: a new identity, the old one kept until nothing uses it"
	"$S" cluster rotate-key --secret sops-age --timeout 20s
	"$S" cluster recipient --secret sops-age --all
	kill $agent 2>/dev/null || true
	wait $agent 2>/dev/null || true
	curl -s -m 2 -X POST "http://127.0.0.1:$(cat "$tmp/api/ctl_port")/quit" \
	    >/dev/null 2>&1 || kill $standin 2>/dev/null || true
	wait $standin 2>/dev/null || true
	if grep -q AGE-SECRET-KEY "$tmp/agent.log"; then
		echo "the key appeared in the agent's log" >&2
		exit 1
	fi
	echo "(no key in the agent's log: $(wc -l < "$tmp/agent.log") JSON lines)"
else
	step "in the cluster: skipped (needs python3, git, openssl and kubectl)"
fi
step "done: everything above lived in $tmp, now removed"
