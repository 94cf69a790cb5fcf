#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# ASCII armor edge cases, one table: each row is a variant of a real armored
# file, what `sotto age -d` must do with it (exact stderr, or success), and
# whether Debian's age 1.1.1 agrees.  The reference is FiloSottile/age's
# armor.go (v1.3): a line that decodes to fewer than 48 bytes (shorter than
# 64 columns, or 64 columns ending in '=' padding) is the last one and the
# END line must follow it; CRLF is accepted; only whitespace (Go's
# bytes.TrimSpace, Unicode spaces included) may surround the armor.
#
# Where 1.1.1 differs from v1.3 the row says "diverges" and why: 1.1.1's CLI
# only detects armor at byte 0 (v1.3 first skips whitespace, as the CCTV
# vector armor_whitespace_outside expects), and it has no empty-line check
# after a full line (v1.3 added "empty line in armored data").

load helpers

setup() {
	sotto_setup
	"$SOTTO" age-keygen -o key.txt 2>/dev/null
	PUB=$("$SOTTO" age-keygen -y key.txt)
	REAL_AGE=$(command -v age 2>/dev/null || true)
	if [ -n "$REAL_AGE" ] &&
	    [ "$(readlink -f "$REAL_AGE")" = "$(readlink -f "$SOTTO")" ]; then
		REAL_AGE=
	fi
}

# make_cases: binary files whose length mod 48 is 20, 0, 47 and 46 (the
# last armor line: 28 columns; 64; 64 ending in '='; 64 ending in '=='),
# then every variant as case.NAME.
make_cases() {
	local h want n
	printf x >p1
	"$SOTTO" age -r "$PUB" -o c1 p1
	# one X25519 stanza: the header has a fixed length
	h=$(($(wc -c <c1) - 1 - 32))
	for want in 20 0 47 46; do
		n=$(((want - h - 32) % 48))
		n=$(((n + 48) % 48 + 96))
		head -c "$n" /dev/urandom >"p$want"
		"$SOTTO" age -r "$PUB" -o "b$want" "p$want"
		[ $(($(wc -c <"b$want") % 48)) -eq "$want" ]
	done
	python3 - <<'EOF'
import base64
H = b"-----BEGIN AGE ENCRYPTED FILE-----"
F = b"-----END AGE ENCRYPTED FILE-----"
def b(name): return open(name, "rb").read()
def lines(data, first=48):
    out = [data[:first]]
    i = first
    while i < len(data):
        out.append(data[i:i + 48])
        i += 48
    return [base64.b64encode(c) for c in out if c]
def arm(ls, nl=b"\n", pre=b"", post=b"\n", begin=H, end=F):
    return pre + begin + b"\n" + nl.join(ls) + nl + end + post
B, B0, B47, B46 = b("b20"), b("b0"), b("b47"), b("b46")
L, L0 = lines(B), lines(B0)
c = {
    "canonical": arm(L),
    "last_line_64": arm(L0),
    "last_line_64_pad1": arm(lines(B47)),
    "last_line_64_pad2": arm(lines(B46)),
    "pad1_line_mid": arm(lines(B, 47)),
    "pad2_line_mid": arm(lines(B, 46)),
    "short_line_mid": arm(lines(B, 45)),
    "empty_line_mid": arm(L[:1] + [b""] + L[1:]),
    "empty_line_after_full": arm(L0 + [b""]),
    "empty_line_after_short": arm(L + [b""]),
    "crlf": arm(L, nl=b"\r\n", post=b"\r\n"),
    "cr_inside_last_line": arm(L[:-1] + [L[-1][:4] + b"\r" + L[-1][4:]]),
    "crcr_lf": arm(L, nl=b"\r\r\n"),
    "cr_line_after_full": arm(L0 + [b"\r"]),
    "crcr_line_after_full": arm(L0 + [b"\r\r"]),
    "no_final_eol": arm(L, post=b""),
    "no_end_line": H + b"\n" + b"\n".join(L) + b"\n",
    "no_end_line_no_eol": H + b"\n" + b"\n".join(L),
    "space_after_full_line": arm([L[0] + b" "] + L[1:]),
    "space_after_last_line": arm(L[:-1] + [L[-1] + b" "]),
    "space_before_line": arm([b" " + L[0]] + L[1:]),
    "space_after_end": arm(L, end=F + b" "),
    "space_after_begin": arm(L, begin=H + b" "),
    "long_line": arm([L[0] + L[1][:4]] + [L[1][4:]] + L[2:]),
    "no_padding": arm(L[:-1] + [L[-1].rstrip(b"=")]) if L[-1].endswith(b"=") else arm(lines(B47)[:-1] + [lines(B47)[-1].rstrip(b"=")]),
    "header_field": arm([b"Comment: x"] + L),
    "garbage_after_end": arm(L, post=b"\nx\n"),
    "whitespace_after_end": arm(L, post=b"\n \t\r\n\v\f\n"),
    "nbsp_after_end": arm(L, post=b"\n\xc2\xa0\n"),
    "whitespace_after_end_1023": arm(L, post=b"\n" + b" " * 1023),
    "whitespace_after_end_1024": arm(L, post=b"\n" + b" " * 1024),
    "whitespace_before_begin": arm(L, pre=b"\n \t\r\n"),
    "nbsp_before_begin": arm(L, pre=b"\xc2\xa0\n"),
    "whitespace_before_begin_1024": arm(L, pre=b"\n" * 1024),
    "whitespace_before_begin_1025": arm(L, pre=b"\n" * 1025),
    "space_before_begin": arm(L, pre=b"  "),
    "lowercase_begin": arm(L, begin=H.lower()),
}
src = {k: "p20" for k in c}
src.update(last_line_64="p0", last_line_64_pad1="p47",
    last_line_64_pad2="p46", crcr_line_after_full="p0")
for k, v in c.items():
    open("case." + k, "wb").write(v)
    open("case." + k + ".pt", "w").write(src[k])
EOF
}

HINT='sotto age: hint: the file may be truncated, corrupted or tampered with'

# Each row: NAME|EXPECTED|AGE  where EXPECTED is "ok" or sotto's exact
# stderr without the "sotto age: error: " prefix, and AGE is "agrees" or
# "diverges: WHY" for Debian's age 1.1.1.
CASES='canonical|ok|agrees
last_line_64|ok|agrees
last_line_64_pad1|ok|agrees
last_line_64_pad2|ok|agrees
pad1_line_mid|invalid armor: short line not followed by END line|agrees
pad2_line_mid|invalid armor: short line not followed by END line|agrees
short_line_mid|invalid armor: short line not followed by END line|agrees
empty_line_mid|invalid armor: empty line|agrees
empty_line_after_full|invalid armor: empty line|diverges: 1.1.1 decodes it as a last line of 0 bytes
empty_line_after_short|invalid armor: short line not followed by END line|agrees
crlf|ok|agrees
cr_inside_last_line|ok|agrees
crcr_lf|invalid armor: line longer than 64 columns|agrees
cr_line_after_full|invalid armor: empty line|diverges: 1.1.1 decodes it as a last line of 0 bytes
crcr_line_after_full|ok|agrees
no_final_eol|ok|agrees
no_end_line|invalid armor: missing END line|agrees
no_end_line_no_eol|invalid armor: missing END line|agrees
space_after_full_line|invalid armor: line longer than 64 columns|agrees
space_after_last_line|invalid armor: bad base64 line|agrees
space_before_line|invalid armor: line longer than 64 columns|agrees
space_after_end|invalid armor: short line not followed by END line|agrees
space_after_begin|invalid armor: malformed BEGIN line|agrees
long_line|invalid armor: line longer than 64 columns|agrees
no_padding|invalid armor: bad base64 line|agrees
header_field|invalid armor: bad base64 line|agrees
garbage_after_end|invalid armor: trailing data after END line|agrees
whitespace_after_end|ok|agrees
nbsp_after_end|ok|agrees
whitespace_after_end_1023|ok|agrees
whitespace_after_end_1024|invalid armor: too much trailing whitespace|agrees
whitespace_before_begin|ok|diverges: 1.1.1 detects armor only at byte 0
nbsp_before_begin|ok|diverges: 1.1.1 detects armor only at byte 0
whitespace_before_begin_1024|ok|diverges: 1.1.1 detects armor only at byte 0
whitespace_before_begin_1025|not an age file (bad version line)|agrees
space_before_begin|invalid armor: malformed BEGIN line|agrees
lowercase_begin|not an age file (bad version line)|agrees'

@test "armor edge cases: sotto matches the reference, row by row" {
	local name want agrees bad=0
	make_cases
	while IFS='|' read -r name want agrees; do
		[ -f "case.$name" ] || { echo "no case file for $name"; bad=1; }
		run_io "$SOTTO" age -d -i key.txt "case.$name"
		if [ "$want" = ok ]; then
			if [ "$status" -ne 0 ] || [ -n "$err" ] ||
			    ! cmp -s "$T/out" "$(cat "case.$name.pt")"; then
				echo "$name: want success, got $status: $err"
				bad=1
			fi
		else
			if [ "$status" -ne 1 ] ||
			    [ "$err" != "sotto age: error: $want
$HINT" ] ||
			    [ -s "$T/out" ]; then
				echo "$name: want '$want' (1), got $status: $err"
				bad=1
			fi
		fi
	done <<<"$CASES"
	[ "$bad" -eq 0 ]
}

@test "armor edge cases: Debian's age 1.1.1 agrees except where noted" {
	local name want agrees got bad=0
	[ -n "$REAL_AGE" ] || skip "Debian 'age' is not installed"
	make_cases
	while IFS='|' read -r name want agrees; do
		got=ok
		"$REAL_AGE" -d -i key.txt -o /dev/null "case.$name" \
		    2>/dev/null || got=fail
		[ "$want" = ok ] && want=ok || want=fail
		if [ "$agrees" = agrees ] && [ "$got" != "$want" ]; then
			echo "$name: age 1.1.1 gives $got, sotto $want"
			bad=1
		elif [ "$agrees" != agrees ] && [ "$got" = "$want" ]; then
			echo "$name: marked '$agrees' but age 1.1.1 agrees now"
			bad=1
		fi
	done <<<"$CASES"
	[ "$bad" -eq 0 ]
}
