/* SPDX-License-Identifier: ISC */
/*
 * The HTTP client: libcurl loaded with dlopen() (one pointer per call we
 * make, <curl/curl.h> for types and constants only), one easy handle per
 * client so connections are kept alive, retries for 429/5xx, and streamed
 * GETs on a multi handle for watches (their meaning is watch.c's).  Finding
 * the server belongs to config.c; what the requests mean to the callers.
 */
#define CURL_DISABLE_TYPECHECK 1
#include "sotto/kube.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "kube/kint.h"

#define CURL_FUNCS(X) \
	X(curl_global_init) X(curl_easy_init) X(curl_easy_setopt) \
	X(curl_easy_perform) X(curl_easy_getinfo) X(curl_easy_cleanup) \
	X(curl_slist_append) X(curl_slist_free_all) X(curl_easy_strerror) \
	X(curl_multi_init) X(curl_multi_add_handle) X(curl_multi_remove_handle) \
	X(curl_multi_perform) X(curl_multi_poll) X(curl_multi_info_read) \
	X(curl_multi_cleanup)

/* Members get a prefix: curl.h may define curl_easy_setopt as a macro. */
struct curlfn {
	void *handle;
#define CURL_MEMBER(f) __typeof__(f) *p_##f;
	CURL_FUNCS(CURL_MEMBER)
#undef CURL_MEMBER
};

struct sotto_kube {
	struct curlfn c;		/* libcurl entry points */
	CURL *h;			/* easy handle (connection cache) */
	char *server;			/* base URL */
	char *impersonate;		/* Impersonate-User or NULL */
	char *ua;			/* User-Agent */
	struct sotto_kube_config cfg;	/* copies of TLS material */
	unsigned long nreq;		/* requests sent */
	long retry_after;		/* seconds from the last response */
	long timeout_ms;		/* per request; 0: the 60 s default */
	time_t date;			/* the last response's Date, or 0 */
	char errbuf[CURL_ERROR_SIZE];	/* curl's message */
};

static sotto_err
load_curl(struct curlfn *c, struct sotto_error *e)
{
	const char *missing = NULL;

	c->handle = dlopen(SOTTO_KUBE_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (c->handle == NULL)
		return sotto_error_set(e, SOTTO_E_KUBE_LOAD, "cannot load "
		    "'%s' (install libcurl4): %s", SOTTO_KUBE_CURL_SONAME,
		    dlerror());
#define CURL_LOAD(f) \
	if (missing == NULL && \
	    (*(void **)&c->p_##f = dlsym(c->handle, #f)) == NULL) \
		missing = #f;
	CURL_FUNCS(CURL_LOAD)
#undef CURL_LOAD
	if (missing != NULL) {
		dlclose(c->handle);
		c->handle = NULL;
		return sotto_error_set(e, SOTTO_E_KUBE_LOAD, "'%s' has no "
		    "symbol '%s'", SOTTO_KUBE_CURL_SONAME, missing);
	}
	if (c->p_curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		dlclose(c->handle);
		c->handle = NULL;
		return sotto_error_set(e, SOTTO_E_KUBE_LOAD, "libcurl "
		    "initialisation failed");
	}
	return SOTTO_OK;
}

static sotto_err
copy_buf(struct sotto_buf *dst, const struct sotto_buf *src, bool secret)
{
	dst->secret = secret;
	if (src->len == 0)
		return SOTTO_OK;
	return sotto_buf_add(dst, src->data, src->len);
}

static void
set_blob(struct sotto_kube *k, CURL *h, CURLoption opt, struct sotto_buf *b)
{
	struct curl_blob blob;

	if (b->len == 0)
		return;
	blob.data = b->data;
	blob.len = b->len;
	blob.flags = CURL_BLOB_NOCOPY;
	k->c.p_curl_easy_setopt(h, opt, &blob);
}

static sotto_err
setup_handle(struct sotto_kube *k, CURL *h, struct sotto_error *e)
{
	struct curlfn *c = &k->c;

	c->p_curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	c->p_curl_easy_setopt(h, CURLOPT_ERRORBUFFER, k->errbuf);
	c->p_curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	c->p_curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	c->p_curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
	c->p_curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https,http");
	/* paths are built and checked by kpath.c: nothing may rewrite them
	 * after that (no "../" squashing) */
	c->p_curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	c->p_curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	set_blob(k, h, CURLOPT_CAINFO_BLOB, &k->cfg.ca);
	set_blob(k, h, CURLOPT_SSLCERT_BLOB, &k->cfg.cert);
	set_blob(k, h, CURLOPT_SSLKEY_BLOB, &k->cfg.key);
	if (k->cfg.cert.len)
		c->p_curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
	if (k->cfg.insecure) {
		c->p_curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		c->p_curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (k->cfg.token.len) {
		if (!kheader_ok((const char *)k->cfg.token.data))
			return sotto_error_set(e, SOTTO_E_KUBE_CONFIG, "the "
			    "bearer token holds control characters");
		c->p_curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		c->p_curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER,
		    (char *)k->cfg.token.data);
	}
	return SOTTO_OK;
}

sotto_err
sotto_kube_open(struct sotto_kube **out, const struct sotto_kube_config *cfg,
    struct sotto_error *e)
{
	struct sotto_kube *k;
	sotto_err rc;

	*out = NULL;
	if (cfg->server == NULL)
		return sotto_error_set(e, SOTTO_E_KUBE_CONFIG, "no API server "
		    "configured");
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	if ((rc = load_curl(&k->c, e)) != SOTTO_OK) {
		free(k);
		return rc;
	}
	k->server = strdup(cfg->server);
	k->ua = strdup("sotto-reconcile");
	k->cfg.insecure = cfg->insecure;
	if (k->server == NULL || k->ua == NULL ||
	    copy_buf(&k->cfg.ca, &cfg->ca, false) != SOTTO_OK ||
	    copy_buf(&k->cfg.cert, &cfg->cert, false) != SOTTO_OK ||
	    copy_buf(&k->cfg.key, &cfg->key, true) != SOTTO_OK ||
	    copy_buf(&k->cfg.token, &cfg->token, true) != SOTTO_OK ||
	    (k->h = k->c.p_curl_easy_init()) == NULL) {
		sotto_kube_close(k);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	if ((rc = setup_handle(k, k->h, e)) != SOTTO_OK) {
		sotto_kube_close(k);
		return rc;
	}
	*out = k;
	return SOTTO_OK;
}

void
sotto_kube_close(struct sotto_kube *k)
{
	if (k == NULL)
		return;
	if (k->h != NULL)
		k->c.p_curl_easy_cleanup(k->h);
	/* the library stays mapped: curl_global_cleanup is not re-entrant */
	free(k->server);
	free(k->impersonate);
	free(k->ua);
	sotto_kube_config_free(&k->cfg);
	sodium_memzero(k, sizeof(*k));
	free(k);
}

static sotto_err
replace_str(char **dst, const char *src)
{
	char *n = NULL;

	if (src != NULL && (n = strdup(src)) == NULL)
		return SOTTO_E_NOMEM;
	free(*dst);
	*dst = n;
	return SOTTO_OK;
}

sotto_err
sotto_kube_set_impersonation(struct sotto_kube *k, const char *user)
{
	if (user != NULL && (user[0] == '\0' || !kheader_ok(user)))
		return SOTTO_E_CONFIG;
	return replace_str(&k->impersonate, user);
}

sotto_err
sotto_kube_set_user_agent(struct sotto_kube *k, const char *ua)
{
	if (ua == NULL || !kheader_ok(ua))
		return SOTTO_E_CONFIG;
	return replace_str(&k->ua, ua);
}

void
sotto_kube_set_timeout(struct sotto_kube *k, double seconds)
{
	k->timeout_ms = seconds > 0 && seconds < 86400 ? (long)(seconds *
	    1000) : 0;
	if (seconds > 0 && k->timeout_ms == 0)
		k->timeout_ms = 1;
}

unsigned long
sotto_kube_request_count(const struct sotto_kube *k)
{
	return k->nreq;
}

time_t
kube_last_date(const struct sotto_kube *k)
{
	return k->date;
}

void
sotto_kube_resp_release(struct sotto_kube_resp *r)
{
	if (r == NULL)
		return;
	sotto_buf_release(&r->body);
	r->body.secret = true;
	r->status = 0;
}

static size_t
on_body(char *p, size_t sz, size_t n, void *ctx)
{
	struct sotto_buf *b = ctx;

	if (b->len + sz * n > ((size_t)256 << 20))
		return 0;
	return sotto_buf_add(b, p, sz * n) == SOTTO_OK ? sz * n : 0;
}

static size_t
on_header(char *p, size_t sz, size_t n, void *ctx)
{
	struct sotto_kube *k = ctx;
	size_t len = sz * n;
	char tmp[64];

	if (len > 12 && len < 12 + sizeof(tmp) &&
	    strncasecmp(p, "retry-after:", 12) == 0) {
		memcpy(tmp, p + 12, len - 12);
		tmp[len - 12] = '\0';
		k->retry_after = strtol(tmp, NULL, 10);
	} else if (len > 5 && len < 5 + sizeof(tmp) &&
	    strncasecmp(p, "date:", 5) == 0) {
		struct tm tm;

		memcpy(tmp, p + 5, len - 5);
		tmp[len - 5] = '\0';
		memset(&tm, 0, sizeof(tm));
		/* RFC 9110 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
		k->date = strptime(tmp + strspn(tmp, " "), "%a, %d %b %Y "
		    "%H:%M:%S GMT", &tm) != NULL ? timegm(&tm) : 0;
	}
	return len;
}

/*
 * Every header value is checked again before each request: a CR or LF
 * would start a new header (an injected Impersonate-Group, say).
 */
static bool
headers_ok(const struct sotto_kube *k, const char *ctype)
{
	return (ctype == NULL || kheader_ok(ctype)) && (k->impersonate == NULL
	    || kheader_ok(k->impersonate)) && kheader_ok(k->ua);
}

static struct curl_slist *
headers_for(struct sotto_kube *k, const char *ctype)
{
	struct curl_slist *h = NULL, *t;
	char line[512];

	if (!headers_ok(k, ctype))
		return NULL;
	h = k->c.p_curl_slist_append(h, "Accept: application/json");
	if (h == NULL)
		return NULL;
	if (ctype != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", ctype);
		if ((t = k->c.p_curl_slist_append(h, line)) == NULL)
			goto fail;
		h = t;
	}
	if (k->impersonate != NULL) {
		snprintf(line, sizeof(line), "Impersonate-User: %s",
		    k->impersonate);
		if ((t = k->c.p_curl_slist_append(h, line)) == NULL)
			goto fail;
		h = t;
	}
	if ((t = k->c.p_curl_slist_append(h, "Expect:")) == NULL)
		goto fail;
	return t;
fail:
	k->c.p_curl_slist_free_all(h);
	return NULL;
}

static sotto_err
perform(struct sotto_kube *k, struct sotto_kube_resp *r, const char *method,
    const char *url, struct curl_slist *hdr, const void *body, size_t len,
    struct sotto_error *e)
{
	struct curlfn *c = &k->c;
	CURLcode cc;

	sotto_buf_truncate(&r->body, 0);
	k->retry_after = 0;
	k->date = 0;
	k->errbuf[0] = '\0';
	c->p_curl_easy_setopt(k->h, CURLOPT_URL, url);
	c->p_curl_easy_setopt(k->h, CURLOPT_HTTPHEADER, hdr);
	c->p_curl_easy_setopt(k->h, CURLOPT_USERAGENT, k->ua);
	c->p_curl_easy_setopt(k->h, CURLOPT_WRITEFUNCTION, on_body);
	c->p_curl_easy_setopt(k->h, CURLOPT_WRITEDATA, &r->body);
	c->p_curl_easy_setopt(k->h, CURLOPT_HEADERFUNCTION, on_header);
	c->p_curl_easy_setopt(k->h, CURLOPT_HEADERDATA, k);
	if (body != NULL) {
		c->p_curl_easy_setopt(k->h, CURLOPT_POSTFIELDS, body);
		c->p_curl_easy_setopt(k->h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
		c->p_curl_easy_setopt(k->h, CURLOPT_CUSTOMREQUEST, method);
	} else {
		c->p_curl_easy_setopt(k->h, CURLOPT_HTTPGET, 1L);
		c->p_curl_easy_setopt(k->h, CURLOPT_CUSTOMREQUEST,
		    strcmp(method, "GET") == 0 ? NULL : method);
	}
	c->p_curl_easy_setopt(k->h, CURLOPT_TIMEOUT_MS, k->timeout_ms > 0 ?
	    k->timeout_ms : 60000L);
	k->nreq++;
	cc = c->p_curl_easy_perform(k->h);
	c->p_curl_easy_setopt(k->h, CURLOPT_POSTFIELDS, NULL);
	if (cc != CURLE_OK)
		return sotto_error_set(e, SOTTO_E_KUBE_TRANSPORT, "%s %s: %s",
		    method, k->server, k->errbuf[0] ? k->errbuf :
		    c->p_curl_easy_strerror(cc));
	c->p_curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &r->status);
	return SOTTO_OK;
}

static void
sleep_seconds(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

sotto_err
sotto_kube_request(struct sotto_kube *k, struct sotto_kube_resp *r,
    const char *method, const char *path, const char *ctype,
    const void *body, size_t len, struct sotto_error *e)
{
	struct curl_slist *hdr;
	struct sotto_buf url = SOTTO_BUF_INIT;
	double wait = 0.5;
	sotto_err rc = SOTTO_OK;
	int attempt;

	r->body.secret = true;
	if (!kpath_safe(path))
		return sotto_error_set(e, SOTTO_E_CONFIG, "refusing to send "
		    "%s: the request path is not a plain API path", method);
	if (!headers_ok(k, ctype))
		return sotto_error_set(e, SOTTO_E_CONFIG, "refusing to send "
		    "%s: a header value holds control characters", method);
	if ((hdr = headers_for(k, ctype)) == NULL ||
	    sotto_buf_addf(&url, "%s%s", k->server, path) != SOTTO_OK) {
		rc = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	for (attempt = 1; attempt <= 4; attempt++) {
		rc = perform(k, r, method, (char *)url.data, hdr, body, len,
		    e);
		if (rc != SOTTO_OK && attempt == 4)
			break;
		if (rc == SOTTO_OK && r->status != 429 && r->status < 500)
			break;
		if (rc == SOTTO_OK && attempt == 4)
			break;
		sleep_seconds(k->retry_after > 0 && k->retry_after < 30 ?
		    (double)k->retry_after : wait);
		wait *= 2;
	}
out:
	if (hdr != NULL)
		k->c.p_curl_slist_free_all(hdr);
	sotto_buf_release(&url);
	return rc;
}

sotto_err
sotto_kube_status_error(struct sotto_error *e, const struct sotto_kube_resp *r,
    const char *what)
{
	json_t *j = NULL;
	const char *reason = NULL, *msg = NULL;
	sotto_err code = SOTTO_E_KUBE_API;

	if (r->status == 404)
		code = SOTTO_E_KUBE_NOTFOUND;
	else if (r->status == 409)
		code = SOTTO_E_KUBE_CONFLICT;
	if (r->body.len)
		j = json_loadb((const char *)r->body.data, r->body.len, 0,
		    NULL);
	if (json_is_object(j)) {
		reason = json_string_value(json_object_get(j, "reason"));
		msg = json_string_value(json_object_get(j, "message"));
	}
	if (msg != NULL)
		sotto_error_set(e, code, "%s (%s): %.300s", what,
		    reason ? reason : "Failure", msg);
	else
		sotto_error_set(e, code, "%s: HTTP %ld", what, r->status);
	json_decref(j);
	return code;
}

/* jansson allocator that wipes what it frees (decoded Secrets). */
static void *
wipe_malloc(size_t n)
{
	return malloc(n);
}

static void
wipe_free(void *p)
{
	if (p == NULL)
		return;
	sodium_memzero(p, malloc_usable_size(p));
	free(p);
}

void
sotto_kube_harden_json(void)
{
	json_set_alloc_funcs(wipe_malloc, wipe_free);
}

/* ---- streamed GETs (watches) --------------------------------------------- */

struct kstream {
	struct kstreams *set;		/* owner (curl entry points) */
	CURL *h;			/* easy handle while running */
	struct curl_slist *hdr;		/* its headers */
	struct sotto_buf line;		/* partial line, or an error body */
	size_t max_line;		/* longer lines abort the transfer */
	kstream_line_fn fn;		/* gets each complete line */
	void *arg;			/* for fn */
	long status;			/* HTTP status once known */
	bool running, ended;		/* started; finished, not yet reset */
	char errbuf[CURL_ERROR_SIZE];	/* curl's message */
};

struct kstreams {
	struct sotto_kube *k;		/* client: TLS material, counters */
	CURLM *m;			/* multi handle */
	struct kstream s[KSTREAM_MAX];	/* slots */
};

sotto_err
kstreams_open(struct kstreams **out, struct sotto_kube *k,
    struct sotto_error *e)
{
	struct kstreams *s;
	int i;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->m = k->c.p_curl_multi_init()) == NULL) {
		free(s);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	s->k = k;
	for (i = 0; i < KSTREAM_MAX; i++)
		s->s[i].set = s;
	*out = s;
	return SOTTO_OK;
}

static void
stream_reset(struct kstream *st)
{
	struct curlfn *c = &st->set->k->c;

	if (st->h != NULL) {
		c->p_curl_multi_remove_handle(st->set->m, st->h);
		c->p_curl_easy_cleanup(st->h);
	}
	if (st->hdr != NULL)
		c->p_curl_slist_free_all(st->hdr);
	st->h = NULL;
	st->hdr = NULL;
	sotto_buf_release(&st->line);
	st->running = st->ended = false;
	st->status = 0;
}

void
kstreams_close(struct kstreams *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < KSTREAM_MAX; i++)
		stream_reset(&s->s[i]);
	s->k->c.p_curl_multi_cleanup(s->m);
	free(s);
}

void
kstreams_stop(struct kstreams *s, int slot)
{
	stream_reset(&s->s[slot]);
}

/*
 * Splits what arrives into lines.  Until the status line says 200 the
 * bytes are kept whole (an error Status has no newline); a line longer
 * than max_line, or fn returning false, ends the transfer.
 */
static size_t
on_stream(char *p, size_t sz, size_t n, void *ctx)
{
	struct kstream *st = ctx;
	size_t len = sz * n, left = len;
	char *nl;

	if (st->status == 0)
		st->set->k->c.p_curl_easy_getinfo(st->h,
		    CURLINFO_RESPONSE_CODE, &st->status);
	while (st->status == 200 && left > 0 &&
	    (nl = memchr(p, '\n', left)) != NULL) {
		size_t part = (size_t)(nl - p);

		if (st->line.len + part > st->max_line ||
		    sotto_buf_add(&st->line, p, part) != SOTTO_OK)
			return 0;
		if (st->line.len > 0 && !st->fn(st->arg, (char *)
		    st->line.data, st->line.len))
			return 0;
		if (st->line.cap > ((size_t)256 << 10))
			sotto_buf_release(&st->line);	/* idle RSS */
		else
			sotto_buf_truncate(&st->line, 0);
		p = nl + 1;
		left -= part + 1;
	}
	if (st->line.len + left > st->max_line ||
	    sotto_buf_add(&st->line, p, left) != SOTTO_OK)
		return 0;
	return len;
}

sotto_err
kstreams_start(struct kstreams *s, int slot, const char *path,
    long timeout_s, size_t max_line, kstream_line_fn fn, void *arg,
    struct sotto_error *e)
{
	struct kstream *st = &s->s[slot];
	struct sotto_kube *k = s->k;
	struct curlfn *c = &k->c;
	struct sotto_buf url = SOTTO_BUF_INIT;
	sotto_err rc;

	stream_reset(st);
	if (!kpath_safe(path))
		return sotto_error_set(e, SOTTO_E_CONFIG, "refusing to watch: "
		    "the request path is not a plain API path");
	st->max_line = max_line;
	st->line.secret = true;	/* a watched Secret's data passes here */
	st->fn = fn;
	st->arg = arg;
	st->errbuf[0] = '\0';
	if ((st->h = c->p_curl_easy_init()) == NULL ||
	    (st->hdr = headers_for(k, NULL)) == NULL ||
	    sotto_buf_addf(&url, "%s%s", k->server, path) != SOTTO_OK) {
		stream_reset(st);
		sotto_buf_release(&url);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	if ((rc = setup_handle(k, st->h, e)) != SOTTO_OK) {
		stream_reset(st);
		sotto_buf_release(&url);
		return rc;
	}
	c->p_curl_easy_setopt(st->h, CURLOPT_ERRORBUFFER, st->errbuf);
	c->p_curl_easy_setopt(st->h, CURLOPT_URL, (char *)url.data);
	c->p_curl_easy_setopt(st->h, CURLOPT_HTTPHEADER, st->hdr);
	c->p_curl_easy_setopt(st->h, CURLOPT_USERAGENT, k->ua);
	c->p_curl_easy_setopt(st->h, CURLOPT_WRITEFUNCTION, on_stream);
	c->p_curl_easy_setopt(st->h, CURLOPT_WRITEDATA, st);
	/* the server ends the watch after timeoutSeconds; this is a
	 * backstop for one that does not */
	c->p_curl_easy_setopt(st->h, CURLOPT_TIMEOUT, timeout_s + 30);
	/* a quiet watch is normal: notice a dead peer by TCP keepalive */
	c->p_curl_easy_setopt(st->h, CURLOPT_TCP_KEEPALIVE, 1L);
	c->p_curl_easy_setopt(st->h, CURLOPT_TCP_KEEPIDLE, 30L);
	c->p_curl_easy_setopt(st->h, CURLOPT_TCP_KEEPINTVL, 10L);
	sotto_buf_release(&url);	/* curl copied it */
	if (c->p_curl_multi_add_handle(s->m, st->h) != CURLM_OK) {
		stream_reset(st);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	st->running = true;
	k->nreq++;
	return SOTTO_OK;
}

void
kstreams_run(struct kstreams *s, int ms)
{
	struct curlfn *c = &s->k->c;
	CURLMsg *msg;
	int running = 0, left, i;

	c->p_curl_multi_perform(s->m, &running);
	if (ms > 0)
		c->p_curl_multi_poll(s->m, NULL, 0, ms, NULL);
	c->p_curl_multi_perform(s->m, &running);
	while ((msg = c->p_curl_multi_info_read(s->m, &left)) != NULL) {
		/* msg lives in the easy handle: copy it before the cleanup */
		CURL *done = msg->easy_handle;
		CURLcode result = msg->data.result;

		if (msg->msg != CURLMSG_DONE)
			continue;
		for (i = 0; i < KSTREAM_MAX; i++) {
			struct kstream *st = &s->s[i];

			if (st->h == NULL || st->h != done)
				continue;
			c->p_curl_easy_getinfo(st->h, CURLINFO_RESPONSE_CODE,
			    &st->status);
			if (result != CURLE_OK) {
				if (st->errbuf[0] == '\0')
					snprintf(st->errbuf, sizeof(st->errbuf),
					    "%s", c->p_curl_easy_strerror(
					    result));
				st->status = 0;
			}
			c->p_curl_multi_remove_handle(s->m, st->h);
			c->p_curl_easy_cleanup(st->h);
			st->h = NULL;
			st->running = false;
			st->ended = true;
			break;
		}
	}
}

bool
kstreams_running(const struct kstreams *s, int slot)
{
	return s->s[slot].running;
}

bool
kstreams_ended(struct kstreams *s, int slot, long *status,
    const struct sotto_buf **rest, const char **err)
{
	struct kstream *st = &s->s[slot];

	if (!st->ended)
		return false;
	*status = st->status;
	*rest = &st->line;
	*err = st->errbuf;
	return true;
}
