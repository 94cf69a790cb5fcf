/* SPDX-License-Identifier: ISC */
/*
 * Internal to src/kube/: the git side of `sotto bootstrap git`
 * (bootgit.c): clone one branch into a work tree, then stage, commit and
 * push the files bootstrap.c wrote there.  Each step runs in a forked
 * child (child.c), as the controller's fetch does: libgit2 is loaded only
 * there and the step is killed at its timeout.
 */
#ifndef SOTTO_KUBE_BOOTGIT_H
#define SOTTO_KUBE_BOOTGIT_H

#include "kube/kint.h"

/* The repository and how to reach it (all borrowed). */
struct kboot_git {
	const struct kgit_url *u;	/* the URL, parsed (kgit_url_parse) */
	const char *shown;		/* the URL for messages */
	const char *branch;		/* the branch to clone and push */
	const char *workdir;		/* the clone's directory (exists,
					   empty, private) */
	const char *username;		/* https basic auth, or NULL */
	const char *password;		/* its password, or the ssh key's
					   passphrase (secret), or NULL */
	const char *identity;		/* ssh private key text, or NULL */
	const char *known_hosts;	/* ssh: the lines that may name the
					   host (~/.ssh/known_hosts) */
	const char *ca;			/* https: extra trust anchors (PEM) */
	size_t ca_len;
	double timeout;			/* seconds per step */
};

/*
 * Clones g->branch of g->u into g->workdir and checks it out.  *fresh is
 * set when the remote repository is empty: the branch is then unborn and
 * the first commit starts it.  Over ssh, hostkey gets the host key the
 * user's known_hosts vouched for ("type base64"), for the Secret's
 * known_hosts.  Errors, SOTTO_E_GIT: "branch '<b>' not
 * found in '<url>'" (the repository has other branches), "failed to
 * fetch: ..." (libgit2's or the credential callback's reason), the
 * timeout.  No credential appears in a message.
 */
sotto_err kboot_clone(const struct kboot_git *g, bool *fresh,
    char *hostkey, size_t cap, struct sotto_error *e);

/* What to commit (borrowed). */
struct kboot_commit {
	const char *const *paths;	/* files to stage, relative */
	size_t npaths;
	const char *author_name;
	const char *author_email;
	const char *message;
	bool dry_run;			/* diff only: no commit, no push */
};
#define KBOOT_DIFF_MAX ((size_t)8 << 20)

/*
 * Stages c->paths in g->workdir; *changed tells whether the tree differs
 * from the branch's commit (always, for a fresh branch).  diff gets the
 * change as a patch (appended).  Unless c->dry_run (or nothing changed),
 * commits on g->branch and pushes it; hex gets the commit.  Errors,
 * SOTTO_E_GIT: "cannot push to '<url>': ..." (the server's reason for a
 * rejected update), libgit2's.
 */
sotto_err kboot_commit_push(const struct kboot_git *g,
    const struct kboot_commit *c, struct sotto_buf *diff, bool *changed,
    char hex[41], struct sotto_error *e);

#endif
