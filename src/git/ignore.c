/* SPDX-License-Identifier: ISC */
/*
 * .sottoignore: gitignore syntax for paths the guard lets through.  Blank
 * lines and '#' comments are skipped, '!' re-includes, a trailing '/'
 * matches directories only, a '/' anywhere else anchors the pattern at the
 * repository root, and '**' spans directories.  The last matching pattern
 * wins, as in git.  Reading the file belongs to the caller.
 */
#include "sotto/guard.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct pattern {
	char *glob;		/* without '!', leading '/', trailing '/' */
	char *reason;		/* ".sottoignore:3 'tests/'" */
	bool negate;		/* '!pattern' */
	bool dir_only;		/* 'pattern/' */
	bool anchored;		/* contains a '/' before its end */
};

struct sotto_guard_ignore {
	struct pattern *v;
	size_t n;
};

/* Matches one bracket expression at p against c; *end gets past ']'. */
static bool
match_class(const char *p, char c, const char **end)
{
	bool neg = false, hit = false;
	const char *q = p + 1;

	if (*q == '!' || *q == '^') {
		neg = true;
		q++;
	}
	if (*q == ']') {		/* a leading ']' is literal */
		hit = c == ']';
		q++;
	}
	for (; *q != '\0' && *q != ']'; q++) {
		if (q[1] == '-' && q[2] != ']' && q[2] != '\0') {
			if (c >= q[0] && c <= q[2])
				hit = true;
			q += 2;
		} else if (*q == c) {
			hit = true;
		}
	}
	if (*q != ']') {		/* unterminated: literal '[' */
		*end = p + 1;
		return c == '[';
	}
	*end = q + 1;
	return hit != neg && c != '/';
}

/*
 * Pairs (pattern offset, path offset) already known not to match.  The
 * star loops try the same pairs again and again, which made patterns such
 * as "*a*a*a*a*b", or many "**" directories in a row, exponential in the
 * path length (a hook that never ends); with the memo each pair is worked
 * out once.
 */
struct gmemo {
	const char *p0, *s0;	/* the whole pattern and path */
	size_t plen, slen;	/* their lengths */
	uint8_t *bits;		/* (plen + 1) * (slen + 1) bits, or NULL */
	bool tried;		/* bits allocated, or found too large */
};

#define GMEMO_MAX_BITS ((size_t)1 << 26)	/* 8 MiB */

/* Bit index of (p, s), or SIZE_MAX when there is no memo. */
static size_t
gmemo_bit(struct gmemo *g, const char *p, const char *s)
{
	if (!g->tried) {
		g->tried = true;
		g->plen = strlen(g->p0);
		g->slen = strlen(g->s0);
		if (g->plen + 1 <= GMEMO_MAX_BITS / (g->slen + 1))
			g->bits = calloc(((g->plen + 1) * (g->slen + 1) + 7) /
			    8, 1);
	}
	if (g->bits == NULL)
		return SIZE_MAX;
	return (size_t)(p - g->p0) * (g->slen + 1) + (size_t)(s - g->s0);
}

static bool glob_run(struct gmemo *g, const char *p, const char *s);

/* glob_run for the star loops, remembering failures. */
static bool
glob_at(struct gmemo *g, const char *p, const char *s)
{
	size_t bit = gmemo_bit(g, p, s);

	if (bit != SIZE_MAX && (g->bits[bit / 8] & (1u << (bit % 8))) != 0)
		return false;
	if (glob_run(g, p, s))
		return true;
	if (bit != SIZE_MAX)
		g->bits[bit / 8] |= (uint8_t)(1u << (bit % 8));
	return false;
}

static bool
glob_run(struct gmemo *g, const char *p, const char *s)
{
	const char *end;

	while (*p != '\0') {
		if (p[0] == '*' && p[1] == '*' && (p[2] == '/' || p[2] == '\0')) {
			if (p[2] == '\0')
				return true;	/* "**" at the end: anything */
			/* "**\/": zero or more leading directories */
			for (;;) {
				if (glob_at(g, p + 3, s))
					return true;
				s = strchr(s, '/');
				if (s == NULL)
					return false;
				s++;
			}
		}
		if (*p == '*') {
			while (*p == '*')
				p++;
			for (;;) {
				if (glob_at(g, p, s))
					return true;
				if (*s == '\0' || *s == '/')
					return false;
				s++;
			}
		}
		if (*s == '\0')
			return false;
		if (*p == '?') {
			if (*s == '/')
				return false;
			p++;
			s++;
			continue;
		}
		if (*p == '[') {
			if (!match_class(p, *s, &end))
				return false;
			p = end;
			s++;
			continue;
		}
		if (*p == '\\' && p[1] != '\0')
			p++;
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *s == '\0';
}

bool
sotto_guard_glob(const char *pat, const char *path)
{
	struct gmemo g = { pat, path, 0, 0, NULL, false };
	bool hit = glob_run(&g, pat, path);

	free(g.bits);
	return hit;
}

sotto_err
sotto_guard_ignore_parse(struct sotto_guard_ignore **out, const char *name,
    const uint8_t *p, size_t n, struct sotto_error *e)
{
	struct sotto_guard_ignore *ig;
	size_t i = 0, lineno = 0, j, len;
	struct pattern *pt;
	struct sotto_buf r = SOTTO_BUF_INIT;
	char *line;

	*out = NULL;
	if ((ig = calloc(1, sizeof(*ig))) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	while (i < n) {
		j = i;
		while (j < n && p[j] != '\n')
			j++;
		lineno++;
		len = j - i;
		if (len > 0 && p[i + len - 1] == '\r')
			len--;
		/* trailing unescaped spaces are dropped, as git does */
		while (len > 0 && p[i + len - 1] == ' ' &&
		    !(len > 1 && p[i + len - 2] == '\\'))
			len--;
		if (len == 0 || p[i] == '#') {
			i = j + 1;
			continue;
		}
		if ((line = strndup((const char *)p + i, len)) == NULL)
			goto nomem;
		pt = realloc(ig->v, (ig->n + 1) * sizeof(*pt));
		if (pt == NULL) {
			free(line);
			goto nomem;
		}
		ig->v = pt;
		pt = &ig->v[ig->n];
		memset(pt, 0, sizeof(*pt));
		sotto_buf_truncate(&r, 0);
		if (sotto_buf_addf(&r, "%s:%zu '%s'", name, lineno, line)) {
			free(line);
			goto nomem;
		}
		pt->reason = (char *)sotto_buf_detach(&r, NULL);
		{
			char *g = line;

			if (*g == '!') {
				pt->negate = true;
				g++;
			} else if (*g == '\\' && (g[1] == '!' || g[1] == '#')) {
				g++;
			}
			len = strlen(g);
			if (len > 0 && g[len - 1] == '/') {
				pt->dir_only = true;
				g[--len] = '\0';
			}
			pt->anchored = strchr(g, '/') != NULL;
			if (*g == '/')
				g++;
			pt->glob = strdup(g);
		}
		free(line);
		ig->n++;
		if (pt->glob == NULL)
			goto nomem;
		i = j + 1;
	}
	sotto_buf_release(&r);
	*out = ig;
	return SOTTO_OK;
nomem:
	sotto_buf_release(&r);
	sotto_guard_ignore_free(ig);
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

/* Does pattern pt match path (or one of its leading directories)? */
static bool
pattern_hits(const struct pattern *pt, const char *path)
{
	char buf[4096];
	size_t len = strlen(path), k;
	const char *base;

	if (len >= sizeof(buf) || pt->glob[0] == '\0')
		return false;
	memcpy(buf, path, len + 1);
	/* try every prefix ending at a '/' (a directory), then the path */
	for (k = 0; k <= len; k++) {
		if (k < len && buf[k] != '/')
			continue;
		if (k == len && pt->dir_only)
			break;
		buf[k] = '\0';
		if (pt->anchored) {
			if (sotto_guard_glob(pt->glob, buf))
				return true;
		} else {
			base = strrchr(buf, '/');
			base = base ? base + 1 : buf;
			if (sotto_guard_glob(pt->glob, base))
				return true;
		}
		if (k < len)
			buf[k] = '/';
	}
	return false;
}

const char *
sotto_guard_ignore_match(const struct sotto_guard_ignore *ig,
    const char *path)
{
	size_t i;
	const char *why = NULL;

	if (ig == NULL)
		return NULL;
	for (i = 0; i < ig->n; i++)
		if (pattern_hits(&ig->v[i], path))
			why = ig->v[i].negate ? NULL : ig->v[i].reason;
	return why;
}

void
sotto_guard_ignore_free(struct sotto_guard_ignore *ig)
{
	size_t i;

	if (ig == NULL)
		return;
	for (i = 0; i < ig->n; i++) {
		free(ig->v[i].glob);
		free(ig->v[i].reason);
	}
	free(ig->v);
	free(ig);
}
