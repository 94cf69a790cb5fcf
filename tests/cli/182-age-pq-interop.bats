#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Post-quantum interop with the npm package age-encryption@0.3.1 (typage)
# through ../shared/tools/age-pq-peer.mjs: keys made by either side work in
# the other, binary and armored; and for sops files sotto encrypts to a PQ
# recipient, the peer unwraps the data key from the metadata's armored
# stanza (the key then opens a value with AES-256-GCM).

load helpers

setup() {
	sotto_setup
	PEERS=$("$SOTTO_ROOT/tests/tools/pq-peers.sh") || {
		echo "cannot install the npm peers (see above)" >&2
		return 1
	}
	PEER_JS=$SOTTO_SHARED/tools/age-pq-peer.mjs
}

peer() { (cd "$PEERS" && node "$PEER_JS" "$@"); }

@test "peer keys and ciphertexts work in sotto" {
	peer keygen >pid
	R=$(sed -n 's/^# public key: //p' pid)
	[ "${#R}" = 1959 ]
	make_plain m 100000
	peer encrypt "$R" <m >m1.age
	"$AGE" -d -i "$T/pid" m1.age | cmp - m
	peer encrypt -a "$R" <m >m1.asc
	"$AGE" -d -i "$T/pid" m1.asc | cmp - m
	[ "$("$KEYGEN" -y pid)" = "$R" ]
}

@test "sotto keys and ciphertexts work in the peer" {
	"$KEYGEN" -pq -o sid 2>/dev/null
	R=$("$KEYGEN" -y sid)
	make_plain m 100000
	"$AGE" -r "$R" -o m2.age m
	peer decrypt "$T/sid" <m2.age | cmp - m
	"$AGE" -a -r "$R" -o m2.asc m
	peer decrypt "$T/sid" <m2.asc | cmp - m
	# a peer-made recipient used by sotto, decrypted by the peer
	peer keygen >pid
	P=$(sed -n 's/^# public key: //p' pid)
	"$AGE" -r "$P" -r "$R" m | peer decrypt "$T/pid" | cmp - m
	echo x | "$AGE" -r "$P" >w.age
	run peer decrypt "$T/sid" <w.age
	[ "$status" = 1 ]
}

@test "sops: the peer unwraps the data key of a sotto file with a PQ recipient" {
	"$KEYGEN" -pq -o sid 2>/dev/null
	R=$("$KEYGEN" -y sid)
	printf 'api:\n    token: s3cr3t-value\n' >s.yaml
	"$SOTTO" encrypt --age "$R" s.yaml >s.enc.yaml
	python3 - s.enc.yaml >stanza.asc <<'PY'
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r"-----BEGIN AGE ENCRYPTED FILE-----.*?-----END AGE ENCRYPTED FILE-----", t, re.S)
print("\n".join(l.strip() for l in m.group(0).splitlines()))
PY
	peer decrypt "$T/sid" <stanza.asc >dk.bin
	[ "$(wc -c <dk.bin)" = 32 ]
	python3 - s.enc.yaml dk.bin <<'PY'
import base64, re, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
t, key = open(sys.argv[1]).read(), open(sys.argv[2], "rb").read()
m = re.search(r"token: ENC\[AES256_GCM,data:([^,]*),iv:([^,]*),tag:([^,]*),type:str\]", t)
d, iv, tag = (base64.b64decode(x) for x in m.groups())
pt = AESGCM(key).decrypt(iv, d + tag, b"api:token:")
assert pt == b"s3cr3t-value", pt
PY
}
