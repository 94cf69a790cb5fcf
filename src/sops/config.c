/* SPDX-License-Identifier: ISC */
/*
 * .sops.yaml: lookup, loading into struct sotto_config, creation-rule
 * matching and the RE2 -> POSIX ERE translator.  The YAML itself is parsed
 * by the YAML store; what the rules mean for encryption belongs to the
 * sops layer that calls sotto_config_match().
 */
#include "sotto/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sotto/age.h"
#include "sotto/io.h"
#include "sotto/store.h"

#define CONFIG_NAME	".sops.yaml"
#define CONFIG_ALT_NAME	".sops.yml"
#define CONFIG_MAX_DEPTH 100
#define CONFIG_MAX_BYTES ((size_t)16 << 20)
#define MERGE_MAX_DEPTH	32
#define RE2_MAX_REPEAT	1000
#define RE2_MAX_DEPTH	100

static const char WORD_CHARS[] = "0-9A-Za-z_";
static const char SPACE_CHARS[] = "\t\n\f\r ";

/* ------------------------------------------------------------------ */
/* RE2 -> POSIX ERE                                                     */

static sotto_err
re_fail(struct sotto_error *e, const char *re2, const char *what)
{
	return sotto_error_set(e, SOTTO_E_CONFIG, "regex '%.100s%s': %s",
	    re2, strlen(re2) > 100 ? "..." : "", what);
}

/* Appends byte c as a literal outside brackets. */
static sotto_err
re_lit(struct sotto_buf *b, unsigned char c)
{
	if (c != '\0' && strchr(".[{()\\*+?^$|", c) != NULL &&
	    sotto_buf_addch(b, '\\'))
		return SOTTO_E_NOMEM;
	return sotto_buf_addch(b, c);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parses \xHH or \x{H..} at *pp (pointing after the 'x'); writes the code
 * point's UTF-8 bytes to u8 and their count to *n.
 */
static bool
re_hex(const char **pp, unsigned char u8[4], size_t *n)
{
	const char *p = *pp;
	unsigned long cp = 0;
	int h, digits = 0;

	if (*p == '{') {
		for (p++; *p != '}'; p++) {
			if ((h = hexval((unsigned char)*p)) < 0 || ++digits > 6)
				return false;
			cp = cp * 16 + (unsigned long)h;
		}
		if (digits == 0)
			return false;
		p++;
	} else {
		if (hexval((unsigned char)p[0]) < 0 ||
		    hexval((unsigned char)p[1]) < 0)
			return false;
		cp = (unsigned long)(hexval((unsigned char)p[0]) * 16 +
		    hexval((unsigned char)p[1]));
		p += 2;
	}
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return false;
	if (cp < 0x80) {
		u8[0] = (unsigned char)cp;
		*n = 1;
	} else if (cp < 0x800) {
		u8[0] = (unsigned char)(0xC0 | (cp >> 6));
		u8[1] = (unsigned char)(0x80 | (cp & 0x3F));
		*n = 2;
	} else if (cp < 0x10000) {
		u8[0] = (unsigned char)(0xE0 | (cp >> 12));
		u8[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u8[2] = (unsigned char)(0x80 | (cp & 0x3F));
		*n = 3;
	} else {
		u8[0] = (unsigned char)(0xF0 | (cp >> 18));
		u8[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		u8[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u8[3] = (unsigned char)(0x80 | (cp & 0x3F));
		*n = 4;
	}
	*pp = p;
	return true;
}

/* Control-character escapes shared by both contexts; -1 if not one. */
static int
re_ctl(int c)
{
	switch (c) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case 'f': return '\f';
	case 'v': return '\v';
	case 'a': return '\a';
	default: return -1;
	}
}

static void
set_range(unsigned char set[256], int lo, int hi)
{
	int c;

	for (c = lo; c <= hi; c++)
		set[c] = 1;
}

static void
set_chars(unsigned char set[256], const char *s)
{
	for (; *s != '\0'; s++) {
		if (s[1] == '-' && s[2] != '\0') {
			set_range(set, (unsigned char)s[0],
			    (unsigned char)s[2]);
			s += 2;
		} else {
			set[(unsigned char)*s] = 1;
		}
	}
}

static const struct {
	const char *name;
	int (*fn)(int);
} posix_classes[] = {
	{ "alnum", isalnum }, { "alpha", isalpha }, { "blank", isblank },
	{ "cntrl", iscntrl }, { "digit", isdigit }, { "graph", isgraph },
	{ "lower", islower }, { "print", isprint }, { "punct", ispunct },
	{ "space", isspace }, { "upper", isupper }, { "xdigit", isxdigit },
};
#define NPOSIX (sizeof(posix_classes) / sizeof(posix_classes[0]))

/*
 * One class item at *pp: a single char (*lo == *hi, *single true) or a
 * multi-char set already added to set (*single false).
 */
static sotto_err
re_class_item(const char **pp, unsigned char set[256], int *ch, bool *single,
    const char *re2, struct sotto_error *e)
{
	const char *p = *pp;
	unsigned char u8[4];
	size_t n, i;
	int c;

	*single = false;
	if (p[0] == '[' && p[1] == ':') {
		const char *end = strstr(p + 2, ":]");

		if (end == NULL)
			return re_fail(e, re2,
			    "missing ':]' in character class");
		n = (size_t)(end - (p + 2));
		if (n == 5 && memcmp(p + 2, "ascii", 5) == 0) {
			set_range(set, 1, 127);
		} else if (n == 4 && memcmp(p + 2, "word", 4) == 0) {
			set_chars(set, WORD_CHARS);
		} else {
			for (i = 0; i < NPOSIX; i++)
				if (strlen(posix_classes[i].name) == n &&
				    memcmp(p + 2, posix_classes[i].name,
				    n) == 0)
					break;
			if (i == NPOSIX)
				return re_fail(e, re2,
				    "unsupported character class name");
			for (c = 1; c < 128; c++)
				if (posix_classes[i].fn(c))
					set[c] = 1;
		}
		*pp = end + 2;
		return SOTTO_OK;
	}
	if ((unsigned char)*p >= 0x80)
		return re_fail(e, re2,
		    "non-ASCII characters in [...] are not supported");
	if (*p != '\\') {
		*ch = (unsigned char)*p;
		*single = true;
		*pp = p + 1;
		return SOTTO_OK;
	}
	p++;
	c = (unsigned char)*p;
	if (c == '\0')
		return re_fail(e, re2, "trailing backslash");
	p++;
	switch (c) {
	case 'd':
		set_chars(set, "0-9");
		break;
	case 'w':
		set_chars(set, WORD_CHARS);
		break;
	case 's':
		set_chars(set, SPACE_CHARS);
		break;
	case 'D': case 'W': case 'S':
		return re_fail(e, re2, "\\D, \\W and \\S inside [...] are not "
		    "supported");
	case 'p': case 'P':
		return re_fail(e, re2, "unicode classes (\\p) are not "
		    "supported");
	case 'x':
		if (!re_hex(&p, u8, &n) || n != 1)
			return re_fail(e, re2, "invalid or non-ASCII \\x "
			    "escape in [...]");
		*ch = u8[0];
		*single = true;
		break;
	default:
		if (re_ctl(c) >= 0) {
			*ch = re_ctl(c);
			*single = true;
		} else if (ispunct(c)) {
			*ch = c;
			*single = true;
		} else {
			return re_fail(e, re2, "invalid escape in [...]");
		}
	}
	*pp = p;
	return SOTTO_OK;
}

/* Translates a [...] class at *pp (pointing at '[') into b. */
static sotto_err
re_class(struct sotto_buf *b, const char **pp, const char *re2,
    struct sotto_error *e)
{
	unsigned char set[256];
	const char *p = *pp + 1;
	bool neg = false, single, first = true;
	int lo, hi, c, run, count = 0, only = 0;
	sotto_err err;

	memset(set, 0, sizeof(set));
	if (*p == '^') {
		neg = true;
		p++;
	}
	for (;;) {
		if (*p == '\0')
			return re_fail(e, re2, "missing ']'");
		if (*p == ']' && !first)
			break;
		first = false;
		if (*p == ']') {
			lo = ']';
			single = true;
			p++;
		} else if ((err = re_class_item(&p, set, &lo, &single, re2,
		    e)) != SOTTO_OK) {
			return err;
		}
		if (!single)
			continue;
		if (p[0] == '-' && p[1] != ']' && p[1] != '\0') {
			p++;
			if ((err = re_class_item(&p, set, &hi, &single, re2,
			    e)) != SOTTO_OK)
				return err;
			if (!single)
				return re_fail(e, re2,
				    "invalid range in [...]");
			if (hi < lo)
				return re_fail(e, re2,
				    "invalid range order in [...]");
			set_range(set, lo, hi);
		} else {
			set[lo] = 1;
		}
	}
	*pp = p + 1;
	set[0] = 0;
	for (c = 1; c < 256; c++)
		if (set[c]) {
			count++;
			only = c;
		}
	if (count == 0)
		/* an empty class cannot come out of the parser above */
		return re_fail(e, re2, "empty character class");
	if (count == 1 && !neg)
		return re_lit(b, (unsigned char)only) ? SOTTO_E_NOMEM :
		    SOTTO_OK;
	/* ERE order: ']' first, '[' '^' '-' last, no escapes inside */
	if (sotto_buf_addstr(b, neg ? "[^" : "["))
		return SOTTO_E_NOMEM;
	if (set[']'] && sotto_buf_addch(b, ']'))
		return SOTTO_E_NOMEM;
	for (c = 1; c < 256; c++) {
		if (!set[c] || c == ']' || c == '[' || c == '^' || c == '-')
			continue;
		run = c;
		while (run + 1 < 256 && set[run + 1] && run + 1 != ']' &&
		    run + 1 != '[' && run + 1 != '^' && run + 1 != '-')
			run++;
		if (sotto_buf_addch(b, c))
			return SOTTO_E_NOMEM;
		if (run - c >= 2 && sotto_buf_addf(b, "-%c", run))
			return SOTTO_E_NOMEM;
		else if (run - c == 1 && sotto_buf_addch(b, run))
			return SOTTO_E_NOMEM;
		c = run;
	}
	if (set['['] && sotto_buf_addch(b, '['))
		return SOTTO_E_NOMEM;
	if (set['^'] && sotto_buf_addch(b, '^'))
		return SOTTO_E_NOMEM;
	if (set['-'] && sotto_buf_addch(b, '-'))
		return SOTTO_E_NOMEM;
	return sotto_buf_addch(b, ']');
}

/* True if p (after '{') is n}, n,} or n,m} with n <= m <= 1000. */
static bool
re_interval(const char *p, size_t *len, bool *toolarge, long *plo,
    long *phi)
{
	const char *s = p;
	long lo = 0, hi = -1;

	*toolarge = false;
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		if ((lo = lo * 10 + (*p++ - '0')) > 100000)
			return false;
	if (*p == ',') {
		p++;
		if (isdigit((unsigned char)*p)) {
			hi = 0;
			while (isdigit((unsigned char)*p))
				if ((hi = hi * 10 + (*p++ - '0')) > 100000)
					return false;
		}
	} else {
		hi = lo;
	}
	if (*p != '}')
		return false;
	if (lo > RE2_MAX_REPEAT || hi > RE2_MAX_REPEAT ||
	    (hi >= 0 && hi < lo))
		*toolarge = true;
	*len = (size_t)(p + 1 - s);
	*plo = lo;
	*phi = hi;
	return true;
}

/* What the translator emitted last, for RE2's repetition checks. */
enum re_last { L_NONE, L_ATOM, L_ASSERT, L_GROUP, L_QUANT };

static sotto_err
re_repeat_ok(enum re_last last, const char *re2, struct sotto_error *e)
{
	switch (last) {
	case L_NONE:
		return re_fail(e, re2, "missing argument to repetition "
		    "operator");
	case L_ASSERT:
		return re_fail(e, re2, "repeating an anchor is not "
		    "supported");
	case L_QUANT:
		return re_fail(e, re2, "invalid nested repetition operator");
	default:
		return SOTTO_OK;
	}
}

static sotto_err
re_translate(struct sotto_buf *b, int *cflags, const char *re2,
    struct sotto_error *e)
{
	const char *p = re2;
	bool dotall = false, toolarge;
	unsigned char u8[4];
	size_t n, i, depth = 0;
	long prod[RE2_MAX_DEPTH + 1], grp = 1, lo, hi, tot;
	enum re_last last = L_NONE;
	int c;
	sotto_err err;

	prod[0] = 1;

	/* leading flag group: (?i) (?s) (?is) */
	if (p[0] == '(' && p[1] == '?' && (p[2] == 'i' || p[2] == 's')) {
		const char *q = p + 2;

		while (*q == 'i' || *q == 's')
			q++;
		if (*q == ')') {
			for (q = p + 2; *q != ')'; q++)
				if (*q == 'i')
					*cflags |= REG_ICASE;
				else
					dotall = true;
			p = q + 1;
		}
	}
	while (*p != '\0') {
		c = (unsigned char)*p;
		switch (c) {
		case '\\':
			p++;
			c = (unsigned char)*p;
			if (c == '\0')
				return re_fail(e, re2, "trailing backslash");
			p++;
			switch (c) {
			case 'd': err = sotto_buf_addstr(b, "[0-9]"); break;
			case 'D': err = sotto_buf_addstr(b, "[^0-9]"); break;
			case 'w': err = sotto_buf_addstr(b, "[0-9A-Za-z_]");
				break;
			case 'W': err = sotto_buf_addstr(b, "[^0-9A-Za-z_]");
				break;
			case 's': err = sotto_buf_addstr(b, "[\t\n\f\r ]");
				break;
			case 'S': err = sotto_buf_addstr(b, "[^\t\n\f\r ]");
				break;
			case 'A': err = sotto_buf_addch(b, '^'); break;
			case 'z': err = sotto_buf_addch(b, '$'); break;
			case 'b': err = sotto_buf_addstr(b, "\\b"); break;
			case 'B': err = sotto_buf_addstr(b, "\\B"); break;
			case 'x':
				if (!re_hex(&p, u8, &n))
					return re_fail(e, re2,
					    "invalid \\x escape");
				err = SOTTO_OK;
				for (i = 0; i < n && err == SOTTO_OK; i++)
					err = re_lit(b, u8[i]);
				break;
			case 'Q':
				err = SOTTO_OK;
				while (*p != '\0' && err == SOTTO_OK &&
				    !(p[0] == '\\' && p[1] == 'E'))
					err = re_lit(b, (unsigned char)*p++);
				if (*p != '\0')
					p += 2;
				break;
			case 'p': case 'P':
				return re_fail(e, re2, "unicode classes (\\p) "
				    "are not supported");
			default:
				if (re_ctl(c) >= 0)
					err = re_lit(b,
					    (unsigned char)re_ctl(c));
				else if (ispunct(c))
					err = re_lit(b, (unsigned char)c);
				else if (isdigit(c))
					return re_fail(e, re2, "backreferences "
					    "and octal escapes are not "
					    "supported");
				else
					return re_fail(e, re2,
					    "invalid escape sequence");
			}
			if (err != SOTTO_OK)
				return SOTTO_E_NOMEM;
			last = strchr("AzbB", c) != NULL ? L_ASSERT : L_ATOM;
			continue;
		case '[':
			if ((err = re_class(b, &p, re2, e)) != SOTTO_OK)
				return err;
			last = L_ATOM;
			continue;
		case ')':
			if (depth == 0)
				return re_fail(e, re2, "unexpected ')'");
			grp = prod[depth--];
			if (grp > prod[depth])
				prod[depth] = grp;
			p++;
			last = L_GROUP;
			if (sotto_buf_addch(b, ')'))
				return SOTTO_E_NOMEM;
			continue;
		case '|':
			p++;
			last = L_NONE;
			if (sotto_buf_addch(b, '|'))
				return SOTTO_E_NOMEM;
			continue;
		case '(':
			if (depth == RE2_MAX_DEPTH)
				return re_fail(e, re2, "nested too deeply");
			prod[++depth] = 1;
			last = L_NONE;
			if (p[1] != '?') {
				p++;
				if (sotto_buf_addch(b, '('))
					return SOTTO_E_NOMEM;
				continue;
			}
			if (p[2] == ':') {
				p += 3;
			} else if ((p[2] == 'P' && p[3] == '<') ||
			    (p[2] == '<' && isalpha((unsigned char)p[3]))) {
				const char *q = strchr(p, '>');

				if (q == NULL)
					return re_fail(e, re2,
					    "invalid named group");
				p = q + 1;
			} else if (p[2] == '=' || p[2] == '!' || (p[2] == '<' &&
			    (p[3] == '=' || p[3] == '!'))) {
				return re_fail(e, re2, "lookarounds are not "
				    "supported");
			} else {
				return re_fail(e, re2, "flags other than a "
				    "leading (?i) or (?s) are not supported");
			}
			if (sotto_buf_addch(b, '('))
				return SOTTO_E_NOMEM;
			continue;
		case '*': case '+': case '?':
			if ((err = re_repeat_ok(last, re2, e)) != SOTTO_OK)
				return err;
			last = L_QUANT;
			p++;
			if (sotto_buf_addch(b, c))
				return SOTTO_E_NOMEM;
			if (*p == '?')		/* lazy: same match set */
				p++;
			continue;
		case '{':
			if (!re_interval(p + 1, &n, &toolarge, &lo, &hi)) {
				p++;
				last = L_ATOM;
				if (sotto_buf_addstr(b, "\\{"))
					return SOTTO_E_NOMEM;
				continue;
			}
			if ((err = re_repeat_ok(last, re2, e)) != SOTTO_OK)
				return err;
			/* like Go: nested counted repeats multiply */
			tot = (hi > lo ? hi : lo) * (last == L_GROUP ? grp : 1);
			if (toolarge || tot > RE2_MAX_REPEAT)
				return re_fail(e, re2, "invalid repeat count");
			if (tot > prod[depth])
				prod[depth] = tot;
			last = L_QUANT;
			if (sotto_buf_add(b, p, n + 1))
				return SOTTO_E_NOMEM;
			p += n + 1;
			if (*p == '?')
				p++;
			continue;
		case '.':
			p++;
			last = L_ATOM;
			if (sotto_buf_addstr(b, dotall ? "." : "[^\n]"))
				return SOTTO_E_NOMEM;
			continue;
		default:
			p++;
			last = c == '^' || c == '$' ? L_ASSERT : L_ATOM;
			if (sotto_buf_addch(b, c))
				return SOTTO_E_NOMEM;
		}
	}
	if (depth > 0)
		return re_fail(e, re2, "missing ')'");
	return SOTTO_OK;
}

sotto_err
sotto_config_regex_compile(regex_t *out, const char *re2,
    struct sotto_error *e)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	char msg[128];
	int cflags = REG_EXTENDED | REG_NOSUB, rc;
	sotto_err err;

	if (sotto_buf_grow(&b, strlen(re2) * 2 + 16)) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	err = re_translate(&b, &cflags, re2, e);
	if (err == SOTTO_E_NOMEM)
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if (err != SOTTO_OK)
		goto out;
	rc = regcomp(out, (const char *)b.data, cflags);
	if (rc != 0) {
		regerror(rc, NULL, msg, sizeof(msg));
		err = re_fail(e, re2, msg);
	}
out:
	sotto_buf_release(&b);
	return err;
}

/* ------------------------------------------------------------------ */
/* paths                                                                */

/* Makes p absolute against the cwd and removes ".", ".." and "//". */
static char *
abs_clean(const char *p)
{
	struct sotto_buf in = SOTTO_BUF_INIT, outb = SOTTO_BUF_INIT;
	char cwd[PATH_MAX];
	const char *s, *seg;
	size_t n, cut;

	if (p[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return NULL;
		if (sotto_buf_addstr(&in, cwd) || sotto_buf_addch(&in, '/'))
			goto fail;
	}
	if (sotto_buf_addstr(&in, p) || sotto_buf_grow(&outb, in.len + 1))
		goto fail;
	s = (const char *)in.data;
	while (*s != '\0') {
		while (*s == '/')
			s++;
		seg = s;
		while (*s != '\0' && *s != '/')
			s++;
		n = (size_t)(s - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			cut = outb.len;
			while (cut > 0 && outb.data[cut - 1] != '/')
				cut--;
			sotto_buf_truncate(&outb, cut > 0 ? cut - 1 : 0);
			continue;
		}
		if (sotto_buf_addch(&outb, '/') || sotto_buf_add(&outb, seg, n))
			goto fail;
	}
	if (outb.len == 0 && sotto_buf_addch(&outb, '/'))
		goto fail;
	sotto_buf_release(&in);
	return (char *)sotto_buf_detach(&outb, NULL);
fail:
	sotto_buf_release(&in);
	sotto_buf_release(&outb);
	return NULL;
}

/* The directory part of p ("." when there is none). */
static char *
dir_of(const char *p)
{
	const char *slash = strrchr(p, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == p)
		return strdup("/");
	return strndup(p, (size_t)(slash - p));
}

static bool
path_exists(const char *dir, const char *name, char **joined)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	struct stat st;

	*joined = NULL;
	if (sotto_buf_addstr(&b, dir) ||
	    (strcmp(dir, "/") != 0 && sotto_buf_addch(&b, '/')) ||
	    sotto_buf_addstr(&b, name)) {
		sotto_buf_release(&b);
		return false;
	}
	if (stat((const char *)b.data, &st) != 0) {
		sotto_buf_release(&b);
		return false;
	}
	*joined = (char *)sotto_buf_detach(&b, NULL);
	return true;
}

sotto_err
sotto_config_find(char **path_out, char **warning_out, const char *start_dir,
    struct sotto_error *e)
{
	struct sotto_buf w = SOTTO_BUF_INIT;
	char *dir = NULL, *hit = NULL, *alt = NULL, *slash;
	int i;
	sotto_err err = SOTTO_OK;

	*path_out = NULL;
	if (warning_out != NULL)
		*warning_out = NULL;
	if ((dir = abs_clean(start_dir)) == NULL) {
		err = sotto_error_set(e, SOTTO_E_IO,
		    "'%s': cannot make the path absolute", start_dir);
		goto out;
	}
	for (i = 0; i < CONFIG_MAX_DEPTH; i++) {
		if (path_exists(dir, CONFIG_NAME, &hit))
			break;
		if (alt == NULL)
			(void)path_exists(dir, CONFIG_ALT_NAME, &alt);
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else if (slash != NULL)
			*slash = '\0';
	}
	if (alt != NULL && warning_out != NULL) {
		if (sotto_buf_addf(&w, "ignoring '%s' when searching for "
		    "config file; the config file must be called '%s'",
		    alt, CONFIG_NAME) ||
		    (hit != NULL &&
		    sotto_buf_addf(&w, "; using '%s' instead", hit))) {
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
			goto out;
		}
		*warning_out = (char *)sotto_buf_detach(&w, NULL);
	}
	*path_out = hit;
	hit = NULL;
out:
	sotto_buf_release(&w);
	free(dir);
	free(hit);
	free(alt);
	return err;
}

/* ------------------------------------------------------------------ */
/* loading                                                              */

struct loader {
	const char *path;		/* config name for messages */
	size_t rule;			/* current rule index */
	const char *where;		/* "" or " key_groups[i]" context */
	struct sotto_error *e;		/* error out */
};

/* "'<path>' creation_rules[i]<where>: <fmt with field>" */
static sotto_err
lfail(struct loader *l, const char *fmt, const char *field)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, field);
	return sotto_error_set(l->e, SOTTO_E_CONFIG,
	    "'%s' creation_rules[%zu]%s: %s", l->path, l->rule, l->where, msg);
}

static bool
is_null(const struct sotto_node *n)
{
	return n == NULL || (n->kind == SOTTO_NODE_SCALAR &&
	    n->type == SOTTO_T_NULL);
}

/* Iterates the non-comment items of a MAP or SEQ. */
static const struct sotto_entry *
next_item(const struct sotto_node *n, size_t *i)
{
	while (*i < n->n) {
		const struct sotto_entry *it = &n->items[(*i)++];

		if (it->val != NULL && it->val->kind != SOTTO_NODE_COMMENT &&
		    (n->kind == SOTTO_NODE_SEQ || it->key != NULL))
			return it;
	}
	return NULL;
}

static size_t
count_items(const struct sotto_node *n)
{
	size_t i = 0, c = 0;

	while (next_item(n, &i) != NULL)
		c++;
	return c;
}

/* Copies a scalar field; NULL/absent/"" gives *out NULL. */
static sotto_err
get_str(struct loader *l, const struct sotto_node *map, const char *key,
    char **out)
{
	const struct sotto_node *n = sotto_tree_map_get(map, key);

	*out = NULL;
	if (is_null(n))
		return SOTTO_OK;
	if (n->kind != SOTTO_NODE_SCALAR)
		return lfail(l, "'%s' must be a string", key);
	if (n->len == 0)
		return SOTTO_OK;
	if ((*out = strdup(n->text)) == NULL)
		return sotto_error_set(l->e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

static sotto_err
get_bool(struct loader *l, const struct sotto_node *map, const char *key,
    bool *out)
{
	static const char *yes[] = { "true", "yes", "y", "on" };
	static const char *no[] = { "false", "no", "n", "off" };
	const struct sotto_node *n = sotto_tree_map_get(map, key);
	size_t i;

	*out = false;
	if (is_null(n))
		return SOTTO_OK;
	if (n->kind == SOTTO_NODE_SCALAR && (n->type == SOTTO_T_BOOL ||
	    n->type == SOTTO_T_STR)) {
		for (i = 0; i < 4; i++) {
			if (strcasecmp(n->text, yes[i]) == 0) {
				*out = true;
				return SOTTO_OK;
			}
			if (strcasecmp(n->text, no[i]) == 0)
				return SOTTO_OK;
		}
	}
	return lfail(l, "'%s' must be true or false", key);
}

/* An integer scalar in [lo, hi]; absent/null leaves *out unchanged. */
static sotto_err
get_int(struct loader *l, const struct sotto_node *map, const char *key,
    long lo, long hi, int *out)
{
	const struct sotto_node *n = sotto_tree_map_get(map, key);
	char *end;
	long v;

	if (is_null(n))
		return SOTTO_OK;
	if (n->kind != SOTTO_NODE_SCALAR || n->type != SOTTO_T_INT)
		return lfail(l, "'%s' must be an integer", key);
	errno = 0;
	v = strtol(n->text, &end, 0);
	if (errno != 0 || *end != '\0' || end == n->text || v < lo || v > hi)
		return lfail(l, "'%s' is out of range", key);
	*out = (int)v;
	return SOTTO_OK;
}

/* Appends s split on ',' (trimmed, empty entries skipped) to v. */
static sotto_err
split_add(char ***v, size_t *n, const char *s)
{
	const char *a, *b, *end;
	char **nv;

	while (*s != '\0') {
		end = strchr(s, ',');
		if (end == NULL)
			end = s + strlen(s);
		a = s;
		b = end;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b > a) {
			nv = realloc(*v, (*n + 1) * sizeof(**v));
			if (nv == NULL)
				return SOTTO_E_NOMEM;
			*v = nv;
			if ((nv[*n] = strndup(a, (size_t)(b - a))) == NULL)
				return SOTTO_E_NOMEM;
			(*n)++;
		}
		s = *end == ',' ? end + 1 : end;
	}
	return SOTTO_OK;
}

/*
 * A key field: a string (comma list) or, when list_ok, a list of strings
 * (each may itself be a comma list).  strings NULL = only count.
 */
static sotto_err
key_field(struct loader *l, const struct sotto_node *n, const char *key,
    bool scalar_ok, char ***v, size_t *nv, size_t *count)
{
	const struct sotto_entry *it;
	char **tmp = NULL;
	size_t i = 0, ntmp = 0, k;
	sotto_err err = SOTTO_OK;

	if (is_null(n))
		return SOTTO_OK;
	if (v == NULL) {
		v = &tmp;
		nv = &ntmp;
	}
	if (n->kind == SOTTO_NODE_SCALAR && scalar_ok) {
		err = split_add(v, nv, n->text);
	} else if (n->kind == SOTTO_NODE_SEQ) {
		while (err == SOTTO_OK && (it = next_item(n, &i)) != NULL) {
			if (it->val->kind == SOTTO_NODE_MAP && v == &tmp) {
				(*count)++;	/* kms/gcp_kms/... entries */
				continue;
			}
			if (it->val->kind != SOTTO_NODE_SCALAR) {
				err = lfail(l, "'%s' entries must be strings",
				    key);
				goto out;
			}
			if (!is_null(it->val))
				err = split_add(v, nv, it->val->text);
		}
	} else {
		err = lfail(l, scalar_ok ? "'%s' must be a string or a list" :
		    "'%s' must be a list", key);
		goto out;
	}
	if (err == SOTTO_E_NOMEM)
		err = sotto_error_set(l->e, SOTTO_E_NOMEM, "out of memory");
	if (v == &tmp)
		*count += ntmp;
out:
	for (k = 0; k < ntmp; k++)
		free(tmp[k]);
	free(tmp);
	return err;
}

static const struct {
	const char *flat;	/* creation-rule field, NULL if none */
	const char *group;	/* key_groups field */
	unsigned bit;
	const char *name;	/* for messages */
} other_keys[] = {
	{ "pgp", "pgp", SOTTO_CONFIG_KEY_PGP, "pgp" },
	{ "kms", "kms", SOTTO_CONFIG_KEY_KMS, "kms" },
	{ "gcp_kms", "gcp_kms", SOTTO_CONFIG_KEY_GCP_KMS, "gcp_kms" },
	{ "azure_keyvault", "azure_keyvault", SOTTO_CONFIG_KEY_AZURE_KV,
	    "azure_keyvault" },
	{ "hc_vault_transit_uri", "hc_vault", SOTTO_CONFIG_KEY_HC_VAULT,
	    "hc_vault" },
	{ "hckms", "hckms", SOTTO_CONFIG_KEY_HCKMS, "hckms" },
	{ "plugins", "plugins", SOTTO_CONFIG_KEY_PLUGIN, "plugins" },
};
#define NOTHER (sizeof(other_keys) / sizeof(other_keys[0]))

sotto_err
sotto_config_key_types(struct sotto_buf *b, unsigned types)
{
	size_t i;
	bool first = true;

	for (i = 0; i < NOTHER; i++) {
		if (!(types & other_keys[i].bit))
			continue;
		if (sotto_buf_addf(b, "%s%s", first ? "" : ", ",
		    other_keys[i].name))
			return SOTTO_E_NOMEM;
		first = false;
	}
	return SOTTO_OK;
}

/* Adds the key fields of one key_groups entry (and its merges) to g. */
static sotto_err
parse_group(struct loader *l, const struct sotto_node *m,
    struct sotto_config_group *g, int depth)
{
	const struct sotto_node *merge;
	const struct sotto_entry *it;
	size_t i = 0, k, before;
	sotto_err err;

	if (is_null(m))
		return SOTTO_OK;
	if (m->kind != SOTTO_NODE_MAP)
		return lfail(l, "%s must be a map", "key group");
	if (depth > MERGE_MAX_DEPTH)
		return lfail(l, "%s nested too deeply", "merge");
	merge = sotto_tree_map_get(m, "merge");
	if (!is_null(merge)) {
		if (merge->kind != SOTTO_NODE_SEQ)
			return lfail(l, "'%s' must be a list", "merge");
		while ((it = next_item(merge, &i)) != NULL)
			if ((err = parse_group(l, it->val, g, depth + 1)))
				return err;
	}
	if ((err = key_field(l, sotto_tree_map_get(m, "age"), "age", false,
	    &g->age, &g->nage, NULL)) != SOTTO_OK)
		return err;
	for (k = 0; k < NOTHER; k++) {
		before = g->nother;
		if ((err = key_field(l, sotto_tree_map_get(m,
		    other_keys[k].group), other_keys[k].group, false, NULL,
		    NULL, &g->nother)) != SOTTO_OK)
			return err;
		if (g->nother > before)
			g->other_types |= other_keys[k].bit;
	}
	return SOTTO_OK;
}

/* Removes duplicate recipients, keeping the first. */
static void
dedup_group(struct sotto_config_group *g)
{
	size_t i, j, n = 0;

	for (i = 0; i < g->nage; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(g->age[j], g->age[i]) == 0)
				break;
		if (j < n) {
			free(g->age[i]);
			continue;
		}
		g->age[n++] = g->age[i];
	}
	g->nage = n;
}

static sotto_err
add_group(struct sotto_config_rule *r, struct sotto_config_group **g)
{
	struct sotto_config_group *ng;

	ng = realloc(r->groups, (r->ngroups + 1) * sizeof(*ng));
	if (ng == NULL)
		return SOTTO_E_NOMEM;
	r->groups = ng;
	memset(&ng[r->ngroups], 0, sizeof(*ng));
	*g = &ng[r->ngroups++];
	return SOTTO_OK;
}

/* Records a deferred rule error (the first one wins). */
static sotto_err
defer(struct sotto_config_rule *r, struct loader *l, sotto_err code,
    const char *msg)
{
	if (r->code != SOTTO_OK)
		return SOTTO_OK;
	if (asprintf(&r->msg, "'%s' creation_rules[%zu]: %s", l->path,
	    l->rule, msg) < 0) {
		r->msg = NULL;
		return sotto_error_set(l->e, SOTTO_E_NOMEM, "out of memory");
	}
	r->code = code;
	return SOTTO_OK;
}

/* The checks sops makes when a rule is selected. */
static sotto_err
check_rule(struct loader *l, struct sotto_config_rule *r)
{
	struct sotto_age_recipient *rec = NULL;
	struct sotto_error ae = { SOTTO_OK, "" };
	char msg[SOTTO_ERROR_MSG_MAX];
	size_t g, k;
	int sel;

	sel = (r->unencrypted_suffix != NULL) + (r->encrypted_suffix != NULL) +
	    (r->unencrypted_regex != NULL) + (r->encrypted_regex != NULL) +
	    (r->unencrypted_comment_regex != NULL) +
	    (r->encrypted_comment_regex != NULL);
	if (sel > 1)
		return defer(r, l, SOTTO_E_CONFIG, "cannot use more than one "
		    "of encrypted_suffix, unencrypted_suffix, "
		    "encrypted_regex, unencrypted_regex, "
		    "encrypted_comment_regex, or unencrypted_comment_regex "
		    "for the same rule");
	for (g = 0; g < r->ngroups; g++) {
		for (k = 0; k < r->groups[g].nage; k++) {
			if (sotto_age_recipient_parse(&rec, r->groups[g].age[k],
			    &ae) != SOTTO_OK) {
				snprintf(msg, sizeof(msg), "key group %zu: "
				    "age recipient %zu: %.400s", g, k + 1,
				    ae.msg);
				return defer(r, l, SOTTO_E_CONFIG, msg);
			}
			sotto_age_recipient_free(rec);
			rec = NULL;
		}
	}
	return SOTTO_OK;
}

static sotto_err
parse_rule(struct loader *l, const struct sotto_node *m,
    struct sotto_config_rule *r)
{
	struct sotto_config_group *g;
	const struct sotto_node *kg;
	const struct sotto_entry *it;
	struct sotto_error re_e = { SOTTO_OK, "" };
	char where[48];
	size_t i = 0, gi = 0, k, before;
	sotto_err err;

	r->index = l->rule;
	if (is_null(m))
		return SOTTO_OK;	/* a null rule matches everything */
	if (m->kind != SOTTO_NODE_MAP)
		return lfail(l, "%s must be a map", "the rule");
	if ((err = get_str(l, m, "path_regex", &r->path_regex)) ||
	    (err = get_str(l, m, "unencrypted_suffix",
	    &r->unencrypted_suffix)) ||
	    (err = get_str(l, m, "encrypted_suffix", &r->encrypted_suffix)) ||
	    (err = get_str(l, m, "unencrypted_regex",
	    &r->unencrypted_regex)) ||
	    (err = get_str(l, m, "encrypted_regex", &r->encrypted_regex)) ||
	    (err = get_str(l, m, "unencrypted_comment_regex",
	    &r->unencrypted_comment_regex)) ||
	    (err = get_str(l, m, "encrypted_comment_regex",
	    &r->encrypted_comment_regex)) ||
	    (err = get_bool(l, m, "mac_only_encrypted",
	    &r->mac_only_encrypted)) ||
	    (err = get_int(l, m, "shamir_threshold", 0, 255,
	    &r->shamir_threshold)))
		return err;
	kg = sotto_tree_map_get(m, "key_groups");
	if (!is_null(kg) && kg->kind != SOTTO_NODE_SEQ)
		return lfail(l, "'%s' must be a list", "key_groups");
	if (!is_null(kg) && count_items(kg) > 0) {
		r->has_key_groups = true;
		while ((it = next_item(kg, &i)) != NULL) {
			if (add_group(r, &g))
				return sotto_error_set(l->e, SOTTO_E_NOMEM,
				    "out of memory");
			snprintf(where, sizeof(where), " key_groups[%zu]",
			    gi++);
			l->where = where;
			err = parse_group(l, it->val, g, 0);
			l->where = "";
			if (err != SOTTO_OK)
				return err;
			dedup_group(g);
		}
	} else {
		if (add_group(r, &g))
			return sotto_error_set(l->e, SOTTO_E_NOMEM,
			    "out of memory");
		if ((err = key_field(l, sotto_tree_map_get(m, "age"), "age",
		    true, &g->age, &g->nage, NULL)) != SOTTO_OK)
			return err;
		for (k = 0; k < NOTHER; k++) {
			before = g->nother;
			if ((err = key_field(l, sotto_tree_map_get(m,
			    other_keys[k].flat), other_keys[k].flat,
			    other_keys[k].bit != SOTTO_CONFIG_KEY_HCKMS &&
			    other_keys[k].bit != SOTTO_CONFIG_KEY_PLUGIN, NULL,
			    NULL, &g->nother)) != SOTTO_OK)
				return err;
			if (g->nother > before)
				g->other_types |= other_keys[k].bit;
		}
		dedup_group(g);
	}
	if (r->path_regex != NULL) {
		regex_t *re = calloc(1, sizeof(*re));

		if (re == NULL)
			return sotto_error_set(l->e, SOTTO_E_NOMEM,
			    "out of memory");
		if (sotto_config_regex_compile(re, r->path_regex, &re_e)) {
			free(re);
			if (re_e.code == SOTTO_E_NOMEM)
				return sotto_error_set(l->e, SOTTO_E_NOMEM,
				    "out of memory");
			r->re_code = re_e.code;
			if (asprintf(&r->re_msg, "'%s' creation_rules[%zu]: "
			    "path_regex: %s", l->path, l->rule, re_e.msg) < 0) {
				r->re_msg = NULL;
				return sotto_error_set(l->e, SOTTO_E_NOMEM,
				    "out of memory");
			}
		} else {
			r->re = re;
		}
	}
	return check_rule(l, r);
}

/* stores.<name>.indent */
static sotto_err
store_indent(struct sotto_error *e, const char *path,
    const struct sotto_node *stores, const char *name, int *out, int min)
{
	const struct sotto_node *s = sotto_tree_map_get(stores, name);
	struct loader l = { path, 0, "", e };

	if (is_null(s))
		return SOTTO_OK;
	if (s->kind != SOTTO_NODE_MAP)
		return sotto_error_set(e, SOTTO_E_CONFIG,
		    "'%s' stores.%s: must be a map", path, name);
	if (get_int(&l, s, "indent", INT_MIN, INT_MAX, out) != SOTTO_OK ||
	    *out < min)
		return sotto_error_set(e, SOTTO_E_CONFIG,
		    "'%s' stores.%s.indent: must be an integer >= %d", path,
		    name, min);
	return SOTTO_OK;
}

sotto_err
sotto_config_from_doc(struct sotto_config **out, const struct sotto_doc *doc,
    const char *path, struct sotto_error *e)
{
	struct sotto_config *c;
	const struct sotto_node *root = NULL, *cr, *stores;
	const struct sotto_entry *it;
	struct loader l = { path, 0, "", e };
	size_t i = 0, n;
	sotto_err err = SOTTO_OK;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	c->yaml_indent = 4;
	c->json_indent = -1;
	c->json_binary_indent = -1;
	if ((c->path = strdup(path)) == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	{
		char *d = dir_of(path);

		c->dir = d != NULL ? abs_clean(d) : NULL;
		free(d);
		if (c->dir == NULL) {
			err = sotto_error_set(e, SOTTO_E_IO,
			    "'%s': cannot make the path absolute", path);
			goto out;
		}
	}
	if (doc != NULL && doc->n > 0)
		root = doc->branches[0];
	if (is_null(root))
		goto out;
	if (root->kind != SOTTO_NODE_MAP) {
		err = sotto_error_set(e, SOTTO_E_CONFIG,
		    "'%s': the config must be a map", path);
		goto out;
	}
	stores = sotto_tree_map_get(root, "stores");
	if (!is_null(stores)) {
		if (stores->kind != SOTTO_NODE_MAP) {
			err = sotto_error_set(e, SOTTO_E_CONFIG,
			    "'%s' stores: must be a map", path);
			goto out;
		}
		if ((err = store_indent(e, path, stores, "yaml",
		    &c->yaml_indent, 0)) ||
		    (err = store_indent(e, path, stores, "json",
		    &c->json_indent, -1)) ||
		    (err = store_indent(e, path, stores, "json_binary",
		    &c->json_binary_indent, -1)))
			goto out;
		if (c->yaml_indent == 0)
			c->yaml_indent = 4;
	}
	cr = sotto_tree_map_get(root, "creation_rules");
	if (is_null(cr))
		goto out;
	if (cr->kind != SOTTO_NODE_SEQ) {
		err = sotto_error_set(e, SOTTO_E_CONFIG,
		    "'%s' creation_rules: must be a list", path);
		goto out;
	}
	c->has_creation_rules = true;
	n = count_items(cr);
	if (n > 0 && (c->rules = calloc(n, sizeof(*c->rules))) == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	while ((it = next_item(cr, &i)) != NULL) {
		l.rule = c->nrules;
		c->nrules++;
		if ((err = parse_rule(&l, it->val,
		    &c->rules[c->nrules - 1])) != SOTTO_OK)
			goto out;
	}
out:
	if (err != SOTTO_OK) {
		sotto_config_free(c);
		return err;
	}
	*out = c;
	return SOTTO_OK;
}

sotto_err
sotto_config_parse(struct sotto_config **out, const uint8_t *src, size_t len,
    const char *path, struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_doc *doc = NULL;
	sotto_err err;

	*out = NULL;
	lim.max_bytes = CONFIG_MAX_BYTES;
	lim.max_depth = 64;
	lim.max_nodes = 1000000;
	lim.max_alias = 100000;
	err = sotto_store_yaml.parse(&doc, src, len, path, &lim, e);
	if (err != SOTTO_OK) {
		if (err != SOTTO_E_NOMEM) {
			sotto_error_prefix(e, "cannot load config");
			err = SOTTO_E_CONFIG;
			if (e != NULL)
				e->code = err;
		}
		goto out;
	}
	err = sotto_config_from_doc(out, doc, path, e);
out:
	sotto_tree_doc_free(doc);
	return err;
}

sotto_err
sotto_config_load(struct sotto_config **out, const char *path,
    struct sotto_error *e)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	sotto_err err;

	*out = NULL;
	err = sotto_io_read_file(&b, path, CONFIG_MAX_BYTES, e);
	if (err == SOTTO_OK)
		err = sotto_config_parse(out, b.data != NULL ? b.data :
		    (const uint8_t *)"", b.len, path, e);
	sotto_buf_release(&b);
	return err;
}

/* ------------------------------------------------------------------ */
/* matching                                                             */

/* The path the regexes see: absolute, minus "<config dir>/". */
static sotto_err
rel_path(char **out, const struct sotto_config *c, const char *file_path,
    struct sotto_error *e)
{
	char *abs;
	size_t dl = strlen(c->dir);

	*out = NULL;
	if ((abs = abs_clean(file_path)) == NULL)
		return sotto_error_set(e, SOTTO_E_IO,
		    "'%s': cannot make the path absolute", file_path);
	/* like sops: TrimPrefix(path, dir + "/"); dir "/" gives "//" */
	if (strncmp(abs, c->dir, dl) == 0 && abs[dl] == '/' &&
	    strcmp(c->dir, "/") != 0) {
		memmove(abs, abs + dl + 1, strlen(abs + dl + 1) + 1);
	}
	*out = abs;
	return SOTTO_OK;
}

sotto_err
sotto_config_explain(struct sotto_config_explain *ex, char **rel_out,
    const struct sotto_config *c, const char *file_path,
    struct sotto_error *e)
{
	const struct sotto_config_rule *r, *sel = NULL;
	char *rel = NULL;
	size_t i;
	sotto_err err = SOTTO_OK;

	if (rel_out != NULL)
		*rel_out = NULL;
	if ((err = rel_path(&rel, c, file_path, e)) != SOTTO_OK)
		return err;
	for (i = 0; i < c->nrules; i++) {
		r = &c->rules[i];
		if (ex != NULL) {
			ex[i].rule = i;
			ex[i].verdict = SOTTO_CONFIG_NOT_REACHED;
			ex[i].reason = "not reached: an earlier rule matched";
		}
		if (sel != NULL || err != SOTTO_OK) {
			if (err != SOTTO_OK && ex != NULL)
				ex[i].reason = "not reached: an earlier rule "
				    "has an invalid path_regex";
			continue;
		}
		if (r->path_regex == NULL) {
			sel = r;
			if (ex != NULL) {
				ex[i].verdict = SOTTO_CONFIG_SELECTED;
				ex[i].reason = "no path_regex: matches every "
				    "file";
			}
		} else if (r->re == NULL) {
			err = sotto_error_set(e, r->re_code, "%s", r->re_msg);
			if (ex != NULL) {
				ex[i].verdict = SOTTO_CONFIG_BAD_REGEX;
				ex[i].reason = "path_regex is invalid";
			}
		} else if (regexec(r->re, rel, 0, NULL, 0) == 0) {
			sel = r;
			if (ex != NULL) {
				ex[i].verdict = SOTTO_CONFIG_SELECTED;
				ex[i].reason = "path_regex matches";
			}
		} else if (ex != NULL) {
			ex[i].verdict = SOTTO_CONFIG_NO_MATCH;
			ex[i].reason = "path_regex does not match";
		}
	}
	if (err == SOTTO_OK && c->has_creation_rules) {
		if (sel == NULL)
			err = sotto_error_set(e, SOTTO_E_CONFIG,
			    "'%s': no matching creation rules found", c->path);
		else if (sel->code != SOTTO_OK)
			err = sotto_error_set(e, sel->code, "%s", sel->msg);
	}
	if (rel_out != NULL)
		*rel_out = rel;
	else
		free(rel);
	return err;
}

sotto_err
sotto_config_match(const struct sotto_config_rule **out,
    const struct sotto_config *c, const char *file_path,
    struct sotto_error *e)
{
	const struct sotto_config_rule *r;
	char *rel = NULL;
	size_t i;
	sotto_err err = SOTTO_OK;

	*out = NULL;
	if (!c->has_creation_rules)
		return SOTTO_OK;
	if ((err = rel_path(&rel, c, file_path, e)) != SOTTO_OK)
		return err;
	for (i = 0; i < c->nrules; i++) {
		r = &c->rules[i];
		if (r->path_regex != NULL) {
			if (r->re == NULL) {
				err = sotto_error_set(e, r->re_code, "%s",
				    r->re_msg);
				goto out;
			}
			if (regexec(r->re, rel, 0, NULL, 0) != 0)
				continue;
		}
		if (r->code != SOTTO_OK) {
			err = sotto_error_set(e, r->code, "%s", r->msg);
			goto out;
		}
		*out = r;
		goto out;
	}
	err = sotto_error_set(e, SOTTO_E_CONFIG,
	    "'%s': no matching creation rules found", c->path);
out:
	free(rel);
	return err;
}

sotto_err
sotto_config_validate(const struct sotto_config *c, struct sotto_error *e)
{
	size_t i;

	for (i = 0; i < c->nrules; i++) {
		if (c->rules[i].re_code != SOTTO_OK)
			return sotto_error_set(e, c->rules[i].re_code, "%s",
			    c->rules[i].re_msg);
		if (c->rules[i].code != SOTTO_OK)
			return sotto_error_set(e, c->rules[i].code, "%s",
			    c->rules[i].msg);
	}
	return SOTTO_OK;
}

void
sotto_config_free(struct sotto_config *c)
{
	struct sotto_config_rule *r;
	size_t i, g, k;

	if (c == NULL)
		return;
	for (i = 0; i < c->nrules; i++) {
		r = &c->rules[i];
		for (g = 0; g < r->ngroups; g++) {
			for (k = 0; k < r->groups[g].nage; k++)
				free(r->groups[g].age[k]);
			free(r->groups[g].age);
		}
		free(r->groups);
		free(r->path_regex);
		free(r->unencrypted_suffix);
		free(r->encrypted_suffix);
		free(r->unencrypted_regex);
		free(r->encrypted_regex);
		free(r->unencrypted_comment_regex);
		free(r->encrypted_comment_regex);
		if (r->re != NULL) {
			regfree(r->re);
			free(r->re);
		}
		free(r->re_msg);
		free(r->msg);
	}
	free(c->rules);
	free(c->path);
	free(c->dir);
	free(c);
}
