#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The agent's git source under hostile GitRepositories (issue #14): URLs
# outside the allowlist, file:// into the agent's own cache, a suspended
# source that shares another tenant's URL, a password in the URL, a
# redirect to another host, and a server that accepts and never answers.
# Local mode against the API stand-in, two tenants per config.

load helpers
load kube_helpers

PASSWORD=sotto-url-password-5c21
TOKEN=sotto-git-token-e84d
HINT="(use https://, ssh:// or user@host:path; http:// needs --allow-http-sources, file:// needs --allow-file-sources)"

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	REPO=$T/repo
	git_repo "$REPO" a b
	for t in a b; do
		cat >"$REPO/$t/cm.yaml" <<Y
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-$t
  namespace: tenant-$t
data:
  tenant: $t
Y
		printf 'resources:\n  - cm.yaml\n' >"$REPO/$t/kustomization.yaml"
	done
	commit initial
	: >"$T/config.yaml"
	HTTPS_PIDS= HANG_PID=
}

teardown() {
	local p
	for p in ${HTTPS_PIDS:-} ${HANG_PID:-}; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	standin_stop
}

# ---- helpers -------------------------------------------------------------

tenant() { # NS URL [extra GitRepository spec lines]: appends to the config
	cat >>"$T/config.yaml" <<Y
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: repo
  namespace: $1
spec:
  interval: 1m
  url: $2
  ref:
    branch: main
${3:-}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app
  namespace: $1
spec:
  interval: 1m
  path: ./${1#tenant-}
  prune: true
  sourceRef:
    kind: GitRepository
    name: repo
Y
}

reconcile() { # [flags]
	run_io timeout 60 "$SOTTO" reconcile --once --config "$T/config.yaml" \
	    --cache-dir "$T/cache" "$@"
	cat "$T/err" >>"$T/all-logs"
	cat "$T/err" >&2	# shown by bats when a test fails
}

ready() { # NS: "status message" of Kustomization app's Ready condition
	$K -n "$1" get configmap sotto-inventory-app -o jsonpath='{.data.status}' |
	    python3 -c 'import json,sys; s=json.load(sys.stdin); c=[c for c in s["conditions"] if c["type"]=="Ready"][0]; print(c["status"], c["message"])'
}

applied() { # NS
	[ "$($K -n "$1" get configmap "cm-${1#tenant-}" -o jsonpath='{.data.tenant}')" = "${1#tenant-}" ]
}

refused() { # NS MESSAGE: Ready=False with MESSAGE, nothing applied
	local s
	s=$(ready "$1")
	echo "ready $1: $s" >&2
	[ "$s" = "False $2" ]
	refute $K -n "$1" get configmap "cm-${1#tenant-}"
}

# A CA and a certificate for 127.0.0.1 and localhost.
make_ca() { # DIR
	local d=$1
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
	    -subj "/CN=sotto test CA" \
	    -addext basicConstraints=critical,CA:true \
	    -addext keyUsage=critical,keyCertSign 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/server.key" -out "$d/server.csr" \
	    -subj "/CN=git server" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:false\n' \
	    >"$d/ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" \
	    -CAkey "$d/ca.key" -CAcreateserial -out "$d/server.crt" -days 2 \
	    -extfile "$d/ext" 2>/dev/null
}

https_start() { # NAME [server args]: port in $T/NAME/port
	local d=$T/$1 i
	shift
	mkdir -p "$d"
	python3 "$SOTTO_ROOT/tests/standin/git_https_server.py" \
	    --dir "$d" --root "$T/git" --cert "$T/ca/server.crt" \
	    --key "$T/ca/server.key" --idle-timeout 60 "$@" \
	    >"$d/stdout" 2>"$d/stderr" 3>&- &
	HTTPS_PIDS="$HTTPS_PIDS $!"
	for i in $(seq 1 100); do
		[ -s "$d/port" ] && break
		sleep 0.1
	done
	[ -s "$d/port" ] || { cat "$d/stderr" >&2; return 1; }
}

bare_repo() { # a bare clone of $REPO at $T/git/repo.git
	mkdir -p "$T/git"
	git clone -q --bare "$REPO" "$T/git/repo.git"
}

git_secret() { # NS kubectl create secret generic args...
	local ns=$1
	shift
	$K -n "$ns" create secret generic git-auth "$@" --dry-run=client \
	    -o json >"$T/gitsecret.json"
	$K apply --server-side -f "$T/gitsecret.json" >/dev/null
	rm -f "$T/gitsecret.json"
}

# ---- the allowlist -------------------------------------------------------

@test "file:// is refused without --allow-file-sources and fetched with it" {
	tenant tenant-a "file://$REPO"
	reconcile
	[ "$status" -eq 1 ]
	refused tenant-a "spec.url 'file://$REPO': scheme 'file' is not allowed $HINT"
	# the same config with the flag
	reconcile --allow-file-sources
	[ "$status" -eq 0 ]
	applied tenant-a
}

@test "git://, http:// without the flag and a local path are refused by name" {
	tenant tenant-a "git://127.0.0.1/repo.git"
	tenant tenant-b "http://127.0.0.1:1/repo.git"
	reconcile --allow-file-sources
	[ "$status" -eq 1 ]
	refused tenant-a "spec.url 'git://127.0.0.1/repo.git': scheme 'git' is not allowed $HINT"
	refused tenant-b "spec.url 'http://127.0.0.1:1/repo.git': scheme 'http' is not allowed $HINT"
	: >"$T/config.yaml"
	tenant tenant-a "$REPO"
	tenant tenant-b "-oProxyCommand=touch\${IFS}pwned:repo.git"
	reconcile --allow-file-sources
	[ "$status" -eq 1 ]
	refused tenant-a "spec.url '$REPO': a local path is not a URL $HINT"
	refused tenant-b "spec.url '-oProxyCommand=touch\${IFS}pwned:repo.git': host '-oProxyCommand=touch\${IFS}pwned' is not a valid host name"
	# refused before anything reached the cache
	[ -z "$(ls -A "$T/cache")" ]
}

@test "file:// into the agent's cache is refused even with --allow-file-sources" {
	tenant tenant-a "file://$REPO"
	reconcile --allow-file-sources
	[ "$status" -eq 0 ]
	applied tenant-a
	a=$(ls -d "$T"/cache/tenant-a_repo_*)
	[ -d "$a/.git" ]
	ln -s "$a" "$T/link"
	for url in "file://$a" "file://$T/link" "file://$T/cache/../cache/$(basename "$a")/.git" "file://$T/cache"; do
		: >"$T/config.yaml"
		tenant tenant-a "file://$REPO"
		tenant tenant-b "$url"
		reconcile --allow-file-sources
		[ "$status" -eq 1 ]
		applied tenant-a
		refused tenant-b "spec.url '$url': the path is inside the agent's git cache directory"
	done
	# tenant b alone: nothing it makes the agent send leaves tenant-b
	: >"$T/config.yaml"
	tenant tenant-b "file://$a"
	ctl_post /reset
	reconcile --allow-file-sources
	[ "$status" -eq 1 ]
	assert_confined tenant-b
}

# ---- one cache per GitRepository ----------------------------------------

@test "a suspended source in another namespace with the same URL cannot read tenant-a's checkout" {
	tenant tenant-a "file://$REPO"
	reconcile --allow-file-sources
	[ "$status" -eq 0 ]
	applied tenant-a
	tenant tenant-b "file://$REPO" "  suspend: true"
	reconcile --allow-file-sources
	[ "$status" -eq 1 ]
	applied tenant-a
	refused tenant-b "source is suspended and was never fetched: no artifact to apply"
	# tenant b alone: its requests stay in its namespace
	: >"$T/config.yaml"
	tenant tenant-b "file://$REPO" "  suspend: true"
	ctl_post /reset
	reconcile --allow-file-sources
	[ "$status" -eq 1 ]
	assert_confined tenant-b
	# one private directory per GitRepository, the key beside them
	[ "$(ls "$T/cache" | sed 's/_[0-9a-f]\{32\}$/_HASH/' | sort | tr '\n' ' ')" = "cache-key tenant-a_repo_HASH " ]
	[ "$(stat -c %a "$T/cache" "$T"/cache/tenant-a_repo_* "$T/cache/cache-key" | tr '\n' ' ')" = "700 700 600 " ]
}

# ---- credentials in the URL ----------------------------------------------

@test "https: a password in the URL authenticates and never reaches disk, logs or status" {
	bare_repo
	make_ca "$T/ca"
	https_start srv --user git --password "$PASSWORD"
	git_secret tenant-a --from-file=ca.crt="$T/ca/ca.crt"
	tenant tenant-a "https://git:$PASSWORD@127.0.0.1:$(cat "$T/srv/port")/repo.git" \
	    "  secretRef:
    name: git-auth"
	ctl_post /reset
	reconcile
	[ "$status" -eq 0 ]
	assert_confined tenant-a
	applied tenant-a
	grep -q ' 200$' "$T/srv/log"
	dir=$(ls -d "$T"/cache/tenant-a_repo_*)
	[ "$(git -C "$dir" config core.logAllRefUpdates)" = false ]
	[ ! -e "$dir/.git/logs" ]
	[ ! -s "$dir/.git/FETCH_HEAD" ]
	refute grep -rqaF -- "$PASSWORD" "$T/cache"
	refute grep -rqaF -- "git:sotto" "$T/cache"
	refute grep -qF -- "$PASSWORD" "$T/all-logs"
	ctl_get /bodies >"$T/bodies"
	refute grep -qaF -- "$PASSWORD" "$T/bodies"
	[ -z "$(ls -A "$TMPDIR")" ]
	# a wrong one is refused, and its message shows the URL without it
	: >"$T/config.yaml"
	tenant tenant-a "https://git:not-$PASSWORD@127.0.0.1:$(cat "$T/srv/port")/repo.git" \
	    "  secretRef:
    name: git-auth"
	reconcile
	[ "$status" -eq 1 ]
	[ "$(ready tenant-a)" = "False failed to fetch: authentication to '127.0.0.1' failed with the credentials of spec.url" ]
	refute grep -rqaF -- "$PASSWORD" "$T/cache" "$T/all-logs"
}

@test "a password in an ssh URL is refused without showing it" {
	tenant tenant-a "ssh://git:$PASSWORD@127.0.0.1:2222/repo.git"
	tenant tenant-b "git:$PASSWORD@127.0.0.1:repo.git"
	reconcile
	[ "$status" -eq 1 ]
	refused tenant-a "spec.url 'ssh://127.0.0.1:2222/repo.git': a password in an ssh URL is not allowed (the Secret's 'identity' authenticates)"
	refused tenant-b "spec.url '127.0.0.1:repo.git': a password in an ssh URL is not allowed (the Secret's 'identity' authenticates)"
	refute grep -qF -- "$PASSWORD" "$T/all-logs"
	ctl_get /bodies >"$T/bodies"
	refute grep -qaF -- "$PASSWORD" "$T/bodies"
}

@test "https: a redirect to another host is not followed and gets no bearer token" {
	bare_repo
	make_ca "$T/ca"
	https_start other --token "$TOKEN"
	https_start srv --redirect "https://localhost:$(cat "$T/other/port")"
	git_secret tenant-a --from-literal=bearerToken="$TOKEN" \
	    --from-file=ca.crt="$T/ca/ca.crt"
	tenant tenant-a "https://127.0.0.1:$(cat "$T/srv/port")/repo.git" \
	    "  secretRef:
    name: git-auth"
	reconcile
	[ "$status" -eq 1 ]
	refused tenant-a "failed to fetch: cannot redirect from '127.0.0.1' to 'localhost' (redirects to another host are not followed: credentials go only to the host of spec.url)"
	grep -q ' 302$' "$T/srv/log"
	[ ! -s "$T/other/log" ]
	refute grep -qF -- "$TOKEN" "$T/all-logs"
}

# ---- a server that never answers -----------------------------------------

@test "a git server that accepts and never answers is cut at spec.timeout; the other tenant is applied" {
	python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % s.getsockname()[1])
s.settimeout(1)
held, end = [], time.monotonic() + 60
while time.monotonic() < end:
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
' "$T/hang.port" 3>&- &
	HANG_PID=$!
	for i in $(seq 1 50); do
		[ -s "$T/hang.port" ] && break
		sleep 0.1
	done
	tenant tenant-a "http://127.0.0.1:$(cat "$T/hang.port")/repo.git" \
	    "  timeout: 2s"
	tenant tenant-b "file://$REPO"
	reconcile --allow-http-sources --allow-file-sources
	[ "$status" -eq 1 ]
	refused tenant-a "git fetch from '127.0.0.1' timed out after 2s (GitRepository spec.timeout)"
	applied tenant-b
	# the killed fetch left nothing behind
	[ -z "$(ls -d "$T"/cache/tenant-a_* 2>/dev/null)" ]
}
