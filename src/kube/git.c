/* SPDX-License-Identifier: ISC */
/*
 * The reconciler's source: an incremental libgit2 fetch of one branch, tag
 * or commit into a cache repository, checked out into the cache's work
 * tree (ciphertext only: decryption happens in memory, later).  libgit2 is
 * loaded with dlopen() like src/git/lg2.c does, with the few calls a fetch
 * needs.  Revision strings follow Flux: "<branch>@sha1:<hex>".
 *
 * The fetch runs in a forked child: libgit2 and its TLS/SSH libraries are
 * then never mapped into the long-running agent, and the memory a pack
 * download takes goes back to the system when the child exits (issue #8's
 * RSS goal).  The child hands back the result and the error over a pipe.
 */
#include "kube/kint.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sotto/io.h"

#define GIT_SONAME "libgit2.so.1.5"

#define KG_FUNCS(X) \
	X(git_libgit2_init) X(git_error_last) X(git_repository_init) \
	X(git_repository_open) X(git_repository_free) \
	X(git_remote_create_anonymous) X(git_remote_fetch) X(git_remote_free) \
	X(git_fetch_options_init) X(git_revparse_single) X(git_object_peel) \
	X(git_object_free) X(git_object_id) X(git_oid_tostr) \
	X(git_checkout_options_init) X(git_checkout_tree) \
	X(git_repository_set_head_detached) X(git_credential_userpass_plaintext_new)

struct kgit {
	void *handle;
#define KG_MEMBER(f) __typeof__(f) *f;
	KG_FUNCS(KG_MEMBER)
#undef KG_MEMBER
};

static sotto_err
kg_open(struct kgit *g, struct sotto_error *e)
{
	const char *missing = NULL;

	memset(g, 0, sizeof(*g));
	if ((g->handle = dlopen(GIT_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return sotto_error_set(e, SOTTO_E_GIT_LOAD, "cannot load '%s' "
		    "(install libgit2-1.5): %s", GIT_SONAME, dlerror());
#define KG_LOAD(f) \
	if (missing == NULL && (*(void **)&g->f = dlsym(g->handle, #f)) == \
	    NULL) \
		missing = #f;
	KG_FUNCS(KG_LOAD)
#undef KG_LOAD
	if (missing != NULL) {
		dlclose(g->handle);
		g->handle = NULL;
		return sotto_error_set(e, SOTTO_E_GIT_LOAD, "'%s' has no "
		    "symbol '%s'", GIT_SONAME, missing);
	}
	g->git_libgit2_init();
	return SOTTO_OK;
}

static sotto_err
kg_fail(struct kgit *g, struct sotto_error *e, const char *what)
{
	const git_error *ge = g->git_error_last();

	return sotto_error_set(e, SOTTO_E_GIT, "%s: %s", what,
	    ge && ge->message ? ge->message : "unknown libgit2 error");
}

struct cred_ctx {
	const char *user, *pass;	/* from the GitRepository Secret */
	int tries;			/* libgit2 asks again on failure */
	struct kgit *g;			/* for the credential constructor */
};

static int
cred_cb(git_credential **out, const char *url, const char *user_from_url,
    unsigned int allowed, void *payload)
{
	struct cred_ctx *c = payload;
	struct kgit *g = c->g;

	(void)url;
	(void)user_from_url;
	if (c->user == NULL || c->tries++ > 0 ||
	    !(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT))
		return GIT_PASSTHROUGH;
	return g->git_credential_userpass_plaintext_new(out, c->user,
	    c->pass ? c->pass : "");
}

/* Cache directory name for a URL: printable, no slashes. */
static void
cache_name(char *out, size_t cap, const char *url)
{
	size_t i, j = 0;
	unsigned long h = 5381;

	for (i = 0; url[i] != '\0'; i++)
		h = h * 33 + (unsigned char)url[i];
	for (i = 0; url[i] != '\0' && j + 20 < cap && j < 48; i++)
		out[j++] = (url[i] >= 'a' && url[i] <= 'z') || (url[i] >= '0' &&
		    url[i] <= '9') ? url[i] : '_';
	snprintf(out + j, cap - j, "-%08lx", h & 0xffffffffUL);
}

static sotto_err
open_cache(struct kgit *g, git_repository **repo, const char *dir,
    struct sotto_error *e)
{
	if (g->git_repository_open(repo, dir) == 0)
		return SOTTO_OK;
	if (g->git_repository_init(repo, dir, 0) != 0)
		return kg_fail(g, e, "cannot create the git cache");
	return SOTTO_OK;
}

static sotto_err
do_fetch(struct kgit *g, git_repository *repo, const struct kgit_ref *ref,
    const char *url, struct sotto_error *e)
{
	struct cred_ctx cc = { ref->username, ref->password, 0, g };
	git_remote *remote = NULL;
	git_fetch_options fo;
	char spec[512];
	char *specs[1] = { spec };
	git_strarray refspecs = { specs, 1 };
	sotto_err rc = SOTTO_OK;

	if (ref->branch != NULL)
		snprintf(spec, sizeof(spec), "+refs/heads/%s:refs/remotes/"
		    "origin/%s", ref->branch, ref->branch);
	else if (ref->tag != NULL)
		snprintf(spec, sizeof(spec), "+refs/tags/%s:refs/tags/%s",
		    ref->tag, ref->tag);
	else
		snprintf(spec, sizeof(spec), "+refs/heads/*:refs/remotes/"
		    "origin/*");
	g->git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	fo.callbacks.credentials = cred_cb;
	fo.callbacks.payload = &cc;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	if (g->git_remote_create_anonymous(&remote, repo, url) != 0 ||
	    g->git_remote_fetch(remote, &refspecs, &fo, NULL) != 0)
		rc = kg_fail(g, e, "failed to fetch");
	if (remote != NULL)
		g->git_remote_free(remote);
	return rc;
}

static sotto_err
resolve(struct kgit *g, git_repository *repo, const struct kgit_ref *ref,
    git_object **commit, char *rev, size_t revcap, struct sotto_error *e)
{
	char spec[512], hex[GIT_OID_HEXSZ + 1];
	git_object *o = NULL;

	if (ref->branch != NULL)
		snprintf(spec, sizeof(spec), "refs/remotes/origin/%s",
		    ref->branch);
	else if (ref->tag != NULL)
		snprintf(spec, sizeof(spec), "refs/tags/%s", ref->tag);
	else
		snprintf(spec, sizeof(spec), "%s", ref->commit);
	if (g->git_revparse_single(&o, repo, spec) != 0)
		return kg_fail(g, e, "cannot resolve the source reference");
	if (g->git_object_peel(commit, o, GIT_OBJECT_COMMIT) != 0) {
		g->git_object_free(o);
		return kg_fail(g, e, "reference is not a commit");
	}
	g->git_object_free(o);
	g->git_oid_tostr(hex, sizeof(hex), g->git_object_id(*commit));
	if (ref->branch != NULL)
		snprintf(rev, revcap, "%s@sha1:%s", ref->branch, hex);
	else if (ref->tag != NULL)
		snprintf(rev, revcap, "%s@sha1:%s", ref->tag, hex);
	else
		snprintf(rev, revcap, "sha1:%s", hex);
	return SOTTO_OK;
}

static sotto_err
sync_here(struct kgit_result *res, const char *cache_dir, const char *url,
    const struct kgit_ref *ref, struct sotto_error *e)
{
	struct kgit g;
	git_repository *repo = NULL;
	git_object *commit = NULL;
	git_checkout_options co;
	char name[96];
	sotto_err rc;

	memset(res, 0, sizeof(*res));
	if ((rc = kg_open(&g, e)) != SOTTO_OK)
		return rc;
	cache_name(name, sizeof(name), url);
	mkdir(cache_dir, 0700);
	snprintf(res->workdir, sizeof(res->workdir), "%s/%s", cache_dir,
	    name);
	if ((rc = open_cache(&g, &repo, res->workdir, e)) != SOTTO_OK ||
	    (rc = do_fetch(&g, repo, ref, url, e)) != SOTTO_OK ||
	    (rc = resolve(&g, repo, ref, &commit, res->revision,
	    sizeof(res->revision), e)) != SOTTO_OK)
		goto out;
	g.git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE |
	    GIT_CHECKOUT_REMOVE_UNTRACKED;
	if (g.git_checkout_tree(repo, commit, &co) != 0 ||
	    g.git_repository_set_head_detached(repo,
	    g.git_object_id(commit)) != 0)
		rc = kg_fail(&g, e, "checkout failed");
out:
	if (commit != NULL)
		g.git_object_free(commit);
	if (repo != NULL)
		g.git_repository_free(repo);
	/* libgit2 stays loaded: shutting it down per fetch costs more */
	return rc;
}

/* What the fetch child writes back: the result, then the error. */
struct kgit_reply {
	struct kgit_result res;
	struct sotto_error e;
};

static bool
read_full(int fd, void *p, size_t n)
{
	ssize_t got;

	while (n > 0) {
		got = read(fd, p, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return false;
		p = (char *)p + got;
		n -= (size_t)got;
	}
	return true;
}

sotto_err
kgit_sync(struct kgit_result *res, const char *cache_dir, const char *url,
    const struct kgit_ref *ref, struct sotto_error *e)
{
	struct kgit_reply rep;
	int fds[2], st = 0;
	pid_t pid;
	bool ok;

	memset(res, 0, sizeof(*res));
	if (pipe2(fds, O_CLOEXEC) != 0)
		return sync_here(res, cache_dir, url, ref, e);
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return sync_here(res, cache_dir, url, ref, e);
	}
	if (pid == 0) {
		close(fds[0]);
		memset(&rep, 0, sizeof(rep));
		sync_here(&rep.res, cache_dir, url, ref, &rep.e);
		_exit(sotto_io_write_all(fds[1], &rep, sizeof(rep)) ==
		    SOTTO_OK ? 0 : 1);
	}
	close(fds[1]);
	ok = read_full(fds[0], &rep, sizeof(rep));
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!ok)
		return sotto_error_set(e, SOTTO_E_GIT, "the git fetch process "
		    "died (status %d)", st);
	*res = rep.res;
	if (rep.e.code != SOTTO_OK)
		*e = rep.e;
	return rep.e.code;
}
