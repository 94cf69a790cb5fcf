/* SPDX-License-Identifier: ISC */
/*
 * The native renderer behind every apply-time hook (`sotto render`,
 * `kustomize-plugin`, `krm`, `post-render`, the Argo CD plugin): a
 * kustomize subset that decrypts each sops file as it is loaded, before
 * any transformation, so the MAC is checked on exactly what was committed
 * (spec in-cluster.md §4-6, §9).  Nothing is executed and nothing is
 * written to disk; plaintext lives in trees that are wiped on free.
 *
 * Output is always all-or-nothing: on error `out` holds nothing the caller
 * may print (it is released), and the message names files and key paths,
 * never a value.
 */
#ifndef SOTTO_RENDER_H
#define SOTTO_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sotto/age.h"
#include "sotto/buf.h"
#include "sotto/error.h"

/*
 * Largest sops-encrypted file the renderer decrypts (resource, patch,
 * generator source), as Flux's decryptor has it (maxEncryptedFileSize):
 * spec in-cluster.md §5.2.  A plain file may be as large as the render's
 * byte budget (SOTTO_RENDER_MAX_STREAM), checked on its size before a
 * byte is read.
 */
#define SOTTO_RENDER_MAX_SOPS_FILE ((size_t)5 << 20)
/*
 * Largest rendered stream, and the render's byte budget: every file read
 * counts its size, a directory listed more than once counts its files
 * again, what transformers, patches and generators copy into objects
 * counts its text, and matching a patch against each object counts too
 * (the output is checked against it as well).
 */
#define SOTTO_RENDER_MAX_STREAM ((size_t)64 << 20)
/*
 * Most objects one render builds: loaded, generated, or copied for a
 * directory listed more than once (the copy it keeps included).  A parsed
 * object costs about 1-2 KiB of memory however short its text, so the
 * byte budget alone would let 64 MiB of tiny objects take gigabytes; no
 * Flux Kustomization comes near this (its status inventory must fit in
 * one etcd object of 1.5 MiB).
 */
#define SOTTO_RENDER_MAX_OBJECTS ((size_t)100000)

struct sotto_pgp_keys;

/*
 * Fetches a remote base: the git repository repo (a URL kustomize
 * accepts, normalized) at ref (a tag, a branch or a commit), checked out
 * into a directory whose path goes to dir (cap bytes).  timeout: seconds,
 * 0 for the default.  The agent's is sotto_remote_base_fetch() (kube.h).
 */
typedef sotto_err (*sotto_render_git_fn)(void *arg, char *dir, size_t cap,
    const char *repo, const char *ref, double timeout,
    struct sotto_error *e);

struct sotto_render_opts {
	struct sotto_age_identity *const *ids;	/* identities (borrowed) */
	size_t nids;
	const char *key_sources;	/* for "no key" messages, or NULL */
	const struct sotto_pgp_keys *pgp;	/* `*.asc` keys, or NULL */
	const char *root;		/* no path may leave it; NULL = the
					   git work tree holding the target,
					   else the current directory */
	bool redact;			/* Secret values become <redacted> */
	/*
	 * sops files are loaded as they are, not decrypted, and the
	 * ciphertext check at the end is off: the objects keep their ENC[]
	 * values (the sops metadata is left out).  `sotto build` without
	 * --show-secrets, which masks every Secret; no key is needed.
	 */
	bool keep_sops;
	/*
	 * Flux's Kustomization spec fields, as kustomize-controller's
	 * generator merges them into the kustomization at the rendered
	 * directory (one listing every manifest is made when there is
	 * none): a JSON object of namespace, namePrefix, nameSuffix
	 * (replace), patches, components (appended) and images (merged
	 * by name).  In memory only; NULL: none.
	 */
	const char *flux_overlay;
	bool no_remote_bases;		/* --no-remote-bases: refuse them */
	sotto_render_git_fn git;	/* fetches remote bases; NULL:
					   they are refused */
	void *git_arg;
};

/*
 * Renders dir (a kustomization, or a plain directory of *.yaml, *.yml and
 * *.json files) into a YAML stream in kustomize's legacy order, keys
 * sorted as `kubectl kustomize` prints them.  out should be a secret
 * buffer; it receives the decrypted objects.  Errors: SOTTO_E_USAGE for an
 * unsupported field or a path leaving the root, SOTTO_E_MAC_MISMATCH,
 * SOTTO_E_NO_KEY, SOTTO_E_UNSUPPORTED (remote bases without o->git or
 * with o->no_remote_bases, ciphertext left), and o->git's errors.
 */
sotto_err sotto_render_dir(struct sotto_buf *out, const char *dir,
    const struct sotto_render_opts *o, struct sotto_error *e);

/*
 * Helm post-renderer: decrypts every sops document of a YAML stream and
 * every Secret data value holding a sops file, keeping document order,
 * comments and formatting of everything else.
 */
sotto_err sotto_render_stream(struct sotto_buf *out, const uint8_t *in,
    size_t len, const struct sotto_render_opts *o, struct sotto_error *e);

/*
 * KRM function: a ResourceList in, a ResourceList out.  Items that are
 * sops documents are decrypted (config.kubernetes.io annotations that kpt
 * adds are set aside while the MAC is checked, then restored); a
 * functionConfig of kind SottoSecretGenerator appends its decrypted files
 * (relative to cwd, which is also the root).
 */
sotto_err sotto_render_krm(struct sotto_buf *out, const uint8_t *in,
    size_t len, const char *cwd, const struct sotto_render_opts *o,
    struct sotto_error *e);

/*
 * Legacy exec generator: reads the SottoSecretGenerator config at
 * config_path and prints its decrypted files (relative to cwd) as a
 * YAML stream.
 */
sotto_err sotto_render_generate(struct sotto_buf *out, const char *config_path,
    const char *cwd, const struct sotto_render_opts *o,
    struct sotto_error *e);

/*
 * The kustomization fields the renderer knows, from the table it checks
 * every kustomization against (`sotto render --list-fields`): format
 * "text" (name, type, status tab-separated), "roff" (mdoc .It lines for
 * sotto-render(1)) or "md" (table rows for the README).
 */
sotto_err sotto_render_list_fields(struct sotto_buf *out, const char *format);

/*
 * kustomize's generator name suffix: SHA-256 over the JSON encoding of
 * {"data":...,"kind":...,"name":...[,"type":...][,"binaryData":...]},
 * first ten hex digits with 0 1 3 a e mapped to g h k m t.  json is that
 * encoding; out gets 10 characters and a NUL.
 */
void sotto_render_hash_suffix(char out[11], const uint8_t *json, size_t len);

#endif
