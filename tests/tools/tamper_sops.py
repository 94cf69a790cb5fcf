#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""tamper_sops.py FILE OUTDIR: writes tampered variants of a sops-encrypted
file (any store: it works on the text) into OUTDIR, keeping FILE's
extension, and prints one manifest line per variant:

    NAME<TAB>STATUS<TAB>STATUS_WITH_IGNORE_MAC

with the exit statuses sops gives (spec sops-format.md §8.3):

  val-I-data, val-I-iv, val-I-tag   one base64 character of the I-th
                                    encrypted value changed        25 / 25
  swap-I-J                          values I and J exchanged (they
                                    sit at different key paths)     25 / 25
  mac-data, mac-iv, mac-tag         the stored MAC's parts          51 / 0
  lastmodified                      the timestamp (the MAC's AAD)   51 / 0

Encrypted comments (type:comment) are left alone: sops keeps a comment it
cannot decrypt, with a warning.  The character changed is the first of the
base64 group, so the decoded bytes always change.
"""
import os
import re
import sys

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
ENC = re.compile(r"ENC\[AES256_GCM,data:([^,\]]*),iv:([^,\]]*),"
                 r"tag:([^,\]]*),type:([a-z]+)\]")
MAC_BEFORE = re.compile(r"""(^|[\s"'_])mac["']?\s*[:=]\s*["']?$""")
LASTMOD = re.compile(r"""(lastmodified["']?\s*[:=]\s*["']?)(\d{4})""")


def flip(s, pos):
    c = s[pos]
    return s[:pos] + B64[(B64.index(c) + 1) % 64] + s[pos + 1:]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, outdir = sys.argv[1], sys.argv[2]
    text = open(src, encoding="utf-8", newline="").read()
    ext = os.path.splitext(src)[1]
    os.makedirs(outdir, exist_ok=True)
    values, mac = [], None
    for m in ENC.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if MAC_BEFORE.search(text[line_start:m.start()]):
            mac = m
        elif m.group(4) != "comment":
            values.append(m)
    out = []

    def emit(name, body, status, ignore):
        with open(os.path.join(outdir, name + ext), "w", encoding="utf-8",
                  newline="") as f:
            f.write(body)
        out.append("%s\t%d\t%d" % (name, status, ignore))

    def parts(prefix, m, status, ignore):
        for g, part in ((1, "data"), (2, "iv"), (3, "tag")):
            if m.end(g) == m.start(g):
                continue  # empty group: nothing to flip
            emit(prefix + part, flip(text, m.start(g)), status, ignore)

    for i, m in enumerate(values):
        parts("val-%d-" % i, m, 25, 25)
    if len(values) >= 2:
        a, b = values[0], values[1]
        body = (text[:a.start()] + b.group(0) + text[a.end():b.start()] +
                a.group(0) + text[b.end():])
        emit("swap-0-1", body, 25, 25)
    if mac is not None:
        parts("mac-", mac, 51, 0)
    lm = LASTMOD.search(text)
    if lm is not None:
        year = "%04d" % (int(lm.group(2)) - 1)
        emit("lastmodified", text[:lm.start(2)] + year + text[lm.end(2):],
             51, 0)
    print("\n".join(out))


if __name__ == "__main__":
    main()
