#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Benchmark for `sotto reconcile` (issue #8): N objects (default 1000; one
# in ten a sops-encrypted Secret) in a local git repo, applied to the API
# stand-in.  Prints the full reconcile time, the no-change reconcile time,
# API requests per pass and the agent's peak RSS (goal < 20 MB).
#   tests/bench/reconcile.sh [N]
set -eu
cd "$(dirname "$0")/../.."
ROOT=$PWD
SOTTO=${SOTTO:-$ROOT/build/sotto}
N=${1:-1000}
W=$(mktemp -d "${TMPDIR:-/tmp}/sotto-bench.XXXXXX")
trap 'curl -s -m 2 -X POST "http://127.0.0.1:$(cat "$W/api/ctl_port" 2>/dev/null)/quit" >/dev/null 2>&1; rm -rf "$W"' EXIT

python3 "$ROOT/tests/standin/kube_standin.py" --dir "$W/api" --idle-timeout 300 >/dev/null 2>&1 &
for _ in $(seq 1 100); do [ -s "$W/api/port" ] && break; sleep 0.1; done
export KUBECONFIG=$W/api/kubeconfig
K="kubectl --cache-dir $W/kc"

"$SOTTO" age-keygen -o "$W/key.txt" 2>/dev/null
PUB=$(grep -o 'age1[0-9a-z]*' "$W/key.txt" | head -1)
$K create secret generic sops-age --from-file=age.agekey="$W/key.txt" \
    --dry-run=client -o json | $K apply --server-side -f - >/dev/null

R=$W/repo
mkdir -p "$R/app"
git -C "$R" init -q -b main
{
	echo "apiVersion: kustomize.config.k8s.io/v1beta1"
	echo "kind: Kustomization"
	echo "namespace: default"
	echo "resources:"
} >"$R/app/kustomization.yaml"
for i in $(seq 1 "$N"); do
	if [ $((i % 10)) -eq 0 ]; then
		printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s-%s\nstringData:\n  v: value-%s\n' \
		    "$i" "$i" >"$W/plain.yaml"
		"$SOTTO" encrypt --age "$PUB" "$W/plain.yaml" >"$R/app/o-$i.yaml"
	else
		printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c-%s\ndata:\n  k: v-%s\n' \
		    "$i" "$i" >"$R/app/o-$i.yaml"
	fi
	echo "  - o-$i.yaml" >>"$R/app/kustomization.yaml"
done
rm -f "$W/plain.yaml"
git -C "$R" add -A
git -C "$R" -c user.email=b@b -c user.name=b commit -qm bench

cat >"$W/config.yaml" <<Y
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: repo}
spec: {interval: 1m, url: "file://$R", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: bench}
spec:
  interval: 1m
  path: ./app
  prune: true
  sourceRef: {kind: GitRepository, name: repo}
  decryption: {provider: sops, secretRef: {name: sops-age}}
Y

# One long-running agent: pass 1 creates everything, passes 2-3 change
# nothing.  The agent logs its own peak RSS after each pass; ru_maxrss of
# our children is the largest of the agent and the git fetch and render
# processes it forks (Linux counts waited-for grandchildren).
python3 - "$SOTTO" "$W" "$N" <<'P'
import json, resource, signal, subprocess, sys, time
sotto, w = sys.argv[1], sys.argv[2]
p = subprocess.Popen([sotto, "reconcile", "--allow-file-sources",
                      "--config", w + "/config.yaml",
                      "--cache-dir", w + "/cache", "--interval", "1s"],
                     stderr=subprocess.PIPE, text=True)
passes = []
agent = 0
for line in p.stderr:
    e = json.loads(line)
    if e["msg"].startswith("pass finished"):
        f = e["msg"].split()
        passes.append((float(f[3]), int(f[6])))
        if "peak RSS" in e["msg"]:
            agent = int(f[-2])
        if len(passes) == 3:
            p.send_signal(signal.SIGTERM)
p.wait()
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
(t1, r1), (t2, r2), (t3, r3) = passes
print("objects                      %s" % sys.argv[3])
print("full reconcile               %.3f s  %d requests" % (t1, r1))
print("no-change reconcile          %.3f s  %d requests" % (t2, r2))
print("no-change reconcile (again)  %.3f s  %d requests" % (t3, r3))
print("peak RSS                     %.1f MB (goal < 20 MB)" % rss)
print("  of the agent process alone  %.1f MB" % (agent / 1024))
P

# Cluster mode: the same repository as Flux objects in the API, applied
# into a fresh namespace (a full reconcile), then a `flux reconcile`-style
# requestedAt annotation (one no-change reconcile, started by the watch),
# then the agent idling on its two watches.
cat >"$W/flux.yaml" <<Y
apiVersion: v1
kind: Namespace
metadata: {name: bench2}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: repo, namespace: default}
spec: {interval: 10m, url: "file://$R", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: bench, namespace: default}
spec:
  interval: 10m
  path: ./app
  prune: true
  targetNamespace: bench2
  sourceRef: {kind: GitRepository, name: repo}
  decryption: {provider: sops, secretRef: {name: sops-age}}
Y
$K apply --server-side -f "$W/flux.yaml" >/dev/null
python3 - "$SOTTO" "$W" "$K" <<'P'
import json, re, signal, subprocess, sys, time, threading
sotto, w, k = sys.argv[1], sys.argv[2], sys.argv[3].split()
p = subprocess.Popen([sotto, "reconcile", "--allow-file-sources",
                      "--cache-dir", w + "/cache2", "--namespace", "default"],
                     stderr=subprocess.PIPE, text=True)
lines = []
def reader():
    for line in p.stderr:
        lines.append(json.loads(line))
threading.Thread(target=reader, daemon=True).start()
def wait(pred, secs=120):
    end = time.time() + secs
    while time.time() < end:
        for e in list(lines):
            if pred(e):
                return e
        time.sleep(0.05)
    raise SystemExit("bench: the agent did not get there")
def status(field):
    for l in open("/proc/%d/status" % p.pid):
        if l.startswith(field + ":"):
            return int(l.split()[1]) / 1024
first = wait(lambda e: e["msg"].startswith("pass finished"))
f = first["msg"].split()
t0 = time.time()
subprocess.run(k + ["-n", "default", "annotate", "kustomization", "bench",
                    "--overwrite", "reconcile.fluxcd.io/requestedAt=bench"],
               check=True, stdout=subprocess.DEVNULL)
def handled():
    o = subprocess.run(k + ["-n", "default", "get", "kustomization", "bench",
                            "-o", "jsonpath={.status.lastHandledReconcileAt}"],
                       capture_output=True, text=True).stdout
    return o == "bench"
while not handled() and time.time() - t0 < 60:
    time.sleep(0.05)
dt = time.time() - t0
time.sleep(3)
rss, hwm = status("VmRSS"), status("VmHWM")
p.send_signal(signal.SIGTERM)
p.wait()
print("cluster mode (watching):")
print("  full reconcile             %.3f s  %d requests" % (float(f[3]), int(f[6])))
print("  requestedAt -> handled     %.3f s (watch, no-change reconcile, kubectl polling)" % dt)
print("  idle RSS on two watches    %.1f MB, peak %.1f MB (goal < 20 MB)" % (rss, hwm))
P
