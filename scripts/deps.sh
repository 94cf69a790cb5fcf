#!/bin/sh
# Installs what sotto needs on Debian 12.  `deps.sh build`: the -dev
# packages for the build; `deps.sh test`: also the test peers (cmocka, bats,
# Debian age, clang for libFuzzer, node for npm peers, GnuPG and the
# GPGME runtime the sops CLI's pgp keys load); `deps.sh demo`: the
# build and what `make demo`'s in-cluster part needs.  As root it runs
# apt-get (update once, then install); otherwise it prints the exact line.
set -eu
mode=${1:-build}
BUILD_PKGS="build-essential pkg-config libsodium-dev libssl-dev libyaml-dev libjansson-dev libpcre2-dev libgit2-dev libcurl4-openssl-dev zlib1g-dev"
TEST_PKGS="libcmocka-dev bats age clang libclang-rt-14-dev python3 mandoc openssh-client openssh-server tmux git pre-commit nodejs npm ca-certificates lintian umoci libgpgme11 gnupg kubectl"

have_build() {
	command -v cc >/dev/null 2>&1 && command -v pkg-config >/dev/null 2>&1 &&
	pkg-config --exists libsodium libcrypto yaml-0.1 jansson libpcre2-8 zlib 2>/dev/null &&
	[ -e /usr/include/zlib.h ]
}

have_test() {
	pkg-config --exists cmocka 2>/dev/null && command -v bats >/dev/null &&
	command -v age >/dev/null && command -v clang >/dev/null &&
	command -v mandoc >/dev/null && command -v ssh-keygen >/dev/null &&
	[ -x /usr/sbin/sshd ] &&
	command -v tmux >/dev/null && command -v node >/dev/null &&
	command -v npm >/dev/null && command -v pre-commit >/dev/null &&
	command -v lintian >/dev/null && command -v umoci >/dev/null &&
	command -v gpg >/dev/null && ls /usr/lib/*/libgpgme.so.11 >/dev/null 2>&1 &&
	[ -f /etc/ssl/certs/ca-certificates.crt ] &&
	ls /usr/lib/llvm-14/lib/clang/14*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1
}

# A package counts as present when dpkg has it or when the command it
# provides is already on PATH from elsewhere (node and npm from NodeSource
# or nvm, kubectl from upstream): asking apt for those would conflict.
provided() {
	case "$1" in
	nodejs) command -v node ;;
	npm|kubectl|python3|git|openssl|bats|age|clang|tmux|mandoc|lintian|umoci|pre-commit)
		command -v "$1" ;;
	*) false ;;
	esac >/dev/null 2>&1
}

missing() {
	for p in "$@"; do
		# removed-but-not-purged packages still answer `dpkg -s`
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = \
		    "install ok installed" ] || provided "$p" ||
		    printf '%s ' "$p"
	done
}

install() {
	pkgs=$(missing "$@")
	[ -n "$pkgs" ] || return 0
	if [ "$(id -u)" != 0 ]; then
		echo "sotto: missing packages; run as root:" >&2
		echo "  apt-get install -y $pkgs" >&2
		exit 1
	fi
	stamp=/var/lib/apt/periodic/sotto-apt-updated
	if [ ! -e "$stamp" ]; then
		echo "sotto: apt-get update" >&2
		apt-get update -qq >&2
		mkdir -p "$(dirname "$stamp")" && touch "$stamp"
	fi
	echo "sotto: apt-get install $pkgs" >&2
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >&2 && return 0
	apt-get update -qq >&2 || true
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >&2 && return 0
	# one package apt cannot place must not cost the others: one by one,
	# naming what failed (the tests that need it then say so or skip)
	failed=
	for p in $pkgs; do
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >&2 ||
		    failed="$failed $p"
	done
	[ -z "$failed" ] || echo "sotto: could not install:$failed" >&2
	[ "$mode" = test ] || [ -z "$failed" ]
}

case "$mode" in
build) have_build || install $BUILD_PKGS ;;
test)
	have_build || install $BUILD_PKGS
	# kubectl is not in Debian 12 everywhere; install it only if available
	pk=$TEST_PKGS
	if ! apt-cache show kubectl >/dev/null 2>&1; then
		pk=$(echo "$TEST_PKGS" | sed 's/ kubectl//')
	fi
	have_test || install $pk
	;;
demo)
	# make demo: the build, and what its in-cluster part runs (the API
	# stand-in is python3; kubectl drives it); kubectl only where apt has it
	have_build || install $BUILD_PKGS
	pk="python3 git openssl kubectl"
	apt-cache show kubectl >/dev/null 2>&1 || pk="python3 git openssl"
	mode=test install $pk
	;;
*) echo "usage: deps.sh build|test|demo" >&2; exit 2 ;;
esac
