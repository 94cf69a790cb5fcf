/* SPDX-License-Identifier: ISC */
/*
 * ML-KEM-768 (FIPS 203, final) and the MLKEM768-X25519 hybrid KEM used by
 * age's mlkem768x25519 recipients.  See mlkem.h for the API.
 *
 * The arithmetic follows the structure of the Kyber reference code
 * (pq-crystals, public domain / CC0): coefficients are int16_t, products go
 * through Montgomery reduction (R = 2^16), sums through Barrett reduction,
 * and the NTT works on 7 layers with 128 precomputed twiddles.  Comments
 * name the FIPS 203 algorithm each function implements.
 *
 * Hashing is delegated to OpenSSL 3.0 (SHA3-256 = H, SHA3-512 = G,
 * SHAKE256 = J and PRF, SHAKE128 = XOF).  OpenSSL 3.0 cannot squeeze a
 * SHAKE in several steps, so SampleNTT squeezes three blocks and, in the
 * rare case that is not enough (the CCTV "unlucky" vector), squeezes again
 * with a longer output: the prefix of an XOF output does not depend on its
 * length, so this is the same stream.  rho is public, so the retry leaks
 * nothing.
 *
 * Constant time: no branch or table index depends on a secret.  The only
 * data-dependent branches are in SampleNTT (public rho) and in the modulus
 * check (public ek).  Compression uses multiply-and-shift instead of a
 * division, the message decoding uses masks, and implicit rejection selects
 * K or J(z || c) with a mask after comparing all 1088 ciphertext bytes.
 * tests/unit/test_mlkem.c checks this under valgrind with the secret inputs
 * marked undefined (SOTTO_CT_TEST=1).
 */
#include "crypto/mlkem.h"

#include <openssl/evp.h>
#include <sodium.h>
#include <string.h>

/*
 * Valgrind client request marking a value derived from secrets as public
 * by design (rho); a few no-op instructions outside valgrind.
 */
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define DECLASSIFY(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

#define Q 3329
#define N 256
#define K 3			/* ML-KEM-768: k = 3 */
#define ETA1 2
#define ETA2 2
#define DU 10
#define DV 4
#define POLYBYTES 384		/* ByteEncode12 of one polynomial */
#define VECBYTES (K * POLYBYTES)	/* 1152 */
#define EKBYTES (VECBYTES + 32)		/* 1184 */
#define DKBYTES (VECBYTES + EKBYTES + 64)	/* 2400 */
#define C1BYTES (K * 320)	/* 960 */
#define C2BYTES 128
#define CTBYTES (C1BYTES + C2BYTES)	/* 1088 */
#define QINV (-3327)		/* q^-1 mod 2^16 */
#define SHAKE128_RATE 168

struct poly {
	int16_t c[N];	/* coefficients, representation noted per use */
};
struct polyvec {
	struct poly v[K];
};

/* ---- hashing (FIPS 203 §4.1) ----------------------------------------- */

/*
 * One OpenSSL digest context and the four fetched algorithms, made per
 * top-level call (fetching once per call instead of once per hash).
 */
struct hash {
	EVP_MD_CTX *ctx;
	EVP_MD *sha3_256, *sha3_512, *shake128, *shake256;
};

static void
hash_free(struct hash *h)
{
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->sha3_256);
	EVP_MD_free(h->sha3_512);
	EVP_MD_free(h->shake128);
	EVP_MD_free(h->shake256);
}

static int
hash_init(struct hash *h)
{
	h->ctx = EVP_MD_CTX_new();
	h->sha3_256 = EVP_MD_fetch(NULL, "SHA3-256", NULL);
	h->sha3_512 = EVP_MD_fetch(NULL, "SHA3-512", NULL);
	h->shake128 = EVP_MD_fetch(NULL, "SHAKE128", NULL);
	h->shake256 = EVP_MD_fetch(NULL, "SHAKE256", NULL);
	if (h->ctx == NULL || h->sha3_256 == NULL || h->sha3_512 == NULL ||
	    h->shake128 == NULL || h->shake256 == NULL) {
		hash_free(h);
		return -1;
	}
	return 0;
}

/* out = md(a || b), outlen bytes (XOF when md is a SHAKE). */
static int
hash2(struct hash *h, const EVP_MD *md, uint8_t *out, size_t outlen,
    const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	unsigned int len;

	if (EVP_DigestInit_ex2(h->ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(h->ctx, a, alen) != 1 ||
	    (blen && EVP_DigestUpdate(h->ctx, b, blen) != 1))
		return -1;
	if (md == h->shake128 || md == h->shake256)
		return EVP_DigestFinalXOF(h->ctx, out, outlen) == 1 ? 0 : -1;
	return EVP_DigestFinal_ex(h->ctx, out, &len) == 1 ? 0 : -1;
}

/* ---- modular arithmetic ---------------------------------------------- */

/* a * R^-1 mod q, for |a| < q * 2^15; result in (-q, q). */
static int16_t
montgomery_reduce(int32_t a)
{
	int16_t t = (int16_t)((int16_t)a * QINV);

	return (int16_t)((a - (int32_t)t * Q) >> 16);
}

/* a mod q, centred in [-(q-1)/2, (q-1)/2]. */
static int16_t
barrett_reduce(int16_t a)
{
	const int16_t v = ((1 << 26) + Q / 2) / Q;
	int16_t t = (int16_t)(((int32_t)v * a + (1 << 25)) >> 26);

	return (int16_t)(a - t * Q);
}

static int16_t
fqmul(int16_t a, int16_t b)
{
	return montgomery_reduce((int32_t)a * b);
}

/* Maps a centred representative in (-q, q) to [0, q) without a branch. */
static uint16_t
to_unsigned(int16_t a)
{
	a = (int16_t)(a + ((a >> 15) & Q));
	return (uint16_t)a;
}

/*
 * zeta^BitRev7(i) * R mod q, centred, zeta = 17 (FIPS 203 Appendix A, in
 * Montgomery form).
 */
static const int16_t zetas[128] = {
	-1044,  -758,  -359, -1517,  1493,  1422,   287,   202,
	 -171,   622,  1577,   182,   962, -1202, -1474,  1468,
	  573, -1325,   264,   383,  -829,  1458, -1602,  -130,
	 -681,  1017,   732,   608, -1542,   411,  -205, -1571,
	 1223,   652,  -552,  1015, -1293,  1491,  -282, -1544,
	  516,    -8,  -320,  -666, -1618, -1162,   126,  1469,
	 -853,   -90,  -271,   830,   107, -1421,  -247,  -951,
	 -398,   961, -1508,  -725,   448, -1065,   677, -1275,
	-1103,   430,   555,   843, -1251,   871,  1550,   105,
	  422,   587,   177,  -235,  -291,  -460,  1574,  1653,
	 -246,   778,  1159,  -147,  -777,  1483,  -602,  1119,
	-1590,   644,  -872,   349,   418,   329,  -156,   -75,
	  817,  1097,   603,   610,  1322, -1285, -1465,   384,
	-1215,  -136,  1218, -1335,  -874,   220, -1187, -1659,
	-1185, -1530, -1278,   794, -1510,  -854,  -870,   478,
	 -108,  -308,   996,   991,   958, -1460,  1522,  1628,
};

/* ---- NTT (Algorithms 9, 10, 11, 12) ---------------------------------- */

/* Algorithm 9 NTT; output in bit-reversed order, then Barrett-reduced. */
static void
poly_ntt(struct poly *p)
{
	unsigned int len, start, j, k = 1;
	int16_t t, zeta;

	for (len = 128; len >= 2; len >>= 1) {
		for (start = 0; start < N; start = j + len) {
			zeta = zetas[k++];
			for (j = start; j < start + len; j++) {
				t = fqmul(zeta, p->c[j + len]);
				p->c[j + len] = (int16_t)(p->c[j] - t);
				p->c[j] = (int16_t)(p->c[j] + t);
			}
		}
	}
	for (j = 0; j < N; j++)
		p->c[j] = barrett_reduce(p->c[j]);
}

/*
 * Algorithm 10 NTT^-1, multiplied by R (f = R^2 / 128 mod q): undoes the
 * R^-1 a Montgomery base multiplication leaves.
 */
static void
poly_invntt_tomont(struct poly *p)
{
	const int16_t f = 1441;
	unsigned int len, start, j, k = 127;
	int16_t t, zeta;

	for (len = 2; len <= 128; len <<= 1) {
		for (start = 0; start < N; start = j + len) {
			zeta = zetas[k--];
			for (j = start; j < start + len; j++) {
				t = p->c[j];
				p->c[j] = barrett_reduce((int16_t)(t +
				    p->c[j + len]));
				p->c[j + len] = (int16_t)(p->c[j + len] - t);
				p->c[j + len] = fqmul(zeta, p->c[j + len]);
			}
		}
	}
	for (j = 0; j < N; j++)
		p->c[j] = fqmul(p->c[j], f);
}

/* Algorithm 12 BaseCaseMultiply (times R^-1). */
static void
basemul(int16_t r[2], const int16_t a[2], const int16_t b[2], int16_t zeta)
{
	r[0] = fqmul(a[1], b[1]);
	r[0] = fqmul(r[0], zeta);
	r[0] = (int16_t)(r[0] + fqmul(a[0], b[0]));
	r[1] = fqmul(a[0], b[1]);
	r[1] = (int16_t)(r[1] + fqmul(a[1], b[0]));
}

/* Algorithm 11 MultiplyNTTs (times R^-1). */
static void
poly_basemul(struct poly *r, const struct poly *a, const struct poly *b)
{
	unsigned int i;

	for (i = 0; i < N / 4; i++) {
		basemul(&r->c[4 * i], &a->c[4 * i], &b->c[4 * i],
		    zetas[64 + i]);
		basemul(&r->c[4 * i + 2], &a->c[4 * i + 2], &b->c[4 * i + 2],
		    (int16_t)-zetas[64 + i]);
	}
}

/* r = sum_i a[i] * b[i] in the NTT domain (times R^-1), reduced. */
static void
polyvec_dot(struct poly *r, const struct polyvec *a, const struct polyvec *b)
{
	struct poly t;
	unsigned int i, j;

	poly_basemul(r, &a->v[0], &b->v[0]);
	for (i = 1; i < K; i++) {
		poly_basemul(&t, &a->v[i], &b->v[i]);
		for (j = 0; j < N; j++)
			r->c[j] = (int16_t)(r->c[j] + t.c[j]);
	}
	for (j = 0; j < N; j++)
		r->c[j] = barrett_reduce(r->c[j]);
}

/* ---- sampling (Algorithms 7 and 8) ----------------------------------- */

/*
 * Takes 12-bit candidates from buf (Algorithm 7's loop body); returns the
 * new count.  Public data only.
 */
static unsigned int
rej_uniform(int16_t *r, unsigned int ctr, const uint8_t *buf, size_t len)
{
	size_t pos = 0;
	uint16_t d1, d2;

	while (ctr < N && pos + 3 <= len) {
		d1 = (uint16_t)((buf[pos] | (buf[pos + 1] << 8)) & 0xfff);
		d2 = (uint16_t)((buf[pos + 1] >> 4) | (buf[pos + 2] << 4));
		pos += 3;
		if (d1 < Q)
			r[ctr++] = (int16_t)d1;
		if (d2 < Q && ctr < N)
			r[ctr++] = (int16_t)d2;
	}
	return ctr;
}

/*
 * Algorithm 7 SampleNTT(rho || i || j): squeezes 3 SHAKE128 blocks, then
 * (rarely) a longer output, which OpenSSL 3.0 requires instead of an
 * incremental squeeze.  The output is in the NTT domain, in [0, q).
 */
static int
sample_ntt(struct hash *h, struct poly *p, const uint8_t rho[32], uint8_t i,
    uint8_t j)
{
	uint8_t in[34], buf[3 * SHAKE128_RATE], big[64 * SHAKE128_RATE];
	size_t n;

	memcpy(in, rho, 32);
	in[32] = i;
	in[33] = j;
	if (hash2(h, h->shake128, buf, sizeof(buf), in, 34, NULL, 0) != 0)
		return -1;
	if (rej_uniform(p->c, 0, buf, sizeof(buf)) == N)
		return 0;
	for (n = 6; n <= 64; n *= 2) {	/* the stream's prefix repeats */
		if (hash2(h, h->shake128, big, n * SHAKE128_RATE, in, 34,
		    NULL, 0) != 0)
			return -1;
		if (rej_uniform(p->c, 0, big, n * SHAKE128_RATE) == N)
			return 0;
	}
	return -1;	/* probability far below 2^-256 */
}

/*
 * The matrix Â (Algorithm 13 lines 3-7): a[i][j] = SampleNTT(rho || j || i),
 * or its transpose (Algorithm 14 line 4-8, used by encryption).
 */
static int
gen_matrix(struct hash *h, struct polyvec a[K], const uint8_t rho[32],
    bool transposed)
{
	unsigned int i, j;

	for (i = 0; i < K; i++)
		for (j = 0; j < K; j++)
			if (sample_ntt(h, &a[i].v[j], rho,
			    (uint8_t)(transposed ? i : j),
			    (uint8_t)(transposed ? j : i)) != 0)
				return -1;
	return 0;
}

/*
 * Algorithm 8 SamplePolyCBD_2 on PRF_2(s, nonce) = SHAKE256(s || nonce,
 * 128).  Touches secrets: masks and shifts only.
 */
static int
sample_cbd2(struct hash *h, struct poly *p, const uint8_t s[32],
    uint8_t nonce)
{
	uint8_t buf[64 * ETA1];
	uint32_t t, d;
	unsigned int i, j;
	int16_t a, b;

	if (hash2(h, h->shake256, buf, sizeof(buf), s, 32, &nonce, 1) != 0)
		return -1;
	for (i = 0; i < N / 8; i++) {
		t = (uint32_t)buf[4 * i] | (uint32_t)buf[4 * i + 1] << 8 |
		    (uint32_t)buf[4 * i + 2] << 16 |
		    (uint32_t)buf[4 * i + 3] << 24;
		d = (t & 0x55555555) + ((t >> 1) & 0x55555555);
		for (j = 0; j < 8; j++) {
			a = (int16_t)((d >> (4 * j)) & 3);
			b = (int16_t)((d >> (4 * j + 2)) & 3);
			p->c[8 * i + j] = (int16_t)(a - b);
		}
	}
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

/* ---- encoding (Algorithms 5 and 6, Compress/Decompress §4.2.1) ------- */

/* Algorithm 5 ByteEncode_12, canonical [0, q) output. */
static void
poly_tobytes(uint8_t r[POLYBYTES], const struct poly *p)
{
	unsigned int i;
	uint16_t t0, t1;

	for (i = 0; i < N / 2; i++) {
		t0 = to_unsigned(p->c[2 * i]);
		t1 = to_unsigned(p->c[2 * i + 1]);
		r[3 * i] = (uint8_t)t0;
		r[3 * i + 1] = (uint8_t)((t0 >> 8) | (t1 << 4));
		r[3 * i + 2] = (uint8_t)(t1 >> 4);
	}
}

/* Algorithm 6 ByteDecode_12 (values up to 4095; see ek_check). */
static void
poly_frombytes(struct poly *p, const uint8_t a[POLYBYTES])
{
	unsigned int i;

	for (i = 0; i < N / 2; i++) {
		p->c[2 * i] = (int16_t)((a[3 * i] | (a[3 * i + 1] << 8)) &
		    0xfff);
		p->c[2 * i + 1] = (int16_t)((a[3 * i + 1] >> 4) |
		    (a[3 * i + 2] << 4));
	}
}

static void
polyvec_tobytes(uint8_t r[VECBYTES], const struct polyvec *v)
{
	unsigned int i;

	for (i = 0; i < K; i++)
		poly_tobytes(r + i * POLYBYTES, &v->v[i]);
}

static void
polyvec_frombytes(struct polyvec *v, const uint8_t a[VECBYTES])
{
	unsigned int i;

	for (i = 0; i < K; i++)
		poly_frombytes(&v->v[i], a + i * POLYBYTES);
}

/* Decompress_1(ByteDecode_1(m)): bit b -> b * (q+1)/2, by mask. */
static void
poly_frommsg(struct poly *p, const uint8_t m[32])
{
	unsigned int i, j;
	int16_t mask;

	for (i = 0; i < 32; i++)
		for (j = 0; j < 8; j++) {
			mask = (int16_t)-(int16_t)((m[i] >> j) & 1);
			p->c[8 * i + j] = (int16_t)(mask & ((Q + 1) / 2));
		}
}

/*
 * ByteEncode_1(Compress_1(p)): round(2x/q) mod 2 as ((2x + q/2) * 80635) >>
 * 28, exact for x in [0, q) (checked exhaustively), no division.
 */
static void
poly_tomsg(uint8_t m[32], const struct poly *p)
{
	unsigned int i, j;
	uint32_t t;

	for (i = 0; i < 32; i++) {
		m[i] = 0;
		for (j = 0; j < 8; j++) {
			t = to_unsigned(p->c[8 * i + j]);
			t = (((t << 1) + 1665) * 80635) >> 28;
			m[i] |= (uint8_t)((t & 1) << j);
		}
	}
}

/* ByteEncode_10(Compress_10(u)) for each polynomial: c1. */
static void
polyvec_compress(uint8_t r[C1BYTES], const struct polyvec *v)
{
	unsigned int i, j, k;
	uint16_t t[4];
	uint64_t d;

	for (i = 0; i < K; i++)
		for (j = 0; j < N / 4; j++) {
			for (k = 0; k < 4; k++) {
				d = to_unsigned(v->v[i].c[4 * j + k]);
				d = (((d << 10) + 1665) * 1290167) >> 32;
				t[k] = (uint16_t)(d & 0x3ff);
			}
			r[0] = (uint8_t)t[0];
			r[1] = (uint8_t)((t[0] >> 8) | (t[1] << 2));
			r[2] = (uint8_t)((t[1] >> 6) | (t[2] << 4));
			r[3] = (uint8_t)((t[2] >> 4) | (t[3] << 6));
			r[4] = (uint8_t)(t[3] >> 2);
			r += 5;
		}
}

/* Decompress_10(ByteDecode_10(c1)). */
static void
polyvec_decompress(struct polyvec *v, const uint8_t a[C1BYTES])
{
	unsigned int i, j, k;
	uint16_t t[4];

	for (i = 0; i < K; i++)
		for (j = 0; j < N / 4; j++) {
			t[0] = (uint16_t)(a[0] | (a[1] << 8));
			t[1] = (uint16_t)((a[1] >> 2) | (a[2] << 6));
			t[2] = (uint16_t)((a[2] >> 4) | (a[3] << 4));
			t[3] = (uint16_t)((a[3] >> 6) | (a[4] << 2));
			a += 5;
			for (k = 0; k < 4; k++)
				v->v[i].c[4 * j + k] = (int16_t)
				    (((uint32_t)(t[k] & 0x3ff) * Q + 512) >> 10);
		}
}

/* ByteEncode_4(Compress_4(v)): c2. */
static void
poly_compress(uint8_t r[C2BYTES], const struct poly *p)
{
	unsigned int i, j;
	uint8_t t[8];
	uint32_t d;

	for (i = 0; i < N / 8; i++) {
		for (j = 0; j < 8; j++) {
			d = to_unsigned(p->c[8 * i + j]);
			d = (((d << 4) + 1665) * 80635) >> 28;
			t[j] = (uint8_t)(d & 0xf);
		}
		for (j = 0; j < 4; j++)
			r[4 * i + j] = (uint8_t)(t[2 * j] | (t[2 * j + 1] << 4));
	}
}

/* Decompress_4(ByteDecode_4(c2)). */
static void
poly_decompress(struct poly *p, const uint8_t a[C2BYTES])
{
	unsigned int i;

	for (i = 0; i < N / 2; i++) {
		p->c[2 * i] = (int16_t)(((uint16_t)(a[i] & 15) * Q + 8) >> 4);
		p->c[2 * i + 1] = (int16_t)(((uint16_t)(a[i] >> 4) * Q + 8) >>
		    4);
	}
}

/* ---- K-PKE (Algorithms 13, 14, 15) ----------------------------------- */

/* Algorithm 13 K-PKE.KeyGen with (rho, sigma) = G(d || k) already made. */
static int
kpke_keygen(struct hash *h, uint8_t ek[EKBYTES], uint8_t dkpke[VECBYTES],
    const uint8_t rho[32], const uint8_t sigma[32])
{
	struct polyvec a[K], s, e, t;
	unsigned int i, j;
	uint8_t nonce = 0;
	int rc = -1;

	if (gen_matrix(h, a, rho, false) != 0)
		goto out;
	for (i = 0; i < K; i++)
		if (sample_cbd2(h, &s.v[i], sigma, nonce++) != 0)
			goto out;
	for (i = 0; i < K; i++)
		if (sample_cbd2(h, &e.v[i], sigma, nonce++) != 0)
			goto out;
	for (i = 0; i < K; i++) {
		poly_ntt(&s.v[i]);
		poly_ntt(&e.v[i]);
	}
	/* t̂ = Â ∘ ŝ + ê; the dot leaves R^-1, tomont (x R^2 R^-1) fixes it */
	for (i = 0; i < K; i++) {
		polyvec_dot(&t.v[i], &a[i], &s);
		for (j = 0; j < N; j++)
			t.v[i].c[j] = barrett_reduce((int16_t)(fqmul(
			    t.v[i].c[j], (int16_t)((1ULL << 32) % Q)) +
			    e.v[i].c[j]));
	}
	polyvec_tobytes(ek, &t);
	memcpy(ek + VECBYTES, rho, 32);
	polyvec_tobytes(dkpke, &s);
	rc = 0;
out:
	sodium_memzero(&s, sizeof(s));
	sodium_memzero(&e, sizeof(e));
	return rc;
}

/* Algorithm 14 K-PKE.Encrypt(ek, m, r); ek already passed the check. */
static int
kpke_encrypt(struct hash *h, uint8_t c[CTBYTES], const uint8_t ek[EKBYTES],
    const uint8_t m[32], const uint8_t r[32])
{
	struct polyvec at[K], t, y, e1, u;
	struct poly e2, mu, v;
	unsigned int i, j;
	uint8_t nonce = 0;
	int rc = -1;

	polyvec_frombytes(&t, ek);
	if (gen_matrix(h, at, ek + VECBYTES, true) != 0)
		goto out;
	for (i = 0; i < K; i++)
		if (sample_cbd2(h, &y.v[i], r, nonce++) != 0)
			goto out;
	for (i = 0; i < K; i++)
		if (sample_cbd2(h, &e1.v[i], r, nonce++) != 0)
			goto out;
	if (sample_cbd2(h, &e2, r, nonce++) != 0)
		goto out;
	for (i = 0; i < K; i++)
		poly_ntt(&y.v[i]);
	/* u = NTT^-1(Â^T ∘ ŷ) + e1;  v = NTT^-1(t̂^T ∘ ŷ) + e2 + mu */
	for (i = 0; i < K; i++) {
		polyvec_dot(&u.v[i], &at[i], &y);
		poly_invntt_tomont(&u.v[i]);
		for (j = 0; j < N; j++)
			u.v[i].c[j] = barrett_reduce((int16_t)(u.v[i].c[j] +
			    e1.v[i].c[j]));
	}
	polyvec_dot(&v, &t, &y);
	poly_invntt_tomont(&v);
	poly_frommsg(&mu, m);
	for (j = 0; j < N; j++)
		v.c[j] = barrett_reduce((int16_t)(v.c[j] + e2.c[j] + mu.c[j]));
	polyvec_compress(c, &u);
	poly_compress(c + C1BYTES, &v);
	rc = 0;
out:
	sodium_memzero(&y, sizeof(y));
	sodium_memzero(&e1, sizeof(e1));
	sodium_memzero(&e2, sizeof(e2));
	sodium_memzero(&mu, sizeof(mu));
	sodium_memzero(&u, sizeof(u));
	sodium_memzero(&v, sizeof(v));
	return rc;
}

/* Algorithm 15 K-PKE.Decrypt(dkPKE, c). */
static void
kpke_decrypt(uint8_t m[32], const uint8_t dkpke[VECBYTES],
    const uint8_t c[CTBYTES])
{
	struct polyvec u, s;
	struct poly v, w;
	unsigned int i, j;

	polyvec_decompress(&u, c);
	poly_decompress(&v, c + C1BYTES);
	polyvec_frombytes(&s, dkpke);
	for (i = 0; i < K; i++)
		poly_ntt(&u.v[i]);
	polyvec_dot(&w, &s, &u);
	poly_invntt_tomont(&w);
	for (j = 0; j < N; j++)		/* w = v - NTT^-1(ŝ^T ∘ NTT(u)) */
		w.c[j] = barrett_reduce((int16_t)(v.c[j] - w.c[j]));
	poly_tomsg(m, &w);
	sodium_memzero(&s, sizeof(s));
	sodium_memzero(&w, sizeof(w));
}

/* ---- ML-KEM (Algorithms 16, 17, 18, 20, 21) -------------------------- */

bool
sotto_mlkem768_ek_check(const uint8_t ek[SOTTO_MLKEM768_EKBYTES])
{
	struct polyvec t;
	unsigned int i, j;

	/* ByteEncode12(ByteDecode12(ek)) == ek  <=>  every value < q */
	polyvec_frombytes(&t, ek);
	for (i = 0; i < K; i++)
		for (j = 0; j < N; j++)
			if (t.v[i].c[j] >= Q)
				return false;
	return true;
}

int
sotto_mlkem768_keygen_internal(uint8_t ek[SOTTO_MLKEM768_EKBYTES],
    uint8_t dk[SOTTO_MLKEM768_DKBYTES], const uint8_t d[32],
    const uint8_t z[32])
{
	struct hash h;
	uint8_t rs[64];
	const uint8_t kbyte = K;
	int rc = -1;

	if (hash_init(&h) != 0)
		return -1;
	/* Algorithm 13 line 1: (rho, sigma) = G(d || k) (final FIPS 203) */
	if (hash2(&h, h.sha3_512, rs, 64, d, 32, &kbyte, 1) != 0)
		goto out;
	DECLASSIFY(rs, 32);	/* rho is public: it ends up in ek */
	if (kpke_keygen(&h, ek, dk, rs, rs + 32) != 0)
		goto out;
	/* Algorithm 16: dk = dkPKE || ek || H(ek) || z */
	memcpy(dk + VECBYTES, ek, EKBYTES);
	if (hash2(&h, h.sha3_256, dk + VECBYTES + EKBYTES, 32, ek, EKBYTES,
	    NULL, 0) != 0)
		goto out;
	memcpy(dk + VECBYTES + EKBYTES + 32, z, 32);
	DECLASSIFY(ek, EKBYTES);	/* the public key and its hash */
	DECLASSIFY(dk + VECBYTES, EKBYTES + 32);
	rc = 0;
out:
	sodium_memzero(rs, sizeof(rs));
	hash_free(&h);
	return rc;
}

int
sotto_mlkem768_encaps_internal(uint8_t ss[SOTTO_MLKEM768_SSBYTES],
    uint8_t ct[SOTTO_MLKEM768_CTBYTES], const uint8_t ek[SOTTO_MLKEM768_EKBYTES],
    const uint8_t m[32])
{
	struct hash h;
	uint8_t hek[32], kr[64];
	int rc = -1;

	if (!sotto_mlkem768_ek_check(ek))
		return -1;
	if (hash_init(&h) != 0)
		return -1;
	/* Algorithm 17: (K, r) = G(m || H(ek)); c = K-PKE.Encrypt(ek, m, r) */
	if (hash2(&h, h.sha3_256, hek, 32, ek, EKBYTES, NULL, 0) != 0 ||
	    hash2(&h, h.sha3_512, kr, 64, m, 32, hek, 32) != 0 ||
	    kpke_encrypt(&h, ct, ek, m, kr + 32) != 0)
		goto out;
	memcpy(ss, kr, 32);
	rc = 0;
out:
	sodium_memzero(kr, sizeof(kr));
	hash_free(&h);
	return rc;
}

int
sotto_mlkem768_encaps(uint8_t ss[SOTTO_MLKEM768_SSBYTES],
    uint8_t ct[SOTTO_MLKEM768_CTBYTES], const uint8_t ek[SOTTO_MLKEM768_EKBYTES])
{
	uint8_t m[32];
	int rc;

	randombytes_buf(m, sizeof(m));	/* Algorithm 20 line 1 */
	rc = sotto_mlkem768_encaps_internal(ss, ct, ek, m);
	sodium_memzero(m, sizeof(m));
	return rc;
}

int
sotto_mlkem768_decaps(uint8_t ss[SOTTO_MLKEM768_SSBYTES],
    const uint8_t ct[SOTTO_MLKEM768_CTBYTES],
    const uint8_t dk[SOTTO_MLKEM768_DKBYTES])
{
	const uint8_t *dkpke = dk, *ekpke = dk + VECBYTES;
	const uint8_t *hek = dk + VECBYTES + EKBYTES, *z = hek + 32;
	struct hash h;
	uint8_t m[32], kr[64], kbar[32], check[32], c2[CTBYTES];
	uint8_t diff = 0, mask;
	unsigned int i;
	int rc = -1;

	if (hash_init(&h) != 0)
		return -1;
	/* §7.3 hash check: H(dk[384k : 768k + 32]) == dk[768k + 32 : +32] */
	if (hash2(&h, h.sha3_256, check, 32, ekpke, EKBYTES, NULL, 0) != 0 ||
	    sodium_memcmp(check, hek, 32) != 0)
		goto out;
	/* Algorithm 18 */
	kpke_decrypt(m, dkpke, ct);				/* line 5 */
	if (hash2(&h, h.sha3_512, kr, 64, m, 32, hek, 32) != 0 ||	/* 6 */
	    hash2(&h, h.shake256, kbar, 32, z, 32, ct, CTBYTES) != 0 || /* 7 */
	    kpke_encrypt(&h, c2, ekpke, m, kr + 32) != 0)	/* line 8 */
		goto out;
	/* lines 9-11: compare all bytes, select by mask */
	for (i = 0; i < CTBYTES; i++)
		diff |= (uint8_t)(ct[i] ^ c2[i]);
	/* mask = 0xff iff diff != 0, without a branch */
	mask = (uint8_t)(-(int)((((unsigned int)diff) + 0xff) >> 8));
	for (i = 0; i < 32; i++)
		ss[i] = (uint8_t)(kr[i] ^ (mask & (kr[i] ^ kbar[i])));
	rc = 0;
out:
	sodium_memzero(m, sizeof(m));
	sodium_memzero(kr, sizeof(kr));
	sodium_memzero(kbar, sizeof(kbar));
	sodium_memzero(c2, sizeof(c2));
	hash_free(&h);
	return rc;
}

/* ---- MLKEM768-X25519 (draft-ietf-hpke-pq, age-format.md §4.3) -------- */

static const uint8_t xwing_label[6] = { 0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c };

int
sotto_xwing_expand(struct sotto_xwing_key *k,
    const uint8_t seed[SOTTO_XWING_SEEDBYTES])
{
	struct hash h;
	uint8_t x[96];
	int rc = -1;

	if (hash_init(&h) != 0)
		return -1;
	if (hash2(&h, h.shake256, x, 96, seed, 32, NULL, 0) != 0)
		goto out;
	hash_free(&h);
	h.ctx = NULL;
	if (sotto_mlkem768_keygen_internal(k->pk, k->dk, x, x + 32) != 0)
		goto out;
	memcpy(k->sk_t, x + 64, 32);
	crypto_scalarmult_base(k->pk + EKBYTES, k->sk_t);
	rc = 0;
out:
	sodium_memzero(x, sizeof(x));
	if (h.ctx != NULL)
		hash_free(&h);
	return rc;
}

/* ss = SHA3-256(ss_PQ || ss_T || ct_T || pk_T || label) */
static int
xwing_combine(uint8_t ss[32], const uint8_t ss_pq[32], const uint8_t ss_t[32],
    const uint8_t ct_t[32], const uint8_t pk_t[32])
{
	uint8_t in[32 * 4 + 6];
	unsigned int len;
	int ok;

	memcpy(in, ss_pq, 32);
	memcpy(in + 32, ss_t, 32);
	memcpy(in + 64, ct_t, 32);
	memcpy(in + 96, pk_t, 32);
	memcpy(in + 128, xwing_label, 6);
	ok = EVP_Digest(in, sizeof(in), ss, &len, EVP_sha3_256(), NULL);
	sodium_memzero(in, sizeof(in));
	return ok == 1 ? 0 : -1;
}

int
sotto_xwing_encap_derand(uint8_t ss[SOTTO_XWING_SSBYTES],
    uint8_t enc[SOTTO_XWING_ENCBYTES], const uint8_t pk[SOTTO_XWING_PKBYTES],
    const uint8_t ikm[64])
{
	uint8_t ss_pq[32], ss_t[32];
	const uint8_t *pk_t = pk + EKBYTES;
	int rc = -1, x;

	if (sotto_mlkem768_encaps_internal(ss_pq, enc, pk, ikm) != 0)
		return -1;
	crypto_scalarmult_base(enc + CTBYTES, ikm + 32);
	x = crypto_scalarmult(ss_t, ikm + 32, pk_t);
	DECLASSIFY(&x, sizeof(x));
	if (x != 0)
		goto out;
	rc = xwing_combine(ss, ss_pq, ss_t, enc + CTBYTES, pk_t);
out:
	sodium_memzero(ss_pq, sizeof(ss_pq));
	sodium_memzero(ss_t, sizeof(ss_t));
	return rc;
}

int
sotto_xwing_encap(uint8_t ss[SOTTO_XWING_SSBYTES],
    uint8_t enc[SOTTO_XWING_ENCBYTES], const uint8_t pk[SOTTO_XWING_PKBYTES])
{
	uint8_t ikm[64];
	int rc;

	randombytes_buf(ikm, sizeof(ikm));
	rc = sotto_xwing_encap_derand(ss, enc, pk, ikm);
	sodium_memzero(ikm, sizeof(ikm));
	return rc;
}

int
sotto_xwing_decap(uint8_t ss[SOTTO_XWING_SSBYTES],
    const uint8_t enc[SOTTO_XWING_ENCBYTES], const struct sotto_xwing_key *k)
{
	uint8_t ss_pq[32], ss_t[32];
	int rc = -1, x;

	if (sotto_mlkem768_decaps(ss_pq, enc, k->dk) != 0)
		return -1;
	x = crypto_scalarmult(ss_t, k->sk_t, enc + CTBYTES);
	DECLASSIFY(&x, sizeof(x));	/* only "was it all zero" */
	if (x != 0)
		goto out;	/* all-zero X25519 output */
	rc = xwing_combine(ss, ss_pq, ss_t, enc + CTBYTES, k->pk + EKBYTES);
out:
	sodium_memzero(ss_pq, sizeof(ss_pq));
	sodium_memzero(ss_t, sizeof(ss_t));
	return rc;
}

/* ---- HPKE key schedule (RFC 9180 §5.1, base mode) -------------------- */

static const uint8_t suite_id[10] = {
	'H', 'P', 'K', 'E', 0x64, 0x7a, 0x00, 0x01, 0x00, 0x03
};

/* LabeledExtract(salt, label, ikm) = HMAC(salt, "HPKE-v1" || suite || ...) */
static void
labeled_extract(uint8_t prk[32], const uint8_t *salt, size_t saltlen,
    const char *label, const uint8_t *ikm, size_t ikmlen)
{
	crypto_auth_hmacsha256_state st;
	static const uint8_t none[1] = { 0 };

	/* libsodium declares the key non-null even when its length is 0 */
	crypto_auth_hmacsha256_init(&st, saltlen ? salt : none, saltlen);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)"HPKE-v1", 7);
	crypto_auth_hmacsha256_update(&st, suite_id, sizeof(suite_id));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)label,
	    strlen(label));
	crypto_auth_hmacsha256_update(&st, ikm, ikmlen);
	crypto_auth_hmacsha256_final(&st, prk);
	sodium_memzero(&st, sizeof(st));
}

/* LabeledExpand for L <= 32: a single HKDF-Expand block T(1). */
static void
labeled_expand(uint8_t *out, size_t len, const uint8_t prk[32],
    const char *label, const uint8_t *info, size_t infolen)
{
	crypto_auth_hmacsha256_state st;
	uint8_t l2[2] = { (uint8_t)(len >> 8), (uint8_t)len }, one = 1;
	uint8_t t[32];

	crypto_auth_hmacsha256_init(&st, prk, 32);
	crypto_auth_hmacsha256_update(&st, l2, 2);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)"HPKE-v1", 7);
	crypto_auth_hmacsha256_update(&st, suite_id, sizeof(suite_id));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)label,
	    strlen(label));
	crypto_auth_hmacsha256_update(&st, info, infolen);
	crypto_auth_hmacsha256_update(&st, &one, 1);
	crypto_auth_hmacsha256_final(&st, t);
	memcpy(out, t, len);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(t, sizeof(t));
}

int
sotto_xwing_hpke_schedule(uint8_t key[32], uint8_t base_nonce[12],
    const uint8_t ss[SOTTO_XWING_SSBYTES], const uint8_t *info,
    size_t infolen)
{
	uint8_t ctx[65], secret[32];

	ctx[0] = 0x00;	/* mode_base */
	labeled_extract(ctx + 1, NULL, 0, "psk_id_hash", NULL, 0);
	labeled_extract(ctx + 33, NULL, 0, "info_hash", info, infolen);
	labeled_extract(secret, ss, 32, "secret", NULL, 0);
	labeled_expand(key, 32, secret, "key", ctx, sizeof(ctx));
	labeled_expand(base_nonce, 12, secret, "base_nonce", ctx, sizeof(ctx));
	sodium_memzero(secret, sizeof(secret));
	return 0;
}
