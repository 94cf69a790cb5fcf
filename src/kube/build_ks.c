/* SPDX-License-Identifier: ISC */
/*
 * `sotto build kustomization` and `sotto diff kustomization` (issue #20),
 * as flux's: the Kustomization is read from the cluster (or a file), its
 * spec.path is a local checkout, and what comes out is what the
 * controller would apply, because the render (ksrender.c) and the object
 * set (kset_build in apply.c) are the controller's own.  diff then runs
 * the controller's server-side dry-run apply on each object and compares
 * it with the live one as Flux's ssa.Diff does.
 *
 * Secrets: both decrypt sops files with the keys found locally, in
 * memory, and leave them encrypted when there are none (an object whose
 * apiVersion, kind or metadata is encrypted then cannot be built).  build
 * masks every Secret's data unless --show-secrets; diff prints Secret
 * values only as Flux's masks.  The cluster's decryption Secret is never
 * read.
 */
#include "kube/agent.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "crypto/b64.h"
#include "kube/ops.h"
#include "sotto/io.h"
#include "sotto/kubeops.h"
#include "sotto/store.h"

#define KS_FILE_MAX ((size_t)16 << 20)

struct bctx {
	const struct sotto_ops *o;
	const struct sotto_ops_build *b;
	struct oconn c;			/* c.k NULL without a cluster */
	json_t *ks;			/* the Kustomization */
	struct kdisc disc;
	struct kset set;
	struct kapply_opts ao;
	bool keep_sops;			/* sops files left encrypted */
};

static sotto_err
oom(struct sotto_error *e)
{
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

/* ---- the Kustomization ------------------------------------------------- */

/* Does the file's object o name the Kustomization name in ns? */
static bool
ks_match(const json_t *o, const char *name, const char *ns)
{
	const char *av = kjson_str(o, "apiVersion"), *k = kjson_str(o, "kind");
	const char *n = kjson_str(o, "metadata.name");
	const char *x = kjson_str(o, "metadata.namespace");

	return av != NULL && strncmp(av, KS_GROUP "/", strlen(KS_GROUP) + 1)
	    == 0 && k != NULL && strcmp(k, "Kustomization") == 0 && n != NULL &&
	    strcmp(n, name) == 0 && (x == NULL || x[0] == '\0' ||
	    strcmp(x, ns) == 0);
}

/* flux's unMarshallKustomization: the first matching document of file. */
static sotto_err
ks_from_file(json_t **out, const char *file, const char *name,
    const char *ns, struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_buf in = SOTTO_BUF_INIT;
	struct sotto_doc *doc = NULL;
	char qf[300];
	size_t i;
	json_t *j;
	sotto_err rc;

	*out = NULL;
	kquote(qf, sizeof(qf), file);
	if ((rc = sotto_io_read_file(&in, file, KS_FILE_MAX, e)) != SOTTO_OK)
		return sotto_error_prefix(e, "invalid kustomization file");
	rc = sotto_store_yaml.parse(&doc, in.data, in.len, file, &lim, e);
	sotto_buf_release(&in);
	if (rc != SOTTO_OK)
		return rc;
	for (i = 0; i < doc->n && *out == NULL; i++) {
		if (doc->branches[i] == NULL)
			continue;
		if ((j = kjson_from_tree(doc->branches[i])) == NULL) {
			sotto_tree_doc_free(doc);
			return oom(e);
		}
		if (ks_match(j, name, ns))
			*out = j;
		else
			json_decref(j);
	}
	sotto_tree_doc_free(doc);
	if (*out == NULL)
		return sotto_error_set(e, SOTTO_E_NOTFOUND, "no Kustomization "
		    "'%s' in namespace '%s' in '%s'", name, ns, qf);
	if (json_object_set_new(json_object_get(*out, "metadata"),
	    "namespace", json_string(ns)) != 0)
		return oom(e);
	return SOTTO_OK;
}

/*
 * The Kustomization as flux build reads it: the live one; with a file,
 * the file's spec and the live status (prune needs its inventory); with
 * dry_run, the file alone.
 */
static sotto_err
load_ks(struct bctx *bc, struct sotto_error *e)
{
	const struct sotto_ops_build *b = bc->b;
	struct kref ref = { KS_GROUP, "v1", "kustomizations", bc->c.ns,
	    b->name, NULL };
	json_t *live = NULL, *st;
	char what[400];
	sotto_err rc;

	if (!b->dry_run) {
		snprintf(what, sizeof(what), "cannot get Kustomization "
		    "'%s/%s'", bc->c.ns, b->name);
		rc = kops_req(&bc->c, &live, "GET", &ref, NULL, NULL, NULL,
		    what, e);
		if (rc == SOTTO_E_KUBE_NOTFOUND)
			return sotto_error_set(e, rc, "Kustomization '%s/%s' "
			    "not found", bc->c.ns, b->name);
		if (rc != SOTTO_OK)
			return rc;
	}
	if (b->ks_file == NULL) {
		bc->ks = live;
	} else {
		if ((rc = ks_from_file(&bc->ks, b->ks_file, b->name, bc->c.ns,
		    e)) != SOTTO_OK) {
			json_decref(live);
			return rc;
		}
		json_object_del(bc->ks, "status");
		st = kjson_get(live, "status");
		if (st != NULL && json_object_set(bc->ks, "status", st) != 0)
			rc = oom(e);
		json_decref(live);
		if (rc != SOTTO_OK)
			return rc;
	}
	return SOTTO_OK;
}

/* What the controller refuses before it renders (check_ks's table). */
static sotto_err
check_ks(struct bctx *bc, struct sotto_error *e)
{
	const char *reason = NULL;

	if (flux_check_meta(bc->ks, e) != SOTTO_OK ||
	    kfields_check("Kustomization", bc->ks, &reason, e) != SOTTO_OK)
		return sotto_error_prefix(e, "Kustomization '%s/%s'",
		    bc->c.ns, bc->b->name);
	return SOTTO_OK;
}

/* ---- the build ----------------------------------------------------------- */

static sotto_err
check_path(const char *path, struct sotto_error *e)
{
	struct stat st;
	char q[300];

	kquote(q, sizeof(q), path);
	if (stat(path, &st) != 0)
		return sotto_error_set(e, SOTTO_E_NOTFOUND, "--path '%s': no "
		    "such directory", q);
	if (!S_ISDIR(st.st_mode))
		return sotto_error_set(e, SOTTO_E_NOTFOUND, "--path '%s': not "
		    "a directory", q);
	return SOTTO_OK;
}

/* The controller's render of b->path for bc->ks into rendered. */
static sotto_err
render(struct bctx *bc, struct sotto_buf *rendered, struct sotto_error *e)
{
	const struct sotto_ops_build *b = bc->b;
	struct ksrender_opts ko;
	json_t *ks, *pb;
	sotto_err rc;

	/* without a cluster, flux reads no substituteFrom either */
	if ((ks = json_deep_copy(bc->ks)) == NULL)
		return oom(e);
	pb = kjson_get(ks, "spec.postBuild");
	if (b->dry_run && json_is_object(pb))
		json_object_del(pb, "substituteFrom");
	memset(&ko, 0, sizeof(ko));
	ko.ks = ks;
	ko.dir = b->path;
	ko.k = bc->c.k;
	ko.ids = bc->keep_sops ? NULL : b->ids;
	ko.nids = bc->keep_sops ? 0 : b->nids;
	ko.key_sources = b->key_sources;
	ko.keep_sops = bc->keep_sops;
	ko.strict = !b->dry_run;
	ko.cache_dir = b->cache_dir;
	ko.timeout = ks_timeout(ks);
	rc = ks_render(rendered, &ko, e);
	json_decref(ks);
	return rc;
}

/*
 * Connects (unless dry_run), reads and checks the Kustomization, renders
 * b->path as the controller renders spec.path, and builds the object
 * set as the controller does before it applies (apply_opts' fields).
 */
static sotto_err
bc_open(struct bctx *bc, const struct sotto_ops *o,
    const struct sotto_ops_build *b, bool keep_sops, struct sotto_error *e)
{
	struct sotto_buf rendered = SOTTO_BUF_SECRET_INIT;
	sotto_err rc;

	memset(bc, 0, sizeof(*bc));
	bc->o = o;
	bc->b = b;
	bc->keep_sops = keep_sops;
	if (kname_check("name", b->name, KN_SUBDOMAIN, e) != SOTTO_OK)
		return e->code = SOTTO_E_USAGE;
	if (b->dry_run) {
		if (o->ns != NULL && kname_check("--namespace", o->ns,
		    KN_LABEL, e) != SOTTO_OK)
			return e->code = SOTTO_E_USAGE;
		snprintf(bc->c.ns, sizeof(bc->c.ns), "%s", o->ns ? o->ns :
		    "default");
	} else if ((rc = kops_open(&bc->c, o, e)) != SOTTO_OK) {
		return rc;
	}
	if ((rc = check_path(b->path, e)) != SOTTO_OK ||
	    (rc = load_ks(bc, e)) != SOTTO_OK || (rc = check_ks(bc, e)) !=
	    SOTTO_OK)
		return rc;
	bc->ao.field_manager = "sotto";
	bc->ao.ks_name = kjson_str(bc->ks, "metadata.name");
	bc->ao.ks_ns = kjson_str(bc->ks, "metadata.namespace");
	bc->ao.target_ns = kjson_str(bc->ks, "spec.targetNamespace");
	bc->ao.common = kjson_get(bc->ks, "spec.commonMetadata");
	bc->ao.force = json_is_true(kjson_get(bc->ks, "spec.force"));
	if ((rc = render(bc, &rendered, e)) == SOTTO_OK && bc->c.k != NULL)
		rc = kdisc_load(&bc->disc, bc->c.k, e);
	if (rc == SOTTO_OK)
		rc = kset_build(&bc->set, &rendered, bc->c.k ? &bc->disc :
		    NULL, bc->c.k, &bc->ao, e);
	sotto_buf_release(&rendered);
	return rc;
}

static void
bc_close(struct bctx *bc)
{
	size_t i;

	for (i = 0; i < bc->set.n; i++)
		if (strcmp(bc->set.v[i].kind, "Secret") == 0)
			ksecret_wipe(json_object_get(bc->set.v[i].o, "data"));
	kset_free(&bc->set);
	kdisc_free(&bc->disc);
	json_decref(bc->ks);
	if (bc->c.k != NULL)
		kops_close(&bc->c);
}

static bool
is_secret(const struct kobj *ko)
{
	return ko->group[0] == '\0' && strcmp(ko->kind, "Secret") == 0;
}

/* Every value of o's data becomes v (the old strings wiped). */
static sotto_err
mask_data(json_t *o, const char *v)
{
	json_t *data = json_object_get(o, "data"), *x;
	const char *key;

	if (!json_is_object(data))
		return SOTTO_OK;
	ksecret_wipe(data);
	json_object_foreach(data, key, x)
		if (json_object_set_new(data, key, json_string(v)) != 0)
			return SOTTO_E_NOMEM;
	return SOTTO_OK;
}

/* o as a YAML document, keys sorted, through wiped buffers. */
static sotto_err
emit_yaml(struct sotto_buf *out, const json_t *o, struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_emit_opts eo = { 2 };
	struct sotto_doc *doc = NULL;
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	sotto_err rc;

	if (s == NULL)
		return oom(e);
	rc = sotto_store_json.parse(&doc, (const uint8_t *)s, strlen(s),
	    "object", &lim, e);
	memset(s, 0, strlen(s));
	free(s);
	if (rc != SOTTO_OK)
		return rc;
	doc->secret = true;
	rc = sotto_store_yaml.emit(out, doc, NULL, &eo, e);
	sotto_tree_doc_free(doc);
	return rc;
}

sotto_err
sotto_ops_build(const struct sotto_ops *o, const struct sotto_ops_build *b,
    struct sotto_error *e)
{
	struct sotto_buf out = SOTTO_BUF_SECRET_INIT, m = SOTTO_BUF_INIT;
	struct bctx bc;
	size_t i;
	sotto_err rc;

	/* --show-secrets: a sops file needs its key, never ciphertext out */
	if ((rc = bc_open(&bc, o, b, b->nids == 0 && !b->show_secrets, e)) !=
	    SOTTO_OK)
		goto done;
	if (sotto_b64_encode(&m, (const uint8_t *)SOTTO_OPS_MASK,
	    strlen(SOTTO_OPS_MASK), true) != 0 || sotto_buf_addstr(&m, "") !=
	    SOTTO_OK) {
		rc = oom(e);
		goto done;
	}
	for (i = 0; i < bc.set.n && rc == SOTTO_OK; i++) {
		struct kobj *ko = &bc.set.v[i];

		if (!b->show_secrets && is_secret(ko) && mask_data(ko->o,
		    (const char *)m.data) != SOTTO_OK)
			rc = oom(e);
		if (rc == SOTTO_OK)
			rc = emit_yaml(&out, ko->o, e);
		if (rc == SOTTO_OK && sotto_buf_addstr(&out, "---\n") !=
		    SOTTO_OK)
			rc = oom(e);
	}
	/* all or nothing, as the controller applies */
	if (rc == SOTTO_OK && out.len > 0 && (fwrite(out.data, 1, out.len,
	    o->out) != out.len || fflush(o->out) != 0))
		rc = sotto_error_set(e, SOTTO_E_IO, "cannot write to standard "
		    "output");
done:
	sotto_buf_release(&out);
	sotto_buf_release(&m);
	bc_close(&bc);
	return rc;
}

/* ---- the diff ------------------------------------------------------------ */

static void
obj_ref(char *out, size_t cap, const char *kind, const char *ns,
    const char *name)
{
	char s[600];

	if (ns != NULL && ns[0] != '\0')
		snprintf(s, sizeof(s), "%s/%s/%s", kind, ns, name);
	else
		snprintf(s, sizeof(s), "%s/%s", kind, name);
	kops_shown(out, cap, s, 500);
}

/* A value as diff prints it: a plain string as it is, else JSON. */
static sotto_err
add_value(struct sotto_buf *b, const json_t *v)
{
	const char *s = json_string_value(v);
	char *j;
	size_t i;
	bool plain = s != NULL && s[0] != '\0';
	sotto_err rc;

	for (i = 0; plain && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			plain = false;
	if (plain)
		return sotto_buf_addstr(b, s);
	j = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (j == NULL)
		return SOTTO_E_NOMEM;
	rc = sotto_buf_addstr(b, j);
	free(j);
	return rc;
}

/* dyff's text.Plural: "one map entry", "two map entries", "13 ...". */
static sotto_err
add_count(struct sotto_buf *b, size_t n, const char *one, const char *many)
{
	static const char *const w[] = { "zero", "one", "two", "three",
	    "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
	    "twelve" };

	if (n < sizeof(w) / sizeof(w[0]))
		return sotto_buf_addf(b, "%s %s", w[n], n == 1 ? one : many);
	return sotto_buf_addf(b, "%zu %s", n, many);
}

static const char *
path_or_root(const struct sotto_buf *p)
{
	return p->len > 0 ? (const char *)p->data : "(root level)";
}

/* The entries of a that b lacks, as one "- N map entries removed:" block
 * (sign '-') or added (sign '+'). */
static sotto_err
map_block(struct sotto_buf *out, const struct sotto_buf *path,
    const json_t *a, const json_t *b, char sign)
{
	const char *key;
	json_t *v;
	size_t n = 0;
	char q[300];
	sotto_err rc = SOTTO_OK;

	json_object_foreach((json_t *)a, key, v)
		if (json_object_get(b, key) == NULL)
			n++;
	if (n == 0)
		return SOTTO_OK;
	if (sotto_buf_addf(out, "%s\n%c ", path_or_root(path), sign) ||
	    add_count(out, n, "map entry", "map entries") ||
	    sotto_buf_addstr(out, sign == '-' ? " removed:\n" : " added:\n"))
		return SOTTO_E_NOMEM;
	json_object_foreach((json_t *)a, key, v) {
		if (json_object_get(b, key) != NULL)
			continue;
		kops_shown(q, sizeof(q), key, 200);
		if ((rc = sotto_buf_addf(out, "  %s: ", q)) != SOTTO_OK ||
		    (rc = add_value(out, v)) != SOTTO_OK ||
		    (rc = sotto_buf_addstr(out, "\n")) != SOTTO_OK)
			return rc;
	}
	return sotto_buf_addstr(out, "\n");
}

static sotto_err walk(struct sotto_buf *out, struct sotto_buf *path,
    const json_t *a, const json_t *b, int depth);

/* path + "." + seg, walk, path restored. */
static sotto_err
walk_into(struct sotto_buf *out, struct sotto_buf *path, const char *seg,
    const json_t *a, const json_t *b, int depth)
{
	size_t len = path->len;
	char q[300];
	sotto_err rc;

	kops_shown(q, sizeof(q), seg, 200);
	if ((len > 0 && sotto_buf_addstr(path, ".")) ||
	    sotto_buf_addstr(path, q))
		return SOTTO_E_NOMEM;
	rc = walk(out, path, a, b, depth + 1);
	sotto_buf_truncate(path, len);
	if (path->data != NULL)
		path->data[len] = '\0';
	return rc;
}

/* The name an element of a list is known by: its name, else its index. */
static void
elem_seg(char *seg, size_t cap, const json_t *x, const json_t *y, size_t i)
{
	const char *nx = kjson_str(x, "name"), *ny = kjson_str(y, "name");

	if (nx != NULL && ny != NULL && strcmp(nx, ny) == 0)
		snprintf(seg, cap, "%s", nx);
	else
		snprintf(seg, cap, "%zu", i);
}

/* The changes from a (live) to b (merged), as dyff reports them. */
static sotto_err
walk(struct sotto_buf *out, struct sotto_buf *path, const json_t *a,
    const json_t *b, int depth)
{
	const char *key;
	json_t *v;
	size_t i;
	char seg[300];
	sotto_err rc = SOTTO_OK;

	if (json_equal((json_t *)a, (json_t *)b))
		return SOTTO_OK;
	if (json_is_object(a) && json_is_object(b) && depth < 64) {
		if ((rc = map_block(out, path, a, b, '-')) != SOTTO_OK ||
		    (rc = map_block(out, path, b, a, '+')) != SOTTO_OK)
			return rc;
		json_object_foreach((json_t *)a, key, v)
			if (json_object_get(b, key) != NULL && (rc = walk_into(
			    out, path, key, v, json_object_get(b, key),
			    depth)) != SOTTO_OK)
				return rc;
		return SOTTO_OK;
	}
	if (json_is_array(a) && json_is_array(b) && json_array_size(a) ==
	    json_array_size(b) && depth < 64) {
		for (i = 0; i < json_array_size(a) && rc == SOTTO_OK; i++) {
			elem_seg(seg, sizeof(seg), json_array_get(a, i),
			    json_array_get(b, i), i);
			rc = walk_into(out, path, seg, json_array_get(a, i),
			    json_array_get(b, i), depth);
		}
		return rc;
	}
	if (sotto_buf_addf(out, "%s\n\xc2\xb1 value change\n- ",
	    path_or_root(path)) || add_value(out, a) ||
	    sotto_buf_addstr(out, "\n+ ") || add_value(out, b) ||
	    sotto_buf_addstr(out, "\n\n"))
		return SOTTO_E_NOMEM;
	return SOTTO_OK;
}

/* Without what the API server sets and the diff leaves out. */
static void
strip_volatile(json_t *o)
{
	static const char *const md[] = { "managedFields", "resourceVersion",
	    "generation", "creationTimestamp", "uid", NULL };
	json_t *m = json_object_get(o, "metadata");
	size_t i;

	json_object_del(o, "status");
	for (i = 0; md[i] != NULL; i++)
		json_object_del(m, md[i]);
}

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

/*
 * Flux's SanitizeUnstructuredData, in both: a value in both objects is
 * "***" when equal, "*** (before)" / "*** (after)" when not; one in a
 * single object "***".  kubectl's last-applied annotation, which holds
 * the whole Secret, is masked the same way.
 */
static sotto_err
sanitize_map(json_t *a, json_t *b)
{
	json_t *ma = json_object(), *mb = json_object(), *va, *vb;
	const char *key;
	bool same;
	sotto_err rc = SOTTO_OK;

	/* the masks first (the values compared), then the values wiped */
	if (ma == NULL || mb == NULL)
		rc = SOTTO_E_NOMEM;
	json_object_foreach(a, key, va) {
		vb = json_object_get(b, key);
		same = vb != NULL && json_equal(va, vb);
		if (rc == SOTTO_OK && (json_object_set_new(ma, key,
		    json_string(vb != NULL && !same ? "*** (before)" : "***")) ||
		    (vb != NULL && json_object_set_new(mb, key, json_string(
		    same ? "***" : "*** (after)")))))
			rc = SOTTO_E_NOMEM;
	}
	json_object_foreach(b, key, vb)
		if (rc == SOTTO_OK && json_object_get(a, key) == NULL &&
		    json_object_set_new(mb, key, json_string("***")) != 0)
			rc = SOTTO_E_NOMEM;
	ksecret_wipe(a);
	ksecret_wipe(b);
	if (rc == SOTTO_OK && (json_object_update(a, ma) != 0 ||
	    json_object_update(b, mb) != 0))
		rc = SOTTO_E_NOMEM;
	json_decref(ma);
	json_decref(mb);
	return rc;
}

static sotto_err
sanitize_secret(json_t *a, json_t *b)
{
	json_t *da = json_object_get(a, "data"), *db = json_object_get(b,
	    "data"), *empty = json_object(), *aa, *ab, *x, *y;
	sotto_err rc;

	if (empty == NULL)
		return SOTTO_E_NOMEM;
	rc = sanitize_map(json_is_object(da) ? da : empty, json_is_object(db) ?
	    db : empty);
	json_object_clear(empty);
	aa = kjson_get(a, "metadata.annotations");
	ab = kjson_get(b, "metadata.annotations");
	x = json_object_get(aa, LAST_APPLIED);
	y = json_object_get(ab, LAST_APPLIED);
	if (rc == SOTTO_OK && (x != NULL || y != NULL)) {
		json_t *ma = json_object(), *mb = json_object();

		if (ma == NULL || mb == NULL || (x && json_object_set(ma,
		    LAST_APPLIED, x)) || (y && json_object_set(mb,
		    LAST_APPLIED, y)) || sanitize_map(ma, mb) != SOTTO_OK ||
		    (x && json_object_set(aa, LAST_APPLIED, json_object_get(ma,
		    LAST_APPLIED))) || (y && json_object_set(ab, LAST_APPLIED,
		    json_object_get(mb, LAST_APPLIED))))
			rc = SOTTO_E_NOMEM;
		json_decref(ma);
		json_decref(mb);
	}
	json_decref(empty);
	return rc;
}

/* ssa's hasDrifted: labels, annotations, then all but metadata, status. */
static bool
drifted(const json_t *live, const json_t *merged)
{
	static const char *const md[] = { "metadata.labels",
	    "metadata.annotations", NULL };
	json_t *x, *y;
	const json_t *a, *b;
	size_t i;
	bool d = false;

	for (i = 0; md[i] != NULL && !d; i++) {
		a = kjson_get(live, md[i]);
		b = kjson_get(merged, md[i]);
		if (json_object_size(a) + json_object_size(b) > 0 &&
		    !json_equal((json_t *)a, (json_t *)b))
			d = true;
	}
	if (d)
		return true;
	x = json_deep_copy(live);
	y = json_deep_copy(merged);
	if (x == NULL || y == NULL) {
		d = true;
	} else {
		json_object_del(x, "metadata");
		json_object_del(x, "status");
		json_object_del(y, "metadata");
		json_object_del(y, "status");
		d = !json_equal(x, y);
	}
	if (json_object_get(x, "data") != NULL)
		ksecret_wipe(json_object_get(x, "data"));
	if (json_object_get(y, "data") != NULL)
		ksecret_wipe(json_object_get(y, "data"));
	json_decref(x);
	json_decref(y);
	return d;
}

/* A Secret whose data still holds sops ciphertext (no local key). */
static bool
sealed(const struct kobj *ko)
{
	static const char mark[] = "ENC[AES256_GCM,";
	struct sotto_buf raw = SOTTO_BUF_SECRET_INIT;
	json_t *v;
	const char *key, *s;
	size_t dl;
	bool found = false;

	json_object_foreach(json_object_get(ko->o, "data"), key, v) {
		if ((s = json_string_value(v)) == NULL || found)
			continue;
		if (strstr(s, mark) != NULL) {
			found = true;
			continue;
		}
		if (sotto_buf_grow(&raw, SOTTO_B64_DECODED_MAX(strlen(s)) + 1)
		    != SOTTO_OK || !sotto_b64_decode(raw.data, &dl, s,
		    strlen(s), true))
			continue;
		raw.data[dl] = '\0';
		found = memmem(raw.data, dl, mark, sizeof(mark) - 1) != NULL;
	}
	sotto_buf_release(&raw);
	return found;
}

/* Does any string of j hold sops ciphertext? */
static bool
has_ciphertext(const json_t *j, int depth)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_string(j))
		return strstr(json_string_value(j), "ENC[AES256_GCM,") != NULL;
	if (depth > 64)
		return false;
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, key, v)
			if (has_ciphertext(v, depth + 1))
				return true;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (has_ciphertext(v, depth + 1))
				return true;
	}
	return false;
}

/* GETs ko's live object: *live NULL when there is none. */
static sotto_err
get_live(json_t **live, struct sotto_kube *k, const struct kobj *ko,
    struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	struct sotto_buf path = SOTTO_BUF_INIT;
	char ref[600];
	sotto_err rc;

	*live = NULL;
	obj_ref(ref, sizeof(ref), ko->kind, ko->ns, ko->name);
	if (kres_path(&path, ko->res, ko->ns, ko->name) != SOTTO_OK)
		return oom(e);
	rc = sotto_kube_request(k, &r, "GET", (char *)path.data, NULL, NULL, 0,
	    e);
	if (rc == SOTTO_OK && r.status != 404 && r.status != 200)
		rc = sotto_kube_status_error(e, &r, ref);
	else if (rc == SOTTO_OK && r.status == 200 && (*live = json_loadb(
	    (char *)r.body.data, r.body.len, 0, NULL)) == NULL)
		rc = sotto_error_set(e, SOTTO_E_KUBE_API, "%s: the API "
		    "server's answer is not JSON", ref);
	if (r.body.data != NULL)
		memset(r.body.data, 0, r.body.len);
	sotto_buf_release(&path);
	sotto_kube_resp_release(&r);
	return rc;
}

/* A sealed Secret: created, or drifted when its data keys differ. */
static sotto_err
diff_sealed(struct sotto_buf *out, const char *ref, const struct kobj *ko,
    json_t *live, bool *changed)
{
	json_t *a = json_copy(json_object_get(live, "data"));
	json_t *b = json_copy(json_object_get(ko->o, "data"));
	json_t *ea = json_object(), *eb = json_object();
	struct sotto_buf path = SOTTO_BUF_INIT;
	const char *key;
	json_t *v;
	sotto_err rc = SOTTO_OK;

	if (ea == NULL || eb == NULL)
		rc = SOTTO_E_NOMEM;
	json_object_foreach(json_is_object(a) ? a : NULL, key, v)
		if (rc == SOTTO_OK && json_object_set_new(ea, key,
		    json_string("***")) != 0)
			rc = SOTTO_E_NOMEM;
	json_object_foreach(json_is_object(b) ? b : NULL, key, v)
		if (rc == SOTTO_OK && json_object_set_new(eb, key,
		    json_string("***")) != 0)
			rc = SOTTO_E_NOMEM;
	if (rc == SOTTO_OK && !json_equal(ea, eb)) {
		*changed = true;
		if (sotto_buf_addf(out, "\xe2\x96\xba %s drifted\n\n", ref) ||
		    sotto_buf_addstr(&path, "data") || walk(out, &path, ea, eb,
		    0))
			rc = SOTTO_E_NOMEM;
	}
	sotto_buf_release(&path);
	json_decref(a);
	json_decref(b);
	json_decref(ea);
	json_decref(eb);
	return rc;
}

/*
 * Without a local key: a Secret that still holds ciphertext is compared
 * by its data keys (as Flux's diffSopsSecret), another object that does
 * is not compared at all (its live values would be shown beside the
 * ciphertext).  SOTTO_E_NOTFOUND (e untouched) when ko holds none.
 */
static sotto_err
diff_encrypted(struct bctx *bc, const struct kobj *ko, json_t *live,
    const char *ref, struct sotto_buf *out, bool *changed,
    struct sotto_error *e)
{
	if (is_secret(ko) && sealed(ko)) {
		fprintf(bc->o->err, "\xe2\x97\x8e %s is SOPS encrypted and no "
		    "local key is set: its data keys are compared, not its "
		    "values\n", ref);
		if (live != NULL)
			return diff_sealed(out, ref, ko, live, changed) !=
			    SOTTO_OK ? oom(e) : SOTTO_OK;
		*changed = true;
		return sotto_buf_addf(out, "\xe2\x96\xba %s created\n", ref) ?
		    oom(e) : SOTTO_OK;
	}
	if (!has_ciphertext(ko->o, 0))
		return SOTTO_E_NOTFOUND;
	fprintf(bc->o->err, "\xe2\x97\x8e %s is SOPS encrypted and no local "
	    "key is set: not compared\n", ref);
	return SOTTO_OK;
}

/* One object: its "► ..." line and changes into out. */
static sotto_err
diff_obj(struct bctx *bc, struct kobj *ko, struct sotto_buf *out,
    bool *changed, struct sotto_error *e)
{
	struct sotto_buf path = SOTTO_BUF_INIT;
	json_t *live = NULL, *merged = NULL;
	char ref[600];
	sotto_err rc;

	obj_ref(ref, sizeof(ref), ko->kind, ko->ns, ko->name);
	if (ko->res == NULL) {	/* a kind a CRD of this set brings */
		*changed = true;
		return sotto_buf_addf(out, "\xe2\x96\xba %s created\n", ref) ?
		    oom(e) : SOTTO_OK;
	}
	/* Flux's text: its dry-run of such an object gets a 404 */
	if (ko->res->namespaced && ko->ns == NULL)
		return sotto_error_set(e, SOTTO_E_KUBE_NOTFOUND, "%s "
		    "namespace not specified: the server could not find the "
		    "requested resource", ref);
	if ((rc = get_live(&live, bc->c.k, ko, e)) != SOTTO_OK)
		return rc;
	if (kobj_skipped(ko, live)) {
		rc = sotto_buf_addf(out, "\xe2\x96\xba %s skipped\n", ref) ?
		    oom(e) : SOTTO_OK;
		goto out;
	}
	if (bc->keep_sops && (rc = diff_encrypted(bc, ko, live, ref, out,
	    changed, e)) != SOTTO_E_NOTFOUND)
		goto out;
	rc = kobj_dry_run(&merged, bc->c.k, ko, &bc->ao, e);
	if (rc == SOTTO_E_EXISTS || (rc == SOTTO_OK && live == NULL)) {
		*changed = true;
		rc = sotto_buf_addf(out, "\xe2\x96\xba %s created\n", ref) ?
		    oom(e) : SOTTO_OK;
		goto out;
	}
	if (rc != SOTTO_OK || !drifted(live, merged))
		goto out;
	*changed = true;
	strip_volatile(live);
	strip_volatile(merged);
	if ((is_secret(ko) && sanitize_secret(live, merged) != SOTTO_OK) ||
	    sotto_buf_addf(out, "\xe2\x96\xba %s drifted\n\n", ref) ||
	    walk(out, &path, live, merged, 0) != SOTTO_OK)
		rc = oom(e);
out:
	if (live != NULL && is_secret(ko))
		ksecret_wipe(json_object_get(live, "data"));
	if (merged != NULL && is_secret(ko))
		ksecret_wipe(json_object_get(merged, "data"));
	json_decref(live);
	json_decref(merged);
	sotto_buf_release(&path);
	return rc;
}

/* Flux's diffInventory: what prune would delete ("► ... deleted"). */
static sotto_err
diff_prune(struct bctx *bc, struct sotto_buf *out, bool *changed,
    struct sotto_error *e)
{
	const json_t *old = kjson_get(bc->ks, "status.inventory.entries");
	json_t *inv, *x, *y;
	char ns[256], name[256], group[256], kind[256], ref[600];
	size_t i, j;
	bool keep;

	if (!json_is_true(kjson_get(bc->ks, "spec.prune")) ||
	    !json_is_array(old))
		return SOTTO_OK;
	if ((inv = kset_inventory(&bc->set)) == NULL)
		return oom(e);
	json_array_foreach(old, i, x) {
		const char *id = kjson_str(x, "id");

		keep = id == NULL || !kube_inventory_split(id, ns, name, group,
		    kind);
		json_array_foreach(inv, j, y)
			if (!keep && kjson_str(y, "id") != NULL &&
			    strcmp(kjson_str(y, "id"), id) == 0)
				keep = true;
		if (keep)
			continue;
		*changed = true;
		obj_ref(ref, sizeof(ref), kind, ns, name);
		if (sotto_buf_addf(out, "\xe2\x96\xba %s deleted\n", ref) !=
		    SOTTO_OK) {
			json_decref(inv);
			return oom(e);
		}
	}
	json_decref(inv);
	return SOTTO_OK;
}

sotto_err
sotto_ops_diff(const struct sotto_ops *o, const struct sotto_ops_build *b,
    bool *changed, struct sotto_error *e)
{
	struct sotto_error first = { SOTTO_OK, "" };
	struct sotto_buf out = SOTTO_BUF_INIT;
	struct bctx bc;
	size_t i;
	sotto_err rc;

	*changed = false;
	if ((rc = bc_open(&bc, o, b, b->nids == 0, e)) != SOTTO_OK)
		goto done;
	for (i = 0; i < bc.set.n; i++) {
		sotto_buf_truncate(&out, 0);
		sotto_error_clear(e);
		if (diff_obj(&bc, &bc.set.v[i], &out, changed, e) != SOTTO_OK) {
			/* as flux: every object is tried, errors at the end */
			if (e->code == SOTTO_E_NOMEM)
				break;
			if (first.code == SOTTO_OK)
				first = *e;
			fprintf(o->err, "\xe2\x9c\x97 %s\n", e->msg);
		}
		if (out.len > 0)
			fwrite(out.data, 1, out.len, o->out);
	}
	if (e->code == SOTTO_E_NOMEM)
		goto done;
	sotto_error_clear(e);
	sotto_buf_truncate(&out, 0);
	if (first.code == SOTTO_OK && (rc = diff_prune(&bc, &out, changed,
	    e)) == SOTTO_OK && out.len > 0)
		fwrite(out.data, 1, out.len, o->out);
	if (first.code != SOTTO_OK)
		*e = first;
	if (fflush(o->out) != 0 && e->code == SOTTO_OK)
		sotto_error_set(e, SOTTO_E_IO, "cannot write to standard "
		    "output");
	rc = e->code;
done:
	sotto_buf_release(&out);
	bc_close(&bc);
	return rc;
}
