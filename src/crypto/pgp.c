/* SPDX-License-Identifier: ISC */
/*
 * Native OpenPGP decryption (RFC 4880, RFC 6637): ASCII armor with its
 * CRC24, packet framing (old and new formats, partial lengths), v4 secret
 * key packets (RSA, ECDH cv25519), PKESK v3, SEIPD v1 with MDC, compressed
 * (ZIP, ZLIB) and literal data.  Every length is checked against what is
 * left; secret material and plaintext live in sodium_malloc() memory.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <sodium.h>
#include <zlib.h>

#include "sotto/pgp.h"

#define PGP_MAX_PKESK 64
/* an ECDH key on a curve other than Curve25519, for error messages */
#define PGP_ECDH_OTHER_CURVE 0x112

/* A growable buffer in sodium_malloc() memory. */
struct sbuf {
	uint8_t *p;
	size_t len, cap;
};

static void
sbuf_free(struct sbuf *b)
{
	if (b->p != NULL)
		sodium_free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static int
sbuf_reserve(struct sbuf *b, size_t more)
{
	size_t need, cap;
	uint8_t *q;

	if (more > SIZE_MAX - b->len)
		return -1;
	need = b->len + more;
	if (need <= b->cap)
		return 0;
	cap = b->cap < 256 ? 256 : b->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if ((q = sodium_malloc(cap)) == NULL)
		return -1;
	if (b->len > 0)
		memcpy(q, b->p, b->len);
	if (b->p != NULL)
		sodium_free(b->p);
	b->p = q;
	b->cap = cap;
	return 0;
}

static int
sbuf_add(struct sbuf *b, const uint8_t *p, size_t n)
{
	if (sbuf_reserve(b, n))
		return -1;
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static const char *
pk_algo_name(unsigned a)
{
	switch (a) {
	case 1: return "RSA";
	case 2: return "RSA encrypt-only";
	case 3: return "RSA sign-only";
	case 16: return "Elgamal";
	case 17: return "DSA";
	case 18: return "ECDH";
	case 19: return "ECDSA";
	case 20: return "Elgamal sign+encrypt";
	case 22: return "EdDSA";
	case 25: return "X25519";
	case 26: return "X448";
	case 27: return "Ed25519";
	case 28: return "Ed448";
	case PGP_ECDH_OTHER_CURVE: return "ECDH on a curve other than cv25519";
	default: return "unknown";
	}
}

static const char *
sym_algo_name(unsigned a)
{
	switch (a) {
	case 0: return "plaintext";
	case 1: return "IDEA";
	case 2: return "TripleDES";
	case 3: return "CAST5";
	case 4: return "Blowfish";
	case 7: return "AES-128";
	case 8: return "AES-192";
	case 9: return "AES-256";
	case 10: return "Twofish";
	case 11: return "Camellia-128";
	case 12: return "Camellia-192";
	case 13: return "Camellia-256";
	default: return "unknown";
	}
}

/* AES key length for an OpenPGP symmetric algorithm id, 0 if not AES. */
static size_t
aes_keylen(unsigned a)
{
	return a == 7 ? 16 : a == 8 ? 24 : a == 9 ? 32 : 0;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* ---- armor ------------------------------------------------------------ */

static uint32_t
crc24(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xB704CEu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		crc ^= (uint32_t)p[i] << 16;
		for (k = 0; k < 8; k++) {
			crc <<= 1;
			if (crc & 0x1000000u)
				crc ^= 0x1864CFBu;
		}
	}
	return crc & 0xFFFFFFu;
}

static bool
is_armored(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
	    p[i] == '\n'))
		i++;
	return n - i >= 10 && memcmp(p + i, "-----BEGIN", 10) == 0;
}

/* line [s, s+len) with trailing blanks and CR removed equals str */
static bool
line_is(const uint8_t *s, size_t len, const char *str)
{
	size_t sl = strlen(str);

	return len == sl && memcmp(s, str, sl) == 0;
}

/*
 * Decodes the armored block of type label ("PGP MESSAGE", "PGP PRIVATE
 * KEY BLOCK") into out, checking the CRC24 when there is one.
 */
static sotto_err
dearmor(const uint8_t *p, size_t n, const char *label, struct sbuf *out,
    struct sotto_error *e)
{
	char begin[64], end[64];
	struct sbuf b64 = { 0 };
	const uint8_t *crc = NULL;
	size_t i = 0, binlen = 0;
	int state = 0;		/* 0 before BEGIN, 1 headers, 2 body, 3 done */
	sotto_err err = SOTTO_OK;

	snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	snprintf(end, sizeof(end), "-----END %s-----", label);
	while (i < n && state != 3) {
		const uint8_t *s = p + i, *nl = memchr(s, '\n', n - i);
		size_t len = nl != NULL ? (size_t)(nl - s) : n - i, j;

		i += len + (nl != NULL);
		while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == ' ' ||
		    s[len - 1] == '\t'))
			len--;
		if (state == 0) {
			if (line_is(s, len, begin))
				state = 1;
			continue;
		}
		if (state == 1) {
			if (len == 0) {
				state = 2;
				continue;
			}
			if (memchr(s, ':', len) != NULL)
				continue;
			state = 2;
		}
		if (len >= 5 && memcmp(s, "-----", 5) == 0) {
			if (!line_is(s, len, end)) {
				err = sotto_error_set(e, SOTTO_E_PARSE,
				    "pgp armor: expected '%s'", end);
				goto out;
			}
			state = 3;
			continue;
		}
		if (crc != NULL) {
			err = sotto_error_set(e, SOTTO_E_PARSE,
			    "pgp armor: data after the checksum line");
			goto out;
		}
		if (len > 0 && s[0] == '=') {
			if (len != 5) {
				err = sotto_error_set(e, SOTTO_E_PARSE,
				    "pgp armor: malformed checksum line");
				goto out;
			}
			crc = s + 1;
			continue;
		}
		for (j = 0; j < len; j++) {
			if (s[j] == ' ' || s[j] == '\t')
				continue;
			if (sbuf_add(&b64, s + j, 1)) {
				err = sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory");
				goto out;
			}
		}
	}
	if (state == 0) {
		err = sotto_error_set(e, SOTTO_E_PARSE,
		    "pgp armor: no '%s' line", begin);
		goto out;
	}
	if (state != 3) {
		err = sotto_error_set(e, SOTTO_E_PARSE,
		    "pgp armor: truncated (no '%s' line)", end);
		goto out;
	}
	if (sbuf_reserve(out, b64.len / 4 * 3 + 3)) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if (b64.len == 0 || sodium_base642bin(out->p, out->cap, (char *)b64.p,
	    b64.len, NULL, &binlen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
		err = sotto_error_set(e, SOTTO_E_PARSE,
		    "pgp armor: invalid base64");
		goto out;
	}
	out->len = binlen;
	if (crc != NULL) {
		uint8_t c[4];
		size_t cl = 0;

		if (sodium_base642bin(c, sizeof(c), (const char *)crc, 4, NULL,
		    &cl, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 || cl != 3) {
			err = sotto_error_set(e, SOTTO_E_PARSE,
			    "pgp armor: malformed checksum line");
			goto out;
		}
		if (((uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2]) !=
		    crc24(out->p, out->len)) {
			err = sotto_error_set(e, SOTTO_E_PARSE,
			    "pgp armor: CRC24 mismatch");
			goto out;
		}
	}
out:
	sbuf_free(&b64);
	return err;
}

/* ---- packets ---------------------------------------------------------- */

struct pkt {
	unsigned tag;
	const uint8_t *body;
	size_t len;
	size_t off;		/* offset of the header in its container */
};

static bool
tag_may_be_partial(unsigned tag)
{
	return tag == 8 || tag == 9 || tag == 11 || tag == 18 || tag == 20;
}

/*
 * Reads the packet at *pos of [p, p+n).  A body split into partial lengths
 * is joined into join (reset first), which pk->body then points into.
 */
static sotto_err
pkt_next(const uint8_t *p, size_t n, size_t *pos, struct pkt *pk,
    struct sbuf *join, struct sotto_error *e)
{
	size_t i = *pos, len;
	unsigned b;
	bool partial = false, joined = false;

	pk->off = i;
	if (i >= n)
		return sotto_error_set(e, SOTTO_E_PARSE,
		    "pgp: truncated packet at offset %zu", i);
	b = p[i++];
	if (!(b & 0x80))
		return sotto_error_set(e, SOTTO_E_PARSE,
		    "pgp: bad packet header byte 0x%02x at offset %zu", b,
		    pk->off);
	join->len = 0;
	if (!(b & 0x40)) {
		unsigned lt = b & 3, k;

		pk->tag = (b >> 2) & 0xf;
		if (lt == 3) {
			len = n - i;
		} else {
			k = 1u << lt;
			if (n - i < k)
				goto trunc;
			for (len = 0; k > 0; k--)
				len = len << 8 | p[i++];
		}
		if (len > n - i)
			goto trunc;
		pk->body = p + i;
		pk->len = len;
		*pos = i + len;
		return SOTTO_OK;
	}
	pk->tag = b & 0x3f;
	for (;;) {
		unsigned o1;

		if (i >= n)
			goto trunc;
		o1 = p[i++];
		partial = false;
		if (o1 < 192) {
			len = o1;
		} else if (o1 < 224) {
			if (i >= n)
				goto trunc;
			len = ((size_t)(o1 - 192) << 8) + p[i++] + 192;
		} else if (o1 == 255) {
			if (n - i < 4)
				goto trunc;
			len = be32(p + i);
			i += 4;
		} else {
			if (!tag_may_be_partial(pk->tag))
				return sotto_error_set(e, SOTTO_E_PARSE,
				    "pgp: partial length on a packet of tag %u "
				    "at offset %zu", pk->tag, pk->off);
			len = (size_t)1 << (o1 & 0x1f);
			partial = true;
		}
		if (len > n - i)
			goto trunc;
		if (partial || joined) {
			if (sbuf_add(join, p + i, len))
				return sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory");
			joined = true;
		}
		if (!joined) {
			pk->body = p + i;
			pk->len = len;
		}
		i += len;
		if (!partial)
			break;
	}
	if (joined) {
		pk->body = join->p;
		pk->len = join->len;
	}
	*pos = i;
	return SOTTO_OK;
trunc:
	return sotto_error_set(e, SOTTO_E_PARSE,
	    "pgp: truncated packet (tag %u at offset %zu)", pk->tag, pk->off);
}

/* Reads an MPI at *i of [p, p+n); -1 if it runs past n. */
static int
mpi(const uint8_t *p, size_t n, size_t *i, const uint8_t **v, size_t *vlen)
{
	size_t bits, bytes;

	if (n - *i < 2 || *i > n)
		return -1;
	bits = (size_t)p[*i] << 8 | p[*i + 1];
	bytes = (bits + 7) / 8;
	*i += 2;
	if (bytes > n - *i)
		return -1;
	*v = p + *i;
	*vlen = bytes;
	*i += bytes;
	/* a well-formed MPI has no leading zero byte, but gpg may write one */
	while (*vlen > 0 && **v == 0) {
		(*v)++;
		(*vlen)--;
	}
	return 0;
}

/* ---- keys ------------------------------------------------------------- */

static const uint8_t oid_cv25519[] = {
	0x2B, 0x06, 0x01, 0x04, 0x01, 0x97, 0x55, 0x01, 0x05, 0x01
};

enum { RSA_N, RSA_E, RSA_D, RSA_P, RSA_Q, RSA_NPARTS };

struct pgp_key {
	unsigned algo;		/* 1/2 RSA, 18 ECDH cv25519 */
	uint8_t fpr[20];
	uint8_t *mat;		/* sodium_malloc: RSA parts, or the X25519
				   secret (32, little-endian) */
	size_t matlen;
	size_t off[RSA_NPARTS], len[RSA_NPARTS];
	unsigned kdf_hash, kek_alg;
};

struct sotto_pgp_keys {
	struct pgp_key *k;
	size_t n, cap;
};

struct sotto_pgp_keys *
sotto_pgp_keys_new(void)
{
	return calloc(1, sizeof(struct sotto_pgp_keys));
}

void
sotto_pgp_keys_free(struct sotto_pgp_keys *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->n; i++)
		if (ks->k[i].mat != NULL)
			sodium_free(ks->k[i].mat);
	free(ks->k);
	free(ks);
}

size_t
sotto_pgp_keys_count(const struct sotto_pgp_keys *ks)
{
	return ks != NULL ? ks->n : 0;
}

static void
fingerprint(uint8_t fpr[20], const uint8_t *pub, size_t len)
{
	uint8_t hdr[3] = { 0x99, (uint8_t)(len >> 8), (uint8_t)len };
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int ol = 0;

	memset(fpr, 0, 20);
	if (c == NULL)
		return;
	if (EVP_DigestInit_ex(c, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(c, hdr, 3) != 1 ||
	    EVP_DigestUpdate(c, pub, len) != 1 ||
	    EVP_DigestFinal_ex(c, fpr, &ol) != 1)
		memset(fpr, 0, 20);
	EVP_MD_CTX_free(c);
}

enum key_outcome { KEY_USABLE, KEY_SKIPPED, KEY_STUB };

/*
 * Parses one secret key or subkey packet body.  *skipped_algo is set to
 * the algorithm when the packet is well formed but not a decryption key
 * sotto can use.
 */
static sotto_err
parse_secret_key(const uint8_t *b, size_t n, const char *name,
    struct pgp_key *k, enum key_outcome *outc, unsigned *skipped_algo,
    struct sotto_error *e)
{
	const uint8_t *v[RSA_NPARTS], *oid = NULL, *pt = NULL, *sk = NULL;
	size_t vl[RSA_NPARTS], i = 6, pubend, secstart, oidlen = 0, ptl = 0,
	    skl = 0, j, total;
	unsigned algo, usage, sum = 0;

	memset(k, 0, sizeof(*k));
	*outc = KEY_SKIPPED;
	if (n < 6)
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "'%s': truncated secret key packet", name);
	if (b[0] != 4)
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
		    "'%s': unsupported secret key version %u", name, b[0]);
	algo = b[5];
	switch (algo) {
	case 1:
	case 2:
		if (mpi(b, n, &i, &v[RSA_N], &vl[RSA_N]) ||
		    mpi(b, n, &i, &v[RSA_E], &vl[RSA_E]))
			goto trunc;
		break;
	case 18:
		if (i >= n)
			goto trunc;
		oidlen = b[i++];
		if (oidlen == 0 || oidlen == 255 || oidlen > n - i)
			goto trunc;
		oid = b + i;
		i += oidlen;
		if (mpi(b, n, &i, &pt, &ptl))
			goto trunc;
		if (i >= n || b[i] < 3 || b[i] > n - i - 1)
			goto trunc;
		if (b[i + 1] != 1)
			return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
			    "'%s': unsupported ECDH KDF parameters version %u",
			    name, b[i + 1]);
		k->kdf_hash = b[i + 2];
		k->kek_alg = b[i + 3];
		i += 1 + (size_t)b[i];
		break;
	default:
		/* not a decryption key sotto uses; its secret part is not read */
		*skipped_algo = algo;
		return SOTTO_OK;
	}
	pubend = i;
	if (i >= n)
		goto trunc;
	usage = b[i++];
	if (usage == 254 || usage == 255) {
		if (n - i < 2)
			goto trunc;
		/* a GNU dummy S2K (101) marks a stub with no secret part */
		if (b[i + 1] == 101) {
			*outc = KEY_STUB;
			return SOTTO_OK;
		}
	}
	if (usage != 0)
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
		    "'%s': secret key is protected with a passphrase; Flux and "
		    "sotto need an unprotected key", name);
	if (algo == 18 && (oidlen != sizeof(oid_cv25519) ||
	    memcmp(oid, oid_cv25519, oidlen) != 0)) {
		*skipped_algo = PGP_ECDH_OTHER_CURVE;
		return SOTTO_OK;
	}
	secstart = i;
	if (algo == 18) {
		if (mpi(b, n, &i, &sk, &skl))
			goto trunc;
		if (ptl != 33 || pt[0] != 0x40 || skl > 32)
			return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
			    "'%s': malformed cv25519 key", name);
		if (aes_keylen(k->kek_alg) == 0 || (k->kdf_hash != 8 &&
		    k->kdf_hash != 9 && k->kdf_hash != 10))
			return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
			    "'%s': unsupported ECDH KDF hash %u / key wrap "
			    "algorithm %u", name, k->kdf_hash, k->kek_alg);
	} else {
		if (mpi(b, n, &i, &v[RSA_D], &vl[RSA_D]) ||
		    mpi(b, n, &i, &v[RSA_P], &vl[RSA_P]) ||
		    mpi(b, n, &i, &v[RSA_Q], &vl[RSA_Q]) ||
		    mpi(b, n, &i, &sk, &skl))	/* u, recomputed below */
			goto trunc;
	}
	if (n - i < 2)
		goto trunc;
	for (j = secstart; j < i; j++)
		sum += b[j];
	if ((sum & 0xffff) != ((unsigned)b[i] << 8 | b[i + 1]))
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "'%s': secret key checksum mismatch", name);
	k->algo = algo;
	fingerprint(k->fpr, b, pubend);
	if (algo == 18) {
		k->matlen = 32;
		if ((k->mat = sodium_malloc(32)) == NULL)
			return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		/* the MPI is big-endian; X25519 wants little-endian */
		memset(k->mat, 0, 32);
		for (j = 0; j < skl; j++)
			k->mat[j] = sk[skl - 1 - j];
	} else {
		for (total = 0, j = 0; j < RSA_NPARTS; j++)
			total += vl[j];
		k->matlen = total;
		if ((k->mat = sodium_malloc(total + 1)) == NULL)
			return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		for (total = 0, j = 0; j < RSA_NPARTS; j++) {
			memcpy(k->mat + total, v[j], vl[j]);
			k->off[j] = total;
			k->len[j] = vl[j];
			total += vl[j];
		}
	}
	*outc = KEY_USABLE;
	return SOTTO_OK;
trunc:
	return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
	    "'%s': truncated secret key packet", name);
}

sotto_err
sotto_pgp_keys_add(struct sotto_pgp_keys *ks, const uint8_t *p, size_t n,
    const char *name, struct sotto_error *e)
{
	struct sbuf bin = { 0 }, join = { 0 };
	const uint8_t *d;
	size_t dn, pos = 0, added = 0, nsecret = 0, n0 = ks->n;
	unsigned skipped = 0;
	struct pkt pk;
	sotto_err err = SOTTO_OK;

	if (n > SOTTO_PGP_MAX_INPUT)
		return sotto_error_set(e, SOTTO_E_LIMIT,
		    "'%s': secret key file over %u bytes", name,
		    SOTTO_PGP_MAX_INPUT);
	if (is_armored(p, n)) {
		if ((err = dearmor(p, n, "PGP PRIVATE KEY BLOCK", &bin, e)))
			goto out;
		d = bin.p;
		dn = bin.len;
	} else {
		d = p;
		dn = n;
	}
	while (pos < dn) {
		struct pgp_key k;
		enum key_outcome oc;

		if ((err = pkt_next(d, dn, &pos, &pk, &join, e))) {
			sotto_error_prefix(e, "'%s'", name);
			goto out;
		}
		if (pk.tag == 6 || pk.tag == 14) {
			if (nsecret == 0 && pk.tag == 6) {
				err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
				    "'%s': a public key, not a secret key",
				    name);
				goto out;
			}
			continue;
		}
		if (pk.tag != 5 && pk.tag != 7)
			continue;
		nsecret++;
		if ((err = parse_secret_key(pk.body, pk.len, name, &k, &oc,
		    &skipped, e)))
			goto out;
		if (oc != KEY_USABLE)
			continue;
		if (ks->n == ks->cap) {
			size_t cap = ks->cap ? ks->cap * 2 : 4;
			struct pgp_key *nk = realloc(ks->k, cap * sizeof(*nk));

			if (nk == NULL) {
				sodium_free(k.mat);
				err = sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory");
				goto out;
			}
			ks->k = nk;
			ks->cap = cap;
		}
		ks->k[ks->n++] = k;
		added++;
	}
	if (nsecret == 0) {
		err = sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "'%s': no OpenPGP secret key packet", name);
	} else if (added == 0) {
		if (skipped != 0)
			err = sotto_error_set(e, SOTTO_E_UNSUPPORTED,
			    "'%s': no usable decryption key: unsupported "
			    "algorithm %u (%s)", name, skipped & 0xff,
			    pk_algo_name(skipped));
		else
			err = sotto_error_set(e, SOTTO_E_UNSUPPORTED,
			    "'%s': no usable decryption key", name);
	}
out:
	/* a file that fails adds nothing */
	while (err != SOTTO_OK && ks->n > n0)
		sodium_free(ks->k[--ks->n].mat);
	sbuf_free(&bin);
	sbuf_free(&join);
	return err;
}

/* ---- session keys ----------------------------------------------------- */

/* Checks "algo || key || sum16" in m[0..mlen) and extracts the key. */
static bool
session_key_ok(const uint8_t *m, size_t mlen, unsigned *algo, uint8_t sk[32],
    size_t *sklen)
{
	size_t kl, j;
	unsigned sum = 0;

	if (mlen < 3)
		return false;
	/* a non-AES key is checked, then refused by name by the caller */
	kl = aes_keylen(m[0]);
	if (kl == 0)
		kl = mlen - 3;
	if (mlen != 1 + kl + 2 || kl > 32)
		return false;
	for (j = 0; j < kl; j++)
		sum += m[1 + j];
	if ((sum & 0xffff) != ((unsigned)m[1 + kl] << 8 | m[2 + kl]))
		return false;
	*algo = m[0];
	memcpy(sk, m + 1, kl);
	*sklen = aes_keylen(m[0]) != 0 ? kl : 0;
	return true;
}

static BIGNUM *
bn(const struct pgp_key *k, int part)
{
	return BN_bin2bn(k->mat + k->off[part], (int)k->len[part], NULL);
}

static EVP_PKEY *
rsa_pkey(const struct pgp_key *k)
{
	BIGNUM *n = bn(k, RSA_N), *ee = bn(k, RSA_E), *d = bn(k, RSA_D),
	    *p = bn(k, RSA_P), *q = bn(k, RSA_Q);
	BIGNUM *dp = BN_secure_new(), *dq = BN_secure_new(), *t = BN_new();
	BIGNUM *qi = NULL;
	BN_CTX *ctx = BN_CTX_secure_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = NULL;
	EVP_PKEY *pkey = NULL;

	if (n == NULL || ee == NULL || d == NULL || p == NULL || q == NULL ||
	    dp == NULL || dq == NULL || t == NULL || ctx == NULL ||
	    bld == NULL || BN_is_zero(p) || BN_is_zero(q))
		goto out;
	/* OpenPGP keeps u = p^-1 mod q; OpenSSL wants q^-1 mod p */
	if (!BN_sub(t, p, BN_value_one()) || !BN_mod(dp, d, t, ctx) ||
	    !BN_sub(t, q, BN_value_one()) || !BN_mod(dq, d, t, ctx) ||
	    (qi = BN_mod_inverse(NULL, q, p, ctx)) == NULL)
		goto out;
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, ee) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qi) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pc) != 1 ||
	    EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
		pkey = NULL;
out:
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_CTX_free(ctx);
	BN_free(n);
	BN_free(ee);
	BN_clear_free(d);
	BN_clear_free(p);
	BN_clear_free(q);
	BN_clear_free(dp);
	BN_clear_free(dq);
	BN_clear_free(t);
	BN_clear_free(qi);
	return pkey;
}

static bool
rsa_unwrap(const struct pgp_key *k, const uint8_t *b, size_t n,
    unsigned *algo, uint8_t sk[32], size_t *sklen)
{
	const uint8_t *m;
	size_t ml, i = 0, modlen = k->len[RSA_N], outl;
	uint8_t *in = NULL, *out = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *c = NULL;
	bool ok = false;

	if (mpi(b, n, &i, &m, &ml) || ml > modlen || modlen == 0)
		return false;
	if ((in = calloc(1, modlen)) == NULL ||
	    (out = sodium_malloc(modlen)) == NULL)
		goto out;
	memcpy(in + modlen - ml, m, ml);
	outl = modlen;
	if ((pkey = rsa_pkey(k)) == NULL ||
	    (c = EVP_PKEY_CTX_new(pkey, NULL)) == NULL ||
	    EVP_PKEY_decrypt_init(c) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_decrypt(c, out, &outl, in, modlen) != 1)
		goto out;
	ok = session_key_ok(out, outl, algo, sk, sklen);
out:
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(pkey);
	free(in);
	if (out != NULL)
		sodium_free(out);
	return ok;
}

static bool
ecdh_unwrap(const struct pgp_key *k, const uint8_t *b, size_t n,
    unsigned *algo, uint8_t sk[32], size_t *sklen)
{
	uint8_t *z = NULL, param[64], *kek = NULL, *plain = NULL;
	const uint8_t *pt;
	size_t ptl, i = 0, cl, pl = 0, hl, kekl, pad, j;
	const EVP_MD *md;
	EVP_MD_CTX *mc = NULL;
	EVP_CIPHER_CTX *cc = NULL;
	const EVP_CIPHER *wrap;
	unsigned int dl = 0;
	int ol = 0, fl = 0;
	bool ok = false;

	if (mpi(b, n, &i, &pt, &ptl) || ptl != 33 || pt[0] != 0x40 ||
	    i >= n)
		return false;
	cl = b[i++];
	if (cl > n - i || cl < 24 || cl % 8 != 0 || cl > 64)
		return false;
	md = k->kdf_hash == 8 ? EVP_sha256() : k->kdf_hash == 9 ?
	    EVP_sha384() : EVP_sha512();
	kekl = aes_keylen(k->kek_alg);
	wrap = kekl == 16 ? EVP_aes_128_wrap() : kekl == 24 ?
	    EVP_aes_192_wrap() : EVP_aes_256_wrap();
	if ((z = sodium_malloc(32 + 64)) == NULL ||
	    (plain = sodium_malloc(64 + 16)) == NULL)
		goto out;
	kek = z + 32;
	if (crypto_scalarmult(z, k->mat, pt + 1) != 0)
		goto out;
	/* RFC 6637 section 8: the KDF parameters */
	param[pl++] = sizeof(oid_cv25519);
	memcpy(param + pl, oid_cv25519, sizeof(oid_cv25519));
	pl += sizeof(oid_cv25519);
	param[pl++] = 18;
	param[pl++] = 3;
	param[pl++] = 1;
	param[pl++] = (uint8_t)k->kdf_hash;
	param[pl++] = (uint8_t)k->kek_alg;
	memcpy(param + pl, "Anonymous Sender    ", 20);
	pl += 20;
	memcpy(param + pl, k->fpr, 20);
	pl += 20;
	if ((mc = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(mc, md, NULL) != 1 ||
	    EVP_DigestUpdate(mc, "\0\0\0\1", 4) != 1 ||
	    EVP_DigestUpdate(mc, z, 32) != 1 ||
	    EVP_DigestUpdate(mc, param, pl) != 1 ||
	    EVP_DigestFinal_ex(mc, kek, &dl) != 1)
		goto out;
	hl = dl;
	if (hl < kekl)
		goto out;
	if ((cc = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	EVP_CIPHER_CTX_set_flags(cc, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_DecryptInit_ex(cc, wrap, NULL, kek, NULL) != 1 ||
	    EVP_DecryptUpdate(cc, plain, &ol, b + i, (int)cl) != 1 ||
	    EVP_DecryptFinal_ex(cc, plain + ol, &fl) != 1)
		goto out;
	pl = (size_t)ol + (size_t)fl;
	/* PKCS#5 padding to a multiple of 8 */
	if (pl == 0)
		goto out;
	pad = plain[pl - 1];
	if (pad == 0 || pad > 8 || pad > pl)
		goto out;
	for (j = pl - pad; j < pl; j++)
		if (plain[j] != pad)
			goto out;
	ok = session_key_ok(plain, pl - pad, algo, sk, sklen);
out:
	EVP_CIPHER_CTX_free(cc);
	EVP_MD_CTX_free(mc);
	if (z != NULL)
		sodium_free(z);
	if (plain != NULL)
		sodium_free(plain);
	return ok;
}

/* ---- data ------------------------------------------------------------- */

static sotto_err
inflate_all(const uint8_t *p, size_t n, int window, struct sbuf *out,
    struct sotto_error *e)
{
	z_stream zs;
	int zr = Z_OK;
	sotto_err err = SOTTO_OK;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, window) != Z_OK)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	zs.next_in = (Bytef *)(uintptr_t)p;
	zs.avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
	if (n > UINT32_MAX) {
		err = sotto_error_set(e, SOTTO_E_LIMIT,
		    "pgp: compressed data too large");
		goto out;
	}
	while (zr != Z_STREAM_END) {
		if (out->len >= SOTTO_PGP_MAX_PLAIN) {
			err = sotto_error_set(e, SOTTO_E_LIMIT,
			    "pgp: decompressed data over %u bytes",
			    SOTTO_PGP_MAX_PLAIN);
			goto out;
		}
		if (sbuf_reserve(out, 65536)) {
			err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
			goto out;
		}
		zs.next_out = out->p + out->len;
		zs.avail_out = (uInt)(out->cap - out->len > 1u << 30 ?
		    1u << 30 : out->cap - out->len);
		zr = inflate(&zs, Z_NO_FLUSH);
		out->len = (size_t)(zs.next_out - out->p);
		if (zr == Z_STREAM_END)
			break;
		if (zr != Z_OK || (zs.avail_in == 0 && zs.avail_out != 0)) {
			err = sotto_error_set(e, SOTTO_E_PARSE,
			    "pgp: corrupt compressed data");
			goto out;
		}
	}
out:
	inflateEnd(&zs);
	return err;
}

/*
 * Reads the packets of a decrypted SEIPD body: an optional compressed
 * packet around them (depth 0 only), one-pass signatures, markers, exactly
 * one literal data packet, and signatures.  The literal data goes to out.
 */
static sotto_err
read_plain(const uint8_t *p, size_t n, int depth, struct sbuf *out,
    struct sotto_error *e)
{
	struct sbuf join = { 0 }, inner = { 0 };
	size_t pos = 0, nlit = 0;
	struct pkt pk;
	sotto_err err = SOTTO_OK;

	while (pos < n) {
		if ((err = pkt_next(p, n, &pos, &pk, &join, e)))
			goto out;
		switch (pk.tag) {
		case 2:		/* signature */
		case 4:		/* one-pass signature */
		case 10:	/* marker */
			break;
		case 8:
			if (depth > 0 || nlit > 0 || pk.len < 1) {
				err = sotto_error_set(e, SOTTO_E_PARSE,
				    "pgp: unexpected compressed data packet");
				goto out;
			}
			if (pk.body[0] == 0) {
				err = sbuf_add(&inner, pk.body + 1, pk.len - 1)
				    ? sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory") : SOTTO_OK;
			} else if (pk.body[0] == 1 || pk.body[0] == 2) {
				err = inflate_all(pk.body + 1, pk.len - 1,
				    pk.body[0] == 1 ? -15 : 15, &inner, e);
			} else {
				err = sotto_error_set(e, SOTTO_E_UNSUPPORTED,
				    "pgp: unsupported compression algorithm %u%s",
				    pk.body[0], pk.body[0] == 3 ? " (BZip2)" :
				    "");
			}
			if (err == SOTTO_OK)
				err = read_plain(inner.p, inner.len, depth + 1,
				    out, e);
			if (err)
				goto out;
			nlit++;
			break;
		case 11: {
			size_t fl;

			if (nlit > 0) {
				err = sotto_error_set(e, SOTTO_E_PARSE,
				    "pgp: more than one literal data packet");
				goto out;
			}
			if (pk.len < 2 || (fl = pk.body[1]) > pk.len - 2 ||
			    pk.len - 2 - fl < 4) {
				err = sotto_error_set(e, SOTTO_E_PARSE,
				    "pgp: truncated literal data packet");
				goto out;
			}
			if (sbuf_add(out, pk.body + 6 + fl, pk.len - 6 - fl)) {
				err = sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory");
				goto out;
			}
			nlit++;
			break;
		}
		default:
			err = sotto_error_set(e, SOTTO_E_PARSE,
			    "pgp: unexpected packet tag %u in the encrypted "
			    "data", pk.tag);
			goto out;
		}
	}
	if (nlit == 0)
		err = sotto_error_set(e, SOTTO_E_PARSE,
		    "pgp: no literal data in the message");
out:
	sbuf_free(&join);
	sbuf_free(&inner);
	return err;
}

/* Decrypts a SEIPD v1 body with the session key and checks its MDC. */
static sotto_err
seipd_open(const uint8_t *b, size_t n, unsigned algo, const uint8_t *key,
    struct sbuf *out, struct sotto_error *e)
{
	static const uint8_t zero_iv[16];
	const EVP_CIPHER *cph;
	EVP_CIPHER_CTX *c = NULL;
	EVP_MD_CTX *mc = NULL;
	struct sbuf pl = { 0 };
	uint8_t mdc[20];
	unsigned int dl = 0;
	size_t ct, kl = aes_keylen(algo);
	int ol = 0, fl = 0;
	sotto_err err = SOTTO_OK;

	if (n < 1)
		return sotto_error_set(e, SOTTO_E_PARSE,
		    "pgp: truncated encrypted data packet");
	if (b[0] != 1)
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED,
		    "pgp: unsupported encrypted data packet version %u", b[0]);
	ct = n - 1;
	/* prefix (block + 2) and the MDC packet (22) at least */
	if (ct < 16 + 2 + 22)
		return sotto_error_set(e, SOTTO_E_PARSE,
		    "pgp: truncated encrypted data packet");
	if (ct > INT32_MAX)
		return sotto_error_set(e, SOTTO_E_LIMIT,
		    "pgp: encrypted data too large");
	cph = kl == 16 ? EVP_aes_128_cfb128() : kl == 24 ?
	    EVP_aes_192_cfb128() : EVP_aes_256_cfb128();
	if (sbuf_reserve(&pl, ct + 16)) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(c, cph, NULL, key, zero_iv) != 1 ||
	    EVP_DecryptUpdate(c, pl.p, &ol, b + 1, (int)ct) != 1 ||
	    EVP_DecryptFinal_ex(c, pl.p + ol, &fl) != 1) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO,
		    "pgp: decryption failed");
		goto out;
	}
	pl.len = (size_t)ol + (size_t)fl;
	if (pl.len != ct) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO,
		    "pgp: decryption failed");
		goto out;
	}
	if ((mc = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(mc, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(mc, pl.p, ct - 20) != 1 ||
	    EVP_DigestFinal_ex(mc, mdc, &dl) != 1 || dl != 20) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "pgp: SHA-1 failed");
		goto out;
	}
	if ((pl.p[ct - 22] ^ 0xD3) | (pl.p[ct - 21] ^ 0x14) |
	    (uint8_t)sodium_memcmp(mdc, pl.p + ct - 20, 20)) {
		err = sotto_error_set(e, SOTTO_E_DECRYPT,
		    "pgp: the message does not decrypt with the matching key "
		    "or was modified (MDC mismatch)");
		goto out;
	}
	err = read_plain(pl.p + 18, ct - 18 - 22, 0, out, e);
out:
	EVP_MD_CTX_free(mc);
	EVP_CIPHER_CTX_free(c);
	sbuf_free(&pl);
	return err;
}

sotto_err
sotto_pgp_decrypt(const struct sotto_pgp_keys *ks, const uint8_t *msg,
    size_t n, uint8_t **out, size_t *outlen, struct sotto_error *e)
{
	struct sbuf bin = { 0 }, join = { 0 }, plain = { 0 };
	struct pkt pkesk[PGP_MAX_PKESK], pk, data;
	const uint8_t *d;
	size_t dn, pos = 0, npk = 0, i, j, sklen = 0, matched = 0;
	uint8_t *sk = NULL;
	unsigned algo = 0, bad_algo = 0, skesk = 0;
	bool have_data = false, got = false;
	char ids[PGP_MAX_PKESK * 17 + 1] = "";
	sotto_err err = SOTTO_OK;

	*out = NULL;
	*outlen = 0;
	if (n > SOTTO_PGP_MAX_INPUT)
		return sotto_error_set(e, SOTTO_E_LIMIT,
		    "pgp: message over %u bytes", SOTTO_PGP_MAX_INPUT);
	if (is_armored(msg, n)) {
		if ((err = dearmor(msg, n, "PGP MESSAGE", &bin, e)))
			goto out;
		d = bin.p;
		dn = bin.len;
	} else {
		d = msg;
		dn = n;
	}
	while (pos < dn && !have_data) {
		if ((err = pkt_next(d, dn, &pos, &pk, &join, e)))
			goto out;
		switch (pk.tag) {
		case 1:
			if (npk == PGP_MAX_PKESK) {
				err = sotto_error_set(e, SOTTO_E_LIMIT,
				    "pgp: more than %d recipients",
				    PGP_MAX_PKESK);
				goto out;
			}
			pkesk[npk++] = pk;
			break;
		case 3:
			skesk++;
			break;
		case 10:
			break;
		case 18:
			/* the last packet: join may hold it; keep join */
			data = pk;
			have_data = true;
			break;
		case 9:
			err = sotto_error_set(e, SOTTO_E_UNSUPPORTED,
			    "pgp: encrypted data without integrity protection "
			    "(packet tag 9) is refused");
			goto out;
		case 20:
			err = sotto_error_set(e, SOTTO_E_UNSUPPORTED,
			    "pgp: unsupported OCB encrypted data packet (tag 20)");
			goto out;
		default:
			err = sotto_error_set(e, SOTTO_E_PARSE,
			    "pgp: unexpected packet tag %u in a message",
			    pk.tag);
			goto out;
		}
	}
	if (!have_data) {
		err = sotto_error_set(e, SOTTO_E_PARSE,
		    "pgp: no encrypted data packet in the message");
		goto out;
	}
	if (pos != dn) {
		err = sotto_error_set(e, SOTTO_E_PARSE,
		    "pgp: trailing data after the encrypted data packet");
		goto out;
	}
	if (npk == 0) {
		err = sotto_error_set(e, SOTTO_E_NO_KEY, skesk ?
		    "pgp: the message is encrypted with a passphrase, not to "
		    "a key" : "pgp: the message has no recipients");
		goto out;
	}
	if ((sk = sodium_malloc(32)) == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < npk && !got; i++) {
		const uint8_t *b = pkesk[i].body;
		size_t bl = pkesk[i].len;
		bool wild;

		if (bl < 10) {
			err = sotto_error_set(e, SOTTO_E_PARSE,
			    "pgp: truncated packet (tag 1 at offset %zu)",
			    pkesk[i].off);
			goto out;
		}
		if (b[0] != 3) {
			err = sotto_error_set(e, SOTTO_E_UNSUPPORTED,
			    "pgp: unsupported public-key encrypted session key "
			    "version %u", b[0]);
			goto out;
		}
		if (strlen(ids) < sizeof(ids) - 18) {
			char h[17];
			size_t il = strlen(ids);

			sodium_bin2hex(h, sizeof(h), b + 1, 8);
			snprintf(ids + il, sizeof(ids) - il, "%s%s",
			    il > 0 ? "," : "", h);
		}
		wild = sodium_is_zero(b + 1, 8);
		if (b[9] != 1 && b[9] != 2 && b[9] != 18) {
			bad_algo = b[9];
			continue;
		}
		for (j = 0; j < ks->n && !got; j++) {
			const struct pgp_key *k = &ks->k[j];

			if (!wild && memcmp(k->fpr + 12, b + 1, 8) != 0)
				continue;
			if ((b[9] == 18) != (k->algo == 18))
				continue;
			matched++;
			if (k->algo == 18) {
				got = ecdh_unwrap(k, b + 10, bl - 10, &algo,
				    sk, &sklen);
			} else if (!(got = rsa_unwrap(k, b + 10, bl - 10,
			    &algo, sk, &sklen))) {
				/*
				 * Implicit rejection: a bad PKCS#1 block goes
				 * on with a random key and fails as a
				 * modified message does, with the same
				 * message, so whoever can push a file and
				 * read the status learns nothing about the
				 * padding (Bleichenbacher).
				 */
				randombytes_buf(sk, 32);
				algo = 9;	/* AES-256 */
				sklen = 32;
				got = true;
			}
		}
	}
	if (!got) {
		if (matched > 0)
			err = sotto_error_set(e, SOTTO_E_NO_KEY,
			    "pgp: the session key does not decrypt with the "
			    "matching key (recipient %s)", ids);
		else if (bad_algo != 0 && npk == 1)
			err = sotto_error_set(e, SOTTO_E_UNSUPPORTED,
			    "pgp: unsupported public-key algorithm %u (%s)",
			    bad_algo, pk_algo_name(bad_algo));
		else
			err = sotto_error_set(e, SOTTO_E_NO_KEY,
			    "pgp: no matching key: the message is encrypted "
			    "to key id(s) %s", ids);
		goto out;
	}
	if (aes_keylen(algo) == 0) {
		err = sotto_error_set(e, SOTTO_E_UNSUPPORTED,
		    "pgp: unsupported symmetric algorithm %u (%s)", algo,
		    sym_algo_name(algo));
		goto out;
	}
	if ((err = seipd_open(data.body, data.len, algo, sk, &plain, e)))
		goto out;
	if (plain.p == NULL && sbuf_reserve(&plain, 1)) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	*out = plain.p;
	*outlen = plain.len;
	plain.p = NULL;
out:
	if (sk != NULL)
		sodium_free(sk);
	sbuf_free(&plain);
	sbuf_free(&bin);
	sbuf_free(&join);
	return err;
}

void
sotto_pgp_plain_free(uint8_t *p)
{
	if (p != NULL)
		sodium_free(p);
}
