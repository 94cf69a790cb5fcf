#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# `sotto render` against real `kubectl kustomize` on kustomize's own
# integration tests ($SOTTO_SHARED/vectors/kustomize-krusty: one file tree
# per api/krusty test), compared object by object after parsing by
# tests/render/krusty_compare.py.  A different output (objects or order),
# accepting what kustomize rejects, a crash, or more than 10 clean
# refusals fails.  The last two tests check that the comparison itself
# catches a different output and counts refusals.

load helpers

setup() {
	sotto_setup
	CORPUS=$SOTTO_SHARED/vectors/kustomize-krusty
	[ -d "$CORPUS/cases" ] || skip "kustomize krusty corpus not found at '$CORPUS' (set SOTTO_SHARED)"
	command -v kubectl >/dev/null || { echo "kubectl not installed" >&2; return 1; }
	python3 -c 'import yaml' || { echo "python3 yaml (PyYAML) missing" >&2; return 1; }
	CMP=$SOTTO_ROOT/tests/render/krusty_compare.py
	JOBS=$(nproc 2>/dev/null || echo 2)
}

@test "kustomize's own test corpus renders as kubectl kustomize: no difference, no accepted invalid input, no crash, at most 10 refusals" {
	run timeout 600 python3 "$CMP" --corpus "$CORPUS" --sotto "$SOTTO" --jobs "$JOBS"
	echo "$output" | tail -30
	[ "$status" -eq 0 ]
	[[ "$output" == *" 0 SILENT-DIFF, 0 accepts-invalid, 0 crash of "* ]]
}

@test "the comparison fails on an output that differs from kubectl kustomize" {
	cat > "$T/bin/sotto-off" <<-EOF
	#!/bin/sh
	"$SOTTO" "\$@" | sed 's/^kind: Deployment\$/kind: StatefulSet/'
	EOF
	chmod +x "$T/bin/sotto-off"
	run timeout 120 python3 "$CMP" --corpus "$CORPUS" --sotto "$T/bin/sotto-off" --only '^00[6-7]-'
	[ "$status" -eq 1 ]
	[[ "$output" == *"krusty: 0 equal, 0 order-only, 0 clean-refusal, 2 SILENT-DIFF, 0 accepts-invalid, 0 crash of 2"* ]]
}

@test "the comparison fails on more refusals than allowed, and on output written by a failing run" {
	printf '#!/bin/sh\necho "sotto: error: no" >&2\nexit 1\n' > "$T/bin/sotto-no"
	chmod +x "$T/bin/sotto-no"
	KRUSTY_MAX_REFUSALS=1 run timeout 120 python3 "$CMP" --corpus "$CORPUS" --sotto "$T/bin/sotto-no" --only '^0(0[5-6])-'
	[ "$status" -eq 1 ]
	[[ "$output" == *"krusty: 2 refusals, more than 1"* ]]
	KRUSTY_MAX_REFUSALS=2 run timeout 120 python3 "$CMP" --corpus "$CORPUS" --sotto "$T/bin/sotto-no" --only '^0(0[5-6])-'
	[ "$status" -eq 0 ]
	printf '#!/bin/sh\n"%s" "$@"\nexit 1\n' "$SOTTO" > "$T/bin/sotto-half"
	chmod +x "$T/bin/sotto-half"
	run timeout 120 python3 "$CMP" --corpus "$CORPUS" --sotto "$T/bin/sotto-half" --only '^005-'
	[ "$status" -eq 1 ]
	[[ "$output" == *"crash of 1"* ]]
}
