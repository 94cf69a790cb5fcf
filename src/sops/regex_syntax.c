/* SPDX-License-Identifier: ISC */
/*
 * Go regexp (RE2 syntax with Go's Perl flags) parsed token by token as
 * Go's regexp/syntax parses it, and written out as a PCRE2 pattern with
 * the same meaning.  Compiling and matching belong to regex.c.
 *
 * Why a parse of our own instead of handing the text to PCRE2: PCRE2
 * accepts far more (backreferences, lookarounds, recursion, \C, (*VERB))
 * and gives some shared syntax another meaning: \s has \v, '$' matches
 * before a final newline, \12 is a backreference, x{,3} is a repeat in
 * newer versions, \p{Greek} means script extensions.  So every construct
 * is emitted explicitly: literals as \x{..}, classes as explicit ranges,
 * groups as (?:..), '^' '$' '.' by the flags in force, and what Go
 * refuses is refused with Go's message.  Groups never capture: matching
 * only asks whether a match exists.  The tables (ASCII groups, category
 * names, scripts, refusal hints) are Go's and the data the parser reads.
 */
#include "sotto/regex.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sops/regex_int.h"

/* Go's parse flags that matter here (regexp/syntax Flags). */
#define F_FOLD		0x1u	/* (?i) */
#define F_ONELINE	0x2u	/* ^ $ are \A \z; cleared by (?m) */
#define F_DOTNL		0x4u	/* (?s) */
#define F_NONGREEDY	0x8u	/* (?U) */

#define MAX_REPEAT	1000	/* Go's maxRepeat */
#define MAX_RUNE	0x10FFFFu
#define RUNE_ERROR	0xFFFDu

/* ------------------------------------------------------------------ */
/* errors                                                               */

/* Go's error codes (regexp/syntax ErrorCode), as Go spells them. */
#define E_CLASS_RANGE	"invalid character class range"
#define E_ESCAPE	"invalid escape sequence"
#define E_NAMED		"invalid named capture"
#define E_PERL_OP	"invalid or unsupported Perl syntax"
#define E_REPEAT_OP	"invalid nested repetition operator"
#define E_REPEAT_SIZE	"invalid repeat count"
#define E_UTF8		"invalid UTF-8"
#define E_BRACKET	"missing closing ]"
#define E_PAREN		"missing closing )"
#define E_REPEAT_ARG	"missing argument to repetition operator"
#define E_BACKSLASH	"trailing backslash at end of expression"
#define E_UNEXP_PAREN	"unexpected )"
#define E_NESTING	"expression nests too deeply"

/*
 * What the constructs Go refuses are, keyed by how the refused text
 * starts: the hint that follows Go's message.
 */
static const struct {
	const char *code;	/* Go's error code it comes with */
	const char *prefix;	/* refused text starts with this */
	const char *hint;
} hints[] = {
	{ E_ESCAPE, "\\C", "\\C (any byte) is not in RE2" },
	{ E_ESCAPE, "\\Z", "RE2 has \\z for the end of the text" },
	{ E_ESCAPE, "\\1", "backreferences are not in RE2" },
	{ E_ESCAPE, "\\2", "backreferences are not in RE2" },
	{ E_ESCAPE, "\\3", "backreferences are not in RE2" },
	{ E_ESCAPE, "\\4", "backreferences are not in RE2" },
	{ E_ESCAPE, "\\5", "backreferences are not in RE2" },
	{ E_ESCAPE, "\\6", "backreferences are not in RE2" },
	{ E_ESCAPE, "\\7", "backreferences are not in RE2" },
	{ E_ESCAPE, "\\8", "backreferences are not in RE2" },
	{ E_ESCAPE, "\\9", "backreferences are not in RE2" },
	{ E_ESCAPE, "\\g", "backreferences are not in RE2" },
	{ E_ESCAPE, "\\k", "backreferences are not in RE2" },
	{ E_ESCAPE, "\\K", "\\K (match reset) is not in RE2" },
	{ E_ESCAPE, "\\G", "\\G is not in RE2" },
	{ E_ESCAPE, "\\R", "\\R is not in RE2" },
	{ E_ESCAPE, "\\X", "\\X is not in RE2" },
	{ E_ESCAPE, "\\h", "\\h is not in RE2" },
	{ E_ESCAPE, "\\H", "\\H is not in RE2" },
	{ E_ESCAPE, "\\N", "\\N is not in RE2" },
	{ E_ESCAPE, "\\e", "\\e is not in RE2 (use \\x1b)" },
	{ E_ESCAPE, "\\c", "\\c is not in RE2" },
	{ E_ESCAPE, "\\b", "\\b inside [...] is not in RE2 (use \\x08)" },
	{ E_PERL_OP, "(?=", "lookaheads are not in RE2" },
	{ E_PERL_OP, "(?!", "lookaheads are not in RE2" },
	{ E_NAMED, "(?<=", "lookbehinds are not in RE2" },
	{ E_NAMED, "(?<!", "lookbehinds are not in RE2" },
	{ E_PERL_OP, "(?>", "atomic groups are not in RE2" },
	{ E_PERL_OP, "(?R", "recursion is not in RE2" },
	{ E_PERL_OP, "(?&", "recursion is not in RE2" },
	{ E_PERL_OP, "(?+", "recursion is not in RE2" },
	{ E_PERL_OP, "(?0", "recursion is not in RE2" },
	{ E_PERL_OP, "(?1", "recursion is not in RE2" },
	{ E_PERL_OP, "(?2", "recursion is not in RE2" },
	{ E_PERL_OP, "(?3", "recursion is not in RE2" },
	{ E_PERL_OP, "(?4", "recursion is not in RE2" },
	{ E_PERL_OP, "(?5", "recursion is not in RE2" },
	{ E_PERL_OP, "(?6", "recursion is not in RE2" },
	{ E_PERL_OP, "(?7", "recursion is not in RE2" },
	{ E_PERL_OP, "(?8", "recursion is not in RE2" },
	{ E_PERL_OP, "(?9", "recursion is not in RE2" },
	{ E_PERL_OP, "(?P", "(?P=name) and (?P>name) are not in RE2" },
	{ E_PERL_OP, "(?(", "conditionals are not in RE2" },
	{ E_PERL_OP, "(?#", "comments are not in RE2" },
	{ E_PERL_OP, "(?|", "branch reset is not in RE2" },
	{ E_PERL_OP, "(?'", "use (?P<name>...) or (?<name>...)" },
	{ E_PERL_OP, "(?", "RE2's flags are i, m, s and U" },
	{ E_REPEAT_ARG, "(*", "backtracking verbs are not in RE2" },
};

static sotto_err
gofail(struct sotto_error *e, const char *re, const char *code,
    const char *expr, size_t elen, const char *at)
{
	char rbuf[160], ebuf[120];
	const char *hint = NULL;
	size_t i;

	for (i = 0; at != NULL && i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strcmp(hints[i].code, code) == 0 &&
		    strncmp(at, hints[i].prefix, strlen(hints[i].prefix)) == 0) {
			hint = hints[i].hint;
			break;
		}
	if (strcmp(code, E_REPEAT_OP) == 0 && elen > 0 && expr[elen - 1] == '+')
		hint = "possessive quantifiers are not in RE2";
	sotto_regex_esc(rbuf, sizeof(rbuf), re, strlen(re), 100);
	sotto_regex_esc(ebuf, sizeof(ebuf), expr, elen, 60);
	return sotto_error_set(e, SOTTO_E_BAD_REGEX, "regex '%s': error parsing "
	    "regexp: %s: `%s`%s%s%s", rbuf, code, ebuf, hint ? " (" : "",
	    hint ? hint : "", hint ? ")" : "");
}

/* ------------------------------------------------------------------ */
/* rune sets                                                            */

/* A class under construction: items already in PCRE2 class syntax. */
struct cls {
	struct sotto_buf items;
	size_t n;		/* items added */
};

static sotto_err
cls_rune(struct sotto_buf *b, uint32_t c)
{
	return sotto_buf_addf(b, "\\x{%x}", (unsigned)c);
}

/* lo-hi, minus the surrogates (no Go rune is one, PCRE2 refuses them). */
static sotto_err
cls_range(struct cls *k, uint32_t lo, uint32_t hi)
{
	if (lo <= 0xDFFF && hi >= 0xD800) {
		if (lo < 0xD800 && cls_range(k, lo, 0xD7FF))
			return SOTTO_E_NOMEM;
		if (hi > 0xDFFF && cls_range(k, 0xE000, hi))
			return SOTTO_E_NOMEM;
		return SOTTO_OK;
	}
	if (cls_rune(&k->items, lo))
		return SOTTO_E_NOMEM;
	if (hi != lo && (sotto_buf_addch(&k->items, '-') ||
	    cls_rune(&k->items, hi)))
		return SOTTO_E_NOMEM;
	k->n++;
	return SOTTO_OK;
}

static sotto_err
cls_raw(struct cls *k, const char *s)
{
	if (sotto_buf_addstr(&k->items, s))
		return SOTTO_E_NOMEM;
	k->n++;
	return SOTTO_OK;
}

/* Go's ASCII groups: Perl escapes and POSIX names (perl_groups.go). */
static const struct {
	const char *name;	/* "\\d" or "[:alpha:]" */
	const char *set;	/* ranges as pairs of bytes */
	bool nul;		/* also U+0000 (not writable in set) */
} groups[] = {
	{ "\\d", "09", false },
	{ "\\s", "\t\n\f\r  ", false },
	{ "\\w", "09AZ__az", false },
	{ "[:alnum:]", "09AZaz", false },
	{ "[:alpha:]", "AZaz", false },
	{ "[:ascii:]", "\x01\x7f", true },
	{ "[:blank:]", "\t\t  ", false },
	{ "[:cntrl:]", "\x01\x1f\x7f\x7f", true },
	{ "[:digit:]", "09", false },
	{ "[:graph:]", "!~", false },
	{ "[:lower:]", "az", false },
	{ "[:print:]", " ~", false },
	{ "[:punct:]", "!/:@[`{~", false },
	{ "[:space:]", "\t\r  ", false },
	{ "[:upper:]", "AZ", false },
	{ "[:word:]", "09AZ__az", false },
	{ "[:xdigit:]", "09AFaf", false },
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

/*
 * Adds an ASCII group to k.  Positive: its ranges (PCRE2's caseless
 * matching folds them as Go's does).  Negated: the complement, computed
 * here of the folded set when fold is on (Go folds, then negates), so
 * that PCRE2's own folding leaves it as it is.
 */
static sotto_err
cls_group(struct cls *k, const char *set, bool with_nul, bool neg, bool fold)
{
	unsigned char in[128];
	uint32_t c, start;
	bool k_extra = false, s_extra = false, inrun;
	size_t i;

	if (!neg) {
		if (with_nul && cls_range(k, 0, 0))
			return SOTTO_E_NOMEM;
		for (i = 0; set[i] != '\0'; i += 2)
			if (cls_range(k, (unsigned char)set[i],
			    (unsigned char)set[i + 1]))
				return SOTTO_E_NOMEM;
		return SOTTO_OK;
	}
	memset(in, 0, sizeof(in));
	if (with_nul)
		in[0] = 1;
	for (i = 0; set[i] != '\0'; i += 2)
		for (c = (unsigned char)set[i]; c <= (unsigned char)set[i + 1];
		    c++)
			in[c] = 1;
	if (fold) {
		for (c = 'A'; c <= 'Z'; c++)
			if (in[c] || in[c + 32])
				in[c] = in[c + 32] = 1;
		k_extra = in['k'];	/* U+212A KELVIN SIGN folds to k */
		s_extra = in['s'];	/* U+017F LONG S folds to s */
	}
	inrun = false;
	start = 0;
	for (c = 0; c <= 128; c++) {
		bool out = c < 128 ? !in[c] : false;

		if (out && !inrun) {
			start = c;
			inrun = true;
		} else if (!out && inrun) {
			if (cls_range(k, start, c - 1))
				return SOTTO_E_NOMEM;
			inrun = false;
		}
	}
	/* 0x80 .. MAX_RUNE, minus U+017F and U+212A when folded in */
	start = 0x80;
	if (s_extra) {
		if (cls_range(k, start, 0x17E))
			return SOTTO_E_NOMEM;
		start = 0x180;
	}
	if (k_extra) {
		if (cls_range(k, start, 0x2129))
			return SOTTO_E_NOMEM;
		start = 0x212B;
	}
	return cls_range(k, start, MAX_RUNE);
}

/* ------------------------------------------------------------------ */
/* Unicode classes                                                      */

/* Go's unicode.CategoryAliases, keyed by canonical name. */
static const struct {
	const char *alias;
	const char *cat;
} cat_aliases[] = {
	{ "Casedletter", "LC" }, { "Closepunctuation", "Pe" },
	{ "Combiningmark", "M" }, { "Connectorpunctuation", "Pc" },
	{ "Control", "Cc" }, { "Currencysymbol", "Sc" },
	{ "Dashpunctuation", "Pd" }, { "Decimalnumber", "Nd" },
	{ "Enclosingmark", "Me" }, { "Finalpunctuation", "Pf" },
	{ "Format", "Cf" }, { "Initialpunctuation", "Pi" },
	{ "Letter", "L" }, { "Letternumber", "Nl" },
	{ "Lineseparator", "Zl" }, { "Lowercaseletter", "Ll" },
	{ "Mark", "M" }, { "Mathsymbol", "Sm" },
	{ "Modifierletter", "Lm" }, { "Modifiersymbol", "Sk" },
	{ "Nonspacingmark", "Mn" }, { "Number", "N" },
	{ "Openpunctuation", "Ps" }, { "Other", "C" },
	{ "Otherletter", "Lo" }, { "Othernumber", "No" },
	{ "Otherpunctuation", "Po" }, { "Othersymbol", "So" },
	{ "Paragraphseparator", "Zp" }, { "Privateuse", "Co" },
	{ "Punctuation", "P" }, { "Separator", "Z" },
	{ "Spaceseparator", "Zs" }, { "Spacingmark", "Mc" },
	{ "Surrogate", "Cs" }, { "Symbol", "S" },
	{ "Titlecaseletter", "Lt" }, { "Unassigned", "Cn" },
	{ "Uppercaseletter", "Lu" }, { "Cntrl", "Cc" },
	{ "Digit", "Nd" }, { "Punct", "P" },
};

/* Go's unicode.Categories keys (plus LC, handled by Go as a special). */
static const char *const categories[] = {
	"C", "Cc", "Cf", "Cn", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt",
	"Lu", "M", "Mc", "Me", "Mn", "N", "Nd", "Nl", "No", "P", "Pc",
	"Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So",
	"Z", "Zl", "Zp", "Zs",
};

/* Go's unicode.Scripts (Unicode 15.0): names only; PCRE2 has the sets. */
static const char *const scripts[] = {
	"Adlam", "Ahom", "Anatolian_Hieroglyphs", "Arabic", "Armenian",
	"Avestan", "Balinese", "Bamum", "Bassa_Vah", "Batak", "Bengali",
	"Bhaiksuki", "Bopomofo", "Brahmi", "Braille", "Buginese", "Buhid",
	"Canadian_Aboriginal", "Carian", "Caucasian_Albanian", "Chakma",
	"Cham", "Cherokee", "Chorasmian", "Common", "Coptic", "Cuneiform",
	"Cypriot", "Cypro_Minoan", "Cyrillic", "Deseret", "Devanagari",
	"Dives_Akuru", "Dogra", "Duployan", "Egyptian_Hieroglyphs",
	"Elbasan", "Elymaic", "Ethiopic", "Georgian", "Glagolitic", "Gothic",
	"Grantha", "Greek", "Gujarati", "Gunjala_Gondi", "Gurmukhi", "Han",
	"Hangul", "Hanifi_Rohingya", "Hanunoo", "Hatran", "Hebrew",
	"Hiragana", "Imperial_Aramaic", "Inherited", "Inscriptional_Pahlavi",
	"Inscriptional_Parthian", "Javanese", "Kaithi", "Kannada",
	"Katakana", "Kawi", "Kayah_Li", "Kharoshthi", "Khitan_Small_Script",
	"Khmer", "Khojki", "Khudawadi", "Lao", "Latin", "Lepcha", "Limbu",
	"Linear_A", "Linear_B", "Lisu", "Lycian", "Lydian", "Mahajani",
	"Makasar", "Malayalam", "Mandaic", "Manichaean", "Marchen",
	"Masaram_Gondi", "Medefaidrin", "Meetei_Mayek", "Mende_Kikakui",
	"Meroitic_Cursive", "Meroitic_Hieroglyphs", "Miao", "Modi",
	"Mongolian", "Mro", "Multani", "Myanmar", "Nabataean", "Nag_Mundari",
	"Nandinagari", "New_Tai_Lue", "Newa", "Nko", "Nushu",
	"Nyiakeng_Puachue_Hmong", "Ogham", "Ol_Chiki", "Old_Hungarian",
	"Old_Italic", "Old_North_Arabian", "Old_Permic", "Old_Persian",
	"Old_Sogdian", "Old_South_Arabian", "Old_Turkic", "Old_Uyghur",
	"Oriya", "Osage", "Osmanya", "Pahawh_Hmong", "Palmyrene",
	"Pau_Cin_Hau", "Phags_Pa", "Phoenician", "Psalter_Pahlavi", "Rejang",
	"Runic", "Samaritan", "Saurashtra", "Sharada", "Shavian", "Siddham",
	"SignWriting", "Sinhala", "Sogdian", "Sora_Sompeng", "Soyombo",
	"Sundanese", "Syloti_Nagri", "Syriac", "Tagalog", "Tagbanwa",
	"Tai_Le", "Tai_Tham", "Tai_Viet", "Takri", "Tamil", "Tangsa",
	"Tangut", "Telugu", "Thaana", "Thai", "Tibetan", "Tifinagh",
	"Tirhuta", "Toto", "Ugaritic", "Vai", "Vithkuqi", "Wancho",
	"Warang_Citi", "Yezidi", "Yi", "Zanabazar_Square",
};

/*
 * Tables to which Go adds case-folded code points under (?i)
 * (unicode.FoldCategory, unicode.FoldScript); PCRE2 has no such notion.
 */
static const char *const fold_tables[] = {
	"L", "Ll", "Lt", "Lu", "M", "Mn", "Common", "Greek", "Inherited",
};

/* Go's canonicalName: "Old_italic" -> "Olditalic", "lu" -> "Lu". */
static void
canonical(char *dst, size_t cap, const char *s, size_t n)
{
	size_t i, o = 0;
	bool first = true;
	char c;

	for (i = 0; i < n && o + 1 < cap; i++) {
		c = s[i];
		if (c == '_' || c == '-' || c == ' ')
			continue;
		if (first) {
			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			first = false;
		} else if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
		}
		dst[o++] = c;
	}
	dst[o] = '\0';
}

/*
 * Adds \p{name} (neg: \P{name}) to k.  Returns SOTTO_E_NOTFOUND for a
 * name that is not Go's (the caller reports Go's error), SOTTO_E_UNSUPPORTED
 * for a fold table under (?i), SOTTO_E_NOT_ENCRYPTED (a code the caller
 * reads as "other") for a script of Go's that PCRE2 does not know.
 */
static sotto_err
cls_unicode(struct cls *k, const char *name, size_t n, bool neg, bool fold)
{
	char can[64], sc[64], buf[96];
	const char *cat = NULL;
	size_t i;

	if (n == 0 || n >= sizeof(can) - 1)
		return SOTTO_E_NOTFOUND;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!(c == '_' || c == '-' || c == ' ' || (c >= '0' &&
		    c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' &&
		    c <= 'z')))
			return SOTTO_E_NOTFOUND;
	}
	canonical(can, sizeof(can), name, n);
	if (strcmp(can, "Any") == 0)
		return neg ? SOTTO_OK : cls_range(k, 0, MAX_RUNE);
	if (strcmp(can, "Assigned") == 0)
		return cls_raw(k, neg ? "\\p{Cn}" : "\\P{Cn}");
	if (strcmp(can, "Ascii") == 0)
		return cls_group(k, "\x01\x7f", true, neg, fold);
	for (i = 0; i < sizeof(cat_aliases) / sizeof(cat_aliases[0]); i++)
		if (strcmp(can, cat_aliases[i].alias) == 0)
			cat = cat_aliases[i].cat;
	if (cat == NULL && strcmp(can, "Lc") == 0)
		cat = "LC";
	for (i = 0; cat == NULL && i < sizeof(categories) /
	    sizeof(categories[0]); i++)
		if (strcmp(can, categories[i]) == 0)
			cat = categories[i];
	for (i = 0; fold && i < sizeof(fold_tables) / sizeof(fold_tables[0]);
	    i++)
		if (strcmp(cat != NULL ? cat : can, fold_tables[i]) == 0)
			return SOTTO_E_UNSUPPORTED;
	if (cat != NULL && strcmp(cat, "C") == 0)
		/* Go's C has no Cn; PCRE2's has */
		return cls_raw(k, neg ? "\\p{Cn}\\p{L}\\p{M}\\p{N}\\p{P}"
		    "\\p{S}\\p{Z}" : "\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}");
	if (cat != NULL && strcmp(cat, "LC") == 0)
		return cls_raw(k, neg ? "\\P{L&}" : "\\p{L&}");
	if (cat != NULL) {
		snprintf(buf, sizeof(buf), "\\%c{%s}", neg ? 'P' : 'p', cat);
	} else {
		for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
			canonical(sc, sizeof(sc), scripts[i],
			    strlen(scripts[i]));
			if (strcmp(sc, can) == 0)
				break;
		}
		if (i == sizeof(scripts) / sizeof(scripts[0]))
			return SOTTO_E_NOTFOUND;
		/* Go's is Script; PCRE2's bare name is Script_Extensions */
		snprintf(buf, sizeof(buf), "\\%c{sc:%s}", neg ? 'P' : 'p', can);
		if (!sotto_regex_script_known(buf))
			return SOTTO_E_NOT_ENCRYPTED;	/* see caller */
	}
	return cls_raw(k, buf);
}

/* ------------------------------------------------------------------ */
/* the parser                                                           */

struct frame {
	unsigned flags;		/* flags to restore at ')' */
	unsigned prod;		/* outer group's repeat product so far */
	size_t start;		/* output offset of this group's "(?:" */
};

enum opnd {
	OPND_NONE,	/* nothing to repeat: start, after '(' or '|' */
	OPND_ATOM,	/* a PCRE2 atom: quantifiable as written */
	OPND_WRAP,	/* an assertion or repeat: wrap in (?:) first */
};

struct tr {
	const char *re;		/* the whole regexp */
	const char *t;		/* cursor */
	const char *end;	/* its NUL */
	unsigned flags;		/* F_* in force */
	struct sotto_buf *out;	/* PCRE2 pattern */
	struct sotto_error *e;
	struct frame *st;	/* open groups */
	size_t depth, cap;
	enum opnd op;		/* last operand of this concatenation */
	size_t op_start;	/* its output offset */
	unsigned op_prod;	/* max product of counted repeats in it */
	unsigned prod;		/* max over this group's finished operands */
	const char *last_rep;	/* previous token, when it was a repeat */
};

static sotto_err
nomem(struct tr *x)
{
	return sotto_error_set(x->e, SOTTO_E_NOMEM, "out of memory");
}

static sotto_err
fail(struct tr *x, const char *code, const char *expr, size_t elen)
{
	return gofail(x->e, x->re, code, expr, elen, expr);
}

/* Go's nextRune at x->t; *n its length.  Invalid UTF-8 fails as Go. */
static sotto_err
next_rune(struct tr *x, const char *s, uint32_t *r, size_t *n)
{
	*n = sotto_regex_utf8_rune((const unsigned char *)s, (size_t)(x->end - s), r);
	if (*n == 0)
		return fail(x, E_UTF8, s, (size_t)(x->end - s));
	return SOTTO_OK;
}

/* The operand so far is finished; a new one starts at the output end. */
static void
op_begin(struct tr *x, enum opnd kind)
{
	if (x->op != OPND_NONE && x->op_prod > x->prod)
		x->prod = x->op_prod;
	x->op = kind;
	x->op_start = x->out->len;
	x->op_prod = 1;
}

static sotto_err
emit_literal(struct tr *x, uint32_t c)
{
	bool plain = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');

	op_begin(x, OPND_ATOM);
	if (c >= 0xD800 && c <= 0xDFFF)	/* no Go rune is a surrogate */
		return sotto_buf_addstr(x->out, "[^\\x{0}-\\x{10ffff}]") ?
		    nomem(x) : SOTTO_OK;
	if ((x->flags & F_FOLD) && sotto_buf_addstr(x->out, "(?i:"))
		return nomem(x);
	if (plain ? sotto_buf_addch(x->out, (int)c) : cls_rune(x->out, c))
		return nomem(x);
	if ((x->flags & F_FOLD) && sotto_buf_addch(x->out, ')'))
		return nomem(x);
	return SOTTO_OK;
}

/* Writes class k ([...], or [^...] when neg) as one operand. */
static sotto_err
emit_class(struct tr *x, struct cls *k, bool neg)
{
	bool fold = (x->flags & F_FOLD) != 0;
	sotto_err err = SOTTO_OK;

	op_begin(x, OPND_ATOM);
	if (k->n == 0)		/* [^\x00-\x{10FFFF}] or an empty union */
		return sotto_buf_addstr(x->out, neg ? "(?s:.)" :
		    "[^\\x{0}-\\x{10ffff}]") ? nomem(x) : SOTTO_OK;
	if ((fold && sotto_buf_addstr(x->out, "(?i:")) ||
	    sotto_buf_addstr(x->out, neg ? "[^" : "[") ||
	    sotto_buf_add(x->out, k->items.data, k->items.len) ||
	    sotto_buf_addch(x->out, ']') ||
	    (fold && sotto_buf_addch(x->out, ')')))
		err = nomem(x);
	return err;
}

/*
 * Go's parseEscape at s (pointing at '\'): one rune, or Go's error.
 * *rest gets what follows.
 */
static sotto_err
parse_escape(struct tr *x, const char *s, uint32_t *r, const char **rest)
{
	const char *t = s + 1;
	uint32_t c, v;
	size_t n;
	int i, nhex;
	sotto_err err;

	if (t == x->end)
		return gofail(x->e, x->re, E_BACKSLASH, "", 0, NULL);
	if ((err = next_rune(x, t, &c, &n)))
		return err;
	t += n;
	switch (c) {
	case '1': case '2': case '3': case '4': case '5': case '6': case '7':
		if (t == x->end || *t < '0' || *t > '7')
			break;		/* a backreference */
		/* FALLTHROUGH */
	case '0':
		v = c - '0';
		for (i = 1; i < 3 && t < x->end && *t >= '0' && *t <= '7'; i++)
			v = v * 8 + (uint32_t)(*t++ - '0');
		*r = v;
		*rest = t;
		return SOTTO_OK;
	case 'x':
		if (t == x->end)
			break;
		if ((err = next_rune(x, t, &c, &n)))
			return err;
		t += n;
		if (c == '{') {
			v = 0;
			nhex = 0;
			for (;;) {
				if (t == x->end)
					goto bad;
				if ((err = next_rune(x, t, &c, &n)))
					return err;
				t += n;
				if (c == '}')
					break;
				if (c >= '0' && c <= '9')
					v = v * 16 + (c - '0');
				else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
					v = v * 16 + ((c | 0x20) - 'a' + 10);
				else
					goto bad;
				if (v > MAX_RUNE)
					goto bad;
				nhex++;
			}
			if (nhex == 0)
				goto bad;
			*r = v;
			*rest = t;
			return SOTTO_OK;
		}
		{
			uint32_t hx, hy;

			hx = c;
			if (t == x->end)
				goto bad;
			if ((err = next_rune(x, t, &c, &n)))
				return err;
			t += n;
			hy = c;
#define HEXV(h) ((h) >= '0' && (h) <= '9' ? (int)((h) - '0') : \
    ((h) | 0x20) >= 'a' && ((h) | 0x20) <= 'f' ? \
    (int)(((h) | 0x20) - 'a' + 10) : -1)
			if (HEXV(hx) < 0 || HEXV(hy) < 0)
				goto bad;
			*r = (uint32_t)(HEXV(hx) * 16 + HEXV(hy));
#undef HEXV
			*rest = t;
			return SOTTO_OK;
		}
	case 'a': *r = '\a'; *rest = t; return SOTTO_OK;
	case 'f': *r = '\f'; *rest = t; return SOTTO_OK;
	case 'n': *r = '\n'; *rest = t; return SOTTO_OK;
	case 'r': *r = '\r'; *rest = t; return SOTTO_OK;
	case 't': *r = '\t'; *rest = t; return SOTTO_OK;
	case 'v': *r = '\v'; *rest = t; return SOTTO_OK;
	default:
		if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'A' &&
		    c <= 'Z') || (c >= 'a' && c <= 'z'))) {
			*r = c;		/* escaped punctuation is itself */
			*rest = t;
			return SOTTO_OK;
		}
	}
bad:
	return fail(x, E_ESCAPE, s, (size_t)(t - s));
}

/* \d \D \s \S \w \W at s: adds the group to k; false if not one. */
static bool
perl_group(struct tr *x, const char *s, struct cls *k, sotto_err *err)
{
	char name[3] = { '\\', 0, 0 };
	size_t i;
	bool neg;

	if (x->end - s < 2 || s[0] != '\\' || strchr("dDsSwW", s[1]) == NULL ||
	    s[1] == '\0')
		return false;
	neg = s[1] >= 'A' && s[1] <= 'Z';
	name[1] = (char)(neg ? s[1] - 'A' + 'a' : s[1]);
	for (i = 0; i < NGROUPS; i++)
		if (strcmp(groups[i].name, name) == 0)
			break;
	*err = cls_group(k, groups[i].set, false, neg,
	    (x->flags & F_FOLD) != 0) ? nomem(x) : SOTTO_OK;
	return true;
}

/*
 * Go's parseUnicodeClass at s: \pN, \p{Name}, \P..., \p{^Name}.  Returns
 * false (nothing consumed) when s is not one; else *rest is set or *err.
 */
static bool
unicode_class(struct tr *x, const char *s, struct cls *k, const char **rest,
    sotto_err *err)
{
	const char *t, *name, *close, *seq_end;
	uint32_t c;
	size_t n, nlen;
	bool neg;
	sotto_err r;

	if (x->end - s < 2 || s[0] != '\\' || (s[1] != 'p' && s[1] != 'P'))
		return false;
	neg = s[1] == 'P';
	t = s + 2;
	*err = SOTTO_OK;
	if (t == x->end) {
		c = RUNE_ERROR;	/* Go: DecodeRune("") -> RuneError, 0 */
		n = 0;
	} else if ((*err = next_rune(x, t, &c, &n)) != SOTTO_OK) {
		return true;
	}
	if (c != '{') {
		name = t;
		nlen = n;
		seq_end = t + n;
	} else {
		close = memchr(s, '}', (size_t)(x->end - s));
		if (close == NULL) {
			*err = fail(x, E_CLASS_RANGE, s, (size_t)(x->end - s));
			return true;
		}
		name = s + 3;
		nlen = (size_t)(close - name);
		seq_end = close + 1;
		for (t = name; t < close; t += n)
			if ((*err = next_rune(x, t, &c, &n)) != SOTTO_OK)
				return true;
	}
	if (nlen > 0 && name[0] == '^') {
		neg = !neg;
		name++;
		nlen--;
	}
	r = cls_unicode(k, name, nlen, neg, (x->flags & F_FOLD) != 0);
	if (r == SOTTO_E_NOTFOUND) {
		*err = fail(x, E_CLASS_RANGE, s, (size_t)(seq_end - s));
	} else if (r == SOTTO_E_NOT_ENCRYPTED) {
		char sbuf[80];

		sotto_regex_esc(sbuf, sizeof(sbuf), s, (size_t)(seq_end - s), 60);
		*err = sotto_error_set(x->e, SOTTO_E_BAD_REGEX, "regex '%.100s':"
		    " %s: this PCRE2 has no such script (its Unicode is older "
		    "than Go's)", x->re, sbuf);
	} else if (r == SOTTO_E_UNSUPPORTED) {
		char sbuf[80];

		sotto_regex_esc(sbuf, sizeof(sbuf), s, (size_t)(seq_end - s), 60);
		*err = sotto_error_set(x->e, SOTTO_E_BAD_REGEX, "regex '%.100s':"
		    " case-insensitive %s is not supported (Go adds the "
		    "case-folded forms of its characters; PCRE2 cannot)",
		    x->re, sbuf);
	} else if (r != SOTTO_OK)
		*err = nomem(x);
	*rest = seq_end;
	return true;
}

/* Go's parseClass at x->t ('['). */
static sotto_err
parse_class(struct tr *x)
{
	const char *s = x->t, *t = s + 1, *rng, *colon, *rest;
	struct cls k = { SOTTO_BUF_INIT, 0 };
	bool neg = false, first = true, fold = (x->flags & F_FOLD) != 0;
	uint32_t lo, hi;
	size_t n, i, nl;
	sotto_err err = SOTTO_OK;

	if (t < x->end && *t == '^') {
		neg = true;
		t++;
	}
	while (t == x->end || *t != ']' || first) {
		first = false;
		if (x->end - t > 2 && t[0] == '[' && t[1] == ':' &&
		    (colon = strstr(t + 2, ":]")) != NULL) {
			nl = (size_t)(colon + 2 - t);
			for (i = 0; i < NGROUPS; i++) {
				const char *g = groups[i].name;

				if (g[0] != '[')
					continue;
				if (nl == strlen(g) && memcmp(t, g, nl) == 0) {
					err = cls_group(&k, groups[i].set,
					    groups[i].nul, false, fold);
					break;
				}
				/* [:^name:] */
				if (nl == strlen(g) + 1 && t[2] == '^' &&
				    memcmp(t + 3, g + 2, nl - 3) == 0) {
					err = cls_group(&k, groups[i].set,
					    groups[i].nul, true, fold);
					break;
				}
			}
			if (i == NGROUPS) {
				err = fail(x, E_CLASS_RANGE, t, nl);
				goto out;
			}
			if (err != SOTTO_OK) {
				err = nomem(x);
				goto out;
			}
			t += nl;
			continue;
		}
		if (unicode_class(x, t, &k, &rest, &err)) {
			if (err != SOTTO_OK)
				goto out;
			t = rest;
			continue;
		}
		if (perl_group(x, t, &k, &err)) {
			if (err != SOTTO_OK)
				goto out;
			t += 2;
			continue;
		}
		rng = t;
		if (t == x->end) {
			err = fail(x, E_BRACKET, s, (size_t)(x->end - s));
			goto out;
		}
		if (*t == '\\') {
			if ((err = parse_escape(x, t, &lo, &t)))
				goto out;
		} else {
			if ((err = next_rune(x, t, &lo, &n)))
				goto out;
			t += n;
		}
		hi = lo;
		if (x->end - t >= 2 && t[0] == '-' && t[1] != ']') {
			t++;
			if (t == x->end) {
				err = fail(x, E_BRACKET, s,
				    (size_t)(x->end - s));
				goto out;
			}
			if (*t == '\\') {
				if ((err = parse_escape(x, t, &hi, &t)))
					goto out;
			} else {
				if ((err = next_rune(x, t, &hi, &n)))
					goto out;
				t += n;
			}
			if (hi < lo) {
				err = fail(x, E_CLASS_RANGE, rng,
				    (size_t)(t - rng));
				goto out;
			}
		}
		if (cls_range(&k, lo, hi)) {
			err = nomem(x);
			goto out;
		}
	}
	x->t = t + 1;
	err = emit_class(x, &k, neg);
out:
	sotto_buf_release(&k.items);
	return err;
}

/* Go's parseInt: digits without a leading zero; -1 when >= 1e8. */
static bool
parse_int(const char **pp, const char *end, long *out)
{
	const char *p = *pp, *s = p;
	long v = 0;

	if (p == end || *p < '0' || *p > '9')
		return false;
	if (end - p >= 2 && p[0] == '0' && p[1] >= '0' && p[1] <= '9')
		return false;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	for (; s < p; s++) {
		if (v >= 100000000) {
			v = -1;
			break;
		}
		v = v * 10 + (*s - '0');
	}
	*out = v;
	*pp = p;
	return true;
}

/* Go's parseRepeat at s ('{'): false when not a repeat ('{' literal). */
static bool
parse_repeat(const char *s, const char *end, long *min, long *max,
    const char **rest)
{
	const char *p = s + 1;

	if (!parse_int(&p, end, min) || p == end)
		return false;
	if (*p != ',') {
		*max = *min;
	} else {
		p++;
		if (p == end)
			return false;
		if (*p == '}') {
			*max = -1;
		} else {
			if (!parse_int(&p, end, max))
				return false;
			if (*max < 0)
				*min = -1;
		}
	}
	if (p == end || *p != '}')
		return false;
	*rest = p + 1;
	return true;
}

/*
 * Go's repeat(): applies the operator at before (ending at after) to the
 * last operand.  counted: an x{n,m} (Go's OpRepeat).
 */
static sotto_err
repeat(struct tr *x, const char *before, const char *after, bool counted,
    long min, long max)
{
	bool lazy = false;
	unsigned long m, prod;
	size_t oplen;
	char q[48];

	if (after < x->end && *after == '?') {
		after++;
		lazy = true;
	}
	if (x->last_rep != NULL)
		return fail(x, E_REPEAT_OP, x->last_rep,
		    (size_t)(after - x->last_rep));
	if (x->op == OPND_NONE)
		return gofail(x->e, x->re, E_REPEAT_ARG, before,
		    (size_t)(after - before), before > x->re &&
		    before[-1] == '(' ? before - 1 : NULL);
	prod = x->op_prod;
	if (counted) {
		m = max < 0 ? (unsigned long)min : (unsigned long)max;
		prod = m * x->op_prod;
		if (prod > MAX_REPEAT + 1)
			prod = MAX_REPEAT + 1;
		if ((min >= 2 || max >= 2) && prod > MAX_REPEAT)
			return fail(x, E_REPEAT_SIZE, before,
			    (size_t)(after - before));
	}
	if (x->op == OPND_WRAP) {
		/* (?:operand) */
		oplen = x->out->len - x->op_start;
		if (sotto_buf_grow(x->out, 4))
			return nomem(x);
		memmove(x->out->data + x->op_start + 3, x->out->data +
		    x->op_start, oplen);
		memcpy(x->out->data + x->op_start, "(?:", 3);
		x->out->len += 3;
		x->out->data[x->out->len] = '\0';
		if (sotto_buf_addch(x->out, ')'))
			return nomem(x);
	}
	if (!counted)
		snprintf(q, sizeof(q), "%c", *before);
	else if (max == min)
		snprintf(q, sizeof(q), "{%ld}", min);
	else if (max < 0)
		snprintf(q, sizeof(q), "{%ld,}", min);
	else
		snprintf(q, sizeof(q), "{%ld,%ld}", min, max);
	if (sotto_buf_addstr(x->out, q) ||
	    (lazy != ((x->flags & F_NONGREEDY) != 0) &&
	    sotto_buf_addch(x->out, '?')))
		return nomem(x);
	x->op = OPND_WRAP;
	x->op_prod = (unsigned)prod;
	x->t = after;
	return SOTTO_OK;
}

enum pf {
	PF_FLAGS,	/* (?flags): new flags for the rest of the group */
	PF_GROUP,	/* (?flags:  a group with new flags */
	PF_CAPTURE,	/* (?P<name> or (?<name> */
};

/* Go's parsePerlFlags at x->t ("(?"); *nf: the flags that follow. */
static sotto_err
perl_flags(struct tr *x, enum pf *kind, unsigned *nf)
{
	const char *s = x->t, *t, *gt, *nm;
	size_t len = (size_t)(x->end - s), n, i;
	unsigned flags;
	uint32_t c;
	int sign = 1;
	bool saw = false, with_p, with_name;
	sotto_err err;

	with_p = len > 4 && s[2] == 'P' && s[3] == '<';
	with_name = len > 3 && s[2] == '<';
	if (with_p || with_name) {
		gt = memchr(s, '>', len);
		if (gt == NULL) {
			/* Go checks the UTF-8 first */
			for (t = s; t < x->end; t += n)
				if ((err = next_rune(x, t, &c, &n)))
					return err;
			return fail(x, E_NAMED, s, len);
		}
		nm = s + (with_p ? 4 : 3);
		for (t = nm; t < gt; t += n)
			if ((err = next_rune(x, t, &c, &n)))
				return err;
		for (i = 0; nm + i < gt; i++) {
			char ch = nm[i];

			if (!(ch == '_' || (ch >= '0' && ch <= '9') ||
			    (ch >= 'A' && ch <= 'Z') || (ch >= 'a' &&
			    ch <= 'z')))
				break;
		}
		if (nm == gt || nm + i != gt)
			return fail(x, E_NAMED, s, (size_t)(gt + 1 - s));
		x->t = gt + 1;
		*kind = PF_CAPTURE;
		*nf = x->flags;
		return SOTTO_OK;
	}
	t = s + 2;
	flags = x->flags;
	while (t < x->end) {
		if ((err = next_rune(x, t, &c, &n)))
			return err;
		t += n;
		switch (c) {
		case 'i': flags |= F_FOLD; saw = true; continue;
		case 'm': flags &= ~F_ONELINE; saw = true; continue;
		case 's': flags |= F_DOTNL; saw = true; continue;
		case 'U': flags |= F_NONGREEDY; saw = true; continue;
		case '-':
			if (sign < 0)
				break;
			sign = -1;
			flags = ~flags;
			saw = false;
			continue;
		case ':': case ')':
			if (sign < 0) {
				if (!saw)
					break;
				flags = ~flags;
			}
			x->t = t;
			*kind = c == ':' ? PF_GROUP : PF_FLAGS;
			*nf = flags & (F_FOLD | F_ONELINE | F_DOTNL |
			    F_NONGREEDY);
			return SOTTO_OK;
		default:
			break;
		}
		break;
	}
	return fail(x, E_PERL_OP, s, (size_t)(t - s));
}

static sotto_err
open_group(struct tr *x, unsigned newflags)
{
	struct frame *f;

	if (x->depth == SOTTO_REGEX_MAX_NEST)
		return gofail(x->e, x->re, E_NESTING, x->re, strlen(x->re),
		    NULL);
	if (x->depth == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 16;

		if ((f = realloc(x->st, nc * sizeof(*f))) == NULL)
			return nomem(x);
		x->st = f;
		x->cap = nc;
	}
	op_begin(x, OPND_NONE);
	f = &x->st[x->depth++];
	f->flags = x->flags;
	f->prod = x->prod;
	f->start = x->out->len;
	x->flags = newflags;
	x->prod = 1;
	x->op = OPND_NONE;
	return sotto_buf_addstr(x->out, "(?:") ? nomem(x) : SOTTO_OK;
}

static sotto_err
close_group(struct tr *x)
{
	struct frame *f;
	unsigned inner;

	if (x->depth == 0)
		return gofail(x->e, x->re, E_UNEXP_PAREN, x->re,
		    strlen(x->re), NULL);
	op_begin(x, OPND_NONE);
	inner = x->prod;
	f = &x->st[--x->depth];
	x->flags = f->flags;
	x->prod = f->prod;
	x->op = OPND_ATOM;
	x->op_start = f->start;
	x->op_prod = inner;
	x->t++;
	return sotto_buf_addch(x->out, ')') ? nomem(x) : SOTTO_OK;
}

/* An escape outside a class at x->t. */
static sotto_err
parse_backslash(struct tr *x)
{
	const char *t = x->t, *rest, *lit;
	struct cls k = { SOTTO_BUF_INIT, 0 };
	const char *as = NULL;
	uint32_t c;
	size_t n;
	sotto_err err = SOTTO_OK;

	if (x->end - t >= 2) {
		switch (t[1]) {
		case 'A': as = "\\A"; break;
		case 'z': as = "\\z"; break;
		case 'b': as = "\\b"; break;
		case 'B': as = "\\B"; break;
		case 'C':
			return fail(x, E_ESCAPE, t, 2);
		case 'Q':
			lit = t + 2;
			rest = lit;
			while (rest < x->end && !(rest[0] == '\\' &&
			    rest + 1 < x->end && rest[1] == 'E'))
				rest++;
			for (; lit < rest; lit += n) {
				if ((err = next_rune(x, lit, &c, &n)) ||
				    (err = emit_literal(x, c)))
					return err;
			}
			x->t = rest < x->end ? rest + 2 : rest;
			return SOTTO_OK;
		default:
			break;
		}
	}
	if (as != NULL) {
		op_begin(x, OPND_WRAP);
		x->t = t + 2;
		return sotto_buf_addstr(x->out, as) ? nomem(x) : SOTTO_OK;
	}
	if (unicode_class(x, t, &k, &rest, &err)) {
		if (err == SOTTO_OK) {
			x->t = rest;
			err = emit_class(x, &k, false);
		}
		sotto_buf_release(&k.items);
		return err;
	}
	if (perl_group(x, t, &k, &err)) {
		if (err == SOTTO_OK) {
			x->t = t + 2;
			err = emit_class(x, &k, false);
		}
		sotto_buf_release(&k.items);
		return err;
	}
	if ((err = parse_escape(x, t, &c, &rest)) != SOTTO_OK)
		return err;
	x->t = rest;
	return emit_literal(x, c);
}

static sotto_err
translate(struct tr *x)
{
	const char *before, *after, *rep;
	enum pf kind = PF_FLAGS;
	unsigned nf = 0;
	long min, max;
	uint32_t c;
	size_t n;
	sotto_err err;

	while (x->t < x->end) {
		rep = NULL;
		switch (*x->t) {
		case '(':
			if (x->end - x->t >= 2 && x->t[1] == '?') {
				if ((err = perl_flags(x, &kind, &nf)))
					return err;
				if (kind == PF_FLAGS)
					x->flags = nf;
				else if ((err = open_group(x, nf)))
					return err;
				break;
			}
			x->t++;
			if ((err = open_group(x, x->flags)))
				return err;
			break;
		case '|':
			op_begin(x, OPND_NONE);
			x->t++;
			if (sotto_buf_addch(x->out, '|'))
				return nomem(x);
			break;
		case ')':
			if ((err = close_group(x)))
				return err;
			break;
		case '^':
			op_begin(x, OPND_WRAP);
			x->t++;
			if (sotto_buf_addstr(x->out, (x->flags & F_ONELINE) ?
			    "\\A" : "(?m:^)"))
				return nomem(x);
			break;
		case '$':
			op_begin(x, OPND_WRAP);
			x->t++;
			if (sotto_buf_addstr(x->out, (x->flags & F_ONELINE) ?
			    "\\z" : "(?m:$)"))
				return nomem(x);
			break;
		case '.':
			op_begin(x, OPND_ATOM);
			x->t++;
			if (sotto_buf_addstr(x->out, (x->flags & F_DOTNL) ?
			    "(?s:.)" : "[^\\x{a}]"))
				return nomem(x);
			break;
		case '[':
			if ((err = parse_class(x)))
				return err;
			break;
		case '*': case '+': case '?':
			before = x->t;
			if ((err = repeat(x, before, before + 1, false, 0, 0)))
				return err;
			rep = before;
			break;
		case '{':
			before = x->t;
			if (!parse_repeat(before, x->end, &min, &max, &after)) {
				x->t++;
				if ((err = emit_literal(x, '{')))
					return err;
				break;
			}
			if (min < 0 || min > MAX_REPEAT || max > MAX_REPEAT ||
			    (max >= 0 && min > max))
				return fail(x, E_REPEAT_SIZE, before,
				    (size_t)(after - before));
			if ((err = repeat(x, before, after, true, min, max)))
				return err;
			rep = before;
			break;
		case '\\':
			if ((err = parse_backslash(x)))
				return err;
			break;
		default:
			if ((err = next_rune(x, x->t, &c, &n)))
				return err;
			x->t += n;
			if ((err = emit_literal(x, c)))
				return err;
		}
		x->last_rep = rep;
	}
	if (x->depth > 0)
		return gofail(x->e, x->re, E_PAREN, x->re, strlen(x->re),
		    NULL);
	return SOTTO_OK;
}

sotto_err
sotto_regex_translate(struct sotto_buf *out, const char *re2,
    struct sotto_error *e)
{
	struct tr x;
	sotto_err err;

	memset(&x, 0, sizeof(x));
	x.re = re2;
	x.t = re2;
	x.end = re2 + strlen(re2);
	x.flags = F_ONELINE;
	x.out = out;
	x.e = e;
	x.prod = 1;
	err = translate(&x);
	free(x.st);
	return err;
}
