#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Remote bases (issue 16 item 5): `repo//path?ref=` resources and
# components fetched through the agent's git child, pinned to the ref,
# cached per URL and ref, refused with --no-remote-bases, the checkout as
# the root.  The repositories are local bare ones over file:// (with
# --allow-file-sources): no test uses the network.

load helpers
load kube_helpers

teardown() {
	standin_stop
}

setup() {
	sotto_setup
	export XDG_CACHE_HOME=$T/xdg
	gc() { git -C "$T/src" -c user.email=t@example.com -c user.name=t "$@"; }
	git init -q -b main "$T/src"
	mkdir -p "$T/src/app" "$T/src/comp"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\ndata:\n  v: one\n' > "$T/src/app/cm.yaml"
	printf 'resources:\n- cm.yaml\nnamePrefix: r-\n' > "$T/src/app/kustomization.yaml"
	printf 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonLabels:\n  from: comp\n' > "$T/src/comp/kustomization.yaml"
	gc add -A && gc commit -qm one && gc tag v1
	V1=$(gc rev-parse HEAD)
	sed -i 's/one/two/' "$T/src/app/cm.yaml"
	gc commit -qam two
	git clone -q --bare "$T/src" "$T/repo.git"
	URL=file://$T/repo.git
	mkdir -p ov
}

# the overlay's kustomization: its lines
ov() { printf '%s\n' "$@" > ov/kustomization.yaml; }

render() { run_io "$SOTTO" render --root "$T" --allow-file-sources "$@" ov; }

@test "a remote base is fetched pinned to its tag, branch or commit, and built as kubectl kustomize builds it" {
	ov "resources:" "- $URL//app?ref=v1" "nameSuffix: -x"
	render
	assert_status 0
	assert_err ""
	kubectl kustomize ov > want.yaml
	same_bytes want.yaml "$T/out" || diff want.yaml "$T/out"
	grep -q '^  v: one$' "$T/out"
	ov "resources:" "- $URL//app?ref=main"
	render
	assert_status 0
	grep -q '^  v: two$' "$T/out"
	ov "resources:" "- $URL//app?ref=$V1"
	render
	assert_status 0
	grep -q '^  v: one$' "$T/out"
	# the legacy ?version= and a .git/path split, as kustomize reads them
	ov "resources:" "- git::$URL/app?version=v1"
	render
	assert_status 0
	grep -q '^  name: r-base$' "$T/out"
}

@test "one checkout per URL and ref: two refs of one repository in one render do not share a tree" {
	ov "resources:" "- $URL//app?ref=v1" "- $URL//app?ref=main"
	render
	assert_status 2
	assert_err "sotto: error: 'ov/kustomization.yaml': may not add resource with an already registered id: ConfigMap.v1.[noGrp]/r-base.[noNs]"
	[ "$(ls -d "$XDG_CACHE_HOME"/sotto/remote-bases/kustomize_ref-* | wc -l)" -eq 2 ]
	# the component form
	ov "resources:" "- $URL//app?ref=v1" "components:" "- $URL//comp?ref=v1"
	render
	assert_status 0
	grep -q '^    from: comp$' "$T/out"
	kubectl kustomize ov > want.yaml
	same_bytes want.yaml "$T/out"
}

@test "--no-remote-bases refuses them; file:// needs --allow-file-sources" {
	ov "resources:" "- $URL//app?ref=v1"
	run_io "$SOTTO" render --no-remote-bases --allow-file-sources ov
	assert_status 1
	assert_err "sotto: error: 'ov/kustomization.yaml': remote base '$URL//app?ref=v1': remote bases are disabled (--no-remote-bases)"
	refute ls "$XDG_CACHE_HOME/sotto/remote-bases"
	run_io "$SOTTO" render ov
	assert_status 1
	assert_err "sotto: error: 'ov/kustomization.yaml': remote base '$URL//app?ref=v1': spec.url '$URL': scheme 'file' is not allowed (use https://, ssh:// or user@host:path; http:// needs --allow-http-sources, file:// needs --allow-file-sources)"
	run_io env -u HOME -u XDG_CACHE_HOME "$SOTTO" render --allow-file-sources ov
	assert_status 1
	assert_err "sotto: error: 'ov/kustomization.yaml': remote base '$URL//app?ref=v1': no cache directory: \$XDG_CACHE_HOME and \$HOME are not set (use --cache-dir)"
	run_io "$SOTTO" render --allow-file-sources --cache-dir "$T/other-cache" ov
	assert_status 0
	ls -d "$T/other-cache/remote-bases"/kustomize_ref-*
}

@test "a remote base must be pinned, name a ref the repository has, and be a git URL" {
	ov "resources:" "- $URL//app"
	render
	assert_status 2
	assert_err "sotto: error: 'ov/kustomization.yaml': remote base '$URL//app': no ?ref=: pin the base to a tag, a branch or a commit"
	ov "resources:" "- $URL//app?ref=-u"
	render
	assert_status 2
	assert_err "sotto: error: 'ov/kustomization.yaml': remote base '$URL//app?ref=-u': ?ref= is not a tag, branch or commit name"
	ov "resources:" "- $URL//app?ref=v1&depth=1"
	render
	assert_status 2
	assert_err "sotto: error: 'ov/kustomization.yaml': remote base '$URL//app?ref=v1&depth=1': only the parameters ref, version, timeout and submodules=false are supported"
	ov "resources:" "- https://example.com/releases/v1/archive.tar.gz"
	render
	assert_status 1
	assert_err "sotto: error: 'ov/kustomization.yaml': remote base 'https://example.com/releases/v1/archive.tar.gz': http(s) file and archive URLs are not supported, only git repositories (host/org/repo//path?ref=...)"
	ov "resources:" "- https://raw.githubusercontent.com/org/repo/main/deploy.yaml"
	render
	assert_status 1
	assert_err_has "http(s) file and archive URLs are not supported"
	ov "resources:" "- https://bob:s3cr3t-77@example.com/repo//app"
	render
	assert_status 2
	assert_err "sotto: error: 'ov/kustomization.yaml': remote base 'https://example.com/repo//app': no ?ref=: pin the base to a tag, a branch or a commit"
	ov "resources:" "- \"https://example.com/repo//app?ref=a\\x1bb\""
	render
	assert_status 2
	assert_err "sotto: error: 'ov/kustomization.yaml': remote base 'https://example.com/repo//app?ref=a\\x1bb': ?ref= is not a tag, branch or commit name"
	ov "resources:" "- git@example.com:org/repo//app?ref=v1"
	render
	assert_status 1
	assert_err "sotto: error: 'ov/kustomization.yaml': remote base 'git@example.com:org/repo//app?ref=v1': ssh remote bases are not supported (there is no key or known_hosts to use): use an https:// URL"
	ov "resources:" "- ftp://example.com/repo//app?ref=v1"
	render
	assert_status 2
	assert_err "sotto: error: 'ov/kustomization.yaml': remote base 'ftp://example.com/repo//app?ref=v1': not a git repository URL (https://, ssh://, user@host:path, file://, or github.com/org/repo)"
	refute ls "$XDG_CACHE_HOME/sotto/remote-bases"/kustomize_*
	ov "resources:" "- $URL//app?ref=nope"
	render
	assert_status 1
	assert_err "sotto: error: 'ov/kustomization.yaml': remote base '$URL//app?ref=nope': ref 'nope' is no tag, branch or commit of the repository"
}

@test "no path in a remote base leaves its repository: ../, a symlink, an absolute path" {
	gc() { git -C "$T/src" -c user.email=t@example.com -c user.name=t "$@"; }
	mkdir -p "$T/src/esc" "$T/src/lnk" "$T/src/abs"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: secret-outside\n' > "$T/outside.yaml"
	# from the checkout in $XDG_CACHE_HOME/sotto/remote-bases/NAME/esc
	printf 'resources:\n- ../../../../../outside.yaml\n' > "$T/src/esc/kustomization.yaml"
	ln -s "$T/outside.yaml" "$T/src/lnk/out.yaml"
	printf 'resources:\n- out.yaml\n' > "$T/src/lnk/kustomization.yaml"
	printf 'resources:\n- %s\n' "$T/outside.yaml" > "$T/src/abs/kustomization.yaml"
	gc add -A && gc commit -qm esc && gc tag v2
	git -C "$T/repo.git" fetch -q "$T/src" 'refs/tags/*:refs/tags/*'
	ov "resources:" "- $URL//esc?ref=v2"
	render
	assert_status 2
	assert_err_has "'../../../../../outside.yaml' (from 'esc') leaves the root"
	ov "resources:" "- $URL//lnk?ref=v2"
	render
	assert_status 2
	assert_err_has "'out.yaml' (from 'lnk') leaves the root"
	ov "resources:" "- $URL//abs?ref=v2"
	render
	assert_status 2
	assert_err_has "absolute paths are not allowed"
	ov "resources:" "- $URL//../..?ref=v2"
	render
	assert_status 2
	assert_err_has "leaves the root"
	refute grep -rq secret-outside "$T/out"
}

@test "a fetch that does not answer is stopped at ?timeout=" {
	# a local server that accepts and never answers (no network)
	python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' > "$T/port" &
	SRV=$!
	for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
	PORT=$(cat "$T/port")
	ov "resources:" "- http://127.0.0.1:$PORT/repo.git//app?ref=v1&timeout=2s"
	run_io timeout 60 "$SOTTO" render --allow-http-sources ov
	kill "$SRV"
	assert_status 1
	assert_err "sotto: error: 'ov/kustomization.yaml': remote base 'http://127.0.0.1:$PORT/repo.git//app?ref=v1&timeout=2s': git fetch from '127.0.0.1' timed out after 2s (the remote base's ?timeout=)"
	assert_out ""
}

@test "the agent fetches a remote base the same way; --no-remote-bases refuses it" {
	command -v kubectl >/dev/null || skip "kubectl not installed"
	standin_start
	kube_fixture app
	printf 'namespace: default\nresources:\n- %s//app?ref=v1\n' "$URL" > "$REPO/app/kustomization.yaml"
	commit initial
	cat >"$T/config.yaml" <<Y
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: repo
spec:
  interval: 1m
  url: file://$REPO
  ref:
    branch: main
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
	run_io "$SOTTO" reconcile --allow-file-sources --once --config "$T/config.yaml" --cache-dir "$T/cache" --no-remote-bases
	assert_status 1
	assert_err_has "remote base '$URL//app?ref=v1': remote bases are disabled (--no-remote-bases)"
	run $K get configmap r-base
	[ "$status" -eq 1 ]
	run_io "$SOTTO" reconcile --allow-file-sources --once --config "$T/config.yaml" --cache-dir "$T/cache"
	assert_status 0
	[ "$($K get configmap r-base -o jsonpath='{.data.v}')" = one ]
	ls -d "$T/cache/remote-bases"/kustomize_ref-*
	standin_stop
}

@test "two renders do not read one cache at once: the second waits for the first's lock" {
	command -v flock >/dev/null || skip "flock not installed"
	ov "resources:" "- $URL//app?ref=v1"
	render
	assert_status 0
	mkfifo "$T/release"
	flock "$XDG_CACHE_HOME/sotto/remote-bases/lock" sh -c ': > "$1/held"; cat "$1/release"' sh "$T" &
	HOLDER=$!
	for _ in $(seq 100); do [ -e "$T/held" ] && break; sleep 0.1; done
	[ -e "$T/held" ]
	"$SOTTO" render --root "$T" --allow-file-sources ov > "$T/second" 2>&1 &
	SECOND=$!
	sleep 1
	kill -0 "$SECOND"	# it cannot end while the lock is held
	echo go > "$T/release"
	wait "$HOLDER"
	wait "$SECOND"
	grep -q '^  name: r-base$' "$T/second"
}
