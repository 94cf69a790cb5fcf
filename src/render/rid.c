/* SPDX-License-Identifier: ISC */
/*
 * Object ids as kustomize compares them (kyaml/resid, api/resmap): group,
 * version, kind, name and the effective namespace ("default" for none,
 * nothing at all for a cluster-scoped kind), the ids an object had before
 * each rename, the Kubernetes label selectors and kustomize's target
 * selectors (anchored Go regular expressions on the original or current
 * name and namespace).
 *
 * Which kinds are cluster-scoped is kustomize's list: the precomputed
 * table of kyaml/openapi for its built-in schema (Kubernetes 1.21), by
 * exact apiVersion and kind, then what a custom OpenAPI schema says
 * (schema.c).  A kind it does not know is namespaced.
 */
#include "render/rint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/schema.h"
#include "sotto/regex.h"

/*
 * kyaml/openapi precomputedIsNamespaceScoped: the apiVersion/kind pairs
 * it knows to be cluster-scoped, sorted by kind then apiVersion.
 */
static const struct {
	const char *kind, *apiversion;
} cluster_scoped[] = {
	{ "APIService", "apiregistration.k8s.io/v1" },
	{ "APIService", "apiregistration.k8s.io/v1beta1" },
	{ "CSIDriver", "storage.k8s.io/v1" },
	{ "CSIDriver", "storage.k8s.io/v1beta1" },
	{ "CSINode", "storage.k8s.io/v1" },
	{ "CSINode", "storage.k8s.io/v1beta1" },
	{ "CertificateSigningRequest", "certificates.k8s.io/v1" },
	{ "CertificateSigningRequest", "certificates.k8s.io/v1beta1" },
	{ "ClusterRole", "rbac.authorization.k8s.io/v1" },
	{ "ClusterRole", "rbac.authorization.k8s.io/v1beta1" },
	{ "ClusterRoleBinding", "rbac.authorization.k8s.io/v1" },
	{ "ClusterRoleBinding", "rbac.authorization.k8s.io/v1beta1" },
	{ "ComponentStatus", "v1" },
	{ "CustomResourceDefinition", "apiextensions.k8s.io/v1" },
	{ "CustomResourceDefinition", "apiextensions.k8s.io/v1beta1" },
	{ "FlowSchema", "flowcontrol.apiserver.k8s.io/v1beta1" },
	{ "IngressClass", "networking.k8s.io/v1" },
	{ "IngressClass", "networking.k8s.io/v1beta1" },
	{ "MutatingWebhookConfiguration", "admissionregistration.k8s.io/v1" },
	{ "MutatingWebhookConfiguration",
	    "admissionregistration.k8s.io/v1beta1" },
	{ "Namespace", "v1" },
	{ "Node", "v1" },
	{ "NodeProxyOptions", "v1" },
	{ "PersistentVolume", "v1" },
	{ "PodSecurityPolicy", "policy/v1beta1" },
	{ "PriorityClass", "scheduling.k8s.io/v1" },
	{ "PriorityClass", "scheduling.k8s.io/v1beta1" },
	{ "PriorityLevelConfiguration",
	    "flowcontrol.apiserver.k8s.io/v1beta1" },
	{ "RuntimeClass", "node.k8s.io/v1" },
	{ "RuntimeClass", "node.k8s.io/v1beta1" },
	{ "StorageClass", "storage.k8s.io/v1" },
	{ "StorageClass", "storage.k8s.io/v1beta1" },
	{ "ValidatingWebhookConfiguration", "admissionregistration.k8s.io/v1" },
	{ "ValidatingWebhookConfiguration",
	    "admissionregistration.k8s.io/v1beta1" },
	{ "VolumeAttachment", "storage.k8s.io/v1" },
	{ "VolumeAttachment", "storage.k8s.io/v1beta1" },
};

#define NCLUSTER (sizeof(cluster_scoped) / sizeof(cluster_scoped[0]))

/* 1 cluster-scoped, 0 namespaced, -1 not in the precomputed table. */
static int
precomputed_scope(const char *apiv, size_t alen, const char *kind)
{
	size_t i;

	for (i = 0; i < NCLUSTER; i++)
		if (strcmp(cluster_scoped[i].kind, kind) == 0 &&
		    strlen(cluster_scoped[i].apiversion) == alen &&
		    memcmp(cluster_scoped[i].apiversion, apiv, alen) == 0)
			return 1;
	return -1;
}

void
rid_gv(const char *apiv, const char **group, size_t *glen,
    const char **version, size_t *vlen)
{
	const char *sl = strchr(apiv, '/');

	if (sl == NULL) {
		*group = apiv;
		*glen = 0;
		*version = apiv;
		*vlen = strlen(apiv);
		return;
	}
	*group = apiv;
	*glen = (size_t)(sl - apiv);
	*version = sl + 1;
	*vlen = strlen(sl + 1);
}

static bool
is_cluster_scoped(struct rctx *c, const char *group, size_t glen,
    const char *version, size_t vlen, const char *kind)
{
	char apiv[512];
	size_t al;

	if (glen + vlen + 2 > sizeof(apiv))
		return false;
	if (glen > 0) {
		memcpy(apiv, group, glen);
		apiv[glen] = '/';
		memcpy(apiv + glen + 1, version, vlen);
		al = glen + 1 + vlen;
	} else {
		memcpy(apiv, version, vlen);
		al = vlen;
	}
	apiv[al] = '\0';
	if (precomputed_scope(apiv, al, kind) == 1)
		return true;
	return rs_cluster_scoped(c, apiv, kind);
}

bool
rc_cluster_scoped(struct rctx *c, const char *apiversion, const char *kind)
{
	const char *g, *v;
	size_t gl, vl;

	rid_gv(apiversion, &g, &gl, &v, &vl);
	return is_cluster_scoped(c, g, gl, v, vl, kind);
}

void
robj_curid(const struct robj *o, struct rid *id)
{
	rid_gv(robj_apiversion(o), &id->group, &id->glen, &id->version,
	    &id->vlen);
	id->kind = robj_kind(o);
	id->name = robj_name(o);
	id->ns = robj_ns(o);
}

void
robj_previd(const struct robj *o, size_t i, struct rid *id)
{
	rid_gv(robj_apiversion(o), &id->group, &id->glen, &id->version,
	    &id->vlen);
	id->kind = o->prev[i].kind;
	id->name = o->prev[i].name;
	id->ns = o->prev[i].ns;
}

void
robj_orgid(const struct robj *o, struct rid *id)
{
	if (o->nprev > 0)
		robj_previd(o, 0, id);
	else
		robj_curid(o, id);
}

bool
rid_cluster_scoped(struct rctx *c, const struct rid *id)
{
	return is_cluster_scoped(c, id->group, id->glen, id->version,
	    id->vlen, id->kind);
}

const char *
rid_eff_ns(struct rctx *c, const struct rid *id)
{
	if (rid_cluster_scoped(c, id))
		return "_non_namespaceable_";
	if (id->ns == NULL || id->ns[0] == '\0' ||
	    strcmp(id->ns, "default") == 0)
		return "default";
	return id->ns;
}

static bool
span_eq(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && memcmp(a, b, al) == 0;
}

bool
rid_gvk_equal(const struct rid *a, const struct rid *b)
{
	return span_eq(a->group, a->glen, b->group, b->glen) &&
	    span_eq(a->version, a->vlen, b->version, b->vlen) &&
	    strcmp(a->kind, b->kind) == 0;
}

bool
rid_equal(struct rctx *c, const struct rid *a, const struct rid *b)
{
	return strcmp(a->name, b->name) == 0 && rid_gvk_equal(a, b) &&
	    strcmp(rid_eff_ns(c, a), rid_eff_ns(c, b)) == 0;
}

bool
rid_gvk_selected(const struct rid *id, const char *group,
    const char *version, const char *kind)
{
	if (group != NULL && group[0] != '\0' &&
	    !span_eq(id->group, id->glen, group, strlen(group)))
		return false;
	if (version != NULL && version[0] != '\0' &&
	    !span_eq(id->version, id->vlen, version, strlen(version)))
		return false;
	return kind == NULL || kind[0] == '\0' || strcmp(id->kind, kind) == 0;
}

void
rid_string(char *out, size_t cap, const struct rid *id)
{
	snprintf(out, cap, "%s.%.*s.%.*s/%s.%s",
	    id->kind[0] ? id->kind : "[noKind]",
	    id->vlen ? (int)id->vlen : 7, id->vlen ? id->version : "[noVer]",
	    id->glen ? (int)id->glen : 7, id->glen ? id->group : "[noGrp]",
	    id->name[0] ? id->name : "[noName]",
	    id->ns && id->ns[0] ? id->ns : "[noNs]");
}

bool
robj_any_id_equal(struct rctx *c, const struct robj *o, const struct rid *id)
{
	struct rid x;
	size_t i;

	for (i = 0; i < o->nprev; i++) {
		robj_previd(o, i, &x);
		if (rid_equal(c, &x, id))
			return true;
	}
	robj_curid(o, &x);
	return rid_equal(c, &x, id);
}

/* ---- label selectors (k8s.io/apimachinery labels.Parse) ---- */

enum stok { ST_END, ST_ID, ST_NOT, ST_EQ, ST_DEQ, ST_NEQ, ST_GT, ST_LT,
	ST_IN, ST_NOTIN, ST_OPEN, ST_CLOSE, ST_COMMA };

struct slex {
	const char *p;
	char word[256];
	bool overflow;
};

static enum stok
slex_next(struct slex *x)
{
	size_t n = 0;

	while (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' ||
	    *x->p == '\r')
		x->p++;
	switch (*x->p) {
	case '\0':
		return ST_END;
	case '(':
		x->p++;
		return ST_OPEN;
	case ')':
		x->p++;
		return ST_CLOSE;
	case ',':
		x->p++;
		return ST_COMMA;
	case '!':
		x->p++;
		if (*x->p == '=') {
			x->p++;
			return ST_NEQ;
		}
		return ST_NOT;
	case '=':
		x->p++;
		if (*x->p == '=') {
			x->p++;
			return ST_DEQ;
		}
		return ST_EQ;
	case '>':
		x->p++;
		return ST_GT;
	case '<':
		x->p++;
		return ST_LT;
	default:
		break;
	}
	while (*x->p != '\0' && strchr(" \t\n\r(),!=<>", *x->p) == NULL) {
		if (n + 1 < sizeof(x->word))
			x->word[n++] = *x->p;
		else
			x->overflow = true;
		x->p++;
	}
	x->word[n] = '\0';
	if (strcmp(x->word, "in") == 0)
		return ST_IN;
	if (strcmp(x->word, "notin") == 0)
		return ST_NOTIN;
	return ST_ID;
}

/* A label value (validation.IsValidLabelValue): at most 63 of
 * [A-Za-z0-9._-], alphanumeric at both ends, or empty. */
static bool
valid_value(const char *v)
{
	size_t n = strlen(v), i;

	if (n == 0)
		return true;
	if (n > 63)
		return false;
	for (i = 0; i < n; i++) {
		char ch = v[i];
		bool an = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9');

		if (!an && ((i == 0 || i == n - 1) || strchr("-_.", ch) ==
		    NULL))
			return false;
	}
	return true;
}

/* A qualified name (validation.IsQualifiedName): [prefix/]name. */
static bool
valid_key(const char *k)
{
	const char *sl = strchr(k, '/');
	size_t i, pl;

	if (sl == NULL)
		return k[0] != '\0' && valid_value(k);
	pl = (size_t)(sl - k);
	if (pl == 0 || pl > 253 || strchr(sl + 1, '/') != NULL ||
	    sl[1] == '\0' || !valid_value(sl + 1))
		return false;
	for (i = 0; i < pl; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
		    (k[i] >= '0' && k[i] <= '9') || k[i] == '-' ||
		    k[i] == '.'))
			return false;
	return true;
}

static bool
parse_int64(const char *s, long long *out)
{
	char *end;

	if (*s == '\0')
		return false;
	*out = strtoll(s, &end, 10);
	return *end == '\0';
}

/*
 * One requirement; *m is whether it holds for map.  Returns false on a
 * syntax error.
 */
static bool
sel_requirement(struct slex *x, enum stok t, const struct sotto_node *map,
    bool *m)
{
	char key[256];
	const struct sotto_node *v;
	const char *have;
	enum stok op;
	bool found, any;
	long long a, b;

	if (t == ST_NOT) {
		if (slex_next(x) != ST_ID || !valid_key(x->word))
			return false;
		*m = rn_get(map, x->word) == NULL;
		return true;
	}
	if (t != ST_ID || !valid_key(x->word))
		return false;
	snprintf(key, sizeof(key), "%s", x->word);
	v = rn_get(map, key);
	have = v != NULL ? rn_value(v) : NULL;
	{
		const char *save = x->p;

		op = slex_next(x);
		if (op == ST_END || op == ST_COMMA) {
			x->p = save;
			*m = v != NULL;
			return true;
		}
	}
	switch (op) {
	case ST_EQ:
	case ST_DEQ:
	case ST_NEQ:
		if (slex_next(x) != ST_ID && x->word[0] != '\0')
			return false;
		/* an empty value ("k=") is allowed */
		if (!valid_value(x->word))
			return false;
		found = have != NULL && strcmp(have, x->word) == 0;
		*m = op == ST_NEQ ? !found : found;
		return true;
	case ST_GT:
	case ST_LT:
		if (slex_next(x) != ST_ID || !parse_int64(x->word, &b))
			return false;
		*m = have != NULL && parse_int64(have, &a) &&
		    (op == ST_GT ? a > b : a < b);
		return true;
	case ST_IN:
	case ST_NOTIN:
		if (slex_next(x) != ST_OPEN)
			return false;
		any = false;
		for (;;) {
			t = slex_next(x);
			if (t == ST_CLOSE)
				break;
			if (t != ST_ID || !valid_value(x->word))
				return false;
			if (have != NULL && strcmp(have, x->word) == 0)
				any = true;
			t = slex_next(x);
			if (t == ST_CLOSE)
				break;
			if (t != ST_COMMA)
				return false;
		}
		*m = op == ST_IN ? any : !any;
		return true;
	default:
		return false;
	}
}

bool
rsel_match(const char *sel, const struct sotto_node *map, bool *ok)
{
	struct slex x;
	enum stok t;
	bool all = true, m;

	*ok = true;
	if (sel == NULL || sel[0] == '\0')
		return true;
	if (map != NULL && map->kind != SOTTO_NODE_MAP)
		map = NULL;
	memset(&x, 0, sizeof(x));
	x.p = sel;
	for (;;) {
		t = slex_next(&x);
		if (!sel_requirement(&x, t, map, &m) || x.overflow) {
			*ok = false;
			return false;
		}
		all = all && m;
		t = slex_next(&x);
		if (t == ST_END)
			return all;
		if (t != ST_COMMA) {
			*ok = false;
			return false;
		}
	}
}

/* ---- target selectors (types.Selector, resWrangler.Select) ---- */

enum { SE_GROUP, SE_VERSION, SE_KIND, SE_NAME, SE_NS };

void
rsel_free(struct rsel *s)
{
	int i;

	for (i = 0; i < 5; i++)
		sotto_regex_free(s->re[i]);
	memset(s, 0, sizeof(*s));
}

sotto_err
rsel_init(struct rsel *s, const struct sotto_node *t, const char *what,
    struct sotto_error *e)
{
	static const char *const keys[5] = { "group", "version", "kind",
	    "name", "namespace" };
	const char **f[5];
	struct sotto_buf b = SOTTO_BUF_INIT;
	sotto_err err = SOTTO_OK;
	int i;

	memset(s, 0, sizeof(*s));
	f[SE_GROUP] = &s->group;
	f[SE_VERSION] = &s->version;
	f[SE_KIND] = &s->kind;
	f[SE_NAME] = &s->name;
	f[SE_NS] = &s->ns;
	s->lsel = rn_str(t, "labelSelector");
	s->asel = rn_str(t, "annotationSelector");
	for (i = 0; i < 5 && err == SOTTO_OK; i++) {
		*f[i] = rn_str(t, keys[i]);
		if (*f[i] == NULL || (*f[i])[0] == '\0') {
			*f[i] = NULL;
			continue;
		}
		b.len = 0;
		if (sotto_buf_addf(&b, "^(?:%s)$", *f[i]) != SOTTO_OK ||
		    sotto_buf_addch(&b, '\0') != SOTTO_OK) {
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
			break;
		}
		if ((err = sotto_regex_compile(&s->re[i], (const char *)b.data,
		    e)) != SOTTO_OK)
			sotto_error_prefix(e, "%s %s", what, keys[i]);
	}
	sotto_buf_release(&b);
	if (err != SOTTO_OK)
		rsel_free(s);
	return err;
}

static sotto_err
re_match(bool *m, const struct rsel *s, int i, const char *v, size_t n,
    struct sotto_error *e)
{
	if (s->re[i] == NULL) {
		*m = true;
		return SOTTO_OK;
	}
	return sotto_regex_match(m, s->re[i], v, n, e);
}

sotto_err
rsel_match_obj(bool *hit, struct rctx *c, const struct rsel *s,
    const struct robj *o, struct sotto_error *e)
{
	struct rid cur, org;
	const char *a, *b;
	bool m, ok;
	sotto_err err;

	*hit = false;
	robj_curid(o, &cur);
	robj_orgid(o, &org);
	a = rid_eff_ns(c, &org);
	b = rid_eff_ns(c, &cur);
	if ((err = re_match(&m, s, SE_NS, a, strlen(a), e)) != SOTTO_OK ||
	    (!m && (err = re_match(&m, s, SE_NS, b, strlen(b), e)) !=
	    SOTTO_OK) || !m)
		return err;
	if ((err = re_match(&m, s, SE_NAME, org.name, strlen(org.name),
	    e)) != SOTTO_OK || (!m && (err = re_match(&m, s, SE_NAME,
	    cur.name, strlen(cur.name), e)) != SOTTO_OK) || !m)
		return err;
	if ((err = re_match(&m, s, SE_GROUP, cur.group, cur.glen, e)) !=
	    SOTTO_OK || !m ||
	    (err = re_match(&m, s, SE_VERSION, cur.version, cur.vlen, e)) !=
	    SOTTO_OK || !m ||
	    (err = re_match(&m, s, SE_KIND, cur.kind, strlen(cur.kind), e)) !=
	    SOTTO_OK || !m)
		return err;
	m = rsel_match(s->lsel, rn_path(o->n, "metadata/labels"), &ok);
	if (!ok)
		return sotto_error_set(e, SOTTO_E_PARSE, "unable to parse "
		    "label selector '%.100s'", s->lsel);
	if (!m)
		return SOTTO_OK;
	m = rsel_match(s->asel, rn_path(o->n, "metadata/annotations"), &ok);
	if (!ok)
		return sotto_error_set(e, SOTTO_E_PARSE, "unable to parse "
		    "annotation selector '%.100s'", s->asel);
	*hit = m;
	return SOTTO_OK;
}
