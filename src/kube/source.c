/* SPDX-License-Identifier: ISC */
/*
 * One GitRepository, reconciled as source-controller does it (issue #15):
 * the spec checked against what the agent implements, the credentials of
 * spec.secretRef read, the fetch (git.c, in a child), then the artifact
 * Kustomizations apply: the revision, a digest of the checkout and when
 * it was produced.  In cluster mode the status carries Ready,
 * ArtifactInStorage (or FetchFailed / Stalled) and status.artifact, as
 * `flux reconcile source git` reads them, and Events are recorded:
 * NewArtifact when the content changed, Succeeded on recovery, a Warning
 * with the failure's reason.  When does a source run is sched.c's.
 *
 * There is no artifact server: status.artifact.url is the checkout's
 * file:// path inside the agent, and path names it as source-controller
 * lays out its storage (without the .tar.gz).  The digest is a SHA-256 of
 * the checkout (after spec.ignore) as sotto hashes it, not of a tarball.
 */
#include "kube/agent.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "sotto/io.h"

/* ---- credentials ---------------------------------------------------------- */

/*
 * The GitRepository's spec.secretRef entries, decoded (Flux's keys).  The
 * credential buffers are secret (wiped on release); the CA, public key and
 * known_hosts are not secret but are kept the same way for simplicity.
 */
struct src_creds {
	char name[600];			/* "ns/name", for messages */
	struct sotto_buf user, pass;	/* username, password */
	struct sotto_buf bearer;	/* bearerToken */
	struct sotto_buf identity;	/* ssh private key */
	struct sotto_buf pub, ca, known;	/* identity.pub, ca.crt, known_hosts */
};

static void
src_creds_release(struct src_creds *sc)
{
	sotto_buf_release(&sc->user);
	sotto_buf_release(&sc->pass);
	sotto_buf_release(&sc->bearer);
	sotto_buf_release(&sc->identity);
	sotto_buf_release(&sc->pub);
	sotto_buf_release(&sc->ca);
	sotto_buf_release(&sc->known);
}

/* Decodes data[key] into out; an absent entry leaves out empty. */
static sotto_err
secret_entry(struct sotto_buf *out, json_t *data, const char *key,
    const char *sname, struct sotto_error *e)
{
	json_t *v = json_object_get(data, key);
	sotto_err rc;

	if (json_string_length(v) == 0)
		return SOTTO_OK;
	if ((rc = ksecret_decode(out, v)) == SOTTO_E_NOMEM)
		return sotto_error_set(e, rc, "out of memory");
	if (rc != SOTTO_OK)
		return sotto_error_set(e, rc, "entry '%s' of source Secret "
		    "'%s' is not valid base64", key, sname);
	return SOTTO_OK;
}

/* Reads every entry kgit_sync() knows, then wipes the JSON copies. */
static sotto_err
read_source_secret(struct src_creds *sc, struct rctx *c, const json_t *gr,
    struct sotto_error *e)
{
	struct kref ref = { "", "v1", "secrets", kjson_str(gr,
	    "metadata.namespace"), kjson_str(gr, "spec.secretRef.name"),
	    NULL };
	json_t *s = NULL, *data;
	sotto_err rc;

	/* the GitRepository's own namespace: check_gr() checked the name */
	snprintf(sc->name, sizeof(sc->name), "%s/%s", ref.ns, ref.name);
	if ((rc = rc_get_object(&s, c, &ref, e)) != SOTTO_OK)
		return sotto_error_prefix(e, "cannot get source Secret '%s'",
		    sc->name);
	data = json_object_get(s, "data");
	if ((rc = secret_entry(&sc->user, data, "username", sc->name, e)) ||
	    (rc = secret_entry(&sc->pass, data, "password", sc->name, e)) ||
	    (rc = secret_entry(&sc->bearer, data, "bearerToken", sc->name,
	    e)) ||
	    (rc = secret_entry(&sc->identity, data, "identity", sc->name,
	    e)) ||
	    (rc = secret_entry(&sc->pub, data, "identity.pub", sc->name, e)) ||
	    (rc = secret_entry(&sc->known, data, "known_hosts", sc->name,
	    e)) ||
	    (rc = secret_entry(&sc->ca, data, "ca.crt", sc->name, e)))
		goto out;
	if (sc->ca.len == 0)	/* Flux's older name */
		rc = secret_entry(&sc->ca, data, "caFile", sc->name, e);
out:
	ksecret_wipe(data);
	json_decref(s);
	return rc;
}

/* Points ref at the decoded entries (borrowed from sc). */
static void
src_creds_ref(struct kgit_ref *ref, const struct src_creds *sc)
{
#define SC_STR(b) ((b).len > 0 ? (const char *)(b).data : NULL)
	ref->secret = sc->name;
	ref->username = SC_STR(sc->user);
	ref->password = SC_STR(sc->pass);
	ref->bearer = SC_STR(sc->bearer);
	ref->identity = SC_STR(sc->identity);
	ref->identity_pub = SC_STR(sc->pub);
	ref->known_hosts = SC_STR(sc->known);
	ref->ca = SC_STR(sc->ca);
	ref->ca_len = sc->ca.len;
#undef SC_STR
}

/* The GitRepository's fetch timeout: spec.timeout, else Flux's 60 s. */
static double
src_timeout(const json_t *gr)
{
	return kjson_get(gr, "spec.timeout") == NULL ? KGIT_TIMEOUT :
	    kduration(kjson_str(gr, "spec.timeout"));
}

static sotto_err
fetch(struct kgit_result *res, struct rctx *c, const json_t *gr,
    struct sotto_error *e)
{
	struct kgit_ref ref;
	struct src_creds sc = { "", SOTTO_BUF_SECRET_INIT,
	    SOTTO_BUF_SECRET_INIT, SOTTO_BUF_SECRET_INIT,
	    SOTTO_BUF_SECRET_INIT, SOTTO_BUF_INIT, SOTTO_BUF_INIT,
	    SOTTO_BUF_INIT };
	const char *url = kjson_str(gr, "spec.url");
	sotto_err rc;

	memset(res, 0, sizeof(*res));
	memset(&ref, 0, sizeof(ref));
	ref.branch = kjson_str(gr, "spec.ref.branch");
	ref.tag = kjson_str(gr, "spec.ref.tag");
	ref.commit = kjson_str(gr, "spec.ref.commit");
	ref.name = kjson_str(gr, "spec.ref.name");
	ref.semver = kjson_str(gr, "spec.ref.semver");
	ref.ignore = kjson_str(gr, "spec.ignore");
	ref.offline = json_is_true(kjson_get(gr, "spec.suspend"));
	ref.src_ns = kjson_str(gr, "metadata.namespace");
	ref.src_name = kjson_str(gr, "metadata.name");
	ref.timeout = src_timeout(gr);
	ref.allow_http = c->o->allow_http_sources;
	ref.allow_file = c->o->allow_file_sources;
	if (!ref.branch && !ref.tag && !ref.commit && !ref.name && !ref.semver)
		ref.branch = "master";
	if (url == NULL)
		return sotto_error_set(e, SOTTO_E_CONFIG, "GitRepository has "
		    "no spec.url");
	if (kjson_str(gr, "spec.secretRef.name") != NULL) {
		if ((rc = read_source_secret(&sc, c, gr, e)) != SOTTO_OK) {
			res->auth_failed = true;	/* as Flux reports it */
			goto out;
		}
		src_creds_ref(&ref, &sc);
	}
	rc = kgit_sync(res, c->o->cache_dir, url, &ref, e);
out:
	src_creds_release(&sc);
	return rc;
}

/* ---- what the agent accepts (issue #14) --------------------------------- */

/*
 * A git reference name as `git check-ref-format` takes it (so that a
 * spec.ref cannot smuggle a second refspec, a glob or an option): no
 * control bytes, space, ~ ^ : ? * [ \\, no "..", "@{", "//", no leading
 * '-', '/' or '.', no trailing '/', '.' or ".lock".
 */
static bool
refname_ok(const char *s)
{
	size_t n = strlen(s);
	const unsigned char *p;

	if (n == 0 || n > 255 || s[0] == '-' || s[0] == '/' || s[0] == '.' ||
	    s[n - 1] == '/' || s[n - 1] == '.' || strstr(s, "..") ||
	    strstr(s, "@{") || strstr(s, "//") || strstr(s, "/.") ||
	    (n >= 5 && strcmp(s + n - 5, ".lock") == 0) || strcmp(s, "@") == 0)
		return false;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f || strchr("~^:?*[\\", *p) != NULL)
			return false;
	return true;
}

/* 40 (SHA-1) or 64 (SHA-256) lowercase hex digits. */
static bool
commit_ok(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return s[n] == '\0' && (n == 40 || n == 64);
}

/*
 * The GitRepository's side of issue #14's rules; false with *reason and e
 * set (the message names the field).
 */
static bool
check_gr(const json_t *gr, const char **reason, struct sotto_error *e)
{
	static const char *const refs[] = { "branch", "tag", "name", NULL };
	const char *v;
	char field[32], q[96];
	size_t i;

	*reason = "InvalidSpec";
	if (flux_check_meta(gr, e) != SOTTO_OK)
		return false;
	if (kfields_check("GitRepository", gr, reason, e) != SOTTO_OK)
		return false;
	*reason = "InvalidSpec";
	if (kjson_str(gr, "spec.url") == NULL) {
		sotto_error_set(e, SOTTO_E_CONFIG, "spec.url is required");
		return false;
	}
	for (i = 0; refs[i] != NULL; i++) {
		snprintf(field, sizeof(field), "spec.ref.%s", refs[i]);
		if ((v = kjson_str(gr, field)) != NULL && !refname_ok(v)) {
			kquote(q, sizeof(q), v);
			sotto_error_set(e, SOTTO_E_CONFIG, "%s '%s': not a "
			    "valid git reference name", field, q);
			return false;
		}
	}
	if ((v = kjson_str(gr, "spec.ref.commit")) != NULL && !commit_ok(v)) {
		kquote(q, sizeof(q), v);
		sotto_error_set(e, SOTTO_E_CONFIG, "spec.ref.commit '%s': want "
		    "a full commit id (40 or 64 lowercase hex digits)", q);
		return false;
	}
	return true;
}

/* ---- the digest of a checkout --------------------------------------------- */

#define DIGEST_MAX_DEPTH 64
#define DIGEST_MAX_FILE ((size_t)256 << 20)

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted entry names of root/rel (without ".", "..", a top ".git"). */
static sotto_err
sorted_names(char ***out, size_t *n, const char *dir, bool top)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL, **nv;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (d == NULL)
		return SOTTO_E_IO;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") ==
		    0 || (top && strcmp(de->d_name, ".git") == 0))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = nv;
		}
		if ((v[*n] = strdup(de->d_name)) == NULL)
			break;
		(*n)++;
	}
	closedir(d);
	if (v != NULL)
		qsort(v, *n, sizeof(*v), cmp_name);
	*out = v;
	return de == NULL ? SOTTO_OK : SOTTO_E_NOMEM;
}

/*
 * Hashes root/rel: for each entry in name order, "d <path>\0" and its
 * entries, "f <path>\0<size>\0<bytes>", or "l <path>\0<target>\0".
 */
static sotto_err
hash_dir(crypto_hash_sha256_state *h, const char *root, const char *rel,
    int depth)
{
	char path[4096], sub[4096], head[64], target[4096];
	char **names = NULL;
	size_t n = 0, i;
	struct stat st;
	ssize_t tn;
	sotto_err rc;

	if (depth > DIGEST_MAX_DEPTH)
		return SOTTO_E_LIMIT;
	snprintf(path, sizeof(path), "%s%s%s", root, rel[0] ? "/" : "", rel);
	if ((rc = sorted_names(&names, &n, path, depth == 0)) != SOTTO_OK)
		goto out;
	for (i = 0; i < n && rc == SOTTO_OK; i++) {
		struct sotto_buf b = SOTTO_BUF_INIT;

		if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ?
		    "/" : "", names[i]) >= sizeof(sub) ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", root, sub) >=
		    sizeof(path)) {
			rc = SOTTO_E_LIMIT;
			break;
		}
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			crypto_hash_sha256_update(h, (const uint8_t *)"d ", 2);
			crypto_hash_sha256_update(h, (const uint8_t *)sub,
			    strlen(sub) + 1);
			rc = hash_dir(h, root, sub, depth + 1);
		} else if (S_ISLNK(st.st_mode)) {
			if ((tn = readlink(path, target, sizeof(target))) < 0)
				tn = 0;
			crypto_hash_sha256_update(h, (const uint8_t *)"l ", 2);
			crypto_hash_sha256_update(h, (const uint8_t *)sub,
			    strlen(sub) + 1);
			crypto_hash_sha256_update(h, (const uint8_t *)target,
			    (size_t)tn);
			crypto_hash_sha256_update(h, (const uint8_t *)"", 1);
		} else if (S_ISREG(st.st_mode)) {
			struct sotto_error e = { SOTTO_OK, "" };

			if ((rc = sotto_io_read_file(&b, path, DIGEST_MAX_FILE,
			    &e)) != SOTTO_OK)
				break;
			snprintf(head, sizeof(head), "%zu", b.len);
			crypto_hash_sha256_update(h, (const uint8_t *)"f ", 2);
			crypto_hash_sha256_update(h, (const uint8_t *)sub,
			    strlen(sub) + 1);
			crypto_hash_sha256_update(h, (const uint8_t *)head,
			    strlen(head) + 1);
			crypto_hash_sha256_update(h, b.data, b.len);
			sotto_buf_release(&b);
		}
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

struct digest_reply {
	sotto_err rc;
	uint8_t sum[crypto_hash_sha256_BYTES];
};

static void
digest_child(void *arg, int fd)
{
	struct digest_reply rep;
	crypto_hash_sha256_state h;

	memset(&rep, 0, sizeof(rep));
	crypto_hash_sha256_init(&h);
	rep.rc = hash_dir(&h, arg, "", 0);
	crypto_hash_sha256_final(&h, rep.sum);
	_exit(sotto_io_write_all(fd, &rep, sizeof(rep)) == SOTTO_OK ? 0 : 1);
}

/*
 * "sha256:<hex>" of the checkout at root, hashed in a child (the files
 * are read whole, so their memory is the child's) killed at timeout.
 */
static sotto_err
checkout_digest(char *out, size_t cap, const char *root, double timeout,
    struct sotto_error *e)
{
	struct digest_reply rep;
	struct kchild ch;
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	int got;

	if (kchild_start(&ch, digest_child, (void *)root, timeout, "digest",
	    e) != SOTTO_OK)
		return e->code;
	got = kchild_read(&ch, &rep, sizeof(rep));
	kchild_end(&ch, got != 1);
	if (got != 1 || rep.rc != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_IO, "cannot compute the "
		    "digest of the checkout%s", got < 0 ? ": timed out" : "");
	sodium_bin2hex(hex, sizeof(hex), rep.sum, sizeof(rep.sum));
	snprintf(out, cap, "sha256:%s", hex);
	return SOTTO_OK;
}

/* ---- status and Events ------------------------------------------------------ */

/* "<hex>" of a revision "<label>@sha1:<hex>" or "sha1:<hex>". */
static const char *
rev_hash(const char *rev)
{
	const char *p = strrchr(rev, ':');

	return p != NULL ? p + 1 : rev;
}

/* status.artifact, as meta.Artifact (path, url, revision required). */
static json_t *
artifact_json(const json_t *gr, const struct artifact *art)
{
	char path[1024], url[4200];

	snprintf(path, sizeof(path), "gitrepository/%s/%s/%s.tar.gz",
	    kjson_str(gr, "metadata.namespace"), kjson_str(gr,
	    "metadata.name"), rev_hash(art->revision));
	snprintf(url, sizeof(url), "file://%s", art->workdir);
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "path", path, "url",
	    url, "revision", art->revision, "digest", art->digest,
	    "lastUpdateTime", art->updated);
}

/*
 * What source-controller would write: on success Ready=True and
 * ArtifactInStorage=True "stored artifact for revision '<rev>'" and the
 * artifact; on failure Ready=False and FetchFailed=True (or Stalled=True
 * for a refused spec) with the reason and fe's message, ArtifactInStorage
 * kept while an older artifact is still served.  Sent only when it
 * differs from what the object holds.
 */
static void
write_status(struct rctx *c, const json_t *gr, const struct artifact *art,
    const struct sotto_error *fe, const char *reason, bool stalled)
{
	const char *ns = kjson_str(gr, "metadata.namespace");
	const char *name = kjson_str(gr, "metadata.name");
	json_int_t gen = json_integer_value(kjson_get(gr,
	    "metadata.generation"));
	const json_t *prev = kjson_get(gr, "status");
	const json_t *pc = kjson_get(prev, "conditions");
	struct sotto_error e = { SOTTO_OK, "" };
	json_t *conds, *s;
	char msg[MSG_MAX];

	if (c->o->config_file != NULL || (conds = json_array()) == NULL)
		return;
	if (gen == 0)
		gen = 1;
	if (art->ok)
		snprintf(msg, sizeof(msg), "stored artifact for revision '%s'",
		    art->revision);
	if (fe->code == SOTTO_OK) {
		json_array_append_new(conds, rc_condition("Ready", "True",
		    "Succeeded", msg, gen, pc));
	} else {
		json_array_append_new(conds, rc_condition("Ready", "False",
		    reason, fe->msg, gen, pc));
		json_array_append_new(conds, rc_condition(stalled ? "Stalled" :
		    "FetchFailed", "True", reason, fe->msg, gen, pc));
	}
	if (art->ok)
		json_array_append_new(conds, rc_condition("ArtifactInStorage",
		    "True", "Succeeded", msg, gen, pc));
	if ((s = json_pack("{s:o, s:I}", "conditions", conds,
	    "observedGeneration", gen)) == NULL)
		return;
	/* on failure the last artifact stays, as source-controller keeps it */
	if (art->ok)
		json_object_set_new(s, "artifact", artifact_json(gr, art));
	if (kjson_str(gr, "spec.ignore") != NULL)
		json_object_set_new(s, "observedIgnore", json_string(kjson_str(
		    gr, "spec.ignore")));
	if (rc_status_changed(s, gr, prev) && rc_patch_status(c, GR_GROUP,
	    "gitrepositories", ns, name, s, &e) != SOTTO_OK)
		klog("error", NULL, art->ok ? art->revision : NULL, "cannot "
		    "write the status of GitRepository %s/%s: %s", ns, name,
		    e.msg);
	json_decref(s);
}

/* Was the object's last Ready condition False (a failure to recover)? */
static bool
was_failing(const json_t *gr)
{
	json_t *cd;
	size_t i;

	json_array_foreach(kjson_get(gr, "status.conditions"), i, cd)
		if (kjson_str(cd, "type") && strcmp(kjson_str(cd, "type"),
		    "Ready") == 0)
			return kjson_str(cd, "status") && strcmp(kjson_str(cd,
			    "status"), "False") == 0;
	return false;
}

/*
 * source-controller's Events: NewArtifact when the digest differs from
 * the one in the status, Succeeded after a failure, a Warning with the
 * failure's reason.  The message names the revision (source-controller
 * names the commit's subject when it has one; the agent never reads it).
 */
static void
record_events(struct rctx *c, struct job *j, const json_t *gr,
    const struct artifact *art, const struct sotto_error *fe,
    const char *reason)
{
	const char *old = kjson_str(gr, "status.artifact.digest");
	struct kevent ev;
	char msg[MSG_MAX];

	if (c->o->config_file != NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.obj = gr;
	ev.component = "sotto";
	ev.instance = c->host;
	ev.group = GR_GROUP;
	if (fe->code != SOTTO_OK) {
		ev.type = "Warning";
		ev.reason = reason;
		ev.message = fe->msg;
	} else if (old == NULL || strcmp(old, art->digest) != 0 ||
	    was_failing(gr)) {
		snprintf(msg, sizeof(msg), "stored artifact for commit '%s'",
		    art->revision);
		ev.type = "Normal";
		ev.reason = old == NULL || strcmp(old, art->digest) != 0 ?
		    "NewArtifact" : "Succeeded";
		ev.message = msg;
		ev.revision = art->revision;
		ev.digest = art->digest;
	} else {
		return;		/* nothing new: source-controller is silent */
	}
	kevent_record(c->k, &j->src->events, &ev);
}

/* ---- one GitRepository ------------------------------------------------------ */

/* The GitRepository j names, from j->obj or the API (new reference). */
static sotto_err
load(json_t **out, struct rctx *c, struct job *j, struct sotto_error *e)
{
	char ns[KEY_MAX], *name;
	struct kref ref = { GR_GROUP, "v1", "gitrepositories", NULL, NULL,
	    NULL };

	*out = NULL;
	if (j->obj != NULL) {
		*out = json_incref(j->obj);
		return SOTTO_OK;
	}
	/* in local mode the scheduler found none in the file */
	snprintf(ns, sizeof(ns), "%s", j->key);
	if ((name = strchr(ns, '/')) == NULL || c->o->config_file != NULL)
		return sotto_error_set(e, SOTTO_E_KUBE_NOTFOUND, "GitRepository "
		    "'%s' not found", j->key);
	*name++ = '\0';
	ref.ns = ns;
	ref.name = name;
	if (rc_get_object(out, c, &ref, e) == SOTTO_E_KUBE_NOTFOUND)
		sotto_error_set(e, SOTTO_E_KUBE_NOTFOUND, "GitRepository '%s' "
		    "not found", j->key);
	if (*out != NULL)
		j->obj = json_incref(*out);	/* what the scheduler reads */
	return e->code;
}

/* The artifact of a successful fetch res. */
static sotto_err
produce(struct artifact *art, const struct artifact *prev, const json_t *gr,
    const struct kgit_result *res, bool same_spec, struct sotto_error *e)
{
	const char *sd = kjson_str(gr, "status.artifact.digest");
	const char *sr = kjson_str(gr, "status.artifact.revision");
	const char *su = kjson_str(gr, "status.artifact.lastUpdateTime");

	art->ok = true;
	snprintf(art->revision, sizeof(art->revision), "%s", res->revision);
	snprintf(art->workdir, sizeof(art->workdir), "%s", res->workdir);
	/* the same commit under the same spec is the same content */
	if (same_spec && prev->ok && strcmp(prev->revision, res->revision) ==
	    0 && strcmp(prev->workdir, res->workdir) == 0) {
		snprintf(art->digest, sizeof(art->digest), "%s", prev->digest);
		snprintf(art->updated, sizeof(art->updated), "%s",
		    prev->updated);
		return SOTTO_OK;
	}
	if (checkout_digest(art->digest, sizeof(art->digest), res->workdir,
	    src_timeout(gr), e) != SOTTO_OK) {
		art->ok = false;
		return e->code;
	}
	if (sd != NULL && su != NULL && sr != NULL && strcmp(sd, art->digest)
	    == 0 && strcmp(sr, art->revision) == 0)
		snprintf(art->updated, sizeof(art->updated), "%s", su);
	else
		know(art->updated, sizeof(art->updated), false);
	return SOTTO_OK;
}

/*
 * source-controller's reconcileDelete: a GitRepository being deleted
 * loses its artifact (here: its checkout) and then the finalizer, so
 * the API server can let it go.  Its Kustomizations find no source
 * after that, as with Flux.
 */
static sotto_err
finalize(struct rctx *c, struct job *j, const json_t *gr,
    struct sotto_error *e)
{
	if (kgit_cache_remove(c->o->cache_dir, kjson_str(gr,
	    "metadata.namespace"), kjson_str(gr, "metadata.name"), e) !=
	    SOTTO_OK) {
		sotto_error_prefix(e, "garbage collection for deleted resource "
		    "failed");
		return e->code;
	}
	klog("info", NULL, NULL, "GitRepository %s: garbage collected "
		    "artifacts for deleted resource", j->key);
	if (kobj_set_finalizer(c, gr, GR_GROUP, "gitrepositories", false, e)
	    != SOTTO_OK)
		return e->code;
	klog("info", NULL, NULL, "GitRepository %s: finalizer %s removed",
	    j->key, KS_FINALIZER);
	return SOTTO_OK;
}

void
src_run(struct rctx *c, struct job *j)
{
	struct sotto_error e = { SOTTO_OK, "" };
	const struct artifact *prev = &j->src->art;
	struct kgit_result res;
	const char *reason = NULL;
	json_t *gr = NULL;
	bool suspended;

	memset(&j->art, 0, sizeof(j->art));
	memset(&res, 0, sizeof(res));
	if (load(&gr, c, j, &e) != SOTTO_OK)
		goto failed;
	if (c->o->config_file == NULL && kjson_str(gr,
	    "metadata.deletionTimestamp") != NULL) {
		/* no artifact from now on, whether ours to finalize or not */
		snprintf(j->art.error, sizeof(j->art.error), "GitRepository "
		    "'%s' is being deleted", j->key);
		if (kobj_has_finalizer(gr, KS_FINALIZER) && finalize(c, j, gr,
		    &e) != SOTTO_OK)
			goto failed;
		goto out;
	}
	/* source-controller adds its finalizer first, suspended or not */
	if (c->o->config_file == NULL && !kobj_has_finalizer(gr,
	    KS_FINALIZER) && kobj_set_finalizer(c, gr, GR_GROUP,
	    "gitrepositories", true, &e) != SOTTO_OK)
		goto failed;
	if (!check_gr(gr, &reason, &e)) {
		/* refused: Stalled until the spec changes, nothing fetched */
		j->art.stalled = true;
		write_status(c, gr, &j->art, &e, reason, true);
		record_events(c, j, gr, &j->art, &e, reason);
		goto failed;
	}
	suspended = json_is_true(kjson_get(gr, "spec.suspend"));
	if (fetch(&res, c, gr, &e) != SOTTO_OK) {
		reason = e.code == SOTTO_E_CONFIG ? "InvalidSpec" :
		    res.auth_failed ? "AuthenticationFailed" :
		    "GitOperationFailed";
		/* like source-controller: the last artifact is still served,
		 * unless the failed fetch took its checkout away */
		if (prev->ok && !suspended && sotto_io_exists(prev->workdir))
			j->art = *prev;
		j->art.ok = j->art.ok && e.code != SOTTO_E_CONFIG;
	} else if (produce(&j->art, prev, gr, &res, j->src->gen ==
	    json_integer_value(kjson_get(gr, "metadata.generation")), &e) !=
	    SOTTO_OK) {
		reason = "StorageOperationFailed";
	}
	/* a suspended source is not reconciled: its status stays */
	if (!suspended) {
		write_status(c, gr, &j->art, &e, reason, e.code ==
		    SOTTO_E_CONFIG);
		record_events(c, j, gr, &j->art, &e, reason);
	}
	if (e.code != SOTTO_OK)
		goto failed;
	klog("info", NULL, j->art.revision, "GitRepository %s: %s artifact "
	    "for revision '%s'", j->key, strcmp(prev->digest, j->art.digest) ==
	    0 ? "unchanged" : "stored", j->art.revision);
	goto out;
failed:
	snprintf(j->art.error, sizeof(j->art.error), "%s", e.msg);
	klog("error", NULL, NULL, "GitRepository %s: %s", j->key, e.msg);
out:
	json_decref(gr);
}
