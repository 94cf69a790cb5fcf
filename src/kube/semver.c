/* SPDX-License-Identifier: ISC */
/*
 * Semantic versions and ranges for GitRepository spec.ref.semver: the tag
 * picked is the highest one whose name parses as a version (an optional
 * leading "v") and satisfies the range.  The range language is the one
 * Flux takes from its Go semver library (facts only, no code):
 *
 *   "A || B"          either group
 *   "A, B" or "A B"   both terms
 *   "1.2 - 1.4.5"     >= 1.2.0 and <= 1.4.5
 *   =, !=, >, <, >=, <=   with x, X, * or missing parts as wildcards
 *   ~1.2.3            >= 1.2.3, < 1.3.0        (~1 is < 2.0.0)
 *   ^1.2.3            >= 1.2.3, < 2.0.0        (^0.2.3 is < 0.3.0)
 *
 * Pre-releases (1.2.0-rc.1) satisfy a group only if one of its terms
 * names a pre-release itself, like the library Flux uses.
 */
#include "kube/kint.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define SV_MAX_TERMS 32

/* A term: version range [lo, hi) / [lo, hi] or "not in [lo, hi]". */
struct term {
	struct ksemver lo, hi;
	bool has_lo, has_hi, lo_incl, hi_incl, negate, pre;
};

static int
cmp_num(long a, long b)
{
	return a < b ? -1 : a > b;
}

/* Pre-release identifiers, dot separated: numeric < alphanumeric. */
static int
cmp_pre(const char *a, const char *b)
{
	if (a[0] == '\0' || b[0] == '\0')
		return a[0] == '\0' ? (b[0] == '\0' ? 0 : 1) : -1;
	while (*a != '\0' || *b != '\0') {
		size_t la = strcspn(a, "."), lb = strcspn(b, ".");
		bool na = la > 0 && strspn(a, "0123456789") >= la;
		bool nb = lb > 0 && strspn(b, "0123456789") >= lb;
		int c;

		if (*a == '\0' || *b == '\0')
			return *a == '\0' ? -1 : 1;
		if (na && nb)
			c = la != lb ? cmp_num((long)la, (long)lb) :
			    memcmp(a, b, la);
		else if (na || nb)
			c = na ? -1 : 1;
		else {
			c = memcmp(a, b, la < lb ? la : lb);
			if (c == 0)
				c = cmp_num((long)la, (long)lb);
		}
		if (c != 0)
			return c < 0 ? -1 : 1;
		a += la + (a[la] == '.');
		b += lb + (b[lb] == '.');
	}
	return 0;
}

int
ksemver_cmp(const struct ksemver *a, const struct ksemver *b)
{
	int c;

	if ((c = cmp_num(a->major, b->major)) != 0 ||
	    (c = cmp_num(a->minor, b->minor)) != 0 ||
	    (c = cmp_num(a->patch, b->patch)) != 0)
		return c;
	return cmp_pre(a->pre, b->pre);
}

static bool
is_wild(const char *p)
{
	return *p == 'x' || *p == 'X' || *p == '*';
}

static const char *
parse_num(const char *p, const char *end, long *out)
{
	long v = 0;

	if (p == end || !isdigit((unsigned char)*p))
		return NULL;
	while (p < end && isdigit((unsigned char)*p)) {
		if (v > (LONG_MAX - 9) / 10)
			return NULL;
		v = v * 10 + (*p++ - '0');
	}
	*out = v;
	return p;
}

/*
 * Parses "[v]MAJOR[.MINOR[.PATCH]][-PRE][+BUILD]" up to end (or the whole
 * string when end is NULL).  *parts is how many numbers were given;
 * wildcards stop the count when allow_wild.  Returns false if malformed.
 */
static bool
parse_ver(struct ksemver *v, int *parts, const char *s, size_t n,
    bool allow_wild)
{
	const char *p = s, *end = s + n;
	long *f[3];
	int i;

	memset(v, 0, sizeof(*v));
	f[0] = &v->major;
	f[1] = &v->minor;
	f[2] = &v->patch;
	*parts = 0;
	if (p < end && (*p == 'v' || *p == 'V'))
		p++;
	for (i = 0; i < 3 && p < end; i++) {
		if (i > 0) {
			if (*p != '.')
				break;
			p++;
		}
		if (allow_wild && p < end && is_wild(p)) {
			p++;
			/* "1.x.x": everything after a wildcard is one too */
			while (p + 1 < end && *p == '.' && is_wild(p + 1))
				p += 2;
			break;
		}
		if ((p = parse_num(p, end, f[i])) == NULL)
			return false;
		(*parts)++;
	}
	if (*parts == 0 && !(allow_wild && p > s))
		return false;
	if (p < end && *p == '-') {
		size_t k = 0;

		p++;
		while (p < end && *p != '+' && k + 1 < sizeof(v->pre)) {
			if (!isalnum((unsigned char)*p) && *p != '.' &&
			    *p != '-')
				return false;
			v->pre[k++] = *p++;
		}
		v->pre[k] = '\0';
		if (k == 0 || (p < end && *p != '+'))
			return false;
	}
	if (p < end && *p == '+') {
		if (++p == end)
			return false;
		for (; p < end; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' &&
			    *p != '-')
				return false;
	}
	return p == end;
}

bool
ksemver_parse(struct ksemver *v, const char *s)
{
	int parts;

	return parse_ver(v, &parts, s, strlen(s), false);
}

/* v with the part after `parts` numbers bumped: 1.2 -> 1.3.0. */
static struct ksemver
bump(const struct ksemver *v, int parts)
{
	struct ksemver b = *v;

	b.pre[0] = '\0';
	if (parts <= 1) {
		b.major++;
		b.minor = b.patch = 0;
	} else if (parts == 2) {
		b.minor++;
		b.patch = 0;
	} else {
		b.patch++;
	}
	return b;
}

static void
set_lo(struct term *t, const struct ksemver *v, bool incl)
{
	t->lo = *v;
	t->has_lo = true;
	t->lo_incl = incl;
}

static void
set_hi(struct term *t, const struct ksemver *v, bool incl)
{
	t->hi = *v;
	t->has_hi = true;
	t->hi_incl = incl;
}

/* One term, "OP VERSION" without spaces inside. */
static bool
parse_term(struct term *t, const char *s, size_t n)
{
	char op[3] = "";
	size_t ol = 0;
	struct ksemver v, up;
	int parts;

	memset(t, 0, sizeof(*t));
	while (ol < n && ol < 2 && strchr("=!<>~^", s[ol]) != NULL)
		ol++;
	memcpy(op, s, ol);
	op[ol] = '\0';
	/* the aliases: "=>" is ">=", "=<" is "<=", "~>" is "~" */
	if (strcmp(op, "=>") == 0 || strcmp(op, "=<") == 0) {
		op[0] = op[1];
		op[1] = '=';
	} else if (strcmp(op, "~>") == 0) {
		op[1] = '\0';
	}
	if (!parse_ver(&v, &parts, s + ol, n - ol, true))
		return false;
	t->pre = v.pre[0] != '\0';
	up = bump(&v, parts);
	if (parts == 0) {		/* "*": anything ("!=*": nothing) */
		t->negate = strcmp(op, "!=") == 0;
		return true;
	}
	if (op[0] == '\0' || strcmp(op, "=") == 0 || strcmp(op, "!=") == 0) {
		set_lo(t, &v, true);
		if (parts == 3)
			set_hi(t, &v, true);
		else
			set_hi(t, &up, false);
		t->negate = op[0] == '!';
	} else if (strcmp(op, ">") == 0) {
		if (parts == 3)
			set_lo(t, &v, false);
		else
			set_lo(t, &up, true);
	} else if (strcmp(op, ">=") == 0) {
		set_lo(t, &v, true);
	} else if (strcmp(op, "<") == 0) {
		set_hi(t, &v, false);
	} else if (strcmp(op, "<=") == 0) {
		if (parts == 3)
			set_hi(t, &v, true);
		else
			set_hi(t, &up, false);
	} else if (strcmp(op, "~") == 0) {
		set_lo(t, &v, true);
		up = bump(&v, parts == 1 ? 1 : 2);
		set_hi(t, &up, false);
	} else if (strcmp(op, "^") == 0) {
		set_lo(t, &v, true);
		if (v.major > 0 || parts == 1)
			up = bump(&v, 1);
		else if (v.minor > 0 || parts == 2)
			up = bump(&v, 2);
		else
			up = bump(&v, 3);
		set_hi(t, &up, false);
	} else {
		return false;
	}
	return true;
}

static bool
term_ok(const struct term *t, const struct ksemver *v)
{
	bool in = true;
	int c;

	if (t->has_lo) {
		c = ksemver_cmp(v, &t->lo);
		in = c > 0 || (c == 0 && t->lo_incl);
	}
	if (in && t->has_hi) {
		c = ksemver_cmp(v, &t->hi);
		in = c < 0 || (c == 0 && t->hi_incl);
	}
	return t->negate ? !in : in;
}

static const char *
skip_sp(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
		p++;
	return p;
}

/* One "||" group of s[0..n): does v satisfy every term? -1: malformed. */
static int
group_ok(const char *s, size_t n, const struct ksemver *v)
{
	const char *p = s, *end = s + n;
	struct term t[SV_MAX_TERMS];
	size_t nt = 0, i;
	bool pre = false;

	for (p = skip_sp(p, end); p < end; p = skip_sp(p, end)) {
		const char *w = p, *q;
		size_t wl;

		while (p < end && *p != ' ' && *p != '\t' && *p != ',')
			p++;
		wl = (size_t)(p - w);
		/* an operator followed by a space: ">= 1.2" */
		if (strspn(w, "=!<>~^") == wl) {
			p = skip_sp(p, end);
			while (p < end && *p != ' ' && *p != '\t' && *p != ',')
				p++;
			if (nt == SV_MAX_TERMS)
				return -1;
			/* join without the blanks */
			{
				char buf[128];
				const char *r = skip_sp(w + wl, end);
				size_t rl = (size_t)(p - r);

				if (wl + rl >= sizeof(buf) || rl == 0)
					return -1;
				memcpy(buf, w, wl);
				memcpy(buf + wl, r, rl);
				buf[wl + rl] = '\0';
				if (!parse_term(&t[nt++], buf, wl + rl))
					return -1;
			}
			continue;
		}
		/* hyphen range "A - B" */
		q = skip_sp(p, end);
		if (q + 1 < end && q[0] == '-' && (q[1] == ' ' || q[1] == '\t')) {
			const char *b = skip_sp(q + 1, end), *be = b;
			struct ksemver lo, hi;
			int pl, ph;

			while (be < end && *be != ' ' && *be != '\t' &&
			    *be != ',')
				be++;
			if (nt + 1 >= SV_MAX_TERMS ||
			    !parse_ver(&lo, &pl, w, wl, true) ||
			    !parse_ver(&hi, &ph, b, (size_t)(be - b), true))
				return -1;
			memset(&t[nt], 0, sizeof(t[nt]));
			set_lo(&t[nt], &lo, true);
			t[nt].pre = lo.pre[0] != '\0' || hi.pre[0] != '\0';
			if (ph == 3) {
				set_hi(&t[nt], &hi, true);
			} else if (ph > 0) {
				struct ksemver up = bump(&hi, ph);

				set_hi(&t[nt], &up, false);
			}
			nt++;
			p = be;
			continue;
		}
		if (nt == SV_MAX_TERMS || !parse_term(&t[nt++], w, wl))
			return -1;
	}
	if (nt == 0)
		return -1;
	for (i = 0; i < nt; i++)
		pre |= t[i].pre;
	if (v->pre[0] != '\0' && !pre)
		return 0;
	for (i = 0; i < nt; i++)
		if (!term_ok(&t[i], v))
			return 0;
	return 1;
}

int
ksemver_match(const char *range, const struct ksemver *v)
{
	const char *p = range, *bar;
	int r, any = 0;

	if (strlen(range) > 1024)
		return -1;
	for (;;) {
		bar = strstr(p, "||");
		r = group_ok(p, bar ? (size_t)(bar - p) : strlen(p), v);
		if (r < 0)
			return -1;
		any |= r;
		if (bar == NULL)
			return any;
		p = bar + 2;
	}
}

sotto_err
ksemver_best(size_t *best, const char *range, const char *const *tags,
    size_t n, struct sotto_error *e)
{
	struct ksemver v, top;
	size_t i;
	bool found = false;
	struct ksemver probe = { 0, 0, 0, "" };

	if (ksemver_match(range, &probe) < 0)
		return sotto_error_set(e, SOTTO_E_CONFIG, "semver parse error: "
		    "improper constraint: %.200s", range);
	for (i = 0; i < n; i++) {
		if (!ksemver_parse(&v, tags[i]) || ksemver_match(range, &v) != 1)
			continue;
		if (!found || ksemver_cmp(&v, &top) > 0) {
			top = v;
			*best = i;
			found = true;
		}
	}
	if (!found)
		return sotto_error_set(e, SOTTO_E_GIT, "no match found for "
		    "semver: %.200s", range);
	return SOTTO_OK;
}
