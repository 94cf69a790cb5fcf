#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Benchmark for `sotto reconcile` at scale (issue 15): K Kustomizations
# (default 1000) of 20 objects each (19 ConfigMaps and a sops-encrypted
# Secret), their paths spread over 10 GitRepositories, read from the API
# stand-in in cluster mode, --concurrent 4.  Prints, with API requests
# and the CPU the agent and its children used:
#   full pass            a running agent's first pass: everything created
#   sources-due pass     its next pass, when the GitRepositories' 15s
#                        interval is up: 10 fetches, nothing new, so no
#                        Kustomization runs (Flux's steady state)
#   everything again     a fresh agent (--once): every Kustomization
#                        reconciled with nothing to change (what each
#                        spec.interval costs)
# and the peak RSS.  The stand-in is one Python process serving one
# request at a time: its CPU per pass (printed) is a floor under the
# pass's wall time that a real API server would not impose.
#   tests/bench/reconcile_many.sh [K]
set -eu
cd "$(dirname "$0")/../.."
ROOT=$PWD
SOTTO=${SOTTO:-$ROOT/build/sotto}
KS=${1:-1000}
NSRC=10
W=$(mktemp -d "${TMPDIR:-/tmp}/sotto-bench.XXXXXX")
trap 'curl -s -m 2 -X POST "http://127.0.0.1:$(cat "$W/api/ctl_port" 2>/dev/null)/quit" >/dev/null 2>&1; rm -rf "$W"' EXIT

python3 "$ROOT/tests/standin/kube_standin.py" --dir "$W/api" --idle-timeout 900 >/dev/null 2>&1 &
API_PID=$!
for _ in $(seq 1 100); do [ -s "$W/api/port" ] && break; sleep 0.1; done
export KUBECONFIG=$W/api/kubeconfig
K="kubectl --cache-dir $W/kc --request-timeout=120s"

"$SOTTO" age-keygen -o "$W/key.txt" 2>/dev/null
PUB=$(grep -o 'age1[0-9a-z]*' "$W/key.txt" | head -1)
$K create secret generic sops-age --from-file=age.agekey="$W/key.txt" \
    --dry-run=client -o json | $K apply --server-side -f - >/dev/null
printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  v: bench-value\n' \
    >"$W/plain.yaml"
"$SOTTO" encrypt --age "$PUB" "$W/plain.yaml" >"$W/secret.enc.yaml"
rm -f "$W/plain.yaml"

# the repositories and the Flux objects
python3 - "$W" "$KS" "$NSRC" <<'P'
import os, shutil, subprocess, sys
w, ks, nsrc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
flux = []
for s in range(nsrc):
    r = "%s/repo%d" % (w, s)
    os.makedirs(r)
    subprocess.run(["git", "-C", r, "init", "-q", "-b", "main"], check=True)
    flux.append("""apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: repo%d, namespace: default}
spec: {interval: 15s, url: "file://%s", ref: {branch: main}}
""" % (s, r))
for k in range(ks):
    s = k % nsrc
    d = "%s/repo%d/ks%d" % (w, s, k)
    os.makedirs(d)
    with open(d + "/cm.yaml", "w") as f:
        for j in range(19):
            f.write("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                    "  name: c-%d\ndata:\n  k: v-%d-%d\n" % (j, k, j))
    shutil.copy(w + "/secret.enc.yaml", d + "/secret.enc.yaml")
    with open(d + "/kustomization.yaml", "w") as f:
        f.write("apiVersion: kustomize.config.k8s.io/v1beta1\n"
                "kind: Kustomization\nresources:\n  - cm.yaml\n"
                "  - secret.enc.yaml\n")
    flux.append("""apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: ks%d, namespace: default}
spec:
  interval: 10m
  path: ./ks%d
  prune: true
  targetNamespace: b%d
  sourceRef: {kind: GitRepository, name: repo%d}
  decryption: {provider: sops, secretRef: {name: sops-age}}
""" % (k, k, k, s))
for s in range(nsrc):
    r = "%s/repo%d" % (w, s)
    subprocess.run(["git", "-C", r, "add", "-A"], check=True)
    subprocess.run(["git", "-C", r, "-c", "user.email=b@b", "-c",
                    "user.name=b", "commit", "-qm", "bench"], check=True)
with open(w + "/flux.yaml", "w") as f:
    f.write("---\n".join(flux))
P
$K apply --server-side -f "$W/flux.yaml" >/dev/null

# A running agent for two passes, then a fresh one for one pass (--once).
# The agent logs each pass's time, requests and its own peak RSS;
# ru_maxrss of our children also covers the git fetch and render
# processes it forks.
python3 - "$SOTTO" "$W" "$KS" "$API_PID" <<'P'
import json, os, resource, signal, subprocess, sys
sotto, w, ks, api = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tick = os.sysconf("SC_CLK_TCK")
def cpu(pid, children=True):
    # the agent's threads and the children it waited for (git, render)
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in f[11:15 if children else 13]) / tick
def run(args, labels):
    p = subprocess.Popen([sotto, "reconcile", "--allow-file-sources",
                          "--concurrent", "4", "--cache-dir", w + "/cache"] +
                         args, stderr=subprocess.PIPE, text=True)
    applied = fetched = errors = n = 0
    c0 = 0.0
    a0 = cpu(api, False)
    for line in p.stderr:
        e = json.loads(line)
        m = e["msg"]
        if m.startswith("pass finished"):
            c = cpu(p.pid)
            a = cpu(api, False)
            f = m.split()
            print("%-18s %7.2f s  %6d requests  %2d fetches  %4d applied  "
                  "CPU %5.1f s  stand-in CPU %5.1f s  agent peak RSS %.1f MB"
                  % (labels[n], float(f[3]), int(f[6]), fetched, applied,
                  c - c0, a - a0, int(f[-2]) / 1024))
            c0, a0 = c, a
            applied = fetched = 0
            n += 1
            if n == len(labels) and "--once" not in args:
                p.send_signal(signal.SIGTERM)
        elif m.startswith("Applied revision"):
            applied += 1
        elif m.startswith("GitRepository ") and " artifact for " in m:
            fetched += 1
        elif e.get("level") == "error":
            errors += 1
    p.wait()
    if n < len(labels) or errors:
        raise SystemExit("bench: %d passes, %d errors" % (n, errors))
run([], ["full pass", "sources-due pass"])
run(["--once"], ["everything again"])
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print("Kustomizations     %s x 20 objects, 10 GitRepositories, --concurrent 4"
      % ks)
print("peak RSS           %.1f MB (the largest of the agent, git, render)" % rss)
P
