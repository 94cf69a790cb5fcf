# shellcheck shell=bash
# Shared by dist.sh, deb.sh, image.sh and release-test.sh (sourced, not run).
# Sets VERSION, GITREV and SOURCE_DATE_EPOCH for the tree in $PWD, and
# rel_build(), the one reproducible build both packages ship.
#
# Reproducibility: everything that could differ between two builds of the
# same commit is pinned here.  The time is the commit time (or the
# SOURCE_DATE_EPOCH file of a dist tarball), build paths are mapped to "."
# (-ffile-prefix-map covers __FILE__ and DWARF), and the binaries are
# stripped.  Archives are written with sorted entries, owner 0:0 and
# mtimes clamped to SOURCE_DATE_EPOCH.

VERSION=$(cat VERSION)
if [ -f GITREV ]; then
	GITREV=$(cat GITREV)
else
	GITREV=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
fi
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	if [ -f SOURCE_DATE_EPOCH ]; then
		SOURCE_DATE_EPOCH=$(cat SOURCE_DATE_EPOCH)
	else
		SOURCE_DATE_EPOCH=$(git log -1 --format=%ct HEAD 2>/dev/null || echo 0)
	fi
fi
export SOURCE_DATE_EPOCH TZ=UTC LC_ALL=C.UTF-8
umask 022
REL_BUILD=build/release

# deterministic tar: sorted entries, owner 0:0, every mtime SOURCE_DATE_EPOCH
det_tar() { # tar args...
	tar --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
	    --mtime="@$SOURCE_DATE_EPOCH" "$@"
}

# Builds $REL_BUILD/sotto from scratch with release flags (from scratch:
# the Makefile does not rebuild util.o when only GITREV changes).  -j is
# safe for reproducibility: the link order comes from sorted wildcards.
# REL_REUSE=1 keeps an existing $REL_BUILD/sotto (deb.sh then image.sh on
# one tree, as the release test does).
rel_build() {
	if [ "${REL_REUSE:-0}" = 1 ] && [ -x "$REL_BUILD/sotto" ]; then
		return 0
	fi
	rm -rf "$REL_BUILD"
	make --no-print-directory -s BUILD="$REL_BUILD" GITREV="$GITREV" \
	    VERSION="$VERSION" OPT='-O2 -g' \
	    CFLAGS="-ffile-prefix-map=$PWD=." \
	    LDLIBS='-Wl,-z,relro -Wl,-z,now' \
	    -j"$(nproc 2>/dev/null || echo 2)" "$REL_BUILD/sotto" >/dev/null
}

# strip a copy for shipping: no symbols, no .comment (compiler banner)
ship_strip() { # src dst
	strip --strip-unneeded --remove-section=.comment \
	    --remove-section=.note -o "$2" "$1"
}
