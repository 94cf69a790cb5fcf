/* SPDX-License-Identifier: ISC */
/*
 * GPGME, loaded with dlopen() the first time a pgp key is used (see
 * sotto/gpg.h).  We declare the few GPGME types and functions we call
 * ourselves (opaque handles, ABI-stable since GPGME 1.0), so neither
 * the build nor the binary depends on libgpgme: only the commands that
 * meet a pgp key need the Debian package libgpgme11 (and gnupg).
 *
 * The decrypted data key is written by GPGME through our own callback
 * into a wiped buffer; GPGME's memory data objects, which realloc and do
 * not wipe, never hold it.
 */
#include "sotto/gpg.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* ---- the GPGME ABI we use (gpgme.h, 1.x) ------------------------------ */

typedef unsigned int gpgme_error_t;
typedef struct gpgme_context *gpgme_ctx_t;
typedef struct gpgme_data *gpgme_data_t;
typedef struct _gpgme_key *gpgme_key_t;

#define GPGME_PROTOCOL_OpenPGP	0
#define GPGME_ENCRYPT_ALWAYS_TRUST 1
#define GPGME_ENCRYPT_NO_ENCRYPT_TO 2
#define GPG_ERR_CODE(e)		((e) & 0xffffu)
#define GPG_ERR_NO_PUBKEY	9
#define GPG_ERR_NO_SECKEY	17
#define GPG_ERR_UNUSABLE_PUBKEY	53
#define GPG_ERR_INV_VALUE	55
#define GPG_ERR_NO_DATA		58
#define GPG_ERR_AMBIGUOUS_NAME	107
#define GPG_ERR_INV_ENGINE	150
#define GPG_ERR_DECRYPT_FAILED	152
#define GPG_ERR_EOF		16383

/* struct _gpgme_engine_info: the fields up to the one we read */
struct gpgme_engine_info {
	struct gpgme_engine_info *next;
	int protocol;
	char *file_name;
	char *version;		/* NULL when the engine cannot run */
};

struct gpgme_data_cbs {
	ssize_t (*read)(void *handle, void *buf, size_t n);
	ssize_t (*write)(void *handle, const void *buf, size_t n);
	off_t (*seek)(void *handle, off_t off, int whence);
	void (*release)(void *handle);
};

#define GPGME_FUNCS(X) \
	X(gpgme_check_version, const char *, (const char *)) \
	X(gpgme_new, gpgme_error_t, (gpgme_ctx_t *)) \
	X(gpgme_release, void, (gpgme_ctx_t)) \
	X(gpgme_set_protocol, gpgme_error_t, (gpgme_ctx_t, int)) \
	X(gpgme_set_armor, void, (gpgme_ctx_t, int)) \
	X(gpgme_ctx_set_engine_info, gpgme_error_t, (gpgme_ctx_t, int, \
	    const char *, const char *)) \
	X(gpgme_ctx_get_engine_info, struct gpgme_engine_info *, \
	    (gpgme_ctx_t)) \
	X(gpgme_data_new, gpgme_error_t, (gpgme_data_t *)) \
	X(gpgme_data_new_from_mem, gpgme_error_t, (gpgme_data_t *, \
	    const char *, size_t, int)) \
	X(gpgme_data_new_from_cbs, gpgme_error_t, (gpgme_data_t *, \
	    struct gpgme_data_cbs *, void *)) \
	X(gpgme_data_release, void, (gpgme_data_t)) \
	X(gpgme_data_release_and_get_mem, char *, (gpgme_data_t, size_t *)) \
	X(gpgme_free, void, (void *)) \
	X(gpgme_get_key, gpgme_error_t, (gpgme_ctx_t, const char *, \
	    gpgme_key_t *, int)) \
	X(gpgme_key_unref, void, (gpgme_key_t)) \
	X(gpgme_op_encrypt, gpgme_error_t, (gpgme_ctx_t, gpgme_key_t *, \
	    int, gpgme_data_t, gpgme_data_t)) \
	X(gpgme_op_decrypt, gpgme_error_t, (gpgme_ctx_t, gpgme_data_t, \
	    gpgme_data_t)) \
	X(gpgme_strerror, const char *, (gpgme_error_t))

static struct {
	void *handle;
	int state;		/* 0 not tried, 1 loaded, -1 failed */
	char why[SOTTO_ERROR_MSG_MAX];
#define GPGME_MEMBER(f, r, a) r (*f) a;
	GPGME_FUNCS(GPGME_MEMBER)
#undef GPGME_MEMBER
} G;

int
sotto_gpg_loaded(void)
{
	return G.state == 1;
}

static const char *
soname(void)
{
	const char *s = getenv("SOTTO_GPGME_SONAME");

	return s != NULL && s[0] != '\0' ? s : SOTTO_GPGME_SONAME;
}

static sotto_err
gpg_load(struct sotto_error *e)
{
	const char *missing = NULL, *err;

	if (G.state == 1)
		return SOTTO_OK;
	if (G.state == -1)
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED, "%s", G.why);
	G.handle = dlopen(soname(), RTLD_NOW | RTLD_LOCAL);
	if (G.handle == NULL) {
		err = dlerror();
		snprintf(G.why, sizeof(G.why), "cannot load '%.200s' for pgp "
		    "keys (install libgpgme11 and gnupg): %.200s", soname(),
		    err != NULL ? err : "unknown error");
		G.state = -1;
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED, "%s", G.why);
	}
#define GPGME_RESOLVE(f, r, a) \
	if (missing == NULL) { \
		*(void **)&G.f = dlsym(G.handle, #f); \
		if (G.f == NULL) \
			missing = #f; \
	}
	GPGME_FUNCS(GPGME_RESOLVE)
#undef GPGME_RESOLVE
	if (missing != NULL) {
		snprintf(G.why, sizeof(G.why), "'%.200s' lacks '%s'",
		    soname(), missing);
	} else if (G.gpgme_check_version(NULL) == NULL) {
		snprintf(G.why, sizeof(G.why), "cannot initialise '%.200s'",
		    soname());
		missing = "init";
	}
	if (missing != NULL) {
		dlclose(G.handle);
		G.handle = NULL;
		G.state = -1;
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED, "%s", G.why);
	}
	G.state = 1;
	return SOTTO_OK;
}

/* fp for a message: printable ASCII kept, the rest as \xNN, cut at 64. */
static const char *
show(char *buf, size_t cap, const char *s)
{
	size_t o = 0, i;

	for (i = 0; s[i] != '\0' && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == 64) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02X", c);
	}
	buf[o] = '\0';
	return buf;
}

/* SOPS_GPG_EXEC as a file name GPGME can run (PATH searched), or NULL. */
static char *
gpg_exec(struct sotto_error *e, sotto_err *err)
{
	const char *v = getenv("SOPS_GPG_EXEC"), *path, *p, *c;
	char *f = NULL;

	*err = SOTTO_OK;
	if (v == NULL || v[0] == '\0')
		return NULL;
	if (strchr(v, '/') != NULL) {
		if ((f = strdup(v)) == NULL)
			*err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		return f;
	}
	path = getenv("PATH");
	for (p = path != NULL ? path : ""; *p != '\0'; p = *c ? c + 1 : c) {
		c = p + strcspn(p, ":");
		if (asprintf(&f, "%.*s/%s", (int)(c - p), c == p ? "." : p,
		    v) < 0) {
			*err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
			return NULL;
		}
		if (access(f, X_OK) == 0)
			return f;
		free(f);
		f = NULL;
	}
	*err = sotto_error_set(e, SOTTO_E_NOTFOUND, "SOPS_GPG_EXEC: '%.64s' "
	    "not found on PATH", v);
	return NULL;
}

/* A new OpenPGP context with the engine sops would run. */
static sotto_err
gpg_ctx(gpgme_ctx_t *ctx, struct sotto_error *e)
{
	gpgme_error_t ge;
	sotto_err err;
	char *exe;

	*ctx = NULL;
	if ((err = gpg_load(e)) != SOTTO_OK)
		return err;
	exe = gpg_exec(e, &err);
	if (err != SOTTO_OK)
		return err;
	if ((ge = G.gpgme_new(ctx)) != 0 ||
	    (ge = G.gpgme_set_protocol(*ctx, GPGME_PROTOCOL_OpenPGP)) != 0 ||
	    (exe != NULL && (ge = G.gpgme_ctx_set_engine_info(*ctx,
	    GPGME_PROTOCOL_OpenPGP, exe, NULL)) != 0)) {
		if (*ctx != NULL)
			G.gpgme_release(*ctx);
		*ctx = NULL;
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "cannot set up GnuPG "
		    "through GPGME%s%s: %s", exe ? " with SOPS_GPG_EXEC=" : "",
		    exe ? exe : "", G.gpgme_strerror(ge));
	} else {
		/* GPGME runs `gpg --version` to fill in the version, and
		 * says "1.0.0" when that fails: below the 1.4 it requires,
		 * there is no (usable) gpg there */
		struct gpgme_engine_info *i = G.gpgme_ctx_get_engine_info(*ctx);
		unsigned maj = 0, min = 0;

		while (i != NULL && i->protocol != GPGME_PROTOCOL_OpenPGP)
			i = i->next;
		if (i == NULL || i->version == NULL ||
		    sscanf(i->version, "%u.%u", &maj, &min) != 2 ||
		    maj < 1 || (maj == 1 && min < 4)) {
			err = sotto_error_set(e, SOTTO_E_CRYPTO, "cannot run "
			    "GnuPG '%.200s' (%s)", i != NULL && i->file_name ?
			    i->file_name : exe ? exe : "gpg", exe ?
			    "SOPS_GPG_EXEC names no working gpg" :
			    "install gnupg, or set SOPS_GPG_EXEC");
			G.gpgme_release(*ctx);
			*ctx = NULL;
		}
	}
	free(exe);
	return err;
}

/* What a GPGME error means here, in words a user can act on. */
static const char *
gpg_why(gpgme_error_t ge)
{
	switch (GPG_ERR_CODE(ge)) {
	case GPG_ERR_INV_ENGINE:
		return "GnuPG is not installed or cannot run (install gnupg, "
		    "or set SOPS_GPG_EXEC)";
	case GPG_ERR_NO_SECKEY:
		return "no secret key for it in the GnuPG keyring";
	case GPG_ERR_NO_DATA:
		return "no OpenPGP data (a damaged message, or a gpg that is "
		    "not GnuPG)";
	case GPG_ERR_DECRYPT_FAILED:
		return "decryption failed (not for a key in the keyring, or "
		    "a damaged message)";
	default:
		return G.gpgme_strerror(ge);
	}
}

sotto_err
sotto_gpg_encrypt(struct sotto_buf *out, const uint8_t *p, size_t n,
    const char *fp, struct sotto_error *e)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_data_t plain = NULL, cipher = NULL;
	gpgme_key_t keys[2] = { NULL, NULL };
	gpgme_error_t ge;
	const char *gh = getenv("GNUPGHOME");
	char sfp[300], *mem = NULL;
	size_t mlen = 0;
	sotto_err err;

	show(sfp, sizeof(sfp), fp);
	if ((err = gpg_ctx(&ctx, e)) != SOTTO_OK)
		return sotto_error_prefix(e, "pgp key '%s'", sfp);
	G.gpgme_set_armor(ctx, 1);
	ge = G.gpgme_get_key(ctx, fp, &keys[0], 0);
	if (GPG_ERR_CODE(ge) == GPG_ERR_EOF ||
	    GPG_ERR_CODE(ge) == GPG_ERR_NO_PUBKEY) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "pgp key '%s' "
		    "is not in the GnuPG keyring%s%.200s%s; import it with "
		    "gpg --import", sfp, gh ? " of GNUPGHOME '" : " (~/.gnupg)",
		    gh ? gh : "", gh ? "'" : "");
		goto out;
	}
	if (GPG_ERR_CODE(ge) == GPG_ERR_INV_VALUE) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "pgp key '%s' "
		    "is not a fingerprint or key ID gpg can look up", sfp);
		goto out;
	}
	if (ge != 0) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "pgp key '%s': %s",
		    sfp, GPG_ERR_CODE(ge) == GPG_ERR_AMBIGUOUS_NAME ?
		    "names several keys; use the full fingerprint" :
		    gpg_why(ge));
		goto out;
	}
	if ((ge = G.gpgme_data_new_from_mem(&plain, (const char *)p, n,
	    0)) != 0 || (ge = G.gpgme_data_new(&cipher)) != 0) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	ge = G.gpgme_op_encrypt(ctx, keys, GPGME_ENCRYPT_ALWAYS_TRUST |
	    GPGME_ENCRYPT_NO_ENCRYPT_TO, plain, cipher);
	if (ge != 0) {
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "pgp key '%s': cannot "
		    "encrypt to it: %s", sfp, GPG_ERR_CODE(ge) ==
		    GPG_ERR_UNUSABLE_PUBKEY ? "unusable public key (expired, "
		    "revoked or without an encryption subkey)" :
		    gpg_why(ge));
		goto out;
	}
	mem = G.gpgme_data_release_and_get_mem(cipher, &mlen);
	cipher = NULL;
	while (mlen > 0 && (mem[mlen - 1] == '\n' || mem[mlen - 1] == '\r' ||
	    mem[mlen - 1] == ' '))
		mlen--;		/* sops keeps TrimSpace(gpg's output) */
	if (mem == NULL || mlen == 0)
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "pgp key '%s': gpg "
		    "wrote nothing", sfp);
	else if (sotto_buf_add(out, mem, mlen) != SOTTO_OK)
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
out:
	if (mem != NULL)
		G.gpgme_free(mem);
	if (cipher != NULL)
		G.gpgme_data_release(cipher);
	if (plain != NULL)
		G.gpgme_data_release(plain);
	if (keys[0] != NULL)
		G.gpgme_key_unref(keys[0]);
	if (ctx != NULL)
		G.gpgme_release(ctx);
	return err;
}

/* GPGME writes the plaintext here: a wiped buffer with a cap. */
struct sink {
	struct sotto_buf b;
	bool over;
};

#define SINK_MAX 4096	/* a data key is 32 bytes, a share 33 */

static ssize_t
sink_write(void *h, const void *buf, size_t n)
{
	struct sink *s = h;

	if (s->b.len + n > SINK_MAX) {
		s->over = true;
		return (ssize_t)n;	/* swallowed; reported after */
	}
	if (sotto_buf_add(&s->b, buf, n) != SOTTO_OK)
		return -1;
	return (ssize_t)n;
}

sotto_err
sotto_gpg_decrypt(struct sotto_secret **out, const char *msg, size_t n,
    struct sotto_error *e)
{
	struct gpgme_data_cbs cbs = { NULL, sink_write, NULL, NULL };
	struct sink s = { SOTTO_BUF_SECRET_INIT, false };
	gpgme_ctx_t ctx = NULL;
	gpgme_data_t cipher = NULL, plain = NULL;
	gpgme_error_t ge;
	sotto_err err;

	*out = NULL;
	if ((err = gpg_ctx(&ctx, e)) != SOTTO_OK)
		return err;
	if ((ge = G.gpgme_data_new_from_mem(&cipher, msg, n, 0)) != 0 ||
	    (ge = G.gpgme_data_new_from_cbs(&plain, &cbs, &s)) != 0) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	ge = G.gpgme_op_decrypt(ctx, cipher, plain);
	if (ge != 0)
		err = sotto_error_set(e, SOTTO_E_NO_KEY, "gpg: %s",
		    gpg_why(ge));
	else if (s.over)
		err = sotto_error_set(e, SOTTO_E_NO_KEY, "gpg: the message "
		    "holds more than %d bytes: not a data key", SINK_MAX);
	else if (s.b.len == 0)
		err = sotto_error_set(e, SOTTO_E_NO_KEY, "gpg: zero bytes "
		    "returned");
	else if ((*out = sotto_secret_dup(s.b.data, s.b.len)) == NULL)
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
out:
	if (plain != NULL)
		G.gpgme_data_release(plain);
	if (cipher != NULL)
		G.gpgme_data_release(cipher);
	if (ctx != NULL)
		G.gpgme_release(ctx);
	sotto_buf_release(&s.b);
	return err;
}
