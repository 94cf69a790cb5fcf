/* SPDX-License-Identifier: ISC */
/*
 * spec.postBuild of Flux's Kustomization v1, as kustomize-controller does
 * it (internal/controller/kustomization_controller.go build(), and
 * github.com/fluxcd/pkg kustomize/kustomize_varsub.go): the variables
 * (substitute, substituteFrom ConfigMaps and Secrets, optional), the
 * per-object substitution after decryption, the
 * kustomize.toolkit.fluxcd.io/substitute: disabled opt-out, the strategy
 * (WithVariables or Always) and the messages.
 *
 * Flux substitutes text, not values: each object is written as YAML the
 * way sigs.k8s.io/yaml JSONToYAML (go-yaml v2) writes it, expanded, and
 * read back with go-yaml v2's typing.  So `replicas: ${n}` is a number,
 * `${q}${id}${q}` with q='"' is a string, and a value holding ": " breaks
 * the object.  Users depend on that, so it is reproduced here: the writer
 * picks go-yaml v2's style for every string that holds a '$' (the only
 * ones envsubst can change) and double quotes for the rest, and the reader
 * applies v2's YAML 1.1 booleans to plain scalars.
 *
 * The grammar is envsubst.c.  Values from Secrets are secrets: they live
 * in a wiped buffer, and messages name variables and objects, never a
 * value.
 */
#include "kube/kint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sotto/store.h"

#define DISABLED_KEY "kustomize.toolkit.fluxcd.io/substitute"
#define NAME_RE "^[_[:alpha:]][_[:alpha:][:digit:]]*$"

void
ksubst_init(struct ksubst *s)
{
	memset(s, 0, sizeof(*s));
	s->pool.secret = true;
	s->strict = true;
}

void
ksubst_free(struct ksubst *s)
{
	sotto_buf_release(&s->pool);
	free(s->v);
	ksubst_init(s);
}

/* ---- the variables ------------------------------------------------------ */

sotto_err
ksubst_add(struct ksubst *s, const char *name, size_t nlen, const char *val,
    size_t vlen)
{
	struct kvar *v;
	size_t i, cap;

	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 16;
		if (cap > SIZE_MAX / sizeof(*v) ||
		    (v = realloc(s->v, cap * sizeof(*v))) == NULL)
			return SOTTO_E_NOMEM;
		s->v = v;
		s->cap = cap;
	}
	v = &s->v[s->n];
	v->seq = s->n;
	v->name = s->pool.len;
	v->nlen = nlen;
	if (sotto_buf_add(&s->pool, name, nlen) != SOTTO_OK ||
	    sotto_buf_addch(&s->pool, '\0') != SOTTO_OK)
		return SOTTO_E_NOMEM;
	v->val = s->pool.len;
	for (i = 0; i < vlen; i++)	/* strings.ReplaceAll(v, "\n", "") */
		if (val[i] != '\n' &&
		    sotto_buf_addch(&s->pool, val[i]) != SOTTO_OK)
			return SOTTO_E_NOMEM;
	v->vlen = s->pool.len - v->val;
	if (sotto_buf_addch(&s->pool, '\0') != SOTTO_OK)
		return SOTTO_E_NOMEM;
	s->n++;
	s->sorted = false;
	return SOTTO_OK;
}

static int
name_cmp(const struct ksubst *s, const struct kvar *a, const struct kvar *b)
{
	size_t n = a->nlen < b->nlen ? a->nlen : b->nlen;
	int c = memcmp(s->pool.data + a->name, s->pool.data + b->name, n);

	if (c != 0)
		return c;
	return a->nlen < b->nlen ? -1 : a->nlen > b->nlen;
}

/* qsort's comparison: by name, then order added */
static _Thread_local const struct ksubst *sort_s;

static int
var_cmp(const void *a, const void *b)
{
	const struct kvar *x = a, *y = b;
	int c = name_cmp(sort_s, x, y);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts by name, then order; keeps the last of each name.  qsort: a
 * ConfigMap may hold a great many keys. */
static void
finish_vars(struct ksubst *s)
{
	size_t i, k;

	if (s->sorted)
		return;
	if (s->n > 1) {
		sort_s = s;
		qsort(s->v, s->n, sizeof(*s->v), var_cmp);
		sort_s = NULL;
	}
	for (i = 0, k = 0; i < s->n; i++) {
		if (k > 0 && name_cmp(s, &s->v[k - 1], &s->v[i]) == 0)
			s->v[k - 1] = s->v[i];	/* later seq: it wins */
		else
			s->v[k++] = s->v[i];
	}
	s->n = k;
	s->sorted = true;
}

static bool
lookup(void *arg, const char *name, size_t len, const char **val,
    size_t *vlen)
{
	const struct ksubst *s = arg;
	size_t lo = 0, hi = s->n, mid, n;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		n = s->v[mid].nlen < len ? s->v[mid].nlen : len;
		c = memcmp(s->pool.data + s->v[mid].name, name, n);
		if (c == 0)
			c = s->v[mid].nlen < len ? -1 : s->v[mid].nlen > len;
		if (c == 0) {
			*val = (const char *)s->pool.data + s->v[mid].val;
			*vlen = s->v[mid].vlen;
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* ^[_[:alpha:]][_[:alpha:][:digit:]]*$, ASCII as Go's regexp has it */
static bool
name_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || (p[0] >= '0' && p[0] <= '9'))
		return false;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' &&
		    p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
		    p[i] == '_'))
			return false;
	return true;
}

/* ---- reading spec.postBuild -------------------------------------------- */

/* Records why reading a source failed (Flux's text, no value). */
static void
load_failed(struct ksubst *s, sotto_err code, const char *kind,
    const char *name, const char *why)
{
	char q[300];

	kquote(q, sizeof(q), name);
	sotto_error_set(&s->load, code, "substitute from '%s/%s' error: %s",
	    kind, q, why);
}

/* Adds every entry of data (Secret: base64, decoded) as a variable. */
static sotto_err
add_data(struct ksubst *s, json_t *data, bool secret, const char *kind,
    const char *name)
{
	struct sotto_buf dec = SOTTO_BUF_SECRET_INIT;
	const char *key;
	char why[300], q[200];
	json_t *v;
	sotto_err rc = SOTTO_OK;

	json_object_foreach(data, key, v) {
		if (!json_is_string(v))
			continue;
		if (!secret) {
			rc = ksubst_add(s, key, strlen(key),
			    json_string_value(v), json_string_length(v));
		} else if (ksecret_decode(&dec, v) == SOTTO_OK) {
			rc = ksubst_add(s, key, strlen(key), (char *)dec.data,
			    dec.len);
		} else {
			kquote(q, sizeof(q), key);
			snprintf(why, sizeof(why), "data key '%s' is not "
			    "valid base64", q);
			load_failed(s, SOTTO_E_KUBE_API, kind, name, why);
			break;
		}
		if (rc != SOTTO_OK)
			break;
	}
	sotto_buf_release(&dec);
	return rc;
}

/* GETs one substituteFrom source; false when reading has to stop. */
static bool
load_source(struct ksubst *s, struct sotto_kube *k, const json_t *ref,
    const char *ns, sotto_err *rc)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	struct sotto_buf path = SOTTO_BUF_INIT;
	struct sotto_error pe = { SOTTO_OK, "" };
	const char *kind = kjson_str(ref, "kind");
	const char *name = kjson_str(ref, "name");
	bool secret = kind != NULL && strcmp(kind, "Secret") == 0;
	struct kref kr = { "", "v1", secret ? "secrets" : "configmaps", ns,
	    name, NULL };
	char why[400], q[300];
	json_t *obj = NULL;
	bool go_on = false;

	*rc = SOTTO_OK;
	if (kind == NULL || (!secret && strcmp(kind, "ConfigMap") != 0))
		return true;	/* Flux's switch skips other kinds */
	if (name == NULL || name[0] == '\0') {
		load_failed(s, SOTTO_E_CONFIG, kind, "", "resource name may "
		    "not be empty");
		return false;
	}
	if (kpath_build(&path, &kr, &pe) != SOTTO_OK ||
	    sotto_kube_request(k, &r, "GET", (char *)path.data, NULL, NULL,
	    0, &pe) != SOTTO_OK) {
		load_failed(s, pe.code, kind, name, pe.msg);
		goto out;
	}
	if (r.status == 404) {
		if (json_is_true(json_object_get(ref, "optional"))) {
			go_on = true;
			goto out;
		}
		/* client-go's NotFound text */
		kquote(q, sizeof(q), name);
		snprintf(why, sizeof(why), "%s \"%s\" not found", kr.plural,
		    q);
		load_failed(s, SOTTO_E_KUBE_NOTFOUND, kind, name, why);
		goto out;
	}
	if (r.status != 200) {
		sotto_kube_status_error(&pe, &r, "get");
		load_failed(s, pe.code, kind, name, pe.msg);
		goto out;
	}
	obj = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
	if (!json_is_object(obj)) {
		load_failed(s, SOTTO_E_KUBE_API, kind, name, "the response "
		    "is not JSON");
		goto out;
	}
	*rc = add_data(s, json_object_get(obj, "data"), secret, kind, name);
	go_on = *rc == SOTTO_OK && s->load.code == SOTTO_OK;
out:
	if (obj != NULL)
		ksecret_wipe(json_object_get(obj, "data"));
	json_decref(obj);
	sotto_kube_resp_release(&r);
	sotto_buf_release(&path);
	return go_on;
}

sotto_err
ksubst_load(struct ksubst *s, struct sotto_kube *k, const json_t *ks,
    const char *ns, struct sotto_error *e)
{
	const json_t *pb = kjson_get(ks, "spec.postBuild"), *ref;
	const char *key, *strategy;
	json_t *v;
	size_t i;
	sotto_err rc = SOTTO_OK;

	if (!json_is_object(pb))
		return SOTTO_OK;
	s->active = true;
	strategy = kjson_str(pb, "substituteStrategy");
	s->always = strategy != NULL && strcmp(strategy, "Always") == 0;
	json_array_foreach(json_object_get(pb, "substituteFrom"), i, ref) {
		if (!load_source(s, k, ref, ns, &rc))
			break;
	}
	json_object_foreach(json_object_get(pb, "substitute"), key, v) {
		if (rc == SOTTO_OK && json_is_string(v))
			rc = ksubst_add(s, key, strlen(key),
			    json_string_value(v), json_string_length(v));
	}
	if (rc != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

/* ---- JSON -> YAML, as go-yaml v2 writes it (emitterc.go) ----------------- */

/*
 * What go-yaml v2's yaml_emitter_analyze_scalar() finds in a string: which
 * styles the emitter may use for it.
 */
struct scal {
	bool multiline;		/* has a line break */
	bool plain_ok;		/* block plain */
	bool single_ok;		/* single quoted */
	bool block_ok;		/* literal */
};

/* is_printable of go-yaml: tab, CR, NEL, BOM and 4-byte UTF-8 are not */
static bool
y_printable(const unsigned char *b, size_t n, size_t i)
{
	unsigned char c = b[i], d = i + 1 < n ? b[i + 1] : 0;
	unsigned char f = i + 2 < n ? b[i + 2] : 0;

	return c == 0x0a || (c >= 0x20 && c <= 0x7e) ||
	    (c == 0xc2 && d >= 0xa0) || (c > 0xc2 && c < 0xed) ||
	    (c == 0xed && d < 0xa0) || c == 0xee ||
	    (c == 0xef && !(d == 0xbb && f == 0xbf) &&
	    !(d == 0xbf && (f == 0xbe || f == 0xbf)));
}

/* \r \n NEL LS PS */
static size_t
y_break(const unsigned char *b, size_t n, size_t i)
{
	if (b[i] == '\r' || b[i] == '\n')
		return 1;
	if (b[i] == 0xc2 && i + 1 < n && b[i + 1] == 0x85)
		return 2;
	if (b[i] == 0xe2 && i + 2 < n && b[i + 1] == 0x80 &&
	    (b[i + 2] == 0xa8 || b[i + 2] == 0xa9))
		return 3;
	return 0;
}

static bool
y_blankz(const unsigned char *b, size_t n, size_t i)
{
	return i >= n || b[i] == ' ' || b[i] == '\t' || b[i] == '\0' ||
	    y_break(b, n, i) > 0;
}

static size_t
y_width(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	return 4;	/* jansson strings are valid UTF-8 */
}

/* The indicators a character at i sets (first: i == 0). */
static void
y_indicators(const unsigned char *b, size_t i, bool first, bool pre_ws,
    bool post_ws, bool *flow, bool *block)
{
	unsigned char c = b[i];

	if (first && strchr("#,[]{}&*!|>'\"%@`", c) != NULL && c != '\0') {
		*flow = *block = true;
	} else if (first && (c == '?' || c == ':')) {
		*flow = true;
		*block = *block || post_ws;
	} else if (first && c == '-' && post_ws) {
		*flow = *block = true;
	} else if (!first && c != '\0' && strchr(",?[]{}", c) != NULL) {
		*flow = true;
	} else if (!first && c == ':') {
		*flow = true;
		*block = *block || post_ws;
	} else if (!first && c == '#' && pre_ws) {
		*flow = *block = true;
	}
}

static void
analyze(const unsigned char *b, size_t n, struct scal *a)
{
	bool flow = false, block = false, special = false, breaks = false;
	bool lead_sp = false, lead_br = false, trail_sp = false;
	bool trail_br = false, br_sp = false, sp_br = false;
	bool prev_sp = false, prev_br = false, pre_ws = true;
	size_t i, w;

	if (n >= 3 && ((b[0] == '-' && b[1] == '-' && b[2] == '-') ||
	    (b[0] == '.' && b[1] == '.' && b[2] == '.')))
		flow = block = true;
	for (i = 0; i < n; i += w) {
		w = y_width(b[i]);
		y_indicators(b, i, i == 0, pre_ws, i + w >= n ||
		    b[i + w] == ' ' || b[i + w] == '\t', &flow, &block);
		if (!y_printable(b, n, i))
			special = true;
		if (b[i] == ' ') {
			lead_sp = lead_sp || i == 0;
			trail_sp = trail_sp || i + w == n;
			br_sp = br_sp || prev_br;
			prev_sp = true;
			prev_br = false;
		} else if (y_break(b, n, i) > 0) {
			breaks = true;
			lead_br = lead_br || i == 0;
			trail_br = trail_br || i + w == n;
			sp_br = sp_br || prev_sp;
			prev_sp = false;
			prev_br = true;
		} else {
			prev_sp = prev_br = false;
		}
		pre_ws = y_blankz(b, n, i);
	}
	a->multiline = breaks;
	a->plain_ok = !(lead_sp || lead_br || trail_sp || trail_br || br_sp ||
	    sp_br || special || breaks || block);
	a->single_ok = !(br_sp || sp_br || special);
	a->block_ok = !(trail_sp || sp_br || special);
}

enum ystyle { YS_PLAIN, YS_SINGLE, YS_DOUBLE, YS_LITERAL };

struct yem {
	struct sotto_buf *b;	/* output (secret) */
	bool v2;		/* go-yaml v2's styles for '$' strings, else
				   double quotes for every string */
	sotto_err rc;		/* first failure */
};

static void
out(struct yem *m, const void *p, size_t n)
{
	if (m->rc == SOTTO_OK && sotto_buf_add(m->b, p, n) != SOTTO_OK)
		m->rc = SOTTO_E_NOMEM;
}

static void
outs(struct yem *m, const char *s)
{
	out(m, s, strlen(s));
}

static void
indent(struct yem *m, size_t n)
{
	static const char sp[] = "                                ";

	for (; n > 32; n -= 32)
		out(m, sp, 32);
	out(m, sp, n);
}

/* The style go-yaml v2 gives string s (key: in a simple key). */
static enum ystyle
style_of(const struct yem *m, const unsigned char *s, size_t n, bool key)
{
	struct scal a;

	/* only a '$' can change under envsubst, and a string with one never
	 * resolves to another type (encode.go stringv's canUsePlain) */
	if (!m->v2 || memchr(s, '$', n) == NULL)
		return YS_DOUBLE;
	analyze(s, n, &a);
	if (key && a.multiline)
		return YS_DOUBLE;
	if (memchr(s, '\n', n) != NULL)
		return a.block_ok && !key ? YS_LITERAL : YS_DOUBLE;
	if (a.plain_ok)
		return YS_PLAIN;
	return a.single_ok ? YS_SINGLE : YS_DOUBLE;
}

static void
write_double(struct yem *m, const unsigned char *s, size_t n)
{
	static const char esc_from[] = "\0\a\b\t\n\v\f\r\x1b\"\\";
	static const char esc_to[] = "0abtnvfre\"\\";
	char hex[16];
	const char *x;
	size_t i = 0, w;
	uint32_t v;

	out(m, "\"", 1);
	while (i < n) {
		w = y_width(s[i]);
		if (i + w > n)
			w = n - i;
		if (y_printable(s, n, i) && y_break(s, n, i) == 0 &&
		    s[i] != '"' && s[i] != '\\' && !(s[i] == 0xef &&
		    i + 2 < n && s[i + 1] == 0xbb && s[i + 2] == 0xbf)) {
			out(m, s + i, w);
			i += w;
			continue;
		}
		v = w == 1 ? s[i] : (uint32_t)(s[i] & (0xff >> (w + 1)));
		for (size_t k = 1; k < w; k++)
			v = v << 6 | (s[i + k] & 0x3f);
		i += w;
		if (v < 0x80 && (x = memchr(esc_from, (int)v,
		    sizeof(esc_from) - 1)) != NULL)
			snprintf(hex, sizeof(hex), "\\%c", esc_to[x - esc_from]);
		else if (v == 0x85 || v == 0xa0 || v == 0x2028 || v == 0x2029)
			snprintf(hex, sizeof(hex), "\\%c", v == 0x85 ? 'N' :
			    v == 0xa0 ? '_' : v == 0x2028 ? 'L' : 'P');
		else if (v <= 0xff)
			snprintf(hex, sizeof(hex), "\\x%02X", (unsigned)v);
		else if (v <= 0xffff)
			snprintf(hex, sizeof(hex), "\\u%04X", (unsigned)v);
		else
			snprintf(hex, sizeof(hex), "\\U%08X", (unsigned)v);
		outs(m, hex);
	}
	out(m, "\"", 1);
}

static void
write_single(struct yem *m, const unsigned char *s, size_t n)
{
	const unsigned char *q;

	out(m, "'", 1);
	while ((q = memchr(s, '\'', n)) != NULL) {
		out(m, s, (size_t)(q - s) + 1);
		out(m, "'", 1);
		n -= (size_t)(q - s) + 1;
		s = q + 1;
	}
	out(m, s, n);
	out(m, "'", 1);
}

/* A literal block, content at column ind; ends its last line. */
static void
write_literal(struct yem *m, const unsigned char *s, size_t n, size_t ind)
{
	size_t i = n - 1, w;
	bool bol = true;
	char chomp = '\0';

	/* chomping and indentation hints (write_block_scalar_hints) */
	while (i > 0 && (s[i] & 0xc0) == 0x80)
		i--;
	if (y_break(s, n, i) == 0) {
		chomp = '-';
	} else if (i == 0) {
		chomp = '+';
	} else {
		i--;
		while (i > 0 && (s[i] & 0xc0) == 0x80)
			i--;
		if (y_break(s, n, i) > 0)
			chomp = '+';
	}
	out(m, "|", 1);
	if (s[0] == ' ' || y_break(s, n, 0) > 0)
		out(m, "2", 1);
	if (chomp != '\0')
		out(m, &chomp, 1);
	out(m, "\n", 1);
	for (i = 0; i < n; i += w) {
		if ((w = y_break(s, n, i)) > 0) {
			out(m, s + i, w);	/* '\n', LS or PS as written */
			bol = true;
			continue;
		}
		if (bol)
			indent(m, ind);
		bol = false;
		w = y_width(s[i]);
		out(m, s + i, w);
	}
	if (!bol)
		out(m, "\n", 1);
}

/* A string scalar in its style; ends the line unless inline_only. */
static void
write_str(struct yem *m, const char *str, size_t n, size_t ind, bool key)
{
	const unsigned char *s = (const unsigned char *)str;

	switch (style_of(m, s, n, key)) {
	case YS_PLAIN:
		out(m, s, n);
		break;
	case YS_SINGLE:
		write_single(m, s, n);
		break;
	case YS_LITERAL:
		write_literal(m, s, n, ind + 2);
		return;
	case YS_DOUBLE:
		write_double(m, s, n);
		break;
	}
	if (!key)
		out(m, "\n", 1);
}

static void write_map(struct yem *m, const json_t *o, size_t ind);
static void write_seq(struct yem *m, const json_t *a, size_t ind);

/* After "key:" or "-": the value v, whose container is at column ind. */
static void
write_value(struct yem *m, const json_t *v, size_t ind)
{
	char num[64];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (json_object_size(v) == 0) {
			outs(m, " {}\n");
			return;
		}
		outs(m, "\n");
		write_map(m, v, ind + 2);
		return;
	case JSON_ARRAY:
		if (json_array_size(v) == 0) {
			outs(m, " []\n");
			return;
		}
		outs(m, "\n");
		write_seq(m, v, ind + 2);
		return;
	case JSON_STRING:
		outs(m, " ");
		write_str(m, json_string_value(v), json_string_length(v), ind,
		    false);
		return;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), " %" JSON_INTEGER_FORMAT "\n",
		    json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), " %.17g\n", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(num, sizeof(num), " true\n");
		break;
	case JSON_FALSE:
		snprintf(num, sizeof(num), " false\n");
		break;
	default:
		snprintf(num, sizeof(num), " null\n");
		break;
	}
	outs(m, num);
}

static void
write_map(struct yem *m, const json_t *o, size_t ind)
{
	const char *k;
	json_t *v;
	size_t kl;

	json_object_foreach((json_t *)o, k, v) {
		kl = strlen(k);
		indent(m, ind);
		if (kl > 128 || strpbrk(k, "\r\n") != NULL ||
		    strstr(k, "\xc2\x85") || strstr(k, "\xe2\x80\xa8") ||
		    strstr(k, "\xe2\x80\xa9")) {
			/* not a simple key (check_simple_key): "? key" */
			outs(m, "?");
			write_value(m, json_object_get(o, k), ind);
			indent(m, ind);
			outs(m, ":");
		} else {
			write_str(m, k, kl, ind, true);
			outs(m, ":");
		}
		write_value(m, v, ind);
	}
}

static void
write_seq(struct yem *m, const json_t *a, size_t ind)
{
	const json_t *v;
	size_t i;

	json_array_foreach((json_t *)a, i, v) {
		indent(m, ind);
		outs(m, "-");
		write_value(m, v, ind);
	}
}

/* ---- YAML -> JSON, as go-yaml v2 reads it ------------------------------- */

/* Plain (not quoted or block) and without a tag on its line. */
static bool
plain_untagged(const struct sotto_node *n, const struct sotto_buf *src)
{
	const unsigned char *b = src->data;
	size_t i = n->src_start, end, k;

	if (i == SOTTO_SPAN_NONE || i >= src->len ||
	    strchr("'\"|>", b[i]) != NULL)
		return false;
	for (k = 0; k < 2; k++) {	/* an anchor and a tag, either order */
		while (i > 0 && (b[i - 1] == ' ' || b[i - 1] == '\t'))
			i--;
		end = i;
		while (i > 0 && strchr(" \t\r\n", b[i - 1]) == NULL)
			i--;
		if (i == end || (b[i] != '!' && b[i] != '&'))
			return true;
		if (b[i] == '!')
			return false;
	}
	return true;
}

static bool
v1_bool(const char *s, size_t n, bool *val)
{
	static const char *const t[] = { "y", "Y", "yes", "Yes", "YES", "on",
		"On", "ON", NULL };
	static const char *const f[] = { "n", "N", "no", "No", "NO", "off",
		"Off", "OFF", NULL };
	size_t i;

	for (i = 0; t[i] != NULL; i++) {
		if (strlen(t[i]) == n && memcmp(t[i], s, n) == 0) {
			*val = true;
			return true;
		}
		if (strlen(f[i]) == n && memcmp(f[i], s, n) == 0) {
			*val = false;
			return true;
		}
	}
	return false;
}

/* Go's strconv.ParseInt(s, 0, 64) of the text without underscores. */
static bool
go_int(const char *s, size_t n, long long *out)
{
	char buf[80], *end;
	size_t i, k = 0;
	int base = 10;
	bool neg = false;
	unsigned long long v;

	for (i = 0; i < n && k + 1 < sizeof(buf); i++)
		if (s[i] != '_')
			buf[k++] = s[i];
	if (i < n)
		return false;
	buf[k] = '\0';
	i = 0;
	if (buf[0] == '+' || buf[0] == '-')
		neg = buf[i++] == '-';
	if (buf[i] == '0' && (buf[i + 1] == 'x' || buf[i + 1] == 'X'))
		base = 16, i += 2;
	else if (buf[i] == '0' && (buf[i + 1] == 'o' || buf[i + 1] == 'O'))
		base = 8, i += 2;
	else if (buf[i] == '0' && (buf[i + 1] == 'b' || buf[i + 1] == 'B'))
		base = 2, i += 2;
	else if (buf[i] == '0' && buf[i + 1] != '\0')
		base = 8, i += 1;
	if (buf[i] == '\0' || buf[i] == '+' || buf[i] == '-')
		return false;
	errno = 0;
	v = strtoull(buf + i, &end, base);
	if (errno != 0 || *end != '\0' || v > (unsigned long long)INT64_MAX +
	    neg)
		return false;
	*out = neg ? (long long)(0 - v) : (long long)v;
	return true;
}

static sotto_err
scalar_v2(json_t **out, const struct sotto_node *n, const struct sotto_buf *src,
    struct sotto_error *e)
{
	char buf[400], *end;
	size_t i, k = 0;
	long long ll;
	double d;
	bool b;

	*out = NULL;
	switch (n->type) {
	case SOTTO_T_NULL:
		*out = json_null();
		break;
	case SOTTO_T_BOOL:
		*out = json_boolean(n->text[0] == 't' || n->text[0] == 'T');
		break;
	case SOTTO_T_INT:
		if (go_int(n->text, n->len, &ll))
			*out = json_integer(ll);
		break;
	case SOTTO_T_FLOAT:
		for (i = 0; i < n->len && k + 1 < sizeof(buf); i++)
			if (n->text[i] != '_')
				buf[k++] = n->text[i];
		buf[k] = '\0';
		if (strchr(buf, 'n') != NULL || strchr(buf, 'N') != NULL)
			return sotto_error_set(e, SOTTO_E_CONFIG, "YAMLToJSON: "
			    "json: unsupported value: %s", strchr(buf, 'a') ||
			    strchr(buf, 'A') ? "NaN" : buf[0] == '-' ? "-Inf" :
			    "+Inf");
		errno = 0;
		d = strtod(buf, &end);
		if (i == n->len && errno == 0 && *end == '\0')
			*out = json_real(d);
		break;
	case SOTTO_T_STR:
		if (plain_untagged(n, src) && v1_bool(n->text, n->len, &b))
			*out = json_boolean(b);
		break;
	default:
		break;
	}
	if (*out == NULL)	/* a string, or a number JSON cannot hold */
		*out = json_stringn(n->text, n->len);
	if (*out == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

static sotto_err
tree_v2(json_t **out, const struct sotto_node *n, const struct sotto_buf *src,
    struct sotto_error *e)
{
	json_t *j, *c;
	size_t i;
	sotto_err rc;

	if (n->kind == SOTTO_NODE_SCALAR)
		return scalar_v2(out, n, src, e);
	*out = NULL;
	j = n->kind == SOTTO_NODE_MAP ? json_object() : json_array();
	if (j == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	for (i = 0; i < n->n; i++) {
		if (n->items[i].val == NULL ||
		    n->items[i].val->kind == SOTTO_NODE_COMMENT)
			continue;
		if ((rc = tree_v2(&c, n->items[i].val, src, e)) != SOTTO_OK) {
			json_decref(j);
			return rc;
		}
		if ((n->kind == SOTTO_NODE_MAP ? json_object_setn_new(j,
		    n->items[i].key, n->items[i].keylen, c) :
		    json_array_append_new(j, c)) != 0) {
			json_decref(j);
			return sotto_error_set(e, SOTTO_E_NOMEM, "out of "
			    "memory");
		}
	}
	*out = j;
	return SOTTO_OK;
}

/* Reads the substituted text back (first document only, as yaml.v2). */
static sotto_err
read_back(json_t **out, struct sotto_buf *text, struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_error pe = { SOTTO_OK, "" };
	struct sotto_doc *doc = NULL;
	sotto_err rc;

	*out = NULL;
	if (sotto_store_yaml.parse(&doc, text->data, text->len,
	    "substituted document", &lim, &pe) != SOTTO_OK) {
		/* the parser may quote a key or an anchor: say nothing of
		 * the text */
		rc = sotto_error_set(e, pe.code == SOTTO_E_NOMEM ?
		    SOTTO_E_NOMEM : SOTTO_E_CONFIG, "YAMLToJSON: the "
		    "substituted text is not valid YAML (a value may hold YAML "
		    "syntax such as ': ' or a quote)");
		sodium_memzero(&pe, sizeof(pe));
		return rc;
	}
	doc->secret = true;
	if (doc->n == 0 || doc->branches[0] == NULL)
		rc = sotto_error_set(e, SOTTO_E_CONFIG, "YAMLToJSON: the "
		    "substituted text holds no document");
	else
		rc = tree_v2(out, doc->branches[0], &doc->src, e);
	sotto_tree_doc_free(doc);
	return rc;
}

/* ---- the stream ---------------------------------------------------------- */

/* Frees j after wiping its strings (they may hold Secret values). */
static void
wipe_json(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_string(j))
		sodium_memzero((char *)json_string_value(j),
		    json_string_length(j));
	else if (json_is_object(j))
		json_object_foreach(j, k, v)
			wipe_json(v);
	else if (json_is_array(j))
		json_array_foreach(j, i, v)
			wipe_json(v);
}

static void
drop_json(json_t *j)
{
	if (j != NULL && j->refcount == 1)
		wipe_json(j);
	json_decref(j);
}

/* kustomize's resid.Gvk String() and the name: "Kind.v1.apps/name" */
static void
object_id(char *out, size_t cap, const json_t *o)
{
	const char *av = kjson_str(o, "apiVersion"), *slash;
	char kind[100], ver[100], grp[160], name[200], g[256];

	g[0] = '\0';
	slash = av ? strchr(av, '/') : NULL;
	if (slash != NULL)
		snprintf(g, sizeof(g), "%.*s", (int)(slash - av), av);
	kquote(kind, sizeof(kind), kjson_str(o, "kind"));
	kquote(ver, sizeof(ver), slash ? slash + 1 : av);
	kquote(grp, sizeof(grp), g);
	kquote(name, sizeof(name), kjson_str(o, "metadata.name"));
	snprintf(out, cap, "%s.%s.%s/%s", kind[0] ? kind : "[noKind]",
	    ver[0] ? ver : "[noVer]", grp[0] ? grp : "[noGrp]", name);
}

static bool
disabled(const json_t *o)
{
	const char *l = json_string_value(json_object_get(kjson_get(o,
	    "metadata.labels"), DISABLED_KEY));
	const char *a = json_string_value(json_object_get(kjson_get(o,
	    "metadata.annotations"), DISABLED_KEY));

	return (l != NULL && strcmp(l, "disabled") == 0) ||
	    (a != NULL && strcmp(a, "disabled") == 0);
}

/* Could envsubst change text: "${" or "$$" in it? */
static bool
has_subst(const struct sotto_buf *t)
{
	const uint8_t *p = t->data, *end = t->data + t->len;

	while (p != NULL && (p = memchr(p, '$', (size_t)(end - p))) != NULL &&
	    p + 1 < end) {
		if (p[1] == '{' || p[1] == '$')
			return true;
		p++;
	}
	return false;
}

/*
 * One object: *j replaced by its substituted version when the text
 * changes.  The message is Flux's, after "post build failed for '...': ".
 */
static sotto_err
subst_object(json_t **j, struct ksubst *s, bool *changed,
    struct sotto_error *e)
{
	struct sotto_buf text = SOTTO_BUF_SECRET_INIT;
	struct sotto_buf res = SOTTO_BUF_SECRET_INIT;
	struct yem m = { &text, true, SOTTO_OK };
	json_t *nj = NULL;
	char q[200];
	size_t i;
	sotto_err rc = SOTTO_OK;

	if (s->load.code != SOTTO_OK)
		return sotto_error_set(e, s->load.code, "%s", s->load.msg);
	if (s->n == 0 && !s->always)
		return SOTTO_OK;
	for (i = 0; i < s->n; i++) {
		if (!name_ok((char *)s->pool.data + s->v[i].name,
		    s->v[i].nlen)) {
			kquote(q, sizeof(q), (char *)s->pool.data +
			    s->v[i].name);
			return sotto_error_set(e, SOTTO_E_CONFIG, "envsubst "
			    "error: '%s' var name is invalid, must match '%s'",
			    q, NAME_RE);
		}
	}
	write_map(&m, *j, 0);
	if (m.rc != SOTTO_OK) {
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if (!has_subst(&text))
		goto out;
	if ((rc = kenv_eval(&res, (char *)text.data, text.len, lookup, s,
	    s->strict, e)) != SOTTO_OK) {
		sotto_error_prefix(e, "envsubst error: variable substitution "
		    "failed");
		goto out;
	}
	if (res.len == text.len && sodium_memcmp(res.data, text.data,
	    text.len) == 0)
		goto out;
	if ((rc = read_back(&nj, &res, e)) != SOTTO_OK) {
		sotto_error_prefix(e, "envsubst error");
		goto out;
	}
	drop_json(*j);
	*j = nj;
	*changed = true;
out:
	sotto_buf_release(&text);
	sotto_buf_release(&res);
	return rc;
}

sotto_err
ksubst_apply(struct sotto_buf *stream, struct ksubst *s,
    struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_buf res = SOTTO_BUF_SECRET_INIT;
	struct yem m = { &res, false, SOTTO_OK };
	struct sotto_doc *doc = NULL;
	char id[700];
	json_t *j;
	size_t i;
	bool changed = false;
	sotto_err rc;

	if (s == NULL || !s->active || stream->len == 0)
		return SOTTO_OK;
	finish_vars(s);
	if ((rc = sotto_store_yaml.parse(&doc, stream->data, stream->len,
	    "rendered output", &lim, e)) != SOTTO_OK)
		return rc;
	doc->secret = true;
	for (i = 0; i < doc->n && rc == SOTTO_OK; i++) {
		if (doc->branches[i] == NULL || doc->branches[i]->n == 0)
			continue;
		if ((j = kjson_from_tree(doc->branches[i])) == NULL) {
			rc = sotto_error_set(e, SOTTO_E_PARSE, "rendered "
			    "document %zu cannot be sent as JSON (text that is "
			    "not UTF-8, or out of memory)", i + 1);
			break;
		}
		object_id(id, sizeof(id), j);
		if (!disabled(j) && (rc = subst_object(&j, s, &changed, e)) !=
		    SOTTO_OK)
			sotto_error_prefix(e, "post build failed for '%s'", id);
		outs(&m, "---\n");
		write_map(&m, j, 0);
		drop_json(j);
		if (rc == SOTTO_OK && m.rc != SOTTO_OK)
			rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	sotto_tree_doc_free(doc);
	if (rc == SOTTO_OK && changed) {
		sotto_buf_release(stream);
		*stream = res;
		return SOTTO_OK;
	}
	sotto_buf_release(&res);
	return rc;
}
