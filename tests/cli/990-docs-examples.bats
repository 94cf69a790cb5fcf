#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The documentation's examples run (issue #17, item 9): every ```sh block
# of README.md and every `$ command` line of a man page's EXAMPLES, in a
# sandbox with sotto on PATH under its own names, fixtures the examples
# name, a fake `vi` that edits non-interactively, and the Kubernetes API
# stand-in as the cluster.  A block or line that cannot run here is listed
# below with the reason (it needs root, the network, a real registry or
# cluster tool, or is a placeholder); the test fails when a block is
# neither run nor listed, so a new example cannot go untested.

load helpers
load kube_helpers

setup() {
	sotto_setup
	mkdir -p "$T/bin" "$T/w/build"
	for n in sotto sops age age-keygen; do
		ln -sf "$SOTTO" "$T/bin/$n"
		ln -sf "$SOTTO" "$T/w/build/$n"
	done
	# `make` in the README's Quick start: the build is already there
	printf '#!/bin/sh\nexit 0\n' >"$T/bin/make"
	# `EDITOR=vi`: writes a secrets document, or edits the one it is given
	cat >"$T/bin/vi" <<'SH'
#!/bin/sh
f=$1
if grep -q '^  password:' "$f" 2>/dev/null; then
	sed -i 's/^\(  password:\).*/\1 changed/' "$f"
else
	printf 'hello: world\ndb:\n  password: s3cret\n  port: 5432\n' >"$f"
fi
SH
	# the exec-env example's database client: shows what it was given
	printf '#!/bin/sh\n[ -n "$DATABASE_URL" ] && echo "$DATABASE_URL" >/dev/null\n' >"$T/bin/psql"
	# the stand-in takes JSON bodies only, and kubectl sends an imperative
	# `create secret` as protobuf: the README's command goes through as an
	# apply of the same object
	cat >"$T/bin/kubectl" <<SH
#!/bin/sh
case " \$* " in
*" create secret "*)
	$(command -v kubectl) "\$@" --dry-run=client -o json |
	    $(command -v kubectl) apply --server-side -f - ;;
*) exec $(command -v kubectl) "\$@" ;;
esac
SH
	chmod +x "$T/bin/make" "$T/bin/vi" "$T/bin/psql" "$T/bin/kubectl"
	export PATH=$T/bin:$PATH
	cd "$T/w"
	# README's deploy blocks run from the project root: its manifests
	cp -r "$SOTTO_ROOT/deploy" deploy
	git init -q -b main
	git config user.email t@example.com
	git config user.name t
	git init -q --bare "$T/w.remote"
	git remote add origin "$T/w.remote"
	git commit -q --allow-empty -m start
	git push -q origin main
	printf 'a secret message\n' >secret.txt
	printf 'db:\n  user: app\n  password: hunter2\n' >app.yaml
}

teardown() {
	standin_stop
}

# README blocks not run here, by their first line, and why
readme_skip() {
	case $1 in
	"make demo"*) echo "the two commands: installs packages, runs the suite" ;;
	"make dist"*) echo "release builds: covered by 950-release.bats" ;;
	"update-alternatives"*) echo "needs root and an installed package" ;;
	"# into a registry"*) echo "registry, kind, k3s and docker are not here" ;;
	"ssh-keyscan"*) echo "needs the network" ;;
	"# instead of kubectl apply -k deploy/"*) echo "the objects the block before applies, by another manager (781-install.bats)" ;;
	"# the everyday commands"*) echo "needs the controller running (780-flux-ops.bats)" ;;
	"# the agent makes the key"*) echo "needs the agent running (773-cluster-key.bats, make demo)" ;;
	"# in-cluster quick start"*|"# bootstrap from git"*) echo "needs a cluster, the controller and a git host (784-bootstrap.bats)" ;;
	"sotto reconcile --once --config ks.yaml"*) echo "placeholder file names" ;;
	"# FP, FP2, FP3"*) echo "needs your GnuPG keys (540-pgp.bats runs each command)" ;;
	*) return 1 ;;
	esac
}

# the ```sh blocks of README.md, NUL-separated
readme_blocks() {
	awk '/^```sh$/ { f = 1; b = ""; next }
	    /^```$/ && f { f = 0; printf "%s%c", b, 0; next }
	    f { b = b $0 "\n" }' "$SOTTO_ROOT/README.md"
}

@test "README: every sh block runs, or is listed with its reason" {
	local n=0 ran=0 block first
	standin_start
	while IFS= read -r -d '' block; do
		n=$((n + 1))
		first=$(printf '%s' "$block" | head -1)
		if why=$(readme_skip "$first"); then
			echo "# README block $n skipped: $why" >&3
			continue
		fi
		printf '%s' "$block" >"$T/block-$n.sh"
		# blocks share state (the key, R, .sops.yaml), as in a terminal
		run bash -euo pipefail -c "cd '$T/w'; source '$T/env.sh' 2>/dev/null || true; source '$T/block-$n.sh'; declare -p R 2>/dev/null >'$T/env.sh'; true"
		echo "# README block $n ($first): exit $status" >&3
		if [ "$status" -ne 0 ]; then
			printf '%s\n' "$output" >&2
			false
		fi
		ran=$((ran + 1))
	done < <(readme_blocks)
	[ "$ran" -ge 6 ]
}

# man pages' EXAMPLES: "$ command" lines (.Dl or in a literal display),
# as "PAGE<TAB>COMMAND" in page order
man_examples() {
	local m
	for m in "$SOTTO_ROOT"/man/*.[1-8]; do
		[ -L "$m" ] && continue
		awk -v page="${m##*/}" '
		    /^\.Sh / { ex = ($2 == "EXAMPLES") }
		    ex && /^\.Dl \$ / { sub(/^\.Dl \$ /, ""); print page "\t" $0 }
		    ex && /^\$ / { sub(/^\$ /, ""); print page "\t" $0 }' "$m"
	done
}

# man example lines not run here, and why
man_skip() {
	case $1 in
	*"kubectl "*|*"helm "*|*"kpt "*) echo "needs a cluster, Helm or kpt" ;;
	*"sotto cluster "*) echo "needs the agent in a cluster (773-cluster-key.bats)" ;;
	*"sotto bootstrap "*) echo "needs a cluster, the controller and a git host (784-bootstrap.bats)" ;;
	*"sotto get "*|*"sotto reconcile "*|*"sotto suspend "*|*"sotto resume "*|*"sotto events"*)
		echo "needs a cluster and the controller (780-flux-ops.bats, 781-install.bats)" ;;
	*"sotto check"*|*"sotto uninstall"*|*"sotto tree "*|*"sotto logs"*)
		echo "needs a cluster and the controller (782-flux-ops2.bats)" ;;
	*"sotto build "*|*"sotto diff "*)
		echo "needs a cluster and a Kustomization's checkout (783-build-diff.bats)" ;;
	*"code --wait"*) echo "needs a graphical editor" ;;
	*"-j yubikey"*) echo "needs a hardware token plugin" ;;
	*"--pgp FINGERPRINT"*) echo "needs your GnuPG keys (540-pgp.bats runs it)" ;;
	*"| jq"*) command -v jq >/dev/null && return 1; echo "jq is not installed" ;;
	"git commit -m wip") echo "shows the hook refusing (600-guard.bats runs it)" ;;
	*) return 1 ;;
	esac
}

# A sandbox for PAGE's examples, as a reader of that page would have it:
# keys (key.txt; old.txt, a second recipient the rotate page removes;
# new.txt, one it adds), plaintext inputs, and for pages that start from
# encrypted files, those encrypted to key.txt and old.txt; a git work tree
# with a remote; an ssh key.
man_sandbox() { # PAGE DIR
	local d=$2
	mkdir -p "$d" && cd "$d" || return 1
	git init -q -b main
	git config user.email t@example.com
	git config user.name t
	"$SOTTO" age-keygen -o key.txt 2>/dev/null
	"$SOTTO" age-keygen -o old.txt 2>/dev/null
	"$SOTTO" age-keygen -o new.txt 2>/dev/null
	R=$("$SOTTO" age-keygen -y key.txt)
	R_OLD=$("$SOTTO" age-keygen -y old.txt)
	R_NEW=$("$SOTTO" age-keygen -y new.txt)
	cat key.txt old.txt new.txt >keys.txt
	export SOPS_AGE_KEY_FILE=$d/keys.txt R R_OLD R_NEW
	printf 'creation_rules:\n  - age: %s,%s\n' "$R" "$R_OLD" >.sops.yaml
	mkdir -p data k8s secrets "$HOME/.ssh"
	[ -f "$HOME/.ssh/id_ed25519" ] ||
	    ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
	printf 'a secret message\n' >secret.txt
	printf 'payload\n' >f
	printf 'x\n' >data/x
	printf 'db:\n  user: app\n  password: hunter2\n  port: 5432\nlegacy: 1\n' >app.yaml
	cp app.yaml secrets.yaml
	cp app.yaml db.yaml
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: hunter2\n' >k8s/secret.yaml
	printf 'DATABASE_URL=postgres://app:hunter2@db/app\nDB_URL=postgres://db/app\n' >app.env
	printf 'DATABASE_URL: postgres://app:hunter2@db/app\nDB_URL: postgres://db/app\n' >app.env.yaml
	printf 'a: 1\n' >secrets/a.yaml
	printf 'b: 2\n' >secrets/b.yaml
	case $1 in
	sotto.1|sotto-encrypt.1|sotto-age.1|sotto-age-keygen.1)
		# these pages make their key first
		rm -f key.txt
		unset SOPS_AGE_KEY_FILE ;;
	*)
		for f in app.yaml secrets.yaml db.yaml app.env.yaml \
		    secrets/a.yaml secrets/b.yaml; do
			"$SOTTO" encrypt -i "$f" || return 1
		done ;;
	esac
	[ "$1" = sotto-encrypt.1 ] && "$SOTTO" age-keygen -o key.txt 2>/dev/null
	git init -q --bare "$d.remote"
	git remote add origin "$d.remote"
	git add -A && git commit -qm one && git push -q origin main
	# a second commit that changes a value (git diff HEAD~1 shows it)
	"$SOTTO" set secrets/b.yaml '["b"]' 3 2>/dev/null ||
	    sed -i 's/2/3/' secrets/b.yaml
	git add -A && git commit -qm two
	return 0
}

@test "man pages: every EXAMPLES command runs, or is listed with its reason" {
	local page cmd pages=() n=0
	# one script per page: its commands run in order in one shell, as a
	# reader types them (an `export` holds for the next lines)
	while IFS=$'\t' read -r page cmd; do
		n=$((n + 1))
		if why=$(man_skip "$cmd"); then
			echo "# $page: skipped '$cmd': $why" >&3
			continue
		fi
		if [ ! -f "$T/m/$page.sh" ]; then
			pages+=("$page")
			mkdir -p "$T/m"
			printf 'set -e\n' >"$T/m/$page.sh"
		fi
		# the pages' placeholders for recipients
		cmd=${cmd//age1old.../\$R_OLD}
		cmd=${cmd//age1.../\$R_NEW}
		printf 'echo "+ %s" >&2\n%s\n' "${cmd//\"/\\\"}" "$cmd" >>"$T/m/$page.sh"
	done < <(man_examples)
	[ "$n" -gt 0 ]
	for page in "${pages[@]}"; do
		man_sandbox "$page" "$T/m/$page" >/dev/null 2>&1 ||
		    { echo "sandbox for $page failed" >&2; false; }
		run bash -c "cd '$T/m/$page' && source '$T/m/$page.sh'"
		echo "# $page: exit $status" >&3
		[ "$status" -eq 0 ] || { printf '%s\n' "$output" >&2; false; }
	done
}
