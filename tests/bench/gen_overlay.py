#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Writes a kustomize overlay of about N objects for the render benchmark.

usage: gen_overlay.py DIR [N]

DIR/base holds N/4 Deployments, N/4 Services, N/4 ConfigMaps and N/4
Secrets-as-ConfigMap-refs in one file per kind; DIR/overlay lists the base
and adds what real overlays do: namespace, namePrefix, labels, annotations,
an image override, replicas, a strategic-merge patch by label selector, a
JSON 6902 patch, and a configMapGenerator whose name the Deployments refer
to (name-reference rewriting with the hash suffix).
"""
import os
import sys

d = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
q = n // 4
os.makedirs(os.path.join(d, "base"), exist_ok=True)
os.makedirs(os.path.join(d, "overlay"), exist_ok=True)


def w(path, text):
    with open(os.path.join(d, path), "w") as f:
        f.write(text)


dep, svc, cm, sa = [], [], [], []
for i in range(q):
    dep.append(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  labels:
    app: app-{i}
    tier: {"web" if i % 2 else "worker"}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: app-{i}
  template:
    metadata:
      labels:
        app: app-{i}
    spec:
      serviceAccountName: sa-{i}
      containers:
      - name: main
        image: registry.example.com/team/app:1.0.{i}
        args: ["--port=8080", "--id={i}"]
        envFrom:
        - configMapRef:
            name: settings
        - configMapRef:
            name: cm-{i}
        ports:
        - containerPort: 8080
        resources:
          limits: {{cpu: 500m, memory: 256Mi}}
""")
    svc.append(f"""apiVersion: v1
kind: Service
metadata:
  name: app-{i}
spec:
  selector:
    app: app-{i}
  ports:
  - port: 80
    targetPort: 8080
""")
    cm.append(f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{i}
data:
  index: "{i}"
  text: some configuration text for object {i}
""")
    sa.append(f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa-{i}
""")
w("base/deployments.yaml", "---\n".join(dep))
w("base/services.yaml", "---\n".join(svc))
w("base/configmaps.yaml", "---\n".join(cm))
w("base/serviceaccounts.yaml", "---\n".join(sa))
w("base/kustomization.yaml", """resources:
- deployments.yaml
- services.yaml
- configmaps.yaml
- serviceaccounts.yaml
commonLabels:
  team: bench
""")
w("overlay/kustomization.yaml", """resources:
- ../base
namespace: prod
namePrefix: prod-
labels:
- pairs:
    env: prod
  includeSelectors: false
commonAnnotations:
  owner: platform
images:
- name: registry.example.com/team/app
  newTag: 2.0.0
replicas:
- name: app-0
  count: 3
configMapGenerator:
- name: settings
  literals:
  - LOG_LEVEL=info
  - REGION=eu
patches:
- target:
    kind: Deployment
    labelSelector: tier=web
  patch: |
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: any
    spec:
      template:
        spec:
          containers:
          - name: main
            env:
            - name: WEB
              value: "1"
- target:
    kind: Service
  patch: |
    - op: add
      path: /spec/type
      value: ClusterIP
""")
