#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Installs the JavaScript sops peer (npm package `sops-age`, pinned) into
# tests/.peers/ (gitignored), only when it is missing.  Prints the package
# directory on success; exits 1 with a message when npm cannot install it.
set -u
cd "$(dirname "$0")/../.." || exit 1
PIN=${SOPS_AGE_NPM_VERSION:-4.0.2}
PREFIX=tests/.peers
PKG=$PREFIX/node_modules/sops-age
have() {
	[ -f "$PKG/package.json" ] &&
	    [ "$(node -p "require('./$PKG/package.json').version" 2>/dev/null)" = "$PIN" ]
}
if ! have; then
	command -v npm >/dev/null || {
		echo "npm-peers: npm is not installed; cannot fetch sops-age@$PIN" >&2
		exit 1
	}
	mkdir -p "$PREFIX"
	if ! npm install --prefix "$PREFIX" --no-audit --no-fund --silent \
	    "sops-age@$PIN" >"$PREFIX/npm-install.log" 2>&1; then
		echo "npm-peers: 'npm install sops-age@$PIN' failed (network or" \
		    "registry unavailable?); see $PREFIX/npm-install.log:" >&2
		tail -5 "$PREFIX/npm-install.log" >&2
		exit 1
	fi
	have || {
		echo "npm-peers: sops-age@$PIN not found after npm install" >&2
		exit 1
	}
fi
echo "$PWD/$PKG"
