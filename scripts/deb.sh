#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# `make deb`: build/sotto_X.Y.Z-1_<arch>.deb with dpkg-deb, from the
# working tree: /usr/bin/sotto (stripped), man pages, bash and zsh
# completions, copyright, changelogs and README.Debian.  No /usr/bin/sops,
# age or age-keygen: README.Debian documents update-alternatives, and the
# prerm drops such entries.  Depends: comes from dpkg-shlibdeps; libgit2,
# libcurl and libgpgme are dlopen()ed by some commands, so they are
# Recommends: (gnupg, which GPGME runs, Suggests:).
# Reproducible: a fresh release build (release-common.sh), file modes set
# explicitly, SOURCE_DATE_EPOCH for every mtime (dpkg-deb clamps tar mtimes
# and dates the ar members with it) and --root-owner-group.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/release-common.sh

arch=$(dpkg --print-architecture)
debver=$VERSION-1
out=build/sotto_${debver}_$arch.deb
work=build/deb
root=$work/root
rel_build

rm -rf "$work"
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man1" \
    "$root/usr/share/doc/sotto"
ship_strip "$REL_BUILD/sotto" "$root/usr/bin/sotto"
chmod 0755 "$root/usr/bin/sotto"
for m in man/*.[1-8]; do
	sec=${m##*.}
	mkdir -p "$root/usr/share/man/man$sec"
	gzip -9n <"$m" >"$root/usr/share/man/man$sec/${m##*/}.gz"
done
if [ -f completions/sotto.bash ]; then
	install -D -m 0644 completions/sotto.bash \
	    "$root/usr/share/bash-completion/completions/sotto"
fi
if [ -f completions/_sotto ]; then
	install -D -m 0644 completions/_sotto \
	    "$root/usr/share/zsh/vendor-completions/_sotto"
fi
doc=$root/usr/share/doc/sotto
install -m 0644 packaging/copyright packaging/README.Debian "$doc/"
gzip -9n <CHANGELOG.md >"$doc/changelog.gz"
sed -e "s/@DEBVERSION@/$debver/; s/@VERSION@/$VERSION/; s/@GITREV@/$GITREV/" \
    -e "s/@DATE@/$(date -u -d "@$SOURCE_DATE_EPOCH" -R)/" \
    packaging/changelog.in | gzip -9n >"$doc/changelog.Debian.gz"
install -m 0755 packaging/prerm "$root/DEBIAN/prerm"
install -D -m 0644 packaging/lintian-overrides \
    "$root/usr/share/lintian/overrides/sotto"

# Depends: from the libraries the binary links (dpkg-shlibdeps wants a
# debian/control to read the package name from)
mkdir -p "$work/shl/debian"
printf 'Source: sotto\n\nPackage: sotto\nArchitecture: any\n' \
    >"$work/shl/debian/control"
depends=$(cd "$work/shl" && dpkg-shlibdeps -O "$OLDPWD/$root/usr/bin/sotto" |
    sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "deb: error: dpkg-shlibdeps gave nothing" >&2; exit 1; }

find "$root" -type d -exec chmod 0755 {} +
find "$root/usr/share" -type f -exec chmod 0644 {} +
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@DEBVERSION@/$debver/; s/@ARCH@/$arch/; s/@SIZE@/$size/" \
    -e "s/@DEPENDS@/$depends/" packaging/control.in >"$root/DEBIAN/control"
(cd "$root" && find usr -type f | LC_ALL=C sort | xargs md5sum) \
    >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
