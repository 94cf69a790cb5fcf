#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Installs the JavaScript post-quantum peers, pinned, into tests/.peers/
# (gitignored), only when missing: age-encryption (typage, the peer behind
# ../shared/tools/age-pq-peer.mjs) and @noble/post-quantum (ML-KEM-768
# cross-checks and the benchmark).  Prints the prefix directory; exits 1
# with a message when npm cannot install them (tests then fail, never skip).
set -u
cd "$(dirname "$0")/../.." || exit 1
AGE_PIN=${AGE_ENCRYPTION_NPM_VERSION:-0.3.1}
NOBLE_PIN=${NOBLE_PQ_NPM_VERSION:-0.5.4}
PREFIX=tests/.peers
ver() {
	node -p "require('./$PREFIX/node_modules/$1/package.json').version" \
	    2>/dev/null
}
if [ "$(ver age-encryption)" != "$AGE_PIN" ] ||
    [ "$(ver @noble/post-quantum)" != "$NOBLE_PIN" ]; then
	command -v npm >/dev/null || {
		echo "pq-peers: npm is not installed" >&2
		exit 1
	}
	mkdir -p "$PREFIX"
	if ! npm install --prefix "$PREFIX" --no-audit --no-fund --silent \
	    "age-encryption@$AGE_PIN" "@noble/post-quantum@$NOBLE_PIN" \
	    >"$PREFIX/npm-install-pq.log" 2>&1; then
		echo "pq-peers: npm install age-encryption@$AGE_PIN" \
		    "@noble/post-quantum@$NOBLE_PIN failed; see" \
		    "$PREFIX/npm-install-pq.log:" >&2
		tail -5 "$PREFIX/npm-install-pq.log" >&2
		exit 1
	fi
fi
echo "$PWD/$PREFIX"
