#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# `sotto reconcile` fetching from authenticated git servers on loopback, with
# the GitRepository's spec.secretRef read the way Flux reads it (issue #8):
# https (git-http-backend behind tests/standin/git_https_server.py: Basic
# auth or a bearer token, a CA made here with openssl) and ssh (a real
# OpenSSH sshd with its own host key).  Every success has a refused twin,
# and no credential may reach a log, a status or a file.

load helpers
load kube_helpers

PASSWORD=sotto-git-password-4b1e
TOKEN=sotto-git-token-93c7
PASSPHRASE=sotto-key-passphrase-d20a

setup() {
	sotto_setup
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR" "$T/git"
	SRC=$T/src
	git_repo "$SRC" app
	cat >"$SRC/app/cm.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  namespace: default
data:
  color: blue
Y
	git -C "$SRC" add -A && git -C "$SRC" commit -qm initial
	git clone -q --bare "$SRC" "$T/git/repo.git"
	HTTPS_PID= SSHD_PID=
}

teardown() {
	local p
	for p in ${HTTPS_PID:-} ${SSHD_PID:-}; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	standin_stop
}

# ---- helpers -------------------------------------------------------------

write_config() { # URL
	cat >"$T/config.yaml" <<Y
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: repo
spec:
  interval: 1m
  url: $1
  ref:
    branch: main
  secretRef:
    name: git-auth
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app
spec:
  interval: 1m
  path: ./app
  prune: true
  sourceRef:
    kind: GitRepository
    name: repo
Y
}

git_secret() { # kubectl create secret generic args...
	$K create secret generic git-auth "$@" --dry-run=client -o json \
	    >"$T/gitsecret.json"
	$K apply --server-side -f "$T/gitsecret.json" >/dev/null
	rm -f "$T/gitsecret.json"
}

reconcile() {
	run_io "$SOTTO" reconcile --once --config "$T/config.yaml" \
	    --cache-dir "$T/cache"
	cat "$T/err" >>"$T/all-logs"
	cat "$T/err" >&2	# shown by bats when a test fails
}

ready_status() {
	$K get configmap sotto-inventory-app -o jsonpath='{.data.status}' |
	    python3 -c 'import json,sys; s=json.load(sys.stdin); c=[c for c in s["conditions"] if c["type"]=="Ready"][0]; print(c["status"], c["reason"], c["message"])'
}

applied() {
	[ "$($K get configmap app-config -o jsonpath='{.data.color}')" = blue ]
}

refused() { # TEXT: Ready=False/ArtifactFailed with TEXT, nothing applied
	[ "$status" -eq 1 ]
	local s
	s=$(ready_status)
	echo "ready: $s" >&2
	[[ "$s" == "False ArtifactFailed "*"$1"* ]]
	refute $K get configmap app-config
}

assert_no_leak() { # SECRET...
	ctl_get /bodies >"$T/bodies"
	local v
	for v in "$@"; do
		refute grep -rqF -- "$v" "$T/all-logs"
		refute grep -qaF -- "$v" "$T/bodies"
		refute grep -rqaF -- "$v" "$TMPDIR" "$T/cache"
	done
	[ -z "$(ls -A "$TMPDIR")" ]
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A CA and a certificate it signs for SAN (default IP:127.0.0.1).
make_ca() { # DIR [SAN]
	local d=$1 san=${2:-IP:127.0.0.1}
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
	    -subj "/CN=sotto test CA $(basename "$d")" \
	    -addext basicConstraints=critical,CA:true \
	    -addext keyUsage=critical,keyCertSign 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/server.key" -out "$d/server.csr" \
	    -subj "/CN=git server" 2>/dev/null
	printf 'subjectAltName=%s\nbasicConstraints=CA:false\n' "$san" \
	    >"$d/ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" \
	    -CAkey "$d/ca.key" -CAcreateserial -out "$d/server.crt" -days 2 \
	    -extfile "$d/ext" 2>/dev/null
}

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

# sshd on 127.0.0.1:PORT with an ed25519 host key and $SSHD_EXTRA config
# lines; it quits after 120 s.
sshd_start() { # [PORT]
	[ -x /usr/sbin/sshd ] ||
	    skip "sshd not installed (scripts/deps.sh test installs openssh-server as root)"
	local d=$T/sshd i
	SSH_PORT=${1:-$(free_port)}
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
LogLevel VERBOSE
C
	[ "$(id -u)" = 0 ] && echo "PermitRootLogin yes" >>"$d/config"
	[ -n "${SSHD_EXTRA:-}" ] && echo "$SSHD_EXTRA" >>"$d/config"
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

client_key() { # TYPE [PASSPHRASE]: a key pair at $T/id, authorised
	ssh-keygen -q -t "$1" -N "${2:-}" -C sotto-test -f "$T/id"
	cat "$T/id.pub" >>"$T/sshd/authorized_keys"
}

# ---- https ---------------------------------------------------------------

@test "https: username, password and ca.crt from the Secret fetch and apply" {
	make_ca "$T/ca"
	https_start "$T/ca" --user git --password "$PASSWORD"
	git_secret --from-literal=username=git \
	    --from-literal=password="$PASSWORD" --from-file=ca.crt="$T/ca/ca.crt"
	write_config "$HTTPS_URL"
	reconcile
	[ "$status" -eq 0 ]
	applied
	[[ "$(ready_status)" == "True ReconciliationSucceeded Applied revision: main@sha1:"* ]]
	grep -q ' 200$' "$T/https/log"
	assert_no_leak "$PASSWORD"
}

@test "https: a wrong password is refused with an authentication message" {
	make_ca "$T/ca"
	https_start "$T/ca" --user git --password "$PASSWORD"
	git_secret --from-literal=username=git \
	    --from-literal=password=not-the-password \
	    --from-file=ca.crt="$T/ca/ca.crt"
	write_config "$HTTPS_URL"
	reconcile
	refused "authentication to '127.0.0.1' failed with the credentials of Secret 'default/git-auth'"
	grep -q "401" "$T/https/log"
	refute grep -q ' 200$' "$T/https/log"
	assert_no_leak "$PASSWORD" not-the-password
}

gr_ready() { # Ready and FetchFailed of GitRepository repo (cluster mode)
	$K get gitrepository repo -o json | python3 -c '
import json, sys
c = {c["type"]: c for c in json.load(sys.stdin)["status"]["conditions"]}
print("%s %s %s" % (c["Ready"]["status"], c["Ready"]["reason"], c["Ready"]["message"]))
print("%s %s" % (c["FetchFailed"]["status"], c["FetchFailed"]["reason"]))'
}

@test "cluster mode: refused credentials make the GitRepository AuthenticationFailed" {
	make_ca "$T/ca"
	https_start "$T/ca" --user git --password "$PASSWORD"
	git_secret --from-literal=username=git \
	    --from-literal=password=not-the-password \
	    --from-file=ca.crt="$T/ca/ca.crt"
	write_config "$HTTPS_URL"
	$K apply --server-side -f "$T/config.yaml" >/dev/null
	run_io "$SOTTO" reconcile --once --cache-dir "$T/cache"
	cat "$T/err" >>"$T/all-logs"
	[ "$status" -eq 1 ]
	[ "$(gr_ready)" = "False AuthenticationFailed failed to fetch: authentication to '127.0.0.1' failed with the credentials of Secret 'default/git-auth'
True AuthenticationFailed" ]
	# a certificate the Secret's CA does not sign is no credentials problem
	git_secret --from-literal=username=git \
	    --from-literal=password="$PASSWORD"
	run_io "$SOTTO" reconcile --once --cache-dir "$T/cache"
	cat "$T/err" >>"$T/all-logs"
	[ "$status" -eq 1 ]
	[[ "$(gr_ready)" == "False GitOperationFailed failed to fetch: "*certificate* ]]
	assert_no_leak "$PASSWORD" not-the-password
}

@test "https: a Secret with only ca.crt is refused when the server asks for credentials" {
	make_ca "$T/ca"
	https_start "$T/ca" --user git --password "$PASSWORD"
	git_secret --from-file=ca.crt="$T/ca/ca.crt"
	write_config "$HTTPS_URL"
	reconcile
	refused "'127.0.0.1' asks for credentials: Secret 'default/git-auth' needs 'username' and 'password' (or 'bearerToken')"
}

@test "https: a bearer token and the legacy caFile key are accepted" {
	make_ca "$T/ca"
	https_start "$T/ca" --token "$TOKEN"
	git_secret --from-literal=bearerToken="$TOKEN" \
	    --from-file=caFile="$T/ca/ca.crt"
	write_config "$HTTPS_URL"
	reconcile
	[ "$status" -eq 0 ]
	applied
	assert_no_leak "$TOKEN"
}

@test "https: a wrong bearer token is refused" {
	make_ca "$T/ca"
	https_start "$T/ca" --token "$TOKEN"
	git_secret --from-literal=bearerToken=not-the-token \
	    --from-file=ca.crt="$T/ca/ca.crt"
	write_config "$HTTPS_URL"
	reconcile
	refused "authentication to '127.0.0.1' failed with the bearerToken of Secret 'default/git-auth'"
	assert_no_leak "$TOKEN" not-the-token
}

@test "https: without ca.crt the self-signed server fails the certificate check" {
	make_ca "$T/ca"
	https_start "$T/ca" --user git --password "$PASSWORD"
	git_secret --from-literal=username=git --from-literal=password="$PASSWORD"
	write_config "$HTTPS_URL"
	reconcile
	refused "certificate"
	refute grep -q ' 200$' "$T/https/log"
	assert_no_leak "$PASSWORD"
}

@test "https: another CA's ca.crt is refused before any credential is sent" {
	make_ca "$T/ca"
	make_ca "$T/other"
	https_start "$T/ca" --user git --password "$PASSWORD"
	git_secret --from-literal=username=git \
	    --from-literal=password="$PASSWORD" \
	    --from-file=ca.crt="$T/other/ca.crt"
	write_config "$HTTPS_URL"
	reconcile
	refused "TLS certificate check failed with the ca.crt of Secret 'default/git-auth': certificate of '127.0.0.1' is not trusted by the given CA"
	[ ! -s "$T/https/log" ]
	assert_no_leak "$PASSWORD"
}

@test "https: a certificate from the right CA but for another host is refused" {
	make_ca "$T/ca" DNS:git.example.org
	https_start "$T/ca" --user git --password "$PASSWORD"
	git_secret --from-literal=username=git \
	    --from-literal=password="$PASSWORD" --from-file=ca.crt="$T/ca/ca.crt"
	write_config "$HTTPS_URL"
	reconcile
	refused "certificate is not valid for '127.0.0.1'"
	[ ! -s "$T/https/log" ]
}

# ---- ssh -----------------------------------------------------------------

@test "ssh: an ed25519 identity and a [host]:port known_hosts entry fetch and apply" {
	sshd_start
	client_key ed25519
	echo "[127.0.0.1]:$SSH_PORT $HOSTKEY" >"$T/known_hosts"
	git_secret --from-file=identity="$T/id" \
	    --from-file=identity.pub="$T/id.pub" \
	    --from-file=known_hosts="$T/known_hosts"
	write_config "$SSH_URL"
	reconcile
	[ "$status" -eq 0 ]
	applied
	[[ "$(ready_status)" == "True ReconciliationSucceeded Applied revision: main@sha1:"* ]]
	grep -q "Accepted publickey" "$T/sshd/log"
	assert_no_leak "$(sed -n 2p "$T/id")" "$(sed -n 3p "$T/id")"
}

@test "ssh: a hashed known_hosts entry among others, and a passphrase-protected key" {
	sshd_start
	client_key ed25519 "$PASSPHRASE"
	ssh-keyscan -p "$SSH_PORT" -t ed25519 127.0.0.1 2>/dev/null >"$T/kh"
	[ -s "$T/kh" ]
	grep -q "^\[127.0.0.1\]:$SSH_PORT ssh-ed25519 " "$T/kh"
	ssh-keygen -q -H -f "$T/kh" 2>/dev/null
	grep -q '^|1|' "$T/kh"
	{
		echo "# a comment, a blank line, other hosts"
		echo
		echo "example.org,192.0.2.1 $(ssh-keygen -q -t ed25519 -N '' -f "$T/o" && cut -d' ' -f1,2 "$T/o.pub")"
		cat "$T/kh"
	} >"$T/known_hosts"
	git_secret --from-file=identity="$T/id" \
	    --from-literal=password="$PASSPHRASE" \
	    --from-file=known_hosts="$T/known_hosts"
	write_config "$SSH_URL"
	reconcile
	[ "$status" -eq 0 ]
	applied
	assert_no_leak "$PASSPHRASE" "$(sed -n 2p "$T/id")" "$(sed -n 5p "$T/id")"
}

# libssh2 1.10 signs with ssh-rsa (SHA-1) only, which OpenSSH 8.8+ refuses by
# default: RSA identities need a server that still accepts ssh-rsa.
@test "ssh: an RSA identity works where the server accepts ssh-rsa signatures" {
	SSHD_EXTRA="PubkeyAcceptedAlgorithms +ssh-rsa" sshd_start
	client_key rsa "$PASSPHRASE"
	echo "[127.0.0.1]:$SSH_PORT $HOSTKEY" >"$T/known_hosts"
	git_secret --from-file=identity="$T/id" \
	    --from-literal=password="$PASSPHRASE" \
	    --from-file=known_hosts="$T/known_hosts"
	write_config "$SSH_URL"
	reconcile
	[ "$status" -eq 0 ]
	applied
	assert_no_leak "$PASSPHRASE" "$(sed -n 2p "$T/id")"
}

@test "ssh: a known_hosts key that does not match the server is refused" {
	sshd_start
	client_key ed25519
	ssh-keygen -q -t ed25519 -N '' -f "$T/impostor"
	echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$T/impostor.pub")" \
	    >"$T/known_hosts"
	git_secret --from-file=identity="$T/id" \
	    --from-file=known_hosts="$T/known_hosts"
	write_config "$SSH_URL"
	reconcile
	refused "host key verification failed: the ssh-ed25519 key of '[127.0.0.1]:$SSH_PORT' does not match the known_hosts of Secret 'default/git-auth'"
	refute grep -q "Accepted publickey" "$T/sshd/log"
	assert_no_leak "$(sed -n 2p "$T/id")"
}

@test "ssh: a host missing from known_hosts (other port, plain name) is refused" {
	sshd_start
	client_key ed25519
	# the right key, but filed under port 22 and another port
	{
		echo "127.0.0.1 $HOSTKEY"
		echo "[127.0.0.1]:1 $HOSTKEY"
		echo "@revoked [127.0.0.2]:$SSH_PORT $HOSTKEY"
	} >"$T/known_hosts"
	git_secret --from-file=identity="$T/id" \
	    --from-file=known_hosts="$T/known_hosts"
	write_config "$SSH_URL"
	reconcile
	refused "host key verification failed: '[127.0.0.1]:$SSH_PORT' is not in the known_hosts of Secret 'default/git-auth'"
}

@test "ssh: wildcard patterns match and a negated pattern excludes" {
	sshd_start
	client_key ed25519
	echo "![127.0.0.1]:$SSH_PORT,* $HOSTKEY" >"$T/known_hosts"
	git_secret --from-file=identity="$T/id" \
	    --from-file=known_hosts="$T/known_hosts"
	write_config "$SSH_URL"
	reconcile
	refused "'[127.0.0.1]:$SSH_PORT' is not in the known_hosts"
	echo "example.org,[127.0.0.?]:$SSH_PORT,!foo $HOSTKEY" >"$T/known_hosts"
	git_secret --from-file=identity="$T/id" \
	    --from-file=known_hosts="$T/known_hosts"
	reconcile
	[ "$status" -eq 0 ]
	applied
}

@test "ssh: a @revoked host key is refused even when also listed" {
	sshd_start
	client_key ed25519
	{
		echo "[127.0.0.1]:$SSH_PORT $HOSTKEY"
		echo "@revoked * $HOSTKEY"
	} >"$T/known_hosts"
	git_secret --from-file=identity="$T/id" \
	    --from-file=known_hosts="$T/known_hosts"
	write_config "$SSH_URL"
	reconcile
	refused "is @revoked in the known_hosts"
}

@test "ssh: a Secret without known_hosts is refused with a clear error" {
	sshd_start
	client_key ed25519
	git_secret --from-file=identity="$T/id"
	write_config "$SSH_URL"
	reconcile
	refused "ssh source '127.0.0.1' needs 'known_hosts' in Secret 'default/git-auth': host keys are always verified"
	# the only connection is sshd_start's readiness probe
	[ "$(grep -c 'Connection from' "$T/sshd/log")" -eq 1 ]
}

@test "ssh: a key the server does not accept fails authentication" {
	sshd_start
	ssh-keygen -q -t ed25519 -N '' -C '' -f "$T/id"
	echo "[127.0.0.1]:$SSH_PORT $HOSTKEY" >"$T/known_hosts"
	git_secret --from-file=identity="$T/id" \
	    --from-file=known_hosts="$T/known_hosts"
	write_config "$SSH_URL"
	reconcile
	refused "authentication to '127.0.0.1' failed with the credentials of Secret 'default/git-auth'"
	grep -q "Failed publickey" "$T/sshd/log"
	assert_no_leak "$(sed -n 2p "$T/id")"
}

@test "ssh: a wrong key passphrase is refused" {
	sshd_start
	client_key ed25519 "$PASSPHRASE"
	echo "[127.0.0.1]:$SSH_PORT $HOSTKEY" >"$T/known_hosts"
	git_secret --from-file=identity="$T/id" \
	    --from-literal=password=wrong-passphrase \
	    --from-file=known_hosts="$T/known_hosts"
	write_config "$SSH_URL"
	reconcile
	refused "Failed to authenticate SSH session: Private key unpack failed (correct password?)"
	assert_no_leak "$PASSPHRASE" wrong-passphrase
}

@test "ssh: an scp-like user@host:path URL uses port 22 and a plain known_hosts name" {
	[ "$(id -u)" = 0 ] || skip "port 22 needs root"
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",22))' \
	    2>/dev/null || skip "127.0.0.1:22 is in use"
	sshd_start 22
	client_key ed25519
	echo "localhost,127.0.0.1 $HOSTKEY" >"$T/known_hosts"
	git_secret --from-file=identity="$T/id" \
	    --from-file=known_hosts="$T/known_hosts"
	write_config "$SSH_USER@127.0.0.1:$T/git/repo.git"
	reconcile
	[ "$status" -eq 0 ]
	applied
}
