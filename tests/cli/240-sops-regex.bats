#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Regexes are Go's (RE2), as in sops: what Go accepts works (the widely
# copied encrypted_regex template, (?i), \p classes, named groups), what
# Go refuses is refused with Go's text and a hint, and matching cannot be
# made to backtrack.  The comment-regex rules are sops': a marker comment
# of unencrypted_comment_regex stays clear, and a regex that matches an
# encrypted comment is refused (exit 23) since decryption would fail.

load helpers
load sops_helpers

setup() {
	sops_setup
}

TEMPLATE='((?i)(pass|secret($|[^N])|key|token|^data$|^stringData))'

is_enc() { # is_enc FILE KEY: the top-level value of KEY is ENC[...]
	grep -q "^$2: ENC\[AES256_GCM," "$1"
}

@test "the encrypted_regex template from .sops.yaml: matching keys only" {
	cat >.sops.yaml <<-EOF
	creation_rules:
	  - path_regex: \.(?i:ya?ml)$
	    encrypted_regex: $TEMPLATE
	    age: $K1_PUB
	EOF
	printf 'password: a\nsecretName: b\nsecret_key: c\ndata: d\nkind: e\n' \
	    >p.yaml
	run_io "$SOTTO" encrypt p.yaml
	assert_status 0
	printf '%s\n' "$out" >e.yaml
	is_enc e.yaml password
	is_enc e.yaml secret_key
	is_enc e.yaml data
	grep -q '^secretName: b$' e.yaml
	grep -q '^kind: e$' e.yaml
	grep -qF "encrypted_regex: $TEMPLATE" e.yaml ||
	    grep -qF "encrypted_regex: '$TEMPLATE'" e.yaml
	dec e.yaml
	assert_status 0
	[ "$out" = "$(cat p.yaml)" ]
}

@test "Go-only syntax in --encrypted-regex: \\p classes, (?P<name>), \\z" {
	printf 'g\xce\xb1mma: 1\nplain: 2\n' >p.yaml
	enc p.yaml --encrypted-regex '(?P<greek>\p{Greek})|^pl\w+\z'
	assert_status 0
	printf '%s\n' "$out" >e.yaml
	grep -q $'^g\xce\xb1mma: ENC\\[' e.yaml
	is_enc e.yaml plain
}

@test "what Go refuses: exit 1, Go's text and what RE2 lacks, file unchanged" {
	printf 'a: b\n' >p.yaml
	before=$(sha p.yaml)
	run_io "$SOTTO" encrypt -i --age "$K1_PUB" --encrypted-regex \
	    '(?<=x)a' p.yaml
	assert_status 1
	assert_err "sotto: error: 'p.yaml': encrypted_regex: regex '(?<=x)a': error \
parsing regexp: invalid named capture: \`(?<=x)a\` (lookbehinds are not in RE2)"
	run_io "$SOTTO" encrypt -i --age "$K1_PUB" --unencrypted-regex \
	    'a*+' p.yaml
	assert_status 1
	assert_err "sotto: error: 'p.yaml': unencrypted_regex: regex 'a*+': error \
parsing regexp: invalid nested repetition operator: \`*+\` (possessive \
quantifiers are not in RE2)"
	run_io "$SOTTO" encrypt -i --age "$K1_PUB" --encrypted-regex \
	    '(a)\1' p.yaml
	assert_status 1
	assert_err "sotto: error: 'p.yaml': encrypted_regex: regex '(a)\\1': error \
parsing regexp: invalid escape sequence: \`\\1\` (backreferences are not \
in RE2)"
	[ "$(sha p.yaml)" = "$before" ]
	assert_dir_is . p.yaml
}

@test "a path_regex Go refuses: exit 5 naming the rule" {
	printf 'creation_rules:\n  - path_regex: a\\Cb\n    age: %s\n' \
	    "$K1_PUB" >.sops.yaml
	printf 'a: b\n' >p.yaml
	run_io "$SOTTO" encrypt p.yaml
	assert_status 5
	assert_err "sotto: error: '$W/.sops.yaml' creation_rules[0]: \
path_regex: regex 'a\\Cb': error parsing regexp: invalid escape sequence: \
\`\\C\` (\\C (any byte) is not in RE2)"
}

@test "no backtracking: (a*)*b against a 100 kB key finishes" {
	{
		printf '{\n\t"x": 1,\n\t"'
		head -c 100000 /dev/zero | tr '\0' a
		printf '": 2\n}\n'
	} >p.json
	timeout 60 "$SOTTO" encrypt --age "$K1_PUB" \
	    --encrypted-regex '(a*)*b' p.json >e.json </dev/null
	grep -q '"x": 1,' e.json
	timeout 60 "$SOTTO" decrypt e.json >d.json </dev/null
	cmp p.json d.json
}

@test "unencrypted_comment_regex: marker comments and what follows stay clear" {
	printf '#sops:noenc\nfoo: bar\n#before\nbaz: qux\n' >p.yaml
	enc p.yaml --unencrypted-comment-regex sops:noenc
	assert_status 0
	printf '%s\n' "$out" >e.yaml
	grep -q '^#sops:noenc$' e.yaml
	grep -q '^foo: bar$' e.yaml
	is_enc e.yaml baz
	refute grep -q before e.yaml
	dec e.yaml
	assert_status 0
	[ "$out" = "$(cat p.yaml)" ]
}

@test "unencrypted_comment_regex matching an encrypted comment: 23, file unchanged" {
	printf '#a comment\nfoo: bar\n' >p.yaml
	before=$(sha p.yaml)
	run_io "$SOTTO" encrypt -i --age "$K1_PUB" \
	    --unencrypted-comment-regex ENC p.yaml
	assert_status 23
	assert_err "sotto: error: 'p.yaml': the encrypted comment at '(root)' \
matches UnencryptedCommentRegex 'ENC': make sure that \
unencrypted_comment_regex cannot match an encrypted comment (ENC[...])"
	[ "$(sha p.yaml)" = "$before" ]
	assert_dir_is . p.yaml
}

@test "encrypted_comment_regex from .sops.yaml: only after the marker" {
	printf 'creation_rules:\n  - encrypted_comment_regex: sops:enc\n    age: %s\n' \
	    "$K1_PUB" >.sops.yaml
	printf 'foo: bar\n#sops:enc\nkey: value\n' >p.yaml
	run_io "$SOTTO" encrypt p.yaml
	assert_status 0
	printf '%s\n' "$out" >e.yaml
	grep -q '^foo: bar$' e.yaml
	grep -q '^#sops:enc$' e.yaml
	is_enc e.yaml key
	grep -q '^    encrypted_comment_regex: sops:enc$' e.yaml
}
