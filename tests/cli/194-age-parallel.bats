#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The payload on several threads: chunks released strictly in order, a
# tampered chunk k of n stopping a pipe after exactly k-1 chunks and
# leaving no -o file, bounded memory, SOTTO_AGE_THREADS, and a file of
# one chunk handled on the calling thread alone.

load helpers

setup() {
	sotto_setup
	"$SOTTO" age-keygen -o key.txt 2>/dev/null
	REC=$(sed -n 's/^# public key: //p' key.txt)
}

# Offset of the payload's first chunk in an age file.
payload_at() {
	python3 -c 'import sys
d = open(sys.argv[1], "rb").read()
i = d.index(b"\n---") + 1
print(d.index(b"\n", i) + 1 + 16)' "$1"
}

@test "every thread count gives the same plaintext, from files and pipes" {
	head -c $((9 * 65536 + 123)) /dev/urandom >p
	"$SOTTO" age -r "$REC" -o c.age p
	for t in 1 2 3 8 16; do
		SOTTO_AGE_THREADS=$t run_io "$SOTTO" age -d -i key.txt c.age
		assert_status 0
		same_bytes p "$T/out"
		SOTTO_AGE_THREADS=$t "$SOTTO" age -r "$REC" <p | \
		    SOTTO_AGE_THREADS=$t "$SOTTO" age -d -i key.txt >p.out
		same_bytes p p.out
	done
}

@test "a tampered chunk k of n releases exactly k-1 chunks to a pipe" {
	n=8
	head -c $((n * 65536 - 1000)) /dev/urandom >p
	"$SOTTO" age -r "$REC" -o c.age p
	base=$(payload_at c.age)
	for k in 1 2 5 $n; do
		# XOR, not a fixed byte: a byte already 0xff would tamper nothing
		flip_byte c.age t.age $((base + (k - 1) * 65552 + 300))
		for t in 1 2 4 16; do
			set +e
			SOTTO_AGE_THREADS=$t "$SOTTO" age -d -i key.txt t.age \
			    2>err | cat >got
			st=${PIPESTATUS[0]}
			set -e
			[ "$st" -eq 1 ]
			[ "$(stat -c %s got)" -eq $(((k - 1) * 65536)) ]
			cmp -s got <(head -c $(((k - 1) * 65536)) p)
			grep -qx "sotto age: error: payload failure: chunk $((k - 1)) failed to authenticate (.*)" err
		done
	done
}

@test "a tampered chunk leaves no -o file and an existing one untouched" {
	head -c $((6 * 65536)) /dev/urandom >p
	"$SOTTO" age -r "$REC" -o c.age p
	# XOR, not a fixed byte: one ciphertext byte in 256 is already 0x00
	flip_byte c.age t.age $(($(payload_at c.age) + 3 * 65552 + 10))
	mv t.age c.age
	for t in 1 2 8; do
		SOTTO_AGE_THREADS=$t run_io "$SOTTO" age -d -i key.txt -o new.out c.age
		assert_status 1
		assert_err "sotto age: error: payload failure: chunk 3 failed to authenticate (tampered)
sotto age: hint: the file may be truncated, corrupted or tampered with"
		[ ! -e new.out ]
		[ -z "$(ls -A | grep new.out)" ]	# no temp file either
		echo keep >old.out
		SOTTO_AGE_THREADS=$t run_io "$SOTTO" age -d -i key.txt -o old.out c.age
		assert_status 1
		[ "$(cat old.out)" = keep ]
		rm old.out
	done
}

@test "1 GiB through pipes stays under 16 MB of memory on any thread count" {
	[ -x /usr/bin/time ] || skip "GNU time is needed to read the peak RSS"
	if [ -n "${SOTTO_SANITIZED:-}" ] || grep -qa __asan_init "$SOTTO"; then
		skip "a sanitizer build has shadow memory"
	fi
	for t in 1 2 16; do
		head -c 1G /dev/zero | SOTTO_AGE_THREADS=$t /usr/bin/time \
		    -f %M -o enc.rss "$SOTTO" age -r "$REC" | \
		    SOTTO_AGE_THREADS=$t /usr/bin/time -f %M -o dec.rss \
		    "$SOTTO" age -d -i key.txt | cmp - <(head -c 1G /dev/zero)
		echo "# $t threads, peak RSS KB: encrypt $(cat enc.rss)," \
		    "decrypt $(cat dec.rss)" >&3
		[ "$(cat enc.rss)" -lt 16000 ]
		[ "$(cat dec.rss)" -lt 16000 ]
	done
}

@test "SOTTO_AGE_THREADS must be a number" {
	echo hi >p
	SOTTO_AGE_THREADS=lots run_io "$SOTTO" age -r "$REC" p
	assert_status 1
	assert_out ""
	assert_err "sotto age: error: invalid SOTTO_AGE_THREADS 'lots': expected a number of threads (0 for one per CPU)"
	SOTTO_AGE_THREADS=0 run_io "$SOTTO" age -r "$REC" -o p.age p
	assert_status 0
}

@test "a file of one chunk starts no thread and reads as age reads it" {
	command -v strace >/dev/null || skip "strace is needed to see threads"
	command -v age >/dev/null || skip "Debian age is not installed"
	# LeakSanitizer cannot run under ptrace; the other runs check leaks
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	for n in 0 1 100 65535 65536; do
		head -c $n /dev/urandom >p
		SOTTO_AGE_THREADS=16 strace -f -qq -e trace=clone,clone3 \
		    -o enc.trace "$SOTTO" age -r "$REC" -o c.age p
		SOTTO_AGE_THREADS=16 strace -f -qq -e trace=clone,clone3 \
		    -o dec.trace "$SOTTO" age -d -i key.txt -o p.out c.age
		refute grep -q clone enc.trace
		refute grep -q clone dec.trace
		same_bytes p p.out
		age -d -i key.txt c.age >p.age
		same_bytes p p.age
		age -r "$REC" -o g.age p
		SOTTO_AGE_THREADS=16 run_io "$SOTTO" age -d -i key.txt \
		    -o g.out g.age
		assert_status 0
		assert_err ""
		same_bytes p g.out
	done
	# two chunks do use the threads
	head -c 65537 /dev/urandom >p
	SOTTO_AGE_THREADS=2 strace -f -qq -e trace=clone,clone3 \
	    -o enc.trace "$SOTTO" age -r "$REC" -o c.age p
	grep -q clone enc.trace
}
