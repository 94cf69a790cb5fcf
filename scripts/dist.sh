#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# `make dist`: build/sotto-X.Y.Z.tar.gz, the source of the commit HEAD
# (git archive: committed files only, not the working tree), plus two
# files git cannot supply to a tarball build: GITREV (the short commit id
# `sotto --version` prints) and SOURCE_DATE_EPOCH (the commit time, which
# fixes every timestamp in the packages).  Same commit, same bytes.
# OUT=<dir> writes there instead of build/.
set -euo pipefail
cd "$(dirname "$0")/.."
unset SOURCE_DATE_EPOCH  # always the commit time here
git rev-parse --verify -q HEAD >/dev/null || {
	echo "dist: error: not a git checkout (dist packs HEAD)" >&2; exit 1; }
. scripts/release-common.sh

name=sotto-$VERSION
out=${OUT:-build}/$name.tar.gz
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
git archive --format=tar --prefix="$name/" HEAD | tar -x -C "$tmp"
# a fixed length: git's default grows with the object count, so two
# clones of one commit could name it differently
git rev-parse --short=12 HEAD >"$tmp/$name/GITREV"
echo "$SOURCE_DATE_EPOCH" >"$tmp/$name/SOURCE_DATE_EPOCH"
mkdir -p "$(dirname "$out")"
det_tar --mode=go-w,a+rX -C "$tmp" -cf - "$name" | gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	echo "dist: note: the working tree has uncommitted changes; they are" \
	    "not in the tarball" >&2
fi
echo "$out"
