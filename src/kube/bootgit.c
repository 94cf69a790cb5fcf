/* SPDX-License-Identifier: ISC */
/*
 * The git side of `sotto bootstrap git` (issue #20): clone one branch,
 * then stage, commit and push what bootstrap.c wrote.  libgit2 is loaded
 * (src/git/lg2.c) in a forked child (child.c), as the controller's fetch
 * (git.c) does, so `sotto bootstrap` maps it only there, a server that
 * never answers costs one timeout, and the credentials the child holds
 * die with it.  The reply comes back over the pipe: a fixed header, then
 * the diff.
 *
 * Credentials follow the fetch's rules: they go only to the scheme, host
 * and port of the URL (no redirect is followed); https adds the --ca-file
 * anchors to the system's; an ssh host key must be in the user's
 * known_hosts (kgit_known_host(), the fetch's check).
 */
#include "kube/bootgit.h"

#include "git/lg2.h"
#include <git2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "crypto/b64.h"
#include "crypto/hostverify.h"
#include "sotto/io.h"

/* ---- credentials and certificates -------------------------------------- */

struct bauth {
	const struct kboot_git *g;
	struct lg2 *lib;
	int tries;
	bool hostkey_ok;
	char msg[400];		/* why a callback refused, or "" */
	char hostkey[1100];	/* the accepted ssh host key: "type b64" */
};

static int
bg_refuse(struct bauth *a, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bg_refuse(struct bauth *a, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->msg, sizeof(a->msg), fmt, ap);
	va_end(ap);
	return code;
}

static bool
same_server(const struct bauth *a, const char *url)
{
	struct sotto_error ignored = { SOTTO_OK, "" };
	struct kgit_url t;
	bool same;

	if (url == NULL || kgit_url_parse(&t, url, true, true, &ignored) !=
	    SOTTO_OK)
		return false;
	same = t.scheme == a->g->u->scheme && t.port == a->g->u->port &&
	    strcmp(t.host, a->g->u->host) == 0;
	kgit_url_wipe(&t);
	return same;
}

static int
bg_cred(git_credential **out, const char *url, const char *user_from_url,
    unsigned int allowed, void *payload)
{
	struct bauth *a = payload;
	const struct kboot_git *g = a->g;
	const char *ssh_user = g->u->user[0] ? g->u->user : "git";
	const char *user = g->username ? g->username : g->u->user;

	(void)user_from_url;
	if (!same_server(a, url))
		return bg_refuse(a, GIT_EAUTH, "credentials refused to a "
		    "server other than '%s'", g->shown);
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return a->lib->git_credential_username_new(out, ssh_user);
	if (a->tries++ > 0)
		return bg_refuse(a, GIT_EAUTH, "authentication to '%s' failed",
		    g->u->host);
	if ((allowed & GIT_CREDENTIAL_SSH_MEMORY) && g->identity != NULL)
		return a->lib->git_credential_ssh_key_memory_new(out, ssh_user,
		    NULL, g->identity, g->password);
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && user[0] != '\0' &&
	    g->u->scheme != KGIT_SSH)
		return a->lib->git_credential_userpass_plaintext_new(out, user,
		    g->password ? g->password : "");
	if (g->u->scheme == KGIT_SSH)
		return bg_refuse(a, GIT_EAUTH, "'%s' asks for an ssh key: "
		    "give --private-key-file", g->u->host);
	return bg_refuse(a, GIT_EAUTH, "'%s' asks for credentials: give "
	    "--username and --password-stdin", g->u->host);
}

static int
bg_hostkey(struct bauth *a, const git_cert_hostkey *c)
{
	char name[300];
	int v;

	if (a->g->u->port == 22)
		snprintf(name, sizeof(name), "%s", a->g->u->host);
	else
		snprintf(name, sizeof(name), "[%s]:%d", a->g->u->host,
		    a->g->u->port);
	if (!(c->type & GIT_CERT_SSH_RAW) || c->hostkey == NULL)
		return bg_refuse(a, GIT_ECERTIFICATE, "host key verification "
		    "failed for '%s': libgit2 gave no raw host key", name);
	v = kgit_known_host(a->g->known_hosts ? a->g->known_hosts : "", name,
	    (const uint8_t *)c->hostkey, c->hostkey_len);
	if (v == 2) {
		struct sotto_buf b = SOTTO_BUF_INIT;

		a->hostkey_ok = true;
		if (sotto_b64_encode(&b, (const uint8_t *)c->hostkey,
		    c->hostkey_len, true) >= 0 && b.data != NULL)
			snprintf(a->hostkey, sizeof(a->hostkey), "%s %s",
			    kgit_ssh_key_type((int)c->raw_type), (char *)b.data);
		sotto_buf_release(&b);
		return 0;
	}
	return bg_refuse(a, GIT_ECERTIFICATE, "host key verification failed: "
	    "%s ~/.ssh/known_hosts (add it with ssh-keyscan, after checking "
	    "it)", v == 0 ? "the host is not in" : v == 1 ? "the host's key "
	    "differs from" : "the host's key is @revoked in");
}

static int
bg_cert(git_cert *cert, int valid, const char *host, void *payload)
{
	struct bauth *a = payload;
	struct sotto_error ve = { SOTTO_OK, "" };
	const git_cert_x509 *x;

	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2)
		return bg_hostkey(a, (const git_cert_hostkey *)cert);
	if (cert->cert_type != GIT_CERT_X509)
		return GIT_PASSTHROUGH;
	if (host != NULL && strcasecmp(host, a->g->u->host) != 0)
		return bg_refuse(a, GIT_ECERTIFICATE, "TLS connection to a host "
		    "other than '%s' refused", a->g->u->host);
	if (valid || a->g->ca == NULL)
		return GIT_PASSTHROUGH;
	x = (const git_cert_x509 *)cert;
	if (sotto_hostverify_x509(x->data, x->len, a->g->ca, a->g->ca_len,
	    a->g->u->host, &ve) != SOTTO_OK)
		return bg_refuse(a, GIT_ECERTIFICATE, "TLS certificate check "
		    "failed with --ca-file: %s", ve.msg);
	return 0;
}

static void
bg_callbacks(git_remote_callbacks *cb, struct bauth *a)
{
	cb->credentials = bg_cred;
	cb->certificate_check = bg_cert;
	cb->payload = a;
}

/* libgit2's reason, or the callback's, escaped, after what. */
static sotto_err
bg_fail(struct lg2 *g, const struct bauth *a, struct sotto_error *e,
    const char *what)
{
	const git_error *ge = g->git_error_last();
	const char *m = a != NULL && a->msg[0] ? a->msg : ge && ge->message ?
	    ge->message : "unknown libgit2 error";
	char msg[320];

	kgit_esc(msg, sizeof(msg), m, strlen(m), 240);
	return sotto_error_set(e, SOTTO_E_GIT, "%s: %s", what, msg);
}

static sotto_err
bg_remote(struct lg2 *lib, git_remote **remote, git_repository *repo,
    const struct kboot_git *g, struct sotto_error *e)
{
	git_remote_create_options ro;

	lib->git_remote_create_options_init(&ro,
	    GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
	    GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (lib->git_remote_create_with_opts(remote, g->u->url, &ro) != 0)
		return bg_fail(lib, NULL, e, "cannot use the repository URL");
	return SOTTO_OK;
}

/* ---- the child's work -------------------------------------------------- */

struct reply {
	struct sotto_error e;
	bool fresh, changed;
	char hex[41];
	char hostkey[1100];	/* clone over ssh: the host key accepted */
	size_t difflen;
};

static sotto_err
clone_here(struct reply *r, const struct kboot_git *g, struct sotto_error *e)
{
	struct lg2 lib;
	struct bauth a;
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	git_reference *ref = NULL;
	git_fetch_options fo;
	git_checkout_options co;
	const git_remote_head **heads;
	size_t nheads = 0;
	char spec[600], local[300];
	char *specs[1] = { spec };
	git_strarray refspecs = { specs, 1 };
	git_oid oid;
	sotto_err rc;

	if ((rc = sotto_lg2_open(&lib, true, e)) != SOTTO_OK)
		return rc;
	memset(&a, 0, sizeof(a));
	a.g = g;
	a.lib = &lib;
	snprintf(spec, sizeof(spec), "+refs/heads/%s:refs/remotes/origin/%s",
	    g->branch, g->branch);
	snprintf(local, sizeof(local), "refs/heads/%s", g->branch);
	if (lib.git_repository_init(&repo, g->workdir, 0) != 0)
		return bg_fail(&lib, NULL, e, "cannot create the clone");
	if ((rc = bg_remote(&lib, &remote, repo, g, e)) != SOTTO_OK)
		goto out;
	lib.git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	bg_callbacks(&fo.callbacks, &a);
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	if (lib.git_remote_fetch(remote, &refspecs, &fo, NULL) != 0) {
		rc = bg_fail(&lib, &a, e, "failed to fetch");
		goto out;
	}
	if (g->u->scheme == KGIT_SSH && !a.hostkey_ok) {
		rc = sotto_error_set(e, SOTTO_E_GIT, "host key verification "
		    "failed: '%s' presented no host key to check", g->u->host);
		goto out;
	}
	memcpy(r->hostkey, a.hostkey, sizeof(r->hostkey));
	snprintf(spec, sizeof(spec), "refs/remotes/origin/%s", g->branch);
	if (lib.git_reference_name_to_id(&oid, repo, spec) != 0) {
		if (lib.git_remote_ls(&heads, &nheads, remote) != 0)
			nheads = 1;
		if (nheads > 0) {
			rc = sotto_error_set(e, SOTTO_E_GIT, "branch '%s' not "
			    "found in '%s'", g->branch, g->shown);
			goto out;
		}
		/* an empty repository: the first commit makes the branch */
		r->fresh = true;
		if (lib.git_repository_set_head(repo, local) != 0)
			rc = bg_fail(&lib, NULL, e, "cannot start the branch");
		goto out;
	}
	lib.git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE;
	if (lib.git_reference_create(&ref, repo, local, &oid, 1, NULL) != 0 ||
	    lib.git_repository_set_head(repo, local) != 0 ||
	    lib.git_checkout_head(repo, &co) != 0)
		rc = bg_fail(&lib, NULL, e, "checkout failed");
out:
	if (ref != NULL)
		lib.git_reference_free(ref);
	if (remote != NULL)
		lib.git_remote_free(remote);
	if (repo != NULL)
		lib.git_repository_free(repo);
	return rc;
}

static int
push_ref_cb(const char *refname, const char *status, void *data)
{
	struct bauth *a = data;

	(void)refname;
	if (status != NULL && a->msg[0] == '\0') {
		char s[240];

		kgit_esc(s, sizeof(s), status, strlen(status), 200);
		snprintf(a->msg, sizeof(a->msg), "the server rejected the "
		    "update of '%s': %s", a->g->branch, s);
	}
	return 0;
}

static sotto_err
push_here(struct lg2 *lib, git_repository *repo, const struct kboot_git *g,
    struct sotto_error *e)
{
	struct bauth a;
	git_remote *remote = NULL;
	git_push_options po;
	char spec[600], what[300];
	char *specs[1] = { spec };
	git_strarray refspecs = { specs, 1 };
	sotto_err rc;

	memset(&a, 0, sizeof(a));
	a.g = g;
	a.lib = lib;
	snprintf(spec, sizeof(spec), "refs/heads/%s:refs/heads/%s", g->branch,
	    g->branch);
	snprintf(what, sizeof(what), "cannot push to '%s'", g->shown);
	if ((rc = bg_remote(lib, &remote, repo, g, e)) != SOTTO_OK)
		return rc;
	lib->git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	bg_callbacks(&po.callbacks, &a);
	po.callbacks.push_update_reference = push_ref_cb;
	po.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	if (lib->git_remote_push(remote, &refspecs, &po) != 0 ||
	    a.msg[0] != '\0')
		rc = bg_fail(lib, &a, e, what);
	lib->git_remote_free(remote);
	return rc;
}

/* Stages, compares, diffs into d; commits and pushes unless dry. */
static sotto_err
commit_here(struct reply *r, struct sotto_buf *d, const struct kboot_git *g,
    const struct kboot_commit *c, struct sotto_error *e)
{
	struct lg2 lib;
	git_repository *repo = NULL;
	git_index *idx = NULL;
	git_commit *parent = NULL;
	git_tree *old = NULL, *tree = NULL;
	git_diff *diff = NULL;
	git_signature *sig = NULL;
	git_buf patch = { NULL, 0, 0 };
	git_oid toid, poid, coid;
	const git_commit *parents[1];
	char local[300];
	size_t i;
	sotto_err rc = SOTTO_OK;

	if ((rc = sotto_lg2_open(&lib, true, e)) != SOTTO_OK)
		return rc;
	snprintf(local, sizeof(local), "refs/heads/%s", g->branch);
	if (lib.git_repository_open(&repo, g->workdir) != 0 ||
	    lib.git_repository_index(&idx, repo) != 0)
		return bg_fail(&lib, NULL, e, "cannot open the clone");
	for (i = 0; i < c->npaths && rc == SOTTO_OK; i++)
		if (lib.git_index_add_bypath(idx, c->paths[i]) != 0)
			rc = bg_fail(&lib, NULL, e, "cannot stage a file");
	if (rc != SOTTO_OK)
		goto out;
	if (lib.git_index_write(idx) != 0 ||
	    lib.git_index_write_tree(&toid, idx) != 0 ||
	    lib.git_tree_lookup(&tree, repo, &toid) != 0) {
		rc = bg_fail(&lib, NULL, e, "cannot write the tree");
		goto out;
	}
	if (lib.git_reference_name_to_id(&poid, repo, local) == 0) {
		if (lib.git_commit_lookup(&parent, repo, &poid) != 0 ||
		    lib.git_tree_lookup(&old, repo,
		    lib.git_commit_tree_id(parent)) != 0) {
			rc = bg_fail(&lib, NULL, e, "cannot read the branch");
			goto out;
		}
	}
	r->changed = old == NULL || !lib.git_oid_equal(&toid,
	    lib.git_commit_tree_id(parent));
	if (!r->changed)
		goto out;
	if (lib.git_diff_tree_to_tree(&diff, repo, old, tree, NULL) != 0 ||
	    lib.git_diff_to_buf(&patch, diff, GIT_DIFF_FORMAT_PATCH) != 0) {
		rc = bg_fail(&lib, NULL, e, "cannot diff the change");
		goto out;
	}
	if (sotto_buf_add(d, patch.ptr, patch.size < KBOOT_DIFF_MAX ?
	    patch.size : KBOOT_DIFF_MAX) != SOTTO_OK) {
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if (c->dry_run)
		goto out;
	parents[0] = parent;
	if (lib.git_signature_now(&sig, c->author_name, c->author_email) !=
	    0) {
		rc = bg_fail(&lib, NULL, e, "bad --author-name or "
		    "--author-email");
		goto out;
	}
	if (lib.git_commit_create(&coid, repo, local, sig, sig, NULL,
	    c->message, tree, parent ? 1 : 0, parents) != 0) {
		rc = bg_fail(&lib, NULL, e, "cannot commit");
		goto out;
	}
	lib.git_oid_tostr(r->hex, sizeof(r->hex), &coid);
	rc = push_here(&lib, repo, g, e);
out:
	if (patch.ptr != NULL)
		lib.git_buf_dispose(&patch);
	if (diff != NULL)
		lib.git_diff_free(diff);
	if (sig != NULL)
		lib.git_signature_free(sig);
	if (old != NULL)
		lib.git_tree_free(old);
	if (tree != NULL)
		lib.git_tree_free(tree);
	if (parent != NULL)
		lib.git_commit_free(parent);
	if (idx != NULL)
		lib.git_index_free(idx);
	if (repo != NULL)
		lib.git_repository_free(repo);
	return rc;
}

/* ---- the child ---------------------------------------------------------- */

struct job {
	const struct kboot_git *g;
	const struct kboot_commit *c;	/* NULL: clone */
};

static void
job_main(void *arg, int fd)
{
	struct job *j = arg;
	struct sotto_buf d = SOTTO_BUF_INIT;
	struct reply r;
	bool ok;

	memset(&r, 0, sizeof(r));
	if (j->c == NULL)
		clone_here(&r, j->g, &r.e);
	else
		commit_here(&r, &d, j->g, j->c, &r.e);
	r.difflen = d.len;
	ok = sotto_io_write_all(fd, &r, sizeof(r)) == SOTTO_OK &&
	    (d.len == 0 || sotto_io_write_all(fd, d.data, d.len) == SOTTO_OK);
	_exit(ok ? 0 : 1);
}

static sotto_err
run_job(struct reply *r, struct sotto_buf *d, struct job *j,
    const char *what, struct sotto_error *e)
{
	struct kchild ch;
	char took[32];
	int got, st;

	memset(r, 0, sizeof(*r));
	if (kchild_start(&ch, job_main, j, j->g->timeout, what, e) != SOTTO_OK)
		return e->code = SOTTO_E_GIT;
	got = kchild_read(&ch, r, sizeof(*r));
	if (got == 1 && r->difflen > 0) {
		if (r->difflen > KBOOT_DIFF_MAX || d == NULL ||
		    sotto_buf_grow(d, r->difflen) != SOTTO_OK)
			got = 0;
		else if ((got = kchild_read(&ch, d->data + d->len,
		    r->difflen)) == 1)
			d->len += r->difflen;
	}
	st = kchild_end(&ch, got != 1);
	if (got < 0) {
		kduration_fmt(took, sizeof(took), j->g->timeout);
		return sotto_error_set(e, SOTTO_E_GIT, "%s with '%s' timed out "
		    "after %s (--timeout)", what, j->g->shown, took);
	}
	if (got == 0)
		return sotto_error_set(e, SOTTO_E_GIT, "the %s process died "
		    "(status %d)", what, st);
	if (r->e.code != SOTTO_OK)
		*e = r->e;
	return r->e.code;
}

sotto_err
kboot_clone(const struct kboot_git *g, bool *fresh, char *hostkey,
    size_t cap, struct sotto_error *e)
{
	struct job j = { g, NULL };
	struct reply r;
	sotto_err rc;

	rc = run_job(&r, NULL, &j, "git clone", e);
	*fresh = r.fresh;
	snprintf(hostkey, cap, "%s", r.hostkey);
	return rc;
}

sotto_err
kboot_commit_push(const struct kboot_git *g, const struct kboot_commit *c,
    struct sotto_buf *diff, bool *changed, char hex[41],
    struct sotto_error *e)
{
	struct job j = { g, c };
	struct reply r;
	sotto_err rc;

	rc = run_job(&r, diff, &j, c->dry_run ? "git diff" : "git push", e);
	*changed = r.changed;
	memcpy(hex, r.hex, sizeof(r.hex));
	return rc;
}
