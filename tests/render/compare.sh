#!/usr/bin/env bash
# Compares `sotto render` with `kubectl kustomize` on every case of this
# corpus (documents in order, parsed), and a plain directory with the
# kustomization that lists the same files.  Usage: compare.sh [SOTTO]
#
# A case is GROUP[/DIR][:WANT].  GROUP is copied to a temp dir, the files
# listed in GROUP/.encrypt are encrypted there with a fresh age key, and
# `sotto render` of the copy's DIR must equal `kubectl kustomize` of the
# plaintext GROUP/WANT (WANT defaults to DIR).  An error case must fail
# in both.
set -u
here=$(cd "$(dirname "$0")" && pwd)
SOTTO=${1:-$here/../../build/sotto}
fail=0
cases="basic/overlay generators patches/overlay components/app legacy
stack/top labels images replicas genmerge/overlay secrets/overlay
json6902 smp targets compstack/app namespace sottogen/app:sottogen/want
diamond/top delete replacements plugins dupkeys plugorigin/top crds vars configs
sortopts buildmeta namerefs"
errors="errors/json-test errors/merge-missing errors/smp-no-match
errors/json-missing-path errors/dup-id errors/component-as-resource
errors/gen-dup-key errors/bad-literal errors/dup-resource errors/smp-wrong-ns
errors/component-no-kind errors/dup-dir errors/repl-nothing errors/empty-base
errors/empty-comp errors/label-key"
cmp_yaml() {
	python3 - "$1" "$2" <<'PY'
import difflib, sys, yaml
a = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]
b = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d is not None]
if a == b:
    sys.exit(0)
dump = lambda v: yaml.safe_dump_all(v, sort_keys=True).splitlines()
sys.stdout.writelines(l + "\n" for l in list(difflib.unified_diff(
    dump(a), dump(b), "kubectl", "sotto", lineterm="", n=2))[:40])
sys.exit(1)
PY
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$SOTTO" age-keygen -o "$tmp/key.txt" 2>/dev/null
rec=$(sed -n 's/^# public key: //p' "$tmp/key.txt")
export SOPS_AGE_KEY_FILE=$tmp/key.txt
# copies GROUP to $tmp/c/GROUP (once) and encrypts its .encrypt list there
prepare() {
	local d=$tmp/c/$1 f
	[ -d "$d" ] && return 0
	mkdir -p "$tmp/c" && cp -r "$here/$1" "$d" || return 1
	[ -f "$d/.encrypt" ] || return 0
	while read -r f; do
		[ -n "$f" ] || continue
		"$SOTTO" encrypt --age "$rec" -i "$d/$f" >/dev/null 2>&1 &&
		    ! cmp -s "$here/$1/$f" "$d/$f" ||
		    { echo "FAIL $1: cannot encrypt $f"; return 1; }
	done < "$d/.encrypt"
}
for c in $cases; do
	dir=${c%%:*}; want=${c#*:}; [ "$want" = "$c" ] && want=$dir
	g=${dir%%/*}; sub=${dir#"$g"}; wsub=${want#"$g"}
	prepare "$g" || { fail=1; continue; }
	kubectl kustomize "$here/$g$wsub" > "$tmp/want" 2> "$tmp/err" || { echo "FAIL $c: kubectl: $(cat "$tmp/err")"; fail=1; continue; }
	"$SOTTO" render --root "$tmp/c/$g" "$tmp/c/$g$sub" > "$tmp/got" 2> "$tmp/err" || { echo "FAIL $c: $(cat "$tmp/err")"; fail=1; continue; }
	if cmp_yaml "$tmp/want" "$tmp/got" > "$tmp/diff"; then echo "ok   $c"; else echo "FAIL $c: differs"; cat "$tmp/diff"; fail=1; fi
done
# error parity: kustomize refuses these, so must we (with empty stdout)
for c in $errors; do
	g=${c%%/*}
	prepare "$g" || { fail=1; continue; }
	if kubectl kustomize "$here/$c" > /dev/null 2>&1; then echo "FAIL $c: kubectl accepts it"; fail=1; continue; fi
	"$SOTTO" render --root "$tmp/c/$g" "$tmp/c/$c" > "$tmp/got" 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 0 ] || [ -s "$tmp/got" ]; then
		echo "FAIL $c: sotto accepts it"; fail=1
	elif [ $rc -gt 2 ]; then
		echo "FAIL $c: sotto exits $rc: $(head -c 300 "$tmp/err")"; fail=1
	else
		echo "ok   $c (both refuse: $(head -c 100 "$tmp/err"))"
	fi
done
# plain directory (one file encrypted) vs a kustomization listing the
# same plaintext files
cp -r "$here/plain/files" "$tmp/plain"
cp -r "$here/plain/files" "$tmp/plainw"
"$SOTTO" encrypt --age "$rec" -i "$tmp/plain/one.yaml" >/dev/null 2>&1 || { echo "FAIL plain: cannot encrypt"; fail=1; }
(cd "$tmp/plainw" && { echo "resources:"; find . -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | sort | sed 's|^\./|- |'; } > "$tmp/k.yaml")
"$SOTTO" render "$tmp/plain" > "$tmp/got" 2> "$tmp/err" || { echo "FAIL plain: $(cat "$tmp/err")"; fail=1; }
mv "$tmp/k.yaml" "$tmp/plainw/kustomization.yaml"
kubectl kustomize "$tmp/plainw" > "$tmp/want"
if cmp_yaml "$tmp/want" "$tmp/got" > "$tmp/diff"; then echo "ok   plain"; else echo "FAIL plain: differs"; cat "$tmp/diff"; fail=1; fi
exit $fail
