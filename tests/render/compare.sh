#!/usr/bin/env bash
# Compares `sotto render` with `kubectl kustomize` on every case of this
# corpus (documents in order, parsed), and a plain directory with the
# kustomization that lists the same files.  Usage: compare.sh [SOTTO]
set -u
here=$(cd "$(dirname "$0")" && pwd)
SOTTO=${1:-$here/../../build/sotto}
fail=0
cmp_yaml() {
	python3 - "$1" "$2" <<'PY'
import sys, yaml
a = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]
b = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d is not None]
sys.exit(0 if a == b else 1)
PY
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for dir in basic/overlay generators patches/overlay components/app legacy; do
	kubectl kustomize "$here/$dir" > "$tmp/want" 2>/dev/null || { echo "FAIL $dir: kubectl"; fail=1; continue; }
	"$SOTTO" render "$here/$dir" > "$tmp/got" 2> "$tmp/err" || { echo "FAIL $dir: $(cat "$tmp/err")"; fail=1; continue; }
	if cmp_yaml "$tmp/want" "$tmp/got"; then echo "ok   $dir"; else echo "FAIL $dir: differs"; diff "$tmp/want" "$tmp/got" | head -20; fail=1; fi
done
# plain directory vs a kustomization listing the same files
cp -r "$here/plain/files" "$tmp/plain"
(cd "$tmp/plain" && { echo "resources:"; find . -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | sort | sed 's|^\./|- |'; } > "$tmp/k.yaml")
"$SOTTO" render "$tmp/plain" > "$tmp/got" 2> "$tmp/err" || { echo "FAIL plain: $(cat "$tmp/err")"; fail=1; }
mv "$tmp/k.yaml" "$tmp/plain/kustomization.yaml"
kubectl kustomize "$tmp/plain" > "$tmp/want"
if cmp_yaml "$tmp/want" "$tmp/got"; then echo "ok   plain"; else echo "FAIL plain: differs"; fail=1; fi
exit $fail
