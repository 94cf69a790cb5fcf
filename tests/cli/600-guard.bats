#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# sotto guard / hook / git-setup in throwaway repositories, through real
# `git commit` and `git push` calling the installed hooks.  Every rule has
# a blocked and an allowed case.

load helpers

setup() {
	sotto_setup || return 1
	for v in $(env | sed -n 's/^\(SOPS_[A-Z0-9_]*\)=.*/\1/p'); do
		unset "$v"
	done
	unset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE XDG_CONFIG_HOME
	export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t \
	    GIT_COMMITTER_EMAIL=t@t GIT_CONFIG_NOSYSTEM=1
	git config --global init.defaultBranch main
	git config --global protocol.file.allow always
	"$SOTTO" age-keygen -o "$T/key.txt" 2>/dev/null
	P=$(grep -o 'age1[0-9a-z]*' "$T/key.txt" | head -1)
	export SOPS_AGE_KEY_FILE=$T/key.txt
	R=$T/repo
	git init -q "$R"
	cd "$R" || return 1
	printf 'creation_rules:\n  - path_regex: secrets/.*$\n    age: %s\n  - path_regex: \\.enc\\.yaml$\n    age: %s\n' "$P" "$P" >.sops.yaml
	run_io "$SOTTO" hook install
	assert_status 0
	git add .sops.yaml
	git commit -qm init
	mkdir -p secrets k8s docs
}

# commit_blocked MSG PATH: the commit fails, HEAD stays, PATH is named
commit_blocked() {
	local h
	h=$(git rev-parse HEAD)
	run_io git commit -qm "$1"
	if [ "$status" = 0 ]; then
		echo "not blocked: $1" >&2
		return 1
	fi
	[ "$(git rev-parse HEAD)" = "$h" ] || return 1
	assert_err_has "$2"
}

commit_allowed() {
	run_io git commit -qm "$1"
	if [ "$status" != 0 ]; then
		echo "wrongly blocked: $1" >&2
		cat "$T/err" >&2
		return 1
	fi
}

@test "sops-plaintext: plaintext under a creation rule is blocked, encrypted passes" {
	printf 'password: hunter2\n' >secrets/db.yaml
	git add secrets/db.yaml
	commit_blocked plain secrets/db.yaml
	assert_err_has "sops-plaintext"
	assert_err_has "sotto encrypt -i 'secrets/db.yaml'"
	"$SOTTO" encrypt -i secrets/db.yaml
	git add secrets/db.yaml
	commit_allowed encrypted
}

@test "sops-plaintext: .sops.yaml itself is not required to be encrypted by a rule that matches it" {
	# README's own rule: '\.(yaml|env)$' matches '.sops.yaml' too
	printf 'creation_rules:\n  - path_regex: \\.(yaml|env)$\n    age: %s\n' \
	    "$(grep -o 'age1[0-9a-z]*' "$SOPS_AGE_KEY_FILE" | head -1)" >.sops.yaml
	mkdir -p sub
	cp .sops.yaml sub/.sops.yaml
	git add .sops.yaml sub/.sops.yaml
	commit_allowed config
	printf 'password: hunter2\n' >sub/app.yaml
	git add sub/app.yaml
	commit_blocked plain sub/app.yaml
}

@test "sops-plaintext: a value left in clear by hand is blocked" {
	printf 'a: 1\nb: two\n' >secrets/app.yaml
	"$SOTTO" encrypt -i secrets/app.yaml
	sed -i 's/^b: .*/b: two-in-clear/' secrets/app.yaml
	git add secrets/app.yaml
	commit_blocked tampered secrets/app.yaml
	assert_err_has "'b'"
}

@test "k8s-secret: a plaintext Secret anywhere is blocked, a sops one passes" {
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  token: abc\n' >k8s/s.yaml
	git add k8s/s.yaml
	commit_blocked secret k8s/s.yaml
	assert_err_has "k8s-secret"
	# the fix names the rule to add: `sotto encrypt -i` alone fails here
	assert_err_has "k8s/s.yaml:6: k8s-secret Kubernetes Secret 'x' has stringData in clear: encrypt it with sops
    fix: add a creation rule for it to .sops.yaml, e.g.
           - path_regex: '^k8s/s\.yaml\$'
             encrypted_regex: '^(data|stringData)\$'
             age: $P
         then: sotto encrypt -i 'k8s/s.yaml' && git add 'k8s/s.yaml'"
	run_io "$SOTTO" encrypt -i k8s/s.yaml
	[ "$status" -ne 0 ]
	# following it works
	printf "  - path_regex: '^k8s/s\\.yaml\$'\n    encrypted_regex: '^(data|stringData)\$'\n    age: %s\n" "$P" >>.sops.yaml
	run_io "$SOTTO" encrypt -i 'k8s/s.yaml'
	assert_status 0
	git add k8s/s.yaml .sops.yaml
	commit_allowed encrypted-secret
	grep -q '^kind: Secret$' k8s/s.yaml
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n' >k8s/c.yaml
	git add k8s/c.yaml
	commit_allowed configmap
}

@test "private-key: age, OpenSSH, PEM and PGP private keys are blocked, public keys pass" {
	"$SOTTO" age-keygen -o leaked.txt 2>/dev/null
	git add leaked.txt
	commit_blocked age leaked.txt
	assert_err_has "private-key"
	git rm -q --cached leaked.txt
	ssh-keygen -q -t ed25519 -N '' -f id_test
	git add id_test.pub
	commit_allowed public-key
	git add id_test
	commit_blocked openssh id_test
	git rm -q --cached id_test
	ssh-keygen -q -t rsa -b 1024 -m PEM -N '' -f id_pem
	git add id_pem
	commit_blocked pem id_pem
	git rm -q --cached id_pem
	{ printf -- '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n'
	  head -c 300 /dev/urandom | base64 -w 64
	  printf -- '-----END PGP PRIVATE KEY BLOCK-----\n'; } >key.asc
	git add key.asc
	commit_blocked pgp key.asc
	git rm -q --cached key.asc
	printf '# Keys\nA key file starts with `-----BEGIN PRIVATE KEY-----`.\n' >docs/keys.md
	git add docs/keys.md
	commit_allowed prose
}

@test "decrypted-copy: a decrypted copy beside its encrypted file is blocked; without a key the report says it is skipped" {
	printf 'password: hunter2\n' >app.enc.yaml
	"$SOTTO" encrypt -i app.enc.yaml
	git add app.enc.yaml
	commit_allowed encrypted
	printf 'password: hunter2\n' >app.yaml
	git add app.yaml
	commit_blocked copy app.yaml
	assert_err_has "decrypted-copy"
	printf 'password: other\n' >app.yaml
	git add app.yaml
	run_io env -u SOPS_AGE_KEY_FILE "$SOTTO" guard
	assert_status 0
	printf 'password: hunter2\n' >app.yaml
	git add app.yaml
	run_io env -u SOPS_AGE_KEY_FILE "$SOTTO" guard
	assert_status 0
	[[ $out == *"decrypted-copy skipped"* ]]
}

@test "staged content counts: encrypted in the index passes, plaintext in the index is blocked" {
	printf 'password: hunter2\n' >secrets/a.yaml
	"$SOTTO" encrypt -i secrets/a.yaml
	git add secrets/a.yaml
	"$SOTTO" decrypt -i secrets/a.yaml
	commit_allowed partial-ok
	printf 'password: hunter3\n' >secrets/b.yaml
	git add secrets/b.yaml
	"$SOTTO" encrypt -i secrets/b.yaml
	commit_blocked partial-bad secrets/b.yaml
}

@test "git commit -a is checked through GIT_INDEX_FILE" {
	printf 'password: x\n' >secrets/c.yaml
	"$SOTTO" encrypt -i secrets/c.yaml
	git add secrets/c.yaml
	commit_allowed enc
	"$SOTTO" decrypt -i secrets/c.yaml
	run_io git commit -qam all
	[ "$status" != 0 ]
	assert_err_has secrets/c.yaml
	# and a relative GIT_INDEX_FILE, as git may pass it
	git add secrets/c.yaml
	run_io env GIT_INDEX_FILE=.git/index "$SOTTO" guard
	assert_status 1
}

@test "renamed files are checked at their new path" {
	printf 'password: x\n' >docs/notes.yaml
	git add docs/notes.yaml
	commit_allowed outside-rules
	git mv docs/notes.yaml secrets/notes.yaml
	commit_blocked rename secrets/notes.yaml
}

@test "binary files: random bytes pass, a key inside bytes or a plain binary under a rule is blocked" {
	head -c 4096 /dev/urandom >img.bin
	git add img.bin
	commit_allowed binary
	{ head -c 100 /dev/urandom; grep AGE-SECRET "$T/key.txt"; head -c 100 /dev/urandom; } >blob.bin
	git add blob.bin
	commit_blocked key-in-binary blob.bin
	git rm -q --cached blob.bin
	head -c 512 /dev/urandom >secrets/cert.der
	git add secrets/cert.der
	commit_blocked plain-binary secrets/cert.der
	"$SOTTO" encrypt -i secrets/cert.der
	git add secrets/cert.der
	commit_allowed enc-binary
}

@test "hook chains an existing hook, is idempotent, and uninstalls back" {
	git config core.hooksPath .githooks
	mkdir -p .githooks
	printf '#!/bin/sh\necho previous-hook-ran >&2\n[ ! -e stop ]\n' >.githooks/pre-commit
	chmod +x .githooks/pre-commit
	run_io "$SOTTO" hook install
	assert_status 0
	run_io "$SOTTO" hook install
	assert_status 0
	[[ $out == *"already installed"* ]]
	[ -x .githooks/pre-commit.sotto-chained ]
	printf 'password: x\n' >secrets/d.yaml
	git add secrets/d.yaml
	commit_blocked chained secrets/d.yaml
	assert_err_has previous-hook-ran
	git rm -q --cached secrets/d.yaml
	touch stop
	printf 'x\n' >ok.txt
	git add ok.txt
	commit_blocked previous-fails previous-hook-ran
	rm stop
	commit_allowed both-pass
	run_io "$SOTTO" hook uninstall
	assert_status 0
	[ ! -e .githooks/pre-commit.sotto-chained ]
	grep -q previous-hook-ran .githooks/pre-commit
}

@test "a hook whose sotto binary is gone fails the commit and says so" {
	mkdir -p "$T/b2"
	cp "$SOTTO" "$T/b2/sotto"
	"$T/b2/sotto" hook install >/dev/null
	rm "$T/b2/sotto"
	printf 'x\n' >ok.txt
	git add ok.txt
	run_io env PATH=/usr/bin:/bin git commit -qm gone
	[ "$status" != 0 ]
	assert_err_has "no 'sotto' is on PATH"
	# with sotto on PATH the hook falls back to it
	mkdir -p "$T/b3"
	ln -s "$SOTTO" "$T/b3/sotto"
	run_io env PATH="$T/b3:/usr/bin:/bin" git commit -qm fallback
	assert_status 0
}

@test "pre-push: pushing a commit with a plaintext secret to a bare repo is refused" {
	git init -q --bare "$T/remote.git"
	git remote add origin "$T/remote.git"
	run_io "$SOTTO" hook install --pre-push
	assert_status 0
	git push -q origin main
	printf 'password: x\n' >secrets/e.yaml
	git add secrets/e.yaml
	git commit -q --no-verify -m sneaky
	run_io git push -q origin main
	[ "$status" != 0 ]
	grep -q 'secrets/e.yaml:1: sops-plaintext' "$T/out" "$T/err"
	"$SOTTO" encrypt -i secrets/e.yaml
	git add secrets/e.yaml
	git commit -qm fixed
	# the bad commit is still in the pushed range
	run_io git push -q origin main
	[ "$status" != 0 ]
	git reset -q --hard HEAD~2
	printf 'fine\n' >f.txt
	git add f.txt
	git commit -qm fine
	run_io git push -q origin main
	assert_status 0
	[ "$(git rev-parse HEAD)" = "$(git --git-dir="$T/remote.git" rev-parse main)" ]
}

@test "--range, --all and --format json" {
	printf 'password: x\n' >secrets/g.yaml
	git add secrets/g.yaml
	git commit -q --no-verify -m bad
	run_io "$SOTTO" guard --range HEAD~1..HEAD
	assert_status 1
	[[ $out == *":secrets/g.yaml:1: sops-plaintext"* ]]
	run_io "$SOTTO" guard --all --format json
	assert_status 1
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["findings"][0]["rule"]=="sops-plaintext", d' "$T/out"
	run_io "$SOTTO" guard --range HEAD
	assert_status 1
	run_io "$SOTTO" guard --range HEAD~1
	assert_status 0
	run_io "$SOTTO" guard --bogus
	assert_status 2
	cd "$T"
	run_io "$SOTTO" guard
	assert_status 2
}

@test ".sottoignore and sotto:allow pass, and the report lists them" {
	mkdir -p fixtures
	cp "$T/key.txt" fixtures/test-key.txt
	printf '/fixtures/\n' >.sottoignore
	git add .sottoignore fixtures
	run_io "$SOTTO" guard
	assert_status 0
	[[ $out == *"allowed by .sottoignore:1 '/fixtures/'"* ]]
	commit_allowed ignored
	{ echo '# sotto:allow private-key (published demo key)'; grep AGE-SECRET "$T/key.txt"; } >demo.txt
	git add demo.txt
	run_io "$SOTTO" guard
	assert_status 0
	[[ $out == *"allowed by sotto:allow at line 1"* ]]
}

@test "worktrees and submodules use their own index" {
	git worktree add -q "$T/wt"
	cd "$T/wt"
	mkdir -p secrets
	printf 'password: x\n' >secrets/w.yaml
	git add secrets/w.yaml
	commit_blocked worktree secrets/w.yaml
	cd "$T"
	git init -q sub
	(cd sub && printf 'x\n' >x && git add x && git commit -qm s)
	cd "$R"
	git submodule -q add "$T/sub" sub
	git commit -qm submodule
	cd sub
	cp "$R/.sops.yaml" .
	"$SOTTO" hook install >/dev/null
	mkdir -p secrets
	printf 'password: x\n' >secrets/s.yaml
	git add .sops.yaml secrets/s.yaml
	commit_blocked in-submodule secrets/s.yaml
}

@test "git-setup: textconv shows decrypted diffs with a key, ciphertext without" {
	run_io "$SOTTO" git-setup --attributes 'secrets/** diff=sotto'
	assert_status 0
	[ "$(git config diff.sotto.cachetextconv)" = false ]
	# the attribute is not doubled; the bare pattern adds nothing more
	[ "$(cat .gitattributes)" = 'secrets/** diff=sotto' ]
	"$SOTTO" git-setup --attributes 'secrets/**' >/dev/null
	[ "$(cat .gitattributes)" = 'secrets/** diff=sotto' ]
	run_io "$SOTTO" git-setup --attributes 'a b'
	assert_status 2
	assert_err_has "--attributes 'a b': want one gitattributes pattern, such as 'secrets/**'"
	printf 'password: first\n' >secrets/t.yaml
	"$SOTTO" encrypt -i secrets/t.yaml
	git add .gitattributes secrets/t.yaml
	commit_allowed base
	"$SOTTO" decrypt -i secrets/t.yaml
	sed -i 's/first/second/' secrets/t.yaml
	"$SOTTO" encrypt -i secrets/t.yaml
	run_io git diff
	[[ $out == *"-password: first"* && $out == *"+password: second"* ]]
	run_io env -u SOPS_AGE_KEY_FILE git diff
	[[ $out == *"ENC[AES256_GCM"* && $out != *second* ]]
}

@test "pre-commit framework runs the hook from .pre-commit-hooks.yaml" {
	command -v pre-commit >/dev/null ||
	    skip "pre-commit is not installed (apt-get install pre-commit)"
	src=$T/hooksrc
	git init -q "$src"
	cp "$SOTTO_ROOT/.pre-commit-hooks.yaml" "$src/"
	(cd "$src" && git add . && git commit -qm hooks)
	rev=$(git -C "$src" rev-parse HEAD)
	"$SOTTO" hook uninstall >/dev/null
	printf 'repos:\n  - repo: %s\n    rev: %s\n    hooks:\n      - id: sotto-guard\n' "$src" "$rev" >.pre-commit-config.yaml
	git add .pre-commit-config.yaml
	mkdir -p "$T/pbin"
	ln -sf "$SOTTO" "$T/pbin/sotto"
	export PATH="$T/pbin:$PATH" PRE_COMMIT_HOME=$T/pc-cache
	run_io pre-commit install
	assert_status 0
	commit_allowed config
	printf 'password: x\n' >secrets/p.yaml
	git add secrets/p.yaml
	run_io git commit -qm framework
	[ "$status" != 0 ]
	grep -q 'secrets/p.yaml' "$T/out" "$T/err"
	"$SOTTO" encrypt -i secrets/p.yaml
	git add secrets/p.yaml
	commit_allowed framework-ok
}

@test "the guard passes on this project's own files" {
	cd "$SOTTO_ROOT"
	git rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout"
	mapfile -t files < <(git ls-files -c -o --exclude-standard)
	run_io "$SOTTO" guard --files "${files[@]}"
	grep -v 'allowed by' "$T/out" >&2 || true
	assert_status 0
}

@test "control bytes in repository names are escaped, never sent to the terminal" {
	name=$(printf 'evil\033]0;pwned\007\033[31m.txt')
	"$SOTTO" age-keygen -o "$name" 2>/dev/null
	git add -- "$name"
	run_io "$SOTTO" guard
	assert_status 1
	grep -qF 'evil\x1b]0;pwned\x07\x1b[31m.txt:' "$T/out"
	refute grep -q "$(printf '\033')" "$T/out" "$T/err"
	refute grep -q "$(printf '\007')" "$T/out" "$T/err"
}

@test "Go regexes in .sops.yaml: the encrypted_regex template and a (?i) path_regex" {
	cat >>.sops.yaml <<-EOF
	  - path_regex: ^apps/.*\.(?i:YA?ML)$
	    encrypted_regex: ((?i)(pass|secret(\$|[^N])|key|token|^data\$|^stringData))
	    age: $P
	EOF
	git add .sops.yaml
	git commit -qm rules
	mkdir -p apps
	printf 'kind: x\npassword: hunter2\n' >apps/a.yaml
	git add apps/a.yaml
	commit_blocked plain apps/a.yaml
	assert_err_has "sops-plaintext"
	"$SOTTO" encrypt -i apps/a.yaml
	grep -q '^kind: x$' apps/a.yaml
	git add apps/a.yaml
	commit_allowed encrypted
}
