#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copied from ../shared/tools/krusty_compare.py (the shared acceptance tool) so that
# `make test` runs it (tests/cli/706-render-krusty.bats); an order-only difference fails
# here too.
"""Compare `sotto render` with `kubectl kustomize` on cases made by krusty_extract.py.

usage: krusty_compare.py --corpus DIR --sotto BIN [--kubectl CMD] [--jobs N] [--json OUT]
                         [--verbose] [--only REGEX]

Each case directory holds root/ (the test's file tree) and case.json (run path, expected
output, whether the test expects an error).  Both tools build the run directory; their YAML
streams are parsed into lists of objects and compared.  Plain scalars are typed so that a
value YAML 1.1 and YAML 1.2 read differently (on, yes, 0123, 1_000, 1:20 ...) never equals a
quoted string: such a difference changes what kubectl apply sends.

Classes (one per case):
  E  equal            both succeed, same objects in the same order
  O  order-only       same objects, different order
  C  clean-refusal    kustomize succeeds, sotto exits 1 or 2 with a message and no output
  B  both-error       both refuse
  S  SILENT-DIFF      both succeed, objects differ
  K  accepts-invalid  kustomize refuses, sotto succeeds
  D  documented       kustomize refuses, sotto succeeds, as its man page says it does: a
                      directory without a kustomization renders as a plain directory, and a
                      kustomization may name files anywhere under --root (Flux's rule)
  P  no-oracle        kustomize panicked (a kustomize bug): not counted either way
  X  crash            sotto killed by a signal, timed out, a sanitizer report, or output
                      on stdout although it failed
The last line is: krusty: E equal, O order-only, C clean-refusal, S SILENT-DIFF,
K accepts-invalid, X crash of N
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    print("FAIL: python3 yaml (PyYAML) is missing: apt-get install -y python3-yaml")
    sys.exit(1)

TIMEOUT = 60

# ------------------------------------------------------------------------- YAML typing

CORE_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
CORE_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                        r"|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$")


def core12(text):
    """YAML 1.2 core schema value of a plain scalar."""
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if CORE_INT.match(text):
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)
    if CORE_FLOAT.match(text):
        t = text.lower()
        if t.endswith("inf"):
            return float("-inf") if t.startswith("-") else float("inf")
        if t.endswith("nan"):
            return "NaN"
        return float(text)
    return text


_c11 = yaml.SafeLoader("")


def yaml11(node):
    tag = node.tag
    if tag == "tag:yaml.org,2002:timestamp":
        return node.value  # go-yaml keeps these as strings for untyped targets
    try:
        v = _c11.construct_object(node, deep=True)
    except Exception:
        return node.value
    if isinstance(v, float) and v != v:
        return "NaN"
    return v


class Ambiguous:
    """A plain scalar that YAML 1.1 and 1.2 type differently."""

    def __init__(self, text):
        self.text = text

    def __eq__(self, o):
        return isinstance(o, Ambiguous) and o.text == self.text

    def __hash__(self):
        return hash(("amb", self.text))

    def __repr__(self):
        return "<plain %s: YAML 1.1/1.2 differ>" % self.text


def tonative(node):
    if isinstance(node, yaml.MappingNode):
        out = {}
        for k, v in node.value:
            kk = tonative(k)
            if isinstance(kk, (dict, list)):
                kk = json.dumps(kk, sort_keys=True, default=repr)
            out[kk] = tonative(v)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [tonative(x) for x in node.value]
    # scalar
    if node.style is not None or node.tag not in (
            "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
            "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp"):
        if node.tag == "tag:yaml.org,2002:binary" or node.tag == "tag:yaml.org,2002:str" \
                or node.style is not None:
            return node.value
        return yaml11(node)
    v11 = yaml11(node)
    v12 = core12(node.value)
    if type(v11) is not type(v12) and not (isinstance(v11, (int, float)) and isinstance(v12, (int, float))
                                            and not isinstance(v11, bool) and not isinstance(v12, bool)):
        return Ambiguous(node.value)
    if v11 != v12:
        return Ambiguous(node.value)
    return v11


def parse_stream(text):
    docs = []
    for node in yaml.compose_all(text, Loader=yaml.SafeLoader):
        if node is None:
            continue
        v = tonative(node)
        if v is None:
            continue
        docs.append(v)
    return docs


def canon(o):
    return json.dumps(o, sort_keys=True, default=repr)


def obj_id(o):
    if not isinstance(o, dict):
        return ("?", canon(o)[:40])
    md = o.get("metadata") if isinstance(o.get("metadata"), dict) else {}
    return (str(o.get("apiVersion")), str(o.get("kind")), str(md.get("namespace") or ""),
            str(md.get("name")))


def first_diffs(a, b, path="", out=None, limit=4):
    if out is None:
        out = []
    if len(out) >= limit:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            p = "%s.%s" % (path, k) if path else str(k)
            if k not in a:
                out.append("%s: only sotto has %s" % (p, short(b[k])))
            elif k not in b:
                out.append("%s: only kustomize has %s" % (p, short(a[k])))
            elif a[k] != b[k]:
                first_diffs(a[k], b[k], p, out, limit)
            if len(out) >= limit:
                break
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append("%s: kustomize %d items, sotto %d items: %s vs %s"
                       % (path, len(a), len(b), short(a), short(b)))
            return out
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                first_diffs(x, y, "%s[%d]" % (path, i), out, limit)
            if len(out) >= limit:
                break
        return out
    out.append("%s: kustomize %s, sotto %s" % (path, short(a), short(b)))
    return out


def short(v, n=90):
    s = canon(v) if not isinstance(v, Ambiguous) else repr(v)
    return s if len(s) <= n else s[:n] + "..."


HASH_RE = re.compile(r"-[bcdfghkmt2-9]{10}$")


def diff_summary(ka, sa):
    """Minimal description of how two object lists differ."""
    lines = []
    kid, sid = {}, {}
    for o in ka:
        kid.setdefault(obj_id(o), []).append(o)
    for o in sa:
        sid.setdefault(obj_id(o), []).append(o)
    pairs = []
    konly = [i for i in kid if i not in sid]
    sonly = [i for i in sid if i not in kid]
    # pair objects whose names differ only in a generator hash suffix
    for i in list(konly):
        stem = i[:3] + (HASH_RE.sub("", i[3]),)
        for j in sonly:
            if j[:3] + (HASH_RE.sub("", j[3]),) == stem:
                lines.append("name %s: kustomize %s, sotto %s" % ("/".join(i[1:3]), i[3], j[3]))
                pairs.append((kid[i], sid[j], i))
                konly.remove(i)
                sonly.remove(j)
                break
    for i in konly:
        lines.append("object only in kustomize: %s" % "/".join(i))
    for i in sonly:
        lines.append("object only in sotto: %s" % "/".join(i))
    for i in kid:
        if i in sid:
            pairs.append((kid[i], sid[i], i))
    for ks, ss, i in pairs:
        if len(ks) != len(ss):
            lines.append("%s: kustomize has %d, sotto %d" % ("/".join(i), len(ks), len(ss)))
            continue
        for x, y in zip(ks, ss):
            if isinstance(x, dict) and isinstance(y, dict):
                x = dict(x, metadata=dict(x.get("metadata") or {}, name=None))
                y = dict(y, metadata=dict(y.get("metadata") or {}, name=None))
            if x != y:
                for d in first_diffs(x, y):
                    lines.append("%s: %s" % ("/".join(i[1:]), d))
    return lines


# ------------------------------------------------------------------------- running

def kerr_summary(kerr):
    """kubectl's error without klog's prefix, on one line."""
    m = re.search(r'"command failed" err=(?:"((?:[^"\\]|\\.)*)"|<\n(.*?)\n\s*>)', kerr, re.S)
    if m:
        text = m.group(1) if m.group(1) is not None else m.group(2)
        text = text.replace('\\"', '"')
    else:
        text = kerr.strip().splitlines()[-1] if kerr.strip() else "?"
    text = re.sub(r"/\S*/cases/[^/\s]+/root", "ROOT", text)
    return " ".join(text.split())[:300]


def run(cmd, cwd, env):
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=TIMEOUT)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return "timeout", "", ""


def one_case(cdir, sotto, kubectl, env):
    meta = json.load(open(os.path.join(cdir, "case.json")))
    target = os.path.join(cdir, meta["run"])
    root = os.path.join(cdir, "root")
    krc, kout, kerr = run(kubectl + ["kustomize", target], cdir, env)
    src, sout, serr = run([sotto, "render", "--root", root, target], cdir, env)
    r = {"name": meta["name"], "dir": os.path.basename(cdir), "file": meta["file"],
         "krc": krc, "src": src, "kerr": kerr.strip()[:3000], "serr": serr.strip()[-600:]}
    # extractor sanity: does kustomize agree with the test's own expectation?
    if meta.get("expect_error") is True:
        r["agrees_with_test"] = krc != 0
    elif meta.get("expected") is not None and krc == 0:
        try:
            r["agrees_with_test"] = sorted(map(canon, parse_stream(meta["expected"]))) == \
                sorted(map(canon, parse_stream(kout)))
        except yaml.YAMLError:
            r["agrees_with_test"] = None
    elif meta.get("expect_error") is False:
        r["agrees_with_test"] = krc == 0
    crash = (src == "timeout" or (isinstance(src, int) and (src < 0 or src >= 128))
             or "Sanitizer" in serr or "runtime error:" in serr)
    if crash:
        r["cls"] = "X"
        r["why"] = "timeout" if src == "timeout" else "rc=%s %s" % (src, serr.strip()[-200:])
        return r
    if krc != 0 and ("panic:" in kerr or "goroutine " in kerr):
        r["cls"] = "P"
        r["why"] = "kustomize panicked: " + next((l for l in kerr.splitlines() if "panic" in l), "")[:200]
        if src == 0 and meta.get("expected") is not None:
            try:
                same = sorted(map(canon, parse_stream(meta["expected"]))) == \
                    sorted(map(canon, parse_stream(sout)))
                r["why"] += "; sotto %s the test's expected output" % ("matches" if same else "differs from")
            except yaml.YAMLError:
                pass
        return r
    if krc == "timeout":
        r["cls"] = "B" if src != 0 else "K"
        r["why"] = "kustomize timed out"
        return r
    if src != 0:
        if sout.strip():
            r["cls"] = "X"
            r["why"] = "sotto failed (rc=%s) but wrote %d bytes to stdout" % (src, len(sout))
        elif not serr.strip():
            r["cls"] = "X"
            r["why"] = "sotto failed (rc=%s) without a message" % src
        else:
            r["cls"] = "B" if krc != 0 else "C"
            r["why"] = serr.strip().splitlines()[-1][:200]
        return r
    if krc != 0:
        r["why"] = "kustomize: " + kerr_summary(kerr)
        if "unable to find one of 'kustomization.yaml'" in kerr:
            r["cls"] = "D"
            r["why"] = "plain-directory render; " + r["why"]
        elif "is not in or below" in kerr:
            r["cls"] = "D"
            r["why"] = "file outside the kustomization but under --root; " + r["why"]
        else:
            r["cls"] = "K"
        return r
    try:
        ka = parse_stream(kout)
    except yaml.YAMLError as e:
        r["cls"] = "B"
        r["why"] = "kustomize output unparsable: %s" % str(e)[:100]
        return r
    try:
        sa = parse_stream(sout)
    except yaml.YAMLError as e:
        r["cls"] = "S"
        r["why"] = "sotto output is not valid YAML: %s" % str(e).replace("\n", " ")[:160]
        r["diff"] = [r["why"]]
        return r
    if ka == sa:
        r["cls"] = "E"
        return r
    if sorted(map(canon, ka)) == sorted(map(canon, sa)):
        r["cls"] = "O"
        r["why"] = "order: kustomize %s / sotto %s" % (
            ", ".join("/".join(obj_id(o)[1:]) for o in ka)[:300],
            ", ".join("/".join(obj_id(o)[1:]) for o in sa)[:300])
        return r
    r["cls"] = "S"
    r["diff"] = diff_summary(ka, sa)[:12]
    if not r["diff"]:
        r["diff"] = ["objects differ (no field-level difference found: duplicates or order "
                     "inside equal ids)"]
    r["why"] = r["diff"][0][:240]
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--sotto", required=True)
    ap.add_argument("--kubectl", default="kubectl")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 4)
    ap.add_argument("--json")
    ap.add_argument("--only")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    a.sotto = os.path.abspath(a.sotto)
    a.corpus = os.path.abspath(a.corpus)
    cases_dir = os.path.join(a.corpus, "cases")
    dirs = sorted(os.path.join(cases_dir, d) for d in os.listdir(cases_dir))
    if a.only:
        dirs = [d for d in dirs if re.search(a.only, os.path.basename(d))]
    home = tempfile.mkdtemp(prefix="krusty-home.")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SOPS_") and k not in ("KUBECONFIG", "XDG_CONFIG_HOME")}
    env.update({"HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config"),
                "KUBECONFIG": "/dev/null", "LC_ALL": "C.UTF-8"})
    kubectl = a.kubectl.split()
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        results = list(ex.map(lambda d: one_case(d, a.sotto, kubectl, env), dirs))
    counts = {c: 0 for c in "EOCBSKXDP"}
    for r in results:
        counts[r["cls"]] += 1
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    agree = [r for r in results if r.get("agrees_with_test") is not None]
    print("corpus: %d cases; kustomize agrees with the test's own expectation in %d of %d checkable"
          % (len(results), sum(1 for r in agree if r["agrees_with_test"]), len(agree)))
    print("  E equal %d, O order-only %d, C clean-refusal %d, B both-error %d, S SILENT-DIFF %d, "
          "K accepts-invalid %d, X crash %d, D documented-difference %d, P kustomize-panic %d"
          % tuple(counts[c] for c in "EOCBSKXDP"))
    for cls, title in (("S", "SILENT-DIFF"), ("O", "order-only"), ("K", "accepts-invalid"),
                       ("X", "crash")):
        for r in results:
            if r["cls"] == cls:
                print("  %s %s (%s)" % (title, r["name"], r["dir"]))
                for line in (r.get("diff") or [r.get("why", "")])[:6 if a.verbose else 3]:
                    print("      " + line)
    if a.verbose:
        for cls, title in (("C", "clean-refusal"), ("B", "both-error"),
                           ("D", "documented"), ("P", "kustomize-panic")):
            for r in results:
                if r["cls"] == cls:
                    print("  %s %s: %s" % (title, r["name"], r.get("why", "")))
    print("krusty: %d equal, %d order-only, %d clean-refusal, %d SILENT-DIFF, %d accepts-invalid, "
          "%d crash of %d" % (counts["E"], counts["O"], counts["C"], counts["S"], counts["K"],
                              counts["X"], len(results)))
    # goal: no different output (objects or order), no accepted invalid input, no crash,
    # at most KRUSTY_MAX_REFUSALS (10) clean refusals, and a corpus that is not empty
    limit = int(os.environ.get("KRUSTY_MAX_REFUSALS", "10"))
    bad = counts["S"] + counts["O"] + counts["K"] + counts["X"]
    if counts["C"] > limit:
        print("krusty: %d refusals, more than %d" % (counts["C"], limit))
    return 0 if results and bad == 0 and counts["C"] <= limit else 1


if __name__ == "__main__":
    sys.exit(main())
