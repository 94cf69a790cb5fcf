#!/bin/sh
# `make demo`: the main job on an embedded default.  Generates a throwaway
# age key, encrypts a sample with age and with sops value-level
# encryption, decrypts both, renders a kustomization whose Secret is
# decrypted in memory, and shows the results.  Nothing is kept.
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
step "done: everything above lived in $tmp, now removed"
