/* SPDX-License-Identifier: ISC */
/*
 * What the agent serves besides reconciling: leader election on a
 * coordination.k8s.io/v1 Lease (only the holder applies) and the
 * /healthz, /readyz and /metrics endpoints, from a thread of their own
 * that never waits on one client.  The metrics come from sched.c.
 */
#include "kube/agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- leader election ------------------------------------------------------ */

static double
parse_time(const char *s)
{
	struct tm tm;
	const char *rest;

	if (s == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	if ((rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return 0;
	return (double)timegm(&tm) + (rest[0] == '.' ? strtod(rest, NULL) : 0);
}

double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Create, renew or take over the Lease; true when we hold it. */
bool
lease_try(struct agent *a, bool release)
{
	const char *ns = a->o->lease_namespace, *name = a->o->lease_name;
	struct sotto_kube_resp r = SOTTO_KUBE_RESP_INIT;
	struct sotto_error e = { SOTTO_OK, "" };
	struct kref ref = { "coordination.k8s.io", "v1", "leases", ns, name,
	    NULL };
	struct sotto_buf path = SOTTO_BUF_INIT;
	char ts[48];
	json_t *l = NULL, *spec;
	char *body = NULL;
	bool held = false, create;
	const char *holder;
	int trans;

	if (kpath_build(&path, &ref, &e) != SOTTO_OK ||
	    sotto_kube_request(a->k, &r, "GET", (char *)path.data, NULL, NULL,
	    0, &e) != SOTTO_OK)
		goto out;
	create = r.status == 404;
	if (!create && (r.status != 200 || (l = json_loadb((char *)
	    r.body.data, r.body.len, 0, NULL)) == NULL))
		goto out;
	know(ts, sizeof(ts), true);
	if (create)
		l = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{}}", "apiVersion",
		    "coordination.k8s.io/v1", "kind", "Lease", "metadata",
		    "name", name, "namespace", ns, "spec");
	spec = json_object_get(l, "spec");
	holder = kjson_str(spec, "holderIdentity");
	trans = (int)json_integer_value(json_object_get(spec,
	    "leaseTransitions"));
	if (holder != NULL && holder[0] != '\0' && strcmp(holder,
	    a->identity) != 0 && parse_time(kjson_str(spec, "renewTime")) +
	    (double)json_integer_value(json_object_get(spec,
	    "leaseDurationSeconds")) > now_s())
		goto out;	/* someone else holds a live lease */
	if (release && (holder == NULL || strcmp(holder, a->identity) != 0))
		goto out;
	if (holder == NULL || strcmp(holder, a->identity) != 0) {
		json_object_set_new(spec, "acquireTime", json_string(ts));
		json_object_set_new(spec, "leaseTransitions",
		    json_integer(create ? 0 : trans + 1));
	}
	json_object_set_new(spec, "holderIdentity", json_string(release ? "" :
	    a->identity));
	json_object_set_new(spec, "leaseDurationSeconds", json_integer(release
	    ? 1 : (json_int_t)a->o->lease_seconds));
	json_object_set_new(spec, "renewTime", json_string(ts));
	body = json_dumps(l, JSON_COMPACT);
	if (create) {
		ref.name = NULL;	/* POST to the collection */
		sotto_buf_truncate(&path, 0);
		if (kpath_build(&path, &ref, &e) != SOTTO_OK)
			goto out;
	}
	if (body == NULL || sotto_kube_request(a->k, &r, create ? "POST" :
	    "PUT", (char *)path.data, "application/json", body, strlen(body),
	    &e) != SOTTO_OK)
		goto out;
	held = !release && (r.status == 200 || r.status == 201);
out:
	if (held != a->leader && !release)
		klog("info", NULL, NULL, held ? "acquired lease %s/%s" :
		    "lease %s/%s is held by another replica", ns, name);
	if (e.code != SOTTO_OK && e.code != SOTTO_E_KUBE_TRANSPORT)
		klog("error", NULL, NULL, "lease: %s", e.msg);
	free(body);
	json_decref(l);
	sotto_buf_release(&path);
	sotto_kube_resp_release(&r);
	return held;
}

/* ---- /healthz, /readyz, /metrics ------------------------------------------- */

/* The response to one request line (req, NUL-terminated) into out. */
static void
respond(struct agent *a, const char *req, struct sotto_buf *out)
{
	char body[2048], head[256];
	struct sotto_buf mb = SOTTO_BUF_INIT;
	int code = 200;
	struct metrics *m = &a->m;

	pthread_mutex_lock(&m->mu);
	if (strncmp(req, "GET /healthz", 12) == 0) {
		snprintf(body, sizeof(body), "ok\n");
	} else if (strncmp(req, "GET /readyz", 11) == 0) {
		code = m->ready ? 200 : 503;
		snprintf(body, sizeof(body), m->ready ? "ok\n" : "not ready\n");
	} else if (strncmp(req, "GET /metrics", 12) == 0) {
		snprintf(body, sizeof(body),
		    "# TYPE sotto_reconcile_passes_total counter\n"
		    "sotto_reconcile_passes_total %lu\n"
		    "# TYPE sotto_reconcile_total counter\n"
		    "sotto_reconcile_total %lu\n"
		    "# TYPE sotto_reconcile_failures_total counter\n"
		    "sotto_reconcile_failures_total %lu\n"
		    "# TYPE sotto_reconcile_last_duration_seconds gauge\n"
		    "sotto_reconcile_last_duration_seconds %.6f\n"
		    "# TYPE sotto_api_requests_total counter\n"
		    "sotto_api_requests_total %lu\n"
		    "# TYPE sotto_leader gauge\nsotto_leader %d\n",
		    m->passes, m->applied, m->failures, m->last_seconds,
		    m->requests, m->leader ? 1 : 0);
		if (sotto_buf_addf(&mb, "%s", body) != SOTTO_OK ||
		    sotto_buf_add(&mb, m->per_ks.data, m->per_ks.len) !=
		    SOTTO_OK)
			code = 500;
		if (code == 500)
			sotto_buf_truncate(&mb, 0);
	} else {
		code = 404;
		snprintf(body, sizeof(body), "not found\n");
	}
	pthread_mutex_unlock(&m->mu);
	if (mb.len == 0 && sotto_buf_addf(&mb, "%s", code == 500 ?
	    "out of memory\n" : body) != SOTTO_OK)
		return;
	snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: text/"
	    "plain; version=0.0.4\r\nContent-Length: %zu\r\nConnection: "
	    "close\r\n\r\n", code, code == 200 ? "OK" : code == 503 ?
	    "Service Unavailable" : code == 500 ? "Internal Server Error" :
	    "Not Found", mb.len);
	if (sotto_buf_addstr(out, head) == SOTTO_OK)
		(void)sotto_buf_add(out, mb.data, mb.len);
	sotto_buf_release(&mb);
}

/*
 * The health server never waits on one client (issue #14: an idle
 * connection must not fail the liveness probe): non-blocking sockets in
 * one poll() loop, at most HEALTH_CLIENTS at once, each given
 * HEALTH_DEADLINE seconds to send its request line and take the answer.
 * When every slot is busy, the client closest to its deadline is dropped
 * for the newcomer, so a flood of idle connections delays nobody.
 */
#define HEALTH_CLIENTS 16
#define HEALTH_DEADLINE 5.0

struct hclient {
	int fd;				/* -1: free slot */
	double deadline;		/* dropped after this */
	char in[1024];			/* request so far */
	size_t inlen;
	struct sotto_buf out;		/* response, once the line is in */
	size_t off;			/* bytes of out sent */
};


static void
hclient_close(struct hclient *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->inlen = h->off = 0;
	sotto_buf_release(&h->out);
}

/* Reads what is there; once a full line is in, builds the response. */
static void
hclient_read(struct agent *a, struct hclient *h)
{
	ssize_t n = recv(h->fd, h->in + h->inlen, sizeof(h->in) - 1 -
	    h->inlen, MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		hclient_close(h);
		return;
	}
	if (n < 0)
		return;
	h->inlen += (size_t)n;
	h->in[h->inlen] = '\0';
	if (memchr(h->in, '\n', h->inlen) == NULL && h->inlen + 1 <
	    sizeof(h->in))
		return;		/* the request line is not complete yet */
	respond(a, h->in, &h->out);
	if (h->out.len == 0)
		hclient_close(h);
}

static void
hclient_write(struct hclient *h)
{
	ssize_t n = send(h->fd, h->out.data + h->off, h->out.len - h->off,
	    MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || (h->off += (size_t)n) == h->out.len)
		hclient_close(h);
}

static void
health_accept(struct agent *a, struct hclient *cl)
{
	struct hclient *slot = NULL;
	int fd, i;

	fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < HEALTH_CLIENTS; i++) {
		if (cl[i].fd < 0) {
			slot = &cl[i];
			break;
		}
		if (slot == NULL || cl[i].deadline < slot->deadline)
			slot = &cl[i];
	}
	hclient_close(slot);	/* the oldest, when every slot is busy */
	slot->fd = fd;
	slot->deadline = kchild_now() + HEALTH_DEADLINE;
}

static void *
health_main(void *arg)
{
	struct agent *a = arg;
	struct hclient cl[HEALTH_CLIENTS];
	struct pollfd p[HEALTH_CLIENTS + 1];
	int i, n;

	for (i = 0; i < HEALTH_CLIENTS; i++) {
		memset(&cl[i], 0, sizeof(cl[i]));
		cl[i].fd = -1;
	}
	while (!a->health_stop) {
		p[0].fd = a->listen_fd;
		p[0].events = POLLIN;
		for (i = 0; i < HEALTH_CLIENTS; i++) {
			if (cl[i].fd >= 0 && kchild_now() > cl[i].deadline)
				hclient_close(&cl[i]);
			p[i + 1].fd = cl[i].fd;
			p[i + 1].events = cl[i].out.len > 0 ? POLLOUT : POLLIN;
			p[i + 1].revents = 0;
		}
		if ((n = poll(p, HEALTH_CLIENTS + 1, 200)) <= 0)
			continue;
		for (i = 0; i < HEALTH_CLIENTS; i++) {
			if (cl[i].fd < 0 || p[i + 1].revents == 0)
				continue;
			if (p[i + 1].revents & (POLLERR | POLLNVAL))
				hclient_close(&cl[i]);
			else if (cl[i].out.len > 0)
				hclient_write(&cl[i]);
			else
				hclient_read(a, &cl[i]);
		}
		if (p[0].revents & POLLIN)
			health_accept(a, cl);
	}
	for (i = 0; i < HEALTH_CLIENTS; i++)
		hclient_close(&cl[i]);
	return NULL;
}

sotto_err
health_start(struct agent *a, const char *addr, struct sotto_error *e)
{
	struct sockaddr_in sa;
	char host[64];
	const char *colon = strrchr(addr, ':');
	int one = 1;

	a->listen_fd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - addr) : 0,
	    addr);
	sa.sin_port = htons((uint16_t)strtoul(colon ? colon + 1 : addr, NULL,
	    10));
	if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sa.sin_addr) != 1)
		return sotto_error_set(e, SOTTO_E_USAGE, "--health-addr '%s': "
		    "want HOST:PORT (IPv4)", addr);
	if ((a->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	    || setsockopt(a->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) != 0 || bind(a->listen_fd, (struct sockaddr *)&sa,
	    sizeof(sa)) != 0 || listen(a->listen_fd, 16) != 0) {
		if (a->listen_fd >= 0)
			close(a->listen_fd);
		a->listen_fd = -1;
		return sotto_error_set(e, SOTTO_E_IO, "cannot listen on '%s': "
		    "%s", addr, strerror(errno));
	}
	if (pthread_create(&a->health, NULL, health_main, a) != 0) {
		close(a->listen_fd);
		a->listen_fd = -1;
		return sotto_error_set(e, SOTTO_E_IO, "cannot start the health "
		    "server thread");
	}
	return SOTTO_OK;
}

void
health_stop(struct agent *a)
{
	if (a->listen_fd < 0)
		return;
	a->health_stop = 1;
	pthread_join(a->health, NULL);
	close(a->listen_fd);
	a->listen_fd = -1;
}
