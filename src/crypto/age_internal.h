/* SPDX-License-Identifier: ISC */
/*
 * Internals shared by the age implementation files: the parsed header, and
 * the vtables through which each recipient/identity type (X25519, scrypt,
 * SSH, and later the post-quantum hybrid and plugins) plugs in.
 *
 *   age_header.c  header grammar (stanzas, MAC line), encode and parse
 *   age_stream.c  STREAM payload (64 KiB chunks), encrypt and decrypt
 *   armor.c       ASCII armor reader/writer
 *   age_x25519.c  X25519 recipients and identities
 *   age_scrypt.c  passphrase recipients and identities
 *   age_ssh.c     ssh-ed25519 / ssh-rsa recipients and identities
 *   age_pq.c      mlkem768x25519 hybrid recipients and identities
 *   age_plugin.c  age-plugin-NAME clients (recipient-v1, identity-v1)
 *   age.c         public API: parse, encrypt, decrypt, key files
 */
#ifndef SOTTO_AGE_INTERNAL_H
#define SOTTO_AGE_INTERNAL_H

#include "sotto/age.h"

#define AGE_VERSION_LINE "age-encryption.org/v1"
#define AGE_MAX_LINE 16384		/* longest header line we accept */
#define AGE_MAX_HEADER (4u << 20)	/* whole header cap */
#define AGE_MAX_STANZAS 4096

struct age_stanza {
	char *type;		/* first argument after "->" */
	char **args;		/* remaining arguments */
	size_t nargs;		/* count of args */
	uint8_t *body;		/* decoded body */
	size_t body_len;	/* bytes of body */
};

struct age_header {
	struct age_stanza *st;	/* stanzas in file order */
	size_t n;		/* count */
	uint8_t mac[32];	/* the header MAC as read */
	struct sotto_buf raw;	/* header bytes up to and including "---" */
};

void age_stanza_clear(struct age_stanza *s);
void age_header_clear(struct age_header *h);
/* Appends a new empty stanza with type; returns it or NULL. */
struct age_stanza *age_header_add(struct age_header *h, const char *type);
sotto_err age_stanza_add_arg(struct age_stanza *s, const char *arg);
sotto_err age_stanza_set_body(struct age_stanza *s, const uint8_t *p,
    size_t n);

/*
 * Unwrap outcome: SOTTO_OK (file_key set), SOTTO_E_AGE_NO_MATCH (not ours,
 * keep trying), anything else aborts decryption (header failure).
 */
struct age_identity_ops {
	const char *name;
	sotto_err (*unwrap)(const struct sotto_age_identity *id,
	    const struct age_header *h, uint8_t file_key[16],
	    struct sotto_error *e);
	/* may be NULL: no recipient form */
	sotto_err (*to_recipient)(struct sotto_age_recipient **out,
	    const struct sotto_age_identity *id, struct sotto_error *e);
	void (*free_priv)(void *priv);
	/* may be NULL: appends the secret-key string form (secret buffer) */
	sotto_err (*to_string)(struct sotto_buf *b,
	    const struct sotto_age_identity *id, struct sotto_error *e);
};

struct age_recipient_ops {
	const char *name;
	/* appends one or more stanzas wrapping file_key to h */
	sotto_err (*wrap)(const struct sotto_age_recipient *r,
	    const uint8_t file_key[16], struct age_header *h,
	    struct sotto_error *e);
	void (*free_priv)(void *priv);
	/*
	 * may be NULL (no labels): the stanza label set of the last wrap,
	 * sorted and space-separated ("postquantum").  All recipients of a
	 * file must have the same set (Go's wrapWithLabels).
	 */
	const char *(*labels)(const struct sotto_age_recipient *r);
};

struct sotto_age_identity {
	const struct age_identity_ops *ops;	/* type */
	void *priv;				/* type-specific, owned */
	bool native;				/* tried before plugins */
};

struct sotto_age_recipient {
	const struct age_recipient_ops *ops;	/* type */
	void *priv;				/* type-specific, owned */
	char *str;				/* string form (see age.h) */
	bool exclusive;				/* scrypt: must be alone */
};

/* Allocation helpers for the type files. */
struct sotto_age_identity *age_identity_new(const struct age_identity_ops *,
    void *priv);
struct sotto_age_recipient *age_recipient_new(const struct age_recipient_ops *,
    void *priv, const char *str);

/* Per-type constructors (age_x25519.c, age_scrypt.c, age_ssh.c). */
sotto_err age_x25519_recipient_from_bytes(struct sotto_age_recipient **out,
    const uint8_t pk[32], struct sotto_error *e);
sotto_err age_x25519_identity_from_bytes(struct sotto_age_identity **out,
    const uint8_t sk[32], struct sotto_error *e);
sotto_err age_x25519_identity_secret(const struct sotto_age_identity *id,
    const uint8_t **sk);
sotto_err age_ssh_recipient_parse(struct sotto_age_recipient **out,
    const char *line, struct sotto_error *e);
/*
 * Parses an SSH private key file (OpenSSH "BEGIN OPENSSH PRIVATE KEY", or
 * PEM PKCS#1/PKCS#8).  Encrypted keys call cb for a passphrase.
 */
sotto_err age_ssh_identity_parse(struct sotto_age_identity **out,
    const uint8_t *data, size_t len, const char *name, sotto_age_pass_cb cb,
    void *cbctx, struct sotto_error *e);
/*
 * As age_ssh_identity_parse, but an encrypted key asks for its passphrase
 * (through cb, which must outlive the identity) only when a stanza names
 * its public key; a PEM key needs NAME.pub beside it for that.
 */
sotto_err age_ssh_identity_parse_lazy(struct sotto_age_identity **out,
    const uint8_t *data, size_t len, const char *name, sotto_age_pass_cb cb,
    void *cbctx, struct sotto_error *e);
/* True if the recipient line is an SSH key type we do not support. */
bool age_ssh_unsupported_type(const char *line);

/* The hybrid type (age_pq.c): age1pq1... / AGE-SECRET-KEY-PQ-1... */
sotto_err age_pq_recipient_parse(struct sotto_age_recipient **out,
    const char *s, struct sotto_error *e);
sotto_err age_pq_recipient_from_bytes(struct sotto_age_recipient **out,
    const uint8_t pk[1216], struct sotto_error *e);
sotto_err age_pq_identity_parse(struct sotto_age_identity **out,
    const char *s, struct sotto_error *e);
sotto_err age_pq_identity_from_seed(struct sotto_age_identity **out,
    const uint8_t seed[32], struct sotto_error *e);
/*
 * Generates a fresh mlkem768x25519 identity (its string form comes from
 * sotto_age_identity_string).  Meant for sotto/age.h next to
 * sotto_age_identity_generate; declared here until that header moves.
 */
sotto_err sotto_age_identity_generate_pq(struct sotto_age_identity **out,
    struct sotto_error *e);

/*
 * Plugins (age_plugin.c).  s is age1NAME1... / AGE-PLUGIN-NAME-1...;
 * age_plugin_identity_new makes the data-less identity of `-j NAME`.
 * The plugin binary age-plugin-NAME is looked up in $PATH only when the
 * key is used.  Terminal interaction goes through sotto_age_plugin_ui.
 */
sotto_err age_plugin_recipient_parse(struct sotto_age_recipient **out,
    const char *s, struct sotto_error *e);
sotto_err age_plugin_identity_parse(struct sotto_age_identity **out,
    const char *s, struct sotto_error *e);
sotto_err age_plugin_identity_new(struct sotto_age_identity **out,
    const char *name, struct sotto_error *e);

/* Header grammar (age_header.c). */
struct age_reader;
sotto_err age_header_parse(struct age_header *h, struct age_reader *r,
    struct sotto_error *e);
sotto_err age_header_encode(struct sotto_buf *out, const struct age_header *h,
    const uint8_t file_key[16], struct sotto_error *e);
sotto_err age_header_mac(uint8_t mac[32], const uint8_t file_key[16],
    const uint8_t *raw, size_t n);

/* A buffered source with peek, line reads and armor awareness (age.c). */
struct age_reader {
	sotto_age_read_fn fn;	/* underlying source (raw or armor) */
	void *ctx;		/* its context */
	uint8_t *buf;		/* read-ahead buffer */
	size_t cap, off, len;	/* buffer size, consumed, filled */
	bool eof;		/* source returned EOF */
	sotto_err src_err;	/* error class of a source failure */
};
sotto_err age_reader_fill(struct age_reader *r, size_t want,
    struct sotto_error *e);
/* Reads one line (up to and including LF) into line; fails past max. */
sotto_err age_reader_line(struct age_reader *r, struct sotto_buf *line,
    size_t max, bool *eof, struct sotto_error *e);
sotto_err age_reader_read(struct age_reader *r, uint8_t *p, size_t n,
    size_t *got, struct sotto_error *e);

/* Armor (armor.c). */
struct age_armor_reader;
/*
 * The byte length of the whitespace character at p as Go's
 * bytes.TrimSpace sees it (ASCII and the UTF-8 Unicode spaces), or 0.
 */
size_t age_armor_space(const uint8_t *p, size_t n);
/*
 * Go's detection: after leading whitespace within the first 1024 + 34
 * bytes, does the BEGIN line start?  (The reader then decides.)
 */
bool age_armor_detect(const uint8_t *p, size_t n);
sotto_err age_armor_reader_new(struct age_armor_reader **out,
    sotto_age_read_fn src, void *srcctx, const uint8_t *pre, size_t prelen);
void age_armor_reader_free(struct age_armor_reader *a);
sotto_err age_armor_read(void *ctx, uint8_t *p, size_t n, size_t *got,
    struct sotto_error *e);
struct age_armor_writer;
struct age_armor_writer *age_armor_writer_new(sotto_age_write_fn sink,
    void *sinkctx);
sotto_err age_armor_write(void *ctx, const uint8_t *p, size_t n,
    struct sotto_error *e);
sotto_err age_armor_writer_finish(struct age_armor_writer *a,
    struct sotto_error *e);
void age_armor_writer_free(struct age_armor_writer *a);
#define AGE_ARMOR_BEGIN "-----BEGIN AGE ENCRYPTED FILE-----"
#define AGE_ARMOR_END "-----END AGE ENCRYPTED FILE-----"

/*
 * STREAM (age_stream.c).  The payload of r (after the header and nonce)
 * is opened or sealed on up to `threads` threads (the caller's included;
 * 1 = none started) and released to sink in order, one call at a time
 * but not necessarily on the caller's thread (sink and the reader must
 * not depend on the thread they run on).  Decryption releases
 * only authenticated chunks and stops at the first that is not; the
 * output bytes do not depend on threads.
 */
#define AGE_STREAM_THREADS_MAX 16	/* beyond this memory bandwidth wins */
#define AGE_STREAM_SLOTS_MAX 32		/* chunks in flight: 4 MiB at most */
/* threads for `want` (0: the CPUs this process may run on), capped. */
unsigned age_stream_threads(unsigned want);
sotto_err age_stream_decrypt(struct age_reader *r, const uint8_t key[32],
    unsigned threads, sotto_age_write_fn sink, void *sinkctx,
    struct sotto_error *e);
/* Encrypts everything r yields until its end. */
sotto_err age_stream_encrypt(struct age_reader *r, const uint8_t key[32],
    unsigned threads, sotto_age_write_fn sink, void *sinkctx,
    struct sotto_error *e);
struct age_stream_enc;
struct age_stream_enc *age_stream_enc_new(const uint8_t key[32]);
/* Encrypts chunk (<= 64 KiB) into out (chunk + 16 bytes). */
sotto_err age_stream_enc_chunk(struct age_stream_enc *s, uint8_t *out,
    const uint8_t *in, size_t n, bool last, struct sotto_error *e);
void age_stream_enc_free(struct age_stream_enc *s);

/* Strict base64 helpers for stanza args (unpadded). */
bool age_b64_arg(uint8_t *out, size_t want, const char *arg);

#endif
