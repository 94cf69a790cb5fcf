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
	[ -n "${HTTPS_PID:-}" ] && kill "$HTTPS_PID" 2>/dev/null &&
	    wait "$HTTPS_PID" 2>/dev/null
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
	# a controller pass applies from git: the Deployment comes from there
	$K -n sotto-system delete deployment sotto-reconcile >/dev/null
	agent_once
	$K -n sotto-system get kustomization sotto-system -o json >"$T/ks.json"
	python3 - "$T/ks.json" <<'P'
import json, sys
k = json.load(open(sys.argv[1]))
ready = [c for c in k["status"]["conditions"] if c["type"] == "Ready"][0]
assert ready["status"] == "True", ready
assert k["spec"]["path"] == "./clusters/dev", k["spec"]
assert k["spec"]["decryption"]["secretRef"]["name"] == "sops-age"
P
	[ "$($K -n sotto-system get deployment sotto-reconcile -o jsonpath='{.spec.template.spec.containers[0].args[0]}')" = controller ]
	run_io "$SOTTO" get ks -n sotto-system
	[ "$status" -eq 0 ]
	[[ "$out" == *"sotto-system"*"True"* ]]
}
