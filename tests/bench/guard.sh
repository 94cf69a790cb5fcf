#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# sotto guard on a generated repository with 10,000 staged files: a mix of
# sops-encrypted files under a creation rule, Kubernetes manifests (some
# sops-encrypted Secrets) and source code.  Prints the best of three wall
# times, the per-file rate and the peak memory.  Informs, does not gate.
set -u
SOTTO=${SOTTO:-$PWD/build/sotto}
N=${GUARD_BENCH_FILES:-10000}
W=$(mktemp -d /tmp/sotto-bench-guard.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1
"$SOTTO" age-keygen -o key.txt 2>/dev/null
P=$(grep -o 'age1[0-9a-z]*' key.txt | head -1)
export SOPS_AGE_KEY_FILE=$W/key.txt
git init -q repo && cd repo || exit 1
printf 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: %s\n  - path_regex: k8s/.*secret.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: %s\n' "$P" "$P" >.sops.yaml
mkdir -p secrets k8s src
# 20 distinct encrypted sops files and Secrets, copied under many names
for i in $(seq 1 20); do
	printf 'db:\n  user: app%d\n  password: pw-%d-%s\napi_key: k%d\n' "$i" "$i" "$RANDOM" "$i" >"$W/s$i.yaml"
	"$SOTTO" encrypt --filename-override secrets/x.yaml "$W/s$i.yaml" >"$W/s$i.enc.yaml" 2>/dev/null
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s%d\nstringData:\n  token: t%d\n' "$i" "$i" >"$W/k$i.yaml"
	"$SOTTO" encrypt --filename-override k8s/secret.yaml "$W/k$i.yaml" >"$W/k$i.enc.yaml" 2>/dev/null
done
q=$((N / 4))
for i in $(seq 1 "$q"); do
	cp "$W/s$((i % 20 + 1)).enc.yaml" "secrets/s$i.yaml"
	cp "$W/k$((i % 20 + 1)).enc.yaml" "k8s/secret-$i.yaml"
	printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d%d\nspec:\n  replicas: %d\n  template:\n    spec:\n      containers:\n        - name: c\n          image: nginx:1.%d\n' "$i" "$((i % 5))" "$i" >"k8s/deploy-$i.yaml"
	printf '/* file %d */\n#include <stdio.h>\nint\nf%d(void)\n{\n\treturn printf("%%d\\n", %d);\n}\n' "$i" "$i" "$i" >"src/f$i.c"
done
git add -A >/dev/null 2>&1
n=$(git ls-files | wc -l)
best=999
for _ in 1 2 3; do
	s=$(date +%s.%N)
	"$SOTTO" guard >/dev/null 2>&1
	rc=$?
	e=$(date +%s.%N)
	best=$(awk -v s="$s" -v e="$e" -v b="$best" 'BEGIN{d=e-s; print (d<b)?d:b}')
done
mem=
if [ -x /usr/bin/time ]; then
	/usr/bin/time -o "$W/rss" -f '%M' "$SOTTO" guard >/dev/null 2>&1
	mem=$(tail -1 "$W/rss")
fi
printf 'guard: %d staged files in %.3fs (%.1f us/file, %.0f files/s), peak RSS %s KiB, exit %d\n' \
    "$n" "$best" "$(awk -v b="$best" -v n="$n" 'BEGIN{print b*1e6/n}')" \
    "$(awk -v b="$best" -v n="$n" 'BEGIN{print n/b}')" "${mem:-?}" "$rc"
[ "$rc" = 0 ]
