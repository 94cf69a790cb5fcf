#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""gen_docs.py OUTDIR [COUNT [SEED]]: random YAML and JSON documents for the
sops round-trip property test (tests/cli/290-sops-interop.bats).

Writes OUTDIR/doc-NNN.yaml or .json (half each) and, next to each,
doc-NNN.leaves.json: the document's leaves in tree order as sops hashes
them into the MAC (str as is, int decimal, float Go 'f' form, bool
True/False; null and "" left out), for comparison with the oracle.

Documents: nested maps and sequences (maps in sequences), empty
collections, strings with BMP unicode, quotes, backslashes, tabs and
newlines, strings that look like numbers or bools, ints, floats, bools,
nulls, empty strings, keys ending in _unencrypted, and in YAML full-line
and inline comments, plain / single / double-quoted / literal block styles
and 2- or 4-space indentation.

Only spellings a byte-exact round trip can keep are produced: canonical
numbers (no exponents, no trailing zeros), no characters outside the BMP
(go-yaml escapes them), no folded scalars, no flow collections, no JSON
\\u escapes of printable characters.  Prints "seed N" on stdout.
"""
import json
import os
import random
import sys

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet "
         "kilo lima mike november oscar papa quebec romeo sierra tango "
         "uniform victor whiskey xray zulu secret token password host port "
         "user name value data key").split()
UNI = ["café", "naïve", "日本語", "ελληνικά", "кириллица", "עברית", "中文",
       "Größe", "ñandú", "€uro"]
TRICKY = ["123", "-7", "1.5", "true", "False", "null", "yes", "no", "~",
          "0x1F", "1e3", ": colon", "# hash", "- dash", "a: b", "[x]",
          "{y}", "  lead", "trail  ", "quote \"in\" it", "it's", "back\\slash",
          "tab\there", "*star", "&amp", "!bang", "%pct", "@at", "`tick`",
          "ENCish[x]", "<b>&"]


class Gen:
    def __init__(self, rnd):
        self.r = rnd

    def word(self):
        if self.r.random() < 0.15:
            return self.r.choice(UNI)
        return self.r.choice(WORDS)

    def words(self, lo=1, hi=4):
        return " ".join(self.word() for _ in range(self.r.randint(lo, hi)))

    def string(self):
        k = self.r.random()
        if k < 0.35:
            return self.words()
        if k < 0.55:
            return self.r.choice(TRICKY)
        if k < 0.7:  # multi-line
            lines = [self.words() for _ in range(self.r.randint(2, 4))]
            return "\n".join(lines) + ("\n" if self.r.random() < 0.5 else "")
        if k < 0.8:
            return 'say "%s"\\%s' % (self.word(), self.word())
        if k < 0.85:
            return ""
        return "%s\t%s" % (self.word(), self.word())

    def floatstr(self):
        ip = str(self.r.randint(0, 10 ** self.r.randint(0, 6)))
        fp = str(self.r.randint(1, 10 ** self.r.randint(1, 5)))
        fp = fp.rstrip("0") or "5"
        s = ip + "." + fp
        if len(s.replace(".", "").lstrip("0")) > 15:
            s = "1.25"
        return ("-" if self.r.random() < 0.3 else "") + s

    def scalar(self):
        k = self.r.random()
        if k < 0.5:
            return ("str", self.string())
        if k < 0.65:
            return ("int", str(self.r.randint(-10 ** 12, 10 ** 12)))
        if k < 0.78:
            return ("float", self.floatstr())
        if k < 0.9:
            return ("bool", self.r.choice([True, False]))
        return ("null", None)

    def key(self, used):
        while True:
            k = self.r.choice(WORDS + UNI[:3])
            if self.r.random() < 0.3:
                k += "_%d" % self.r.randint(0, 99)
            if self.r.random() < 0.06:
                k += "_unencrypted"
            if k not in used and k != "sops":
                used.add(k)
                return k

    def value(self, depth):
        k = self.r.random()
        if depth < 4 and k < 0.2:
            return self.mapping(depth + 1)
        if depth < 4 and k < 0.32:
            return self.sequence(depth + 1)
        return self.scalar()

    def mapping(self, depth):
        used = set()
        n = self.r.randint(0 if depth else 1, 6)
        return ("map", [(self.key(used), self.value(depth)) for _ in range(n)])

    def sequence(self, depth):
        items = []
        for _ in range(self.r.randint(0, 4)):
            if depth < 4 and self.r.random() < 0.25:
                m = self.mapping(depth + 1)
                if not m[1]:
                    m = ("map", [(self.key(set()), self.scalar())])
                items.append(m)
            else:
                items.append(self.scalar())
        return ("seq", items)


def leaves(node, out):
    t, v = node
    if t == "map":
        for _, c in v:
            leaves(c, out)
    elif t == "seq":
        for c in v:
            leaves(c, out)
    elif t == "bool":
        out.append("True" if v else "False")
    elif t == "null" or v == "":
        pass
    else:
        out.append(v)
    return out


# ---- YAML ---------------------------------------------------------------

RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n",
            "~", "True", "False", "Null", "NULL", "TRUE", "FALSE", "Yes",
            "No", "On", "Off", "Y", "N", "YES", "NO", "ON", "OFF"}


def plain_ok(s):
    if not s or s in RESERVED or s != s.strip() or "  " in s:
        return False
    if any(c in s for c in ":#'\"\\\n\t[]{},&*!|>%@`"):
        return False
    if s[0] in "-?":
        return False
    try:
        float(s)
        return False
    except ValueError:
        pass
    return not s.startswith("0x") and not s.startswith("ENC[")


def dq(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') \
        .replace("\n", "\\n").replace("\t", "\\t") + '"'


class Yaml:
    def __init__(self, rnd, ind):
        self.r, self.ind, self.out = rnd, ind, []

    def comment(self):
        return "# " + " ".join(
            self.r.choice(WORDS + UNI) for _ in range(self.r.randint(1, 4)))

    def scalar_text(self, node, col):
        """Returns (first-line text, extra lines) for a scalar at column col
        (the column of its key)."""
        t, v = node
        if t == "null":
            return "null", []
        if t == "bool":
            return "true" if v else "false", []
        if t in ("int", "float"):
            return v, []
        if "\n" in v:
            body = v.rstrip("\n")
            lines = body.split("\n")
            if (self.r.random() < 0.6 and all(l and l == l.strip()
                                              for l in lines)):
                chomp = "" if v.endswith("\n") and not v.endswith("\n\n") \
                    else "-"
                if v.endswith("\n") or chomp == "-":
                    pad = " " * (col + self.ind)
                    return "|" + chomp, [pad + l for l in lines]
            return dq(v), []
        if plain_ok(v) and self.r.random() < 0.6:
            return v, []
        if "\t" not in v and self.r.random() < 0.4:
            return "'" + v.replace("'", "''") + "'", []
        return dq(v), []

    def inline(self, text, node):
        if node[0] != "null" and not text.startswith("|") and \
                self.r.random() < 0.15:
            return text + " " + self.comment()
        return text

    def emit_map(self, items, col):
        pad = " " * col
        for k, v in items:
            if self.r.random() < 0.12:
                self.out.append(pad + self.comment())
            self.entry(pad + k + ":", v, col)

    def entry(self, head, v, col):
        t = v[0]
        if t == "map":
            if not v[1]:
                self.out.append(head + " {}")
                return
            self.out.append(head)
            self.emit_map(v[1], col + self.ind)
        elif t == "seq":
            if not v[1]:
                self.out.append(head + " []")
                return
            self.out.append(head)
            self.emit_seq(v[1], col + self.ind)
        else:
            text, extra = self.scalar_text(v, col)
            self.out.append(self.inline(head + " " + text, v))
            self.out.extend(extra)

    def emit_seq(self, items, col):
        pad = " " * col
        for v in items:
            if v[0] == "map":
                first = True
                for k, c in v[1]:
                    head = (pad + "- " if first else pad + "  ") + k + ":"
                    self.entry(head, c, col + 2)
                    first = False
            else:
                text, extra = self.scalar_text(v, col)
                # block scalar lines are indented relative to the dash
                self.out.append(self.inline(pad + "- " + text, v))
                self.out.extend(extra)

    def doc(self, root):
        if self.r.random() < 0.5:
            self.out.append(self.comment())
        self.emit_map(root[1], 0)
        return "\n".join(self.out) + "\n"


# ---- JSON ---------------------------------------------------------------

def js(node, ind, level):
    t, v = node
    nl = "\n" if ind is not None else ""
    sep = ": "
    if t == "map":
        if not v:
            return "{}"
        inner = (ind or "") * (level + 1)
        parts = [inner + json.dumps(k, ensure_ascii=False) + sep +
                 js(c, ind, level + 1) for k, c in v]
        return "{" + nl + ("," + nl if ind is not None else ", ").join(
            parts) + nl + (ind or "") * level + "}"
    if t == "seq":
        if not v:
            return "[]"
        inner = (ind or "") * (level + 1)
        parts = [inner + js(c, ind, level + 1) for c in v]
        return "[" + nl + ("," + nl if ind is not None else ", ").join(
            parts) + nl + (ind or "") * level + "]"
    if t == "null":
        return "null"
    if t == "bool":
        return "true" if v else "false"
    if t in ("int", "float"):
        return v
    return json.dumps(v, ensure_ascii=False)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    outdir = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else \
        random.SystemRandom().randrange(1 << 30)
    rnd = random.Random(seed)
    os.makedirs(outdir, exist_ok=True)
    for i in range(count):
        g = Gen(rnd)
        root = g.mapping(0)
        if i % 2 == 0:
            text = Yaml(rnd, rnd.choice([2, 4])).doc(root)
            name = "doc-%03d.yaml" % i
        else:
            ind = rnd.choice(["  ", "    ", "\t", None])
            text = js(root, ind, 0) + "\n"
            name = "doc-%03d.json" % i
        with open(os.path.join(outdir, name), "w", encoding="utf-8") as f:
            f.write(text)
        with open(os.path.join(outdir, name + ".leaves.json"), "w",
                  encoding="utf-8") as f:
            json.dump(leaves(root, []), f, ensure_ascii=False)
    print("seed", seed)


if __name__ == "__main__":
    main()
