#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Releases (issue #10): `make dist`, `make deb`, `make image`.  setup_file
# packs HEAD with scripts/dist.sh, unpacks the tarball at two different
# paths and builds the .deb and the OCI image in each, so the checks below
# test the release of the commit (not the working tree) and that two
# builds of it are byte-identical.  The .deb is installed with dpkg -i and
# removed again; the image is unpacked with umoci and its root entered with
# chroot (no container runtime needed).  Needs root for dpkg and chroot;
# without it, or without umoci/lintian, those tests are skipped.
# About a minute: four release builds.

setup_file() {
	# the release build has no sanitizers: `make check` need not repeat it
	[ -z "${SOTTO_SANITIZED:-}" ] || return 0
	R=${SOTTO_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
	W=$BATS_FILE_TMPDIR
	export R W
	git -C "$R" rev-parse --verify -q HEAD >/dev/null || return 0
	V=$(git -C "$R" show HEAD:VERSION)
	export V
	OUT=$W/dist1 "$R/scripts/dist.sh" >"$W/dist.log" 2>&1 || return 0
	OUT=$W/dist2 "$R/scripts/dist.sh" >>"$W/dist.log" 2>&1 || return 0
	for d in a bb/cc; do
		mkdir -p "$W/$d"
		tar -xzf "$W/dist1/sotto-$V.tar.gz" -C "$W/$d"
		(cd "$W/$d/sotto-$V" && scripts/deb.sh &&
		    REL_REUSE=1 scripts/image.sh) \
		    >"$W/build-${d%%/*}.log" 2>&1 || true
	done
}

setup() {
	[ -z "${SOTTO_SANITIZED:-}" ] || skip "release checks run in make test"
}

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root"
}

built() { # what: deb | image
	local f
	case $1 in
	deb) f=$W/$2/sotto-$V/build/sotto_$V-1_$(dpkg --print-architecture).deb ;;
	image) f=$W/$2/sotto-$V/build/sotto-agent-$V.oci.tar ;;
	esac
	if [ ! -f "$f" ]; then
		tail -n 12 "$W/build-${2%%/*}.log" "$W/dist.log" >&2
		echo "not built: $f" >&2
		return 1
	fi
	echo "$f"
}

@test "dist: two runs give the same tarball, with GITREV and SOURCE_DATE_EPOCH" {
	[ -f "$W/dist1/sotto-$V.tar.gz" ] || { cat "$W/dist.log"; false; }
	cmp "$W/dist1/sotto-$V.tar.gz" "$W/dist2/sotto-$V.tar.gz"
	run tar -tzf "$W/dist1/sotto-$V.tar.gz"
	[[ $output == *"sotto-$V/GITREV"* ]]
	[[ $output == *"sotto-$V/SOURCE_DATE_EPOCH"* ]]
	[[ $output == *"sotto-$V/Makefile"* ]]
	[ "$(cat "$W/a/sotto-$V/GITREV")" = "$(git -C "$R" rev-parse --short=12 HEAD)" ]
}

@test "reproducible: two builds of one commit at different paths are identical" {
	deb1=$(built deb a) && deb2=$(built deb bb/cc)
	img1=$(built image a) && img2=$(built image bb/cc)
	sha256sum "$deb1" "$deb2" "$img1" "$img2"
	cmp "$deb1" "$deb2"
	cmp "$img1" "$img2"
	# and the binary inside reports the commit the tarball came from
	run "$W/a/sotto-$V/build/release/sotto" --version
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "sotto $V (git $(git -C "$R" rev-parse --short=12 HEAD))" ]
}

@test "deb: Depends from dpkg-shlibdeps; no sops/age/age-keygen in /usr/bin" {
	deb=$(built deb a)
	run dpkg-deb -f "$deb" Depends
	for p in libc6 libsodium23 libssl3 libyaml-0-2 libjansson4 libpcre2-8-0; do
		[[ $output == *"$p"* ]] || { echo "no $p in: $output"; false; }
	done
	run dpkg-deb -c "$deb"
	[[ $output == *" ./usr/bin/sotto"* ]]
	[[ $output == *"./usr/share/man/man1/sotto.1.gz"* ]]
	[[ $output != *"./usr/bin/sops"* ]]
	[[ $output != *"./usr/bin/age"* ]]
}

@test "deb: lintian-clean" {
	command -v lintian >/dev/null || skip "lintian not installed"
	deb=$(built deb a)
	run lintian --fail-on error,warning "$deb"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "deb: dpkg -i installs it, /usr/bin/sotto --version works, dpkg -r removes it" {
	need_root
	if dpkg-query -W -f='${db:Status-Status}' sotto 2>/dev/null |
	    grep -qx installed; then
		skip "a sotto package is already installed here"
	fi
	deb=$(built deb a)
	flock /tmp/sotto-release-dpkg.lock dpkg -i "$deb"
	run /usr/bin/sotto --version
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "sotto $V (git "* ]]
	[[ $output == *"sops format 3.13.2"* ]]
	man -w sotto | grep -q /usr/share/man/man1/sotto.1.gz
	# opt-in personality through update-alternatives (README.Debian)
	link=$BATS_TEST_TMPDIR/sops
	alt=0
	if ! update-alternatives --list sops >/dev/null 2>&1; then
		update-alternatives --install "$link" sops /usr/bin/sotto 10
		alt=1
		run "$link" --version
		[[ $output == "sops 3.13.2 (sotto $V"* ]]
	fi
	flock /tmp/sotto-release-dpkg.lock dpkg -r sotto
	[ ! -e /usr/bin/sotto ]
	[ ! -e /usr/share/doc/sotto ]
	[ ! -e /usr/share/man/man1/sotto.1.gz ]
	run dpkg-query -W -f='${db:Status-Status}' sotto
	[ "$output" = not-installed ] || [ "$status" -ne 0 ]
	if [ "$alt" = 1 ]; then
		# the prerm dropped the alternative sotto was registered as
		[ ! -L "$link" ]
		run update-alternatives --list sops
		[ "$status" -ne 0 ]
	fi
}

unpack_image() {
	command -v umoci >/dev/null || skip "umoci not installed"
	need_root
	img=$(built image a)
	U=$BATS_TEST_TMPDIR/u
	mkdir -p "$U/layout"
	tar -xf "$img" -C "$U/layout"
	umoci unpack --image "$U/layout:$V" "$U/bundle" >/dev/null
	ROOT=$U/bundle/rootfs
}

@test "image: unpacks with umoci; the root is exactly packaging/image.manifest" {
	unpack_image
	(cd "$ROOT" && find . -mindepth 1 -printf '%M %U:%G /%P\n' |
	    LC_ALL=C sort -k3) >"$U/got"
	grep -v '^#' "$R/packaging/image.manifest" >"$U/want"
	diff -u "$U/want" "$U/got"
	# no shell, no busybox, nothing executable but the loader and sotto
	for sh in sh bash dash ash busybox; do
		[ -z "$(find "$ROOT" -name "$sh")" ]
	done
	run find "$ROOT" -type f -perm /111
	[ "$(echo "$output" | sed "s|^$ROOT||" | LC_ALL=C sort | tr '\n' ' ')" = \
	    "/lib64/ld-linux-x86-64.so.2 /usr/bin/sotto " ]
	# a non-root user, sotto as the entrypoint
	run python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["process"]
print(c["user"]["uid"], c["user"]["gid"], " ".join(c["args"]))' \
	    "$U/bundle/config.json"
	[ "$output" = "65532 65532 /usr/bin/sotto controller" ]
	grep -q '^sotto:x:65532:65532:' "$ROOT/etc/passwd"
	# the index names the image as deploy/ and kind/k3s expect it
	grep -q "\"io.containerd.image.name\":\"docker.io/library/sotto-agent:$V\"" \
	    "$U/layout/index.json"
}

@test "image: sotto runs inside the root alone (chroot, uid 65532)" {
	unpack_image
	run chroot --userspec=65532:65532 "$ROOT" /usr/bin/sotto --version
	echo "$output"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "sotto $V (git "* ]]
	if "$W/a/sotto-$V/build/release/sotto" --help | grep -q '^ *reconcile '; then
		run chroot --userspec=65532:65532 "$ROOT" /usr/bin/sotto reconcile --help
	else
		run chroot --userspec=65532:65532 "$ROOT" /usr/bin/sotto --help
	fi
	echo "$output"
	[ "$status" -eq 0 ]
	run chroot --userspec=65532:65532 "$ROOT" /usr/bin/sotto age-keygen
	[ "$status" -eq 0 ]
	[[ $output == *AGE-SECRET-KEY-1* ]]
	# the dlopen()ed libraries resolve all their dependencies in the root
	for so in $(grep -oE '/usr/lib/[^/]+/lib(git2|curl)\.so\.[0-9.]+$' \
	    "$R/packaging/image.manifest"); do
		run chroot --userspec=65532:65532 "$ROOT" \
		    /lib64/ld-linux-x86-64.so.2 --list "$so"
		echo "$so: $output"
		[ "$status" -eq 0 ]
		[[ $output != *"not found"* ]]
	done
}

@test "deploy/ refers to the image this tree builds (sotto-agent:X.Y.Z)" {
	[ -d "$R/deploy" ] || skip "no deploy/ yet"
	V=$(cat "$R/VERSION")
	run grep -rhoE 'image: *"?[^" ]*sotto-agent[^" ]*' "$R/deploy"
	echo "$output"
	[ -n "$output" ]
	[ -z "$(echo "$output" | grep -v "sotto-agent:$V\$")" ]
}

@test "sotto --version: version line first, then sops format and libraries" {
	S=${SOTTO:-$R/build/sotto}
	[ -x "$S" ] || skip "no build/sotto"
	run "$S" --version
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^sotto\ [0-9]+\.[0-9]+\.[0-9]+\ \(git\ ([0-9a-f]{7,}|unknown)\)$ ]]
	[ "${lines[1]}" = "sops format 3.13.2" ]
	[[ ${lines[2]} =~ ^libsodium\ [0-9.]+$ ]]
	[[ ${lines[3]} =~ ^OpenSSL\ [0-9] ]]
	[[ ${lines[4]} =~ ^libyaml\ [0-9.]+$ ]]
	[[ ${lines[5]} =~ ^jansson\ [0-9.]+$ ]]
	[[ ${lines[6]} =~ ^pcre2\ [0-9]+\.[0-9]+ ]]
	run "$S" version
	[ "${lines[1]}" = "sops format 3.13.2" ]
}

@test "make install puts the binary, completions and every man section in place" {
	S=${SOTTO:-$R/build/sotto}
	[ -x "$S" ] || skip "no build/sotto"
	b=$(basename "$(dirname "$S")")
	make -s -C "$R" BUILD="$b" install PREFIX="$BATS_TEST_TMPDIR/inst" >/dev/null
	I=$BATS_TEST_TMPDIR/inst
	[ -x "$I/bin/sotto" ]
	[ -f "$I/share/man/man1/sotto.1" ]
	[ -f "$I/share/man/man5/sotto-config.5" ]
	[ -f "$I/share/man/man8/sotto-reconcile.8" ]
	# every page in man/ is installed
	for m in "$R"/man/*.[1-8]; do
		s=${m##*.}
		[ -f "$I/share/man/man$s/${m##*/}" ]
	done
}
