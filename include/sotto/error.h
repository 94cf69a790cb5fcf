/* SPDX-License-Identifier: ISC */
/*
 * One error type for the whole library: a stable code plus a message that
 * names the file, offset or key path involved, never a secret value.
 *
 * Codes live in bands: 1-9 general, 10-29 parse, 30-49 crypto, 50-69 sops
 * metadata and config, 70-89 git, 90-109 kube.  New codes go at the end of
 * their band; codes are never renumbered or reused (a retired code becomes
 * SOTTO_E_OBSOLETEnn).  src/cli/exit.c maps each code to an exit status.
 */
#ifndef SOTTO_ERROR_H
#define SOTTO_ERROR_H

#include <stddef.h>

typedef enum {
	SOTTO_OK = 0,
	/* general */
	SOTTO_E_NOMEM = 1,	/* out of memory */
	SOTTO_E_IO = 2,		/* read/write/open failed */
	SOTTO_E_USAGE = 3,	/* bad arguments */
	SOTTO_E_LIMIT = 4,	/* input over a size/depth/count limit */
	SOTTO_E_INTERNAL = 5,	/* our own bug */
	SOTTO_E_NOTFOUND = 6,	/* file or key path does not exist */
	SOTTO_E_EXISTS = 7,	/* refusing to overwrite */
	SOTTO_E_TTY = 8,	/* a terminal was needed but none is there */
	SOTTO_E_INTERRUPTED = 9, /* signal */
	/* parse */
	SOTTO_E_PARSE = 10,		/* generic malformed input */
	SOTTO_E_AGE_HEADER = 11,	/* age header malformed */
	SOTTO_E_AGE_ARMOR = 12,		/* age ASCII armor malformed */
	SOTTO_E_BECH32 = 13,		/* bad Bech32 string */
	SOTTO_E_KEY_FORMAT = 14,	/* unparseable key / identity / recipient */
	SOTTO_E_YAML = 15,		/* malformed YAML */
	SOTTO_E_JSON = 16,		/* malformed JSON */
	SOTTO_E_DOTENV = 17,		/* malformed dotenv */
	SOTTO_E_INI = 18,		/* malformed INI */
	SOTTO_E_ENC_VALUE = 19,		/* malformed ENC[...] value */
	SOTTO_E_TREE_PATH = 20,		/* bad --extract / set path */
	SOTTO_E_EMIT = 21,		/* tree cannot be written in this format */
	SOTTO_E_PATH_MISSING = 22,	/* --extract/unset path not in the tree */
	SOTTO_E_BAD_REGEX = 23,		/* invalid regular expression */
	/* crypto */
	SOTTO_E_CRYPTO = 30,		/* a primitive failed */
	SOTTO_E_AGE_NO_MATCH = 31,	/* no identity matched */
	SOTTO_E_AGE_HMAC = 32,		/* header MAC mismatch */
	SOTTO_E_AGE_PAYLOAD = 33,	/* STREAM failure */
	SOTTO_E_DECRYPT = 34,		/* a sops value failed to decrypt */
	SOTTO_E_MAC_MISMATCH = 35,	/* sops MAC differs / undecryptable */
	SOTTO_E_BAD_PASSPHRASE = 36,	/* wrong passphrase for a key file */
	SOTTO_E_UNSUPPORTED = 37,	/* key type or feature not supported */
	SOTTO_E_ENCRYPT = 38,		/* value encryption failed */
	/* sops metadata and config */
	SOTTO_E_SOPS_METADATA = 50,	/* sops block missing or malformed */
	SOTTO_E_NO_KEY = 51,		/* could not retrieve the data key */
	SOTTO_E_ALREADY_ENCRYPTED = 52,	/* input already has sops metadata */
	SOTTO_E_NOT_ENCRYPTED = 53,	/* input has no sops metadata */
	SOTTO_E_CONFIG = 54,		/* .sops.yaml unreadable/invalid */
	SOTTO_E_NO_RECIPIENTS = 55,	/* no master key to encrypt to */
	SOTTO_E_MAC_NOT_FOUND = 56,	/* file has no MAC */
	SOTTO_E_NO_DOCUMENT = 57,	/* nothing to encrypt */
	SOTTO_E_CONFLICT = 58,		/* conflicting parameters */
	SOTTO_E_UNCHANGED = 59,		/* edit: file has not been modified */
	SOTTO_E_NO_EDITOR = 60,		/* edit: no editor found */
	SOTTO_E_CONFIG_NOT_FOUND = 61,	/* no .sops.yaml */
	SOTTO_E_WRITE = 62,		/* an output file cannot be written
					   (sops CouldNotWriteOutputFile) */
	SOTTO_E_EMPTY_GROUP = 63,	/* a key group with no keys at all */
	SOTTO_E_DECRYPTION_ORDER = 64,	/* a key type named twice */
	/* git */
	SOTTO_E_GIT = 70,		/* a libgit2 call failed */
	SOTTO_E_GIT_LOAD = 71,		/* libgit2.so.1.5 cannot be loaded */
	SOTTO_E_GIT_REPO = 72,		/* not inside a git repository */
	SOTTO_E_HOOK = 73,		/* a hook cannot be installed/removed */
	/* kube */
	SOTTO_E_KUBE_API = 90,		/* the API server answered an error */
	SOTTO_E_KUBE_LOAD = 91,		/* libcurl.so.4 cannot be loaded */
	SOTTO_E_KUBE_TRANSPORT = 92,	/* connection, TLS or timeout */
	SOTTO_E_KUBE_CONFIG = 93,	/* kubeconfig / in-cluster config */
	SOTTO_E_KUBE_NOTFOUND = 94,	/* object or kind does not exist */
	SOTTO_E_KUBE_CONFLICT = 95,	/* 409 from the API server */
	SOTTO_E_RECONCILE = 96,		/* a Kustomization failed */
} sotto_err;

#define SOTTO_ERROR_MSG_MAX 512

/* The error carrier.  msg never holds a secret value. */
struct sotto_error {
	sotto_err code;			/* SOTTO_OK when nothing failed */
	char msg[SOTTO_ERROR_MSG_MAX];	/* human text, lowercase, no period */
};

/*
 * Sets e (if not NULL) to code and a printf-style message; returns code so
 * callers write `return sotto_error_set(e, ...)`.
 */
sotto_err sotto_error_set(struct sotto_error *e, sotto_err code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prepends "context: " to e->msg; returns e->code (or SOTTO_OK if e NULL). */
sotto_err sotto_error_prefix(struct sotto_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resets e to SOTTO_OK with an empty message. */
void sotto_error_clear(struct sotto_error *e);

/* Static text for a code, for when no struct sotto_error is at hand. */
const char *sotto_strerror(sotto_err code);

#endif
