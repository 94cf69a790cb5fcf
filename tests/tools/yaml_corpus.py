#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""yaml_corpus.py: every YAML file of a corpus encrypts and decrypts back
byte for byte, or is a documented exception.

    yaml_corpus.py --sotto BIN --exceptions TSV --name NAME=DIR ... [-v]

For each *.yaml / *.yml under each DIR (NAME labels it in the output and
in the exceptions table): a sops-encrypted file is first decrypted with
every age identity found in the corpus (its plaintext is the input, as
sops wrote it); a plaintext file is the input as it is.  The input is
encrypted with a fresh key and decrypted again; the bytes must be equal.

A file sotto refuses to encrypt (not YAML, a top level that is not a
mapping, an empty stream, what sops refuses too) is counted as refused,
with the message.  A file whose round trip differs must be listed in the
exceptions table, a TSV of "NAME/PATH<TAB>WARNING" lines: WARNING is a
part of the warning the encryption printed for it (the documented reason:
the store names each value whose bytes cannot come back), so a listed file
fails too when that warning is missing.  A listed file that now round-trips
exactly fails as a stale entry.  Exit status 0 when nothing failed.
"""
import argparse
import os
import subprocess
import sys
import tempfile

SUFFIXES = (".yaml", ".yml")


def identities(dirs):
    """Every age identity line in the corpus (published test keys)."""
    seen, out = set(), []
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in files:
                p = os.path.join(root, f)
                try:
                    if os.path.getsize(p) > 65536:
                        continue
                    with open(p, "rb") as fh:
                        data = fh.read()
                except OSError:
                    continue
                for line in data.splitlines():
                    line = line.strip()
                    if line.startswith(b"AGE-SECRET-KEY-") and line not in seen:
                        seen.add(line)
                        out.append(line)
    return out


def is_sops_file(data):
    return b"\nsops:" in b"\n" + data and b"ENC[AES256_GCM," in data and \
        b"mac:" in data


def run(argv, env, stdin=None):
    p = subprocess.run(argv, env=env, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout, p.stderr


def first_diff(a, b):
    n = min(len(a), len(b))
    i = next((k for k in range(n) if a[k] != b[k]), n)
    line = a[:i].count(b"\n") + 1
    return "line %d: %r vs %r" % (line, a[i:i + 60], b[i:i + 60])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sotto", required=True)
    ap.add_argument("--exceptions", required=True)
    ap.add_argument("--name", action="append", default=[],
                    help="NAME=DIR: a corpus root")
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()

    roots = []
    for nd in a.name:
        name, d = nd.split("=", 1)
        if os.path.isdir(d):
            roots.append((name, d))
    exc = {}
    with open(a.exceptions, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            path, warning = line.split("\t", 1)
            exc[path] = warning

    tmp = tempfile.mkdtemp(prefix="sotto-yaml-corpus-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env["HOME"] = tmp
    keyfile = os.path.join(tmp, "keys.txt")
    good = []
    one = os.path.join(tmp, "one.txt")
    for ident in identities([d for _, d in roots]):
        # a corpus may hold a deliberately broken key: keep valid ones
        with open(one, "wb") as fh:
            fh.write(ident + b"\n")
        if run([a.sotto, "age-keygen", "-y", one], env)[0] == 0:
            good.append(ident)
    with open(keyfile, "wb") as fh:
        fh.write(b"\n".join(good) + b"\n")
    os.chmod(keyfile, 0o600)
    env["SOPS_AGE_KEY_FILE"] = keyfile
    mine = os.path.join(tmp, "mine.txt")
    rc, _, err = run([a.sotto, "age-keygen", "-o", mine], env)
    if rc != 0:
        print("cannot make a key: " + err.decode(errors="replace"))
        return 2
    with open(mine, encoding="ascii") as fh:
        recipient = next(l.split(": ")[1].strip() for l in fh
                         if l.startswith("# public key: "))
    with open(keyfile, "ab") as fh, open(mine, "rb") as m:
        fh.write(m.read())

    counts = {"exact": 0, "excepted": 0, "refused": 0, "undecryptable": 0}
    failures, seen_exc = [], set()
    work = os.path.join(tmp, "w")
    os.mkdir(work)
    for name, d in roots:
        for root, dirs, files in os.walk(d):
            dirs.sort()
            for f in sorted(files):
                if not f.endswith(SUFFIXES):
                    continue
                p = os.path.join(root, f)
                key = name + "/" + os.path.relpath(p, d)
                with open(p, "rb") as fh:
                    data = fh.read()
                if is_sops_file(data):
                    rc, out, err = run([a.sotto, "decrypt", "--input-type",
                                        "yaml", p], env)
                    if rc != 0:
                        counts["undecryptable"] += 1
                        if a.v:
                            print("undecryptable %s: %s" % (
                                key, err.decode(errors="replace").strip()))
                        continue
                    data = out
                src = os.path.join(work, "in.yaml")
                with open(src, "wb") as fh:
                    fh.write(data)
                rc, enc, warn = run([a.sotto, "encrypt", "--age", recipient,
                                     src], env)
                if rc != 0:
                    counts["refused"] += 1
                    if a.v:
                        print("refused %s: %s" % (
                            key, warn.decode(errors="replace").strip()))
                    continue
                encf = os.path.join(work, "enc.yaml")
                with open(encf, "wb") as fh:
                    fh.write(enc)
                rc, back, err = run([a.sotto, "decrypt", encf], env)
                warn = warn.decode(errors="replace")
                if rc != 0:
                    failures.append("%s: decrypt failed: %s" % (
                        key, err.decode(errors="replace").strip()))
                    continue
                if back == data:
                    counts["exact"] += 1
                    if key in exc:
                        failures.append("%s: listed as an exception but "
                                        "round-trips exactly" % key)
                        seen_exc.add(key)
                    continue
                if key in exc:
                    seen_exc.add(key)
                    if exc[key] in warn:
                        counts["excepted"] += 1
                        continue
                    failures.append("%s: listed (%s) but encryption did "
                                    "not warn so; warnings: %s" % (
                                        key, exc[key], warn.strip()))
                    continue
                failures.append("%s: round trip differs at %s; warnings: %s"
                                % (key, first_diff(data, back),
                                   warn.strip() or "(none)"))
    for key in sorted(set(exc) - seen_exc):
        if any(key.startswith(n + "/") for n, _ in roots):
            failures.append("%s: listed as an exception but not in the "
                            "corpus" % key)
    for f in failures:
        print("FAIL " + f)
    print("yaml corpus: %d exact, %d documented exceptions, %d refused, "
          "%d not decryptable here, %d failed" % (
              counts["exact"], counts["excepted"], counts["refused"],
              counts["undecryptable"], len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
