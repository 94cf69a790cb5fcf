/* SPDX-License-Identifier: ISC */
/*
 * age (age-encryption.org/v1): recipients, identities, encryption and
 * decryption, streaming in constant memory.
 *
 * Native types: X25519 (age1... / AGE-SECRET-KEY-1...), scrypt
 * (passphrase), ssh-ed25519 and ssh-rsa (OpenSSH keys).  The post-quantum
 * hybrid type and plugins plug in through the same identity/recipient
 * vtables (src/crypto/age_internal.h) and are a separate issue.
 *
 * Error classes (the CCTV outcome names):
 *   SOTTO_E_AGE_HEADER   header failure
 *   SOTTO_E_AGE_ARMOR    armor failure
 *   SOTTO_E_AGE_NO_MATCH no match
 *   SOTTO_E_AGE_HMAC     HMAC failure
 *   SOTTO_E_AGE_PAYLOAD  payload failure
 * Key material lives in sodium_malloc'd memory and is wiped on free.
 */
#ifndef SOTTO_AGE_H
#define SOTTO_AGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sotto/buf.h"
#include "sotto/error.h"

#define SOTTO_AGE_FILEKEY_BYTES 16
#define SOTTO_AGE_CHUNK 65536
#define SOTTO_AGE_SCRYPT_DEFAULT_LOGN 18
#define SOTTO_AGE_SCRYPT_MAX_LOGN 22

struct sotto_age_identity;
struct sotto_age_recipient;

/* A list of identities or recipients; owns its elements. */
struct sotto_age_idlist {
	struct sotto_age_identity **v;	/* identities, tried in order */
	size_t n;			/* count */
};
struct sotto_age_reclist {
	struct sotto_age_recipient **v;	/* recipients */
	size_t n;			/* count */
};

void sotto_age_idlist_free(struct sotto_age_idlist *l);
void sotto_age_reclist_free(struct sotto_age_reclist *l);
/* Appends (takes ownership of id, freeing it on failure). */
sotto_err sotto_age_idlist_add(struct sotto_age_idlist *l,
    struct sotto_age_identity *id);
sotto_err sotto_age_reclist_add(struct sotto_age_reclist *l,
    struct sotto_age_recipient *r);

/*
 * Parses one recipient string: age1..., ssh-ed25519 AAAA..., ssh-rsa AAAA...
 * Returns a new recipient (free with sotto_age_recipient_free()).
 */
sotto_err sotto_age_recipient_parse(struct sotto_age_recipient **out,
    const char *s, struct sotto_error *e);
void sotto_age_recipient_free(struct sotto_age_recipient *r);
/*
 * The string form (age1..., "ssh-ed25519 AAAA... comment"); borrowed.  A
 * parsed SSH recipient keeps the text it was given, comment included (as
 * sops writes it to a file's metadata); one derived from an identity has
 * no comment.
 */
const char *sotto_age_recipient_string(const struct sotto_age_recipient *r);

/* Parses one AGE-SECRET-KEY-1... string (touches secret bytes). */
sotto_err sotto_age_identity_parse(struct sotto_age_identity **out,
    const char *s, struct sotto_error *e);
void sotto_age_identity_free(struct sotto_age_identity *id);

/*
 * Returns the recipient of a native identity (X25519, SSH), or
 * SOTTO_E_UNSUPPORTED for identity types without one (scrypt).
 */
sotto_err sotto_age_identity_to_recipient(struct sotto_age_recipient **out,
    const struct sotto_age_identity *id, struct sotto_error *e);

/* A passphrase identity (decrypt) trying work factors up to max_logn. */
sotto_err sotto_age_identity_scrypt(struct sotto_age_identity **out,
    const char *pass, size_t len, int max_logn, struct sotto_error *e);
/* A passphrase recipient (encrypt) with work factor logn. */
sotto_err sotto_age_recipient_scrypt(struct sotto_age_recipient **out,
    const char *pass, size_t len, int logn, struct sotto_error *e);

/* Generates a fresh X25519 identity. */
sotto_err sotto_age_identity_generate(struct sotto_age_identity **out,
    struct sotto_error *e);
/*
 * Writes the AGE-SECRET-KEY-1... form of an X25519 identity into a secret
 * buffer (b must be SOTTO_BUF_SECRET_INIT).
 */
sotto_err sotto_age_identity_string(struct sotto_buf *b,
    const struct sotto_age_identity *id, struct sotto_error *e);

/*
 * Parses an identity file's text: AGE-SECRET-KEY-1 lines with # comments
 * and empty lines, or a whole OpenSSH/PEM private key.  name is used in
 * messages ("'keys.txt' line 3: ...").  A passphrase-protected SSH key or a
 * passphrase-encrypted identity file calls pass_cb (may be NULL: then it is
 * a SOTTO_E_TTY error) to get the passphrase.  Appends to list.
 */
typedef sotto_err (*sotto_age_pass_cb)(void *ctx, const char *prompt,
    struct sotto_buf *pass, struct sotto_error *e);
sotto_err sotto_age_identities_parse(struct sotto_age_idlist *list,
    const uint8_t *data, size_t len, const char *name, sotto_age_pass_cb cb,
    void *cbctx, struct sotto_error *e);

/*
 * Only the identity types whose unwrap is sotto's own code: X25519
 * (AGE-SECRET-KEY-1...) and the ML-KEM-768 hybrid (AGE-SECRET-KEY-PQ-1...).
 * A plugin identity (AGE-PLUGIN-..., whose unwrap runs age-plugin-NAME from
 * PATH), an SSH or PEM private key, or a passphrase-encrypted identity file
 * is refused with SOTTO_E_UNSUPPORTED, the message naming the type, never
 * the key.  For keys read from a cluster Secret: the messages say
 * "in-cluster".
 */
#define SOTTO_AGE_IDS_NATIVE_ONLY 0x1u
/*
 * A passphrase-protected SSH key is unlocked on first use, as age does:
 * its public key (in an OpenSSH file, else read from NAME.pub, so name is
 * a path) is matched against the stanzas and the passphrase is asked only
 * when one names it; its recipient needs no passphrase.  A mismatched
 * NAME.pub is SOTTO_E_KEY_FORMAT "mismatched private and public SSH key"
 * then.  cb and cbctx must outlive the identities.
 */
#define SOTTO_AGE_IDS_LAZY 0x2u

/*
 * sotto_age_identities_parse with flags (SOTTO_AGE_IDS_*).  With
 * SOTTO_AGE_IDS_NATIVE_ONLY name may be NULL: messages then say
 * "line N: ..." without a file name.
 */
sotto_err sotto_age_identities_parse_flags(struct sotto_age_idlist *list,
    const uint8_t *data, size_t len, const char *name, unsigned flags,
    sotto_age_pass_cb cb, void *cbctx, struct sotto_error *e);

/*
 * Parses a recipients file (-R): one recipient per line, # comments, empty
 * lines.  Unsupported SSH key types are skipped with a warning written to
 * warn (may be NULL).  Appends to list.
 */
sotto_err sotto_age_recipients_parse(struct sotto_age_reclist *list,
    const uint8_t *data, size_t len, const char *name, struct sotto_buf *warn,
    struct sotto_error *e);

/* Byte sinks and sources for streaming. */
typedef sotto_err (*sotto_age_write_fn)(void *ctx, const uint8_t *p,
    size_t n, struct sotto_error *e);
/* Reads up to n bytes into p; *got = 0 means EOF. */
typedef sotto_err (*sotto_age_read_fn)(void *ctx, uint8_t *p, size_t n,
    size_t *got, struct sotto_error *e);

/*
 * Streaming encryption.  begin writes the header (armored if armor) to the
 * sink; update buffers and emits full chunks; finish writes the last chunk
 * (and the armor footer).  scrypt recipients must be alone.
 */
struct sotto_age_writer;
sotto_err sotto_age_writer_new(struct sotto_age_writer **out,
    struct sotto_age_recipient *const *rec, size_t nrec, bool armor,
    sotto_age_write_fn sink, void *sinkctx, struct sotto_error *e);
sotto_err sotto_age_writer_update(struct sotto_age_writer *w,
    const uint8_t *p, size_t n, struct sotto_error *e);
sotto_err sotto_age_writer_finish(struct sotto_age_writer *w,
    struct sotto_error *e);
void sotto_age_writer_free(struct sotto_age_writer *w);

/*
 * Streaming decryption: detects armor, parses the header, unwraps the file
 * key with the identities (in order), verifies the header MAC and releases
 * each 64 KiB chunk to sink as soon as it authenticates.
 */
sotto_err sotto_age_decrypt(sotto_age_read_fn src, void *srcctx,
    struct sotto_age_identity *const *ids, size_t nids,
    sotto_age_write_fn sink, void *sinkctx, struct sotto_error *e);

/* What kind of header a file has (for the CLI's passphrase logic). */
enum sotto_age_kind {
	SOTTO_AGE_KIND_RECIPIENTS,	/* ordinary recipient stanzas */
	SOTTO_AGE_KIND_SCRYPT,		/* a single scrypt stanza */
};

/*
 * Decryption with a callback that sees the header before identities are
 * tried: get_ids is called once with the header kind and must return the
 * identities to use (borrowed until sotto_age_decrypt2 returns).
 */
typedef sotto_err (*sotto_age_ids_cb)(void *ctx, enum sotto_age_kind kind,
    struct sotto_age_identity *const **ids, size_t *nids,
    struct sotto_error *e);
sotto_err sotto_age_decrypt2(sotto_age_read_fn src, void *srcctx,
    sotto_age_ids_cb get_ids, void *idsctx, sotto_age_write_fn sink,
    void *sinkctx, struct sotto_error *e);

/*
 * Where the streaming calls below read and write, and on how many threads.
 * The payload's 64 KiB chunks are sealed or opened in parallel and
 * released to sink strictly in order; the output bytes, and on a failure
 * the authenticated prefix released before it, are the same whatever the
 * thread count.  Memory stays bounded: at most 32 chunks in flight.
 */
struct sotto_age_io {
	sotto_age_read_fn src;	/* input; NULL: read(2) from fd */
	void *srcctx;		/* its context */
	int fd;			/* the input's descriptor, or -1 */
	sotto_age_write_fn sink; /* output */
	void *sinkctx;		/* its context */
	unsigned threads;	/* 0: one per CPU we may run on (at most
				 * 16); 1: the calling thread only */
};

/*
 * Encrypts everything io yields to rec (armored if armor).  A payload of
 * one chunk never starts a thread.
 */
sotto_err sotto_age_encrypt_io(const struct sotto_age_io *io,
    struct sotto_age_recipient *const *rec, size_t nrec, bool armor,
    struct sotto_error *e);
/* sotto_age_decrypt2 over io, with its threads and input mapping. */
sotto_err sotto_age_decrypt_io(const struct sotto_age_io *io,
    sotto_age_ids_cb get_ids, void *idsctx, struct sotto_error *e);

/* In-memory helpers (sops data keys).  out is appended to. */
sotto_err sotto_age_encrypt_mem(struct sotto_buf *out, const uint8_t *p,
    size_t n, struct sotto_age_recipient *const *rec, size_t nrec,
    bool armor, struct sotto_error *e);
sotto_err sotto_age_decrypt_mem(struct sotto_buf *out, const uint8_t *p,
    size_t n, struct sotto_age_identity *const *ids, size_t nids,
    struct sotto_error *e);

#endif
