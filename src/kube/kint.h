/* SPDX-License-Identifier: ISC */
/*
 * Internal to src/kube/: the git source (git.c), discovery and the apply
 * engine (apply.c), JSON helpers and the JSON-lines logger (util.c), the
 * client's streamed GETs (client.c), the watch on Flux objects (watch.c)
 * and the Events recorded on Kustomizations (events.c).
 * jansson types appear here only, never in include/sotto/.
 */
#ifndef SOTTO_KUBE_KINT_H
#define SOTTO_KUBE_KINT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>
#include <stdint.h>

#include "sotto/kube.h"
#include "sotto/tree.h"

/* ---- child.c: forked work with a deadline (issue #14) ----------------- */
/* Runs in the child: writes its reply to fd (the child then exits). */
typedef void (*kchild_fn)(void *arg, int fd);
struct kchild {
	pid_t pid;		/* the child, 0 once reaped */
	int fd;			/* read end of its pipe, -1 when closed */
	double deadline;	/* kchild_now() time it is killed at */
	bool late;		/* a read ran into the deadline */
};
/* CLOCK_MONOTONIC seconds. */
double kchild_now(void);
/*
 * Forks a child that runs fn(arg, fd) and exits; it dies with the agent.
 * timeout (seconds) starts now.  SOTTO_E_IO "cannot start the <what>
 * process: ..." when no pipe or child can be made: the work is then not
 * done at all (never in the agent, where it could not be bounded).
 */
sotto_err kchild_start(struct kchild *c, kchild_fn fn, void *arg,
    double timeout, const char *what, struct sotto_error *e);
/* Reads n bytes of the reply: 1 done, 0 end of file or error, -1 late. */
int kchild_read(struct kchild *c, void *p, size_t n);
/*
 * Closes the pipe, kills the child when kill_it or it was late, reaps it;
 * its wait status.
 */
int kchild_end(struct kchild *c, bool kill_it);

/* ---- kpath.c: names and request paths (issue #14) -------------------- */
enum kname_rule {
	KN_LABEL,	/* DNS-1123 label, at most 63: namespaces */
	KN_SUBDOMAIN,	/* DNS-1123 subdomain, at most 253: Secrets,
			   ConfigMaps, Flux objects, ServiceAccounts */
	KN_SEGMENT	/* what the API server takes as any kind's name:
			   not "." or "..", no '/' or '%', no control
			   bytes, at most 253 (RBAC names hold ':') */
};
/* NULL when s is a valid name under rule, else why not (static text). */
const char *kname_invalid(const char *s, enum kname_rule rule);
/*
 * SOTTO_OK, or SOTTO_E_CONFIG with "<field> '<s, escaped>': <why>" in e
 * (field is the spec path, e.g. "spec.decryption.secretRef.name").
 */
sotto_err kname_check(const char *field, const char *s, enum kname_rule rule,
    struct sotto_error *e);
/*
 * s for a message: control bytes, quotes and backslashes as \xNN, cut
 * with "…" to fit cap (NULL prints as "").
 */
void kquote(char *out, size_t cap, const char *s);

/* An API path: /api/v1 or /apis/<group>/<version>, then the rest. */
struct kref {
	const char *group;	/* "" for the core group */
	const char *version;	/* "v1" */
	const char *plural;	/* "secrets"; NULL: the group-version root */
	const char *ns;		/* namespace or NULL (cluster / all) */
	const char *name;	/* object or NULL (collection) */
	const char *sub;	/* "status" or NULL */
};
/*
 * Appends r's path to b: every segment validated (group a subdomain,
 * version a label, namespace a label, name the path-segment rule) and
 * percent-encoded.  SOTTO_E_CONFIG naming the bad part, nothing appended.
 * The only way the agent builds a request path.
 */
sotto_err kpath_build(struct sotto_buf *b, const struct kref *r,
    struct sotto_error *e);
/* Appends "?key=value" (or "&..." after a '?'), value percent-encoded. */
sotto_err kpath_query(struct sotto_buf *b, const char *key,
    const char *value);
/*
 * What sotto_kube_request() checks before it sends anything: starts with
 * '/', visible ASCII only, no "." or ".." segment (raw or %2e), no '#'.
 */
bool kpath_safe(const char *path);
/* A header value without control bytes (tab allowed). */
bool kheader_ok(const char *v);

/* ---- fields.c: the Flux fields the agent implements (issue #14) ------- */
/*
 * Checks obj's spec (kind "Kustomization" or "GitRepository") against the
 * table: a field the agent does not implement (set to anything but its
 * default), or one it does not know, is SOTTO_E_CONFIG with *reason
 * "UnsupportedField"; a supported field of the wrong type or with an
 * invalid name or duration is *reason "InvalidSpec".  The message names
 * the field.
 */
sotto_err kfields_check(const char *kind, const json_t *obj,
    const char **reason, struct sotto_error *e);
/* The table, for `--list-fields` (text) or sotto-reconcile(8) (roff). */
void kfields_print(FILE *f, bool roff);

/* ---- subst.c, envsubst.c: spec.postBuild substitution (issue #15) ---- */
#define KENV_MAX_OUTPUT ((size_t)64 << 20)	/* the rendered-stream cap */
#define KENV_MAX_WORK ((size_t)256 << 20)	/* bytes produced in all, the
						   function arguments too */
/*
 * A variable's value: true with *val (not NUL-terminated) and *vlen when
 * name[0..len) is set.
 */
typedef bool (*kenv_lookup_fn)(void *arg, const char *name, size_t len,
    const char **val, size_t *vlen);
/*
 * Expands in[0..len) into out (appended) as Flux's envsubst.Eval does
 * (github.com/fluxcd/pkg/envsubst, the drone/envsubst grammar): ${var},
 * ${#var}, ${var^} ${var^^} ${var,} ${var,,}, ${var:n[:len]},
 * ${var#pat} ${var##pat} ${var%pat} ${var%%pat}, ${var=def} ${var:=def}
 * ${var:-def} (and :+ :? as defaults, as there), ${var/p/r} ${var//p/r}
 * ${var/#p/r} ${var/%p/r}; "$$" is "$"; a NUL byte ends the input.
 * strict: an unset variable read without a default operator is an error
 * (Flux's StrictPostBuildSubstitutions); else it reads as "".
 * Errors, SOTTO_E_CONFIG with drone's text: "bad substitution", "missing
 * closing brace", "unable to parse variable name", "unable to parse
 * substitution within function", "unable to parse default function",
 * "variable not set (strict mode): \"<name>\""; and sotto's own where
 * drone would panic or grow without bound: "negative substring length",
 * "substitutions nested deeper than 64 levels" (SOTTO_E_CONFIG), "the
 * substituted output would exceed 64 MiB" (SOTTO_E_LIMIT: more than
 * KENV_MAX_OUTPUT of output or KENV_MAX_WORK produced in all).  On error
 * out is as it was.  Names a variable, never a value; every buffer it uses
 * is wiped.  Case mapping is Unicode through the C.UTF-8 locale when libc
 * has it, ASCII otherwise; names are ASCII (Flux's variable names are).
 */
sotto_err kenv_eval(struct sotto_buf *out, const char *in, size_t len,
    kenv_lookup_fn lookup, void *arg, bool strict, struct sotto_error *e);

struct kvar {
	size_t name, nlen;	/* the name in pool */
	size_t val, vlen;	/* the value in pool */
	size_t seq;		/* order added: the last one wins */
};
/* One Kustomization's spec.postBuild, read by ksubst_load(). */
struct ksubst {
	bool active;		/* spec.postBuild is set */
	bool always;		/* substituteStrategy: Always */
	bool strict;		/* unset ${var} fails the build: Flux's
				   StrictPostBuildSubstitutions, on by
				   default since kustomize-controller v1.9 */
	struct sotto_buf pool;	/* names and values (secret: wiped) */
	struct kvar *v;		/* the variables */
	size_t n, cap;
	bool sorted;		/* v sorted by name, one per name */
	struct sotto_error load;	/* a substituteFrom that could not be
					   read: Flux reports it at the first
					   object substituted */
};
/* An empty, inactive ksubst (strict, as Flux's default). */
void ksubst_init(struct ksubst *s);
/*
 * Reads spec.postBuild of Kustomization ks (namespace ns): every
 * substituteFrom ConfigMap's data and Secret's data (decoded), in order, a
 * later one overriding an earlier one, then spec.postBuild.substitute over
 * them all; '\n' is dropped from every value (Flux's rule).  Sources are
 * read with k's own identity (Flux's controller client), from ns only.  A
 * source that is not found is skipped when optional; any other failure is
 * kept in s->load and reading stops, as Flux's LoadVariables does:
 * "substitute from 'ConfigMap/<name>' error: configmaps \"<name>\" not
 * found".  Returns an error only when out of memory.  Secret values live
 * in s->pool (wiped); the Secret's JSON is wiped too.
 */
sotto_err ksubst_load(struct ksubst *s, struct sotto_kube *k,
    const json_t *ks, const char *ns, struct sotto_error *e);
/* Adds variable name=value (value's '\n' dropped; the last one wins). */
sotto_err ksubst_add(struct ksubst *s, const char *name, size_t nlen,
    const char *val, size_t vlen);
/*
 * Substitutes the rendered (decrypted) YAML stream in place, object by
 * object, as kustomize-controller's build() does after decryption:
 * nothing when s is inactive; an object labelled or annotated
 * kustomize.toolkit.fluxcd.io/substitute: disabled is left alone; s->load
 * fails the first other object; with no variable (and no Always) nothing
 * changes; otherwise each object is written as YAML the way Flux's
 * JSONToYAML does (so ${var} in an unquoted scalar yields a number, a
 * boolean, or YAML), expanded (kenv_eval), and read back with yaml.v2's
 * typing (yes/no/on/off are booleans).  Errors, SOTTO_E_CONFIG (or the
 * load's code) with Flux's text: "post build failed for
 * '<Kind>.<version>.<group>/<name>': " then "substitute from ..." or
 * "envsubst error: '<name>' var name is invalid, must match
 * '^[_[:alpha:]][_[:alpha:][:digit:]]*$'", "envsubst error: variable
 * substitution failed: <kenv_eval's text>", "envsubst error: YAMLToJSON:
 * ..." (never the text itself).  The stream is unchanged on error.
 */
sotto_err ksubst_apply(struct sotto_buf *stream, struct ksubst *s,
    struct sotto_error *e);
/* Wipes and frees s; it can be used again after ksubst_init(). */
void ksubst_free(struct ksubst *s);

/* ---- ksrender.c: what a Kustomization renders to ---------------------- */
struct sotto_pgp_keys;
struct ksrender_opts {
	const json_t *ks;		/* the Kustomization (borrowed) */
	const char *root;		/* no path may leave it; NULL: the
					   renderer's default (the git work
					   tree holding dir) */
	const char *dir;		/* spec.path in the checkout */
	struct sotto_kube *k;		/* reads substituteFrom (must be set
					   when ks has any) */
	struct sotto_age_identity *const *ids;	/* keys (borrowed) */
	size_t nids;
	const struct sotto_pgp_keys *pgp;	/* or NULL */
	const char *key_sources;	/* for "no key" messages */
	bool keep_sops;			/* sops files stay encrypted */
	bool strict;			/* postBuild: unset ${var} fails */
	bool no_remote_bases;		/* refuse remote bases */
	const char *cache_dir;		/* where remote bases are fetched */
	bool allow_http, allow_file;	/* their http:// and file:// URLs */
	double timeout;			/* seconds the render may take */
};
/*
 * Renders o->ks at o->dir as the controller does: Flux's spec fields
 * merged into the kustomization, sops files decrypted with o's keys as
 * they load (unless keep_sops), then spec.postBuild substitution with
 * substituteFrom read through o->k; in a forked child killed after
 * o->timeout.  out (a secret buffer) gets the YAML stream, nothing on
 * error; the errors are the renderer's, subst.c's and the child's.
 */
sotto_err ks_render(struct sotto_buf *out, const struct ksrender_opts *o,
    struct sotto_error *e);

/* ---- git.c, giturl.c: the git source ---- */
/*
 * What to fetch and how to authenticate: the fields of the GitRepository's
 * spec.secretRef Secret (Flux's keys), decoded, NUL-terminated, borrowed.
 * The fetch child sees them through fork(); nothing goes to disk or argv.
 */
struct kgit_ref {
	const char *src_ns, *src_name;	/* the GitRepository's metadata:
					   its cache is its own */
	const char *branch, *tag, *commit;	/* Flux's precedence: commit, */
	bool any_ref;			/* commit holds a kustomize remote
					   base's ?ref=: a tag, a branch,
					   or a commit (tried in order) */
	const char *name, *semver;		/* name, semver, tag, branch */
	const char *ignore;		/* spec.ignore (gitignore) or NULL */
	double timeout;			/* spec.timeout in seconds (> 0) */
	bool offline;			/* spec.suspend: no fetch, use the
					   cache's last fetched refs */
	bool allow_http, allow_file;	/* --allow-http-sources,
					   --allow-file-sources */
	const char *secret;		/* "ns/name" of the Secret, messages */
	const char *username;		/* https basic auth or NULL */
	const char *password;		/* https password, or ssh key
					   passphrase (Flux reuses it) */
	const char *bearer;		/* https "bearerToken" or NULL */
	const char *ca;			/* https "ca.crt" (or "caFile") PEM */
	size_t ca_len;			/* bytes at ca */
	const char *identity;		/* ssh private key (PEM/OpenSSH) */
	const char *identity_pub;	/* ssh "identity.pub" or NULL */
	const char *known_hosts;	/* ssh, required for ssh URLs */
};
#define KGIT_TIMEOUT 60.0	/* Flux's default GitRepository spec.timeout */
struct kgit_result {
	char workdir[4096];	/* checkout root (ciphertext only) */
	char revision[320];	/* "<branch>@sha1:<hex>" */
	bool auth_failed;	/* on error: the server refused the Secret's
				   credentials, or the Secret lacks what the
				   URL needs (Flux's AuthenticationFailed) */
};
/*
 * Fetches ref from url into its own directory of cache_dir (incremental)
 * and checks it out, in a forked child so libgit2 is never mapped into
 * the agent; the child is killed at ref->timeout.  The directory is
 * <ns>_<name>_<hash>, the hash keyed by cache_dir's random key and taken
 * over the URL and every credential: no two GitRepositories share one,
 * and a suspended (offline) source reads only its own.
 * The URL must pass kgit_url_parse(); userinfo never reaches libgit2, the
 * disk or a message: an https user and password are basic auth when the
 * Secret has none (Flux's rule), an ssh user is the login.  Credentials
 * and the bearer header go only to the URL's scheme, host and port: no
 * redirect to another host is followed.  https: basic auth or a bearer
 * token, and ref->ca as an extra trust anchor; ssh: ref->identity, with
 * the server's host key checked against ref->known_hosts (an ssh URL
 * without known_hosts is refused).
 * Errors: SOTTO_E_CONFIG for what the spec gets wrong (the URL, the
 * GitRepository's namespace or name, spec.timeout), SOTTO_E_GIT for a
 * failed or timed-out fetch, SOTTO_E_IO for the cache directory; messages
 * name the host and the Secret, never a credential.
 */
sotto_err kgit_sync(struct kgit_result *res, const char *cache_dir,
    const char *url, const struct kgit_ref *ref, struct sotto_error *e);
/*
 * Removes the checkouts kgit_sync made in cache_dir for GitRepository
 * ns/name (every one: another spec or credentials made another); none is
 * no error.
 */
sotto_err kgit_cache_remove(const char *cache_dir, const char *ns,
    const char *name, struct sotto_error *e);

/* known_hosts' name of libgit2's git_cert_ssh_raw_type_t t, or "unknown". */
const char *kgit_ssh_key_type(int t);
/*
 * The known_hosts text kh (OpenSSH's format, hashed names too) on the
 * host key blob key of name ("host", or "[host]:port" off port 22): 0 not
 * listed, 1 listed with another key, 2 listed with this key, 3 this key
 * is @revoked.  The fetch's check and `sotto bootstrap`'s share it.
 */
int kgit_known_host(const char *kh, const char *name, const uint8_t *key,
    size_t keylen);

/* A GitRepository spec.url taken apart by kgit_url_parse(). */
enum kgit_scheme { KGIT_HTTPS, KGIT_HTTP, KGIT_SSH, KGIT_FILE };
struct kgit_url {
	enum kgit_scheme scheme;	/* scp-like [user@]host:path is ssh */
	char url[2048];		/* what libgit2 gets: no userinfo, the
				   scheme lowercase (ssh+git:// and
				   git+ssh:// become ssh://) */
	char host[256];		/* lowercase, IPv6 without brackets; ""
				   for file:// */
	int port;		/* given, else the scheme's; 0 for file:// */
	const char *path;	/* into url: the path (file:// only) */
	bool userinfo;		/* the URL had "user[:password]@" */
	char user[256];		/* its user, percent-decoded, or "" */
	char pass[256];		/* its password, decoded, or "" (secret:
				   kgit_url_wipe() clears it) */
};
#define KGIT_URL_HINT "(use https://, ssh:// or user@host:path; http:// " \
	"needs --allow-http-sources, file:// needs --allow-file-sources)"
/*
 * The allowlist: https://, ssh:// (also ssh+git://, git+ssh://) and
 * scp-like [user@]host:path; http:// only with allow_http, file:///path
 * only with allow_file.  Refused with SOTTO_E_CONFIG and a message naming
 * spec.url (shown without userinfo, control bytes escaped): any other
 * scheme or a local path (KGIT_URL_HINT says what to use), whitespace or
 * control bytes, an empty or malformed host (one starting with '-'), a
 * bad port, an empty path, "transport::address", a password in an ssh
 * URL, a quote in an ssh path, percent-encoding in a file:// path.
 * u->pass may hold a password: wipe u with kgit_url_wipe().
 */
sotto_err kgit_url_parse(struct kgit_url *u, const char *url,
    bool allow_http, bool allow_file, struct sotto_error *e);
void kgit_url_wipe(struct kgit_url *u);
/*
 * A file:// u (spec.url as given: url) must not lead into the cache
 * directory root, spelled lexically or through symlinks: SOTTO_E_CONFIG.
 */
sotto_err kgit_url_outside(const struct kgit_url *u, const char *url,
    const char *root, struct sotto_error *e);
/*
 * url for a message: any "user[:password]@" dropped, control bytes as
 * \xNN, cut to about 160 bytes ("..." marks the cut).
 */
void kgit_url_shown(char *out, size_t cap, const char *url);
#define KGIT_CACHE_KEY_BYTES 32
/*
 * The cache directory name of ref fetched from u: "<ns>_<name>_<hex>"
 * (name cut to fit 255 bytes), hex a 128-bit BLAKE2b keyed with key over
 * the namespace, name, URL and every credential (Secret and URL).
 * SOTTO_E_CONFIG when ref->src_ns is not a DNS-1123 label or
 * ref->src_name not a DNS-1123 subdomain.
 */
sotto_err kgit_cache_name(char *out, size_t cap,
    const struct kgit_ref *ref, const struct kgit_url *u,
    const uint8_t key[KGIT_CACHE_KEY_BYTES], struct sotto_error *e);
/*
 * dir as a private directory: created (mode 0700, with missing parents
 * when parents) if absent, then refused (SOTTO_E_IO, the message names
 * dir and the fault) when it is a symlink, not a directory, owned by
 * another uid, or open to group or others.
 */
sotto_err kgit_private_dir(const char *dir, bool parents,
    struct sotto_error *e);
/*
 * The random key of root's directory names (root/cache-key, 0600), made
 * on first use; SOTTO_E_IO if it cannot be read or made.
 */
sotto_err kgit_cache_key(uint8_t key[KGIT_CACHE_KEY_BYTES], const char *root,
    struct sotto_error *e);
/*
 * Untrusted bytes s[0..n) for a message: control bytes as \xNN, at most
 * max bytes of input ("..." marks a cut), NUL-terminated within cap.
 */
void kgit_esc(char *out, size_t cap, const char *s, size_t n, size_t max);

/* ---- client.c: the last response's Date header (sotto check) ---- */
/* Seconds since the epoch, 0 when it had none (or no response yet). */
time_t kube_last_date(const struct sotto_kube *k);

/* ---- client.c: streamed GETs (watches) ---- */
#define KSTREAM_MAX 3	/* transfers at once: Kustomizations, sources,
			   age key Secrets */
struct kstreams;
/*
 * Gets each complete line of a 200 response (NUL-terminated, newline
 * dropped; the buffer is reused after the call); false ends the transfer.
 */
typedef bool (*kstream_line_fn)(void *arg, char *line, size_t len);
sotto_err kstreams_open(struct kstreams **out, struct sotto_kube *k,
    struct sotto_error *e);
/* Ends every transfer and frees s; NULL is a no-op. */
void kstreams_close(struct kstreams *s);
/*
 * Starts GET path in slot (0 .. KSTREAM_MAX-1), ending what ran there.
 * timeout_s is the watch's timeoutSeconds (curl gives up 30 s later); a
 * line longer than max_line ends the transfer with status 0.
 */
sotto_err kstreams_start(struct kstreams *s, int slot, const char *path,
    long timeout_s, size_t max_line, kstream_line_fn fn, void *arg,
    struct sotto_error *e);
/* Ends the transfer in slot and forgets its result. */
void kstreams_stop(struct kstreams *s, int slot);
/* Moves data for up to ms milliseconds (0: only what is ready). */
void kstreams_run(struct kstreams *s, int ms);
bool kstreams_running(const struct kstreams *s, int slot);
/*
 * True once the transfer in slot has finished (until kstreams_stop or the
 * next start): *status is its HTTP status (0 when the transport failed or
 * it was ended; *err says why), *rest what followed the last newline (an
 * error Status body when status is not 200).
 */
bool kstreams_ended(struct kstreams *s, int slot, long *status,
    const struct sotto_buf **rest, const char **err);

/* ---- watch.c ---- */
struct kwatch;
enum kwake {
	KW_TIMEOUT,	/* the deadline passed, nothing to do */
	KW_STOP,	/* *stop was set */
	KW_FULL,	/* something changed that needs a full pass */
	KW_SOME,	/* only the Kustomizations in *due changed */
	KW_KEYS		/* a Secret labelled SOTTO_KEY_LABEL changed */
};
/*
 * Watches kustomizations.kustomize.toolkit.fluxcd.io,
 * gitrepositories.source.toolkit.fluxcd.io and the Secrets labelled
 * SOTTO_KEY_LABEL (clusterkey.c) in ns (NULL: every namespace)
 * through k's connection settings.  Nothing is sent until kwatch_wait.
 */
sotto_err kwatch_open(struct kwatch **out, struct sotto_kube *k,
    const char *ns, struct sotto_error *e);
void kwatch_close(struct kwatch *w);
enum kwatch_col { KWATCH_KS, KWATCH_GR };
/*
 * A pass LISTs a collection (in pages): begin stops its stream, each item
 * is recorded as handled (later events are compared with its generation
 * and reconcile.fluxcd.io/requestedAt), end sets the resume point to the
 * LIST's resourceVersion.  Whether a listed object is due is the
 * scheduler's question (sched.c keeps what it last handled), so a change
 * seen by a LIST is never lost.  w may be NULL.
 */
void kwatch_list_begin(struct kwatch *w, enum kwatch_col col);
void kwatch_list_item(struct kwatch *w, enum kwatch_col col,
    const json_t *o);
void kwatch_list_end(struct kwatch *w, enum kwatch_col col, const char *rv);
/*
 * Waits until the wall-clock time wake, or earlier when a Kustomization's
 * generation or requestedAt changes, one is added or deleted, or a
 * GitRepository changes (KW_FULL).  Status-only updates (ours) are
 * ignored.  end is when the next full pass is due (it sets the watch's
 * timeoutSeconds).  On KW_SOME *due is an array of the changed
 * Kustomizations (new reference), else NULL.
 */
enum kwake kwatch_wait(struct kwatch *w, double end, double wake,
    const volatile int *stop, json_t **due);
/* metadata.annotations["reconcile.fluxcd.io/requestedAt"] or NULL. */
const char *kwatch_requested_at(const json_t *obj);

/* ---- clusterkey.c: keys born in the cluster (issue #19) ---------------- */
struct kkeys;
/* SOTTO_E_NOMEM or SOTTO_OK; free with kkeys_free (NULL is a no-op). */
sotto_err kkeys_new(struct kkeys **out);
void kkeys_free(struct kkeys *kk);
/*
 * One pass over the Secrets labelled SOTTO_KEY_LABEL in ns (NULL: all):
 * fills "generate" ones, publishes every one's recipients in its
 * ConfigMap and answers the rotate, retire and export requests (retire
 * is refused while a Kustomization's files, as kkeys_note saw them or its
 * status says, still use the recipient).  Errors are logged per Secret,
 * never a key.
 */
void kkeys_pass(struct kkeys *kk, struct sotto_kube *k, const char *ns);
/*
 * Remembers the age recipients named by the sops metadata of the files
 * in checkout workdir of source revision rev, which Kustomization ks
 * applied: every file of the checkout, applied or not (an overlay may
 * take resources from ../base; a retire errs on the side of refusing).
 * A revision already scanned for ks is not scanned again, nor a checkout
 * already scanned at rev for another Kustomization.  Takes mu (which
 * guards kk) itself and reads the files without holding it.
 */
void kkeys_note(struct kkeys *kk, pthread_mutex_t *mu, const json_t *ks,
    const char *workdir, const char *rev);
/* Adds SOTTO_KEY_STATUS_FIELD to status when kkeys_note saw ks ("ns/n"). */
void kkeys_status(const struct kkeys *kk, const char *ks, json_t *status);
/* The sotto_kustomization_decryption_recipient series, appended to b. */
void kkeys_metrics(const struct kkeys *kk, struct sotto_buf *b);

/* ---- util.c ---- */
/* A tree branch as JSON (comments dropped); NULL on out-of-memory. */
json_t *kjson_from_tree(const struct sotto_node *n);
/* o[a][b]... as a string or NULL; path is dot-separated, no escapes. */
const char *kjson_str(const json_t *o, const char *path);
json_t *kjson_get(const json_t *o, const char *path);
/* Go duration ("1m30s", "500ms") in seconds; -1 when malformed. */
double kduration(const char *s);
/* RFC 3339 UTC now; micro adds microseconds (Lease MicroTime). */
void know(char *out, size_t cap, bool micro);
/* One JSON line on stderr: ts, level, msg, kustomization, revision. */
void klog(const char *level, const char *ks, const char *rev,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* secs as Go's time.Duration.String() does: "10m0s", "1h30m0s", "1.5s",
 * "500ms", "0s". */
void kduration_fmt(char *out, size_t cap, double secs);

/* ---- events.c ---- */
#define KEVENT_MEMO 8
struct kevent_slot {
	uint64_t key;		/* hash of type, reason and message */
	uint64_t stamp;		/* name suffix of the Event sent (ns clock) */
	unsigned long count;	/* count last sent; 0 = empty slot */
};
/* The last KEVENT_MEMO distinct Events sent for one object. */
struct kevent_memo {
	struct kevent_slot v[KEVENT_MEMO];
	unsigned next;		/* slot to reuse next */
};
struct kevent {
	const json_t *obj;	/* involved object (apiVersion, kind,
				   metadata.name/namespace/uid/...) */
	const char *type;	/* "Normal" or "Warning" */
	const char *reason;	/* Flux reason, e.g. "BuildFailed" */
	const char *message;	/* condition text or change set; never a
				   value (cut at 1 KiB) */
	const char *group;	/* annotation prefix: the involved object's
				   API group; NULL: kustomize.toolkit.fluxcd.io */
	const char *revision;	/* <group>/revision annotation, or NULL */
	const char *digest;	/* <group>/digest annotation, or NULL */
	const char *component;	/* source.component, reportingComponent */
	const char *instance;	/* reportingInstance (the pod's name) */
};
/*
 * Records ev in the object's namespace: POSTs a core/v1 Event named
 * "<object>.<hex ns clock>", or, when memo (may be NULL) remembers the same
 * type, reason and message, PATCHes that Event's count and lastTimestamp
 * (a fresh Event if it has expired).  Best effort: errors are logged.
 */
void kevent_record(struct sotto_kube *k, struct kevent_memo *memo,
    const struct kevent *ev);
/* The Event body (count 1, both timestamps ts); NULL on out-of-memory. */
json_t *kevent_json(const struct kevent *ev, const char *name,
    const char *ts);
/* "<obj_name>.<hex stamp>", the name cut so the whole is <= 253 bytes. */
void kevent_name(char *out, size_t cap, const char *obj_name,
    uint64_t stamp);
/* Cuts msg to at most max bytes ending in "…", on a UTF-8 boundary. */
void kevent_truncate(char *msg, size_t max);

/* ---- apply.c ---- */
struct kres {
	char *group, *version, *kind, *plural;	/* resource identity */
	bool namespaced;			/* namespaced kind */
};
struct kdisc {
	struct kres *v;		/* every kind the server serves */
	size_t n, cap;		/* count, allocated */
};
sotto_err kdisc_load(struct kdisc *d, struct sotto_kube *k,
    struct sotto_error *e);
const struct kres *kdisc_find(const struct kdisc *d, const char *group,
    const char *version, const char *kind);
/* Adds the kinds of one APIResourceList (subresources skipped) to d. */
sotto_err kube_disc_add(struct kdisc *d, const json_t *list,
    const char *group, const char *version);
/* 0 for CRDs, Namespaces and cluster-wide class kinds (applied first,
 * spec §7.2), else 1. */
int kube_stage_of(const char *group, const char *kind);
/*
 * Splits an inventory id "<ns>_<name>_<group>_<Kind>" (ns and group may be
 * empty) into four buffers of 256 bytes; false when it is not one.
 */
bool kube_inventory_split(const char *id, char *ns, char *name, char *group,
    char *kind);
void kdisc_free(struct kdisc *d);
/* "/api/v1/namespaces/ns/configmaps[/name]" */
sotto_err kres_path(struct sotto_buf *b, const struct kres *r,
    const char *ns, const char *name);

enum kaction { KA_NONE, KA_CREATED, KA_CONFIGURED, KA_UNCHANGED, KA_SKIPPED,
    KA_DELETED };

struct kobj {
	json_t *o;			/* desired object (owned) */
	const struct kres *res;		/* resolved kind */
	const char *ns, *name, *kind;	/* borrowed from o */
	char *group, *version;		/* from apiVersion */
	char *id;			/* inventory id */
	int stage;			/* 0: CRDs, Namespaces, classes */
	enum kaction action;		/* what happened */
	bool pending;			/* needs the real apply */
	bool planned;			/* compared with the live object */
	json_t *cleanup;		/* json-patch ops sent before the apply
					   (managedFields, last-applied) */
};

struct kapply_opts {
	const char *field_manager;	/* "sotto" */
	const char *ks_name, *ks_ns;	/* owner (labels, logs) */
	const char *revision;		/* for logs */
	const char *target_ns;		/* spec.targetNamespace or NULL */
	const json_t *common;		/* spec.commonMetadata or NULL */
	bool force;			/* spec.force */
	double poll;			/* seconds between wait polls */
	const volatile int *stop;	/* stop between objects */
	struct sotto_buf *changes;	/* if not NULL, one "<ref> <action>\n"
					   line per object created, configured
					   or deleted (spec §7.5) */
};

struct kset {
	struct kobj *v;		/* objects in apply order */
	size_t n, cap;
};
/*
 * Parses a rendered YAML stream into s: checks apiVersion/kind/name,
 * resolves kinds, sets namespaces, owner labels, Secret stringData ->
 * data, inventory ids, stages.  Plaintext stays in wiped memory.  d NULL
 * (no cluster: `sotto build --dry-run`): kinds are not resolved, the
 * namespaces stay as rendered and objects get no inventory id.
 */
sotto_err kset_build(struct kset *s, const struct sotto_buf *yaml,
    struct kdisc *d, struct sotto_kube *k, const struct kapply_opts *o,
    struct sotto_error *e);
/* Applies every object, stage by stage (spec §7.2-7.5). */
sotto_err kset_apply(struct kset *s, struct sotto_kube *k, struct kdisc *d,
    const struct kapply_opts *o, struct sotto_error *e);
/* Polls applied objects until healthy (spec §7.7) or timeout. */
sotto_err kset_wait(struct kset *s, struct sotto_kube *k,
    const struct kapply_opts *o, double timeout, struct sotto_error *e);
/*
 * The objects spec.healthChecks names ([{apiVersion, kind, name,
 * namespace}]; namespace defaults to def_ns), resolved but not applied,
 * for kset_wait() when spec.wait is false.
 */
sotto_err kset_from_refs(struct kset *s, const json_t *refs,
    const struct kdisc *d, const struct kapply_opts *o, const char *def_ns,
    struct sotto_error *e);
/*
 * The server-side apply of ko as a dry run (dryRun=All, ao's field
 * manager, force), as the controller plans it: *out the object the API
 * server would store (new reference).  SOTTO_E_EXISTS (e clear) when an
 * immutable field changed and force is wanted: the apply would delete
 * and recreate the object.
 */
sotto_err kobj_dry_run(json_t **out, struct sotto_kube *k,
    const struct kobj *ko, const struct kapply_opts *ao,
    struct sotto_error *e);
/* Would the apply leave ko alone (reconcile: disabled, ssa: Ignore, or
 * ssa: IfNotPresent with live existing)?  live may be NULL. */
bool kobj_skipped(const struct kobj *ko, const json_t *live);
void kset_free(struct kset *s);
/* Inventory entries [{id, v}] sorted by id (new reference). */
json_t *kset_inventory(const struct kset *s);
/*
 * Deletes objects of old inventory missing from the new one (spec §7.6),
 * namespaced ones first, CRDs last, with Flux's rules: only objects whose
 * owner labels name this Kustomization, never one annotated
 * kustomize.toolkit.fluxcd.io/prune: disabled, reconcile: disabled or
 * ssa: Ignore.  Entries that could not be deleted are appended to keep;
 * those deleted to deleted (may be NULL).
 */
sotto_err kprune(json_t *keep, const json_t *old_entries,
    const json_t *new_entries, struct sotto_kube *k, struct kdisc *d,
    const struct kapply_opts *o, json_t *deleted, struct sotto_error *e);

/* ---- sourceignore.c: what a GitRepository artifact leaves out ---------- */
/*
 * Removes from the checkout at root the files Flux would leave out of the
 * artifact: its default patterns, .sourceignore files, then spec_ignore
 * (may be NULL).  *removed counts them.
 */
sotto_err ksrc_ignore(size_t *removed, const char *root,
    const char *spec_ignore, struct sotto_error *e);

/* ---- secret.c: Secret data ------------------------------------------- */
/*
 * The base64 Secret value v decoded into out, NUL-terminated (out keeps its
 * own secrecy flag); SOTTO_E_KEY_FORMAT if v is not a base64 string.
 */
sotto_err ksecret_decode(struct sotto_buf *out, const json_t *v);
/* Wipes every string of a Secret's data in place (they held secrets). */
void ksecret_wipe(json_t *data);

/* ---- semver.c: GitRepository spec.ref.semver ---------------------------- */
struct ksemver {
	long major, minor, patch;
	char pre[64];			/* pre-release, "" if none */
};
/* "[v]1.2.3[-pre][+build]"; false if it is not a version. */
bool ksemver_parse(struct ksemver *v, const char *s);
int ksemver_cmp(const struct ksemver *a, const struct ksemver *b);
/* 1 if v satisfies range, 0 if not, -1 if range is malformed. */
int ksemver_match(const char *range, const struct ksemver *v);
/* Index in tags of the highest version satisfying range. */
sotto_err ksemver_best(size_t *best, const char *range,
    const char *const *tags, size_t n, struct sotto_error *e);

#endif
