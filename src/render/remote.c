/* SPDX-License-Identifier: ISC */
/*
 * Remote bases: a `resources` or `components` entry naming a directory of
 * a git repository, as kustomize v5.5 reads it (api/internal/git's
 * RepoSpec):
 *
 *     github.com/org/repo//path?ref=v1.2.0
 *     https://host/org/repo.git//path?ref=main&timeout=90s
 *     git@host:org/repo//path?ref=<commit>        (also ssh://, git::)
 *     file:///srv/git/repo.git//path?ref=v1      (--allow-file-sources)
 *
 * The repository is fetched by the caller's git function (the agent's
 * isolated git child: URL allowlist, timeout, a cache directory per URL
 * and ref) and the directory is built with the checkout as its root, so
 * no path in it may leave the repository.  A base must be pinned with
 * ?ref= (a tag, a branch or a commit).  http(s) file and archive URLs,
 * which kustomize downloads without git, are refused.
 */
#include "render/remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* github.com/org/repo without a scheme, as kustomize accepts it. */
static const char *const bare_hosts[] = { "github.com/", "gitlab.com/",
	"bitbucket.org/" };

/* user@host:path (scp-like ssh): an '@' and a ':' before any '/'. */
static bool
scp_like(const char *s)
{
	const char *at = strchr(s, '@'), *colon = strchr(s, ':'),
	    *slash = strchr(s, '/');

	return at != NULL && colon != NULL && at < colon &&
	    (slash == NULL || colon < slash);
}

bool
rr_is_remote(const char *s)
{
	size_t i;

	if (strstr(s, "://") != NULL || has_prefix(s, "git::") ||
	    has_prefix(s, "git@") || scp_like(s))
		return true;
	for (i = 0; i < sizeof(bare_hosts) / sizeof(bare_hosts[0]); i++)
		if (has_prefix(s, bare_hosts[i]))
			return true;
	return false;
}

/* kustomize's ?ref=: what `git fetch origin REF` takes, nothing more. */
static bool
ref_ok(const char *r)
{
	size_t i, n = strlen(r);

	if (n == 0 || n > 200 || r[0] == '-' || r[0] == '/' ||
	    r[n - 1] == '/' || r[n - 1] == '.' || strstr(r, "..") != NULL ||
	    strstr(r, "//") != NULL)
		return false;
	for (i = 0; i < n; i++) {
		char ch = r[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-' || ch == '/' || ch == '+'))
			return false;
	}
	return true;
}

/* Go's time.ParseDuration for what a ?timeout= holds: N, Ns, Nm, Nh. */
static double
parse_timeout(const char *s)
{
	char *end;
	double v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	v = strtod(s, &end);
	if (*end == '\0' || strcmp(end, "s") == 0)
		return v;
	if (strcmp(end, "m") == 0)
		return v * 60;
	if (strcmp(end, "h") == 0)
		return v * 3600;
	return -1;
}

static const char *const file_exts[] = { ".yaml", ".yml", ".json",
	".tar.gz", ".tgz", ".tar", ".zip" };

static bool
file_like(const char *path)
{
	size_t i, n = strlen(path);

	for (i = 0; i < sizeof(file_exts) / sizeof(file_exts[0]); i++) {
		size_t m = strlen(file_exts[i]);

		if (n > m && strcmp(path + n - m, file_exts[i]) == 0)
			return true;
	}
	return false;
}

/* Copies s[0..n) into out (cap bytes): false when it does not fit. */
static bool
put(char *out, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

void
rr_shown(char *out, size_t cap, const char *spec)
{
	const char *s = spec, *sch = strstr(spec, "://"), *at, *slash;
	size_t o = 0, used = 0;

	if (cap == 0)
		return;
	/* "scheme://user:password@host" loses its "user:password@" */
	if (sch != NULL && (at = strchr(sch + 3, '@')) != NULL &&
	    ((slash = strchr(sch + 3, '/')) == NULL || at < slash)) {
		size_t n = (size_t)(sch + 3 - spec);

		if (n + 1 < cap) {
			memcpy(out, spec, n);
			o = n;
		}
		used = n;
		s = at + 1;
	}
	for (; *s != '\0' && o + 5 < cap; s++, used++) {
		unsigned char ch = (unsigned char)*s;

		if (used >= 200) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
}

static sotto_err
bad(struct sotto_error *e, const char *spec, const char *why)
{
	char shown[RR_SHOWN_MAX];

	rr_shown(shown, sizeof(shown), spec);
	return sotto_error_set(e, SOTTO_E_USAGE, "remote base '%s': %s",
	    shown, why);
}

sotto_err
rr_parse(struct rremote *r, const char *spec, struct sotto_error *e)
{
	char buf[2048], *q, *p, *rest, *sep;
	const char *hostpart;
	bool https = false, bare = false, known_host = false;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (!put(buf, sizeof(buf), spec, strlen(spec)))
		return bad(e, spec, "too long");
	p = buf;
	if (has_prefix(p, "git::"))
		p += 5;
	/* the query: ref, version (its old name), timeout, submodules */
	if ((q = strchr(p, '?')) != NULL) {
		char *tok, *save = NULL;

		*q++ = '\0';
		for (tok = strtok_r(q, "&", &save); tok != NULL;
		    tok = strtok_r(NULL, "&", &save)) {
			if (has_prefix(tok, "ref=")) {
				if (!put(r->ref, sizeof(r->ref), tok + 4,
				    strlen(tok + 4)))
					return bad(e, spec, "?ref= is too "
					    "long");
			} else if (has_prefix(tok, "version=")) {
				if (r->ref[0] == '\0' && !put(r->ref,
				    sizeof(r->ref), tok + 8, strlen(tok + 8)))
					return bad(e, spec, "?version= is too "
					    "long");
			} else if (has_prefix(tok, "timeout=")) {
				if ((r->timeout = parse_timeout(tok + 8)) <= 0)
					return bad(e, spec, "?timeout= is not "
					    "a positive duration (such as "
					    "90s)");
			} else if (strcmp(tok, "submodules=false") == 0) {
				;	/* none are fetched */
			} else {
				return bad(e, spec, "only the parameters "
				    "ref, version, timeout and "
				    "submodules=false are supported");
			}
		}
	}
	if (has_prefix(p, "https://") || has_prefix(p, "http://"))
		https = true;
	for (i = 0; i < sizeof(bare_hosts) / sizeof(bare_hosts[0]); i++)
		if (has_prefix(p, bare_hosts[i]))
			bare = true;
	if (!bare && !https && !has_prefix(p, "ssh://") &&
	    !has_prefix(p, "file://") && !has_prefix(p, "git+ssh://") &&
	    !has_prefix(p, "ssh+git://") && !scp_like(p))
		return bad(e, spec, "not a git repository URL (https://, "
		    "ssh://, user@host:path, file://, or github.com/org/"
		    "repo)");
	/* where the host and the repository path start */
	hostpart = strstr(p, "://") ? strstr(p, "://") + 3 : p;
	for (i = 0; i < sizeof(bare_hosts) / sizeof(bare_hosts[0]); i++) {
		size_t m = strlen(bare_hosts[i]) - 1;

		if (strncmp(hostpart, bare_hosts[i], m) == 0 &&
		    (hostpart[m] == '/' || hostpart[m] == ':'))
			known_host = true;
		if (scp_like(p) && strchr(p, '@') != NULL &&
		    strncmp(strchr(p, '@') + 1, bare_hosts[i], m) == 0)
			known_host = true;
	}
	/* rest: the repository path (after the host; a file:// path
	 * starts with '/') */
	rest = has_prefix(p, "file://") ? p + 7 :
	    scp_like(p) && !strstr(p, "://") ? strchr(p, ':') + 1 :
	    strchr(hostpart, '/') ? strchr(hostpart, '/') : NULL;
	if (rest == NULL || rest[0] == '\0' || rest[1] == '\0')
		return bad(e, spec, "no repository path");
	if ((sep = strstr(rest + 1, "//")) != NULL) {
		/* repo//path */
		*sep = '\0';
		if (!put(r->path, sizeof(r->path), sep + 2, strlen(sep + 2)))
			return bad(e, spec, "path too long");
	} else if ((sep = strstr(rest, ".git/")) != NULL) {
		sep[4] = '\0';
		if (!put(r->path, sizeof(r->path), sep + 5, strlen(sep + 5)))
			return bad(e, spec, "path too long");
	} else if (known_host) {
		/* org/repo, then the path */
		char *s1 = strchr(rest + 1, '/'), *s2 = s1 ?
		    strchr(s1 + 1, '/') : NULL;

		if (s1 == NULL)
			return bad(e, spec, "no repository path (want org/"
			    "repo)");
		if (s2 != NULL) {
			*s2 = '\0';
			if (!put(r->path, sizeof(r->path), s2 + 1,
			    strlen(s2 + 1)))
				return bad(e, spec, "path too long");
		}
	}
	if (https && (file_like(rest) || file_like(r->path))) {
		char shown[RR_SHOWN_MAX];

		rr_shown(shown, sizeof(shown), spec);
		return sotto_error_set(e, SOTTO_E_UNSUPPORTED, "remote base "
		    "'%s': http(s) file and archive URLs are not supported, "
		    "only git repositories (host/org/repo//path?ref=...)",
		    shown);
	}
	/* the URL git gets */
	if (bare) {
		if ((size_t)snprintf(r->repo, sizeof(r->repo), "https://%s",
		    p) >= sizeof(r->repo))
			return bad(e, spec, "too long");
	} else if (!put(r->repo, sizeof(r->repo), p, strlen(p))) {
		return bad(e, spec, "too long");
	}
	while (r->path[0] == '/')
		memmove(r->path, r->path + 1, strlen(r->path));
	if (r->ref[0] == '\0')
		return bad(e, spec, "no ?ref=: pin the base to a tag, a "
		    "branch or a commit");
	if (!ref_ok(r->ref))
		return bad(e, spec, "?ref= is not a tag, branch or commit "
		    "name");
	return SOTTO_OK;
}
