#!/bin/sh
# make lint: banned functions, man page lint, format check (advisory).
set -u
cd "$(dirname "$0")/.."
rc=0
banned='\b(sprintf|strcpy|strcat|strtok|atoi|rand|mktemp|tmpnam|system|popen)[[:space:]]*\('
if grep -nE "$banned" src/*/*.c | grep -vE '(snprintf|vsnprintf|randombytes)'; then
	echo "lint: banned function used (see STYLE.md)"; rc=1
fi
if command -v mandoc >/dev/null; then
	for m in man/*.[158]; do
		mandoc -Tlint -Wwarning "$m" || rc=1
	done
fi
exit $rc
