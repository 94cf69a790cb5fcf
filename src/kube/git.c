/* SPDX-License-Identifier: ISC */
/*
 * The reconciler's source: an incremental libgit2 fetch of one branch, tag
 * or commit into a cache repository, checked out into the cache's work
 * tree (ciphertext only: decryption happens in memory, later).  libgit2 is
 * loaded with dlopen() through src/git/lg2.c, in the fetch's child only.
 * Revision strings follow Flux: "<branch>@sha1:<hex>".
 *
 * Every GitRepository spec.url passes one allowlist (kgit_url_parse())
 * before anything else sees it, and loses its userinfo there: libgit2, the
 * cache's name, its config and every message get the URL without it.  The
 * cache of a GitRepository is its own directory, named by its namespace and
 * name and a keyed hash of its URL and credentials, so a tenant's source
 * (suspended or not) never reads another's checkout.
 *
 * The fetch runs in a forked child: libgit2 and its TLS/SSH libraries are
 * then never mapped into the long-running agent, the memory a pack download
 * takes goes back to the system when the child exits, and a server that
 * never answers costs one spec.timeout: the child is killed then.  The
 * child hands back the result and the error over a pipe.
 *
 * Authentication follows Flux's source-controller, with the Secret entries
 * that reconcile.c decodes into struct kgit_ref: https basic auth or a
 * bearer token, plus ca.crt checked in the certificate callback (the
 * X.509 work is in crypto/hostverify.c); ssh keys from memory, and the
 * server's host key checked against known_hosts here, since libgit2 1.5
 * leaves that to the caller.  Credentials stay in memory and go only to
 * the scheme, host and port of spec.url: libgit2 follows no redirect to
 * another host.  libgit2 copies the key into its credential object and
 * wipes it when freed, and the child's copies of the parent's buffers die
 * with the child.
 */
#include "kube/kint.h"

#include <ctype.h>
#include <dirent.h>
#include "git/lg2.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <git2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/b64.h"
#include "crypto/hostverify.h"
#include "sotto/io.h"

/* libgit2's message (server text among it: ssh stderr), escaped. */
static sotto_err
kg_fail(struct lg2 *g, struct sotto_error *e, const char *what)
{
	const git_error *ge = g->git_error_last();
	const char *m = ge && ge->message ? ge->message :
	    "unknown libgit2 error";
	char msg[320];

	kgit_esc(msg, sizeof(msg), m, strlen(m), 240);
	return sotto_error_set(e, SOTTO_E_GIT, "%s: %s%s", what, msg,
	    strncmp(m, "cannot redirect from", 20) == 0 ? " (redirects to "
	    "another host are not followed: credentials go only to the "
	    "host of spec.url)" : "");
}

/* ---- authentication ----------------------------------------------------- */

/*
 * One fetch: the parsed URL and the credentials that go with it.  The
 * parent fills it; the child reads its copy.
 */
struct plan {
	const struct kgit_ref *ref;	/* the spec and Secret (borrowed) */
	struct kgit_url u;		/* spec.url taken apart */
	char shown[200];		/* u.url for messages */
	const char *user, *pass;	/* https basic auth: the Secret's,
					   else the URL's (Flux's rule) */
	bool user_from_url;		/* user is the URL's */
	const char *ssh_user;		/* the URL's user, else "git" */
	char workdir[4096];		/* the cache repository */
};

/*
 * State shared by the credential and certificate callbacks of one fetch.
 * Callbacks that refuse leave their reason in msg, which then replaces
 * libgit2's generic text ("user rejected certificate").
 */
struct auth_ctx {
	const struct kgit_ref *ref;	/* credentials (borrowed) */
	const struct plan *p;		/* URL and effective credentials */
	struct lg2 *g;			/* credential constructors */
	bool ssh;			/* ssh:// or scp-like URL */
	char host[256];			/* URL host, lowercase */
	int port;			/* URL port (22 or 443 when absent) */
	int tries;			/* libgit2 asks again after a refusal */
	bool hostkey_ok;		/* check_hostkey() accepted a key */
	bool auth;			/* msg is cred_cb's: the Secret's
					   credentials were refused */
	char msg[400];			/* why a callback refused, or "" */
	char src[300];			/* creds_of()'s text */
};

static char
lower_char(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static const char *
secret_name(const struct auth_ctx *a)
{
	return a->ref->secret != NULL ? a->ref->secret : "(none)";
}

/* Where the credentials sent come from, for messages. */
static const char *
creds_of(struct auth_ctx *a)
{
	if (a->p->user_from_url && a->ref->password == NULL)
		return "spec.url";
	snprintf(a->src, sizeof(a->src), "Secret '%s'%s", secret_name(a),
	    a->p->user_from_url || (a->p->user != NULL &&
	    a->ref->password == NULL && a->p->u.pass[0] != '\0') ?
	    " and spec.url" : "");
	return a->src;
}

static int
refuse(struct auth_ctx *a, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(struct auth_ctx *a, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->msg, sizeof(a->msg), fmt, ap);
	va_end(ap);
	a->auth = code == GIT_EAUTH;
	return code;
}

/* Is url (what libgit2 asks credentials for) spec.url's server? */
static bool
same_server(const struct auth_ctx *a, const char *url, char *shown,
    size_t cap)
{
	struct kgit_url t;
	struct sotto_error ignored = { SOTTO_OK, "" };
	bool same;

	kgit_url_shown(shown, cap, url ? url : "");
	if (url == NULL || kgit_url_parse(&t, url, true, true, &ignored) !=
	    SOTTO_OK)
		return false;
	same = t.scheme == a->p->u.scheme && t.port == a->p->u.port &&
	    strcmp(t.host, a->p->u.host) == 0;
	kgit_url_wipe(&t);
	return same;
}

static int
cred_cb(git_credential **out, const char *url, const char *user_from_url,
    unsigned int allowed, void *payload)
{
	struct auth_ctx *a = payload;
	const struct kgit_ref *r = a->ref;
	const char *user = a->p->ssh_user;
	const git_error *ge;
	char shown[200];

	(void)user_from_url;	/* the URL libgit2 has carries no user */
	if (!same_server(a, url, shown, sizeof(shown)))
		return refuse(a, GIT_EAUTH, "credentials for '%s' refused: "
		    "they go only to the scheme, host and port of spec.url "
		    "('%s')", shown, a->p->shown);
	if (allowed & GIT_CREDENTIAL_USERNAME)	/* ssh: the login first */
		return a->g->git_credential_username_new(out, user);
	if (a->tries++ > 0) {
		/* libssh2's reason (wrong passphrase, key refused) */
		ge = a->g->git_error_last();
		shown[0] = '\0';
		if (ge != NULL && ge->message != NULL)
			kgit_esc(shown, sizeof(shown), ge->message,
			    strlen(ge->message), 160);
		return refuse(a, GIT_EAUTH, "authentication to '%s' failed "
		    "with the credentials of %s%s%s", a->host, creds_of(a),
		    shown[0] ? ": " : "", shown);
	}
	if ((allowed & GIT_CREDENTIAL_SSH_MEMORY) && r->identity != NULL)
		return a->g->git_credential_ssh_key_memory_new(out, user,
		    r->identity_pub, r->identity, r->password);
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !a->ssh &&
	    a->p->user != NULL)
		return a->g->git_credential_userpass_plaintext_new(out,
		    a->p->user, a->p->pass ? a->p->pass : "");
	if (r->bearer != NULL && !a->ssh)
		return refuse(a, GIT_EAUTH, "authentication to '%s' failed "
		    "with the bearerToken of Secret '%s'", a->host,
		    secret_name(a));
	if (a->ssh)
		return refuse(a, GIT_EAUTH, "'%s' asks for an ssh key: Secret "
		    "'%s' needs an 'identity' entry", a->host, secret_name(a));
	return refuse(a, GIT_EAUTH, "'%s' asks for credentials: Secret '%s' "
	    "needs 'username' and 'password' (or 'bearerToken')", a->host,
	    secret_name(a));
}

static int
check_x509(struct auth_ctx *a, const git_cert_x509 *c, int valid,
    const char *host)
{
	struct sotto_error ve = { SOTTO_OK, "" };
	char shown[80];

	/* no redirect leaves spec.url's host; should one, it ends here */
	if (host != NULL && strcasecmp(host, a->host) != 0) {
		kgit_esc(shown, sizeof(shown), host, strlen(host), 60);
		return refuse(a, GIT_ECERTIFICATE, "TLS connection to '%s' "
		    "refused: it is not the host of spec.url ('%s')", shown,
		    a->host);
	}
	/* like Flux, ca.crt adds to the system roots */
	if (valid || a->ref->ca == NULL)
		return GIT_PASSTHROUGH;
	if (sotto_hostverify_x509(c->data, c->len, a->ref->ca, a->ref->ca_len,
	    host ? host : a->host, &ve) != SOTTO_OK)
		return refuse(a, GIT_ECERTIFICATE, "TLS certificate check "
		    "failed with the ca.crt of Secret '%s': %s", secret_name(a),
		    ve.msg);
	return 0;
}

/*
 * Case-insensitive glob with '*' and '?' (known_hosts patterns).  Linear
 * backtracking to the last '*': a tenant's known_hosts cannot make the
 * fetch spin.
 */
static bool
glob_match(const char *p, size_t pn, const char *s)
{
	size_t i = 0, star = (size_t)-1;
	const char *mark = NULL;

	while (*s != '\0') {
		if (i < pn && p[i] == '*') {
			star = i++;
			mark = s;
		} else if (i < pn && (p[i] == '?' ||
		    lower_char(p[i]) == lower_char(*s))) {
			i++;
			s++;
		} else if (mark != NULL) {
			i = star + 1;
			s = ++mark;
		} else {
			return false;
		}
	}
	while (i < pn && p[i] == '*')
		i++;
	return i == pn;
}

/* "|1|salt|hmac": HMAC-SHA1(salt, name) == hmac */
static bool
hashed_match(const char *f, size_t n, const char *name)
{
	uint8_t salt[64], want[64], got[20];
	const char *bar;
	size_t sn = 0, wn = 0;

	f += 3;
	n -= 3;
	if ((bar = memchr(f, '|', n)) == NULL ||
	    SOTTO_B64_DECODED_MAX((size_t)(bar - f)) > sizeof(salt) ||
	    SOTTO_B64_DECODED_MAX(n - (size_t)(bar - f) - 1) > sizeof(want) ||
	    !sotto_b64_decode(salt, &sn, f, (size_t)(bar - f), true) ||
	    !sotto_b64_decode(want, &wn, bar + 1, n - (size_t)(bar - f) - 1,
	    true) || wn != sizeof(got) ||
	    !sotto_hostverify_hmac_sha1(got, salt, sn, (const uint8_t *)name,
	    strlen(name)))
		return false;
	return sodium_memcmp(got, want, sizeof(got)) == 0;
}

/*
 * Does a known_hosts host field name `name`?  1: yes, 0: no, -1: a
 * negated pattern ("!host") matched, which rules the line out.
 */
static int
hosts_match(const char *f, size_t n, const char *name)
{
	const char *comma;
	size_t len;
	int hit = 0;

	if (n > 3 && memcmp(f, "|1|", 3) == 0)
		return hashed_match(f, n, name) ? 1 : 0;
	while (n > 0) {
		comma = memchr(f, ',', n);
		len = comma ? (size_t)(comma - f) : n;
		if (len > 1 && f[0] == '!' && glob_match(f + 1, len - 1, name))
			return -1;
		if (len > 0 && f[0] != '!' && glob_match(f, len, name))
			hit = 1;
		f += len + (comma != NULL);
		n -= len + (comma != NULL);
	}
	return hit;
}

/* Next whitespace-separated field of line [*p, end); false at the end. */
static bool
next_field(const char **p, const char *end, const char **f, size_t *n)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end)
		return false;
	*f = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*n = (size_t)(s - *f);
	*p = s;
	return true;
}

enum kh_verdict { KH_UNKNOWN, KH_OTHER_KEY, KH_MATCH, KH_REVOKED };

/* One known_hosts line against the offered key blob. */
static enum kh_verdict
kh_line(const char *p, const char *end, const char *name, const uint8_t *key,
    size_t keylen)
{
	const char *f, *hosts, *type;
	size_t n, hn, tn, got = 0;
	bool revoked = false;
	uint8_t blob[2048];

	if (!next_field(&p, end, &f, &n) || f[0] == '#')
		return KH_UNKNOWN;
	if (f[0] == '@') {	/* markers: @revoked, @cert-authority */
		if (n != 8 || memcmp(f, "@revoked", 8) != 0)
			return KH_UNKNOWN;	/* CAs are not supported */
		revoked = true;
		if (!next_field(&p, end, &f, &n))
			return KH_UNKNOWN;
	}
	hosts = f;
	hn = n;
	if (!next_field(&p, end, &type, &tn) || !next_field(&p, end, &f, &n) ||
	    hosts_match(hosts, hn, name) != 1)
		return KH_UNKNOWN;
	if (SOTTO_B64_DECODED_MAX(n) > sizeof(blob) ||
	    !sotto_b64_decode(blob, &got, f, n, true) || got != keylen ||
	    sodium_memcmp(blob, key, keylen) != 0)
		return revoked ? KH_UNKNOWN : KH_OTHER_KEY;
	return revoked ? KH_REVOKED : KH_MATCH;
}

const char *
kgit_ssh_key_type(int t)
{
	switch ((git_cert_ssh_raw_type_t)t) {
	case GIT_CERT_SSH_RAW_TYPE_RSA:
		return "ssh-rsa";
	case GIT_CERT_SSH_RAW_TYPE_DSS:
		return "ssh-dss";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256:
		return "ecdsa-sha2-nistp256";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384:
		return "ecdsa-sha2-nistp384";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521:
		return "ecdsa-sha2-nistp521";
	case GIT_CERT_SSH_RAW_TYPE_KEY_ED25519:
		return "ssh-ed25519";
	default:
		return "unknown";
	}
}

int
kgit_known_host(const char *kh, const char *name, const uint8_t *key,
    size_t keylen)
{
	const char *p = kh, *nl, *end = kh + strlen(kh);
	enum kh_verdict v, best = KH_UNKNOWN;

	for (; p < end && best != KH_REVOKED; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		v = kh_line(p, nl > p && nl[-1] == '\r' ? nl - 1 : nl, name,
		    key, keylen);
		if (v > best)
			best = v;
	}
	return (int)best;
}

/*
 * The ssh host key against known_hosts, OpenSSH's way: the name looked up
 * is "host" on port 22 and "[host]:port" otherwise; a matching @revoked
 * line wins, then any line with this host and this key.
 */
static int
check_hostkey(struct auth_ctx *a, const git_cert_hostkey *c)
{
	const char *p = a->ref->known_hosts;
	enum kh_verdict best;
	char name[300];

	if (a->port == 22)
		snprintf(name, sizeof(name), "%s", a->host);
	else
		snprintf(name, sizeof(name), "[%s]:%d", a->host, a->port);
	if (!(c->type & GIT_CERT_SSH_RAW) || c->hostkey == NULL)
		return refuse(a, GIT_ECERTIFICATE, "host key verification "
		    "failed for '%s': libgit2 gave no raw host key", name);
	best = (enum kh_verdict)kgit_known_host(p, name,
	    (const uint8_t *)c->hostkey, c->hostkey_len);
	if (best == KH_MATCH) {
		a->hostkey_ok = true;
		return 0;
	}
	if (best == KH_REVOKED)
		return refuse(a, GIT_ECERTIFICATE, "host key verification "
		    "failed: the %s key of '%s' is @revoked in the "
		    "known_hosts of Secret '%s'", kgit_ssh_key_type((int)c->raw_type),
		    name, secret_name(a));
	if (best == KH_OTHER_KEY)
		return refuse(a, GIT_ECERTIFICATE, "host key verification "
		    "failed: the %s key of '%s' does not match the known_hosts "
		    "of Secret '%s'", kgit_ssh_key_type((int)c->raw_type), name,
		    secret_name(a));
	return refuse(a, GIT_ECERTIFICATE, "host key verification failed: "
	    "'%s' is not in the known_hosts of Secret '%s'", name,
	    secret_name(a));
}

static int
cert_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	struct auth_ctx *a = payload;

	if (cert->cert_type == GIT_CERT_X509)
		return check_x509(a, (const git_cert_x509 *)cert, valid, host);
	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2)
		return check_hostkey(a, (const git_cert_hostkey *)cert);
	return GIT_PASSTHROUGH;
}

/*
 * The cache repository at dir, made on first use without reflogs: a
 * reflog would keep every URL and ref update of the source on disk.
 */
static sotto_err
open_cache(struct lg2 *g, git_repository **repo, const char *dir,
    struct sotto_error *e)
{
	git_config *cfg = NULL;
	int bad;

	if (g->git_repository_open(repo, dir) == 0)
		return SOTTO_OK;
	if (g->git_repository_init(repo, dir, 0) != 0)
		return kg_fail(g, e, "cannot create the git cache");
	bad = g->git_repository_config(&cfg, *repo) != 0 ||
	    g->git_config_set_bool(cfg, "core.logAllRefUpdates", 0) != 0;
	if (cfg != NULL)
		g->git_config_free(cfg);
	g->git_repository_free(*repo);
	*repo = NULL;
	/* opened again: nothing cached from before the setting */
	if (bad || g->git_repository_open(repo, dir) != 0)
		return kg_fail(g, e, "cannot set up the git cache");
	return SOTTO_OK;
}

/*
 * The refspecs a fetch of ref needs (at most 2).  Flux's precedence:
 * commit, then name, semver, tag, branch.  A commit is looked for on its
 * branch when one is given, else on every branch and tag.
 */
static size_t
refspecs_for(char spec[2][512], const struct kgit_ref *ref)
{
	if (ref->commit != NULL && ref->branch == NULL) {
		snprintf(spec[0], 512, "+refs/heads/*:refs/remotes/origin/*");
		snprintf(spec[1], 512, "+refs/tags/*:refs/tags/*");
		return 2;
	}
	if (ref->commit == NULL && ref->name != NULL)
		snprintf(spec[0], 512, "+%s:refs/sotto/ref", ref->name);
	else if (ref->commit == NULL && ref->semver != NULL)
		snprintf(spec[0], 512, "+refs/tags/*:refs/tags/*");
	else if (ref->commit == NULL && ref->tag != NULL)
		snprintf(spec[0], 512, "+refs/tags/%s:refs/tags/%s", ref->tag,
		    ref->tag);
	else
		snprintf(spec[0], 512, "+refs/heads/%s:refs/remotes/origin/%s",
		    ref->branch, ref->branch);
	return 1;
}

/* *auth: the failure is the Secret's (missing or refused credentials). */
static sotto_err
do_fetch(struct lg2 *g, git_repository *repo, const struct plan *p,
    bool *auth, struct sotto_error *e)
{
	const struct kgit_ref *ref = p->ref;
	struct auth_ctx a;
	struct sotto_buf hdr = SOTTO_BUF_SECRET_INIT;	/* bearer token */
	char *hdrs[1];
	git_remote *remote = NULL;
	git_remote_create_options ro;
	git_fetch_options fo;
	char spec[2][512];
	char *specs[2] = { spec[0], spec[1] };
	git_strarray refspecs = { specs, 1 };
	sotto_err rc = SOTTO_OK;

	memset(&a, 0, sizeof(a));
	a.ref = ref;
	a.p = p;
	a.g = g;
	a.ssh = p->u.scheme == KGIT_SSH;
	a.port = p->u.port;
	snprintf(a.host, sizeof(a.host), "%s", p->u.host);
	*auth = a.ssh && ref->known_hosts == NULL;
	if (*auth)
		return sotto_error_set(e, SOTTO_E_GIT, "ssh source '%s' needs "
		    "'known_hosts' in Secret '%s': host keys are always "
		    "verified", a.host, secret_name(&a));
	refspecs.count = refspecs_for(spec, ref);
	g->git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	fo.callbacks.credentials = cred_cb;
	fo.callbacks.certificate_check = cert_cb;
	fo.callbacks.payload = &a;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.update_fetchhead = 0;	/* FETCH_HEAD would name the URL */
	/* a redirect may stay on the host (libgit2 then checks the scheme
	 * only goes to https); the bearer header is sent on every request,
	 * so no request may go to another host */
	fo.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	if (ref->commit == NULL && ref->name == NULL && ref->semver != NULL)
		fo.prune = GIT_FETCH_PRUNE;	/* a deleted tag leaves */
	/* Flux sends a bearer token only over https, and basic auth wins */
	if (ref->bearer != NULL && p->user == NULL &&
	    p->u.scheme == KGIT_HTTPS) {
		/* a header value: a CR or LF would start another header */
		if (!kheader_ok(ref->bearer)) {
			*auth = true;
			return sotto_error_set(e, SOTTO_E_GIT, "the bearerToken "
			    "of Secret '%s' holds control characters",
			    ref->secret != NULL ? ref->secret : "(none)");
		}
		if (sotto_buf_addf(&hdr, "Authorization: Bearer %s",
		    ref->bearer) != SOTTO_OK)
			return sotto_error_set(e, SOTTO_E_NOMEM, "out of "
			    "memory");
		hdrs[0] = (char *)hdr.data;
		fo.custom_headers.strings = hdrs;
		fo.custom_headers.count = 1;
	}
	g->git_remote_create_options_init(&ro,
	    GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = repo;
	/* the agent's own git config may not rewrite a tenant's URL */
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
	    GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (g->git_remote_create_with_opts(&remote, p->u.url, &ro) != 0 ||
	    g->git_remote_fetch(remote, &refspecs, &fo, NULL) != 0)
		rc = a.msg[0] != '\0' ? sotto_error_set(e, SOTTO_E_GIT,
		    "failed to fetch: %s", a.msg) : kg_fail(g, e,
		    "failed to fetch");
	*auth = rc != SOTTO_OK && a.msg[0] != '\0' && a.auth;
	/* fail closed should a libgit2 build skip the certificate callback */
	if (rc == SOTTO_OK && a.ssh && !a.hostkey_ok)
		rc = sotto_error_set(e, SOTTO_E_GIT, "host key verification "
		    "failed: '%s' presented no host key to check", a.host);
	if (remote != NULL)
		g->git_remote_free(remote);
	sotto_buf_release(&hdr);
	return rc;
}

/* spec.ref.semver: the highest tag in range (refs/tags/<tag> in spec). */
static sotto_err
semver_tag(struct lg2 *g, git_repository *repo, const char *range,
    char *tag, size_t tagcap, struct sotto_error *e)
{
	git_strarray tags = { NULL, 0 };
	size_t best = 0;
	sotto_err rc;

	if (g->git_tag_list(&tags, repo) != 0)
		return kg_fail(g, e, "cannot list tags");
	rc = ksemver_best(&best, range, (const char *const *)tags.strings,
	    tags.count, e);
	if (rc == SOTTO_OK)
		snprintf(tag, tagcap, "%s", tags.strings[best]);
	g->git_strarray_dispose(&tags);
	return rc;
}

/*
 * The commit ref names and its Flux revision string: "<branch>@sha1:<hex>",
 * "<tag>@sha1:…" (also for semver), "<name>@sha1:…", or "sha1:…" for a bare
 * commit.
 */
static sotto_err
resolve(struct lg2 *g, git_repository *repo, const struct kgit_ref *ref,
    git_object **commit, char *rev, size_t revcap, struct sotto_error *e)
{
	char spec[512], hex[GIT_OID_HEXSZ + 1], tag[256] = "";
	const char *label;
	git_object *o = NULL;
	sotto_err rc;

	if (ref->commit != NULL && ref->any_ref) {
		/* kustomize's ?ref=: a tag, a branch, then a commit */
		const char *fmt[] = { "refs/tags/%s", "refs/remotes/origin/%s",
		    "%s" };
		size_t i;

		for (i = 0; i < 3 && o == NULL; i++) {
			snprintf(spec, sizeof(spec), fmt[i], ref->commit);
			if (g->git_revparse_single(&o, repo, spec) != 0)
				o = NULL;
		}
		if (o == NULL) {
			kgit_esc(spec, sizeof(spec), ref->commit,
			    strlen(ref->commit), 200);
			return sotto_error_set(e, SOTTO_E_GIT, "ref '%s' is "
			    "no tag, branch or commit of the repository",
			    spec);
		}
		label = ref->commit;
	} else if (ref->commit != NULL) {
		snprintf(spec, sizeof(spec), "%s", ref->commit);
		label = ref->branch;
	} else if (ref->name != NULL) {
		snprintf(spec, sizeof(spec), "refs/sotto/ref");
		label = ref->name;
	} else if (ref->semver != NULL) {
		if ((rc = semver_tag(g, repo, ref->semver, tag, sizeof(tag),
		    e)) != SOTTO_OK)
			return rc;
		snprintf(spec, sizeof(spec), "refs/tags/%s", tag);
		label = tag;
	} else if (ref->tag != NULL) {
		snprintf(spec, sizeof(spec), "refs/tags/%s", ref->tag);
		label = ref->tag;
	} else {
		snprintf(spec, sizeof(spec), "refs/remotes/origin/%s",
		    ref->branch);
		label = ref->branch;
	}
	if (o == NULL && g->git_revparse_single(&o, repo, spec) != 0)
		return kg_fail(g, e, "cannot resolve the source reference");
	if (g->git_object_peel(commit, o, GIT_OBJECT_COMMIT) != 0) {
		g->git_object_free(o);
		return kg_fail(g, e, "reference is not a commit");
	}
	g->git_object_free(o);
	g->git_oid_tostr(hex, sizeof(hex), g->git_object_id(*commit));
	if (label != NULL)
		snprintf(rev, revcap, "%s@sha1:%s", label, hex);
	else
		snprintf(rev, revcap, "sha1:%s", hex);
	return SOTTO_OK;
}

/* The fetch child's work: fetch (unless offline), resolve, check out. */
static sotto_err
sync_here(struct kgit_result *res, const struct plan *p,
    struct sotto_error *e)
{
	const struct kgit_ref *ref = p->ref;
	struct lg2 g;
	git_repository *repo = NULL;
	git_object *commit = NULL;
	git_checkout_options co;
	sotto_err rc;

	snprintf(res->workdir, sizeof(res->workdir), "%s", p->workdir);
	if ((rc = sotto_lg2_open(&g, true, e)) != SOTTO_OK)
		return rc;
	if (ref->offline && g.git_repository_open(&repo, res->workdir) != 0) {
		/* like Flux: a suspended source serves its last artifact */
		rc = sotto_error_set(e, SOTTO_E_GIT, "source is suspended and "
		    "was never fetched: no artifact to apply");
		goto out;
	}
	if (repo == NULL && (rc = open_cache(&g, &repo, res->workdir, e)) !=
	    SOTTO_OK)
		goto out;
	if (!ref->offline && (rc = do_fetch(&g, repo, p, &res->auth_failed,
	    e)) != SOTTO_OK)
		goto out;
	if ((rc = resolve(&g, repo, ref, &commit, res->revision,
	    sizeof(res->revision), e)) != SOTTO_OK)
		goto out;
	g.git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE |
	    GIT_CHECKOUT_REMOVE_UNTRACKED;
	if (g.git_checkout_tree(repo, commit, &co) != 0 ||
	    g.git_repository_set_head_detached(repo,
	    g.git_object_id(commit)) != 0)
		rc = kg_fail(&g, e, "checkout failed");
	else {
		size_t dropped;

		/* what Flux leaves out of the artifact (spec.ignore) */
		rc = ksrc_ignore(&dropped, res->workdir, ref->ignore, e);
	}
out:
	if (commit != NULL)
		g.git_object_free(commit);
	if (repo != NULL)
		g.git_repository_free(repo);
	/* libgit2 stays loaded: shutting it down per fetch costs more */
	return rc;
}

/* What the fetch child writes back: the result, then the error. */
struct kgit_reply {
	struct kgit_result res;
	struct sotto_error e;
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) != 0 &&
	    errno != ENOENT ? -1 : 0;
}

sotto_err
kgit_cache_remove(const char *cache_dir, const char *ns, const char *name,
    struct sotto_error *e)
{
	char prefix[300], p[4096];
	size_t pl, i;
	struct dirent *de;
	DIR *d;
	int err = 0;

	/*
	 * kgit_cache_name() names a checkout ns_name_<32 hex>: a DNS label
	 * and subdomain hold no '_', so the prefix is this object's alone.
	 * A name cut at 150 bytes could be another's: those are left.
	 */
	if (ns == NULL || name == NULL || strlen(name) > 150 ||
	    strchr(ns, '_') || strchr(name, '_') || strchr(ns, '/') ||
	    strchr(name, '/') || ns[0] == '.' || name[0] == '.' ||
	    (size_t)snprintf(prefix, sizeof(prefix), "%s_%s_", ns, name) >=
	    sizeof(prefix))
		return SOTTO_OK;
	if ((d = opendir(cache_dir)) == NULL)
		return errno == ENOENT ? SOTTO_OK : sotto_error_set(e,
		    SOTTO_E_IO, "cannot read the cache directory: %s",
		    strerror(errno));
	pl = strlen(prefix);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, pl) != 0 ||
		    strlen(de->d_name + pl) != 32)
			continue;
		for (i = pl; i < pl + 32 && isxdigit((unsigned char)
		    de->d_name[i]); i++)
			;
		if (i < pl + 32 || (size_t)snprintf(p, sizeof(p), "%s/%s",
		    cache_dir, de->d_name) >= sizeof(p))
			continue;
		if (nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 &&
		    err == 0)
			err = errno ? errno : EIO;
	}
	closedir(d);
	if (err != 0)
		return sotto_error_set(e, SOTTO_E_IO, "cannot remove the "
		    "checkout: %s", strerror(err));
	return SOTTO_OK;
}

struct sync_job {
	const struct plan *p;
};

/* In the child: fetch, then the reply to fd. */
static void
sync_child_main(void *arg, int fd)
{
	struct sync_job *j = arg;
	struct kgit_reply rep;

	memset(&rep, 0, sizeof(rep));
	sync_here(&rep.res, j->p, &rep.e);
	_exit(sotto_io_write_all(fd, &rep, sizeof(rep)) == SOTTO_OK ? 0 : 1);
}

/* Runs sync_here() in a child killed at ref->timeout (child.c). */
static sotto_err
sync_child(struct kgit_result *res, const struct plan *p,
    struct sotto_error *e)
{
	struct sync_job job = { p };
	struct kgit_reply rep;
	struct kchild ch;
	char took[32];
	int st, got;

	if (kchild_start(&ch, sync_child_main, &job, p->ref->timeout,
	    "git fetch", e) != SOTTO_OK)
		return e->code = SOTTO_E_GIT;
	got = kchild_read(&ch, &rep, sizeof(rep));
	st = kchild_end(&ch, got != 1);
	if (got < 0) {
		/* locks and half a pack may be left: the next fetch starts
		 * afresh */
		nftw(p->workdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		kduration_fmt(took, sizeof(took), p->ref->timeout);
		return sotto_error_set(e, SOTTO_E_GIT, "git fetch from '%s' "
		    "timed out after %s (%s)",
		    p->u.scheme == KGIT_FILE ? p->shown : p->u.host, took,
		    p->ref->any_ref ? "the remote base's ?timeout=" :
		    "GitRepository spec.timeout");
	}
	if (got == 0)
		return sotto_error_set(e, SOTTO_E_GIT, "the git fetch process "
		    "died (status %d)", st);
	*res = rep.res;
	if (rep.e.code != SOTTO_OK)
		*e = rep.e;
	return rep.e.code;
}

/*
 * Everything that can be refused without a fetch: the URL, spec.timeout
 * and spec.ref.name, the credentials the URL adds, the cache directory.
 */
static sotto_err
make_plan(struct plan *p, const char *cache_dir, const char *url,
    const struct kgit_ref *ref, bool *auth, struct sotto_error *e)
{
	uint8_t key[KGIT_CACHE_KEY_BYTES];
	char name[300];
	sotto_err rc;

	p->ref = ref;
	if ((rc = kgit_url_parse(&p->u, url, ref->allow_http,
	    ref->allow_file, e)) != SOTTO_OK)
		return rc;
	kgit_url_shown(p->shown, sizeof(p->shown), p->u.url);
	if (!(ref->timeout > 0))
		return sotto_error_set(e, SOTTO_E_CONFIG, "spec.timeout is not "
		    "a positive duration (such as 60s)");
	if (ref->commit == NULL && ref->name != NULL &&
	    strncmp(ref->name, "refs/", 5) != 0)
		return sotto_error_set(e, SOTTO_E_CONFIG, "spec.ref.name "
		    "'%.200s' is not a full reference (refs/...)", ref->name);
	if (p->u.scheme == KGIT_SSH) {
		p->ssh_user = p->u.user[0] != '\0' ? p->u.user : "git";
	} else if (p->u.scheme != KGIT_FILE) {
		/* Flux: the URL's user and password fill what the Secret
		 * leaves out; with a bearer token they are an error */
		if (ref->bearer != NULL && (p->u.user[0] || p->u.pass[0])) {
			*auth = true;
			return sotto_error_set(e, SOTTO_E_GIT, "spec.url has a "
			    "user name and Secret '%s' a bearerToken: basic "
			    "auth and a bearer token cannot be used together",
			    ref->secret ? ref->secret : "(none)");
		}
		p->user = ref->username ? ref->username : p->u.userinfo ?
		    p->u.user : NULL;
		p->user_from_url = ref->username == NULL && p->u.userinfo;
		p->pass = ref->password ? ref->password : p->u.pass;
	}
	if ((rc = kgit_private_dir(cache_dir, true, e)) != SOTTO_OK ||
	    (rc = kgit_cache_key(key, cache_dir, e)) != SOTTO_OK)
		return rc;
	rc = kgit_cache_name(name, sizeof(name), ref, &p->u, key, e);
	sodium_memzero(key, sizeof(key));
	if (rc != SOTTO_OK)
		return rc;
	if (p->u.scheme == KGIT_FILE &&
	    (rc = kgit_url_outside(&p->u, url, cache_dir, e)) != SOTTO_OK)
		return rc;
	if ((size_t)snprintf(p->workdir, sizeof(p->workdir), "%s/%s",
	    cache_dir, name) >= sizeof(p->workdir))
		return sotto_error_set(e, SOTTO_E_IO, "cache directory path "
		    "is too long");
	/* a suspended source never fetched gets no directory either */
	if (ref->offline && !sotto_io_exists(p->workdir))
		return SOTTO_OK;
	return kgit_private_dir(p->workdir, false, e);
}

sotto_err
kgit_sync(struct kgit_result *res, const char *cache_dir, const char *url,
    const struct kgit_ref *ref, struct sotto_error *e)
{
	struct plan p;
	sotto_err rc;

	memset(res, 0, sizeof(*res));
	memset(&p, 0, sizeof(p));
	if ((rc = make_plan(&p, cache_dir, url ? url : "", ref,
	    &res->auth_failed, e)) == SOTTO_OK)
		rc = sync_child(res, &p, e);
	kgit_url_wipe(&p.u);
	return rc;
}
