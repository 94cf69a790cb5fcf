#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Inputs that hold little and build a lot, against `sotto render` (and the
# YAML store behind `sotto decrypt`/`encrypt`): an alias bomb, 60,000
# anchors, a kustomization DAG that doubles per level, 10,000-level
# nesting, a 200 MB value, a value copied into every object.  Each must
# end quickly with its exact error, nothing on stdout.  The inputs are
# generated here (gen below); the agent tests reuse the same shapes.
# `timeout` only proves "finishes"; no test measures speed.

load helpers

setup() {
	sotto_setup
}

# gen KIND DIR [ARG]: writes a hostile input under DIR.
gen() {
	python3 - "$@" <<-'PY'
	import os, sys
	what, d = sys.argv[1], sys.argv[2]
	arg = sys.argv[3] if len(sys.argv) > 3 else None
	def w(rel, s):
	    p = os.path.join(d, rel)
	    os.makedirs(os.path.dirname(p), exist_ok=True)
	    open(p, "w").write(s)
	cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n"
	if what == "bomb":
	    # 1 MB scalar, each level aliases the one before ten times:
	    # 1 MB of file, 10^7 MB if expanded
	    s = cm % "bomb" + "data:\n  a: &a \"" + "x" * 1000000 + "\"\n"
	    prev = "a"
	    for n in "bcdefgh":
	        s += "  %s: &%s [%s]\n" % (n, n, ", ".join(["*" + prev] * 10))
	        prev = n
	    w("bomb.yaml", s)
	elif what == "bombs":
	    # twenty small bombs (1 MB each, 5 MB expanded): each is within
	    # the parser's limit, together past the render's budget
	    for i in range(20):
	        s = cm % ("b%d" % i) + "data:\n  a: &a \"" + "x" * 100000 + "\"\n"
	        s += "  b: &b [%s]\n" % ", ".join(["*a"] * 10)
	        s += "  c: [%s]\n" % ", ".join(["*b"] * 5)
	        w("b%02d.yaml" % i, s)
	elif what == "anchors":
	    n = 60000
	    s = cm % "anchors" + "data:\n"
	    s += "".join("  a%d: &n%d v%d\n" % (i, i, i) for i in range(n))
	    s += "".join("  b%d: *n%d\n" % (i, i) for i in range(n))
	    w("anchors.yaml", s)
	elif what == "dag":
	    # level i lists a/ and b/, both listing level i+1
	    levels = int(arg.split(",")[0])
	    prefix = "prefix" in arg
	    for i in range(levels):
	        w("l%d/kustomization.yaml" % i, "resources:\n- a\n- b\n")
	        for ab in "ab":
	            w("l%d/%s/kustomization.yaml" % (i, ab),
	              "resources:\n- ../../l%d\n" % (i + 1) +
	              ("namePrefix: %s%d-\n" % (ab, i) if prefix else ""))
	    w("l%d/kustomization.yaml" % levels, "resources:\n- cm.yaml\n")
	    w("l%d/cm.yaml" % levels, cm % "cm" + "data:\n  k: v\n")
	elif what == "flow":
	    w("deep.yaml", cm % "deep" + "data: " + "[" * 10000 + "]" * 10000 + "\n")
	elif what == "block":
	    w("deep.yaml", cm % "deep" + "spec:\n  " + "- " * 10000 + "x\n")
	elif what == "json":
	    w("deep.json", '{"apiVersion": "v1", "kind": "ConfigMap", '
	      '"metadata": {"name": "deep"}, "data": ' + "[" * 10000 +
	      "]" * 10000 + "}\n")
	elif what == "deepalias":
	    # each anchor is a 250-deep list around an alias of the one
	    # before: 89 of them nest 22,000 deep if expanded
	    s = cm % "deepalias" + "spec:\n  a0: &a0 " + "[" * 250 + "x" + "]" * 250 + "\n"
	    for k in range(1, 89):
	        s += "  a%d: &a%d %s*a%d%s\n" % (k, k, "[" * 250, k - 1, "]" * 250)
	    w("deep.yaml", s)
	elif what == "chain":
	    n = 10000
	    for i in range(n):
	        w("d%05d/kustomization.yaml" % i, "resources:\n- ../d%05d\n" % (i + 1))
	    w("d%05d/kustomization.yaml" % n, "resources:\n- cm.yaml\n")
	    w("d%05d/cm.yaml" % n, cm % "cm")
	elif what == "big":
	    # one 200 MB scalar in a resource file
	    os.makedirs(d, exist_ok=True)
	    with open(os.path.join(d, "big.yaml"), "w") as f:
	        f.write(cm % "big" + "data:\n  v: ")
	        chunk = "x" * (1 << 20)
	        for _ in range(200):
	            f.write(chunk)
	        f.write("\n")
	elif what == "annotation":
	    w("kustomization.yaml", "resources:\n- r.yaml\ncommonAnnotations:\n"
	      "  big: " + "x" * (1 << 20) + "\n")
	    w("r.yaml", "".join("---\n" + cm % ("c%d" % i) for i in range(100)))
	PY
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
	assert_err "sotto: error: 'dag/l15/kustomization.yaml': may not add resource with an already registered id: ConfigMap/cm in 'default'"
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

@test "a 200 MB value is refused on the file's size, whatever the file is" {
	gen big app
	echo 'resources: [big.yaml]' > app/kustomization.yaml
	run_io timeout 30 "$SOTTO" render app
	assert_status 1
	assert_err "sotto: error: 'app/big.yaml': cannot decrypt file with size (209715265 bytes) exceeding limit (5242880)"
	assert_out ""
	# as a patch, and as the kustomization itself
	printf 'resources: []\npatches:\n- path: big.yaml\n' > app/kustomization.yaml
	run_io timeout 30 "$SOTTO" render app
	assert_status 1
	assert_err "sotto: error: 'app/big.yaml': cannot decrypt file with size (209715265 bytes) exceeding limit (5242880)"
	mkdir k && mv app/big.yaml k/kustomization.yaml
	run_io timeout 30 "$SOTTO" render k
	assert_status 1
	assert_err "sotto: error: 'k/kustomization.yaml': cannot decrypt file with size (209715265 bytes) exceeding limit (5242880)"
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
