/* SPDX-License-Identifier: ISC */
/*
 * SOPS documents: encrypt and decrypt the values of a parsed document
 * (struct sotto_doc from a store) exactly as sops does — per-value
 * AES-256-GCM with the key path as AAD, the SHA-512 MAC over the clear
 * values, the `sops` metadata block, age-wrapped data keys and Shamir key
 * groups (spec sops-format.md §1-4, §6).
 *
 * The walk changes scalars in place and marks them dirty, so the store's
 * emit_splice() reproduces everything else byte for byte.  Decrypted text
 * lives in the tree; callers set doc->secret so it is wiped on free.
 */
#ifndef SOTTO_SOPS_H
#define SOTTO_SOPS_H

#include <stdbool.h>

#include "sotto/age.h"
#include "sotto/buf.h"
#include "sotto/error.h"
#include "sotto/tree.h"

#define SOTTO_SOPS_VERSION "3.13.2"

/* Which values are encrypted (at most one of the six may be set). */
struct sotto_sops_rules {
	const char *unencrypted_suffix;		/* default "_unencrypted" */
	const char *encrypted_suffix;
	const char *unencrypted_regex;
	const char *encrypted_regex;
	const char *unencrypted_comment_regex;
	const char *encrypted_comment_regex;
	bool mac_only_encrypted;		/* MAC only encrypted values */
};

struct sotto_sops_encrypt_opts {
	struct sotto_age_reclist *groups;	/* one list per key group */
	size_t ngroups;				/* >= 1 */
	int threshold;				/* Shamir; 0 = ngroups */
	struct sotto_sops_rules rules;		/* selection */
	struct sotto_buf *warnings;		/* notices (may be NULL) */
};

/*
 * Encrypts doc in place and returns the new metadata MAP in *meta (free
 * with sotto_tree_node_free()).  Fails with SOTTO_E_ALREADY_ENCRYPTED when
 * the doc already has sops metadata, SOTTO_E_CONFLICT for two selection
 * rules, SOTTO_E_NO_RECIPIENTS without keys.  Values whose spelling Go
 * cannot parse back (0x1F, .inf) are encrypted in canonical form and
 * listed in warnings.
 */
sotto_err sotto_sops_encrypt(struct sotto_node **meta, struct sotto_doc *doc,
    const struct sotto_sops_encrypt_opts *o, struct sotto_error *e);

struct sotto_pgp_keys;

struct sotto_sops_decrypt_opts {
	struct sotto_age_identity *const *ids;	/* identities to try */
	size_t nids;
	bool ignore_mac;			/* --ignore-mac */
	const char *key_sources;		/* for "no key" messages */
	struct sotto_buf *warnings;		/* notices (may be NULL) */
	/* OpenPGP secret keys (`*.asc`, native: no gpg) for `pgp` entries,
	   or NULL: then those entries count as keys sotto cannot use */
	const struct sotto_pgp_keys *pgp;
};

/*
 * Decrypts doc in place: recovers the data key from doc->meta[0] with the
 * identities (SOTTO_E_NO_KEY, listing every group's failure), decrypts
 * every ENC value (SOTTO_E_DECRYPT naming the key path) and checks the MAC
 * (SOTTO_E_MAC_MISMATCH).  On error, no plaintext stays in the tree's
 * dirty nodes (the caller frees the doc, which wipes).
 */
sotto_err sotto_sops_decrypt(struct sotto_doc *doc,
    const struct sotto_sops_decrypt_opts *o, struct sotto_error *e);

/*
 * An editing session: what a decryption learnt (the data key, the
 * metadata, and an "IV stash" mapping each (key path, type, plaintext) to
 * the IV it was encrypted with), so that re-encrypting after an edit
 * reproduces the exact ciphertext of every unchanged value and a git diff
 * shows only what the user changed.  The stash stores keyed BLAKE2b
 * digests, never plaintext.  Free with sotto_sops_session_free().
 */
struct sotto_sops_session;

/* As sotto_sops_decrypt(), also returning a session in *s. */
sotto_err sotto_sops_decrypt_session(struct sotto_sops_session **s,
    struct sotto_doc *doc, const struct sotto_sops_decrypt_opts *o,
    struct sotto_error *e);

/*
 * Re-encrypts a decrypted doc (same data key, same selection rules,
 * stashed IVs for unchanged values) and returns the new metadata: a copy
 * of the session's metadata with `lastmodified`, `mac` and `version`
 * replaced and everything else (other key types, groups) kept verbatim.
 */
sotto_err sotto_sops_reencrypt(struct sotto_node **meta,
    struct sotto_doc *doc, struct sotto_sops_session *s,
    struct sotto_buf *warnings, struct sotto_error *e);

/* The session's metadata (borrowed) and data key (borrowed, 32 bytes). */
const struct sotto_node *sotto_sops_session_meta(
    const struct sotto_sops_session *s);
const uint8_t *sotto_sops_session_key(const struct sotto_sops_session *s);
void sotto_sops_session_free(struct sotto_sops_session *s);

/* True when the doc carries sops metadata with a mac and a version. */
bool sotto_sops_is_encrypted(const struct sotto_doc *doc);

#endif
