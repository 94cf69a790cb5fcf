/* SPDX-License-Identifier: ISC */
/*
 * Age keys born in the cluster (issue #19), the agent's side: fills the
 * Secrets labelled sotto.dev/age-key=generate with a fresh identity,
 * publishes their recipients in a ConfigMap, and carries out the requests
 * `sotto cluster` leaves as annotations on them (rotate, retire, export).
 * It also remembers which recipients each Kustomization's encrypted files
 * name, for the Kustomization's status, /metrics and the retire check.
 * The requests' client side is keyreq.c; the loop that calls this is
 * reconcile.c.
 *
 * Secret hygiene: an identity is made in guarded memory (crypto/), its
 * text and base64 live in secret buffers, the Secret's JSON in jansson's
 * wiping allocator (sotto_kube_harden_json), and the request body is wiped
 * after it is sent.  Log lines name Secrets and recipients, never a key.
 */
#include "kube/kint.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "crypto/age_internal.h"	/* sotto_age_identity_generate_pq */
#include "crypto/b64.h"
#include "sotto/io.h"

#define SCAN_FILES_MAX 4096		/* files read per Kustomization */
#define SCAN_FILE_MAX ((size_t)4 << 20)	/* bigger: not a sops file */
#define SCAN_DEPTH_MAX 32
#define RECIP_MAX 1024			/* longest recipient kept */

/* The recipients one Kustomization's files use (its last good scan). */
struct kkey_use {
	char ks[320];		/* "ns/name" of the Kustomization */
	char rev[320];		/* the source revision scanned */
	json_t *recips;		/* sorted array of recipient strings */
};

/* One checkout's scan, shared by the Kustomizations of that source. */
struct kkey_scan {
	char *dir;		/* the checkout */
	char rev[320];		/* its revision when scanned */
	json_t *recips;		/* sorted array, never changed once made */
};

#define SCANS_MAX 1024		/* checkouts remembered (one per source) */

struct kkeys {
	struct kkey_use *v;	/* one per Kustomization scanned */
	size_t n, cap;
	struct kkey_scan *sv;	/* the checkouts scanned */
	size_t sn, scap;
};

/* One labelled Secret while it is handled. */
struct ksec {
	json_t *obj;		/* the Secret (ours: changed in place) */
	const char *ns, *name;	/* borrowed from obj, validated */
	char key[320];		/* "ns/name" for logs */
	char cm[256];		/* its ConfigMap's name */
	struct sotto_buf text;	/* SOTTO_KEY_ENTRY decoded (secret) */
	struct sotto_age_idlist ids;	/* parsed from text, file order */
	json_t *recips;		/* their recipients, file order */
	json_t *cmdata;		/* the ConfigMap's data (new or changed) */
	json_t *cmobj;		/* the ConfigMap as read, or NULL */
	bool dirty;		/* the Secret must be written */
};

sotto_err
kkeys_new(struct kkeys **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? SOTTO_OK : SOTTO_E_NOMEM;
}

static void
scans_clear(struct kkeys *kk)
{
	size_t i;

	for (i = 0; i < kk->sn; i++) {
		free(kk->sv[i].dir);
		json_decref(kk->sv[i].recips);
	}
	kk->sn = 0;
}

void
kkeys_free(struct kkeys *kk)
{
	size_t i;

	if (kk == NULL)
		return;
	for (i = 0; i < kk->n; i++)
		json_decref(kk->v[i].recips);
	free(kk->v);
	scans_clear(kk);
	free(kk->sv);
	free(kk);
}

static const char *
annotation(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(kjson_get(o,
	    "metadata.annotations"), key));
}

static const char *
cm_str(const struct ksec *s, const char *key)
{
	return json_string_value(json_object_get(s->cmdata, key));
}

/* ---- what the Kustomizations' files use --------------------------------- */

static bool
bech32_char(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

static void
add_sorted(json_t *set, const char *r)
{
	size_t i;
	json_t *v;

	json_array_foreach(set, i, v) {
		int c = strcmp(json_string_value(v), r);

		if (c == 0)
			return;
		if (c > 0) {
			json_array_insert_new(set, i, json_string(r));
			return;
		}
	}
	json_array_append_new(set, json_string(r));
}

/*
 * Every age1... recipient that follows the word "recipient" (sops' age
 * metadata in YAML, JSON, INI and dotenv spellings alike) in p[0..n).
 */
static void
scan_text(json_t *set, const char *p, size_t n)
{
	const char *end = p + n, *q = p;
	char r[RECIP_MAX];
	size_t len;

	while ((q = memmem(q, (size_t)(end - q), "recipient", 9)) != NULL) {
		q += 9;
		while (q < end && strchr("\"': =\t", *q) != NULL && *q != '\0')
			q++;
		if (end - q < 5 || memcmp(q, "age1", 4) != 0)
			continue;
		for (len = 4; q + len < end && bech32_char(q[len]); len++)
			;
		if (len < sizeof(r) && len > 8) {
			memcpy(r, q, len);
			r[len] = '\0';
			add_sorted(set, r);
		}
		q += len;
	}
}

static void
scan_dir(json_t *set, const char *dir, int depth, size_t *files)
{
	DIR *d;
	struct dirent *de;
	struct stat sb;
	char p[4096];

	if (depth > SCAN_DEPTH_MAX || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL && *files < SCAN_FILES_MAX) {
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, ".git") == 0))
			continue;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >=
		    sizeof(p) || lstat(p, &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			scan_dir(set, p, depth + 1, files);
		} else if (S_ISREG(sb.st_mode) && (size_t)sb.st_size <=
		    SCAN_FILE_MAX) {
			struct sotto_buf b = SOTTO_BUF_INIT;
			struct sotto_error e = { SOTTO_OK, "" };

			(*files)++;
			if (sotto_io_read_file(&b, p, SCAN_FILE_MAX, &e) ==
			    SOTTO_OK)
				scan_text(set, (const char *)b.data, b.len);
			sotto_buf_release(&b);
		}
	}
	closedir(d);
}

static struct kkey_use *
use_for(struct kkeys *kk, const char *ks)
{
	struct kkey_use *nv;
	size_t i;

	for (i = 0; i < kk->n; i++)
		if (strcmp(kk->v[i].ks, ks) == 0)
			return &kk->v[i];
	if (kk->n == kk->cap) {
		size_t cap = kk->cap ? kk->cap * 2 : 16;

		if ((nv = realloc(kk->v, cap * sizeof(*nv))) == NULL)
			return NULL;
		kk->v = nv;
		kk->cap = cap;
	}
	nv = &kk->v[kk->n++];
	memset(nv, 0, sizeof(*nv));
	snprintf(nv->ks, sizeof(nv->ks), "%s", ks);
	return nv;
}

/* The scan of dir at rev, a new reference, or NULL when not made yet. */
static json_t *
scan_cached(const struct kkeys *kk, const char *dir, const char *rev)
{
	size_t i;

	for (i = 0; i < kk->sn; i++)
		if (strcmp(kk->sv[i].dir, dir) == 0)
			return strcmp(kk->sv[i].rev, rev) == 0 ?
			    json_incref(kk->sv[i].recips) : NULL;
	return NULL;
}

/* Remembers set as the scan of dir at rev (a checkout has one entry). */
static void
scan_keep(struct kkeys *kk, const char *dir, const char *rev, json_t *set)
{
	struct kkey_scan *sc = NULL, *nv;
	size_t i;

	for (i = 0; i < kk->sn && sc == NULL; i++)
		if (strcmp(kk->sv[i].dir, dir) == 0)
			sc = &kk->sv[i];
	if (sc == NULL) {
		if (kk->sn >= SCANS_MAX)
			scans_clear(kk);	/* sources come and go */
		if (kk->sn == kk->scap) {
			size_t cap = kk->scap ? kk->scap * 2 : 16;

			if ((nv = realloc(kk->sv, cap * sizeof(*nv))) == NULL)
				return;
			kk->sv = nv;
			kk->scap = cap;
		}
		sc = &kk->sv[kk->sn];
		if ((sc->dir = strdup(dir)) == NULL)
			return;
		sc->recips = NULL;
		kk->sn++;
	}
	json_decref(sc->recips);
	sc->recips = json_incref(set);
	snprintf(sc->rev, sizeof(sc->rev), "%s", rev);
}

void
kkeys_note(struct kkeys *kk, pthread_mutex_t *mu, const json_t *ks,
    const char *workdir, const char *rev)
{
	const char *ns = kjson_str(ks, "metadata.namespace");
	const char *name = kjson_str(ks, "metadata.name");
	struct kkey_use *u;
	char key[320];
	size_t files = 0;
	json_t *set;

	if (kk == NULL || ns == NULL || name == NULL || workdir == NULL ||
	    rev == NULL)
		return;
	snprintf(key, sizeof(key), "%s/%s", ns, name);
	pthread_mutex_lock(mu);
	if ((u = use_for(kk, key)) == NULL || (u->recips != NULL &&
	    strcmp(u->rev, rev) == 0)) {
		pthread_mutex_unlock(mu);
		return;	/* that revision was scanned already */
	}
	set = scan_cached(kk, workdir, rev);
	pthread_mutex_unlock(mu);
	/*
	 * The whole checkout, not spec.path alone: an overlay's resources
	 * may come from ../base.  A file that is not applied only makes a
	 * retire refused, never one allowed that would break a decryption.
	 * One scan per checkout and revision serves every Kustomization of
	 * that source, and it runs outside the lock: a thousand
	 * Kustomizations of ten sources read each checkout once, not a
	 * thousand times one after another.
	 */
	if (set == NULL) {
		if ((set = json_array()) == NULL)
			return;
		scan_dir(set, workdir, 0, &files);
		pthread_mutex_lock(mu);
		scan_keep(kk, workdir, rev, set);
	} else {
		pthread_mutex_lock(mu);
	}
	if ((u = use_for(kk, key)) != NULL) {	/* v may have moved */
		json_decref(u->recips);
		u->recips = json_incref(set);
		snprintf(u->rev, sizeof(u->rev), "%s", rev);
	}
	pthread_mutex_unlock(mu);
	json_decref(set);
}

static const json_t *
use_of(const struct kkeys *kk, const char *ks)
{
	size_t i;

	for (i = 0; kk != NULL && i < kk->n; i++)
		if (strcmp(kk->v[i].ks, ks) == 0)
			return kk->v[i].recips;
	return NULL;
}

void
kkeys_status(const struct kkeys *kk, const char *ks, json_t *status)
{
	const json_t *r = use_of(kk, ks);

	if (r != NULL && json_is_object(status))
		json_object_set_new(status, SOTTO_KEY_STATUS_FIELD,
		    json_deep_copy(r));
}

static void
metric_label(struct sotto_buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			(void)sotto_buf_addch(b, '\\');
		(void)sotto_buf_addch(b, *v == '\n' ? ' ' : *v);
	}
}

void
kkeys_metrics(const struct kkeys *kk, struct sotto_buf *b)
{
	size_t i, j;
	json_t *v;

	(void)sotto_buf_addf(b, "# TYPE sotto_kustomization_decryption_"
	    "recipient gauge\n");
	for (i = 0; kk != NULL && i < kk->n; i++)
		json_array_foreach(kk->v[i].recips, j, v) {
			(void)sotto_buf_addf(b, "sotto_kustomization_"
			    "decryption_recipient{kustomization=\"");
			metric_label(b, kk->v[i].ks);
			(void)sotto_buf_addf(b, "\",recipient=\"");
			metric_label(b, json_string_value(v));
			(void)sotto_buf_addf(b, "\"} 1\n");
		}
}

/* ---- one Secret --------------------------------------------------------- */

static void
ksec_release(struct ksec *s)
{
	sotto_buf_release(&s->text);
	sotto_age_idlist_free(&s->ids);
	json_decref(s->recips);
	json_decref(s->cmdata);
	json_decref(s->cmobj);
	s->recips = s->cmdata = s->cmobj = NULL;
}

/* Parses s->text into s->ids and s->recips. */
static sotto_err
parse_text(struct ksec *s, struct sotto_error *e)
{
	struct sotto_age_recipient *r = NULL;
	size_t i;

	sotto_age_idlist_free(&s->ids);
	json_decref(s->recips);
	if ((s->recips = json_array()) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if (s->text.len > 0 && sotto_age_identities_parse_flags(&s->ids,
	    s->text.data, s->text.len, NULL, SOTTO_AGE_IDS_NATIVE_ONLY, NULL,
	    NULL, e) != SOTTO_OK)
		return sotto_error_prefix(e, "'%s'", SOTTO_KEY_ENTRY);
	for (i = 0; i < s->ids.n; i++) {
		if (sotto_age_identity_to_recipient(&r, s->ids.v[i], e) !=
		    SOTTO_OK)
			return e->code;
		json_array_append_new(s->recips, json_string(
		    sotto_age_recipient_string(r)));
		sotto_age_recipient_free(r);
	}
	return SOTTO_OK;
}

/* Appends a fresh identity (pq: the ML-KEM-768 hybrid) to s->text. */
static sotto_err
add_identity(struct ksec *s, bool pq, struct sotto_error *e)
{
	struct sotto_age_identity *id = NULL;
	struct sotto_age_recipient *r = NULL;
	char when[40];
	sotto_err rc;

	know(when, sizeof(when), false);
	if ((rc = pq ? sotto_age_identity_generate_pq(&id, e) :
	    sotto_age_identity_generate(&id, e)) != SOTTO_OK ||
	    (rc = sotto_age_identity_to_recipient(&r, id, e)) != SOTTO_OK)
		goto out;
	if (s->text.len > 0 && s->text.data[s->text.len - 1] != '\n' &&
	    sotto_buf_addch(&s->text, '\n') != SOTTO_OK)
		goto oom;
	if (sotto_buf_addf(&s->text, "# created: %s\n# public key: %s\n",
	    when, sotto_age_recipient_string(r)) != SOTTO_OK ||
	    (rc = sotto_age_identity_string(&s->text, id, e)) != SOTTO_OK ||
	    sotto_buf_addch(&s->text, '\n') != SOTTO_OK)
		goto oom;
	klog("info", NULL, NULL, "Secret %s: new age identity, recipient %s",
	    s->key, sotto_age_recipient_string(r));
	s->dirty = true;
	rc = parse_text(s, e);
	goto out;
oom:
	rc = rc != SOTTO_OK ? rc : sotto_error_set(e, SOTTO_E_NOMEM,
	    "out of memory");
out:
	sotto_age_recipient_free(r);
	sotto_age_identity_free(id);
	return rc;
}

/* s->text without the identity of recipient idx (comments dropped). */
static sotto_err
drop_identity(struct ksec *s, size_t idx, struct sotto_error *e)
{
	struct sotto_buf t = SOTTO_BUF_SECRET_INIT;
	size_t i;
	sotto_err rc = SOTTO_OK;

	for (i = 0; i < s->ids.n && rc == SOTTO_OK; i++) {
		if (i == idx)
			continue;
		if (sotto_buf_addf(&t, "# public key: %s\n", json_string_value(
		    json_array_get(s->recips, i))) != SOTTO_OK)
			rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		else if ((rc = sotto_age_identity_string(&t, s->ids.v[i], e)) ==
		    SOTTO_OK && sotto_buf_addch(&t, '\n') != SOTTO_OK)
			rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	if (rc == SOTTO_OK) {
		sotto_buf_release(&s->text);
		s->text = t;
		s->dirty = true;
		return parse_text(s, e);
	}
	sotto_buf_release(&t);
	return rc;
}

static sotto_err
get_json(json_t **out, struct sotto_kube *k, const struct kref *ref,
    const char *selector, const char *what, struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	struct sotto_buf path = SOTTO_BUF_INIT;
	sotto_err rc;

	*out = NULL;
	if ((rc = kpath_build(&path, ref, e)) != SOTTO_OK)
		return rc;
	if (selector != NULL && kpath_query(&path, "labelSelector",
	    selector) != SOTTO_OK) {
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = sotto_kube_request(k, &r, "GET", (char *)path.data, NULL,
	    NULL, 0, e)) != SOTTO_OK)
		goto out;
	if (r.status == 404)
		goto out;	/* *out NULL: not there */
	if (r.status != 200)
		rc = sotto_kube_status_error(e, &r, what);
	else if ((*out = json_loadb((char *)r.body.data, r.body.len, 0,
	    NULL)) == NULL)
		rc = sotto_error_set(e, SOTTO_E_KUBE_API, "%s: response is "
		    "not JSON", what);
out:
	sotto_kube_resp_release(&r);
	sotto_buf_release(&path);
	return rc;
}

/* PUT (or POST when create) obj at ref; the body is wiped afterwards. */
static sotto_err
put_json(struct sotto_kube *k, const struct kref *ref, const json_t *obj,
    bool create, const char *what, struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	struct sotto_buf path = SOTTO_BUF_INIT;
	struct kref at = *ref;
	char *body = NULL;
	sotto_err rc;

	if (create)
		at.name = NULL;
	if ((rc = kpath_build(&path, &at, e)) != SOTTO_OK ||
	    kpath_query(&path, "fieldManager", "sotto") != SOTTO_OK)
		goto out;
	if ((body = json_dumps(obj, JSON_COMPACT)) == NULL) {
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = sotto_kube_request(k, &r, create ? "POST" : "PUT",
	    (char *)path.data, "application/json", body, strlen(body), e)) ==
	    SOTTO_OK && r.status != 200 && r.status != 201)
		rc = sotto_kube_status_error(e, &r, what);
out:
	if (body != NULL) {
		sodium_memzero(body, strlen(body));
		free(body);
	}
	sotto_kube_resp_release(&r);
	sotto_buf_release(&path);
	return rc;
}

/* Loads the Secret's key text and its ConfigMap's data. */
static sotto_err
ksec_load(struct ksec *s, struct sotto_kube *k, struct sotto_error *e)
{
	struct kref ref = { "", "v1", "configmaps", s->ns, s->cm, NULL };
	json_t *v = json_object_get(json_object_get(s->obj, "data"),
	    SOTTO_KEY_ENTRY);
	sotto_err rc;

	s->text.secret = true;
	if (v != NULL && ksecret_decode(&s->text, v) != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT, "'%s': invalid "
		    "base64", SOTTO_KEY_ENTRY);
	if ((rc = parse_text(s, e)) != SOTTO_OK)
		return rc;
	if ((rc = get_json(&s->cmobj, k, &ref, NULL, "GET ConfigMap", e)) !=
	    SOTTO_OK)
		return rc;
	s->cmdata = json_deep_copy(json_object_get(s->cmobj, "data"));
	if (s->cmdata == NULL)
		s->cmdata = json_object();
	return s->cmdata ? SOTTO_OK : sotto_error_set(e, SOTTO_E_NOMEM,
	    "out of memory");
}

/*
 * True (and why, into why) when a Kustomization in the Secret's namespace
 * that decrypts with it still uses recipient r, or has not said yet.
 */
static bool
in_use(struct kkeys *kk, struct sotto_kube *k, const struct ksec *s,
    const char *r, char *why, size_t cap)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct kref ref = { "kustomize.toolkit.fluxcd.io", "v1",
	    "kustomizations", s->ns, NULL, NULL };
	json_t *l = NULL, *ks, *v;
	const json_t *used;
	char key[320];
	size_t i, j;
	bool busy = false;

	if (get_json(&l, k, &ref, NULL, "list Kustomizations", &e) !=
	    SOTTO_OK || l == NULL) {
		snprintf(why, cap, "cannot list the Kustomizations of "
		    "namespace '%s': %.300s", s->ns, e.code ? e.msg :
		    "not found");
		return true;
	}
	json_array_foreach(json_object_get(l, "items"), i, ks) {
		const char *sec = kjson_str(ks, "spec.decryption.secretRef.name");

		if (sec == NULL || strcmp(sec, s->name) != 0 ||
		    kjson_str(ks, "metadata.name") == NULL)
			continue;
		snprintf(key, sizeof(key), "%s/%s", s->ns, kjson_str(ks,
		    "metadata.name"));
		if ((used = use_of(kk, key)) == NULL)
			used = kjson_get(ks, "status." SOTTO_KEY_STATUS_FIELD);
		if (!json_is_array(used)) {
			snprintf(why, cap, "Kustomization '%s' has not reported "
			    "the recipients its files use yet", key);
			busy = true;
			break;
		}
		json_array_foreach(used, j, v)
			if (json_is_string(v) && strcmp(json_string_value(v),
			    r) == 0) {
				snprintf(why, cap, "still used by the files of "
				    "Kustomization '%s' (re-encrypt them with "
				    "'sotto updatekeys' first)", key);
				busy = true;
			}
		if (busy)
			break;
	}
	json_decref(l);
	return busy;
}

/* A retire request: the answer goes to the ConfigMap. */
static sotto_err
do_retire(struct kkeys *kk, struct sotto_kube *k, struct ksec *s,
    struct sotto_error *e)
{
	const char *r = annotation(s->obj, SOTTO_KEY_RETIRE);
	const char *id = annotation(s->obj, SOTTO_KEY_RETIRE_ID);
	char why[700], shown[200], res[1024];
	size_t i, idx = (size_t)-1;
	json_t *v;

	if (r == NULL || id == NULL || (cm_str(s, "retire-id") != NULL &&
	    strcmp(cm_str(s, "retire-id"), id) == 0))
		return SOTTO_OK;	/* nothing asked, or answered */
	kquote(shown, sizeof(shown), r);
	why[0] = '\0';
	json_array_foreach(s->recips, i, v)
		if (strcmp(json_string_value(v), r) == 0)
			idx = i;
	if (idx == (size_t)-1)
		snprintf(why, sizeof(why), "'%s' is not a recipient of "
		    "Secret '%s'", shown, s->key);
	else if (s->ids.n == 1)
		snprintf(why, sizeof(why), "'%s' is the only identity of "
		    "Secret '%s' (rotate first)", shown, s->key);
	else if (!in_use(kk, k, s, r, why, sizeof(why)))
		why[0] = '\0';
	if (why[0] != '\0')
		snprintf(res, sizeof(res), "refused: %s", why);
	else if (drop_identity(s, idx, e) != SOTTO_OK)
		return e->code;
	else
		snprintf(res, sizeof(res), "retired %s", shown);
	klog(why[0] ? "error" : "info", NULL, NULL, "Secret %s: retire: %s",
	    s->key, res);
	json_object_set_new(s->cmdata, "retire-id", json_string(id));
	json_object_set_new(s->cmdata, "retire-result", json_string(res));
	return SOTTO_OK;
}

/* Recipients the agent encrypts to itself: no plugin program is run. */
static bool
native_recipient(const char *r)
{
	return strncmp(r, "age1pq1", 7) == 0 || strncmp(r, "ssh-", 4) == 0 ||
	    (strncmp(r, "age1", 4) == 0 && strlen(r) == 62);
}

/* An export request: the identities, age-encrypted, into the ConfigMap. */
static sotto_err
do_export(struct ksec *s, struct sotto_error *e)
{
	const char *to = annotation(s->obj, SOTTO_KEY_EXPORT_TO);
	const char *id = annotation(s->obj, SOTTO_KEY_EXPORT_ID);
	struct sotto_age_recipient *r = NULL;
	struct sotto_error pe = { SOTTO_OK, "" };
	struct sotto_buf out = SOTTO_BUF_INIT;
	char shown[200], res[700];

	if (to == NULL || id == NULL || (cm_str(s, "export-id") != NULL &&
	    strcmp(cm_str(s, "export-id"), id) == 0))
		return SOTTO_OK;
	kquote(shown, sizeof(shown), to);
	res[0] = '\0';
	if (!native_recipient(to))
		snprintf(res, sizeof(res), "refused: '%s' is not an X25519, "
		    "age1pq1 or SSH recipient (the agent runs no plugin)",
		    shown);
	else if (sotto_age_recipient_parse(&r, to, &pe) != SOTTO_OK)
		snprintf(res, sizeof(res), "refused: '%s': %.300s", shown,
		    pe.msg);
	else if (sotto_age_encrypt_mem(&out, s->text.data, s->text.len, &r, 1,
	    true, &pe) != SOTTO_OK)
		snprintf(res, sizeof(res), "failed: %.300s", pe.msg);
	sotto_age_recipient_free(r);
	json_object_set_new(s->cmdata, "export-id", json_string(id));
	json_object_set_new(s->cmdata, "export-result", json_string(res[0] ?
	    res : "exported"));
	json_object_set_new(s->cmdata, "export", json_string(res[0] ? "" :
	    (char *)out.data));
	klog(res[0] ? "error" : "info", NULL, NULL, "Secret %s: export to %s: "
	    "%s", s->key, shown, res[0] ? res : "done");
	sotto_buf_release(&out);
	(void)e;
	return SOTTO_OK;
}

/* Writes the Secret back: data, label "generated", the rotate answer. */
static sotto_err
ksec_store(struct ksec *s, struct sotto_kube *k, struct sotto_error *e)
{
	struct kref ref = { "", "v1", "secrets", s->ns, s->name, NULL };
	struct sotto_buf b64 = SOTTO_BUF_SECRET_INIT;
	json_t *md = json_object_get(s->obj, "metadata"), *data, *labels;
	sotto_err rc;

	json_object_del(md, "managedFields");
	if ((data = json_object_get(s->obj, "data")) == NULL) {
		data = json_object();
		json_object_set_new(s->obj, "data", data);
	}
	if ((labels = json_object_get(md, "labels")) == NULL) {
		labels = json_object();
		json_object_set_new(md, "labels", labels);
	}
	if (data == NULL || labels == NULL || sotto_b64_encode(&b64,
	    s->text.data, s->text.len, true) != 0)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	json_object_set_new(data, SOTTO_KEY_ENTRY, json_stringn((char *)
	    b64.data, b64.len));
	json_object_set_new(labels, SOTTO_KEY_LABEL, json_string("generated"));
	sotto_buf_release(&b64);
	rc = put_json(k, &ref, s->obj, false, "update Secret", e);
	ksecret_wipe(data);
	return rc;
}

/* Creates or updates the ConfigMap when its data changed. */
static sotto_err
cm_store(struct ksec *s, struct sotto_kube *k, struct sotto_error *e)
{
	struct kref ref = { "", "v1", "configmaps", s->ns, s->cm, NULL };
	struct sotto_buf all = SOTTO_BUF_INIT;
	json_t *cm, *md;
	size_t i;
	sotto_err rc;

	for (i = json_array_size(s->recips); i > 0; i--)
		(void)sotto_buf_addf(&all, "%s\n", json_string_value(
		    json_array_get(s->recips, i - 1)));
	json_object_set_new(s->cmdata, "recipients", json_string(all.data ?
	    (char *)all.data : ""));
	json_object_set_new(s->cmdata, "recipient", json_string(all.data ?
	    json_string_value(json_array_get(s->recips, json_array_size(
	    s->recips) - 1)) : ""));
	sotto_buf_release(&all);
	if (s->cmobj != NULL && json_equal(s->cmdata, json_object_get(
	    s->cmobj, "data")))
		return SOTTO_OK;
	cm = s->cmobj ? json_deep_copy(s->cmobj) : json_pack("{s:s,s:s,s:{}}",
	    "apiVersion", "v1", "kind", "ConfigMap", "metadata");
	if (cm == NULL || (md = json_object_get(cm, "metadata")) == NULL) {
		json_decref(cm);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	json_object_del(md, "managedFields");
	json_object_set_new(md, "name", json_string(s->cm));
	json_object_set_new(md, "namespace", json_string(s->ns));
	if (json_object_get(md, "labels") == NULL)
		json_object_set_new(md, "labels", json_object());
	json_object_set_new(json_object_get(md, "labels"),
	    "sotto.dev/recipient-of", json_string(s->name));
	json_object_set(cm, "data", s->cmdata);
	rc = put_json(k, &ref, cm, s->cmobj == NULL, s->cmobj ? "update "
	    "ConfigMap" : "create ConfigMap", e);
	json_decref(cm);
	return rc;
}

static sotto_err
ksec_names(struct ksec *s, struct sotto_error *e)
{
	sotto_err rc;

	s->ns = kjson_str(s->obj, "metadata.namespace");
	s->name = kjson_str(s->obj, "metadata.name");
	if ((rc = kname_check("Secret namespace", s->ns, KN_LABEL, e)) !=
	    SOTTO_OK || (rc = kname_check("Secret name", s->name,
	    KN_SUBDOMAIN, e)) != SOTTO_OK)
		return rc;
	snprintf(s->key, sizeof(s->key), "%s/%s", s->ns, s->name);
	snprintf(s->cm, sizeof(s->cm), "%.200s%s", s->name,
	    SOTTO_KEY_CM_SUFFIX);
	return kname_check("recipient ConfigMap name", s->cm, KN_SUBDOMAIN, e);
}

static sotto_err
handle(struct kkeys *kk, struct sotto_kube *k, struct ksec *s,
    struct sotto_error *e)
{
	const char *label = json_string_value(json_object_get(kjson_get(
	    s->obj, "metadata.labels"), SOTTO_KEY_LABEL));
	const char *type = annotation(s->obj, SOTTO_KEY_TYPE);
	const char *rot = annotation(s->obj, SOTTO_KEY_ROTATE);
	const char *done = annotation(s->obj, SOTTO_KEY_ROTATED);
	bool pq = type != NULL && strcmp(type, "pq") == 0;
	sotto_err rc;

	if (label == NULL || (strcmp(label, "generate") != 0 &&
	    strcmp(label, "generated") != 0))
		return SOTTO_OK;	/* not ours (yet) */
	if ((rc = ksec_names(s, e)) != SOTTO_OK || (rc = ksec_load(s, k, e)) !=
	    SOTTO_OK)
		return rc;
	if (strcmp(label, "generate") == 0) {
		s->dirty = true;	/* relabel, even when imported */
		if (s->ids.n == 0 && (rc = add_identity(s, pq, e)) != SOTTO_OK)
			return rc;
	}
	if (s->ids.n == 0)
		return sotto_error_set(e, SOTTO_E_NO_KEY, "'%s' holds no "
		    "identity", SOTTO_KEY_ENTRY);
	if (rot != NULL && (done == NULL || strcmp(rot, done) != 0)) {
		if ((rc = add_identity(s, pq, e)) != SOTTO_OK)
			return rc;
		json_object_set_new(kjson_get(s->obj, "metadata.annotations"),
		    SOTTO_KEY_ROTATED, json_string(rot));
		json_object_set_new(s->cmdata, "rotated", json_string(rot));
	}
	if ((rc = do_retire(kk, k, s, e)) != SOTTO_OK)
		return rc;
	if (s->dirty && (rc = ksec_store(s, k, e)) != SOTTO_OK)
		return rc;
	if ((rc = do_export(s, e)) != SOTTO_OK)
		return rc;
	return cm_store(s, k, e);
}

void
kkeys_pass(struct kkeys *kk, struct sotto_kube *k, const char *ns)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct kref ref = { "", "v1", "secrets", ns, NULL, NULL };
	json_t *l = NULL, *o;
	size_t i;

	if (get_json(&l, k, &ref, SOTTO_KEY_LABEL, "list labelled Secrets",
	    &e) != SOTTO_OK || l == NULL) {
		if (e.code != SOTTO_OK)
			klog("error", NULL, NULL, "age keys: %s", e.msg);
		json_decref(l);
		return;
	}
	json_array_foreach(json_object_get(l, "items"), i, o) {
		struct ksec s;

		memset(&s, 0, sizeof(s));
		s.obj = o;
		sotto_error_clear(&e);
		if (handle(kk, k, &s, &e) != SOTTO_OK) {
			char shown[200];

			kquote(shown, sizeof(shown), s.key[0] ? s.key :
			    kjson_str(o, "metadata.name"));
			klog("error", NULL, NULL, "age key Secret %s: %s",
			    shown, e.msg);
		}
		ksecret_wipe(json_object_get(o, "data"));
		ksec_release(&s);
	}
	json_decref(l);
}
