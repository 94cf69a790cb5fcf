# SPDX-License-Identifier: ISC
# Helpers for the kube family (7xx): a Kubernetes API stand-in on loopback
# (tests/standin/kube_standin.py) and real kubectl pointed at it.
#
#   standin_start [ARGS]  starts the stand-in in $T/api (HTTPS, self-signed
#                         CA and bearer token in $T/api/kubeconfig); sets
#                         KUBECONFIG, CTL (control URL) and K (kubectl with a
#                         fresh --cache-dir)
#   standin_stop          asks it to quit (it also quits when idle)
#   ctl_get PATH / ctl_post PATH   control endpoint (log, bodies, fault)
#   kube_fixture [SUBDIR...]  age key $T/key.txt (PUB, KEY) applied as the
#                         Secret sops-age, and the git repository $REPO
#   git_repo DIR [SUBDIR...]  an empty repository, branch main, committer t
#   commit MSG            commits everything in $REPO
#   assert_confined NS [USER]  the stand-in's log since its last /reset
#                         stays in namespace NS, has no dot segment and no
#                         Impersonate-* header but Impersonate-User USER

standin_start() {
	STANDIN=$SOTTO_ROOT/tests/standin/kube_standin.py
	mkdir -p "$T/api"
	python3 "$STANDIN" --dir "$T/api" --idle-timeout 90 "$@" \
	    >"$T/api/stdout" 2>"$T/api/stderr" 3>&- &
	STANDIN_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s "$T/api/port" ] && break
		sleep 0.1
	done
	[ -s "$T/api/port" ] || { cat "$T/api/stderr" >&2; return 1; }
	export KUBECONFIG=$T/api/kubeconfig
	CTL=http://127.0.0.1:$(cat "$T/api/ctl_port")
	K="kubectl --cache-dir $T/kcache --request-timeout=20s"
}

standin_stop() {
	[ -n "${CTL:-}" ] && curl -s -m 2 -X POST "$CTL/quit" >/dev/null 2>&1
	[ -n "${STANDIN_PID:-}" ] && wait "$STANDIN_PID" 2>/dev/null
	return 0
}

ctl_get() { curl -s -m 10 "$CTL$1"; }
ctl_post() { curl -s -m 10 -X POST "$CTL$1" >/dev/null; }

git_repo() { # DIR [SUBDIR...]
	local d=$1 s
	shift
	mkdir -p "$d"
	for s in "$@"; do
		mkdir -p "$d/$s"
	done
	git -C "$d" init -q -b main
	git -C "$d" config user.email t@example.com
	git -C "$d" config user.name t
}

kube_fixture() { # [SUBDIR...] of $REPO
	"$SOTTO" age-keygen -o "$T/key.txt" 2>/dev/null
	PUB=$(grep -o 'age1[0-9a-z]*' "$T/key.txt" | head -1)
	KEY=$(grep -o 'AGE-SECRET-KEY-1[0-9A-Z]*' "$T/key.txt")
	$K create secret generic sops-age --from-file=age.agekey="$T/key.txt" \
	    --dry-run=client -o json >"$T/keysecret.json"
	$K apply --server-side -f "$T/keysecret.json" >/dev/null
	REPO=$T/repo
	git_repo "$REPO" "$@"
}

commit() { git -C "$REPO" add -A && git -C "$REPO" commit -qm "$1"; }

# Every request the agent sent (kubectl's are not in the log after the
# reset) stayed in NS or was cluster-wide discovery / the Flux lists / the
# list of Secrets labelled sotto.dev/age-key, had
# no dot segment, and carried no Impersonate-* header but an expected
# Impersonate-User.  Paths matching $CONFINED_ALLOW (a regex: what the
# agent does for another namespace's own Flux objects, e.g. a GitRepository
# there that source-controller's part reconciles) are not counted.  Prints
# the offenders; fails if any.
assert_confined() { # NS [IMPERSONATE_USER]
	ctl_get /log | CONFINED_ALLOW="${CONFINED_ALLOW:-}" python3 -c '
import json, os, re, sys
ns, want = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
allow = os.environ["CONFINED_ALLOW"]
bad = []
for line in sys.stdin:
    e = json.loads(line)
    raw = e.get("raw_path", e["path"])
    p = raw.split("?")[0]
    segs = p.split("/")
    m = re.search(r"/namespaces/([^/]*)", p)
    if allow and re.fullmatch(allow, p) and e.get("impersonate", {}) == {}:
        continue
    if m and m.group(1) != ns:
        bad.append("other namespace: " + raw)
    if any(s in (".", "..") or s.lower().startswith("%2e") for s in segs):
        bad.append("dot segment: " + raw)
    # the Secrets of keys born in the cluster: a fixed label, no tenant
    # chooses it (issue #19)
    key_list = raw.startswith("/api/v1/secrets?labelSelector=sotto.dev%2Fage-key")
    if not m and not (p in ("/api", "/apis", "/api/v1", "/version") or
                      re.fullmatch(r"/apis/[^/]+/[^/]+", p) or
                      p.endswith("/kustomizations") or
                      p.endswith("/gitrepositories") or key_list):
        bad.append("cluster-wide: " + raw)
    for k, v in e.get("impersonate", {}).items():
        if k.lower() != "impersonate-user":
            bad.append("header %s: %s" % (k, v))
        elif v != want:
            bad.append("impersonated %r" % v)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)' "$@"
}

# flux_apply [SECRET [EXTRA]]: applies the GitRepository 'repo' (file://$REPO,
# branch main) and the Kustomization 'app' (path ./app, prune, sops
# decryption with Secret SECRET, default sops-age) in namespace default;
# EXTRA is more Kustomization spec lines, indented two spaces.
flux_apply() {
	cat >"$T/flux.yaml" <<Y
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: repo
  namespace: default
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
  namespace: default
spec:
  interval: 1m
  path: ./app
  prune: true
  sourceRef:
    kind: GitRepository
    name: repo
  decryption:
    provider: sops
    secretRef:
      name: ${1:-sops-age}
${2:-}
Y
	$K apply --server-side -f "$T/flux.yaml" >/dev/null
}
