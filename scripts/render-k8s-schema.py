#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Regenerates src/render/schema_k8s.c: the parts of the Kubernetes OpenAPI
schema kustomize builds in (kyaml/openapi/kubernetesapi/v1_21_2/swagger.pb,
kustomize v5.5) that change what a strategic merge patch does: for every
resource type, the lists merged by key (x-kubernetes-patch-strategy merge,
x-kubernetes-list-map-keys or x-kubernetes-patch-merge-key) and the
fields that lead to them.  Everything else in the schema only tells the
merge that a type or field is known, which node 0 (RS_KNOWN) stands for.

usage: render-k8s-schema.py KUSTOMIZE_CHECKOUT > src/render/schema_k8s.c

The .pb is a gnostic OpenAPI v2 Document (protobuf); this decodes the few
fields it needs by their field numbers, without a protobuf library.
"""
import os
import sys


def varint(b, i):
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7f) << s
        s += 7
        if not x & 0x80:
            return r, i


def fields(b):
    i, out = 0, []
    while i < len(b):
        k, i = varint(b, i)
        f, t = k >> 3, k & 7
        if t == 0:
            v, i = varint(b, i)
        elif t == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif t == 1:
            v, i = b[i:i + 8], i + 8
        elif t == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % t)
        out.append((f, v))
    return out


def get(fs, n):
    return [v for f, v in fs if f == n]


def any_yaml(b):
    # Any { google.protobuf.Any value = 1; string yaml = 2; }
    for f, v in fields(b):
        if f == 2:
            return v.decode()
    return None


def schema(b):
    # Schema: _ref 1, additional_properties 21, type 22, items 23,
    # properties 25, vendor_extension 31
    fs, d = fields(b), {}
    r = get(fs, 1)
    if r:
        d["$ref"] = r[0].decode()
    t = get(fs, 22)
    if t:
        d["type"] = [x.decode() for x in get(fields(t[0]), 1)]
    it = get(fs, 23)
    if it:
        s = get(fields(it[0]), 1)
        if s:
            d["items"] = schema(s[0])
    pr = get(fs, 25)
    if pr:
        d["properties"] = {}
        for ns in get(fields(pr[0]), 1):
            nf = fields(ns)
            d["properties"][get(nf, 1)[0].decode()] = schema(get(nf, 2)[0])
    ap = get(fs, 21)
    if ap:
        s = get(fields(ap[0]), 1)
        if s:
            d["additionalProperties"] = schema(s[0])
    for na in get(fs, 31):
        nf = fields(na)
        d[get(nf, 1)[0].decode()] = any_yaml(get(nf, 2)[0])
    return d


def yaml_list(s):
    return [x[2:].strip() for x in (s or "").splitlines() if x.startswith("- ")]


def yaml_gvks(s):
    out, cur = [], {}
    for line in (s or "").splitlines():
        if line.startswith("- "):
            if cur:
                out.append(cur)
            cur = {}
            line = line[2:]
        line = line.strip()
        if ":" in line:
            k, v = line.split(":", 1)
            cur[k.strip()] = v.strip().strip('"')
    if cur:
        out.append(cur)
    return out


def main():
    pb = os.path.join(sys.argv[1], "kyaml/openapi/kubernetesapi/v1_21_2/swagger.pb")
    doc = fields(open(pb, "rb").read())
    defs = {}
    for ns in get(fields(get(doc, 9)[0]), 1):
        nf = fields(ns)
        defs[get(nf, 1)[0].decode()] = schema(get(nf, 2)[0])

    def deref(s):
        while s is not None and "$ref" in s:
            s = defs.get(s["$ref"].split("/")[-1])
        return s

    def strategy(s):
        return (s.get("x-kubernetes-patch-strategy") or "").strip()

    def merge_list(s):
        return s.get("type") == ["array"] and "merge" in strategy(s).split(",")

    memo = {}

    def relevant(s, stack=()):
        s = deref(s)
        if s is None or id(s) in stack:
            return False
        if id(s) in memo:
            return memo[id(s)]
        st, r = stack + (id(s),), merge_list(s)
        for v in (s.get("properties") or {}).values():
            r = relevant(v, st) or r
        if merge_list(s) and s.get("items") is not None:
            r = relevant(s["items"], st) or r
        if s.get("additionalProperties") is not None:
            r = relevant(s["additionalProperties"], st) or r
        memo[id(s)] = r
        return r

    nodes, index, keys = [None], {}, []

    def node(s):
        s = deref(s)
        if s is None or not relevant(s):
            return 0
        if id(s) in index:
            return index[id(s)]
        index[id(s)] = len(nodes)
        nodes.append(None)
        me = index[id(s)]
        props = sorted((k, node(v)) for k, v in (s.get("properties") or {}).items()
                       if relevant(v))
        items = node(s["items"]) if merge_list(s) and s.get("items") else 0
        addl = node(s["additionalProperties"]) if s.get("additionalProperties") else 0
        ks = []
        if merge_list(s):
            ks = yaml_list(s.get("x-kubernetes-list-map-keys"))
            if not ks and s.get("x-kubernetes-patch-merge-key"):
                ks = [s["x-kubernetes-patch-merge-key"].strip()]
        nodes[me] = (merge_list(s), ks, props, items, addl)
        return me

    defnodes = {name: node(defs[name]) for name in sorted(defs)}
    roots = []
    for name in sorted(defs):
        for g in yaml_gvks(defs[name].get("x-kubernetes-group-version-kind")):
            av = g["version"] if not g.get("group") else g["group"] + "/" + g["version"]
            roots.append((av, g["kind"], node(defs[name])))
    roots.sort()

    w = sys.stdout.write
    w("/* SPDX-License-Identifier: ISC */\n/*\n"
      " * Generated by scripts/render-k8s-schema.py from the Kubernetes 1.21.2\n"
      " * OpenAPI schema that kustomize v5.5 builds in: the lists a strategic\n"
      " * merge patch merges by key, and the fields leading to them.  Do not\n"
      " * edit.\n */\n#include \"render/schema_int.h\"\n\n")
    w("#define N(i) (&rs_k8s_nodes[i])\n\n")
    w("const struct rsch rs_k8s_nodes[%d];\n\n" % len(nodes))
    for i, n in enumerate(nodes):
        if n is None or not n[1]:
            continue
        w("static const char *const k%d[] = { %s };\n" %
          (i, ", ".join('"%s"' % k for k in n[1])))
    w("\n")
    for i, n in enumerate(nodes):
        if n is None or not n[2]:
            continue
        w("static const struct rsprop p%d[] = {\n" % i)
        for k, v in n[2]:
            w("\t{ \"%s\", N(%d) },\n" % (k, v))
        w("};\n")
    w("\nconst struct rsch rs_k8s_nodes[%d] = {\n" % len(nodes))
    w("\t{ RS_KNOWN, 0, NULL, NULL, 0, NULL, NULL },\n")
    for i, n in enumerate(nodes[1:], 1):
        ml, ks, props, items, addl = n
        flags = "RS_KNOWN | RS_ARRAY | RS_MERGE" if ml else "RS_KNOWN"
        w("\t{ %s, %d, %s, %s, %d, %s, %s },\n" % (
            flags, len(ks), "k%d" % i if ks else "NULL",
            "p%d" % i if props else "NULL", len(props),
            "N(%d)" % items if items else "NULL",
            "N(%d)" % addl if addl else "NULL"))
    w("};\n\nconst struct rsroot rs_k8s_roots[] = {\n")
    for av, kind, n in roots:
        line = "\t{ \"%s\", \"%s\", N(%d) }," % (av, kind, n)
        if len(line.expandtabs(8)) > 80:
            line = "\t{ \"%s\",\n\t    \"%s\", N(%d) }," % (av, kind, n)
        w(line + "\n")
    w("};\n\nconst size_t rs_k8s_nroots = sizeof(rs_k8s_roots) /\n"
      "    sizeof(rs_k8s_roots[0]);\n")
    # every definition by name, for a custom schema's $ref to one
    w("\nconst struct rsdef rs_k8s_defs[] = {\n")
    for name in sorted(defs):
        line = "\t{ \"%s\", N(%d) }," % (name, defnodes[name])
        if len(line.expandtabs(8)) > 80:
            q = "\"%s\"" % name
            if len(q) > 70:
                cut = name.rfind(".", 0, 60) + 1
                q = "\"%s\"\n\t    \"%s\"" % (name[:cut], name[cut:])
            line = "\t{ %s,\n\t    N(%d) }," % (q, defnodes[name])
        w(line + "\n")
    w("};\n\nconst size_t rs_k8s_ndefs = sizeof(rs_k8s_defs) /\n"
      "    sizeof(rs_k8s_defs[0]);\n")


if __name__ == "__main__":
    main()
