#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# `sotto bootstrap git` (issue #20), as `flux bootstrap git`: install, the
# in-cluster key, gotk-style manifests and a .sops.yaml rule committed and
# pushed to a bare repository (file:// with --allow-file-sources, and
# https with a password read from standard input), the sync objects
# applied; then a controller pass manages sotto itself from git.  A re-run
# makes no commit; --dry-run changes nothing.  Against the API stand-in
# with real kubectl.

load helpers
load kube_helpers

PASSWORD=sotto-boot-password-61d2

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	python3 -c 'import yaml' 2>/dev/null || skip "python3 yaml missing"
	standin_start
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR" "$T/git"
	git init -q --bare -b main "$T/git/repo.git"
	URL=file://$T/git/repo.git
	: >"$T/all-logs"
	AGENT_LOOP=
}

teardown() {
	stop_agents
	local p
	for p in ${HTTPS_PID:-} ${SSHD_PID:-}; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	standin_stop
}

agent_once() {
	"$SOTTO" controller --allow-file-sources --once --cache-dir "$T/cache" \
	    --poll-interval 0.2s "$@" >>"$T/agent-out" 2>>"$T/all-logs" || true
}

# One-pass controllers in the background (they fill the key Secret that
# bootstrap waits for), until stop_agents.
start_agents() {
	(while [ ! -e "$T/stop-agents" ]; do agent_once; sleep 0.2; done) &
	AGENT_LOOP=$!
}

stop_agents() {
	[ -n "${AGENT_LOOP:-}" ] || return 0
	touch "$T/stop-agents"
	wait "$AGENT_LOOP" 2>/dev/null
	rm -f "$T/stop-agents"
	AGENT_LOOP=
}

boot() { # ARGS...
	run_io timeout 120 "$SOTTO" bootstrap git --url "$URL" \
	    --path clusters/dev --allow-file-sources --timeout 60s "$@"
	cat "$T/err" >>"$T/all-logs"
	cat "$T/err" >&2
}

# A CA and a server certificate for 127.0.0.1 (as 762-reconcile-git-auth).
make_ca() { # DIR
	local d=$1
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
	    -subj "/CN=sotto bootstrap test CA" \
	    -addext basicConstraints=critical,CA:true \
	    -addext keyUsage=critical,keyCertSign 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/server.key" -out "$d/server.csr" \
	    -subj "/CN=git server" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:false\n' \
	    >"$d/ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" \
	    -CAkey "$d/ca.key" -CAcreateserial -out "$d/server.crt" -days 2 \
	    -extfile "$d/ext" 2>/dev/null
}

# git-http-backend over https for $T/git (pushes allowed: REMOTE_USER).
https_start() { # CA-DIR [server args]
	local d=$1 i
	shift
	mkdir -p "$T/https"
	python3 "$SOTTO_ROOT/tests/standin/git_https_server.py" \
	    --dir "$T/https" --root "$T/git" --cert "$d/server.crt" \
	    --key "$d/server.key" --idle-timeout 60 "$@" \
	    >"$T/https/stdout" 2>"$T/https/stderr" 3>&- &
	HTTPS_PID=$!
	for i in $(seq 1 100); do
		[ -s "$T/https/port" ] && break
		sleep 0.1
	done
	[ -s "$T/https/port" ] || { cat "$T/https/stderr" >&2; return 1; }
	HTTPS_URL=https://127.0.0.1:$(cat "$T/https/port")/repo.git
}

# sshd on loopback with an ed25519 host key (as 762-reconcile-git-auth).
sshd_start() {
	[ -x /usr/sbin/sshd ] || skip "sshd not installed"
	local d=$T/sshd i
	SSH_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	SSH_USER=$(id -un)
	mkdir -p "$d"
	[ "$(id -u)" = 0 ] && mkdir -p /run/sshd
	ssh-keygen -q -t ed25519 -N '' -C '' -f "$d/host_ed25519"
	: >"$d/authorized_keys"
	cat >"$d/config" <<C
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $d/host_ed25519
PidFile $d/pid
AuthorizedKeysFile $d/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
C
	[ "$(id -u)" = 0 ] && echo "PermitRootLogin yes" >>"$d/config"
	timeout 120 /usr/sbin/sshd -D -e -f "$d/config" 2>"$d/log" &
	SSHD_PID=$!
	for i in $(seq 1 100); do
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' \
		    "$SSH_PORT" 2>/dev/null && break
		sleep 0.1
	done
	SSH_URL=ssh://$SSH_USER@127.0.0.1:$SSH_PORT$T/git/repo.git
	HOSTKEY=$(cut -d' ' -f1,2 "$d/host_ed25519.pub")
}

commits() { git -C "$T/git/repo.git" rev-list --count main 2>/dev/null || echo 0; }
show() { git -C "$T/git/repo.git" show "main:$1"; }

@test "bootstrap commits the manifests and the .sops.yaml rule; a controller pass then manages sotto from git" {
	start_agents
	boot
	[ "$status" -eq 0 ]
	stop_agents
	[ "$(commits)" -eq 1 ]
	[ "$(git -C "$T/git/repo.git" log -1 --format=%s main)" = "Add sotto sync manifests" ]
	[ "$(git -C "$T/git/repo.git" log -1 --format=%an main)" = sotto ]
	git -C "$T/git/repo.git" ls-tree -r --name-only main >"$T/files"
	diff - "$T/files" <<'F'
.sops.yaml
clusters/dev/sotto-system/gotk-components.yaml
clusters/dev/sotto-system/gotk-sync.yaml
clusters/dev/sotto-system/kustomization.yaml
F
	# the components are what `sotto install --export` prints
	show clusters/dev/sotto-system/gotk-components.yaml | grep -v '^#' >"$T/comp"
	"$SOTTO" install --export >"$T/export"
	diff "$T/export" "$T/comp"
	show clusters/dev/sotto-system/gotk-sync.yaml >"$T/sync"
	R=$("$SOTTO" cluster recipient -n sotto-system --secret sops-age)
	[[ "$R" == age1* ]]
	show .sops.yaml >"$T/sops"
	diff - "$T/sops" <<S
creation_rules:
  - path_regex: '^clusters/dev/.*\.ya?ml\$'
    age: $R
S
	grep -q "✔ bootstrap finished" "$T/err"
	# the sync objects are in the cluster
	$K -n sotto-system get gitrepository sotto-system -o json >"$T/gr.json"
	python3 - "$T/gr.json" "$URL" <<'P'
import json, sys
g = json.load(open(sys.argv[1]))
assert g["spec"]["url"] == sys.argv[2], g["spec"]
assert g["spec"]["ref"] == {"branch": "main"}, g["spec"]
assert "secretRef" not in g["spec"], g["spec"]
P
	# the root Kustomization applies as an account of its own
	[ "$($K get clusterrolebinding sotto-bootstrap-sotto-system -o jsonpath='{.roleRef.name}')" = cluster-admin ]
	$K -n sotto-system get serviceaccount sotto-bootstrap >/dev/null
	# a controller pass applies from git: the Deployment comes from there
	$K -n sotto-system delete deployment sotto-reconcile >/dev/null
	ctl_post /reset
	agent_once
	ctl_get /log | python3 -c '
import json, sys
hits = [e for e in map(json.loads, sys.stdin)
        if e["method"] == "PATCH" and e["path"].startswith(
            "/apis/apps/v1/namespaces/sotto-system/deployments/sotto-reconcile")]
assert hits, "no apply of the Deployment"
assert all(e["impersonate_user"] == "system:serviceaccount:sotto-system:sotto-bootstrap"
           for e in hits), hits'
	$K -n sotto-system get kustomization sotto-system -o json >"$T/ks.json"
	python3 - "$T/ks.json" <<'P'
import json, sys
k = json.load(open(sys.argv[1]))
ready = [c for c in k["status"]["conditions"] if c["type"] == "Ready"][0]
assert ready["status"] == "True", ready
assert k["spec"]["path"] == "./clusters/dev", k["spec"]
assert k["spec"]["decryption"]["secretRef"]["name"] == "sops-age"
assert k["spec"]["serviceAccountName"] == "sotto-bootstrap"
P
	[ "$($K -n sotto-system get deployment sotto-reconcile -o jsonpath='{.spec.template.spec.containers[0].args[0]}')" = controller ]
	run_io "$SOTTO" get ks -n sotto-system
	[ "$status" -eq 0 ]
	[[ "$out" == *"sotto-system"*"True"* ]]
}

@test "a re-run makes no new commit and says so; other content and rules are kept" {
	# a repository with history, a README and a .sops.yaml of its own
	git clone -q "$T/git/repo.git" "$T/work" 2>/dev/null
	git -C "$T/work" config user.email t@example.com
	git -C "$T/work" config user.name t
	echo hello >"$T/work/README.md"
	printf '# keep me\ncreation_rules:\n  - path_regex: apps/.*\\.yaml$\n    age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n' \
	    >"$T/work/.sops.yaml"
	git -C "$T/work" add -A
	git -C "$T/work" commit -qm init
	git -C "$T/work" push -q origin main
	start_agents
	boot --author-name "Ops Bot" --author-email ops@example.com
	[ "$status" -eq 0 ]
	stop_agents
	[ "$(commits)" -eq 2 ]
	[ "$(git -C "$T/git/repo.git" log -1 --format='%an <%ae>' main)" = "Ops Bot <ops@example.com>" ]
	[ "$(show README.md)" = hello ]
	show .sops.yaml >"$T/sops"
	R=$("$SOTTO" cluster recipient -n sotto-system --secret sops-age)
	diff - "$T/sops" <<S
# keep me
creation_rules:
  - path_regex: '^clusters/dev/.*\.ya?ml\$'
    age: $R
  - path_regex: apps/.*\.yaml\$
    age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
S
	head=$(git -C "$T/git/repo.git" rev-parse main)
	# again: the key is reused, nothing to commit, exit 0
	boot --context "$(kubectl config current-context)"
	[ "$status" -eq 0 ]
	[ "$(git -C "$T/git/repo.git" rev-parse main)" = "$head" ]
	grep -q "✔ reusing the cluster key (Secret sotto-system/sops-age): $R" "$T/err"
	grep -q "✔ sync manifests are up to date: nothing to commit" "$T/err"
	grep -q "✔ bootstrap finished" "$T/err"
	[ -z "$(ls -A "$TMPDIR")" ]
	# a changed flag is a new commit on top
	boot --interval 5m
	[ "$status" -eq 0 ]
	[ "$(commits)" -eq 3 ]
	git -C "$T/git/repo.git" diff --stat HEAD~1 HEAD >"$T/stat"
	grep -q 'clusters/dev/sotto-system/gotk-sync.yaml | 2 +-' "$T/stat"
	[ "$($K -n sotto-system get gitrepository sotto-system -o jsonpath='{.spec.interval}')" = 5m ]
}

@test "--dry-run prints the diff and changes nothing, in git or in the cluster" {
	boot --dry-run
	[ "$status" -eq 0 ]
	[ "$(commits)" -eq 0 ]
	grep -q '^+++ b/clusters/dev/sotto-system/gotk-sync.yaml$' "$T/out"
	grep -q '^+++ b/.sops.yaml$' "$T/out"
	grep -q '^+    age: <cluster recipient>$' "$T/out"
	grep -q '^+- gotk-components.yaml$' "$T/out"
	grep -q "◎ no cluster key yet: the .sops.yaml rule shows a placeholder" "$T/err"
	grep -q "◎ dry run: would commit \"Add sotto sync manifests\" to \"main\" of '$URL' (the diff above); nothing was changed" "$T/err"
	refute $K get namespace sotto-system
	refute $K get crd kustomizations.kustomize.toolkit.fluxcd.io
	[ -z "$(ls -A "$TMPDIR")" ]
	# after a bootstrap: a dry run with another interval shows that change
	start_agents
	boot
	[ "$status" -eq 0 ]
	stop_agents
	head=$(git -C "$T/git/repo.git" rev-parse main)
	ctl_post /reset
	boot --dry-run --interval 2m
	[ "$status" -eq 0 ]
	[ "$(git -C "$T/git/repo.git" rev-parse main)" = "$head" ]
	grep -q '^-  interval: 1m0s$' "$T/out"
	grep -q '^+  interval: 2m$' "$T/out"
	[ "$(grep -c '^diff --git' "$T/out")" -eq 1 ]
	[ "$($K -n sotto-system get gitrepository sotto-system -o jsonpath='{.spec.interval}')" = 1m0s ]
	# it only read the cluster
	ctl_get /log | python3 -c '
import json, sys
bad = [e["method"] + " " + e["path"] for e in map(json.loads, sys.stdin)
       if e.get("user_agent", "").startswith("sotto") and e["method"] != "GET"]
assert not bad, bad'
	boot --dry-run
	[ "$status" -eq 0 ]
	[ -z "$out" ]
	grep -q "✔ sync manifests are up to date: nothing to commit" "$T/err"
}

# Hostile input: each refused with its message and status, nothing
# installed, nothing pushed.
refused() { # STATUS MESSAGE
	echo "status $status" >&2
	[ "$status" -eq "$1" ]
	[ "$(tail -1 "$T/err")" = "sotto: error: $2" ]
	[ "$(commits)" -eq 0 ]
	refute $K get namespace sotto-system
	[ -z "$(ls -A "$TMPDIR")" ]
}

@test "bad URLs, a missing branch and a path out of the repository are refused before anything changes" {
	boot --path ../etc
	refused 2 "--path '../etc': '..' is not allowed: the path stays inside the repository"
	boot --path clusters/../../x
	refused 2 "--path 'clusters/../../x': '..' is not allowed: the path stays inside the repository"
	boot --path /clusters/dev
	refused 2 "--path '/clusters/dev': must be relative to the repository root"
	boot --path clusters/.git/x
	refused 2 "--path 'clusters/.git/x': '.git' is not allowed"
	boot --path ./
	refused 2 "--path '': names no directory (give clusters/NAME)"
	boot --branch 'a..b'
	refused 2 "--branch 'a..b': not a valid branch name"
	boot --branch -x
	refused 2 "--branch '-x': not a valid branch name"
	boot --interval soon
	refused 2 "--interval 'soon': want a duration like 1m0s"
	boot --namespace Bad_NS
	[ "$status" -eq 2 ]
	run_io "$SOTTO" bootstrap git --url "ftp://example.com/r.git" --path clusters/dev
	refused 2 "--url 'ftp://example.com/r.git': scheme 'ftp' is not allowed (use https://, ssh:// or user@host:path; http:// needs --allow-http-sources, file:// needs --allow-file-sources)"
	run_io "$SOTTO" bootstrap git --url "$URL" --path clusters/dev
	[ "$status" -eq 2 ]
	[[ "$(tail -1 "$T/err")" == "sotto: error: --url '$URL': "*"file:// needs --allow-file-sources)" ]]
	run_io "$SOTTO" bootstrap git --url "https://bob:$PASSWORD@example.com/r.git" --path clusters/dev
	refused 2 "--url 'https://example.com/r.git': holds a password, which would be committed: give it with --password-stdin"
	refute grep -q "$PASSWORD" "$T/err"
	run_io "$SOTTO" bootstrap git --url https://example.com/r.git --path clusters/dev --username bob
	refused 2 "--username needs --password-stdin (a password is never taken from the command line)"
	run_io "$SOTTO" bootstrap git --url https://example.com/r.git --path clusters/dev --private-key-file /dev/null
	refused 2 "--private-key-file goes with an ssh URL"
	# no flag takes a password
	run_io "$SOTTO" bootstrap git --url https://example.com/r.git --path clusters/dev --username bob --password "$PASSWORD"
	refused 2 "'--password': no flag takes a password; give it on standard input with --password-stdin"
	run_io "$SOTTO" bootstrap git --url https://example.com/r.git --path clusters/dev --username bob --pass "$PASSWORD"
	refused 2 "'--password-stdin': no flag takes a password; give it on standard input with --password-stdin"
	run_io "$SOTTO" bootstrap git --url https://example.com/r.git --path clusters/dev "$PASSWORD"
	refused 2 "bootstrap git: unexpected argument (only flags are taken; see --help)"
	refute grep -qF "$PASSWORD" "$T/err"
	run_io "$SOTTO" bootstrap
	[ "$status" -eq 2 ]
	[[ "$err" == "usage: sotto bootstrap git --url URL"* ]]
	run_io "$SOTTO" bootstrap git --help
	[ "$status" -eq 0 ]
	[[ "$out" == "usage: sotto bootstrap git --url URL"* ]]
	[[ "$out" == *"--password-stdin        read the password from standard input"* ]]
	run_io "$SOTTO" bootstrap gitlab --url https://example.com/r.git
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: unknown bootstrap provider 'gitlab' (sotto bootstraps from plain git: 'sotto bootstrap git')" ]
	# no such repository
	URL=file://$T/git/none.git boot
	echo "$err" >&2
	[ "$status" -eq 70 ]
	[[ "$(tail -1 "$T/err")" == "sotto: error: failed to fetch: "* ]]
	refute $K get namespace sotto-system
	# a repository with history but no such branch
	git clone -q "$T/git/repo.git" "$T/work" 2>/dev/null
	git -C "$T/work" -c user.name=t -c user.email=t@e commit -q --allow-empty -m init
	git -C "$T/work" push -q origin main
	boot --branch prod
	[ "$status" -eq 70 ]
	[ "$(tail -1 "$T/err")" = "sotto: error: branch 'prod' not found in '$URL'" ]
	[ "$(commits)" -eq 1 ]
	refute $K get namespace sotto-system
	[ -z "$(ls -A "$TMPDIR")" ]
	# a repository whose path or .sops.yaml is a symlink: not followed
	mkdir -p "$T/outside"
	ln -s "$T/outside" "$T/work/clusters"
	git -C "$T/work" add -A
	git -C "$T/work" -c user.name=t -c user.email=t@e commit -qm link
	git -C "$T/work" push -q origin main
	boot
	[ "$status" -eq 1 ]
	[ "$(tail -1 "$T/err")" = "sotto: error: 'clusters' in the repository is not a directory" ]
	[ -z "$(ls -A "$T/outside")" ]
	git -C "$T/work" rm -q clusters
	ln -s "$T/outside/sops" "$T/work/.sops.yaml"
	git -C "$T/work" add -A
	git -C "$T/work" -c user.name=t -c user.email=t@e commit -qm link2
	git -C "$T/work" push -q origin main
	boot
	[ "$status" -eq 1 ]
	[ "$(tail -1 "$T/err")" = "sotto: error: '.sops.yaml' in the repository is not a regular file" ]
	[ -z "$(ls -A "$T/outside")" ]
	[ "$(commits)" -eq 3 ]
	refute $K get namespace sotto-system
	[ -z "$(ls -A "$TMPDIR")" ]
}

@test "https with --username and --password-stdin: the password goes to the Secret only, and the controller fetches with it" {
	make_ca "$T/ca"
	https_start "$T/ca" --user bob --password "$PASSWORD"
	URL=$HTTPS_URL
	start_agents
	IN=$T/pw
	printf '%s\n' "$PASSWORD" >"$IN"
	run_io timeout 120 "$SOTTO" bootstrap git --url "$URL" --path clusters/dev \
	    --username bob --password-stdin --ca-file "$T/ca/ca.crt" --timeout 60s
	rm -f "$IN"
	IN=
	cat "$T/err" >&2
	cat "$T/err" >>"$T/all-logs"
	[ "$status" -eq 0 ]
	stop_agents
	[ "$(commits)" -eq 1 ]
	grep -q '^✔ Secret/sotto-system/sotto-system applied (git credentials)$' "$T/err"
	[ "$($K -n sotto-system get secret sotto-system -o jsonpath='{.data.password}' | base64 -d)" = "$PASSWORD" ]
	[ "$($K -n sotto-system get secret sotto-system -o jsonpath='{.data.username}' | base64 -d)" = bob ]
	$K -n sotto-system get secret sotto-system -o jsonpath='{.data.ca\.crt}' | base64 -d | diff "$T/ca/ca.crt" -
	show clusters/dev/sotto-system/gotk-sync.yaml >"$T/sync"
	grep -q '^    name: sotto-system$' "$T/sync"
	grep -q "^  url: $URL\$" "$T/sync"
	# the controller fetches over https with that Secret and applies
	$K -n sotto-system delete deployment sotto-reconcile >/dev/null
	agent_once
	[ "$($K -n sotto-system get kustomization sotto-system -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
	$K -n sotto-system get deployment sotto-reconcile >/dev/null
	# the password is nowhere but in the Secret: not in the repository,
	# the output, the logs, a file left behind
	git -C "$T/git/repo.git" log -p --all >"$T/history"
	refute grep -qF "$PASSWORD" "$T/history" "$T/all-logs" "$T/agent-out" \
	    "$T/https/log"
	[ -z "$(ls -A "$TMPDIR")" ]
	# a wrong password: refused by the server, nothing pushed
	printf 'wrong-password\n' >"$T/pw"
	IN=$T/pw run_io timeout 120 "$SOTTO" bootstrap git --url "$URL" \
	    --path clusters/other --username bob --password-stdin \
	    --ca-file "$T/ca/ca.crt" --timeout 60s
	[ "$status" -eq 70 ]
	[ "$(tail -1 "$T/err")" = "sotto: error: failed to fetch: authentication to '127.0.0.1' failed" ]
	[ "$(commits)" -eq 1 ]
	# no CA: the certificate is refused
	IN=$T/pw run_io timeout 120 "$SOTTO" bootstrap git --url "$URL" \
	    --path clusters/other --username bob --password-stdin --timeout 60s
	[ "$status" -eq 70 ]
	[[ "$(tail -1 "$T/err")" == "sotto: error: failed to fetch: "*certificate* ]]
	# an empty standard input
	IN=/dev/null run_io "$SOTTO" bootstrap git --url "$URL" \
	    --path clusters/other --username bob --password-stdin
	[ "$status" -eq 2 ]
	[ "$err" = "sotto: error: --password-stdin: want one non-empty line on standard input" ]
}

@test "a push the server rejects: the server's reason, exit 70, nothing applied" {
	make_ca "$T/ca"
	https_start "$T/ca" --user bob --password "$PASSWORD"
	URL=$HTTPS_URL
	printf '#!/bin/sh\necho "protected branch" >&2\nexit 1\n' \
	    >"$T/git/repo.git/hooks/pre-receive"
	chmod +x "$T/git/repo.git/hooks/pre-receive"
	start_agents
	printf '%s\n' "$PASSWORD" >"$T/pw"
	IN=$T/pw run_io timeout 120 "$SOTTO" bootstrap git --url "$URL" \
	    --path clusters/dev --username bob --password-stdin \
	    --ca-file "$T/ca/ca.crt" --timeout 60s
	stop_agents
	cat "$T/err" >&2
	[ "$status" -eq 70 ]
	[ "$(tail -1 "$T/err")" = "sotto: error: cannot push to '$URL': the server rejected the update of 'main': pre-receive hook declined" ]
	[ "$(commits)" -eq 0 ]
	refute $K -n sotto-system get gitrepository sotto-system
	refute $K -n sotto-system get secret sotto-system
	[ -z "$(ls -A "$TMPDIR")" ]
}

@test "ssh with --private-key-file: the host key from ~/.ssh/known_hosts, the key and known_hosts in the Secret" {
	sshd_start
	ssh-keygen -q -t ed25519 -N '' -C sotto-test -f "$T/id"
	cat "$T/id.pub" >>"$T/sshd/authorized_keys"
	URL=$SSH_URL
	# not in known_hosts: refused before the cluster is touched
	run_io timeout 120 "$SOTTO" bootstrap git --url "$URL" \
	    --path clusters/dev --private-key-file "$T/id" --timeout 60s
	[ "$status" -eq 70 ]
	[ "$(tail -1 "$T/err")" = "sotto: error: failed to fetch: host key verification failed: the host is not in ~/.ssh/known_hosts (add it with ssh-keyscan, after checking it)" ]
	refute $K get namespace sotto-system
	mkdir -p "$HOME/.ssh"
	echo "[127.0.0.1]:$SSH_PORT $HOSTKEY" >"$HOME/.ssh/known_hosts"
	start_agents
	run_io timeout 120 "$SOTTO" bootstrap git --url "$URL" \
	    --path clusters/dev --private-key-file "$T/id" --timeout 60s
	cat "$T/err" >&2
	[ "$status" -eq 0 ]
	stop_agents
	[ "$(commits)" -eq 1 ]
	$K -n sotto-system get secret sotto-system -o jsonpath='{.data.identity}' | base64 -d | diff "$T/id" -
	[ "$($K -n sotto-system get secret sotto-system -o jsonpath='{.data.known_hosts}' | base64 -d)" = "[127.0.0.1]:$SSH_PORT $HOSTKEY" ]
	[ -z "$($K -n sotto-system get secret sotto-system -o jsonpath='{.data.username}')" ]
	# the controller fetches over ssh with the Secret
	$K -n sotto-system delete deployment sotto-reconcile >/dev/null
	agent_once
	[ "$($K -n sotto-system get kustomization sotto-system -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
	$K -n sotto-system get deployment sotto-reconcile >/dev/null
	key=$(sed -n 2p "$T/id")
	refute grep -qF "$key" "$T/all-logs" "$T/agent-out"
	git -C "$T/git/repo.git" log -p --all | refute grep -qF "$key"
	[ -z "$(ls -A "$TMPDIR")" ]
}

@test "without a running controller the key never comes: bootstrap stops at --timeout, nothing committed" {
	boot --timeout 2s
	[ "$status" -eq 1 ]
	[ "$(tail -1 "$T/err")" = "sotto: error: no answer from the agent for Secret 'sotto-system/sops-age' within 2 s (is 'sotto reconcile' running, and may it update that Secret? see 'sotto cluster keygen --rbac')" ]
	[ "$(commits)" -eq 0 ]
	refute $K -n sotto-system get gitrepository sotto-system
	[ -z "$(ls -A "$TMPDIR")" ]
	# run again with the controller up: the Secret left behind is filled
	# and used
	start_agents
	boot
	[ "$status" -eq 0 ]
	stop_agents
	[ "$(commits)" -eq 1 ]
	R=$("$SOTTO" cluster recipient -n sotto-system --secret sops-age)
	show .sops.yaml | grep -qF "age: $R"
}
