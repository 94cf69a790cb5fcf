#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Inputs that hold little and build a lot, against `sotto render` (and the
# YAML store behind `sotto decrypt`/`encrypt`): an alias bomb, 60,000
# anchors, a kustomization DAG that doubles per level, 10,000-level
# nesting, a 200 MB value, a value copied into every object.  Each must
# end quickly with its exact error, nothing on stdout.  The inputs are
# generated at test time (gen, in hostile_helpers.bash); the agent tests
# (771) reuse the same shapes.
# `timeout` only proves "finishes"; no test measures speed.

load helpers
load hostile_helpers

setup() {
	sotto_setup
}


@test "a 1 MB alias bomb is refused on its byte budget, in render and in the YAML store" {
	gen bomb app
	echo 'resources: [bomb.yaml]' > app/kustomization.yaml
	run_io timeout 30 "$SOTTO" render app
	assert_status 1
	assert_err "sotto: error: 'app/bomb.yaml' line 8: alias expansion exceeds 67108864 bytes"
	assert_out ""
	# the sops store path parses the same way: decrypt and encrypt -i
	run_io timeout 30 "$SOTTO" decrypt app/bomb.yaml
	assert_status 2
	assert_err "sotto: error: 'app/bomb.yaml' line 8: alias expansion exceeds 67108864 bytes"
	assert_out ""
	"$SOTTO" age-keygen -o key.txt 2>/dev/null
	cp app/bomb.yaml orig.yaml
	run_io timeout 30 "$SOTTO" encrypt -i --age "$(sed -n 's/^# public key: //p' key.txt)" app/bomb.yaml
	assert_status 2
	assert_err "sotto: error: 'app/bomb.yaml' line 8: alias expansion exceeds 67108864 bytes"
	same_bytes orig.yaml app/bomb.yaml
}

@test "many small alias bombs are charged to the render's budget together" {
	gen bombs app
	run_io timeout 30 "$SOTTO" render app
	assert_status 1
	assert_err "sotto: error: 'app/b10.yaml': rendering exceeds 67108864 bytes"
	assert_out ""
}

@test "60,000 anchors each aliased once render (anchor lookup is not a scan)" {
	gen anchors app
	run_io timeout 30 "$SOTTO" render app
	assert_status 0
	assert_err ""
	grep -qx '  b59999: v59999' "$T/out"
	[ "$(grep -c '^  [ab][0-9]*: v' "$T/out")" = 120000 ]
}

@test "aliases that nest anchors past the depth limit are refused where they land" {
	gen deepalias app
	run_io timeout 30 "$SOTTO" render app
	assert_status 1
	assert_err "sotto: error: 'app/deep.yaml' line 7: nesting deeper than 256 levels"
	assert_out ""
}

@test "a DAG listing the same directory twice per level fails like kubectl kustomize" {
	gen dag dag 16
	run timeout 30 kubectl kustomize dag/l0
	[ "$status" -ne 0 ]
	[[ $output == *"may not add resource with an already registered id: ConfigMap.v1.[noGrp]/cm.[noNs]"* ]]
	run_io timeout 30 "$SOTTO" render dag/l0
	assert_status 2
	assert_err "sotto: error: 'dag/l15/kustomization.yaml': may not add resource with an already registered id: ConfigMap.v1.[noGrp]/cm.[noNs]"
	assert_out ""
}

@test "a doubling DAG with a namePrefix per level renders as kubectl kustomize, then stops at the object cap" {
	gen dag small 6,prefix
	kubectl kustomize small/l0 > want.yaml
	run_io timeout 30 "$SOTTO" render small/l0
	assert_status 0
	python3 -c '
import sys, yaml
a = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
b = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d]
assert len(a) == 64 and a == b, (len(a), len(b))' want.yaml "$T/out"
	# 16 levels: 65,536 objects, plus the copies kept for reuse
	gen dag dag 16,prefix
	run_io timeout 30 "$SOTTO" render dag/l0
	assert_status 1
	assert_err "sotto: error: 'dag/l2': rendering exceeds 100000 objects"
	assert_out ""
	gen dag dag24 24,prefix
	run_io timeout 30 "$SOTTO" render dag24/l0
	assert_status 1
	assert_err "sotto: error: 'dag24/l10': rendering exceeds 100000 objects"
}

@test "10,000-level nesting ends at the depth limit: YAML flow and block, JSON" {
	gen flow flow
	run_io timeout 30 "$SOTTO" render flow
	assert_status 1
	assert_err "sotto: error: 'flow/deep.yaml' line 5: nesting deeper than 256 levels"
	assert_out ""
	run_io timeout 30 "$SOTTO" decrypt flow/deep.yaml
	assert_status 2
	assert_err "sotto: error: 'flow/deep.yaml' line 5: nesting deeper than 256 levels"
	gen block block
	run_io timeout 30 "$SOTTO" render block
	assert_status 1
	assert_err "sotto: error: 'block/deep.yaml' line 6: nesting deeper than 256 levels"
	gen json json
	run_io timeout 30 "$SOTTO" render json
	assert_status 1
	assert_err "sotto: error: 'json/deep.json' line 1: nesting deeper than 256"
	run_io timeout 30 "$SOTTO" decrypt json/deep.json
	assert_status 2
	assert_err "sotto: error: 'json/deep.json' line 1: nesting deeper than 256"
}

@test "a chain of 10,000 kustomizations ends at 64 levels" {
	gen chain chain
	run_io timeout 30 "$SOTTO" render chain/d00000
	assert_status 1
	assert_err "sotto: error: 'chain/d00064': kustomizations nested deeper than 64 levels"
	assert_out ""
	run_io timeout 30 "$SOTTO" render chain/d09940
	assert_status 0
	[[ $out == *"name: cm"* ]]
}

@test "a 200 MB file is refused on its size, whatever the file is" {
	gen big app
	echo 'resources: [big.yaml]' > app/kustomization.yaml
	run_io timeout 30 "$SOTTO" render app
	assert_status 1
	assert_err "sotto: error: 'app/big.yaml': file size (209715265 bytes) exceeds the render limit (67108864 bytes)"
	assert_out ""
	# as a patch, and as the kustomization itself
	printf 'resources: []\npatches:\n- path: big.yaml\n' > app/kustomization.yaml
	run_io timeout 30 "$SOTTO" render app
	assert_status 1
	assert_err "sotto: error: 'app/big.yaml': file size (209715265 bytes) exceeds the render limit (67108864 bytes)"
	mkdir k && mv app/big.yaml k/kustomization.yaml
	run_io timeout 30 "$SOTTO" render k
	assert_status 1
	assert_err "sotto: error: 'k/kustomization.yaml': file size (209715265 bytes) exceeds the render limit (67108864 bytes)"
	# a stream on stdin has the stream cap
	IN=k/kustomization.yaml run_io timeout 30 "$SOTTO" post-render
	assert_status 1
	assert_err "sotto: error: 'stdin' is larger than the 67108864 byte limit"
	assert_out ""
}

@test "a value copied into every object is charged before it is written" {
	gen annotation app
	run_io timeout 30 "$SOTTO" render app
	assert_status 1
	assert_err "sotto: error: 'app': rendering exceeds 67108864 bytes"
	assert_out ""
}

@test "a key given twice in a kustomization keeps its last value; past 64 such keys the first is an error" {
	mkdir app
	printf 'namePrefix: a-\nconfigMapGenerator:\n- name: g\n  literals:\n  - x=1\n  literals:\n  - y=2\nnamePrefix: b-\n' > app/kustomization.yaml
	run_io timeout 30 "$SOTTO" render app
	assert_status 0
	[[ $out == *"name: b-g-"* ]]
	[[ $out == *'"y": "2"'* ]]
	[[ $out != *'"x"'* ]]
	python3 -c '
print("resources: []")
for i in range(5000):
    print("namePrefix: p%d-" % i)' > app/kustomization.yaml
	run_io timeout 30 "$SOTTO" render app
	assert_status 1
	assert_err "sotto: error: 'app/kustomization.yaml' line 3: mapping key \"namePrefix\" already defined at line 2"
	assert_out ""
	# a duplicate in flow style is not cut
	printf 'resources: []\ncommonLabels: {a: b, a: c}\n' > app/kustomization.yaml
	run_io timeout 30 "$SOTTO" render app
	assert_status 1
	assert_err "sotto: error: 'app/kustomization.yaml' line 2: mapping key \"a\" already defined at line 2"
}
