/* SPDX-License-Identifier: ISC */
/*
 * `sotto cluster`'s side of keys born in the cluster (issue #19): creates
 * the labelled Secret, leaves requests as annotations on it (a JSON merge
 * patch: no `get secrets` needed) and waits for the agent's answer in the
 * recipient ConfigMap.  Only an import reads and writes the Secret's data,
 * merging identities the CLI decrypted in its own locked memory.  The
 * agent's side is clusterkey.c.  Every name goes through kpath.c.
 */
#include "kube/kint.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "crypto/b64.h"

sotto_err
sotto_kube_check_name(const char *flag, const char *s, bool ns,
    struct sotto_error *e)
{
	if (kname_check(flag, s, ns ? KN_LABEL : KN_SUBDOMAIN, e) != SOTTO_OK)
		return e->code = SOTTO_E_USAGE;
	return SOTTO_OK;
}

struct keyconn {
	struct sotto_kube *k;
	char ns[64];		/* the Secret's namespace (validated) */
	char name[254];		/* the Secret (validated) */
	char cm[256];		/* "<name>-recipient" */
	char key[320];		/* "ns/name", messages */
};

static void
conn_close(struct keyconn *c)
{
	sotto_kube_close(c->k);
	c->k = NULL;
}

static sotto_err
conn_open(struct keyconn *c, const struct sotto_kube_keyreq *q,
    struct sotto_error *e)
{
	struct sotto_kube_config cfg;
	const char *ns;
	sotto_err rc;

	memset(c, 0, sizeof(*c));
	if (q->secret == NULL)
		return sotto_error_set(e, SOTTO_E_USAGE, "--secret is "
		    "required");
	if (kname_check("--secret", q->secret, KN_SUBDOMAIN, e) != SOTTO_OK ||
	    (q->ns != NULL && kname_check("--namespace", q->ns, KN_LABEL, e) !=
	    SOTTO_OK))
		return e->code = SOTTO_E_USAGE;
	snprintf(c->cm, sizeof(c->cm), "%.200s%s", q->secret,
	    SOTTO_KEY_CM_SUFFIX);
	if (strlen(q->secret) + strlen(SOTTO_KEY_CM_SUFFIX) > 253)
		return sotto_error_set(e, SOTTO_E_USAGE, "--secret: at most %zu "
		    "characters (the ConfigMap '<secret>%s' must be a name "
		    "too)", 253 - strlen(SOTTO_KEY_CM_SUFFIX),
		    SOTTO_KEY_CM_SUFFIX);
	memset(&cfg, 0, sizeof(cfg));
	if ((rc = sotto_kube_config_load(&cfg, q->kubeconfig, q->context,
	    e)) != SOTTO_OK)
		return rc;
	ns = q->ns ? q->ns : cfg.namespace ? cfg.namespace : "default";
	snprintf(c->ns, sizeof(c->ns), "%s", ns);
	snprintf(c->name, sizeof(c->name), "%s", q->secret);
	snprintf(c->key, sizeof(c->key), "%s/%s", c->ns, c->name);
	if ((rc = kname_check("namespace", c->ns, KN_LABEL, e)) == SOTTO_OK)
		rc = sotto_kube_open(&c->k, &cfg, e);
	sotto_kube_config_free(&cfg);
	if (rc == SOTTO_OK)	/* the tests tell our requests by it */
		rc = sotto_kube_set_user_agent(c->k, "sotto-cluster");
	return rc;
}

static sotto_err
kreq_send(struct keyconn *c, struct sotto_kube_resp *r, const char *method,
    const char *plural, const char *name, const char *ctype,
    const json_t *body, struct sotto_error *e)
{
	struct kref ref = { "", "v1", plural, c->ns, name, NULL };
	struct sotto_buf path = SOTTO_BUF_INIT;
	char *b = NULL;
	sotto_err rc;

	if ((rc = kpath_build(&path, &ref, e)) != SOTTO_OK)
		return rc;
	if (body != NULL && (kpath_query(&path, "fieldManager",
	    "sotto-cluster") != SOTTO_OK || (b = json_dumps(body,
	    JSON_COMPACT)) == NULL))
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	else
		rc = sotto_kube_request(c->k, r, method, (char *)path.data,
		    ctype, b, b ? strlen(b) : 0, e);
	if (b != NULL) {
		sodium_memzero(b, strlen(b));
		free(b);
	}
	sotto_buf_release(&path);
	return rc;
}

/* The recipient ConfigMap's data (new reference), or NULL when absent. */
static sotto_err
cm_data(json_t **out, struct keyconn *c, struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	json_t *j = NULL;
	sotto_err rc;

	*out = NULL;
	if ((rc = kreq_send(c, &r, "GET", "configmaps", c->cm, NULL, NULL, e)) !=
	    SOTTO_OK)
		goto out;
	if (r.status == 404)
		goto out;
	if (r.status != 200) {
		char what[400];

		snprintf(what, sizeof(what), "cannot get ConfigMap '%s/%s'",
		    c->ns, c->cm);
		rc = sotto_kube_status_error(e, &r, what);
		goto out;
	}
	j = json_loadb((char *)r.body.data, r.body.len, 0, NULL);
	*out = json_incref(json_object_get(j, "data"));
	if (*out == NULL)
		*out = json_object();
out:
	json_decref(j);
	sotto_kube_resp_release(&r);
	return rc;
}

static const char *
dstr(const json_t *d, const char *key)
{
	return json_string_value(json_object_get(d, key));
}

static void
nap(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) *
	    1e9) };

	nanosleep(&ts, NULL);
}

/*
 * Polls the ConfigMap until data[key] equals want (want NULL: until it
 * has a non-empty "recipient").  *out gets the data.
 */
static sotto_err
wait_for(json_t **out, struct keyconn *c, const struct sotto_kube_keyreq *q,
    const char *key, const char *want, struct sotto_error *e)
{
	double t0 = kchild_now(), limit = q->timeout > 0 ? q->timeout : 60;
	json_t *d = NULL;
	const char *v;
	sotto_err rc;

	for (;;) {
		if ((rc = cm_data(&d, c, e)) != SOTTO_OK)
			return rc;
		v = dstr(d, want ? key : "recipient");
		if (v != NULL && (want ? strcmp(v, want) == 0 : v[0] != '\0')) {
			*out = d;
			return SOTTO_OK;
		}
		json_decref(d);
		d = NULL;
		if (kchild_now() - t0 >= limit)
			return sotto_error_set(e, SOTTO_E_KUBE_TRANSPORT, "no "
			    "answer from the agent for Secret '%s' within %.0f s "
			    "(is 'sotto reconcile' running, and may it update "
			    "that Secret? see 'sotto cluster keygen --rbac')",
			    c->key, limit);
		nap(q->poll > 0 ? q->poll : 0.2);
	}
}

static sotto_err
status_fail(struct sotto_error *e, const struct sotto_kube_resp *r,
    const char *verb, const struct keyconn *c)
{
	char what[400];

	if (r->status == 404)
		return sotto_error_set(e, SOTTO_E_KUBE_NOTFOUND, "Secret '%s' "
		    "not found", c->key);
	snprintf(what, sizeof(what), "cannot %s Secret '%s'", verb, c->key);
	return sotto_kube_status_error(e, r, what);
}

sotto_err
sotto_kube_key_create(struct sotto_buf *recipient,
    const struct sotto_kube_keyreq *q, bool pq, struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	struct keyconn c;
	json_t *body = NULL, *d = NULL;
	sotto_err rc;

	if ((rc = conn_open(&c, q, e)) != SOTTO_OK)
		goto out;
	body = json_pack("{s:s,s:s,s:{s:s,s:{s:s}},s:s}", "apiVersion", "v1",
	    "kind", "Secret", "metadata", "name", c.name, "labels",
	    SOTTO_KEY_LABEL, "generate", "type", "Opaque");
	if (body != NULL && pq)
		json_object_set_new(json_object_get(body, "metadata"),
		    "annotations", json_pack("{s:s}", SOTTO_KEY_TYPE, "pq"));
	if (body == NULL) {
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = kreq_send(&c, &r, "POST", "secrets", NULL, "application/json",
	    body, e)) != SOTTO_OK)
		goto out;
	if (r.status == 409) {
		rc = sotto_error_set(e, SOTTO_E_KUBE_CONFLICT, "Secret '%s' "
		    "already exists (print its recipient with 'sotto cluster "
		    "recipient')", c.key);
		goto out;
	}
	if (r.status != 201 && r.status != 200) {
		rc = status_fail(e, &r, "create", &c);
		goto out;
	}
	if ((rc = wait_for(&d, &c, q, "recipient", NULL, e)) == SOTTO_OK)
		rc = sotto_buf_addstr(recipient, dstr(d, "recipient"));
out:
	json_decref(body);
	json_decref(d);
	sotto_kube_resp_release(&r);
	conn_close(&c);
	return rc;
}

sotto_err
sotto_kube_key_recipients(struct sotto_buf *current, struct sotto_buf *all,
    const struct sotto_kube_keyreq *q, struct sotto_error *e)
{
	struct keyconn c;
	json_t *d = NULL;
	sotto_err rc;

	if ((rc = conn_open(&c, q, e)) != SOTTO_OK ||
	    (rc = cm_data(&d, &c, e)) != SOTTO_OK)
		goto out;
	if (d == NULL || dstr(d, "recipient") == NULL ||
	    dstr(d, "recipient")[0] == '\0') {
		rc = sotto_error_set(e, SOTTO_E_KUBE_NOTFOUND, "no recipient "
		    "published for Secret '%s' (ConfigMap '%s/%s' %s)", c.key,
		    c.ns, c.cm, d ? "has none" : "not found");
		goto out;
	}
	if (sotto_buf_addstr(current, dstr(d, "recipient")) != SOTTO_OK ||
	    (all != NULL && sotto_buf_addstr(all, dstr(d, "recipients") ?
	    dstr(d, "recipients") : "") != SOTTO_OK))
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
out:
	json_decref(d);
	conn_close(&c);
	return rc;
}

/* Merge-patches the Secret's annotations (no read of the Secret). */
static sotto_err
annotate(struct keyconn *c, json_t *ann, struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	json_t *body = json_pack("{s:{s:O}}", "metadata", "annotations", ann);
	sotto_err rc;

	if (body == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if ((rc = kreq_send(c, &r, "PATCH", "secrets", c->name,
	    "application/merge-patch+json", body, e)) == SOTTO_OK &&
	    r.status != 200)
		rc = status_fail(e, &r, "annotate", c);
	json_decref(body);
	sotto_kube_resp_release(&r);
	return rc;
}

static void
request_id(char *out, size_t cap)
{
	uint8_t b[8];
	char ts[40];

	randombytes_buf(b, sizeof(b));
	know(ts, sizeof(ts), true);
	snprintf(out, cap, "%s-%02x%02x%02x%02x%02x%02x%02x%02x", ts, b[0],
	    b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
}

sotto_err
sotto_kube_key_request(struct sotto_buf *answer, bool *refused,
    const struct sotto_kube_keyreq *q, enum sotto_kube_key_op op,
    const char *arg, struct sotto_error *e)
{
	struct keyconn c;
	json_t *ann = NULL, *d = NULL;
	const char *res;
	char id[80];
	sotto_err rc;

	*refused = false;
	if ((rc = conn_open(&c, q, e)) != SOTTO_OK)
		goto out;
	if (op != SOTTO_KEY_OP_ROTATE && (arg == NULL || arg[0] == '\0' ||
	    !kheader_ok(arg) || strlen(arg) > 4096)) {
		rc = sotto_error_set(e, SOTTO_E_USAGE, "%s wants a recipient",
		    op == SOTTO_KEY_OP_RETIRE ? "--recipient" : "--to");
		goto out;
	}
	request_id(id, sizeof(id));
	if (op == SOTTO_KEY_OP_ROTATE)
		ann = json_pack("{s:s}", SOTTO_KEY_ROTATE, id);
	else if (op == SOTTO_KEY_OP_RETIRE)
		ann = json_pack("{s:s,s:s}", SOTTO_KEY_RETIRE, arg,
		    SOTTO_KEY_RETIRE_ID, id);
	else
		ann = json_pack("{s:s,s:s}", SOTTO_KEY_EXPORT_TO, arg,
		    SOTTO_KEY_EXPORT_ID, id);
	if (ann == NULL) {
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = annotate(&c, ann, e)) != SOTTO_OK)
		goto out;
	if ((rc = wait_for(&d, &c, q, op == SOTTO_KEY_OP_ROTATE ? "rotated" :
	    op == SOTTO_KEY_OP_RETIRE ? "retire-id" : "export-id", id, e)) !=
	    SOTTO_OK)
		goto out;
	res = op == SOTTO_KEY_OP_ROTATE ? dstr(d, "recipient") :
	    op == SOTTO_KEY_OP_RETIRE ? dstr(d, "retire-result") :
	    dstr(d, "export-result");
	if (res == NULL)
		res = "no answer";
	if (op == SOTTO_KEY_OP_EXPORT && strcmp(res, "exported") == 0)
		res = dstr(d, "export") ? dstr(d, "export") : "";
	else
		*refused = strncmp(res, "refused", 7) == 0 ||
		    strncmp(res, "failed", 6) == 0;
	if (sotto_buf_addstr(answer, res) != SOTTO_OK)
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
out:
	json_decref(ann);
	json_decref(d);
	conn_close(&c);
	return rc;
}

/* ---- import -------------------------------------------------------------- */

/* Recipient strings of the identities in text; SOTTO_E_* on bad text. */
static sotto_err
recipients_of(json_t *out, struct sotto_age_idlist *ids, const uint8_t *text,
    size_t len, const char *what, struct sotto_error *e)
{
	struct sotto_age_recipient *r = NULL;
	size_t i;

	if (len > 0 && sotto_age_identities_parse_flags(ids, text, len, NULL,
	    SOTTO_AGE_IDS_NATIVE_ONLY, NULL, NULL, e) != SOTTO_OK)
		return sotto_error_prefix(e, "%s", what);
	for (i = 0; i < ids->n; i++) {
		if (sotto_age_identity_to_recipient(&r, ids->v[i], e) !=
		    SOTTO_OK)
			return e->code;
		json_array_append_new(out, json_string(
		    sotto_age_recipient_string(r)));
		sotto_age_recipient_free(r);
	}
	return SOTTO_OK;
}

static bool
has_str(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

/*
 * out = the bundle's identities that text lacks, then text: the Secret's
 * own newest identity stays last, so its recipient stays current.
 */
static sotto_err
merge(struct sotto_buf *out, size_t *added, const struct sotto_buf *text,
    const uint8_t *bundle, size_t blen, struct sotto_error *e)
{
	struct sotto_age_idlist have = { NULL, 0 }, in = { NULL, 0 };
	json_t *hr = json_array(), *ir = json_array();
	size_t i;
	sotto_err rc;

	*added = 0;
	if (hr == NULL || ir == NULL) {
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = recipients_of(hr, &have, text->data, text->len, "the "
	    "Secret's '" SOTTO_KEY_ENTRY "'", e)) != SOTTO_OK ||
	    (rc = recipients_of(ir, &in, bundle, blen, "the bundle", e)) !=
	    SOTTO_OK)
		goto out;
	if (in.n == 0) {
		rc = sotto_error_set(e, SOTTO_E_NO_KEY, "the bundle holds no "
		    "age identity");
		goto out;
	}
	for (i = 0; i < in.n && rc == SOTTO_OK; i++) {
		const char *r = json_string_value(json_array_get(ir, i));

		if (has_str(hr, r))
			continue;
		if (sotto_buf_addf(out, "# public key: %s\n", r) != SOTTO_OK ||
		    sotto_age_identity_string(out, in.v[i], e) != SOTTO_OK ||
		    sotto_buf_addch(out, '\n') != SOTTO_OK)
			rc = e->code ? e->code : sotto_error_set(e,
			    SOTTO_E_NOMEM, "out of memory");
		(*added)++;
	}
	if (rc == SOTTO_OK && sotto_buf_add(out, text->data ? text->data :
	    (const uint8_t *)"", text->len) != SOTTO_OK)
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
out:
	sotto_age_idlist_free(&have);
	sotto_age_idlist_free(&in);
	json_decref(hr);
	json_decref(ir);
	return rc;
}

/* Writes text as the Secret's key entry: PUT over obj, or a new Secret. */
static sotto_err
write_secret(struct keyconn *c, json_t *obj, const struct sotto_buf *text,
    struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	struct sotto_buf b64 = SOTTO_BUF_SECRET_INIT;
	json_t *md, *labels, *data;
	sotto_err rc;

	if (obj == NULL)
		obj = json_pack("{s:s,s:s,s:{s:s},s:s}", "apiVersion", "v1",
		    "kind", "Secret", "metadata", "name", c->name, "type",
		    "Opaque");
	else
		json_incref(obj);
	if (obj == NULL || (md = json_object_get(obj, "metadata")) == NULL ||
	    sotto_b64_encode(&b64, text->data, text->len, true) != 0) {
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	json_object_del(md, "managedFields");
	if ((labels = json_object_get(md, "labels")) == NULL)
		json_object_set_new(md, "labels", labels = json_object());
	if ((data = json_object_get(obj, "data")) == NULL)
		json_object_set_new(obj, "data", data = json_object());
	json_object_set_new(labels, SOTTO_KEY_LABEL, json_string("generated"));
	json_object_set_new(data, SOTTO_KEY_ENTRY, json_stringn((char *)
	    b64.data, b64.len));
	rc = kreq_send(c, &r, json_object_get(md, "resourceVersion") ? "PUT" :
	    "POST", "secrets", json_object_get(md, "resourceVersion") ?
	    c->name : NULL, "application/json", obj, e);
	if (rc == SOTTO_OK && r.status != 200 && r.status != 201)
		rc = status_fail(e, &r, "update", c);
	ksecret_wipe(data);
out:
	json_decref(obj);
	sotto_buf_release(&b64);
	sotto_kube_resp_release(&r);
	return rc;
}

sotto_err
sotto_kube_key_import(size_t *added, const struct sotto_kube_keyreq *q,
    const uint8_t *bundle, size_t len, struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	struct sotto_buf text = SOTTO_BUF_SECRET_INIT;
	struct sotto_buf merged = SOTTO_BUF_SECRET_INIT;
	struct keyconn c;
	json_t *obj = NULL, *v;
	sotto_err rc;

	*added = 0;
	if ((rc = conn_open(&c, q, e)) != SOTTO_OK ||
	    (rc = kreq_send(&c, &r, "GET", "secrets", c.name, NULL, NULL, e)) !=
	    SOTTO_OK)
		goto out;
	if (r.status == 200) {
		obj = json_loadb((char *)r.body.data, r.body.len, 0, NULL);
		v = json_object_get(json_object_get(obj, "data"),
		    SOTTO_KEY_ENTRY);
		if (obj == NULL || (v != NULL && ksecret_decode(&text, v) !=
		    SOTTO_OK)) {
			rc = sotto_error_set(e, SOTTO_E_KEY_FORMAT, "Secret "
			    "'%s': '%s' is not base64", c.key, SOTTO_KEY_ENTRY);
			goto out;
		}
	} else if (r.status != 404) {
		rc = status_fail(e, &r, "get", &c);
		goto out;
	}
	if ((rc = merge(&merged, added, &text, bundle, len, e)) != SOTTO_OK)
		goto out;
	if (*added > 0 || obj == NULL)
		rc = write_secret(&c, obj, &merged, e);
out:
	if (obj != NULL)
		ksecret_wipe(json_object_get(obj, "data"));
	json_decref(obj);
	sotto_buf_release(&text);
	sotto_buf_release(&merged);
	sotto_kube_resp_release(&r);
	conn_close(&c);
	return rc;
}
