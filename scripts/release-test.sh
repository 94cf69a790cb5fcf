#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# `make release-test`: the release checks alone (tests/cli/950-release.bats,
# which `make test` also runs): dist, reproducible .deb and image, dpkg -i
# / dpkg -r, lintian, umoci unpack and a chroot run of the image's root.
# They test HEAD (scripts/dist.sh packs the commit).  Ends with one line
# "N passed, N failed" like tests/run.sh.
set -u
cd "$(dirname "$0")/.." || exit 2
export SOTTO_ROOT=$PWD
out=$(bats --tap tests/cli/950-release.bats 2>&1); s=$?
printf '%s\n' "$out"
pass=$(printf '%s\n' "$out" | grep -c '^ok ')
fail=$(printf '%s\n' "$out" | grep -c '^not ok ')
[ "$s" = 0 ] || [ "$fail" != 0 ] || fail=1
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
