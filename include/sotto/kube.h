/* SPDX-License-Identifier: ISC */
/*
 * The Kubernetes side of sotto: where the API server is (kubeconfig or the
 * in-cluster service account), a small HTTP client over libcurl (loaded
 * with dlopen() on first use, so commands that never talk to a cluster do
 * not map it), age identities read from a Secret, and the reconciler
 * (spec in-cluster.md §2, §3, §7, §8).
 *
 * Secret hygiene: response bodies live in secret buffers (wiped on
 * release); the bearer token and client key too.  Nothing here writes a
 * key or plaintext to disk or to a log.
 */
#ifndef SOTTO_KUBE_H
#define SOTTO_KUBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "sotto/age.h"
#include "sotto/buf.h"
#include "sotto/error.h"

#define SOTTO_KUBE_CURL_SONAME "libcurl.so.4"
#define SOTTO_KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* Where and how to reach the API server.  Zero it before loading. */
struct sotto_kube_config {
	char *server;		/* "https://host:port" (no trailing slash) */
	struct sotto_buf ca;	/* PEM CA bundle; empty = system store */
	struct sotto_buf token;	/* bearer token (secret buffer) or empty */
	struct sotto_buf cert;	/* client certificate PEM or empty */
	struct sotto_buf key;	/* client key PEM (secret buffer) or empty */
	char *namespace;	/* context's namespace, default "default" */
	bool insecure;		/* insecure-skip-tls-verify */
};

/*
 * Fills c from a kubeconfig: path if not NULL, else the first file of
 * $KUBECONFIG, else the in-cluster service account when
 * KUBERNETES_SERVICE_HOST is set, else ~/.kube/config.  context NULL
 * means current-context.  Supported user auth: token, tokenFile,
 * client-certificate(-data)/client-key(-data); exec and auth-provider
 * plugins are refused (SOTTO_E_KUBE_CONFIG).  Relative file names in it
 * are taken from its directory, as client-go does.  Release with
 * sotto_kube_config_free().
 */
sotto_err sotto_kube_config_load(struct sotto_kube_config *c,
    const char *path, const char *context, struct sotto_error *e);

/*
 * In-cluster: server from KUBERNETES_SERVICE_HOST/_PORT, token, ca.crt and
 * namespace from sa_dir (NULL = SOTTO_KUBE_SA_DIR).  The token file is
 * re-read by sotto_kube_open() callers on each reconcile (bound tokens
 * rotate).
 */
sotto_err sotto_kube_config_in_cluster(struct sotto_kube_config *c,
    const char *sa_dir, struct sotto_error *e);
void sotto_kube_config_free(struct sotto_kube_config *c);

/* A client.  Not thread-safe: one per thread. */
struct sotto_kube;

/*
 * Loads libcurl (SOTTO_E_KUBE_LOAD naming the library when it cannot)
 * and makes a client for c (copied).  Free with sotto_kube_close().
 */
sotto_err sotto_kube_open(struct sotto_kube **out,
    const struct sotto_kube_config *c, struct sotto_error *e);
void sotto_kube_close(struct sotto_kube *k);

/*
 * Impersonate-User for the following requests (copied); NULL stops.
 * SOTTO_E_CONFIG (nothing changed) for "" or a value with control bytes.
 */
sotto_err sotto_kube_set_impersonation(struct sotto_kube *k,
    const char *user);
/* User-Agent (copied); SOTTO_E_CONFIG for control bytes. */
sotto_err sotto_kube_set_user_agent(struct sotto_kube *k, const char *ua);
/*
 * Client-side timeout of each following request (each try of a retried
 * one), e.g. a Kustomization's spec.timeout; 0 restores the 60 s default.
 * A request that runs out fails with SOTTO_E_KUBE_TRANSPORT.
 */
void sotto_kube_set_timeout(struct sotto_kube *k, double seconds);
/* Requests sent so far (retries included). */
unsigned long sotto_kube_request_count(const struct sotto_kube *k);

/* One response.  body is a secret buffer; release with _resp_release. */
struct sotto_kube_resp {
	long status;		/* HTTP status */
	struct sotto_buf body;	/* response body */
};
#define SOTTO_KUBE_RESP_INIT { 0, SOTTO_BUF_SECRET_INIT }
void sotto_kube_resp_release(struct sotto_kube_resp *r);

/*
 * Sends method path (with its query; path starts with '/') with body of
 * content type ctype (NULL: no body) and Accept: application/json.  The
 * path is sent as is (CURLOPT_PATH_AS_IS) and must be plain visible ASCII
 * without "." or ".." segments (src/kube/kpath.c builds every one), and
 * no header value may hold a control byte: either is SOTTO_E_CONFIG and
 * nothing is sent.  Any
 * HTTP status is SOTTO_OK (look at r->status); 429 and 5xx are retried
 * (0.5 s doubling, 4 tries, Retry-After honoured).  Transport failures
 * are SOTTO_E_KUBE_TRANSPORT.  The body is never quoted in messages.
 */
sotto_err sotto_kube_request(struct sotto_kube *k, struct sotto_kube_resp *r,
    const char *method, const char *path, const char *ctype,
    const void *body, size_t len, struct sotto_error *e);

/*
 * Sets e from a failed response: "<what> (<reason>): <message>" taken
 * from the Status body (or "HTTP <n>"), with code SOTTO_E_KUBE_NOTFOUND
 * for 404, SOTTO_E_KUBE_CONFLICT for 409, else SOTTO_E_KUBE_API.
 */
sotto_err sotto_kube_status_error(struct sotto_error *e,
    const struct sotto_kube_resp *r, const char *what);

/*
 * Appends the age identities of every `*.agekey` entry of Secret ns/name
 * (sorted by entry name) to ids (spec in-cluster.md §3), and, when pgp is
 * not NULL, the OpenPGP keys of every `*.asc` entry to pgp (natively: no
 * gpg).  Other entries (and `*.asc` when pgp is NULL) are noted in report
 * (may be NULL), never imported.  Errors, with the spec's texts:
 * SOTTO_E_KUBE_NOTFOUND "decryption Secret 'ns/name' not found";
 * SOTTO_E_KUBE_API "cannot get sops decryption Secret ...";
 * SOTTO_E_KEY_FORMAT "failed to import '<entry>' data ..."; SOTTO_E_NO_KEY
 * "... has no '*.agekey' entries" (pgp NULL) or "... has no '*.agekey' or
 * '*.asc' entries".  The response, its base64 and the
 * decoded key text are wiped before return.
 */
struct sotto_pgp_keys;
sotto_err sotto_kube_secret_identities(struct sotto_age_idlist *ids,
    struct sotto_pgp_keys *pgp, struct sotto_kube *k, const char *ns,
    const char *name, struct sotto_buf *report, struct sotto_error *e);

/*
 * For `sotto render --key-secret NS/NAME`: loads the kubeconfig (path
 * NULL: as sotto_kube_config_load), connects and appends the identities
 * of Secret NS/NAME (NAME alone: the context's namespace) to ids, and its
 * `*.asc` OpenPGP keys to pgp (when not NULL).
 */
sotto_err sotto_kube_load_key_secret(struct sotto_age_idlist *ids,
    struct sotto_pgp_keys *pgp, const char *kubeconfig, const char *ns_name,
    struct sotto_error *e);

/*
 * Makes jansson wipe every buffer it frees (decoded Secrets and rendered
 * objects pass through it).  Process-wide; call once at start, before any
 * JSON is parsed.
 */
void sotto_kube_harden_json(void);

/*
 * Keeps the process's pages out of swap where the kernel allows it (spec
 * §3.4): mlockall(MCL_CURRENT | MCL_ONFAULT), plus MCL_FUTURE when
 * RLIMIT_MEMLOCK is unlimited (under a finite limit, every allocation past
 * it would fail).  Pages are locked as they are touched, so the RSS does
 * not grow.  Locks are not inherited by fork(): a child that handles keys
 * or plaintext calls this again (verbose false: no log line).  Refusal
 * (EPERM, or ENOMEM without CAP_IPC_LOCK) is logged at debug level when
 * verbose and otherwise ignored.  Returns the flags locked, 0 if none.
 */
int sotto_kube_lock_memory(bool verbose);

/* ---- keys born in the cluster (src/kube/clusterkey.c, keyreq.c) -------- */

/*
 * The interface between `sotto cluster` and the agent (issue #19).  A
 * Secret labelled SOTTO_KEY_LABEL=generate is filled by the agent with an
 * identity under SOTTO_KEY_ENTRY and relabelled "generated"; the agent
 * publishes its recipients in the ConfigMap "<secret>SOTTO_KEY_CM_SUFFIX".
 * Requests are annotations on the Secret; the answers go to that
 * ConfigMap, so the CLI never needs to read a Secret.
 */
#define SOTTO_KEY_LABEL "sotto.dev/age-key"	/* generate | generated */
#define SOTTO_KEY_ENTRY "age.agekey"		/* Flux's data key */
#define SOTTO_KEY_CM_SUFFIX "-recipient"
#define SOTTO_KEY_TYPE "sotto.dev/age-key-type"	/* "pq": age1pq1 hybrid */
#define SOTTO_KEY_ROTATE "sotto.dev/rotate"	/* timestamp: add a key */
#define SOTTO_KEY_ROTATED "sotto.dev/rotated"	/* the agent's answer */
#define SOTTO_KEY_RETIRE "sotto.dev/retire"	/* recipient to remove */
#define SOTTO_KEY_RETIRE_ID "sotto.dev/retire-id"	/* request id */
#define SOTTO_KEY_EXPORT_TO "sotto.dev/export-to"	/* offline recipient */
#define SOTTO_KEY_EXPORT_ID "sotto.dev/export-id"	/* request id */
/* Kustomization status field: recipients its files' sops metadata names */
#define SOTTO_KEY_STATUS_FIELD "decryptionRecipients"

/*
 * SOTTO_E_USAGE "<flag> '<s>': <why>" unless s is a namespace (ns: a
 * DNS-1123 label) or an object name (a DNS-1123 subdomain).
 */
sotto_err sotto_kube_check_name(const char *flag, const char *s, bool ns,
    struct sotto_error *e);
/* What `sotto cluster` talks to (keyreq.c). */
struct sotto_kube_keyreq {
	const char *kubeconfig;	/* NULL: default lookup */
	const char *ns;		/* NULL: the context's namespace */
	const char *secret;	/* the key Secret (required) */
	double timeout;		/* seconds to wait for the agent; 0: 60 */
	double poll;		/* seconds between reads; 0: 0.2 */
	const char *context;	/* NULL: current-context */
};
enum sotto_kube_key_op {
	SOTTO_KEY_OP_ROTATE,	/* add an identity, publish it as current */
	SOTTO_KEY_OP_RETIRE,	/* remove the identity of a recipient */
	SOTTO_KEY_OP_EXPORT	/* the identities encrypted to a recipient */
};
/*
 * Creates q->secret labelled SOTTO_KEY_LABEL=generate (pq: annotated for
 * the age1pq1 hybrid), waits for the agent to publish its recipient and
 * appends it to recipient.  The key is never seen here.  Errors:
 * SOTTO_E_USAGE for a bad name, SOTTO_E_KUBE_CONFLICT when the Secret
 * exists, SOTTO_E_KUBE_TRANSPORT when the agent does not answer in time.
 */
sotto_err sotto_kube_key_create(struct sotto_buf *recipient,
    const struct sotto_kube_keyreq *q, bool pq, struct sotto_error *e);
/*
 * The published recipient (and, when all is not NULL, every recipient,
 * newest first, one a line) from the ConfigMap only: needs no Secret
 * access.  SOTTO_E_KUBE_NOTFOUND when none is published.
 */
sotto_err sotto_kube_key_recipients(struct sotto_buf *current,
    struct sotto_buf *all, const struct sotto_kube_keyreq *q,
    struct sotto_error *e);
/*
 * Asks the agent for op by annotating the Secret (a merge patch: no read
 * of it) and waits for its answer in the ConfigMap: the new recipient
 * (rotate), "retired age1..." or "refused: why" (retire), the armored
 * bundle or "refused: why" (export).  *refused tells a refusal; arg is
 * the recipient to retire or export to.
 */
sotto_err sotto_kube_key_request(struct sotto_buf *answer, bool *refused,
    const struct sotto_kube_keyreq *q, enum sotto_kube_key_op op,
    const char *arg, struct sotto_error *e);
/*
 * Merges the identities of bundle (decrypted identity-file text, secret)
 * into the Secret's SOTTO_KEY_ENTRY (created, labelled "generated", when
 * absent); those it already holds are skipped, the Secret's own newest
 * identity stays current.  *added counts the new ones.  Everything read
 * is wiped.
 */
sotto_err sotto_kube_key_import(size_t *added,
    const struct sotto_kube_keyreq *q, const uint8_t *bundle, size_t len,
    struct sotto_error *e);

/* ---- remote bases (src/kube/rbase.c) --------------------------------- */

/* Where and how the renderer's remote bases are fetched. */
struct sotto_remote_bases {
	const char *cache_dir;		/* their checkouts go in its
					   remote-bases/ (ciphertext only) */
	bool allow_http;		/* http:// URLs */
	bool allow_file;		/* file:// URLs (tests, local mirrors) */
	bool locked;			/* set once this process holds the
					   cache's lock (until it exits) */
};
/*
 * A sotto_render_git_fn (render.h) with arg a struct sotto_remote_bases:
 * fetches repo at ref (a tag, a branch or a commit) with the agent's git
 * child (URL allowlist, the timeout, no credentials) and checks it out in
 * a cache directory of its own per URL and ref; the first call takes the
 * remote bases' lock for the rest of the process (one render at a time
 * reads a cache).  Errors as kgit_sync's.
 */
sotto_err sotto_remote_base_fetch(void *arg, char *dir, size_t cap,
    const char *repo, const char *ref, double timeout,
    struct sotto_error *e);

/* ---- the reconciler (src/kube/reconcile.c) ---------------------------- */

/* --concurrent's upper bound (each worker holds its own API client) */
#define SOTTO_RECONCILE_MAX_WORKERS 64

struct sotto_reconcile_opts {
	const char *kubeconfig;		/* NULL: default lookup */
	const char *context;		/* NULL: current-context */
	const char *config_file;	/* local mode: GitRepository and
					   Kustomization YAML; NULL: read
					   Kustomizations from the cluster */
	const char *watch_namespace;	/* cluster mode: NULL = all */
	const char *field_manager;	/* default "sotto" */
	const char *cache_dir;		/* git cache (ciphertext only) */
	const char *health_addr;	/* "127.0.0.1:8080" or NULL */
	const char *lease_namespace;	/* leader election: NULL = off */
	const char *lease_name;		/* default "sotto-reconcile" */
	const char *identity;		/* holder identity; NULL: host_pid */
	double lease_seconds;		/* lease duration, default 15 */
	double interval_override;	/* > 0: use instead of spec.interval */
	double poll_seconds;		/* health/wait polling, default 2 */
	int concurrent;			/* --concurrent: Kustomizations and
					   GitRepositories reconciled at once;
					   0: 4 (Flux's default) */
	const char *default_sa;		/* --default-service-account: who a
					   Kustomization without
					   spec.serviceAccountName applies
					   as (its namespace's account) */
	bool no_cross_ns_refs;		/* --no-cross-namespace-refs */
	bool lax_substitutions;		/* --feature-gates=StrictPostBuild
					   Substitutions=false: an unset
					   ${var} reads as "" (Flux's gate,
					   on by default since v1.9) */
	bool once;			/* one pass, exit status = result */
	bool insecure_skip_mac;		/* migration only */
	bool allow_http_sources;	/* GitRepository http:// URLs */
	bool allow_file_sources;	/* file:// URLs: tests and local
					   mode, unsafe on shared clusters */
	bool no_remote_bases;		/* --no-remote-bases: kustomize
					   git remote bases are refused */
	const volatile int *stop;	/* set by SIGTERM/SIGINT: finish the
					   current object and return */
};

/*
 * Checks the names among o's flags (--namespace, --lease-namespace,
 * --lease-name, --default-service-account) as the API server would:
 * SOTTO_E_USAGE naming the flag.
 */
sotto_err sotto_reconcile_check_opts(const struct sotto_reconcile_opts *o,
    struct sotto_error *e);
/*
 * Prints the Flux fields the agent implements or refuses (fields.c), as
 * text or as the roff of sotto-reconcile(8)'s FIELDS section.
 */
void sotto_reconcile_list_fields(FILE *f, bool roff);
/*
 * Prepares the git cache directory dir: creates it (mode 0700, missing
 * parents too) when absent, then refuses it (SOTTO_E_IO, the message names
 * dir and the fault) when it is a symlink, not a directory, owned by
 * another uid, or open to group or others.
 */
sotto_err sotto_reconcile_cache_dir(const char *dir, struct sotto_error *e);

/*
 * Runs the reconciler until *o->stop (or one pass with o->once).  Logs
 * JSON lines on stderr, never a value.  Returns SOTTO_OK when the last
 * pass succeeded (or a stop was requested), SOTTO_E_RECONCILE when a
 * Kustomization failed, other codes for setup failures.
 */
sotto_err sotto_reconcile_run(const struct sotto_reconcile_opts *o,
    struct sotto_error *e);

#endif
