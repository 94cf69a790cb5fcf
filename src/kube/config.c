/* SPDX-License-Identifier: ISC */
/*
 * Finds the API server: a kubeconfig file (parsed with the YAML store, so
 * no second YAML parser) or the in-cluster service account.  Talking to
 * the server belongs to client.c.
 */
#include "sotto/kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/b64.h"
#include "sotto/io.h"
#include "sotto/store.h"
#include "sotto/tree.h"

#define MAX_FILE ((size_t)4 << 20)

static const char *
str_at(const struct sotto_node *map, const char *key)
{
	const struct sotto_node *n;

	if (map == NULL || map->kind != SOTTO_NODE_MAP)
		return NULL;
	n = sotto_tree_map_get(map, key);
	if (n == NULL || n->kind != SOTTO_NODE_SCALAR || n->type ==
	    SOTTO_T_NULL)
		return NULL;
	return n->text;
}

/* The `key` map of the entry named name in list (clusters, users, ...). */
static const struct sotto_node *
named(const struct sotto_node *root, const char *list, const char *name,
    const char *key)
{
	const struct sotto_node *l = sotto_tree_map_get(root, list);
	const char *n;
	size_t i;

	if (l == NULL || l->kind != SOTTO_NODE_SEQ || name == NULL)
		return NULL;
	for (i = 0; i < l->n; i++) {
		n = str_at(l->items[i].val, "name");
		if (n != NULL && strcmp(n, name) == 0)
			return sotto_tree_map_get(l->items[i].val, key);
	}
	return NULL;
}

static sotto_err
b64_into(struct sotto_buf *out, const char *s, const char *what,
    struct sotto_error *e)
{
	size_t n = strlen(s), got = 0;

	if (sotto_buf_grow(out, SOTTO_B64_DECODED_MAX(n)) != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if (!sotto_b64_decode(out->data + out->len, &got, s, n, true))
		return sotto_error_set(e, SOTTO_E_KUBE_CONFIG, "kubeconfig: "
		    "'%s' is not valid base64", what);
	out->len += got;
	out->data[out->len] = '\0';
	return SOTTO_OK;
}

/*
 * Reads the file a kubeconfig at kc names: a relative name is taken from
 * kc's directory, as client-go resolves it (so "-" is a file there, never
 * stdin).
 */
static sotto_err
read_ref(struct sotto_buf *out, const char *kc, const char *name,
    struct sotto_error *e)
{
	struct sotto_buf p = SOTTO_BUF_INIT;
	const char *slash = strrchr(kc, '/');
	sotto_err err;

	if (name[0] == '/')
		return sotto_io_read_file(out, name, MAX_FILE, e);
	if (sotto_buf_addf(&p, "%.*s/%s", slash ? (int)(slash - kc) : 1,
	    slash ? kc : ".", name) != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	err = sotto_io_read_file(out, (const char *)p.data, MAX_FILE, e);
	sotto_buf_release(&p);
	return err;
}

/* data (base64) wins over the file path, as in client-go. */
static sotto_err
data_or_file(struct sotto_buf *out, const struct sotto_node *m,
    const char *data_key, const char *file_key, const char *kc,
    struct sotto_error *e)
{
	const char *s;

	if ((s = str_at(m, data_key)) != NULL)
		return b64_into(out, s, data_key, e);
	if ((s = str_at(m, file_key)) != NULL &&
	    read_ref(out, kc, s, e) != SOTTO_OK)
		return sotto_error_prefix(e, "kubeconfig '%s'", file_key);
	return SOTTO_OK;
}

static sotto_err
read_user(struct sotto_kube_config *c, const struct sotto_node *u,
    const char *kc, struct sotto_error *e)
{
	const char *s;

	if (u == NULL)
		return SOTTO_OK;
	if (sotto_tree_map_get(u, "exec") != NULL ||
	    sotto_tree_map_get(u, "auth-provider") != NULL)
		return sotto_error_set(e, SOTTO_E_KUBE_CONFIG, "kubeconfig: "
		    "exec and auth-provider credential plugins are not "
		    "supported; use a token or a client certificate");
	if ((s = str_at(u, "token")) != NULL) {
		if (sotto_buf_addstr(&c->token, s) != SOTTO_OK)
			return sotto_error_set(e, SOTTO_E_NOMEM, "oom");
	} else if ((s = str_at(u, "tokenFile")) != NULL) {
		if (read_ref(&c->token, kc, s, e) != SOTTO_OK)
			return sotto_error_prefix(e, "kubeconfig tokenFile");
	}
	while (c->token.len && (c->token.data[c->token.len - 1] == '\n' ||
	    c->token.data[c->token.len - 1] == '\r'))
		sotto_buf_truncate(&c->token, c->token.len - 1);
	if (data_or_file(&c->cert, u, "client-certificate-data",
	    "client-certificate", kc, e) != SOTTO_OK ||
	    data_or_file(&c->key, u, "client-key-data", "client-key", kc,
	    e) != SOTTO_OK)
		return e ? e->code : SOTTO_E_KUBE_CONFIG;
	return SOTTO_OK;
}

static sotto_err
from_tree(struct sotto_kube_config *c, const struct sotto_node *root,
    const char *context, const char *path, struct sotto_error *e)
{
	const struct sotto_node *ctx, *cl;
	const char *ctxname = context ? context : str_at(root,
	    "current-context"), *s;

	if (ctxname == NULL)
		return sotto_error_set(e, SOTTO_E_KUBE_CONFIG, "kubeconfig "
		    "'%s' has no current-context", path);
	if ((ctx = named(root, "contexts", ctxname, "context")) == NULL)
		return sotto_error_set(e, SOTTO_E_KUBE_CONFIG, "kubeconfig "
		    "'%s': context '%s' not found", path, ctxname);
	cl = named(root, "clusters", str_at(ctx, "cluster"), "cluster");
	if (cl == NULL || (s = str_at(cl, "server")) == NULL)
		return sotto_error_set(e, SOTTO_E_KUBE_CONFIG, "kubeconfig "
		    "'%s': context '%s' has no cluster server", path, ctxname);
	c->server = strndup(s, strlen(s) - (s[0] && s[strlen(s) - 1] == '/'));
	s = str_at(ctx, "namespace");
	c->namespace = strdup(s ? s : "default");
	if (c->server == NULL || c->namespace == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	s = str_at(cl, "insecure-skip-tls-verify");
	c->insecure = s != NULL && strcmp(s, "true") == 0;
	if (data_or_file(&c->ca, cl, "certificate-authority-data",
	    "certificate-authority", path, e) != SOTTO_OK)
		return e ? e->code : SOTTO_E_KUBE_CONFIG;
	return read_user(c, named(root, "users", str_at(ctx, "user"),
	    "user"), path, e);
}

static sotto_err
load_file(struct sotto_kube_config *c, const char *path, const char *context,
    struct sotto_error *e)
{
	struct sotto_buf src = SOTTO_BUF_SECRET_INIT;
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_doc *doc = NULL;
	sotto_err rc;

	if ((rc = sotto_io_read_file(&src, path, MAX_FILE, e)) != SOTTO_OK) {
		sotto_error_prefix(e, "cannot read kubeconfig");
		goto out;
	}
	if ((rc = sotto_store_yaml.parse(&doc, src.data, src.len, path, &lim,
	    e)) != SOTTO_OK) {
		rc = sotto_error_prefix(e, "kubeconfig");
		goto out;
	}
	doc->secret = true;
	if (doc->n < 1) {
		rc = sotto_error_set(e, SOTTO_E_KUBE_CONFIG, "kubeconfig '%s' "
		    "is empty", path);
		goto out;
	}
	rc = from_tree(c, doc->branches[0], context, path, e);
out:
	sotto_tree_doc_free(doc);
	sotto_buf_release(&src);
	if (rc != SOTTO_OK)
		sotto_kube_config_free(c);
	return rc;
}

static void
init_bufs(struct sotto_kube_config *c)
{
	memset(c, 0, sizeof(*c));
	c->token.secret = true;
	c->key.secret = true;
}

sotto_err
sotto_kube_config_in_cluster(struct sotto_kube_config *c, const char *sa_dir,
    struct sotto_error *e)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct sotto_buf p = SOTTO_BUF_INIT, ns = SOTTO_BUF_INIT;
	sotto_err rc = SOTTO_OK;

	init_bufs(c);
	if (sa_dir == NULL)
		sa_dir = SOTTO_KUBE_SA_DIR;
	if (host == NULL || host[0] == '\0')
		return sotto_error_set(e, SOTTO_E_KUBE_CONFIG, "not running "
		    "in a cluster (KUBERNETES_SERVICE_HOST is not set) and no "
		    "kubeconfig given");
	if (sotto_buf_addf(&p, strchr(host, ':') ? "https://[%s]:%s" :
	    "https://%s:%s", host, port ? port : "443") != SOTTO_OK) {
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	c->server = (char *)sotto_buf_detach(&p, NULL);
	sotto_buf_addf(&p, "%s/token", sa_dir);
	if ((rc = sotto_io_read_file(&c->token, (char *)p.data, MAX_FILE, e))
	    != SOTTO_OK)
		goto out;
	while (c->token.len && c->token.data[c->token.len - 1] == '\n')
		sotto_buf_truncate(&c->token, c->token.len - 1);
	sotto_buf_truncate(&p, 0);
	sotto_buf_addf(&p, "%s/ca.crt", sa_dir);
	if ((rc = sotto_io_read_file(&c->ca, (char *)p.data, MAX_FILE, e)) !=
	    SOTTO_OK)
		goto out;
	sotto_buf_truncate(&p, 0);
	sotto_buf_addf(&p, "%s/namespace", sa_dir);
	if (sotto_io_read_file(&ns, (char *)p.data, 4096, NULL) == SOTTO_OK &&
	    ns.len)
		c->namespace = strndup((char *)ns.data, strcspn((char *)
		    ns.data, "\r\n"));
	else
		c->namespace = strdup("default");
out:
	if (rc != SOTTO_OK) {
		sotto_error_prefix(e, "in-cluster config");
		sotto_kube_config_free(c);
	}
	sotto_buf_release(&p);
	sotto_buf_release(&ns);
	return rc;
}

sotto_err
sotto_kube_config_load(struct sotto_kube_config *c, const char *path,
    const char *context, struct sotto_error *e)
{
	const char *env = getenv("KUBECONFIG"), *home = getenv("HOME");
	char first[4096];
	sotto_err rc;

	init_bufs(c);
	if (path == NULL && env != NULL && env[0] != '\0') {
		snprintf(first, sizeof(first), "%.*s", (int)strcspn(env, ":"),
		    env);
		path = first;
	}
	if (path == NULL) {
		const char *h = getenv("KUBERNETES_SERVICE_HOST");

		if (h != NULL && h[0] != '\0')
			return sotto_kube_config_in_cluster(c, NULL, e);
		if (home == NULL)
			return sotto_error_set(e, SOTTO_E_KUBE_CONFIG, "no "
			    "kubeconfig: set KUBECONFIG or --kubeconfig");
		snprintf(first, sizeof(first), "%s/.kube/config", home);
		path = first;
	}
	rc = load_file(c, path, context, e);
	if (rc == SOTTO_OK && c->namespace == NULL)
		c->namespace = strdup("default");
	return rc;
}

void
sotto_kube_config_free(struct sotto_kube_config *c)
{
	if (c == NULL)
		return;
	free(c->server);
	free(c->namespace);
	sotto_buf_release(&c->ca);
	sotto_buf_release(&c->token);
	sotto_buf_release(&c->cert);
	sotto_buf_release(&c->key);
	init_bufs(c);
}
