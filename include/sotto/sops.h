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

/*
 * The OpenPGP keys of one key group, by fingerprint (as sops stores
 * them: spaces removed).  Only the CLI sets them; they are wrapped with
 * the user's GnuPG (sotto/gpg.h).
 */
struct sotto_sops_pgplist {
	char **v;
	size_t n;
};

/* Adds fp with its spaces removed; an empty or repeated one is skipped. */
sotto_err sotto_sops_pgplist_add(struct sotto_sops_pgplist *l,
    const char *fp);
/* Adds each entry of a comma list ("FP1, FP2"), as sops splits it. */
sotto_err sotto_sops_pgplist_parse(struct sotto_sops_pgplist *l,
    const char *comma_list);
bool sotto_sops_pgplist_has(const struct sotto_sops_pgplist *l,
    const char *fp);
bool sotto_sops_pgplist_remove(struct sotto_sops_pgplist *l,
    const char *fp);
void sotto_sops_pgplist_free(struct sotto_sops_pgplist *l);

/*
 * The `pgp` entries for fps wrapping payload (a data key or a Shamir
 * share): a new seq of {created_at, enc, fp} maps, in sops' key order.
 * An entry of old (a `pgp` seq, may be NULL) with the same fingerprint
 * is kept as it is (updatekeys: the same data key).
 */
sotto_err sotto_sops_pgp_entries(struct sotto_node **out,
    const struct sotto_sops_pgplist *fps, const struct sotto_node *old,
    const uint8_t *payload, size_t n, struct sotto_error *e);

struct sotto_sops_encrypt_opts {
	struct sotto_age_reclist *groups;	/* one list per key group */
	struct sotto_sops_pgplist *pgp;		/* per group, or NULL */
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
	/* the CLI: `pgp` entries no age identity (nor pgp above) opens
	   are decrypted by the user's GnuPG (sotto/gpg.h), as sops does */
	bool gpg;
	/* try a group's pgp entries before its age entries (sops'
	   --decryption-order with pgp first; default: age, then pgp) */
	bool pgp_first;
};

/* True when meta (a file's metadata) has a non-empty `pgp` list. */
bool sotto_sops_meta_has_pgp(const struct sotto_node *meta);

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
