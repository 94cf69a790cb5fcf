/* SPDX-License-Identifier: ISC */
/*
 * Small helpers for src/kube/: tree -> JSON, dotted JSON lookups, Go
 * durations, timestamps and the JSON-lines logger.  Log lines carry names,
 * revisions and counts only: callers never pass a value.
 */
#include "kube/kint.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

static json_t *
scalar_json(const struct sotto_node *n)
{
	char *end;
	long long ll;
	double d;

	switch (n->type) {
	case SOTTO_T_NULL:
		return json_null();
	case SOTTO_T_BOOL:
		return json_boolean(n->text[0] == 't' || n->text[0] == 'T');
	case SOTTO_T_INT:
		errno = 0;
		ll = strtoll(n->text, &end, 10);
		if (errno == 0 && *end == '\0' && end != n->text)
			return json_integer(ll);
		break;
	case SOTTO_T_FLOAT:
		errno = 0;
		d = strtod(n->text, &end);
		if (errno == 0 && *end == '\0' && end != n->text)
			return json_real(d);
		break;
	default:
		break;
	}
	return json_stringn(n->text, n->len);
}

json_t *
kjson_from_tree(const struct sotto_node *n)
{
	json_t *j, *c;
	size_t i;

	if (n == NULL)
		return json_null();
	if (n->kind == SOTTO_NODE_SCALAR)
		return scalar_json(n);
	if (n->kind == SOTTO_NODE_MAP)
		j = json_object();
	else if (n->kind == SOTTO_NODE_SEQ)
		j = json_array();
	else
		return NULL;
	if (j == NULL)
		return NULL;
	for (i = 0; i < n->n; i++) {
		if (n->items[i].val == NULL || n->items[i].val->kind ==
		    SOTTO_NODE_COMMENT)
			continue;
		if ((c = kjson_from_tree(n->items[i].val)) == NULL)
			goto fail;
		if (n->kind == SOTTO_NODE_MAP) {
			if (n->items[i].key == NULL || json_object_setn_new(j,
			    n->items[i].key, n->items[i].keylen, c) != 0)
				goto fail;
		} else if (json_array_append_new(j, c) != 0) {
			goto fail;
		}
	}
	return j;
fail:
	json_decref(j);
	return NULL;
}

json_t *
kjson_get(const json_t *o, const char *path)
{
	char key[256];
	const char *p = path, *dot;
	size_t n;

	while (o != NULL && *p != '\0') {
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(key) || !json_is_object(o))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		p += n + (dot != NULL);
	}
	return (json_t *)o;
}

const char *
kjson_str(const json_t *o, const char *path)
{
	return json_string_value(kjson_get(o, path));
}

double
kduration(const char *s)
{
	double total = 0, v;
	char *end;

	if (s == NULL || *s == '\0')
		return -1;
	while (*s != '\0') {
		errno = 0;
		v = strtod(s, &end);
		if (end == s || errno != 0 || v < 0)
			return -1;
		s = end;
		if (strncmp(s, "ms", 2) == 0) {
			total += v / 1000;
			s += 2;
		} else if (*s == 's') {
			total += v;
			s++;
		} else if (*s == 'm') {
			total += v * 60;
			s++;
		} else if (*s == 'h') {
			total += v * 3600;
			s++;
		} else {
			return -1;
		}
	}
	return total;
}

void
know(char *out, size_t cap, bool micro)
{
	struct timeval tv;
	struct tm tm;
	char base[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (micro)
		snprintf(out, cap, "%s.%06ldZ", base, (long)tv.tv_usec);
	else
		snprintf(out, cap, "%sZ", base);
}

void
klog(const char *level, const char *ks, const char *rev, const char *fmt, ...)
{
	char msg[1024], ts[48];
	json_t *j;
	char *line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	know(ts, sizeof(ts), true);
	j = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level, "msg",
	    msg);
	if (j == NULL)
		return;
	if (ks != NULL)
		json_object_set_new(j, "kustomization", json_string(ks));
	if (rev != NULL && rev[0] != '\0')
		json_object_set_new(j, "revision", json_string(rev));
	line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line != NULL) {
		fprintf(stderr, "%s\n", line);
		fflush(stderr);
		free(line);
	}
	json_decref(j);
}

/* whole[.frac] with frac as `digits` decimals, trailing zeros dropped. */
static void
frac_fmt(char *out, size_t cap, long long whole, long long frac, int digits)
{
	char f[16];
	int n;

	if (frac == 0) {
		snprintf(out, cap, "%lld", whole);
		return;
	}
	snprintf(f, sizeof(f), "%0*lld", digits, frac);
	for (n = (int)strlen(f); n > 0 && f[n - 1] == '0'; n--)
		f[n - 1] = '\0';
	snprintf(out, cap, "%lld.%s", whole, f);
}

void
kduration_fmt(char *out, size_t cap, double secs)
{
	long long d = (long long)(secs * 1e9 + (secs < 0 ? -0.5 : 0.5));
	long long h, m, s;
	const char *sign = "";
	char num[48];

	if (d < 0) {
		sign = "-";
		d = -d;
	}
	if (d == 0) {
		snprintf(out, cap, "0s");
	} else if (d < 1000) {
		snprintf(out, cap, "%s%lldns", sign, d);
	} else if (d < 1000000) {
		frac_fmt(num, sizeof(num), d / 1000, d % 1000, 3);
		snprintf(out, cap, "%s%s\xc2\xb5s", sign, num);
	} else if (d < 1000000000) {
		frac_fmt(num, sizeof(num), d / 1000000, d % 1000000, 6);
		snprintf(out, cap, "%s%sms", sign, num);
	} else {
		h = d / 3600000000000LL;
		d -= h * 3600000000000LL;
		m = d / 60000000000LL;
		d -= m * 60000000000LL;
		s = d / 1000000000LL;
		frac_fmt(num, sizeof(num), s, d % 1000000000LL, 9);
		if (h > 0)
			snprintf(out, cap, "%s%lldh%lldm%ss", sign, h, m, num);
		else if (m > 0)
			snprintf(out, cap, "%s%lldm%ss", sign, m, num);
		else
			snprintf(out, cap, "%s%ss", sign, num);
	}
}

int
sotto_kube_lock_memory(bool verbose)
{
	struct rlimit ml;
	int flags = MCL_CURRENT;

#ifdef MCL_ONFAULT
	flags |= MCL_ONFAULT;	/* lock on touch: no fault-in of it all */
#endif
	if (getrlimit(RLIMIT_MEMLOCK, &ml) == 0 && ml.rlim_cur ==
	    RLIM_INFINITY)
		flags |= MCL_FUTURE;
	if (mlockall(flags) != 0) {
		if (verbose)
			klog("debug", NULL, NULL, "memory not locked "
			    "(mlockall: %s); pages may be swapped",
			    strerror(errno));
		return 0;
	}
	if (verbose)
		klog("debug", NULL, NULL, "memory locked (mlockall current%s)",
		    flags & MCL_FUTURE ? " and future" : "");
	return flags;
}
