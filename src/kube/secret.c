/* SPDX-License-Identifier: ISC */
/*
 * Age identities from a Kubernetes Secret, Flux's way: every `*.agekey`
 * data entry is an identity file (spec in-cluster.md §3), and every `*.asc`
 * entry an unprotected OpenPGP secret key (issue 21).  The key text is
 * parsed by crypto/age.c and crypto/pgp.c; this file only fetches,
 * classifies and wipes.
 */
#include "kube/kint.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/b64.h"
#include "sotto/pgp.h"

static bool
ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
ksecret_wipe(json_t *data)
{
	const char *k;
	json_t *v;

	json_object_foreach(data, k, v)
		if (json_is_string(v))
			sodium_memzero((char *)json_string_value(v),
			    json_string_length(v));
}

sotto_err
ksecret_decode(struct sotto_buf *out, const json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0, got = 0;

	if (s == NULL)
		return SOTTO_E_KEY_FORMAT;
	if (sotto_buf_grow(out, SOTTO_B64_DECODED_MAX(n)) != SOTTO_OK)
		return SOTTO_E_NOMEM;
	if (!sotto_b64_decode(out->data, &got, s, n, true)) {
		sotto_buf_truncate(out, 0);
		return SOTTO_E_KEY_FORMAT;
	}
	out->len = got;
	out->data[got] = '\0';
	return SOTTO_OK;
}

static sotto_err
import_entry(struct sotto_age_idlist *ids, json_t *v, const char *entry,
    const char *ns, const char *name, struct sotto_error *e)
{
	struct sotto_buf key = SOTTO_BUF_SECRET_INIT;
	struct sotto_error pe = { SOTTO_OK, "" };
	sotto_err rc = SOTTO_OK;

	if (ksecret_decode(&key, v) != SOTTO_OK) {
		rc = sotto_error_set(e, SOTTO_E_KEY_FORMAT, "failed to import "
		    "'%s' data from sops decryption Secret '%s/%s': invalid "
		    "base64", entry, ns, name);
		goto out;
	}
	/* native types only: an AGE-PLUGIN- line would run a program */
	if (sotto_age_identities_parse_flags(ids, key.data, key.len, NULL,
	    SOTTO_AGE_IDS_NATIVE_ONLY, NULL, NULL, &pe) != SOTTO_OK)
		rc = sotto_error_set(e, SOTTO_E_KEY_FORMAT, "failed to import "
		    "'%s' data from sops decryption Secret '%s/%s': %s", entry,
		    ns, name, pe.msg);
out:
	sotto_buf_release(&key);
	sodium_memzero(&pe, sizeof(pe));
	return rc;
}

/* One `*.asc` entry: an OpenPGP secret key, added to pgp. */
static sotto_err
import_pgp_entry(struct sotto_pgp_keys *pgp, json_t *v, const char *entry,
    const char *ns, const char *name, struct sotto_error *e)
{
	struct sotto_buf key = SOTTO_BUF_SECRET_INIT;
	struct sotto_error pe = { SOTTO_OK, "" };
	sotto_err rc = SOTTO_OK;

	if (ksecret_decode(&key, v) != SOTTO_OK)
		rc = sotto_error_set(e, SOTTO_E_KEY_FORMAT, "failed to import "
		    "'%s' data from sops decryption Secret '%s/%s': invalid "
		    "base64", entry, ns, name);
	else if (sotto_pgp_keys_add(pgp, key.data, key.len, entry, &pe) !=
	    SOTTO_OK)
		rc = sotto_error_set(e, SOTTO_E_KEY_FORMAT, "failed to import "
		    "'%s' data from sops decryption Secret '%s/%s': %s", entry,
		    ns, name, pe.msg);
	sotto_buf_release(&key);
	sodium_memzero(&pe, sizeof(pe));
	return rc;
}

static sotto_err
import_all(struct sotto_age_idlist *ids, struct sotto_pgp_keys *pgp,
    json_t *data, const char *ns, const char *name, struct sotto_buf *report,
    struct sotto_error *e)
{
	const char **keys = NULL, *k;
	size_t n = 0, i, found = 0, nasc = 0;
	json_t *v;
	sotto_err rc = SOTTO_OK;

	if (json_is_object(data) && (keys = calloc(json_object_size(data) + 1,
	    sizeof(*keys))) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if (keys != NULL)
		json_object_foreach(data, k, v)
			keys[n++] = k;
	if (n > 1)
		qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n && rc == SOTTO_OK; i++) {
		if (ends_with(keys[i], ".agekey")) {
			rc = import_entry(ids, json_object_get(data, keys[i]),
			    keys[i], ns, name, e);
			found++;
		} else if (pgp != NULL && ends_with(keys[i], ".asc")) {
			rc = import_pgp_entry(pgp, json_object_get(data,
			    keys[i]), keys[i], ns, name, e);
			nasc++;
		} else if (report != NULL && (ends_with(keys[i], ".asc") ||
		    strncmp(keys[i], "sops.", 5) == 0)) {
			sotto_buf_addf(report, "%s/%s: entry '%s' ignored "
			    "(not an age key)\n", ns, name, keys[i]);
		}
	}
	if (rc == SOTTO_OK && found + nasc == 0)
		rc = sotto_error_set(e, SOTTO_E_NO_KEY, "decryption Secret "
		    "'%s/%s' has no '*.agekey' %sentries", ns, name,
		    pgp != NULL ? "or '*.asc' " : "");
	if (rc == SOTTO_OK && report != NULL)
		sotto_buf_addf(report, "Secret %s/%s: %zu age key entries, "
		    "%zu OpenPGP key entries\n", ns, name, found, nasc);
	free(keys);
	return rc;
}

sotto_err
sotto_kube_secret_identities(struct sotto_age_idlist *ids,
    struct sotto_pgp_keys *pgp, struct sotto_kube *k, const char *ns,
    const char *name, struct sotto_buf *report, struct sotto_error *e)
{
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	struct sotto_buf path = SOTTO_BUF_INIT;
	struct sotto_error pe = { SOTTO_OK, "" };
	struct kref ref = { "", "v1", "secrets", ns, name, NULL };
	json_t *j = NULL, *data;
	sotto_err rc;

	/* the names come from a spec: only a Secret of that namespace */
	if ((rc = kname_check("decryption Secret namespace", ns, KN_LABEL,
	    e)) != SOTTO_OK || (rc = kname_check("decryption Secret name",
	    name, KN_SUBDOMAIN, e)) != SOTTO_OK || (rc = kpath_build(&path,
	    &ref, e)) != SOTTO_OK)
		return rc;
	if ((rc = sotto_kube_request(k, &r, "GET", (char *)path.data, NULL,
	    NULL, 0, e)) != SOTTO_OK) {
		sotto_error_prefix(e, "cannot get sops decryption Secret "
		    "'%s/%s'", ns, name);
		goto out;
	}
	if (r.status == 404) {
		rc = sotto_error_set(e, SOTTO_E_KUBE_NOTFOUND, "decryption "
		    "Secret '%s/%s' not found", ns, name);
		goto out;
	}
	if (r.status != 200) {
		sotto_kube_status_error(&pe, &r, "GET");
		rc = sotto_error_set(e, pe.code, "cannot get sops decryption "
		    "Secret '%s/%s': HTTP %ld %s", ns, name, r.status,
		    pe.msg + 4);
		goto out;
	}
	j = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
	if (!json_is_object(j)) {
		rc = sotto_error_set(e, SOTTO_E_KUBE_API, "cannot get sops "
		    "decryption Secret '%s/%s': response is not JSON", ns,
		    name);
		goto out;
	}
	data = json_object_get(j, "data");
	rc = import_all(ids, pgp, data, ns, name, report, e);
	ksecret_wipe(data);
out:
	json_decref(j);
	sotto_kube_resp_release(&r);
	sotto_buf_release(&path);
	return rc;
}

sotto_err
sotto_kube_load_key_secret(struct sotto_age_idlist *ids,
    struct sotto_pgp_keys *pgp, const char *kubeconfig, const char *ns_name,
    struct sotto_error *e)
{
	struct sotto_kube_config c;
	struct sotto_kube *k = NULL;
	const char *slash = strchr(ns_name, '/');
	char *ns = NULL;
	sotto_err rc;

	if ((rc = sotto_kube_config_load(&c, kubeconfig, NULL, e)) !=
	    SOTTO_OK)
		return rc;
	ns = slash ? strndup(ns_name, (size_t)(slash - ns_name)) :
	    strdup(c.namespace);
	if (ns == NULL) {
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if (ns[0] == '\0' || (slash ? slash[1] : ns_name[0]) == '\0') {
		rc = sotto_error_set(e, SOTTO_E_USAGE, "--key-secret wants "
		    "NAMESPACE/NAME, got '%s'", ns_name);
		goto out;
	}
	if ((rc = sotto_kube_open(&k, &c, e)) != SOTTO_OK)
		goto out;
	rc = sotto_kube_secret_identities(ids, pgp, k, ns, slash ? slash + 1 :
	    ns_name, NULL, e);
out:
	sotto_kube_close(k);
	sotto_kube_config_free(&c);
	free(ns);
	return rc;
}
