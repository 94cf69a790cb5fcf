/* SPDX-License-Identifier: ISC */
/*
 * `sotto bootstrap git` (issue #20), as `flux bootstrap git`: install the
 * controller, make the in-cluster key, commit gotk-style manifests for
 * sotto itself (components, a GitRepository and the root Kustomization)
 * and a .sops.yaml rule for the cluster recipient into a repository path,
 * push, and apply the sync objects, so that the controller then manages
 * itself from git.  src/kube/bootstrap.c; the git work is
 * src/kube/bootgit.c.
 */
#ifndef SOTTO_BOOTSTRAP_H
#define SOTTO_BOOTSTRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sotto/error.h"

/*
 * Adds or updates, in the .sops.yaml at path (created when absent), the
 * creation rule for path_regex re naming recipient (all: every recipient
 * of the key, one a line, replaced by it).  The CLI's
 * cli_sops_rule_update(): `sotto cluster recipient --add-to`.
 */
typedef sotto_err (*sotto_bootstrap_rule_fn)(const char *path,
    const char *re, const char *recipient, const char *all,
    struct sotto_error *e);

struct sotto_bootstrap {
	const char *kubeconfig;		/* NULL: default lookup */
	const char *context;		/* NULL: current-context */
	const char *ns;			/* the controller's namespace */
	const char *url;		/* the repository */
	const char *branch;
	const char *path;		/* clusters/NAME, relative */
	const char *secret_name;	/* the git credentials Secret (NULL:
					   the namespace's name, as flux) */
	const char *username;		/* https basic auth */
	const char *password;		/* its password, or the ssh key's
					   passphrase (secret) */
	const char *identity;		/* ssh private key text (secret) */
	const char *known_hosts;	/* ssh: the user's known_hosts text */
	const char *ca;			/* https: --ca-file (PEM) */
	size_t ca_len;
	const char *author_name;	/* NULL: "sotto" */
	const char *author_email;	/* NULL: "sotto@localhost" */
	const char *interval;		/* GitRepository spec.interval
					   (NULL: 1m0s) */
	const char *version;		/* sotto's version (CRD label) */
	double timeout;			/* seconds per step (0: 300) */
	bool dry_run;			/* print the commit's diff; change
					   nothing, here or in the cluster */
	bool allow_file;		/* file:// URLs */
	sotto_bootstrap_rule_fn sops_rule;
	FILE *out, *err;		/* diff; progress */
};

/*
 * Runs the bootstrap.  Progress goes to b->err with flux's symbols; the
 * dry run's diff to b->out.  Errors: SOTTO_E_USAGE for a bad flag (the
 * message names it), SOTTO_E_GIT for clone, commit and push, the kube
 * codes for the cluster, SOTTO_E_IO for the work tree.  No credential
 * appears in a message, a file or the repository.
 */
sotto_err sotto_bootstrap_git(const struct sotto_bootstrap *b,
    struct sotto_error *e);

#endif
