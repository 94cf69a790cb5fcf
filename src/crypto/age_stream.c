/* SPDX-License-Identifier: ISC */
/*
 * The age STREAM payload (spec age-format.md §6): ChaCha20-Poly1305 over
 * 64 KiB chunks with an 11-byte big-endian counter and a last-chunk flag.
 * The header belongs to age_header.c.
 *
 * Chunks are independent (the nonce is the chunk number), so a payload is
 * sealed or opened on several threads: the calling thread reads chunks
 * into a ring of slots, worker threads
 * and the caller itself seal or open them, and the caller releases the
 * results strictly in order.  Decryption releases a chunk only once it and
 * every chunk before it authenticated, and stops at the first one that did
 * not, so the output is exactly what one thread would give: the same
 * bytes, and the same prefix on a failure.  Memory is the ring: at most
 * AGE_STREAM_SLOTS_MAX chunks.  No thread is started for a payload of
 * one chunk.
 *
 * Input is read(2) in whole chunks.  Mapping a regular file instead
 * (mmap, MADV_SEQUENTIAL, MADV_DONTNEED behind the oldest slot) cost the
 * same CPU time here (page faults instead of the copy: 256 MiB took
 * 0.114 s vs 0.115 s decrypting on 2 threads) and would turn a file
 * truncated meanwhile into SIGBUS; splice(2) cannot feed a transform.
 */
#include "crypto/age_internal.h"

#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/prim.h"

#define CT_CHUNK (SOTTO_AGE_CHUNK + 16)

static void
nonce_set(uint8_t nonce[12], uint64_t counter, bool last)
{
	int i;

	memset(nonce, 0, 12);
	for (i = 0; i < 8; i++)
		nonce[10 - i] = (uint8_t)(counter >> (8 * i));
	nonce[11] = last ? 1 : 0;
}

unsigned
age_stream_threads(unsigned want)
{
	cpu_set_t set;
	long n = 0;

	if (want == 0) {
		if (sched_getaffinity(0, sizeof(set), &set) == 0)
			n = CPU_COUNT(&set);
		if (n <= 0)
			n = sysconf(_SC_NPROCESSORS_ONLN);
		want = n > 0 ? (unsigned)n : 1;
	}
	return want > AGE_STREAM_THREADS_MAX ? AGE_STREAM_THREADS_MAX : want;
}

/* ---- the ring --------------------------------------------------------- */

enum slot_state {
	SLOT_FREE,	/* no chunk */
	SLOT_HELD,	/* filled, lastness not known yet (encrypt, read) */
	SLOT_READY,	/* published, waiting for a thread */
	SLOT_BUSY,	/* being sealed or opened */
	SLOT_DONE,	/* result ready for release */
};

struct slot {
	uint8_t *buf;		/* output (and the input when encrypting) */
	uint8_t *ct;		/* the input when decrypting (plain malloc) */
	const uint8_t *in;	/* input bytes: buf or ct */
	size_t n;		/* input bytes */
	size_t outn;		/* output bytes */
	uint64_t seq;		/* chunk number */
	bool last;		/* sealed/opened as the last chunk */
	enum slot_state state;	/* under par.mu */
	sotto_err err;		/* decrypt: why the chunk failed */
};

struct par {
	bool dec;			/* open, not seal */
	const uint8_t *key;		/* payload key (the caller's) */
	struct age_reader *r;		/* input */
	size_t nslots;			/* ring size */
	struct slot *slots;
	unsigned nthreads;		/* total, the caller included */
	pthread_t *tids;
	unsigned started;		/* worker threads running */
	pthread_mutex_t mu;
	pthread_cond_t work;		/* a slot was published, or stop */
	pthread_cond_t done;		/* a slot became DONE */
	uint64_t published;		/* slots below are READY or later */
	uint64_t claimed;		/* next slot a thread takes */
	bool stop;			/* workers exit */
	/* the caller's own state */
	struct sotto_chacha *c;		/* the caller's context */
	uint64_t filled, written;	/* ring positions */
	uint64_t ready;			/* filled slots that may be published */
	bool src_eof;			/* the input is exhausted */
};

static struct slot *
slot_at(struct par *p, uint64_t seq)
{
	return &p->slots[seq % p->nslots];
}

/* Seals or opens one chunk (any thread; no lock held). */
static void
process(struct par *p, struct sotto_chacha *c, struct slot *s)
{
	uint8_t nonce[12];

	s->err = SOTTO_OK;
	if (!p->dec) {
		nonce_set(nonce, s->seq, s->last);
		s->outn = s->n + 16;
		if (!sotto_chacha_seal(c, s->buf, nonce, s->in, s->n))
			s->err = SOTTO_E_CRYPTO;
		return;
	}
	s->last = s->n < CT_CHUNK;
	s->outn = s->n >= 16 ? s->n - 16 : 0;
	if (s->last && s->seq > 0 && s->n == 16) {
		s->err = SOTTO_E_AGE_PAYLOAD;	/* empty last chunk */
		return;
	}
	nonce_set(nonce, s->seq, s->last);
	if (sotto_chacha_open(c, s->buf, nonce, s->in, s->n))
		return;
	if (!s->last) {		/* a full chunk may be the last one */
		nonce_set(nonce, s->seq, true);
		if (sotto_chacha_open(c, s->buf, nonce, s->in, s->n)) {
			s->last = true;
			return;
		}
	}
	s->err = SOTTO_E_AGE_PAYLOAD;
}

static void *
worker(void *arg)
{
	struct par *p = arg;
	struct sotto_chacha *c = sotto_chacha_new(p->key);
	struct slot *s;

	pthread_mutex_lock(&p->mu);
	while (c != NULL && !p->stop) {
		if (p->claimed == p->published) {
			pthread_cond_wait(&p->work, &p->mu);
			continue;
		}
		s = slot_at(p, p->claimed++);
		s->state = SLOT_BUSY;
		pthread_mutex_unlock(&p->mu);
		process(p, c, s);
		pthread_mutex_lock(&p->mu);
		s->state = SLOT_DONE;
		pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	sotto_chacha_free(c);	/* NULL: the caller does the work */
	return NULL;
}

/* Starts the worker threads once a second chunk exists (best effort). */
static void
start_workers(struct par *p)
{
	pthread_attr_t attr;

	if (p->tids != NULL || p->nthreads < 2)
		return;
	p->tids = calloc(p->nthreads - 1, sizeof(*p->tids));
	if (p->tids == NULL || pthread_attr_init(&attr) != 0)
		return;
	(void)pthread_attr_setstacksize(&attr, 256u << 10);
	while (p->started < p->nthreads - 1 &&
	    pthread_create(&p->tids[p->started], &attr, worker, p) == 0)
		p->started++;
	pthread_attr_destroy(&attr);
}

/* Makes the slots [published, upto) claimable. */
static void
publish(struct par *p, uint64_t upto)
{
	uint64_t i;

	pthread_mutex_lock(&p->mu);
	for (i = p->published; i < upto; i++)
		slot_at(p, i)->state = SLOT_READY;
	p->published = upto;
	if (p->started > 0)
		pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	if (upto >= 2)
		start_workers(p);
}

/* ---- filling slots ---------------------------------------------------- */

/* Reads up to n bytes of input into dst; *got < n only at the end. */
static sotto_err
read_in(struct par *p, uint8_t *dst, size_t n, size_t *got,
    struct sotto_error *e)
{
	sotto_err err = age_reader_read(p->r, dst, n, got, e);

	if (err == SOTTO_OK && *got < n)
		p->src_eof = true;
	return err;
}

static sotto_err
slot_buffers(struct par *p, struct slot *s, struct sotto_error *e)
{
	if (s->buf == NULL && (s->buf = sodium_malloc(CT_CHUNK)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if (p->dec && s->ct == NULL &&
	    (s->ct = malloc(CT_CHUNK)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

/* Decryption: one ciphertext chunk into the next slot (none at EOF). */
static sotto_err
fill_dec(struct par *p, struct sotto_error *e)
{
	struct slot *s = slot_at(p, p->filled);
	size_t got;
	sotto_err err;

	if ((err = slot_buffers(p, s, e)) != SOTTO_OK)
		return err;
	if ((err = read_in(p, s->ct, CT_CHUNK, &got, e)) != SOTTO_OK)
		return err;
	s->in = s->ct;
	if (got == 0)
		return SOTTO_OK;
	s->n = got;
	s->seq = p->filled++;
	s->state = SLOT_HELD;
	p->ready = p->filled;
	return SOTTO_OK;
}

/*
 * Encryption: one plaintext chunk into the next slot.  A full chunk read
 * from a stream is held until the next read shows whether it is the last
 * one; an empty input is one empty last chunk.
 */
static sotto_err
fill_enc(struct par *p, struct sotto_error *e)
{
	struct slot *s = slot_at(p, p->filled), *held = NULL;
	size_t got;
	sotto_err err;

	if (p->filled > p->ready)
		held = slot_at(p, p->filled - 1);
	if ((err = slot_buffers(p, s, e)) != SOTTO_OK)
		return err;
	if ((err = read_in(p, s->buf, SOTTO_AGE_CHUNK, &got, e)) != SOTTO_OK)
		return err;
	s->in = s->buf;	/* sealed in place */
	if (got == 0 && held != NULL) {		/* the held one was last */
		held->last = true;
		p->ready = p->filled;
		return SOTTO_OK;
	}
	s->n = got;
	s->seq = p->filled++;
	s->last = p->src_eof;
	s->state = SLOT_HELD;
	/* a full chunk from a stream waits for the next read */
	p->ready = got == SOTTO_AGE_CHUNK && !p->src_eof ? p->filled - 1 :
	    p->filled;
	return SOTTO_OK;
}

/* ---- the caller's loop ------------------------------------------------ */

static bool
head_done(struct par *p)
{
	bool done;

	if (p->written >= p->published)
		return false;
	pthread_mutex_lock(&p->mu);
	done = slot_at(p, p->written)->state == SLOT_DONE;
	pthread_mutex_unlock(&p->mu);
	return done;
}

/* Waits until the head slot is done, helping with a chunk meanwhile. */
static void
await_head(struct par *p)
{
	struct slot *head = slot_at(p, p->written), *s;

	pthread_mutex_lock(&p->mu);
	while (head->state != SLOT_DONE) {
		if (p->claimed < p->published) {
			s = slot_at(p, p->claimed++);
			s->state = SLOT_BUSY;
			pthread_mutex_unlock(&p->mu);
			process(p, p->c, s);
			pthread_mutex_lock(&p->mu);
			s->state = SLOT_DONE;
			continue;
		}
		pthread_cond_wait(&p->done, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
}

static sotto_err
chunk_error(const struct slot *s, struct sotto_error *e)
{
	if (s->err == SOTTO_E_CRYPTO)
		return sotto_error_set(e, SOTTO_E_CRYPTO,
		    "chunk encryption failed");
	if (s->last && s->seq > 0 && s->n == 16)
		return sotto_error_set(e, SOTTO_E_AGE_PAYLOAD,
		    "payload failure: last chunk is empty");
	return sotto_error_set(e, SOTTO_E_AGE_PAYLOAD, "payload failure: "
	    "chunk %llu failed to authenticate (%s)",
	    (unsigned long long)s->seq, s->n < CT_CHUNK ?
	    "truncated or tampered" : "tampered");
}

/*
 * Releases the head slot.  *end is set after the last chunk, once the
 * input is known to end there (decryption: trailing data is an error).
 */
static sotto_err
release(struct par *p, sotto_age_write_fn sink, void *sinkctx, bool *end,
    struct sotto_error *e)
{
	struct slot *s = slot_at(p, p->written);
	sotto_err err;

	if (s->err != SOTTO_OK)
		return chunk_error(s, e);
	if ((err = sink(sinkctx, s->buf, s->outn, e)) != SOTTO_OK)
		return err;
	p->written++;
	s->state = SLOT_FREE;
	if (!s->last)
		return SOTTO_OK;
	*end = true;
	if (!p->dec)
		return SOTTO_OK;
	if (p->filled == p->written && !p->src_eof &&
	    (err = fill_dec(p, e)) != SOTTO_OK)
		return err;
	publish(p, p->ready);
	if (p->filled > p->written)
		return sotto_error_set(e, SOTTO_E_AGE_PAYLOAD,
		    "payload failure: trailing data after the final chunk");
	return SOTTO_OK;
}

static sotto_err
run(struct par *p, sotto_age_write_fn sink, void *sinkctx,
    struct sotto_error *e)
{
	bool end = false;
	sotto_err err;

	for (;;) {
		while (!p->src_eof && p->filled < p->written + p->nslots) {
			err = p->dec ? fill_dec(p, e) : fill_enc(p, e);
			if (err != SOTTO_OK)
				return err;
			if (p->nthreads == 1 || p->filled == 1)
				break;	/* one chunk at a time */
		}
		if (p->ready > p->published)
			publish(p, p->ready);
		if (p->written == p->published) {
			if (p->src_eof && p->dec)
				return sotto_error_set(e, SOTTO_E_AGE_PAYLOAD,
				    "payload truncated: missing final chunk");
			if (p->src_eof && p->filled == p->written)
				return sotto_error_set(e, SOTTO_E_INTERNAL,
				    "STREAM ended without a last chunk");
			continue;	/* a held chunk: read on */
		}
		await_head(p);
		do {
			if ((err = release(p, sink, sinkctx, &end, e)))
				return err;
			if (end)
				return SOTTO_OK;
		} while (head_done(p));
	}
}

static void
par_free(struct par *p)
{
	size_t i;

	if (p->started > 0) {
		pthread_mutex_lock(&p->mu);
		p->stop = true;
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->mu);
		for (i = 0; i < p->started; i++)
			pthread_join(p->tids[i], NULL);
	}
	free(p->tids);
	for (i = 0; p->slots != NULL && i < p->nslots; i++) {
		if (p->slots[i].buf != NULL)
			sodium_free(p->slots[i].buf);	/* wipes */
		free(p->slots[i].ct);
	}
	free(p->slots);
	sotto_chacha_free(p->c);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
}

static sotto_err
par_run(struct age_reader *r, bool dec, const uint8_t key[32],
    unsigned threads, sotto_age_write_fn sink, void *sinkctx,
    struct sotto_error *e)
{
	struct par p;
	sotto_err err;

	memset(&p, 0, sizeof(p));
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.work, NULL);
	pthread_cond_init(&p.done, NULL);
	p.dec = dec;
	p.r = r;
	p.nthreads = threads == 0 ? 1 : threads;
	p.nslots = p.nthreads * 4;
	if (p.nslots < 4)
		p.nslots = 4;
	if (p.nslots > AGE_STREAM_SLOTS_MAX)
		p.nslots = AGE_STREAM_SLOTS_MAX;
	p.key = key;
	p.slots = calloc(p.nslots, sizeof(*p.slots));
	if (p.slots == NULL || (p.c = sotto_chacha_new(key)) == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	err = run(&p, sink, sinkctx, e);
out:
	par_free(&p);
	return err;
}

sotto_err
age_stream_decrypt(struct age_reader *r, const uint8_t key[32],
    unsigned threads, sotto_age_write_fn sink, void *sinkctx,
    struct sotto_error *e)
{
	return par_run(r, true, key, threads, sink, sinkctx, e);
}

sotto_err
age_stream_encrypt(struct age_reader *r, const uint8_t key[32],
    unsigned threads, sotto_age_write_fn sink, void *sinkctx,
    struct sotto_error *e)
{
	return par_run(r, false, key, threads, sink, sinkctx, e);
}

/* ---- one chunk at a time (the push writer, sops data keys) ------------ */

struct age_stream_enc {
	struct sotto_chacha *c;	/* keyed with the payload key */
	uint64_t counter;	/* next chunk number */
	bool done;		/* last chunk written */
};

struct age_stream_enc *
age_stream_enc_new(const uint8_t key[32])
{
	struct age_stream_enc *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->c = sotto_chacha_new(key);
	if (s->c == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

sotto_err
age_stream_enc_chunk(struct age_stream_enc *s, uint8_t *out,
    const uint8_t *in, size_t n, bool last, struct sotto_error *e)
{
	uint8_t nonce[12];

	if (s->done || n > SOTTO_AGE_CHUNK || (!last && n != SOTTO_AGE_CHUNK))
		return sotto_error_set(e, SOTTO_E_INTERNAL,
		    "STREAM misuse");
	nonce_set(nonce, s->counter, last);
	if (!sotto_chacha_seal(s->c, out, nonce, in, n))
		return sotto_error_set(e, SOTTO_E_CRYPTO,
		    "chunk encryption failed");
	s->counter++;
	s->done = last;
	return SOTTO_OK;
}

void
age_stream_enc_free(struct age_stream_enc *s)
{
	if (s == NULL)
		return;
	sotto_chacha_free(s->c);
	free(s);
}
