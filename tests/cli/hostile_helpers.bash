# SPDX-License-Identifier: ISC
# Hostile inputs for the renderer (705) and the agent (771), issue #14:
# little to store, much to build.  Generated at test time, never committed.

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
