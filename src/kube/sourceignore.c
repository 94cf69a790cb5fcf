/* SPDX-License-Identifier: ISC */
/*
 * What Flux's source-controller leaves out of a GitRepository artifact,
 * applied to our checkout before it is rendered: Flux's default patterns
 * (VCS files, images and archives, CI configuration, .sops.yaml and the
 * like), every .sourceignore file in the tree (its patterns apply below
 * its own directory) and spec.ignore, in that order, so a later '!'
 * pattern re-includes.  gitignore syntax, matched by the guard's matcher.
 * Files that match are removed from the work tree (the next checkout
 * restores them; the cache never holds plaintext).
 */
#include "kube/kint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sotto/buf.h"
#include "sotto/guard.h"
#include "sotto/io.h"

#define SI_MAX_DEPTH 64
#define SI_MAX_FILE (64 * 1024)	/* one .sourceignore */

/* Flux's defaults: VCS, ExcludeExt, ExcludeCI, ExcludeExtra. */
static const char si_defaults[] =
	".git/\n.gitignore\n.gitmodules\n.gitattributes\n"
	"*.jpg\n*.jpeg\n*.gif\n*.png\n*.wmv\n*.flv\n*.tar.gz\n*.zip\n"
	".github/\n.circleci/\n.travis.yml\n.gitlab-ci.yml\nappveyor.yml\n"
	".drone.yml\ncloudbuild.yaml\ncodeship-services.yml\n"
	"codeship-steps.yml\n"
	"**/.goreleaser.yml\n**/.sops.yaml\n**/.flux.yaml\n";

struct walk {
	struct sotto_buf files;		/* relative paths, NUL-separated */
	struct sotto_buf patterns;	/* gitignore text, root-relative */
	size_t nfiles;
};

/* Appends the lines of a .sourceignore in directory rel (""=root). */
static sotto_err
add_patterns(struct sotto_buf *out, const char *rel, const char *p, size_t n)
{
	const char *end = p + n, *nl;
	sotto_err rc = SOTTO_OK;

	for (; p < end && rc == SOTTO_OK; p = nl + 1) {
		const char *l = p;
		size_t ll;
		bool neg = false;

		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		ll = (size_t)(nl - l);
		if (ll > 0 && l[ll - 1] == '\r')
			ll--;
		if (ll == 0 || l[0] == '#')
			continue;
		if (rel[0] == '\0') {
			rc = sotto_buf_addf(out, "%.*s\n", (int)ll, l);
			continue;
		}
		if (l[0] == '!') {
			neg = true;
			l++;
			ll--;
		}
		/* anchored below rel when it holds a '/' before its end */
		if (ll > 0 && memchr(l, '/', ll - 1) != NULL)
			rc = sotto_buf_addf(out, "%s%s/%.*s\n", neg ? "!" : "",
			    rel, (int)(ll - (l[0] == '/')), l + (l[0] == '/'));
		else
			rc = sotto_buf_addf(out, "%s%s/**/%.*s\n", neg ? "!" :
			    "", rel, (int)ll, l);
	}
	return rc;
}

static sotto_err
walk_dir(struct walk *w, const char *root, const char *rel, int depth,
    struct sotto_error *e)
{
	char path[8192], sub[4096];
	DIR *d;
	struct dirent *de;
	struct stat st;
	sotto_err rc = SOTTO_OK;

	if (depth > SI_MAX_DEPTH)
		return sotto_error_set(e, SOTTO_E_LIMIT, "source tree nested "
		    "deeper than %d directories", SI_MAX_DEPTH);
	snprintf(path, sizeof(path), "%s%s%s", root, rel[0] ? "/" : "", rel);
	if ((d = opendir(path)) == NULL)
		return sotto_error_set(e, SOTTO_E_IO, "cannot read '%s': %s",
		    rel[0] ? rel : ".", strerror(errno));
	while (rc == SOTTO_OK && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") ==
		    0 || (depth == 0 && strcmp(de->d_name, ".git") == 0))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel,
		    rel[0] ? "/" : "", de->d_name) >= sizeof(sub)) {
			rc = sotto_error_set(e, SOTTO_E_LIMIT, "path too long "
			    "under '%s'", rel[0] ? rel : ".");
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", root, sub);
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			rc = walk_dir(w, root, sub, depth + 1, e);
			continue;
		}
		if (strcmp(de->d_name, ".sourceignore") == 0 &&
		    S_ISREG(st.st_mode)) {
			struct sotto_buf b = SOTTO_BUF_INIT;

			if ((rc = sotto_io_read_file(&b, path, SI_MAX_FILE, e))
			    == SOTTO_OK)
				rc = add_patterns(&w->patterns, rel, (char *)
				    b.data, b.len);
			sotto_buf_release(&b);
			if (rc != SOTTO_OK)
				break;
		}
		if ((rc = sotto_buf_add(&w->files, sub, strlen(sub) + 1)) ==
		    SOTTO_OK)
			w->nfiles++;
	}
	closedir(d);
	return rc;
}

sotto_err
ksrc_ignore(size_t *removed, const char *root, const char *spec_ignore,
    struct sotto_error *e)
{
	struct walk w = { SOTTO_BUF_INIT, SOTTO_BUF_INIT, 0 };
	struct sotto_guard_ignore *ig = NULL;
	char path[8192];
	const char *p;
	size_t i;
	sotto_err rc;

	*removed = 0;
	if ((rc = sotto_buf_add(&w.patterns, si_defaults,
	    sizeof(si_defaults) - 1)) != SOTTO_OK ||
	    (rc = walk_dir(&w, root, "", 0, e)) != SOTTO_OK)
		goto out;
	if (spec_ignore != NULL && (rc = sotto_buf_addf(&w.patterns, "%s\n",
	    spec_ignore)) != SOTTO_OK)
		goto out;
	if ((rc = sotto_guard_ignore_parse(&ig, "ignore",
	    w.patterns.data, w.patterns.len, e)) != SOTTO_OK) {
		sotto_error_prefix(e, "GitRepository spec.ignore or "
		    ".sourceignore");
		goto out;
	}
	p = (const char *)w.files.data;
	for (i = 0; i < w.nfiles; i++, p += strlen(p) + 1) {
		if (sotto_guard_ignore_match(ig, p) == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, p);
		if (unlink(path) == 0)
			(*removed)++;
		else if (errno != ENOENT) {
			rc = sotto_error_set(e, SOTTO_E_IO, "cannot leave out "
			    "'%s': %s", p, strerror(errno));
			goto out;
		}
	}
out:
	if (rc != SOTTO_OK && e->code == SOTTO_OK)
		sotto_error_set(e, rc, "out of memory");
	sotto_guard_ignore_free(ig);
	sotto_buf_release(&w.files);
	sotto_buf_release(&w.patterns);
	return rc;
}
