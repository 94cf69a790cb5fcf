#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# `make image`: build/sotto-agent-X.Y.Z.oci.tar, an OCI image layout in a
# tar, built FROM scratch without pulling or running anything.  One layer:
#   /usr/bin/sotto                     the release build, stripped
#   /lib64/ld-linux-x86-64.so.2        the dynamic loader
#   /usr/lib/<multiarch>/<soname>      every library sotto links, every
#                                      library it dlopen()s (the "lib*.so.N"
#                                      names quoted in src/ and include/:
#                                      libgit2, libcurl) and, from ldd, all
#                                      of their dependencies
#   /etc/ssl/certs/ca-certificates.crt the CA bundle (libcurl's default)
#   /etc/passwd, /etc/group            the one user, sotto (65532)
#   /tmp                               1777, for temporary files
# No shell, no package manager, nothing else: tests/cli/950-release.bats
# compares the unpacked root with packaging/image.manifest.  The image runs
# as 65532:65532; the entrypoint is /usr/bin/sotto, the command controller.
#
# Hand-written rather than with buildah: buildah needs a container storage
# and user namespaces for nothing a tar and three JSON files cannot do, and
# here every byte is pinned (sorted entries, 0:0 owners, mtime and
# "created" = SOURCE_DATE_EPOCH, gzip -n), so two builds of one commit give
# the same layer, config and manifest digests.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/release-common.sh

name=sotto-agent
uid=65532
out=build/$name-$VERSION.oci.tar
work=build/image
root=$work/rootfs
lay=$work/layout
ma=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
case $(uname -m) in
x86_64) goarch=amd64 ;; aarch64) goarch=arm64 ;; *) goarch=$(uname -m) ;;
esac
rel_build

rm -rf "$work"
mkdir -p "$root/usr/bin" "$root/usr/lib/$ma" "$root/etc/ssl/certs" \
    "$root/tmp" "$lay/blobs/sha256"
ship_strip "$REL_BUILD/sotto" "$root/usr/bin/sotto"
chmod 0755 "$root/usr/bin/sotto"

# libraries: the linked ones, the dlopen()ed ones, and their dependencies
dl=$( (grep -rhoE '"lib[a-z0-9_+-]+\.so\.[0-9.]+"' src include || :) |
    tr -d '"' | LC_ALL=C sort -u)
objs=("$REL_BUILD/sotto")
for so in $dl; do
	# no early exit in awk: with pipefail, ldconfig's SIGPIPE would make
	# this assignment fail (and set -e end the script without a word)
	p=$(ldconfig -p | awk -v s="$so" '!f && $1 == s &&
	    /x86-64|aarch64|=>/ { print $NF; f = 1 }')
	[ -n "$p" ] || { echo "image: error: '$so' not installed" >&2; exit 1; }
	objs+=("$p")
	install -m 0644 "$(readlink -f "$p")" "$root/usr/lib/$ma/$so"
done
ldd "${objs[@]}" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }
    $1 ~ /^\// && $2 ~ /^\(0x/ { print "LOADER", $1 }' | LC_ALL=C sort -u |
while read -r so path; do
	if [ "$so" = LOADER ]; then
		install -D -m 0755 "$(readlink -f "$path")" "$root$path"
	else
		install -m 0644 "$(readlink -f "$path")" "$root/usr/lib/$ma/$so"
	fi
done

ca=/etc/ssl/certs/ca-certificates.crt
[ -f "$ca" ] || { echo "image: error: no '$ca' (apt-get install" \
    "ca-certificates)" >&2; exit 1; }
install -m 0644 "$ca" "$root/etc/ssl/certs/"
printf 'sotto:x:%s:%s:sotto agent:/nonexistent:/usr/sbin/nologin\n' \
    "$uid" "$uid" >"$root/etc/passwd"
printf 'sotto:x:%s:\n' "$uid" >"$root/etc/group"
chmod 0644 "$root/etc/passwd" "$root/etc/group"
find "$root" -type d -exec chmod 0755 {} +
chmod 1777 "$root/tmp"

# blob <file>: move into blobs/sha256/, print "<digest> <size>"
blob() {
	local d s
	d=$(sha256sum "$1" | cut -d' ' -f1)
	s=$(stat -c %s "$1")
	mv "$1" "$lay/blobs/sha256/$d"
	echo "sha256:$d $s"
}
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

(cd "$root" && LC_ALL=C ls -A) >"$work/top"
mapfile -t top <"$work/top"
det_tar -C "$root" -cf "$work/layer.tar" "${top[@]}"
diffid=sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -9n <"$work/layer.tar" >"$work/layer.tgz"
read -r ldig lsize < <(blob "$work/layer.tgz")

labels=$(printf '"org.opencontainers.image.%s":"%s",' \
    title "$name" version "$VERSION" revision "$GITREV" created "$created" \
    licenses ISC)
labels=${labels%,}
printf '%s' "{\"created\":\"$created\",\"architecture\":\"$goarch\",\
\"os\":\"linux\",\"config\":{\"User\":\"$uid:$uid\",\
\"Env\":[\"PATH=/usr/bin\",\"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\"],\
\"Entrypoint\":[\"/usr/bin/sotto\"],\"Cmd\":[\"controller\"],\
\"WorkingDir\":\"/\",\"Labels\":{$labels}},\
\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"$diffid\"]},\
\"history\":[{\"created\":\"$created\",\
\"created_by\":\"scripts/image.sh (sotto $VERSION, git $GITREV)\"}]}" \
    >"$work/config.json"
read -r cdig csize < <(blob "$work/config.json")

printf '%s' "{\"schemaVersion\":2,\
\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\
\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\
\"digest\":\"$cdig\",\"size\":$csize},\
\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\
\"digest\":\"$ldig\",\"size\":$lsize}],\"annotations\":{$labels}}" \
    >"$work/manifest.json"
read -r mdig msize < <(blob "$work/manifest.json")

# ref.name is the tag (umoci, skopeo: "<archive>:X.Y.Z"); containerd (ctr,
# kind, k3s) and docker load name the image from io.containerd.image.name
printf '%s' "{\"schemaVersion\":2,\
\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\
\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\
\"digest\":\"$mdig\",\"size\":$msize,\"annotations\":{\
\"io.containerd.image.name\":\"docker.io/library/$name:$VERSION\",\
\"org.opencontainers.image.ref.name\":\"$VERSION\"}}]}" >"$lay/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$lay/oci-layout"
chmod 0644 "$lay/index.json" "$lay/oci-layout" "$lay"/blobs/sha256/*
find "$lay" -type d -exec chmod 0755 {} +

det_tar -C "$lay" -cf "$out.tmp" blobs index.json oci-layout
mv "$out.tmp" "$out"
echo "$out"
