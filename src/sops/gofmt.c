/* SPDX-License-Identifier: ISC */
/*
 * Go strconv / encoding/json number text for the sops layer: shortest
 * float formatting in 'f', 'g' and JSON flavours, and Go's Atoi,
 * ParseFloat and ParseBool acceptance rules.  See sotto/gofmt.h.
 * Assumes the "C" locale for printf/strtod (sotto never calls setlocale).
 */
#include "sotto/gofmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decimal digits of |v|: value = 0.d[0]d[1]...d[nd-1] * 10^dp. */
struct digits {
	char d[24];	/* significant digits, no trailing zeros */
	int nd;		/* number of digits; 0 for zero */
	int dp;		/* decimal point position */
};

/* An output cursor that remembers when it ran out of room. */
struct out {
	char *p;	/* destination */
	size_t cap;	/* bytes available including the NUL */
	size_t len;	/* bytes written */
	bool full;	/* cap was too small */
};

static void
put(struct out *o, char c)
{
	if (o->len + 1 >= o->cap) {
		o->full = true;
		return;
	}
	o->p[o->len++] = c;
}

static void
put_str(struct out *o, const char *s)
{
	while (*s != '\0')
		put(o, *s++);
}

static int
finish(struct out *o)
{
	if (o->cap == 0)
		return -1;
	o->p[o->len < o->cap ? o->len : o->cap - 1] = '\0';
	if (o->full)
		return -1;
	return (int)o->len;
}

/* Does 0.<d>e<dp> read back (round to nearest even) as exactly a? */
static bool
roundtrips(const char *d, int nd, int dp, double a)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "0.%.*se%d", nd, d, dp);
	return strtod(buf, NULL) == a;
}

/* Adds delta (+1 or -1) to the last digit of g, carrying; keeps nd. */
static void
bump(struct digits *g, int delta)
{
	int i;

	for (i = g->nd - 1; i >= 0; i--) {
		int c = g->d[i] - '0' + delta;

		if (c >= 0 && c <= 9) {
			g->d[i] = (char)('0' + c);
			break;
		}
		g->d[i] = delta > 0 ? '0' : '9';
	}
	if (i < 0 && delta > 0) {	/* 99..9 + 1 = 100..0 */
		memmove(g->d + 1, g->d, (size_t)g->nd);
		g->d[0] = '1';
		g->nd++;
		g->dp++;
	}
	while (g->nd > 0 && g->d[0] == '0') {	/* 10..0 - 1 = 09..9 */
		memmove(g->d, g->d + 1, (size_t)g->nd - 1);
		g->nd--;
		g->dp--;
	}
}

/* Shortest digits that round-trip for a finite a >= 0. */
static void
shortest(struct digits *g, double a)
{
	char buf[64];
	struct digits c;
	int p, i, x;

	memset(g, 0, sizeof(*g));
	if (a == 0)
		return;
	for (p = 0; p <= 16; p++) {
		snprintf(buf, sizeof(buf), "%.*e", p, a);
		c.nd = 0;
		for (i = 0; buf[i] != 'e'; i++)
			if (buf[i] != '.')
				c.d[c.nd++] = buf[i];
		x = (int)strtol(buf + i + 1, NULL, 10);
		c.dp = x + 1;
		if (roundtrips(c.d, c.nd, c.dp, a))
			break;
		/*
		 * At a power of two the lower half-interval is narrower, so
		 * the nearest p+1 digit decimal can miss while its upper
		 * neighbour is inside; Go's Ryu would return that one.
		 */
		*g = c;
		bump(g, 1);
		if (g->nd > 0 && roundtrips(g->d, g->nd, g->dp, a)) {
			c = *g;
			break;
		}
		*g = c;
		bump(g, -1);
		if (g->nd > 0 && roundtrips(g->d, g->nd, g->dp, a)) {
			c = *g;
			break;
		}
	}
	*g = c;
	while (g->nd > 0 && g->d[g->nd - 1] == '0')
		g->nd--;
}

/* Go's fmtF: integer part, then prec fraction digits. */
static void
fmt_f(struct out *o, bool neg, const struct digits *g, int prec)
{
	int i, j;

	if (neg)
		put(o, '-');
	if (g->dp > 0) {
		for (i = 0; i < g->dp; i++)
			put(o, i < g->nd ? g->d[i] : '0');
	} else
		put(o, '0');
	if (prec > 0) {
		put(o, '.');
		for (i = 0; i < prec; i++) {
			j = g->dp + i;
			put(o, j >= 0 && j < g->nd ? g->d[j] : '0');
		}
	}
}

/* Go's fmtE: d.ddd e+-XX with at least two exponent digits. */
static void
fmt_e(struct out *o, bool neg, const struct digits *g, int prec)
{
	int i, x;

	if (neg)
		put(o, '-');
	put(o, g->nd > 0 ? g->d[0] : '0');
	if (prec > 0) {
		put(o, '.');
		for (i = 1; i <= prec; i++)
			put(o, i < g->nd ? g->d[i] : '0');
	}
	put(o, 'e');
	x = g->nd == 0 ? 0 : g->dp - 1;
	put(o, x < 0 ? '-' : '+');
	if (x < 0)
		x = -x;
	if (x >= 100)
		put(o, (char)('0' + x / 100));
	put(o, (char)('0' + x / 10 % 10));
	put(o, (char)('0' + x % 10));
}

/* Writes Go's spelling of a non-finite value; false if v is finite. */
static bool
special(struct out *o, double v)
{
	if (isnan(v))
		put_str(o, "NaN");
	else if (isinf(v))
		put_str(o, v > 0 ? "+Inf" : "-Inf");
	else
		return false;
	return true;
}

int
sotto_gofmt_float_f(char *out, size_t cap, double v)
{
	struct out o = { out, cap, 0, false };
	struct digits g;

	if (!special(&o, v)) {
		shortest(&g, fabs(v));
		fmt_f(&o, signbit(v) != 0, &g,
		    g.nd - g.dp > 0 ? g.nd - g.dp : 0);
	}
	return finish(&o);
}

int
sotto_gofmt_float_g(char *out, size_t cap, double v)
{
	struct out o = { out, cap, 0, false };
	struct digits g;
	int prec, x;

	if (!special(&o, v)) {
		shortest(&g, fabs(v));
		/* shortest mode: precision = nd, exponent cut-off 6 */
		prec = g.nd;
		x = g.dp - 1;
		if (x < -4 || x >= 6)
			fmt_e(&o, signbit(v) != 0, &g, prec - 1);
		else {
			if (prec > g.dp)
				prec = g.nd;
			fmt_f(&o, signbit(v) != 0, &g,
			    prec - g.dp > 0 ? prec - g.dp : 0);
		}
	}
	return finish(&o);
}

int
sotto_gofmt_float_json(char *out, size_t cap, double v)
{
	struct out o = { out, cap, 0, false };
	struct digits g;
	double a = fabs(v);

	if (isnan(v) || isinf(v))
		return -1;
	shortest(&g, a);
	if (a != 0 && (a < 1e-6 || a >= 1e21)) {
		fmt_e(&o, signbit(v) != 0, &g, g.nd > 1 ? g.nd - 1 : 0);
		/* "e-07" -> "e-7" */
		if (!o.full && o.len >= 4 && o.p[o.len - 4] == 'e' &&
		    o.p[o.len - 3] == '-' && o.p[o.len - 2] == '0') {
			o.p[o.len - 2] = o.p[o.len - 1];
			o.len--;
		}
	} else
		fmt_f(&o, signbit(v) != 0, &g,
		    g.nd - g.dp > 0 ? g.nd - g.dp : 0);
	return finish(&o);
}

int
sotto_gofmt_int(char *out, size_t cap, int64_t v)
{
	int n;

	n = snprintf(out, cap, "%" PRId64, v);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return n;
}

bool
sotto_gofmt_parse_int(const char *s, size_t n, int64_t *out)
{
	uint64_t u = 0, lim;
	bool neg = false;
	size_t i = 0;

	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == n)
		return false;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9)
			return false;
		if (u > (lim - d) / 10)
			return false;
		u = u * 10 + d;
	}
	if (neg)
		*out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
	else
		*out = (int64_t)u;
	return true;
}

static int
lower(int c)
{
	return c | ('x' - 'X');
}

static bool
isdig(int c)
{
	return c >= '0' && c <= '9';
}

static bool
ishexletter(int c)
{
	return lower(c) >= 'a' && lower(c) <= 'f';
}

/* Case-insensitive common prefix length of s[0..n) with lower-case p. */
static size_t
prefix_ci(const char *s, size_t n, const char *p)
{
	size_t i;

	for (i = 0; i < n && p[i] != '\0'; i++) {
		int c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != p[i])
			return i;
	}
	return i;
}

/* Go's special(): inf/infinity (signed) and nan, whole string only. */
static bool
parse_special(const char *s, size_t n, double *out)
{
	size_t k, i = 0;
	double sign = 1;

	if (n == 0)
		return false;
	if (s[0] == '+' || s[0] == '-') {
		sign = s[0] == '-' ? -1 : 1;
		i = 1;
	} else if (lower((unsigned char)s[0]) == 'n') {
		if (n == 3 && prefix_ci(s, n, "nan") == 3) {
			*out = NAN;
			return true;
		}
		return false;
	}
	k = prefix_ci(s + i, n - i, "infinity");
	if ((k == 3 || k == 8) && i + k == n) {
		*out = sign * INFINITY;
		return true;
	}
	return false;
}

/* Go's underscoreOK over the whole literal. */
static bool
underscore_ok(const char *s, size_t n)
{
	char saw = '^';
	bool hex = false;
	size_t i = 0;

	if (n >= 1 && (s[0] == '-' || s[0] == '+')) {
		s++;
		n--;
	}
	if (n >= 2 && s[0] == '0' && (lower((unsigned char)s[1]) == 'b' ||
	    lower((unsigned char)s[1]) == 'o' ||
	    lower((unsigned char)s[1]) == 'x')) {
		i = 2;
		saw = '0';
		hex = lower((unsigned char)s[1]) == 'x';
	}
	for (; i < n; i++) {
		int c = (unsigned char)s[i];

		if (isdig(c) || (hex && ishexletter(c))) {
			saw = '0';
			continue;
		}
		if (c == '_') {
			if (saw != '0')
				return false;
			saw = '_';
			continue;
		}
		if (saw == '_')
			return false;
		saw = '!';
	}
	return saw != '_';
}

/* Go's readFloat syntax check; true if all n bytes form a literal. */
static bool
float_syntax(const char *s, size_t n)
{
	bool hex = false, sawdot = false, sawdigits = false, us = false;
	size_t i = 0;
	int c;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i + 2 < n && s[i] == '0' && lower((unsigned char)s[i + 1]) == 'x') {
		hex = true;
		i += 2;
	}
	for (; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '_')
			us = true;
		else if (c == '.') {
			if (sawdot)
				break;
			sawdot = true;
		} else if (isdig(c) || (hex && ishexletter(c)))
			sawdigits = true;
		else
			break;
	}
	if (!sawdigits)
		return false;
	if (i < n && lower((unsigned char)s[i]) == (hex ? 'p' : 'e')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !isdig((unsigned char)s[i]))
			return false;
		for (; i < n && (isdig((unsigned char)s[i]) || s[i] == '_');
		    i++)
			if (s[i] == '_')
				us = true;
	} else if (hex)
		return false;	/* hex needs its exponent */
	if (i != n)
		return false;
	return !us || underscore_ok(s, n);
}

bool
sotto_gofmt_parse_float(const char *s, size_t n, double *out)
{
	char sbuf[128], *buf = sbuf, *end;
	size_t i, j = 0;
	double v;
	bool ok = false;

	if (parse_special(s, n, out))
		return true;
	if (!float_syntax(s, n))
		return false;
	if (n >= sizeof(sbuf)) {
		buf = malloc(n + 1);
		if (buf == NULL)
			return false;
	}
	for (i = 0; i < n; i++)
		if (s[i] != '_')
			buf[j++] = s[i];
	buf[j] = '\0';
	v = strtod(buf, &end);
	/* ErrRange: overflow to +-Inf is an error, underflow to 0 is not */
	if (end == buf + j && !isinf(v)) {
		*out = v;
		ok = true;
	}
	if (buf != sbuf)
		free(buf);
	return ok;
}

bool
sotto_gofmt_parse_bool(const char *s, size_t n, bool *out)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true",
	    "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false",
	    "False" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strlen(yes[i]) == n && memcmp(yes[i], s, n) == 0) {
			*out = true;
			return true;
		}
		if (strlen(no[i]) == n && memcmp(no[i], s, n) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* ---- timestamps ---- */

/* A parsed time: civil fields in its own zone, offset in minutes. */
struct gotime {
	int year, month, day, hour, min, sec;
	long nsec;	/* 0..999999999 */
	int off;	/* zone offset in minutes (sign included) */
};

/* Go's getnum: one or two digits (exactly two when fixed). */
static bool
getnum(const char *s, size_t n, size_t *i, bool fixed, int *v)
{
	if (*i >= n || !isdig((unsigned char)s[*i]))
		return false;
	if (*i + 1 >= n || !isdig((unsigned char)s[*i + 1])) {
		if (fixed)
			return false;
		*v = s[*i] - '0';
		*i += 1;
		return true;
	}
	*v = (s[*i] - '0') * 10 + (s[*i + 1] - '0');
	*i += 2;
	return true;
}

static int
days_in(int month, int year)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };

	if (month == 2 && year % 4 == 0 && (year % 100 != 0 ||
	    year % 400 == 0))
		return 29;
	return d[month - 1];
}

/* Go's stdFracSecond9 after the seconds: optional [.,]digits. */
static void
frac(const char *s, size_t n, size_t *i, long *nsec)
{
	size_t k;
	long scale = 100000000;

	*nsec = 0;
	if (*i + 1 >= n || (s[*i] != '.' && s[*i] != ',') ||
	    !isdig((unsigned char)s[*i + 1]))
		return;
	for (k = *i + 1; k < n && isdig((unsigned char)s[k]); k++) {
		if (scale > 0)
			*nsec += (s[k] - '0') * scale;
		scale /= 10;
	}
	*i = k;
}

/* Go's Z07:00: "Z", or a sign, two digits, ':', two digits. */
static bool
zone(const char *s, size_t n, size_t *i, int *off)
{
	int hh, mm;
	size_t k;

	if (*i < n && s[*i] == 'Z') {
		*off = 0;
		*i += 1;
		return true;
	}
	if (n - *i < 6 || (s[*i] != '+' && s[*i] != '-') || s[*i + 3] != ':')
		return false;
	k = *i + 1;
	if (!getnum(s, *i + 3, &k, true, &hh))
		return false;
	k = *i + 4;
	if (!getnum(s, *i + 6, &k, true, &mm) || hh > 24 || mm > 60)
		return false;
	*off = (hh * 60 + mm) * (s[*i] == '-' ? -1 : 1);
	*i += 6;
	return true;
}

/* time.Parse with go-yaml v3's allowedTimestampFormats. */
static bool
parse_time(const char *s, size_t n, struct gotime *t)
{
	size_t i;
	bool utc;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < 4; i++) {
		if (i >= n || !isdig((unsigned char)s[i]))
			return false;
		t->year = t->year * 10 + (s[i] - '0');
	}
	if (i >= n || s[i++] != '-' || !getnum(s, n, &i, false, &t->month) ||
	    t->month < 1 || t->month > 12 || i >= n || s[i++] != '-' ||
	    !getnum(s, n, &i, false, &t->day) || t->day < 1 ||
	    t->day > days_in(t->month, t->year))
		return false;
	if (i == n)
		return true;			/* 2006-1-2 */
	if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
		return false;
	utc = s[i++] == ' ';
	if (!getnum(s, n, &i, false, &t->hour) || t->hour > 23 ||
	    i >= n || s[i++] != ':' || !getnum(s, n, &i, false, &t->min) ||
	    t->min > 59 || i >= n || s[i++] != ':' ||
	    !getnum(s, n, &i, false, &t->sec) || t->sec > 59)
		return false;
	frac(s, n, &i, &t->nsec);
	if (utc)
		return i == n;			/* 2006-1-2 15:4:5.9 (UTC) */
	return zone(s, n, &i, &t->off) && i == n;
}

int
sotto_gofmt_time_rfc3339(char *out, size_t cap, const char *s, size_t n,
    bool nano)
{
	struct out o = { out, cap, 0, false };
	struct gotime t;
	char b[48];
	int len, a, f;

	if (!parse_time(s, n, &t))
		return -1;
	len = snprintf(b, sizeof(b), "%04d-%02d-%02dT%02d:%02d:%02d",
	    t.year, t.month, t.day, t.hour, t.min, t.sec);
	if (len < 0 || (size_t)len >= sizeof(b))
		return -1;
	put_str(&o, b);
	if (nano && t.nsec > 0) {
		snprintf(b, sizeof(b), ".%09ld", t.nsec);
		for (f = 9; b[f] == '0'; f--)
			b[f] = '\0';
		put_str(&o, b);
	}
	if (t.off == 0)
		put(&o, 'Z');
	else {
		a = t.off < 0 ? -t.off : t.off;
		snprintf(b, sizeof(b), "%c%02d:%02d", t.off < 0 ? '-' : '+',
		    a / 60, a % 60);
		put_str(&o, b);
	}
	return finish(&o);
}
