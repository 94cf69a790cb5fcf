/* SPDX-License-Identifier: ISC */
/*
 * What the git source checks before a fetch: the GitRepository spec.url
 * allowlist (which also takes the userinfo out of the URL), and the cache
 * directory: its checks, its random key, and the name of each
 * GitRepository's own directory in it.  git.c does the fetch.
 */
#include "kube/kint.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "sotto/io.h"

void
kgit_esc(char *out, size_t cap, const char *s, size_t n, size_t max)
{
	size_t i, j = 0;
	unsigned char c;

	for (i = 0; i < n && i < max && j + 5 < cap; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			j += (size_t)snprintf(out + j, cap - j, "\\x%02x", c);
		else
			out[j++] = (char)c;
	}
	if (i < n && j + 4 <= cap) {
		memcpy(out + j, "...", 3);
		j += 3;
	}
	out[j] = '\0';
}

/* ---- spec.url --------------------------------------------------------- */

/*
 * The '@' that ends the userinfo of url, NULL if none.  rest is what
 * follows "scheme://" (or url itself when it has none).  Generous on
 * purpose, so that even a malformed URL is shown without its password:
 * with a scheme, the last '@' before the first '/', else, when that
 * "host" has a ':' and no port after it (a '/' in a password), the next
 * '@'; without one, the last '@' with a ':' after it.
 */
static const char *
userinfo_end(const char *url, const char *rest)
{
	const char *end = rest + strcspn(rest, "/"), *at, *colon;

	if (rest == url) {
		for (at = NULL; (rest = strchr(rest, '@')) != NULL; rest++)
			if (strchr(rest, ':') != NULL)
				at = rest;
		return at;
	}
	if ((at = memrchr(rest, '@', (size_t)(end - rest))) != NULL)
		return at;
	colon = memchr(rest, ':', (size_t)(end - rest));
	if (colon != NULL && rest[0] != '[' && strspn(colon + 1,
	    "0123456789") < (size_t)(end - colon - 1))
		return strchr(end, '@');
	return NULL;
}

void
kgit_url_shown(char *out, size_t cap, const char *url)
{
	const char *p = strstr(url, "://"), *a = p ? p + 3 : url, *at;

	at = userinfo_end(url, a);
	/* scheme://, then what follows the userinfo */
	kgit_esc(out, cap, url, (size_t)(a - url), 40);
	a = at ? at + 1 : a;
	kgit_esc(out + strlen(out), cap - strlen(out), a, strlen(a), 160);
}

void
kgit_url_wipe(struct kgit_url *u)
{
	sodium_memzero(u, sizeof(*u));
}

static bool
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static char
lower_char(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
static bool
scheme_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !is_alnum(s[0]) || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (i = 1; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '+' && s[i] != '-' &&
		    s[i] != '.')
			return false;
	return true;
}

/*
 * A DNS name or IPv4 address as git hosts are named: letters, digits,
 * '.', '-', '_', not starting with '-' (an option to a command line
 * ssh) or '.'.
 */
static bool
host_ok(const char *h, size_t n)
{
	size_t i;

	if (n == 0 || n > 253 || h[0] == '-' || h[0] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (!is_alnum(h[i]) && h[i] != '.' && h[i] != '-' &&
		    h[i] != '_')
			return false;
	return true;
}

/* The inside of "[...]": hex digits, ':' and '.' (IPv4-mapped). */
static bool
v6_ok(const char *h, size_t n)
{
	size_t i;

	if (n < 2 || n > 45 || memchr(h, ':', n) == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (!is_hex(h[i]) && h[i] != ':' && h[i] != '.')
			return false;
	return true;
}

/* Percent-decodes s[0..n) into out; false on a bad escape, NUL or size. */
static bool
pct_decode(char *out, size_t cap, const char *s, size_t n)
{
	size_t i, j = 0;
	char hex[3] = "";

	for (i = 0; i < n; i++) {
		if (j + 1 >= cap)
			return false;
		if (s[i] != '%') {
			out[j++] = s[i];
			continue;
		}
		if (i + 2 >= n || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
			return false;
		hex[0] = s[i + 1];
		hex[1] = s[i + 2];
		if ((out[j++] = (char)strtol(hex, NULL, 16)) == '\0')
			return false;
		i += 2;
	}
	out[j] = '\0';
	return true;
}

static sotto_err
url_refuse(struct sotto_error *e, const char *url, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* SOTTO_E_CONFIG "spec.url '<shown>': <fmt>" */
static sotto_err
url_refuse(struct sotto_error *e, const char *url, const char *fmt, ...)
{
	char shown[200], why[300];
	va_list ap;

	kgit_url_shown(shown, sizeof(shown), url);
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return sotto_error_set(e, SOTTO_E_CONFIG, "spec.url '%s': %s", shown,
	    why);
}

/* "scheme://[userinfo@]host[:port]/path" past the scheme's "://" */
static sotto_err
parse_authority(struct kgit_url *u, const char *url, const char *scheme,
    const char *rest, struct sotto_error *e)
{
	const char *end = rest + strcspn(rest, "/"), *at, *h, *colon = NULL;
	const char *pass;
	char shown[80], port[8] = "";
	size_t hn;
	long v = 0;

	if ((at = userinfo_end(url, rest)) != NULL && at > end)
		return url_refuse(e, url, "the user name or password has a '/' "
		    "(write it as %%2F)");
	if (at != NULL) {
		u->userinfo = true;
		pass = memchr(rest, ':', (size_t)(at - rest));
		if (!pct_decode(u->user, sizeof(u->user), rest,
		    (size_t)((pass ? pass : at) - rest)) || (pass != NULL &&
		    !pct_decode(u->pass, sizeof(u->pass), pass + 1,
		    (size_t)(at - pass - 1))))
			return url_refuse(e, url, "the user name or password "
			    "is not valid percent-encoding (or too long)");
		if (pass != NULL && u->scheme == KGIT_SSH)
			return url_refuse(e, url, "a password in an ssh URL is "
			    "not allowed (the Secret's 'identity' "
			    "authenticates)");
	}
	h = at ? at + 1 : rest;
	if (*h == '[') {
		const char *close = memchr(h, ']', (size_t)(end - h));

		if (close == NULL || !v6_ok(h + 1, (size_t)(close - h - 1)) ||
		    (close + 1 < end && close[1] != ':')) {
			kgit_esc(shown, sizeof(shown), h,
			    (size_t)(end - h), 60);
			return url_refuse(e, url, "host '%s' is not a valid "
			    "host name", shown);
		}
		hn = (size_t)(close - h - 1);
		memcpy(u->host, h + 1, hn);
		colon = close + 1 < end ? close + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hn = (size_t)((colon ? colon : end) - h);
		if (hn == 0)
			return url_refuse(e, url, "the host is empty");
		if (!host_ok(h, hn)) {
			kgit_esc(shown, sizeof(shown), h, hn, 60);
			return url_refuse(e, url, "host '%s' is not a valid "
			    "host name", shown);
		}
		memcpy(u->host, h, hn);
	}
	for (hn = 0; u->host[hn] != '\0'; hn++)
		u->host[hn] = lower_char(u->host[hn]);
	if (colon != NULL) {
		size_t pn = (size_t)(end - colon - 1);

		if (pn > 0 && pn < sizeof(port) && strspn(colon + 1,
		    "0123456789") >= pn) {
			memcpy(port, colon + 1, pn);
			v = strtol(port, NULL, 10);
		}
		if (v < 1 || v > 65535) {
			kgit_esc(shown, sizeof(shown), colon + 1, pn, 10);
			return url_refuse(e, url, "port '%s' is not valid",
			    shown);
		}
		u->port = (int)v;
		snprintf(port, sizeof(port), ":%ld", v);
	}
	if (end[0] == '\0' || end[1] == '\0')
		return url_refuse(e, url, "the repository path is empty");
	if (u->scheme == KGIT_SSH && strchr(end, '\'') != NULL)
		return url_refuse(e, url, "a quote (') in an ssh path is not "
		    "allowed");
	snprintf(u->url, sizeof(u->url), "%s://%s%s%s%s%s", scheme,
	    strchr(u->host, ':') ? "[" : "", u->host,
	    strchr(u->host, ':') ? "]" : "", port, end);
	return SOTTO_OK;
}

/* "[user@]host:path" (git's scp-like syntax for ssh) */
static sotto_err
parse_scp(struct kgit_url *u, const char *url, const char *colon,
    struct sotto_error *e)
{
	const char *at = memrchr(url, '@', (size_t)(colon - url));
	const char *h = at ? at + 1 : url, *path = colon + 1, *ui;
	char shown[80];
	size_t i;

	u->scheme = KGIT_SSH;
	u->port = 22;
	/* "user:password@host:path" reads as host "user" to git */
	if ((ui = userinfo_end(url, url)) != NULL && ui > colon)
		return url_refuse(e, url, "a password in an ssh URL is not "
		    "allowed (the Secret's 'identity' authenticates)");
	if (at != NULL) {
		u->userinfo = true;
		if ((size_t)(at - url) >= sizeof(u->user))
			return url_refuse(e, url, "the user name is too long");
		memcpy(u->user, url, (size_t)(at - url));
	}
	if (h == colon)
		return url_refuse(e, url, "the host is empty");
	if (*path == ':')
		return url_refuse(e, url, "'transport::address' URLs are not "
		    "allowed " KGIT_URL_HINT);
	if (!host_ok(h, (size_t)(colon - h))) {
		kgit_esc(shown, sizeof(shown), h, (size_t)(colon - h), 60);
		return url_refuse(e, url, "host '%s' is not a valid host name",
		    shown);
	}
	if (*path == '\0')
		return url_refuse(e, url, "the repository path is empty");
	if (strchr(path, '\'') != NULL)
		return url_refuse(e, url, "a quote (') in an ssh path is not "
		    "allowed");
	for (i = 0; h + i < colon; i++)
		u->host[i] = lower_char(h[i]);
	snprintf(u->url, sizeof(u->url), "%s:%s", u->host, path);
	return SOTTO_OK;
}

sotto_err
kgit_url_parse(struct kgit_url *u, const char *url, bool allow_http,
    bool allow_file, struct sotto_error *e)
{
	const char *p = strstr(url, "://"), *colon = strchr(url, ':');
	char scheme[16];
	size_t i, n = strlen(url), sn = p ? (size_t)(p - url) : 0;

	memset(u, 0, sizeof(*u));
	if (n == 0)
		return sotto_error_set(e, SOTTO_E_CONFIG, "spec.url is empty");
	if (n > 1024)
		return url_refuse(e, url, "longer than 1024 bytes");
	for (i = 0; i < n; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
			return url_refuse(e, url, "whitespace and control "
			    "bytes are not allowed");
	if (p == NULL || !scheme_ok(url, sn)) {
		if (colon != NULL && colon < url + strcspn(url, "/"))
			return parse_scp(u, url, colon, e);
		return url_refuse(e, url, "a local path is not a URL "
		    KGIT_URL_HINT);
	}
	for (i = 0; i < sn && i + 1 < sizeof(scheme); i++)
		scheme[i] = lower_char(url[i]);
	scheme[i] = '\0';
	if (sn < sizeof(scheme) && strcmp(scheme, "https") == 0) {
		u->scheme = KGIT_HTTPS;
		u->port = 443;
	} else if (sn < sizeof(scheme) && strcmp(scheme, "http") == 0 &&
	    allow_http) {
		u->scheme = KGIT_HTTP;
		u->port = 80;
	} else if (sn < sizeof(scheme) && (strcmp(scheme, "ssh") == 0 ||
	    strcmp(scheme, "ssh+git") == 0 || strcmp(scheme, "git+ssh") ==
	    0)) {
		u->scheme = KGIT_SSH;
		u->port = 22;
		snprintf(scheme, sizeof(scheme), "ssh");
	} else if (sn < sizeof(scheme) && strcmp(scheme, "file") == 0 &&
	    allow_file) {
		u->scheme = KGIT_FILE;
		if (p[3] != '/')
			return url_refuse(e, url, "a file:// URL takes no host "
			    "(file:///path)");
		if (strchr(p + 3, '%') != NULL)
			return url_refuse(e, url, "percent-encoding is not "
			    "allowed in a file:// path");
		snprintf(u->url, sizeof(u->url), "file://%s", p + 3);
		u->path = u->url + 7;
		return SOTTO_OK;
	} else {
		return url_refuse(e, url, "scheme '%.*s' is not allowed "
		    KGIT_URL_HINT, (int)(sn < 16 ? sn : 16), url);
	}
	return parse_authority(u, url, scheme, p + 3, e);
}

/* ---- the cache ---------------------------------------------------------- */

/* Kubernetes' DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, <= max */
static bool
dns_label(const char *s, size_t n, size_t max)
{
	size_t i;

	if (n == 0 || n > max || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* DNS-1123 subdomain: labels joined by '.', at most 253 bytes */
static bool
dns_subdomain(const char *s)
{
	size_t n = strlen(s), len;

	if (n == 0 || n > 253)
		return false;
	for (;;) {
		len = strcspn(s, ".");
		if (!dns_label(s, len, 63))
			return false;
		if (s[len] == '\0')
			return true;
		s += len + 1;
	}
}

/* One length-prefixed field (NULL and "" differ) into the hash. */
static void
hash_field(crypto_generichash_state *st, const void *p, size_t n)
{
	uint8_t head[9];
	size_t i;

	head[0] = p != NULL;
	for (i = 0; i < 8; i++)
		head[1 + i] = (uint8_t)((uint64_t)n >> (8 * i));
	crypto_generichash_update(st, head, sizeof(head));
	if (p != NULL && n > 0)
		crypto_generichash_update(st, p, n);
}

static void
hash_str(crypto_generichash_state *st, const char *s)
{
	hash_field(st, s, s != NULL ? strlen(s) : 0);
}

sotto_err
kgit_cache_name(char *out, size_t cap, const struct kgit_ref *ref,
    const struct kgit_url *u, const uint8_t key[KGIT_CACHE_KEY_BYTES],
    struct sotto_error *e)
{
	crypto_generichash_state st;
	uint8_t h[16];
	char hex[sizeof(h) * 2 + 1], shown[80];
	const char *ns = ref->src_ns ? ref->src_ns : "";
	const char *name = ref->src_name ? ref->src_name : "";
	size_t nn = strlen(name);

	if (!dns_label(ns, strlen(ns), 63)) {
		kgit_esc(shown, sizeof(shown), ns, strlen(ns), 63);
		return sotto_error_set(e, SOTTO_E_CONFIG, "GitRepository "
		    "namespace '%s' is not a valid DNS-1123 label", shown);
	}
	if (!dns_subdomain(name)) {
		kgit_esc(shown, sizeof(shown), name, strlen(name), 63);
		return sotto_error_set(e, SOTTO_E_CONFIG, "GitRepository name "
		    "'%s' is not a valid DNS-1123 subdomain", shown);
	}
#define HS(s) hash_str(&st, (s))
	crypto_generichash_init(&st, key, KGIT_CACHE_KEY_BYTES, sizeof(h));
	HS("sotto git cache 1");
	HS(ns);
	HS(name);
	HS(u->url);
	HS(u->userinfo ? u->user : NULL);
	HS(u->userinfo ? u->pass : NULL);
	HS(ref->username);
	HS(ref->password);
	HS(ref->bearer);
	HS(ref->identity);
	HS(ref->identity_pub);
	HS(ref->known_hosts);
	hash_field(&st, ref->ca, ref->ca ? ref->ca_len : 0);
#undef HS
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_memzero(&st, sizeof(st));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	/* 63 + 1 + 150 + 1 + 32 < NAME_MAX; the hash covers the whole name */
	snprintf(out, cap, "%s_%.*s_%s", ns, (int)(nn > 150 ? 150 : nn), name,
	    hex);
	return SOTTO_OK;
}

sotto_err
kgit_private_dir(const char *dir, bool parents, struct sotto_error *e)
{
	struct stat st;
	char tmp[4096], shown[200], *p;

	kgit_esc(shown, sizeof(shown), dir, strlen(dir), 160);
	if (dir[0] == '\0' || strlen(dir) >= sizeof(tmp))
		return sotto_error_set(e, SOTTO_E_IO, "cache directory '%s' is "
		    "not a usable path", shown);
	if (lstat(dir, &st) != 0 && errno == ENOENT) {
		snprintf(tmp, sizeof(tmp), "%s", dir);
		for (p = tmp + 1; parents && (p = strchr(p, '/')) != NULL;
		    p++) {
			*p = '\0';
			if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
				return sotto_error_set(e, SOTTO_E_IO, "cannot "
				    "create cache directory '%s': %s", shown,
				    strerror(errno));
			*p = '/';
		}
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return sotto_error_set(e, SOTTO_E_IO, "cannot create "
			    "cache directory '%s': %s", shown, strerror(errno));
	}
	if (lstat(dir, &st) != 0)
		return sotto_error_set(e, SOTTO_E_IO, "cannot use cache "
		    "directory '%s': %s", shown, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return sotto_error_set(e, SOTTO_E_IO, "cache directory '%s' is "
		    "a symlink", shown);
	if (!S_ISDIR(st.st_mode))
		return sotto_error_set(e, SOTTO_E_IO, "cache directory '%s' is "
		    "not a directory", shown);
	if (st.st_uid != geteuid())
		return sotto_error_set(e, SOTTO_E_IO, "cache directory '%s' is "
		    "owned by uid %lu, not by this process (uid %lu)", shown,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
	if (st.st_mode & 077)
		return sotto_error_set(e, SOTTO_E_IO, "cache directory '%s' is "
		    "open to group or others (mode %04o): it must be 0700",
		    shown, (unsigned)(st.st_mode & 07777));
	return SOTTO_OK;
}

sotto_err
sotto_reconcile_cache_dir(const char *dir, struct sotto_error *e)
{
	return kgit_private_dir(dir, true, e);
}

/*
 * Creates path holding key, whole or not at all: written to a temporary
 * file in root and linked into place, so a worker or agent reading it at
 * the same time never sees it half written.  SOTTO_E_EXISTS when another
 * made it first.
 */
static sotto_err
new_key_file(const char *path, const char *root,
    const uint8_t key[KGIT_CACHE_KEY_BYTES], struct sotto_error *e)
{
	char tmp[4200];
	sotto_err rc = SOTTO_OK;
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s/.cache-key.XXXXXX", root);
	if ((fd = mkstemp(tmp)) < 0)	/* mode 0600 */
		return sotto_error_set(e, SOTTO_E_IO, "cannot create a file "
		    "in '%s': %s", root, strerror(errno));
	errno = 0;
	if (sotto_io_write_all(fd, key, KGIT_CACHE_KEY_BYTES) != SOTTO_OK ||
	    fsync(fd) != 0)
		err = errno ? errno : EIO;
	if (close(fd) != 0 && err == 0)
		err = errno;
	if (err == 0 && link(tmp, path) != 0)
		err = errno;
	unlink(tmp);
	if (err == EEXIST)
		rc = SOTTO_E_EXISTS;
	else if (err != 0)
		rc = sotto_error_set(e, SOTTO_E_IO, "cannot write '%s': %s",
		    path, strerror(err));
	return rc;
}

/* Without the key, a name would let anyone who lists the cache try
 * passwords. */
sotto_err
kgit_cache_key(uint8_t key[KGIT_CACHE_KEY_BYTES], const char *root,
    struct sotto_error *e)
{
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	struct sotto_error re = { SOTTO_OK, "" };
	char path[4200], shown[200];
	sotto_err rc = SOTTO_OK;
	int tries;

	snprintf(path, sizeof(path), "%s/cache-key", root);
	for (tries = 0; tries < 2; tries++) {
		rc = sotto_io_read_file(&b, path, 64, &re);
		if (rc == SOTTO_OK && b.len == KGIT_CACHE_KEY_BYTES) {
			memcpy(key, b.data, KGIT_CACHE_KEY_BYTES);
			break;
		}
		if (rc == SOTTO_OK) {
			kgit_esc(shown, sizeof(shown), path, strlen(path), 160);
			rc = sotto_error_set(&re, SOTTO_E_IO, "cache key '%s' "
			    "is damaged: remove it (every source is then "
			    "fetched afresh)", shown);
			break;
		}
		if (rc != SOTTO_E_NOTFOUND)
			break;
		randombytes_buf(key, KGIT_CACHE_KEY_BYTES);
		if ((rc = new_key_file(path, root, key, &re)) !=
		    SOTTO_E_EXISTS)
			break;	/* else another worker made it: read that */
	}
	/* e is left alone on success: a missing key is no error */
	if (rc != SOTTO_OK)
		*e = re;
	sotto_buf_release(&b);
	return rc;
}

/* ---- file:// ------------------------------------------------------------ */

/* Lexical "/a/./b/../c" -> "/a/c" (absolute paths). */
static void
lexical(char *out, size_t cap, const char *path)
{
	size_t j = 0, n;
	const char *s = path;

	out[0] = '\0';
	while (*s != '\0') {
		while (*s == '/')
			s++;
		n = strcspn(s, "/");
		if (n == 0 || (n == 1 && s[0] == '.')) {
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (j > 0 && out[--j] != '/')
				;
		} else if (j + n + 2 < cap) {
			out[j++] = '/';
			memcpy(out + j, s, n);
			j += n;
		}
		out[j] = '\0';
		s += n;
	}
	if (j == 0)
		snprintf(out, cap, "/");
}

static bool
under(const char *path, const char *root)
{
	size_t n = strlen(root);

	return strcmp(root, "/") == 0 || (strncmp(path, root, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/'));
}

sotto_err
kgit_url_outside(const struct kgit_url *u, const char *url,
    const char *root, struct sotto_error *e)
{
	char rr[PATH_MAX], rp[PATH_MAX], lp[PATH_MAX], shown[200];

	if (realpath(root, rr) == NULL) {
		kgit_esc(shown, sizeof(shown), root, strlen(root), 160);
		return sotto_error_set(e, SOTTO_E_IO, "cannot resolve cache "
		    "directory '%s': %s", shown, strerror(errno));
	}
	lexical(lp, sizeof(lp), u->path);
	/* a path that does not resolve cannot be opened either */
	if (under(lp, rr) || (realpath(u->path, rp) != NULL &&
	    under(rp, rr)))
		return url_refuse(e, url, "the path is inside the agent's git "
		    "cache directory");
	return SOTTO_OK;
}
