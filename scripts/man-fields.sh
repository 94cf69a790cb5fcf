#!/bin/sh
# SPDX-License-Identifier: ISC
# Regenerates the FIELDS list of man/sotto-reconcile.8 from the table the
# agent checks (src/kube/fields.c): sotto reconcile --list-fields=roff.
# tests/cli/769-reconcile-tenants.bats fails when the two differ.
set -eu
cd "$(dirname "$0")/.."
SOTTO=${SOTTO:-build/sotto}
man=man/sotto-reconcile.8
tmp=$(mktemp "$man.XXXXXX")
trap 'rm -f "$tmp"' EXIT
"$SOTTO" reconcile --list-fields=roff >"$tmp.fields"
awk -v f="$tmp.fields" '
/^\.\\" BEGIN FIELDS/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
/^\.\\" END FIELDS/ { skip = 0 }
!skip' "$man" >"$tmp"
rm -f "$tmp.fields"
cat "$tmp" >"$man"
