#!/bin/sh
# SPDX-License-Identifier: ISC
# Regenerates the field lists the documentation prints from the tables the
# code checks: the FIELDS list of man/sotto-reconcile.8 from the agent's
# table (src/kube/fields.c, `sotto reconcile --list-fields=roff`), and the
# kustomization fields of man/sotto-render.1 and README.md from the
# renderer's (src/render/kust.c, `sotto render --list-fields=roff|md`).
# tests/cli/769-reconcile-tenants.bats and 700-render.bats fail when they
# differ.
set -eu
cd "$(dirname "$0")/.."
SOTTO=${SOTTO:-build/sotto}

# splice FILE BEGIN-REGEX END-REGEX COMMAND...: replaces the lines between
# the two marker lines of FILE with COMMAND's output
splice() {
	file=$1 begin=$2 end=$3
	shift 3
	tmp=$(mktemp "$file.XXXXXX")
	"$@" >"$tmp.fields" || { rm -f "$tmp" "$tmp.fields"; exit 1; }
	F=$tmp.fields B=$begin E=$end awk '
	$0 ~ ENVIRON["B"] { print; while ((getline l < ENVIRON["F"]) > 0) print l
		skip = 1; next }
	$0 ~ ENVIRON["E"] { skip = 0 }
	!skip' "$file" >"$tmp"
	rm -f "$tmp.fields"
	cat "$tmp" >"$file"
	rm -f "$tmp"
}

splice man/sotto-reconcile.8 '^\.\\" BEGIN FIELDS' '^\.\\" END FIELDS' \
    "$SOTTO" reconcile --list-fields=roff
splice man/sotto-render.1 '^\.\\" BEGIN FIELDS' '^\.\\" END FIELDS' \
    "$SOTTO" render --list-fields=roff
splice README.md '^<!-- BEGIN RENDER FIELDS' '^<!-- END RENDER FIELDS' \
    "$SOTTO" render --list-fields=md
