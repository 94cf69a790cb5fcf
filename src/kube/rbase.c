/* SPDX-License-Identifier: ISC */
/*
 * Remote bases for the renderer (render.h's sotto_render_git_fn): a
 * kustomize `github.com/org/repo//path?ref=v1` base is fetched exactly as
 * a GitRepository is (git.c: the URL allowlist, a forked child killed at
 * the timeout, libgit2 never mapped into the caller, no credentials), into
 * <cache>/remote-bases/kustomize_ref-<hash of the ref>_<hash of the URL>:
 * one checkout per URL and ref, fetched incrementally, so two refs of one
 * repository never share a working tree.  ssh URLs are refused: a base
 * has no Secret to give a key and known_hosts.
 *
 * Two renders at once (Argo CD runs one per application) must not check
 * out a tree while the other reads it: the first remote base a process
 * fetches takes an exclusive lock on <cache>/remote-bases/lock and keeps
 * it until the process exits (the CLI, or the agent's render child).
 */
#include "kint.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "sotto/kube.h"

/* The process's lock on the remote bases of cache (held until exit). */
static sotto_err
lock_cache(struct sotto_remote_bases *rb, const char *cache,
    struct sotto_error *e)
{
	char path[4200];
	int fd, rc;

	if (rb->locked)
		return SOTTO_OK;
	if (kgit_private_dir(cache, true, e) != SOTTO_OK)
		return e->code;
	snprintf(path, sizeof(path), "%s/lock", cache);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0)
		return sotto_error_set(e, SOTTO_E_IO, "'%s': %s", path,
		    strerror(errno));
	while ((rc = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
		;
	if (rc != 0) {
		rc = errno;
		close(fd);
		return sotto_error_set(e, SOTTO_E_IO, "'%s': cannot lock: %s",
		    path, strerror(rc));
	}
	rb->locked = true;	/* fd stays open: the lock ends with us */
	return SOTTO_OK;
}

sotto_err
sotto_remote_base_fetch(void *arg, char *dir, size_t cap, const char *repo,
    const char *ref, double timeout, struct sotto_error *e)
{
	struct sotto_remote_bases *rb = arg;
	unsigned char h[8];
	char cache[4096], name[32];
	struct kgit_ref r;
	struct kgit_result res;
	struct kgit_url u;
	sotto_err rc;
	size_t i;
	bool ssh;

	if (rb->cache_dir == NULL)
		return sotto_error_set(e, SOTTO_E_IO, "no cache directory: "
		    "$XDG_CACHE_HOME and $HOME are not set (use --cache-dir)");
	if ((size_t)snprintf(cache, sizeof(cache), "%s/remote-bases",
	    rb->cache_dir) >= sizeof(cache))
		return sotto_error_set(e, SOTTO_E_IO, "cache directory path "
		    "is too long");
	/* the allowlist first, then what a base without a Secret cannot do */
	if ((rc = kgit_url_parse(&u, repo, rb->allow_http, rb->allow_file,
	    e)) != SOTTO_OK)
		return rc;
	ssh = u.scheme == KGIT_SSH;
	kgit_url_wipe(&u);
	if (ssh)
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED, "ssh remote "
		    "bases are not supported (there is no key or known_hosts "
		    "to use): use an https:// URL");
	if ((rc = lock_cache(rb, cache, e)) != SOTTO_OK)
		return rc;
	crypto_generichash(h, sizeof(h), (const unsigned char *)ref,
	    strlen(ref), NULL, 0);
	memcpy(name, "ref-", 4);
	for (i = 0; i < sizeof(h); i++)
		snprintf(name + 4 + 2 * i, 3, "%02x", h[i]);
	memset(&r, 0, sizeof(r));
	r.src_ns = "kustomize";
	r.src_name = name;
	r.commit = ref;
	r.any_ref = true;
	r.timeout = timeout > 0 ? timeout : KGIT_TIMEOUT;
	r.allow_http = rb->allow_http;
	r.allow_file = rb->allow_file;
	if ((rc = kgit_sync(&res, cache, repo, &r, e)) != SOTTO_OK)
		return rc;
	if ((size_t)snprintf(dir, cap, "%s", res.workdir) >= cap)
		return sotto_error_set(e, SOTTO_E_IO, "cache directory path "
		    "is too long");
	return SOTTO_OK;
}
