/* SPDX-License-Identifier: ISC */
/*
 * What one Kustomization renders to, shared by the controller
 * (reconcile.c) and `sotto build` / `sotto diff` (build_ks.c), so that
 * what the CLI prints is what the controller applies: the spec fields
 * Flux's generator merges into the kustomization at spec.path
 * (targetNamespace, namePrefix, nameSuffix, patches, images,
 * components), the render with sops decryption at load time in a
 * forked child, then spec.postBuild substitution (subst.c).  Reading
 * the keys, the checkout and the apply stay with the callers.
 */
#include "kube/kint.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sotto/io.h"
#include "sotto/render.h"

/* The render child's reply header; the stream follows. */
struct render_reply {
	struct sotto_error e;	/* the render's error, if any */
	size_t len;		/* bytes of rendered stream */
};

struct render_job {
	struct sotto_buf *out;			/* the stream (child's copy) */
	const char *dir;			/* what to render */
	const struct sotto_render_opts *ro;	/* keys, root */
	struct ksubst *sub;			/* spec.postBuild */
};

/* In the child: render, then the header and the stream to fd. */
static void
render_child(void *arg, int fd)
{
	struct render_job *j = arg;
	struct render_reply rep;
	bool ok;

	(void)sotto_kube_lock_memory(false);	/* not inherited */
	memset(&rep, 0, sizeof(rep));
	if (sotto_render_dir(j->out, j->dir, j->ro, &rep.e) == SOTTO_OK)
		ksubst_apply(j->out, j->sub, &rep.e);	/* after decryption */
	rep.len = rep.e.code == SOTTO_OK ? j->out->len : 0;
	ok = sotto_io_write_all(fd, &rep, sizeof(rep)) == SOTTO_OK &&
	    (rep.len == 0 || sotto_io_write_all(fd, j->out->data, rep.len) ==
	    SOTTO_OK);
	sotto_buf_release(j->out);	/* wipes the plaintext */
	_exit(ok ? 0 : 1);
}

/*
 * Renders dir in a forked child and reads the stream back through a pipe.
 * The render's transient peak (every resource file parsed at once, about
 * 6 KB per object) is then the child's and is gone when it exits, so the
 * long-running agent keeps only the stream and the objects it applies
 * (issue #8's memory goal).  The plaintext crosses a pipe, never a file;
 * the child inherits the no-core-dump settings and exits right after.
 * The child is killed when it has not answered within timeout seconds
 * (the Kustomization's spec.timeout: issue #14, one tenant must not stall
 * the others).  When no child can be started, nothing is rendered.
 */
static sotto_err
render_isolated(struct sotto_buf *out, const char *dir,
    const struct sotto_render_opts *ro, struct ksubst *sub, double timeout,
    struct sotto_error *e)
{
	struct render_job job = { out, dir, ro, sub };
	struct render_reply rep;
	struct kchild ch;
	char tbuf[64];
	bool ok;
	int st;

	if (kchild_start(&ch, render_child, &job, timeout, "render", e) !=
	    SOTTO_OK)
		return e->code;
	ok = kchild_read(&ch, &rep, sizeof(rep)) == 1 && rep.len <=
	    ((size_t)64 << 20) && sotto_buf_grow(out, rep.len) == SOTTO_OK &&
	    kchild_read(&ch, out->data, rep.len) == 1;
	st = kchild_end(&ch, !ok);	/* late, or it sent garbage */
	if (!ok) {
		sotto_buf_release(out);
		kduration_fmt(tbuf, sizeof(tbuf), timeout);
		if (ch.late)
			return sotto_error_set(e, SOTTO_E_RECONCILE, "build "
			    "timed out after %s (spec.timeout): the render "
			    "process was stopped", tbuf);
		return sotto_error_set(e, SOTTO_E_IO, "the render process "
		    "died (status %d)", st);
	}
	out->len = rep.len;
	if (out->data != NULL)
		out->data[out->len] = '\0';
	if (rep.e.code != SOTTO_OK)
		*e = rep.e;
	return rep.e.code;
}

/* kustomize-controller's IsLocalRelativePath (fluxcd/pkg generator) */
static bool
local_relative(const char *p)
{
	static const char *const remote[] = { "git::", "gh:", "ssh://",
	    "https://", "http://", "git@", "github.com:", "github.com/", NULL };
	size_t i, n = strlen(p);

	for (i = 0; remote[i] != NULL; i++)
		if (strlen(remote[i]) < n && strncasecmp(p, remote[i],
		    strlen(remote[i])) == 0)
			return false;
	if (strncasecmp(p, "file://", 7) == 0)
		p += 7;
	return p[0] != '/';
}

/*
 * The spec fields Flux's generator merges into the kustomization at
 * spec.path (targetNamespace, namePrefix, nameSuffix, patches, components,
 * images), as the JSON the renderer takes (sotto_render_opts.flux_overlay);
 * *out NULL when none is set.  Components are checked and, with
 * ignoreMissingComponents, left out when they do not exist, as Flux.
 */
static sotto_err
flux_overlay(char **out, const json_t *ks, const char *dir,
    struct sotto_error *e)
{
	static const char *const str[][2] = {
		{ "spec.targetNamespace", "namespace" },
		{ "spec.namePrefix", "namePrefix" },
		{ "spec.nameSuffix", "nameSuffix" }, { NULL, NULL } };
	json_t *o = json_object(), *v, *comps;
	const json_t *x;
	bool ignore = json_is_true(kjson_get(ks,
	    "spec.ignoreMissingComponents"));
	size_t i;
	char path[8192], q[200];

	*out = NULL;
	if (o == NULL)
		goto nomem;
	for (i = 0; str[i][0] != NULL; i++) {
		const char *s = kjson_str(ks, str[i][0]);

		if (s != NULL && json_object_set_new(o, str[i][1],
		    json_string(s)) != 0)
			goto nomem;
	}
	v = kjson_get(ks, "spec.patches");
	if (json_is_array(v) && json_array_size(v) > 0 &&
	    json_object_set(o, "patches", v) != 0)
		goto nomem;
	v = kjson_get(ks, "spec.images");
	if (json_is_array(v) && json_array_size(v) > 0 &&
	    json_object_set(o, "images", v) != 0)
		goto nomem;
	v = kjson_get(ks, "spec.components");
	if (json_is_array(v) && json_array_size(v) > 0) {
		if ((comps = json_array()) == NULL ||
		    json_object_set_new(o, "components", comps) != 0)
			goto nomem;
		json_array_foreach(v, i, x) {
			const char *c = json_string_value(x);

			if (c == NULL)
				continue;
			if (!local_relative(c)) {
				kquote(q, sizeof(q), c);
				json_decref(o);
				return sotto_error_set(e, SOTTO_E_CONFIG,
				    "component path '%s' must be local and "
				    "relative", q);
			}
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
			    c) >= sizeof(path) || (ignore &&
			    !sotto_io_exists(path)))
				continue;
			if (json_array_append(comps, (json_t *)x) != 0)
				goto nomem;
		}
	}
	if (json_object_size(o) > 0 &&
	    (*out = json_dumps(o, JSON_COMPACT)) == NULL)
		goto nomem;
	json_decref(o);
	return SOTTO_OK;
nomem:
	json_decref(o);
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}


sotto_err
ks_render(struct sotto_buf *out, const struct ksrender_opts *o,
    struct sotto_error *e)
{
	struct sotto_render_opts ro;
	struct sotto_remote_bases rb;
	struct ksubst sub;
	char *overlay = NULL;

	memset(&ro, 0, sizeof(ro));
	if (flux_overlay(&overlay, o->ks, o->dir, e) != SOTTO_OK)
		return e->code;
	ro.flux_overlay = overlay;
	ro.ids = o->ids;
	ro.nids = o->nids;
	ro.pgp = o->pgp;
	ro.root = o->root;
	ro.keep_sops = o->keep_sops;
	ro.key_sources = o->key_sources;
	memset(&rb, 0, sizeof(rb));
	rb.cache_dir = o->cache_dir;
	rb.allow_http = o->allow_http;
	rb.allow_file = o->allow_file;
	ro.no_remote_bases = o->no_remote_bases;
	ro.git = sotto_remote_base_fetch;
	ro.git_arg = &rb;
	ksubst_init(&sub);	/* variables read here, used in the child */
	sub.strict = o->strict;
	if (ksubst_load(&sub, o->k, o->ks, kjson_str(o->ks,
	    "metadata.namespace"), e) == SOTTO_OK)
		render_isolated(out, o->dir, &ro, &sub, o->timeout, e);
	ksubst_free(&sub);
	free(overlay);
	return e->code;
}
