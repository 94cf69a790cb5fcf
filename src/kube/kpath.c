/* SPDX-License-Identifier: ISC */
/*
 * The one way a name from a spec reaches the API server (issue #14).
 *
 * Every request path the agent sends is built here: each namespace, name
 * and resource segment is first checked against Kubernetes' own naming
 * rules (DNS-1123 label or subdomain as the field requires, or the
 * path-segment rule that the API server applies to any kind's name), and
 * then percent-encoded, so a tenant's "../../tenant-a/secrets/x" can
 * neither climb out of its namespace nor be rewritten later: libcurl gets
 * CURLOPT_PATH_AS_IS and sotto_kube_request() refuses any path that is not
 * plain visible ASCII without dot segments (kpath_safe()).  Header values
 * go through kheader_ok().
 */
#include "kube/kint.h"

#include <stdio.h>
#include <string.h>

static bool
lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One DNS-1123 label of len bytes at s: [a-z0-9]([-a-z0-9]*[a-z0-9])? */
static const char *
label_invalid(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return "empty label";
	if (len > 63)
		return "a label is longer than 63 characters";
	if (!lower_alnum(s[0]) || !lower_alnum(s[len - 1]))
		return "must start and end with a lowercase letter or digit";
	for (i = 1; i + 1 < len; i++)
		if (!lower_alnum(s[i]) && s[i] != '-')
			return "only lowercase letters, digits and '-' are "
			    "allowed";
	return NULL;
}

static const char *
control_or_empty(const char *s)
{
	const unsigned char *p;

	if (s == NULL || s[0] == '\0')
		return "must not be empty";
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "must not contain control characters";
	return NULL;
}

const char *
kname_invalid(const char *s, enum kname_rule rule)
{
	const char *why, *dot;
	size_t n;

	if ((why = control_or_empty(s)) != NULL)
		return why;
	n = strlen(s);
	switch (rule) {
	case KN_LABEL:
		if (n > 63)
			return "longer than 63 characters";
		return label_invalid(s, n) ? "not a DNS-1123 label (lowercase "
		    "letters, digits and '-', starting and ending with a "
		    "letter or digit)" : NULL;
	case KN_SUBDOMAIN:
		if (n > 253)
			return "longer than 253 characters";
		for (; s != NULL; s = dot ? dot + 1 : NULL) {
			dot = strchr(s, '.');
			if (label_invalid(s, dot ? (size_t)(dot - s) :
			    strlen(s)) != NULL)
				return "not a DNS-1123 subdomain (lowercase "
				    "letters, digits, '-' and '.', starting "
				    "and ending with a letter or digit)";
		}
		return NULL;
	case KN_SEGMENT:
		if (n > 253)
			return "longer than 253 characters";
		if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
			return "may not be '.' or '..'";
		if (strpbrk(s, "/%") != NULL)
			return "may not contain '/' or '%'";
		return NULL;
	}
	return "unknown naming rule";
}

void
kquote(char *out, size_t cap, const char *s)
{
	const unsigned char *p;
	size_t j = 0;

	if (cap == 0)
		return;
	for (p = (const unsigned char *)(s ? s : ""); *p != '\0'; p++) {
		if (j + 8 >= cap) {
			/* "…" marks the cut */
			if (j + 4 <= cap) {
				memcpy(out + j, "\xe2\x80\xa6", 3);
				j += 3;
			}
			break;
		}
		if (*p < 0x20 || *p == 0x7f || *p == '\'' || *p == '\\')
			j += (size_t)snprintf(out + j, cap - j, "\\x%02x", *p);
		else
			out[j++] = (char)*p;
	}
	out[j] = '\0';
}

sotto_err
kname_check(const char *field, const char *s, enum kname_rule rule,
    struct sotto_error *e)
{
	const char *why = kname_invalid(s, rule);
	char q[96];

	if (why == NULL)
		return SOTTO_OK;
	kquote(q, sizeof(q), s);
	return sotto_error_set(e, SOTTO_E_CONFIG, "%s '%s': %s", field, q, why);
}

/* Unreserved characters (RFC 3986) pass; everything else is %XX. */
static sotto_err
add_segment(struct sotto_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char esc[3];
	sotto_err rc = sotto_buf_addstr(b, "/");

	for (p = (const unsigned char *)s; rc == SOTTO_OK && *p != '\0'; p++) {
		if (lower_alnum((char)*p) || (*p >= 'A' && *p <= 'Z') ||
		    strchr("-._~:", *p) != NULL) {
			rc = sotto_buf_add(b, p, 1);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[*p >> 4];
		esc[2] = hex[*p & 15];
		rc = sotto_buf_add(b, esc, 3);
	}
	return rc;
}

sotto_err
kpath_build(struct sotto_buf *b, const struct kref *r, struct sotto_error *e)
{
	const char *why = NULL, *what = NULL, *bad = NULL;
	char q[96];
	sotto_err rc;

	if (r->group[0] != '\0' && (why = kname_invalid(r->group,
	    KN_SUBDOMAIN)) != NULL) {
		what = "API group";
		bad = r->group;
	} else if ((why = kname_invalid(r->version, KN_LABEL)) != NULL) {
		what = "API version";
		bad = r->version;
	} else if (r->plural != NULL && (why = kname_invalid(r->plural,
	    KN_SUBDOMAIN)) != NULL) {
		what = "resource";
		bad = r->plural;
	} else if (r->ns != NULL && (why = kname_invalid(r->ns, KN_LABEL)) !=
	    NULL) {
		what = "namespace";
		bad = r->ns;
	} else if (r->name != NULL && (why = kname_invalid(r->name,
	    KN_SEGMENT)) != NULL) {
		what = "name";
		bad = r->name;
	} else if (r->sub != NULL && (r->plural == NULL || r->name == NULL ||
	    (why = kname_invalid(r->sub, KN_LABEL)) != NULL)) {
		what = "subresource";
		bad = r->sub;
		if (why == NULL)
			why = "needs a resource and a name";
	} else if (r->plural == NULL && (r->ns != NULL || r->name != NULL)) {
		what = "resource";
		bad = "";
		why = "missing";
	}
	if (why != NULL) {
		kquote(q, sizeof(q), bad);
		return sotto_error_set(e, SOTTO_E_CONFIG, "%s '%s': %s", what,
		    q, why);
	}
	if (r->group[0] == '\0')
		rc = sotto_buf_addstr(b, "/api");
	else
		rc = sotto_buf_addstr(b, "/apis");
	if (rc == SOTTO_OK && r->group[0] != '\0')
		rc = add_segment(b, r->group);
	if (rc == SOTTO_OK)
		rc = add_segment(b, r->version);
	if (rc == SOTTO_OK && r->ns != NULL && (rc = add_segment(b,
	    "namespaces")) == SOTTO_OK)
		rc = add_segment(b, r->ns);
	if (rc == SOTTO_OK && r->plural != NULL)
		rc = add_segment(b, r->plural);
	if (rc == SOTTO_OK && r->name != NULL)
		rc = add_segment(b, r->name);
	if (rc == SOTTO_OK && r->sub != NULL)
		rc = add_segment(b, r->sub);
	if (rc != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

sotto_err
kpath_query(struct sotto_buf *b, const char *key, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	sotto_err rc;
	char esc[3];

	rc = sotto_buf_addf(b, "%c%s=", memchr(b->data ? (char *)b->data :
	    "", '?', b->len) ? '&' : '?', key);
	for (p = (const unsigned char *)value; rc == SOTTO_OK && *p != '\0';
	    p++) {
		if (lower_alnum((char)*p) || (*p >= 'A' && *p <= 'Z') ||
		    strchr("-._~", *p) != NULL) {
			rc = sotto_buf_add(b, p, 1);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[*p >> 4];
		esc[2] = hex[*p & 15];
		rc = sotto_buf_add(b, esc, 3);
	}
	return rc;
}

bool
kpath_safe(const char *path)
{
	const char *p, *seg;
	size_t n;

	if (path == NULL || path[0] != '/')
		return false;
	for (p = path; *p != '\0' && *p != '?'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    *p == '\\' || *p == '#')
			return false;
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    *p == '#')
			return false;
	/* no "." or ".." segment, raw or encoded, before the query */
	for (seg = path + 1; ; seg += n + 1) {
		n = strcspn(seg, "/?");
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' &&
		    seg[1] == '.'))
			return false;
		if (n >= 3 && strncasecmp(seg, "%2e", 3) == 0)
			return false;
		if (n >= 4 && seg[0] == '.' && strncasecmp(seg + 1, "%2e", 3)
		    == 0)
			return false;
		if (seg[n] != '/')
			break;
	}
	return true;
}

bool
kheader_ok(const char *v)
{
	const unsigned char *p;

	if (v == NULL)
		return false;
	for (p = (const unsigned char *)v; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return false;
	return true;
}
