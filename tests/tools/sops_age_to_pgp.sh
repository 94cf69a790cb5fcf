#!/usr/bin/env bash
# sops_age_to_pgp.sh FILE AGE_KEY_FILE PGP_PUBLIC_KEY EMAIL
# Rewrites the sops YAML FILE in place so that its only master key is a
# `pgp` entry made by real gpg (in a throwaway GNUPGHOME) for EMAIL's key:
# the data key is unwrapped from the file's age entry with the `age` CLI,
# encrypted with gpg, and the `age` list is replaced.  sops' MAC covers the
# values only, so the file stays valid.  For tests of the native OpenPGP
# decryption (issue 21) before sotto can encrypt to PGP itself.
set -euo pipefail
file=$1 agekey=$2 pub=$3 email=$4
tmp=$(mktemp -d)
trap 'GNUPGHOME=$tmp/g gpgconf --kill all >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
mkdir -m 700 "$tmp/g"
export GNUPGHOME=$tmp/g
gpg --batch --quiet --import "$pub"
python3 - "$file" "$tmp/age.enc" <<'P'
import re, sys
s = open(sys.argv[1]).read()
m = re.search(r"-----BEGIN AGE ENCRYPTED FILE-----.*?-----END AGE ENCRYPTED FILE-----", s, re.S)
open(sys.argv[2], "w").write("\n".join(l.strip() for l in m.group(0).split("\n")) + "\n")
P
age -d -i "$agekey" "$tmp/age.enc" |
	gpg --batch --quiet --trust-model always --armor -r "$email" -e >"$tmp/dk.asc"
fp=$(gpg --list-keys --with-colons "$email" | awk -F: '/^fpr/{print $10; exit}')
python3 - "$file" "$tmp/dk.asc" "$fp" <<'P'
import re, sys
s = open(sys.argv[1]).read()
enc = open(sys.argv[2]).read().rstrip("\n")
pgp = "    pgp:\n        - created_at: \"2026-12-07T12:00:00Z\"\n          enc: |-\n" + \
    "".join("            " + l + "\n" if l else "\n" for l in enc.split("\n")) + \
    "          fp: " + sys.argv[3] + "\n"
s, n = re.subn(r"    age:\n(        .*\n|          .*\n|            .*\n|\n)*", pgp, s)
assert n == 1, "no age list in " + sys.argv[1]
open(sys.argv[1], "w").write(s)
P
