#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The apply-time hooks: `sotto render` against `kubectl kustomize` on the
# plaintext tree, the tamper and leak twins, refused fields and paths,
# `post-render` and `krm` stream contracts, and the real kubectl/kpt
# plugin runs.  Keys are generated in the test's temp dir.

load helpers

setup() {
	sotto_setup
	"$SOTTO" age-keygen -o key.txt 2>/dev/null
	REC=$(sed -n 's/^# public key: //p' key.txt)
	KEYBODY=$(grep AGE-SECRET-KEY key.txt)
	export SOPS_AGE_KEY_FILE=$T/key.txt
	mkdir -p app
	cat > app/secret.yaml <<-'Y'
	apiVersion: v1
	kind: Secret
	metadata:
	  name: db
	type: Opaque
	stringData:
	  password: canary-5e1f0a
	Y
	printf 'TOKEN=canary-env-77\n' > app/app.env
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: v\n' > app/cm.yaml
	cat > app/kustomization.yaml <<-'Y'
	resources:
	- secret.yaml
	- cm.yaml
	namespace: prod
	secretGenerator:
	- name: env
	  envs: [app.env]
	Y
	cp -r app plain
	"$SOTTO" encrypt --age "$REC" -i app/secret.yaml >/dev/null 2>&1
	"$SOTTO" encrypt --age "$REC" -i app/app.env >/dev/null 2>&1
}

norm() {
	python3 -c '
import sys, yaml, base64
out = []
for d in yaml.safe_load_all(open(sys.argv[1])):
    if not d: continue
    if d.get("kind") == "Secret":
        m = dict(d.pop("stringData", None) or {})
        m.update({k: base64.b64decode(v).decode() for k, v in (d.get("data") or {}).items()})
        d["data"] = m
    out.append(yaml.safe_dump(d, sort_keys=True))
print("\n---\n".join(out))' "$1"
}

@test "render of an encrypted tree equals kubectl kustomize of the plaintext tree" {
	refute grep -q canary app/secret.yaml app/app.env
	kubectl kustomize plain > want.yaml
	run_io "$SOTTO" render app
	assert_status 0
	assert_err ""
	[ "$(norm want.yaml)" = "$(norm "$T/out")" ]
}

@test "the corpus renders exactly as kubectl kustomize" {
	run "$SOTTO_ROOT/tests/render/compare.sh" "$SOTTO"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "a Secret data value holding a sops file takes its key's format; ciphertext left aborts" {
	B=$(base64 -w0 app/secret.yaml)
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: v\ndata:\n  inner.json: %s\n' "$B" > app/v.yaml
	printf 'resources:\n- v.yaml\n' > app/kustomization.yaml
	run_io "$SOTTO" render app
	assert_status 0
	python3 -c '
import base64, json, sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
j = json.loads(base64.b64decode(d["data"]["inner.json"]))
assert j["stringData"]["password"] == "canary-5e1f0a" and "sops" not in j' "$T/out"
	E=$(printf 'x: ENC[AES256_GCM,data:YQ==,iv:YQ==,tag:YQ==,type:str]' | base64 -w0)
	printf '  bare: %s\n' "$E" >> app/v.yaml
	run_io "$SOTTO" render app
	assert_status 1
	assert_out ""
	assert_err_has "Secret//v is SOPS encrypted, configuring decryption is required"
}

@test "a tampered value fails with exit 1, empty stdout and no leak" {
	python3 - <<-'PY'
	import re
	s = open('app/secret.yaml').read()
	m = re.search(r'password: ENC\[AES256_GCM,data:(.)', s); i = m.start(1)
	open('app/secret.yaml', 'w').write(s[:i] + ('A' if s[i] != 'A' else 'B') + s[i+1:])
	PY
	run_io "$SOTTO" render app
	assert_status 1
	assert_out ""
	refute grep -q -e canary -e AGE-SECRET-KEY "$T/err"
}

@test "a wrong key fails without output; no leak in stderr" {
	"$SOTTO" age-keygen -o other.txt 2>/dev/null
	SOPS_AGE_KEY_FILE=$T/other.txt run_io "$SOTTO" render app
	[ "$status" -ne 0 ]
	assert_out ""
	refute grep -q -e canary -e AGE-SECRET-KEY "$T/err"
}

@test "no file is created during a render (empty TMPDIR) and no key or plaintext leaks" {
	mkdir tmpd
	TMPDIR=$T/tmpd run_io "$SOTTO" render app
	assert_status 0
	[ -z "$(ls -A tmpd)" ]
	refute grep -q -e canary -e "$KEYBODY" "$T/err"
	refute grep -rq -e canary -e "$KEYBODY" tmpd app
}

@test "an unknown or unsupported kustomization field is an error naming it" {
	cp app/kustomization.yaml k.yaml
	printf 'frobnicate: []\n' >> app/kustomization.yaml
	run_io "$SOTTO" render app
	assert_status 2
	assert_out ""
	assert_err "sotto: error: 'app/kustomization.yaml': unknown kustomization field 'frobnicate'"
	cp k.yaml app/kustomization.yaml
	printf 'helmCharts:\n- name: x\n' >> app/kustomization.yaml
	run_io "$SOTTO" render app
	assert_status 2
	assert_out ""
	assert_err "sotto: error: 'app/kustomization.yaml': unsupported kustomization field 'helmCharts'"
}

@test "an unknown sub-field is an error naming it, never skipped" {
	printf -- '- name: x\n  env: app.env\n  fromUrl: y\n' > gen.txt
	sed -i '/^secretGenerator:/r gen.txt' app/kustomization.yaml
	run_io "$SOTTO" render app
	assert_status 2
	assert_out ""
	assert_err "sotto: error: 'app/kustomization.yaml': unknown field 'fromUrl' in secretGenerator[0]"
	cp plain/kustomization.yaml app/kustomization.yaml
	printf 'patches:\n- path: cm.yaml\n  target: {kind: ConfigMap, nmae: cm}\n' >> app/kustomization.yaml
	run_io "$SOTTO" render app
	assert_status 2
	assert_err "sotto: error: 'app/kustomization.yaml': unknown field 'nmae' in patches[0].target"
	# a value of the wrong type is refused as kustomize refuses it
	cp plain/kustomization.yaml app/kustomization.yaml
	printf 'commonLabels:\n  version: 1\n' >> app/kustomization.yaml
	run_io "$SOTTO" render app
	assert_status 1
	assert_err "sotto: error: 'app/kustomization.yaml': 'commonLabels.version' must be a string"
}

@test "a folded scalar kustomize reads differently from the YAML spec is refused, not rendered otherwise" {
	# yaml.v3 (kustomize) reads ">" with a more-indented line as
	# "a\n\n b\nc\n", the spec (and our parser) as "a\n b\nc\n"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: f\ndata:\n  e: >\n    a\n     b\n    c\n' > plain/f.yaml
	printf 'resources: [f.yaml]\n' > plain/kustomization.yaml
	run_io "$SOTTO" render plain
	assert_status 1
	assert_out ""
	assert_err "sotto: error: 'plain/f.yaml': ConfigMap 'f': a folded block scalar (line 6) with more-indented lines or kept trailing blank lines, which kustomize reads differently from the YAML spec (not supported)"
	# kept trailing blank lines (">+") too; a plain fold renders
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: f\ndata:\n  e: >+\n    x\n\n  g: >\n    one\n    two\n' > plain/f.yaml
	run_io "$SOTTO" render plain
	assert_status 1
	assert_err_has "folded block scalar (line 6)"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: f\ndata:\n  g: >\n    one\n    two\n' > plain/f.yaml
	run_io "$SOTTO" render plain
	assert_status 0
	[[ $out == *"g: |"* || $out == *"g: one two"* ]]
}

@test "remote bases are refused with --no-remote-bases, unpinned, or as http(s) files (707 fetches them)" {
	printf 'resources:\n- https://github.com/x/y//base?ref=v1\n' > app/kustomization.yaml
	run_io "$SOTTO" render --no-remote-bases app
	assert_status 1
	assert_err "sotto: error: 'app/kustomization.yaml': remote base 'https://github.com/x/y//base?ref=v1': remote bases are disabled (--no-remote-bases)"
	printf 'resources:\n- https://github.com/x/y//base\n' > app/kustomization.yaml
	run_io "$SOTTO" render app
	assert_status 2
	assert_err "sotto: error: 'app/kustomization.yaml': remote base 'https://github.com/x/y//base': no ?ref=: pin the base to a tag, a branch or a commit"
	printf 'resources:\n- https://github.com/x/y/releases/download/v1/install.yaml\n' > app/kustomization.yaml
	run_io "$SOTTO" render app
	assert_status 1
	assert_err "sotto: error: 'app/kustomization.yaml': remote base 'https://github.com/x/y/releases/download/v1/install.yaml': http(s) file and archive URLs are not supported, only git repositories (host/org/repo//path?ref=...)"
}

@test "paths may not leave the root: .., absolute, symlink" {
	mkdir -p root/k && printf 'resources:\n- ../../plain\n' > root/k/kustomization.yaml
	run_io "$SOTTO" render --root root root/k
	assert_status 2
	assert_err_has "leaves the root"
	printf 'resources:\n- /etc/passwd\n' > root/k/kustomization.yaml
	run_io "$SOTTO" render --root root root/k
	assert_err_has "absolute paths are not allowed"
	ln -s "$T/plain/cm.yaml" root/k/link.yaml
	printf 'resources:\n- link.yaml\n' > root/k/kustomization.yaml
	run_io "$SOTTO" render --root root root/k
	assert_err_has "leaves the root"
}

@test "post-render keeps document order and comments and decrypts in place" {
	{ printf '# head comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first # keep\n---\n'
	  cat app/secret.yaml; printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: last\n'; } > stream.yaml
	IN=stream.yaml run_io "$SOTTO" post-render
	assert_status 0
	grep -q '^# head comment' "$T/out"
	grep -q 'name: first # keep' "$T/out"
	grep -q 'password: canary-5e1f0a' "$T/out"
	refute grep -q 'sops:' "$T/out"
	[ "$(grep -o 'name: [a-z]*' "$T/out" | tr '\n' ' ')" = "name: first name: db name: last " ]
}

@test "post-render passes a JSON (flow) document through byte for byte" {
	# found by tests/fuzz/fuzz_post_render.c: it was re-emitted in block
	# style, with 1.0 written as 1
	printf '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}, "x": 1.0}\n---\n' > stream.yaml
	cat app/secret.yaml >> stream.yaml
	IN=stream.yaml run_io "$SOTTO" post-render
	assert_status 0
	[ "$(head -1 "$T/out")" = '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}, "x": 1.0}' ]
	grep -q 'password: canary-5e1f0a' "$T/out"
}

@test "post-render of a tampered stream fails with nothing on stdout" {
	# change the first ciphertext character to a different one (a fixed
	# replacement would be a no-op one time in 64)
	python3 -c 'import re,sys;s=open(sys.argv[1]).read();i=re.search(r"password: ENC\[AES256_GCM,data:(.)",s).start(1);sys.stdout.write(s[:i]+("A" if s[i]!="A" else "B")+s[i+1:])' app/secret.yaml > bad.yaml
	refute cmp -s app/secret.yaml bad.yaml
	IN=bad.yaml run_io "$SOTTO" post-render
	assert_status 1
	assert_out ""
}

@test "kubectl kustomize --enable-alpha-plugins runs the installed kustomize-plugin" {
	export XDG_CONFIG_HOME=$T/xdg
	run_io "$SOTTO" kustomize-plugin install
	assert_status 0
	mkdir gen && cp app/secret.yaml gen/secret.enc.yaml
	printf 'apiVersion: sotto.dev/v1\nkind: SottoSecretGenerator\nmetadata:\n  name: s\nfiles:\n- secret.enc.yaml\n' > gen/gen.yaml
	printf 'generators:\n- gen.yaml\n' > gen/kustomization.yaml
	run kubectl kustomize --enable-alpha-plugins gen
	[ "$status" -eq 0 ]
	[[ "$output" == *"password: canary-5e1f0a"* ]]
}

@test "kpt fn eval --exec with sotto krm decrypts items and generates" {
	command -v kpt >/dev/null || skip "kpt not installed"
	mkdir -p kp/pkg && cp app/secret.yaml kp/pkg/
	printf '#!/bin/sh\nexec "%s" krm\n' "$SOTTO" > kp/krm && chmod +x kp/krm
	printf 'apiVersion: sotto.dev/v1\nkind: SottoSecretGenerator\nmetadata:\n  name: s\nfiles:\n- secret.yaml\n' > kp/fn.yaml
	cd kp/pkg
	run kpt fn eval . --exec ../krm --fn-config ../fn.yaml -o stdout
	[ "$status" -eq 0 ]
	[ "$(grep -c 'password: canary-5e1f0a' <<<"$output")" -eq 2 ]
}

@test "krm: a ResourceList with a tampered item fails with exit 1 and no stdout" {
	python3 -c 'import re,sys;s=open(sys.argv[1]).read();i=re.search(r"password: ENC\[AES256_GCM,data:(.)",s).start(1);sys.stdout.write(s[:i]+("A" if s[i]!="A" else "B")+s[i+1:])' app/secret.yaml > bad.yaml
	refute cmp -s app/secret.yaml bad.yaml
	{ printf 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- '
	  sed '2,$s/^/  /' bad.yaml; } > rl.yaml
	IN=rl.yaml run_io "$SOTTO" krm
	assert_status 1
	assert_out ""
}

@test "--list-fields prints the renderer's table; sotto-render(1) and the README list the same fields" {
	run_io "$SOTTO" render --list-fields
	assert_status 0
	grep -q '^replacements	list	supported: inline or path$' "$T/out"
	grep -q '^helmCharts	list	refused: Helm runs a program$' "$T/out"
	grep -q '^commonLabels	map	supported (legacy)$' "$T/out"
	"$SOTTO" render --list-fields=roff >"$T/roff"
	sed -n '/^\.\\" BEGIN FIELDS/,/^\.\\" END FIELDS/p' "$SOTTO_ROOT/man/sotto-render.1" |
	    sed '1d;$d' >"$T/man"
	diff -u "$T/roff" "$T/man"
	"$SOTTO" render --list-fields=md >"$T/md"
	sed -n '/^<!-- BEGIN RENDER FIELDS/,/^<!-- END RENDER FIELDS/p' "$SOTTO_ROOT/README.md" |
	    sed '1d;$d' >"$T/readme"
	diff -u "$T/md" "$T/readme"
	run_io "$SOTTO" render --list-fields=html
	assert_status 2
	assert_err "sotto: error: --list-fields 'html': want text, roff or md"
}

@test "every field the table lists as refused is an error naming it" {
	mkdir -p k && printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n' > k/c.yaml
	"$SOTTO" render --list-fields | while IFS='	' read -r name type st; do
		case $st in
		refused*)
			printf 'resources: [c.yaml]\n%s: %s\n' "$name" \
			    "$([ "$type" = object ] && echo '{a: b}' || echo '[{}]')" > k/kustomization.yaml
			run_io "$SOTTO" render k
			[ "$status" -ne 0 ] || { echo "$name accepted"; false; }
			grep -q "$name" "$T/err" || { echo "$name: $(cat "$T/err")"; false; }
			;;
		esac
	done
}

@test "an empty kustomization used as a base or component is an error, as in kustomize" {
	mkdir -p e/base && printf 'resources:\n- base\n' > e/kustomization.yaml
	printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n' > e/base/kustomization.yaml
	run_io "$SOTTO" render --root e e
	assert_status 1
	assert_err "sotto: error: 'base/kustomization.yaml': kustomization is empty"
	assert_out ""
	printf 'resources: []\n' > e/base/kustomization.yaml
	run_io "$SOTTO" render --root e e
	assert_status 0
}

@test "a label or annotation key YAML reads as no string is an error, as kustomize fails on it" {
	printf 'resources:\n- cm.yaml\ncommonLabels:\n  "true": v\n' > app/kustomization.yaml
	run_io "$SOTTO" render app
	assert_status 2
	assert_err "sotto: error: 'app': label key 'true' reads as a number, boolean, null or date in YAML: kustomize cannot set it"
	assert_out ""
	printf 'resources:\n- cm.yaml\ncommonAnnotations:\n  "2001-12-14": v\n' > app/kustomization.yaml
	run_io "$SOTTO" render app
	assert_status 2
	assert_err "sotto: error: 'app': annotation key '2001-12-14' reads as a number, boolean, null or date in YAML: kustomize cannot set it"
	# "on" is a string in YAML 1.2 and kustomize quotes it
	printf 'resources:\n- cm.yaml\nlabels:\n- pairs:\n    "on": v\n' > app/kustomization.yaml
	run_io "$SOTTO" render app
	assert_status 0
	# a kustomization with no object to label builds, as in kustomize
	printf 'commonLabels:\n  "true": v\n' > app/kustomization.yaml
	run_io "$SOTTO" render app
	assert_status 0
}
