/* SPDX-License-Identifier: ISC */
/*
 * The guard's git side: opens the repository (GIT_DIR, GIT_WORK_TREE and
 * GIT_INDEX_FILE as git sets them for hooks), builds a snapshot of the
 * index or of a commit's tree, and feeds blobs, read straight from the
 * object database (never the working tree), to the rules in check.c.
 * Also finds the hooks directory for `sotto hook`.
 */
#include "sotto/guard.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "git/lg2.h"
#include "sotto/io.h"

struct entry {
	char *path;
	git_oid id;
};

struct repo {
	struct lg2 g;
	git_repository *repo;
	git_index *index;	/* GIT_INDEX_FILE or the repository's */
	char *root;		/* work tree without trailing '/' (or gitdir) */
};

struct snap {
	struct repo *rp;
	bool disk;		/* zero ids: read the work tree file */
	struct entry *v;
	size_t n, cap;
	const char **paths;	/* v[i].path, for the public struct */
	struct sotto_guard_snapshot pub;
};

/* ---- snapshots ------------------------------------------------------------ */

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path,
	    ((const struct entry *)b)->path);
}

static sotto_err
snap_add(struct snap *s, const char *path, const git_oid *id)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 256;
		struct entry *v = realloc(s->v, nc * sizeof(*v));

		if (v == NULL)
			return SOTTO_E_NOMEM;
		s->v = v;
		s->cap = nc;
	}
	if ((s->v[s->n].path = strdup(path)) == NULL)
		return SOTTO_E_NOMEM;
	s->v[s->n].id = *id;
	s->n++;
	return SOTTO_OK;
}

static const struct entry *
snap_find(const struct snap *s, const char *path)
{
	struct entry key;

	key.path = (char *)path;
	return bsearch(&key, s->v, s->n, sizeof(*s->v), entry_cmp);
}

/* The blob id names, or an error naming path. */
static sotto_err
lookup_blob(git_blob **b, struct repo *rp, const git_oid *id,
    const char *path, struct sotto_error *e)
{
	char what[300];

	*b = NULL;
	if (rp->g.git_blob_lookup(b, rp->repo, id) == 0)
		return SOTTO_OK;
	snprintf(what, sizeof(what), "cannot read the blob of '%.200s'", path);
	return sotto_lg2_fail(&rp->g, e, what);
}

static sotto_err
read_blob(struct repo *rp, const git_oid *id, const char *path,
    struct sotto_buf *out, struct sotto_error *e)
{
	git_blob *b;
	sotto_err err;
	size_t n;

	if ((err = lookup_blob(&b, rp, id, path, e)) != SOTTO_OK)
		return err;
	n = (size_t)rp->g.git_blob_rawsize(b);
	err = sotto_buf_add(out, rp->g.git_blob_rawcontent(b), n);
	rp->g.git_blob_free(b);
	if (err != SOTTO_OK)
		return sotto_error_set(e, err, "out of memory");
	return SOTTO_OK;
}

static sotto_err
snap_get(void *arg, const char *path, struct sotto_buf *out,
    struct sotto_error *e)
{
	struct snap *s = arg;
	const struct entry *x = snap_find(s, path);

	if (x == NULL)
		return sotto_error_set(e, SOTTO_E_NOTFOUND, "'%s' is not in "
		    "the snapshot", path);
	if (s->disk && s->rp->g.git_oid_is_zero(&x->id)) {
		struct sotto_buf p = SOTTO_BUF_INIT;
		sotto_err err;

		if (sotto_buf_addf(&p, "%s/%s", s->rp->root, path))
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		err = sotto_io_read_file(out, (const char *)p.data,
		    (size_t)16 << 20, e);
		sotto_buf_release(&p);
		return err;
	}
	return read_blob(s->rp, &x->id, path, out, e);
}

static sotto_err
snap_finish(struct snap *s, struct sotto_error *e)
{
	size_t i;

	qsort(s->v, s->n, sizeof(*s->v), entry_cmp);
	if ((s->paths = calloc(s->n + 1, sizeof(*s->paths))) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	for (i = 0; i < s->n; i++)
		s->paths[i] = s->v[i].path;
	s->pub.paths = s->paths;
	s->pub.npaths = s->n;
	s->pub.get = snap_get;
	s->pub.arg = s;
	return SOTTO_OK;
}

static void
snap_release(struct snap *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
	free(s->paths);
	memset(s, 0, sizeof(*s));
}

static sotto_err
snap_from_index(struct snap *s, struct repo *rp, struct sotto_error *e)
{
	size_t i, n = rp->g.git_index_entrycount(rp->index);
	const git_index_entry *x;

	s->rp = rp;
	for (i = 0; i < n; i++) {
		x = rp->g.git_index_get_byindex(rp->index, i);
		if (x == NULL || GIT_INDEX_ENTRY_STAGE(x) != 0 ||
		    (x->mode & 0170000) != 0100000)
			continue;	/* conflicts, gitlinks, symlinks */
		if (snap_add(s, x->path, &x->id))
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
	}
	return snap_finish(s, e);
}

struct walk_arg {
	struct snap *s;
	struct sotto_buf path;
	sotto_err err;
};

static int
tree_cb(const char *root, const git_tree_entry *te, void *payload)
{
	struct walk_arg *w = payload;
	struct lg2 *g = &w->s->rp->g;

	if (g->git_tree_entry_type(te) != GIT_OBJECT_BLOB ||
	    g->git_tree_entry_filemode(te) == GIT_FILEMODE_LINK)
		return 0;
	sotto_buf_truncate(&w->path, 0);
	if (sotto_buf_addstr(&w->path, root) ||
	    sotto_buf_addstr(&w->path, g->git_tree_entry_name(te)) ||
	    snap_add(w->s, (const char *)w->path.data,
	    g->git_tree_entry_id(te))) {
		w->err = SOTTO_E_NOMEM;
		return -1;
	}
	return 0;
}

static sotto_err
snap_from_tree(struct snap *s, struct repo *rp, git_tree *t,
    struct sotto_error *e)
{
	struct walk_arg w = { s, SOTTO_BUF_INIT, SOTTO_OK };
	int rc;

	s->rp = rp;
	rc = rp->g.git_tree_walk(t, GIT_TREEWALK_PRE, tree_cb, &w);
	sotto_buf_release(&w.path);
	if (w.err != SOTTO_OK)
		return sotto_error_set(e, w.err, "out of memory");
	if (rc < 0)
		return sotto_lg2_fail(&rp->g, e, "cannot walk a tree");
	return snap_finish(s, e);
}

/* ---- repository ---------------------------------------------------------- */

static char *
abs_path(const char *p)
{
	char cwd[PATH_MAX];
	struct sotto_buf b = SOTTO_BUF_INIT;

	if (p[0] == '/')
		return strdup(p);
	if (getcwd(cwd, sizeof(cwd)) == NULL ||
	    sotto_buf_addf(&b, "%s/%s", cwd, p)) {
		sotto_buf_release(&b);
		return NULL;
	}
	return (char *)sotto_buf_detach(&b, NULL);
}

static void
repo_close(struct repo *rp)
{
	if (rp->g.handle != NULL) {
		if (rp->index != NULL)
			rp->g.git_index_free(rp->index);
		if (rp->repo != NULL)
			rp->g.git_repository_free(rp->repo);
		sotto_lg2_close(&rp->g);
	}
	free(rp->root);
	memset(rp, 0, sizeof(*rp));
}

static sotto_err
repo_open(struct repo *rp, const char *start, bool want_index,
    struct sotto_error *e)
{
	const char *gd = getenv("GIT_DIR"), *wt = getenv("GIT_WORK_TREE");
	const char *ixf = getenv("GIT_INDEX_FILE"), *w;
	char *ix = NULL;
	size_t l;
	sotto_err err;

	memset(rp, 0, sizeof(*rp));
	if ((err = sotto_lg2_open(&rp->g, false, e)) != SOTTO_OK)
		return err;
	if (gd != NULL && *gd != '\0') {
		if (rp->g.git_repository_open_ext(&rp->repo, gd,
		    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
			return sotto_error_set(e, SOTTO_E_GIT_REPO, "GIT_DIR "
			    "'%s' is not a git repository", gd);
		if (wt != NULL && *wt != '\0' &&
		    rp->g.git_repository_set_workdir(rp->repo, wt, 0) < 0)
			return sotto_lg2_fail(&rp->g, e, "GIT_WORK_TREE");
	} else if (rp->g.git_repository_open_ext(&rp->repo,
	    start ? start : ".", 0, NULL) < 0) {
		return sotto_error_set(e, SOTTO_E_GIT_REPO, "'%s' is not "
		    "inside a git repository", start ? start : ".");
	}
	w = rp->g.git_repository_workdir(rp->repo);
	if (w == NULL)
		w = rp->g.git_repository_path(rp->repo);
	if ((rp->root = abs_path(w)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	l = strlen(rp->root);
	while (l > 1 && rp->root[l - 1] == '/')
		rp->root[--l] = '\0';
	if (!want_index)
		return SOTTO_OK;
	if (ixf != NULL && *ixf != '\0') {
		/* relative to the cwd, as git means it (hooks run at top) */
		ix = abs_path(ixf);
		if (ix == NULL)
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		if (!sotto_io_exists(ix) && ixf[0] != '/') {
			struct sotto_buf b = SOTTO_BUF_INIT;

			free(ix);
			if (sotto_buf_addf(&b, "%s/%s", rp->root, ixf))
				return sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory");
			ix = (char *)sotto_buf_detach(&b, NULL);
		}
		if (rp->g.git_index_open(&rp->index, ix) < 0) {
			free(ix);
			return sotto_lg2_fail(&rp->g, e,
			    "cannot read GIT_INDEX_FILE");
		}
		free(ix);
	} else if (rp->g.git_repository_index(&rp->index, rp->repo) < 0) {
		return sotto_lg2_fail(&rp->g, e, "cannot read the index");
	}
	return SOTTO_OK;
}

/* ---- checking ---------------------------------------------------------- */

static sotto_err
check_blob(struct sotto_guard_report *r, struct sotto_guard_ctx *c,
    struct repo *rp, const char *rev, const char *path, const git_oid *id,
    struct sotto_buf *buf, struct sotto_error *e)
{
	git_blob *b;
	size_t n;
	sotto_err err;

	if ((err = lookup_blob(&b, rp, id, path, e)) != SOTTO_OK)
		return err;
	n = (size_t)rp->g.git_blob_rawsize(b);
	if (n > SOTTO_GUARD_MAX_BLOB) {
		rp->g.git_blob_free(b);
		r->files++;
		if (sotto_buf_addf(&r->notes, "'%s' not scanned: %zu bytes, "
		    "over the %zu MiB limit\n", path, n,
		    SOTTO_GUARD_MAX_BLOB >> 20))
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		return SOTTO_OK;
	}
	(void)buf;
	err = sotto_guard_check(r, c, rev, path, rp->g.git_blob_rawcontent(b),
	    n, e);
	rp->g.git_blob_free(b);
	return err;
}

/* Checks every regular file a diff adds or changes (deletions skipped). */
static sotto_err
check_diff(struct sotto_guard_report *r, struct sotto_guard_ctx *c,
    struct repo *rp, const char *rev, git_diff *diff, struct sotto_error *e)
{
	const git_diff_delta *d;
	size_t i, n = rp->g.git_diff_num_deltas(diff);
	sotto_err err = SOTTO_OK;

	for (i = 0; i < n && err == SOTTO_OK; i++) {
		d = rp->g.git_diff_get_delta(diff, i);
		if (d->status == GIT_DELTA_DELETED ||
		    (d->new_file.mode & 0170000) != 0100000)
			continue;
		err = check_blob(r, c, rp, rev, d->new_file.path,
		    &d->new_file.id, NULL, e);
	}
	return err;
}

static sotto_err
run_staged(struct sotto_guard_report *r, struct repo *rp,
    const struct sotto_guard_opts *o, struct sotto_error *e)
{
	struct snap s;
	struct sotto_guard_ctx *c = NULL;
	git_object *head = NULL;
	git_diff *diff = NULL;
	git_diff_options dopt;
	size_t i;
	sotto_err err;

	memset(&s, 0, sizeof(s));
	if ((err = snap_from_index(&s, rp, e)) != SOTTO_OK ||
	    (err = sotto_guard_ctx_new(&c, rp->root, &s.pub, o->ids, e)))
		goto out;
	if (rp->g.git_revparse_single(&head, rp->repo, "HEAD^{tree}") < 0)
		head = NULL;	/* unborn branch: everything is new */
	if (head == NULL) {
		for (i = 0; i < s.n && err == SOTTO_OK; i++)
			err = check_blob(r, c, rp, NULL, s.v[i].path,
			    &s.v[i].id, NULL, e);
		goto out;
	}
	rp->g.git_diff_options_init(&dopt, GIT_DIFF_OPTIONS_VERSION);
	dopt.flags |= GIT_DIFF_SKIP_BINARY_CHECK | GIT_DIFF_IGNORE_SUBMODULES;
	if (rp->g.git_diff_tree_to_index(&diff, rp->repo, (git_tree *)head,
	    rp->index, &dopt) < 0) {
		err = sotto_lg2_fail(&rp->g, e, "cannot compare the index "
		    "with HEAD");
		goto out;
	}
	err = check_diff(r, c, rp, NULL, diff, e);
out:
	if (diff != NULL)
		rp->g.git_diff_free(diff);
	if (head != NULL)
		rp->g.git_object_free(head);
	sotto_guard_ctx_free(c);
	snap_release(&s);
	return err;
}

/* Checks what one commit changed against its first parent. */
static sotto_err
check_commit(struct sotto_guard_report *r, struct repo *rp,
    const git_oid *id, const struct sotto_guard_opts *o,
    struct sotto_error *e)
{
	struct snap s;
	struct sotto_guard_ctx *c = NULL;
	git_commit *cm = NULL, *parent = NULL;
	git_tree *t = NULL, *pt = NULL;
	git_diff *diff = NULL;
	git_diff_options dopt;
	char rev[GIT_OID_HEXSZ + 1];
	sotto_err err = SOTTO_OK;

	memset(&s, 0, sizeof(s));
	rp->g.git_oid_tostr(rev, 8, id);
	if (rp->g.git_commit_lookup(&cm, rp->repo, id) < 0 ||
	    rp->g.git_commit_tree(&t, cm) < 0) {
		err = sotto_lg2_fail(&rp->g, e, "cannot read a commit");
		goto out;
	}
	if (rp->g.git_commit_parentcount(cm) > 0 &&
	    (rp->g.git_commit_parent(&parent, cm, 0) < 0 ||
	    rp->g.git_commit_tree(&pt, parent) < 0)) {
		err = sotto_lg2_fail(&rp->g, e, "cannot read a parent commit");
		goto out;
	}
	if ((err = snap_from_tree(&s, rp, t, e)) != SOTTO_OK ||
	    (err = sotto_guard_ctx_new(&c, rp->root, &s.pub, o->ids, e)))
		goto out;
	rp->g.git_diff_options_init(&dopt, GIT_DIFF_OPTIONS_VERSION);
	dopt.flags |= GIT_DIFF_SKIP_BINARY_CHECK | GIT_DIFF_IGNORE_SUBMODULES;
	if (rp->g.git_diff_tree_to_tree(&diff, rp->repo, pt, t, &dopt) < 0) {
		err = sotto_lg2_fail(&rp->g, e, "cannot diff a commit");
		goto out;
	}
	err = check_diff(r, c, rp, rev, diff, e);
out:
	if (diff != NULL)
		rp->g.git_diff_free(diff);
	if (pt != NULL)
		rp->g.git_tree_free(pt);
	if (t != NULL)
		rp->g.git_tree_free(t);
	if (parent != NULL)
		rp->g.git_commit_free(parent);
	if (cm != NULL)
		rp->g.git_commit_free(cm);
	sotto_guard_ctx_free(c);
	snap_release(&s);
	return err;
}

static sotto_err
walk_commits(struct sotto_guard_report *r, struct repo *rp, git_revwalk *w,
    const struct sotto_guard_opts *o, struct sotto_error *e)
{
	git_oid id;
	sotto_err err = SOTTO_OK;
	int rc;

	while (err == SOTTO_OK && (rc = rp->g.git_revwalk_next(&id, w)) == 0)
		err = check_commit(r, rp, &id, o, e);
	return err;
}

static int
peel_commit(git_object **out, struct repo *rp, const char *rev)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	int rc = -1;

	*out = NULL;
	if (sotto_buf_addf(&b, "%s^{commit}", rev) == SOTTO_OK)
		rc = rp->g.git_revparse_single(out, rp->repo,
		    (const char *)b.data);
	sotto_buf_release(&b);
	return rc;
}

static sotto_err
run_range(struct sotto_guard_report *r, struct repo *rp,
    const struct sotto_guard_opts *o, struct sotto_error *e)
{
	git_revwalk *w = NULL;
	git_object *obj = NULL;
	sotto_err err;

	if (rp->g.git_revwalk_new(&w, rp->repo) < 0)
		return sotto_lg2_fail(&rp->g, e, "cannot walk history");
	rp->g.git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	if (strstr(o->range, "..") != NULL) {
		if (rp->g.git_revwalk_push_range(w, o->range) < 0) {
			err = sotto_error_set(e, SOTTO_E_USAGE, "bad range "
			    "'%s'", o->range);
			goto out;
		}
	} else if (peel_commit(&obj, rp, o->range) < 0 ||
	    rp->g.git_revwalk_push(w, rp->g.git_object_id(obj)) < 0) {
		err = sotto_error_set(e, SOTTO_E_USAGE, "bad revision '%s'",
		    o->range);
		goto out;
	}
	err = walk_commits(r, rp, w, o, e);
out:
	if (obj != NULL)
		rp->g.git_object_free(obj);
	rp->g.git_revwalk_free(w);
	return err;
}

static sotto_err
run_push(struct sotto_guard_report *r, struct repo *rp,
    const struct sotto_guard_opts *o, struct sotto_error *e)
{
	git_revwalk *w = NULL;
	git_commit *cm = NULL;
	git_oid loc, rem;
	char lref[1024], lsha[128], rref[1024], rsha[128];
	const char *p = o->push_input ? o->push_input : "", *nl;
	char line[2400];
	size_t len;
	bool any = false, hide_remotes = false;
	sotto_err err;

	if (rp->g.git_revwalk_new(&w, rp->repo) < 0)
		return sotto_lg2_fail(&rp->g, e, "cannot walk history");
	rp->g.git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	for (; *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		len = (size_t)(nl - p);
		if (len == 0 || len >= sizeof(line))
			continue;
		memcpy(line, p, len);
		line[len] = '\0';
		if (sscanf(line, "%1023s %127s %1023s %127s", lref, lsha, rref,
		    rsha) != 4) {
			err = sotto_error_set(e, SOTTO_E_USAGE, "--push: "
			    "cannot read the pre-push line '%.100s'", line);
			goto out;
		}
		if (rp->g.git_oid_fromstr(&loc, lsha) < 0 ||
		    rp->g.git_oid_fromstr(&rem, rsha) < 0) {
			err = sotto_error_set(e, SOTTO_E_USAGE, "--push: bad "
			    "object id in '%.100s'", line);
			goto out;
		}
		if (rp->g.git_oid_is_zero(&loc))
			continue;	/* a deletion pushes nothing */
		if (rp->g.git_revwalk_push(w, &loc) < 0) {
			err = sotto_lg2_fail(&rp->g, e, "--push: cannot walk "
			    "the local commit");
			goto out;
		}
		any = true;
		if (!rp->g.git_oid_is_zero(&rem) &&
		    rp->g.git_commit_lookup(&cm, rp->repo, &rem) == 0) {
			rp->g.git_commit_free(cm);
			cm = NULL;
			if (rp->g.git_revwalk_hide(w, &rem) < 0)
				hide_remotes = true;
		} else {
			hide_remotes = true;	/* new branch */
		}
	}
	if (hide_remotes)
		(void)rp->g.git_revwalk_hide_glob(w, "refs/remotes/*");
	err = any ? walk_commits(r, rp, w, o, e) : SOTTO_OK;
out:
	rp->g.git_revwalk_free(w);
	return err;
}

static sotto_err
run_all(struct sotto_guard_report *r, struct repo *rp,
    const struct sotto_guard_opts *o, struct sotto_error *e)
{
	struct snap s;
	struct sotto_guard_ctx *c = NULL;
	git_object *t = NULL;
	size_t i;
	sotto_err err;

	memset(&s, 0, sizeof(s));
	if (rp->g.git_revparse_single(&t, rp->repo, "HEAD^{tree}") == 0)
		err = snap_from_tree(&s, rp, (git_tree *)t, e);
	else
		err = snap_from_index(&s, rp, e);
	if (err == SOTTO_OK)
		err = sotto_guard_ctx_new(&c, rp->root, &s.pub, o->ids, e);
	for (i = 0; err == SOTTO_OK && i < s.n; i++)
		err = check_blob(r, c, rp, NULL, s.v[i].path, &s.v[i].id,
		    NULL, e);
	if (t != NULL)
		rp->g.git_object_free(t);
	sotto_guard_ctx_free(c);
	snap_release(&s);
	return err;
}

/* path (relative to the cwd) as a repository path, or NULL outside. */
static char *
repo_relative(const struct repo *rp, const char *path)
{
	char *copy = strdup(path), *slash, *dir = NULL, *res = NULL;
	const char *base;
	struct sotto_buf b = SOTTO_BUF_INIT;
	size_t rl = strlen(rp->root);

	if (copy == NULL)
		return NULL;
	slash = strrchr(copy, '/');
	if (slash != NULL) {
		*slash = '\0';
		base = slash + 1;
		dir = realpath(slash == copy ? "/" : copy, NULL);
	} else {
		base = copy;
		dir = realpath(".", NULL);
	}
	if (dir == NULL || sotto_buf_addf(&b, "%s/%s", dir, base))
		goto out;
	if (strncmp((const char *)b.data, rp->root, rl) == 0 &&
	    b.data[rl] == '/')
		res = strdup((const char *)b.data + rl + 1);
out:
	sotto_buf_release(&b);
	free(dir);
	free(copy);
	return res;
}

/*
 * --files runs outside git too (the pre-commit framework, editors): a
 * .sottoignore or root .sops.yaml that is not staged is read from the work
 * tree.
 */
static sotto_err
add_disk_configs(struct snap *s, struct sotto_error *e)
{
	static const char *const names[] = { ".sottoignore", ".sops.yaml",
	    NULL };
	struct sotto_buf p = SOTTO_BUF_INIT;
	git_oid zero;
	size_t i;
	bool added = false;

	memset(&zero, 0, sizeof(zero));
	s->disk = true;
	for (i = 0; names[i] != NULL; i++) {
		sotto_buf_truncate(&p, 0);
		if (sotto_buf_addf(&p, "%s/%s", s->rp->root, names[i]))
			goto nomem;
		if (snap_find(s, names[i]) != NULL ||
		    !sotto_io_exists((const char *)p.data))
			continue;
		if (snap_add(s, names[i], &zero))
			goto nomem;
		added = true;
	}
	sotto_buf_release(&p);
	if (!added)
		return SOTTO_OK;
	free(s->paths);
	s->paths = NULL;
	return snap_finish(s, e);
nomem:
	sotto_buf_release(&p);
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

static sotto_err
run_files(struct sotto_guard_report *r, struct repo *rp,
    const struct sotto_guard_opts *o, struct sotto_error *e)
{
	struct snap s;
	struct sotto_guard_ctx *c = NULL;
	struct sotto_buf b = SOTTO_BUF_INIT;
	const struct entry *x;
	char *rel;
	size_t i;
	sotto_err err;

	memset(&s, 0, sizeof(s));
	if ((err = snap_from_index(&s, rp, e)) != SOTTO_OK ||
	    (err = add_disk_configs(&s, e)) != SOTTO_OK ||
	    (err = sotto_guard_ctx_new(&c, rp->root, &s.pub, o->ids, e)))
		goto out;
	for (i = 0; err == SOTTO_OK && i < o->nfiles; i++) {
		if ((rel = repo_relative(rp, o->files[i])) == NULL) {
			sotto_buf_addf(&r->notes, "'%s' skipped: not inside "
			    "the repository\n", o->files[i]);
			continue;
		}
		if ((x = snap_find(&s, rel)) != NULL &&
		    !rp->g.git_oid_is_zero(&x->id)) {
			err = check_blob(r, c, rp, NULL, rel, &x->id, NULL, e);
		} else if (sotto_io_exists(o->files[i])) {
			sotto_buf_truncate(&b, 0);
			err = sotto_io_read_file(&b, o->files[i],
			    SOTTO_GUARD_MAX_BLOB, e);
			if (err == SOTTO_OK)
				err = sotto_guard_check(r, c, NULL, rel,
				    b.data, b.len, e);
			else if (err == SOTTO_E_LIMIT || err == SOTTO_E_IO) {
				sotto_buf_addf(&r->notes, "'%s' not scanned: "
				    "%s\n", o->files[i], e->msg);
				sotto_error_clear(e);
				err = SOTTO_OK;
			}
		}
		free(rel);
	}
out:
	sotto_buf_release(&b);
	sotto_guard_ctx_free(c);
	snap_release(&s);
	return err;
}

sotto_err
sotto_guard_run(struct sotto_guard_report *r,
    const struct sotto_guard_opts *o, struct sotto_error *e)
{
	struct repo rp;
	sotto_err err;

	err = repo_open(&rp, o->repo, o->mode == SOTTO_GUARD_STAGED ||
	    o->mode == SOTTO_GUARD_FILES || o->mode == SOTTO_GUARD_ALL, e);
	if (err == SOTTO_OK) {
		switch (o->mode) {
		case SOTTO_GUARD_STAGED: err = run_staged(r, &rp, o, e); break;
		case SOTTO_GUARD_PUSH: err = run_push(r, &rp, o, e); break;
		case SOTTO_GUARD_RANGE: err = run_range(r, &rp, o, e); break;
		case SOTTO_GUARD_ALL: err = run_all(r, &rp, o, e); break;
		case SOTTO_GUARD_FILES: err = run_files(r, &rp, o, e); break;
		}
	}
	repo_close(&rp);
	return err;
}

sotto_err
sotto_guard_hooks_dir(char **out, const char *start, struct sotto_error *e)
{
	struct repo rp;
	git_config *cfg = NULL;
	const char *hp = NULL, *base, *home;
	struct sotto_buf b = SOTTO_BUF_INIT;
	sotto_err err;

	*out = NULL;
	if ((err = repo_open(&rp, start, false, e)) != SOTTO_OK)
		goto out;
	if (rp.g.git_repository_config_snapshot(&cfg, rp.repo) == 0 &&
	    rp.g.git_config_get_string(&hp, cfg, "core.hooksPath") == 0 &&
	    hp != NULL && *hp != '\0') {
		home = getenv("HOME");
		if (hp[0] == '~' && hp[1] == '/' && home != NULL)
			err = sotto_buf_addf(&b, "%s%s", home, hp + 1);
		else if (hp[0] == '/')
			err = sotto_buf_addstr(&b, hp);
		else
			err = sotto_buf_addf(&b, "%s/%s", rp.root, hp);
	} else {
		base = rp.g.git_repository_commondir(rp.repo);
		err = sotto_buf_addf(&b, "%s%shooks", base,
		    base[0] && base[strlen(base) - 1] == '/' ? "" : "/");
	}
	if (err != SOTTO_OK) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	*out = (char *)sotto_buf_detach(&b, NULL);
out:
	if (cfg != NULL)
		rp.g.git_config_free(cfg);
	sotto_buf_release(&b);
	repo_close(&rp);
	return err;
}

sotto_err
sotto_guard_config_set(const char *start, const char *key, const char *value,
    struct sotto_error *e)
{
	struct repo rp;
	git_config *cfg = NULL;
	sotto_err err;

	if ((err = repo_open(&rp, start, false, e)) == SOTTO_OK) {
		if (rp.g.git_repository_config(&cfg, rp.repo) < 0 ||
		    rp.g.git_config_set_string(cfg, key, value) < 0)
			err = sotto_lg2_fail(&rp.g, e, "cannot write the git "
			    "config");
		if (cfg != NULL)
			rp.g.git_config_free(cfg);
	}
	repo_close(&rp);
	return err;
}

sotto_err
sotto_guard_repo_root(char **out, const char *start, struct sotto_error *e)
{
	struct repo rp;
	sotto_err err;

	*out = NULL;
	if ((err = repo_open(&rp, start, false, e)) == SOTTO_OK &&
	    (*out = strdup(rp.root)) == NULL)
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	repo_close(&rp);
	return err;
}
