/* SPDX-License-Identifier: ISC */
/*
 * The age STREAM payload (spec age-format.md §6): ChaCha20-Poly1305 over
 * 64 KiB chunks with an 11-byte big-endian counter and a last-chunk flag.
 * The header belongs to age_header.c.
 *
 * Chunks are independent (the nonce is the chunk number), so a payload is
 * sealed or opened on several threads.  Worker threads take turns reading
 * the input (READ_BATCH chunks at a time, into a ring of slots) and then
 * seal or open what they read, so the copy out of the page cache or pipe
 * is shared too; the calling thread releases results strictly in order,
 * sleeping until half the ring is done.  (Having it work too, with one
 * thread fewer, was 5% slower on a busy 2-core machine.)  Decryption
 * releases a chunk only once it and every chunk before it authenticated,
 * and stops at the first one that did not, so the output is exactly what
 * one thread gives: the same bytes, and the same prefix on a failure.
 * Memory is the ring: at most AGE_STREAM_SLOTS_MAX chunks in and out.  The
 * first chunk is read and processed by the caller, so a payload of one
 * chunk (a full one too: decryption then reads one byte ahead) starts no
 * thread.
 * Encryption reads one byte past the last full chunk of each batch to
 * know whether it ends the input.
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
#define READ_BATCH 4	/* chunks a thread reads before working */
#define BUF_BYTES (CT_CHUNK + 4096 - CT_CHUNK % 4096)	/* 17 pages */

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

struct slot {
	uint8_t *in;		/* input chunk (guarded: plaintext when
				 * encrypting), room for one byte more */
	uint8_t *out;		/* output chunk (guarded) */
	size_t n;		/* input bytes */
	size_t outn;		/* output bytes */
	uint64_t seq;		/* chunk number */
	bool last;		/* sealed/opened as the last chunk */
	bool done;		/* result ready (under par.mu) */
	sotto_err err;		/* why the chunk failed */
};

struct par {
	bool dec;			/* open, not seal */
	const uint8_t *key;		/* payload key (the caller's) */
	struct age_reader *r;		/* input, read by one thread at a time */
	size_t nslots;			/* ring size */
	struct slot *slots;
	unsigned nthreads;		/* total, the caller included */
	pthread_t *tids;
	unsigned started;		/* worker threads running */
	pthread_mutex_t mu;
	pthread_cond_t work;		/* ring space, or stop */
	pthread_cond_t done;		/* a chunk was read or finished */
	bool stop;			/* workers exit */
	bool reading;			/* a thread holds the input */
	bool main_waits;		/* the caller sleeps on done ... */
	uint64_t wake_seq;		/* ... until this chunk is done */
	uint64_t filled;		/* chunks read (slots [written, filled)) */
	uint64_t written;		/* chunks released */
	bool src_eof;			/* the input is exhausted */
	sotto_err src_err;		/* a read failed (src_e says how) */
	struct sotto_error src_e;
	bool carry;			/* a byte read ahead (peek_last) */
	uint8_t carry_byte;
	struct sotto_chacha *c;		/* the caller's context */
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
		if (!sotto_chacha_seal(c, s->out, nonce, s->in, s->n))
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
	if (sotto_chacha_open(c, s->out, nonce, s->in, s->n))
		return;
	if (!s->last) {		/* a full chunk may be the last one */
		nonce_set(nonce, s->seq, true);
		if (sotto_chacha_open(c, s->out, nonce, s->in, s->n)) {
			s->last = true;
			return;
		}
	}
	s->err = SOTTO_E_AGE_PAYLOAD;
}

/*
 * Reads the next chunk into s (the caller holds the input), after the
 * byte peek_last carried; an empty input to encrypt is one empty last
 * chunk.  Returns false at the end of
 * the input (nothing read) or on a read error.
 */
static bool
read_chunk(struct par *p, struct slot *s, bool *eof, sotto_err *err,
    struct sotto_error *e)
{
	size_t want = p->dec ? CT_CHUNK : SOTTO_AGE_CHUNK, have = 0, got;

	if (p->carry) {
		s->in[have++] = p->carry_byte;
		p->carry = false;
	}
	*err = age_reader_read(p->r, s->in + have, want - have, &got, e);
	if (*err != SOTTO_OK) {
		*eof = true;
		return false;
	}
	have += got;
	s->n = have;
	if (have < want)
		*eof = true;
	s->last = *eof;
	return have > 0 || (!p->dec && s->seq == 0);
}

/*
 * Is the full chunk s the last one?  Reads one byte ahead
 * (carried into the next chunk, whose read then ends on a chunk boundary
 * again).
 */
static void
peek_last(struct par *p, struct slot *s, bool *eof, sotto_err *err,
    struct sotto_error *e)
{
	size_t got;

	*err = age_reader_read(p->r, &p->carry_byte, 1, &got, e);
	if (*err != SOTTO_OK || got == 0) {
		*eof = true;
		s->last = *err == SOTTO_OK;
		return;
	}
	p->carry = true;
}

static sotto_err
slot_buffers(struct slot *s, struct sotto_error *e)
{
	/* whole pages, so that the buffers start on a page boundary */
	if (s->in == NULL && (s->in = sodium_malloc(BUF_BYTES)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if (s->out == NULL && (s->out = sodium_malloc(BUF_BYTES)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

/* Wakes the caller if it waits for what just happened (p->mu held). */
static void
wake_main(struct par *p, bool ended)
{
	if (p->main_waits && (ended || (p->wake_seq < p->filled &&
	    slot_at(p, p->wake_seq)->done))) {
		p->main_waits = false;
		pthread_cond_signal(&p->done);
	}
}

static bool can_read(const struct par *p);

/*
 * Takes the input (the caller holds p->mu), reads up to max chunks (at
 * most READ_BATCH) into the next slots and processes those: reading is
 * one thread at a time, sealing and opening are not.  Returns with p->mu
 * held.
 */
static void
read_and_process(struct par *p, struct sotto_chacha *c, size_t max)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct slot *got[READ_BATCH];
	size_t n = 0, i;
	uint64_t seq = p->filled;

	p->reading = true;
	while (n < max && !p->src_eof &&
	    seq < p->written + p->nslots) {
		struct slot *s = slot_at(p, seq);
		/* a stale bound only makes the peek below early: harmless */
		uint64_t limit = p->written + p->nslots;
		sotto_err err = SOTTO_OK;
		bool eof = false;

		pthread_mutex_unlock(&p->mu);
		s->seq = seq;
		s->done = false;
		if ((err = slot_buffers(s, &e)) != SOTTO_OK) {
			eof = true;
		} else if (read_chunk(p, s, &eof, &err, &e)) {
			got[n++] = s;
			seq++;
		} else if (!p->dec && n > 0 && err == SOTTO_OK) {
			got[n - 1]->last = true;  /* the full one before */
		}
		/*
		 * The batch's last full chunk: one byte tells if it ends.
		 * Decryption peeks after the first chunk only, so that a
		 * payload of one full chunk starts no thread either.
		 */
		if (!eof && n > 0 && (p->dec ? seq == 1 : (n == max ||
		    seq >= limit || p->nthreads == 1)))
			peek_last(p, got[n - 1], &eof, &err, &e);
		pthread_mutex_lock(&p->mu);
		if (err != SOTTO_OK) {
			p->src_err = err;
			p->src_e = e;
		}
		p->src_eof = eof;
		p->filled = seq;
		if (p->nthreads == 1)
			break;
	}
	p->reading = false;
	if (p->src_eof)
		wake_main(p, true);
	if (can_read(p) && p->started > 0)
		pthread_cond_signal(&p->work);	/* the next reads */
	if (n == 0)
		return;
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < n; i++)
		process(p, c, got[i]);
	pthread_mutex_lock(&p->mu);
	for (i = 0; i < n; i++)
		got[i]->done = true;
	wake_main(p, false);
}

/* Can a thread read the next chunk?  (p->mu held) */
static bool
can_read(const struct par *p)
{
	return !p->reading && !p->src_eof && !p->stop &&
	    p->filled < p->written + p->nslots;
}

static void *
worker(void *arg)
{
	struct par *p = arg;
	struct sotto_chacha *c = sotto_chacha_new(p->key);

	pthread_mutex_lock(&p->mu);
	while (c != NULL && !p->stop) {
		if (can_read(p))
			read_and_process(p, c, READ_BATCH);
		else
			pthread_cond_wait(&p->work, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	sotto_chacha_free(c);	/* NULL: the others do the work */
	return NULL;
}

/* Starts the worker threads (best effort: fewer is slower, not wrong). */
static void
start_workers(struct par *p)
{
	pthread_attr_t attr;

	if (p->nthreads < 2)
		return;
	p->tids = calloc(p->nthreads, sizeof(*p->tids));
	if (p->tids == NULL || pthread_attr_init(&attr) != 0)
		return;
	(void)pthread_attr_setstacksize(&attr, 256u << 10);
	pthread_mutex_lock(&p->mu);
	while (p->started < p->nthreads &&
	    pthread_create(&p->tids[p->started], &attr, worker, p) == 0)
		p->started++;
	pthread_mutex_unlock(&p->mu);
	pthread_attr_destroy(&attr);
}

/* ---- the caller: releasing in order ----------------------------------- */

static sotto_err
chunk_error(const struct slot *s, struct sotto_error *e)
{
	if (s->err == SOTTO_E_CRYPTO)
		return sotto_error_set(e, SOTTO_E_CRYPTO,
		    "chunk encryption failed");
	if (s->err == SOTTO_E_NOMEM)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if (s->last && s->seq > 0 && s->n == 16)
		return sotto_error_set(e, SOTTO_E_AGE_PAYLOAD,
		    "payload failure: last chunk is empty");
	return sotto_error_set(e, SOTTO_E_AGE_PAYLOAD, "payload failure: "
	    "chunk %llu failed to authenticate (%s)",
	    (unsigned long long)s->seq, s->n < CT_CHUNK ?
	    "truncated or tampered" : "tampered");
}

/*
 * Waits (p->mu held) until the head chunk is done, or the input ended
 * before it; the caller reads and works too while it waits, so that one
 * thread alone also gets there.  Returns the head slot or NULL at the end
 * of the input.
 */
static struct slot *
await_head(struct par *p)
{

	for (;;) {
		if (p->written < p->filled && slot_at(p, p->written)->done)
			return slot_at(p, p->written);
		if (p->written == p->filled && p->src_eof && !p->reading)
			return NULL;
		if (p->started == 0) {	/* alone: do the work */
			if (can_read(p))
				read_and_process(p, p->c, READ_BATCH);
			continue;
		}
		/* sleep until half the ring is done, not chunk by chunk */
		p->wake_seq = p->written + p->nslots / 2 - 1;
		if (p->src_eof && p->wake_seq >= p->filled)
			p->wake_seq = p->filled - 1;	/* the rest */
		p->main_waits = true;
		pthread_cond_wait(&p->done, &p->mu);
		p->main_waits = false;
	}
}

/* Releases the head slot; *end after the last chunk (p->mu held). */
static sotto_err
release(struct par *p, struct slot *s, sotto_age_write_fn sink,
    void *sinkctx, bool *end, struct sotto_error *e)
{
	sotto_err err;

	if (s->err != SOTTO_OK)
		return chunk_error(s, e);
	pthread_mutex_unlock(&p->mu);
	err = sink(sinkctx, s->out, s->outn, e);
	pthread_mutex_lock(&p->mu);
	if (err != SOTTO_OK)
		return err;
	p->written++;
	if (p->started > 0 && can_read(p))
		pthread_cond_signal(&p->work);	/* a slot is free */
	*end = s->last;
	if (!s->last || !p->dec)
		return SOTTO_OK;
	/* decryption: the last chunk must end the input */
	while (p->filled == p->written && !p->src_eof) {
		if (can_read(p)) {
			read_and_process(p, p->c, READ_BATCH);
			continue;
		}
		p->wake_seq = p->written;
		p->main_waits = true;
		pthread_cond_wait(&p->done, &p->mu);
		p->main_waits = false;
	}
	if (p->filled > p->written)
		return sotto_error_set(e, SOTTO_E_AGE_PAYLOAD,
		    "payload failure: trailing data after the final chunk");
	if (p->src_err != SOTTO_OK) {
		*e = p->src_e;
		return p->src_err;
	}
	return SOTTO_OK;
}

static sotto_err
run(struct par *p, sotto_age_write_fn sink, void *sinkctx,
    struct sotto_error *e)
{
	struct slot *s;
	bool end = false;
	sotto_err err = SOTTO_OK;

	pthread_mutex_lock(&p->mu);
	/* the first chunk on this thread: a small input starts no thread */
	if (can_read(p))
		read_and_process(p, p->c, 1);
	if (!p->src_eof) {
		pthread_mutex_unlock(&p->mu);
		start_workers(p);
		pthread_mutex_lock(&p->mu);
	}
	while (!end) {
		if ((s = await_head(p)) == NULL) {
			if (p->src_err != SOTTO_OK) {
				*e = p->src_e;
				err = p->src_err;
			} else if (p->dec) {
				err = sotto_error_set(e, SOTTO_E_AGE_PAYLOAD,
				    "payload truncated: missing final chunk");
			} else {
				err = sotto_error_set(e, SOTTO_E_INTERNAL,
				    "STREAM ended without a last chunk");
			}
			break;
		}
		if ((err = release(p, s, sink, sinkctx, &end, e)))
			break;
	}
	pthread_mutex_unlock(&p->mu);
	return err;
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
		if (p->slots[i].in != NULL)
			sodium_free(p->slots[i].in);	/* wipes */
		if (p->slots[i].out != NULL)
			sodium_free(p->slots[i].out);
	}
	free(p->slots);
	sotto_chacha_free(p->c);
	sodium_memzero(&p->carry_byte, 1);
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
	p.key = key;
	p.nthreads = threads == 0 ? 1 : threads;
	p.nslots = p.nthreads * 16;
	if (p.nslots > AGE_STREAM_SLOTS_MAX)
		p.nslots = AGE_STREAM_SLOTS_MAX;
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
