/* SPDX-License-Identifier: ISC */
/*
 * Short-lived children with a deadline (issue #14): the agent renders and
 * fetches each source in a forked child, reads its reply through a pipe,
 * and kills it when the deadline passes, so one tenant's slow or hanging
 * work cannot stall the others.  No child outlives the agent
 * (PR_SET_PDEATHSIG), and when no child can be started the work is not
 * done in the agent instead.
 */
#include "kube/kint.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double
kchild_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

sotto_err
kchild_start(struct kchild *c, kchild_fn fn, void *arg, double timeout,
    const char *what, struct sotto_error *e)
{
	int fds[2];
	pid_t parent = getpid();

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->deadline = kchild_now() + (timeout > 0 ? timeout : 0);
	if (pipe2(fds, O_CLOEXEC) != 0)
		return sotto_error_set(e, SOTTO_E_IO, "cannot start the %s "
		    "process: %s", what, strerror(errno));
	if ((c->pid = fork()) < 0) {
		int err = errno;

		close(fds[0]);
		close(fds[1]);
		return sotto_error_set(e, SOTTO_E_IO, "cannot start the %s "
		    "process: %s", what, strerror(err));
	}
	if (c->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() != parent)
			_exit(1);	/* the agent is already gone */
		close(fds[0]);
		fn(arg, fds[1]);
		_exit(0);
	}
	close(fds[1]);
	c->fd = fds[0];
	return SOTTO_OK;
}

int
kchild_read(struct kchild *c, void *p, size_t n)
{
	struct pollfd pfd;
	double left;
	ssize_t got;
	int r;

	while (n > 0) {
		if ((left = c->deadline - kchild_now()) <= 0)
			return c->late = true, -1;
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > 3600 ? 3600000 : (int)(left * 1000) +
		    1);
		if (r < 0 && errno != EINTR)
			return 0;
		if (r <= 0)
			continue;
		got = read(c->fd, p, n);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0)
			return 0;
		p = (char *)p + got;
		n -= (size_t)got;
	}
	return 1;
}

int
kchild_end(struct kchild *c, bool kill_it)
{
	int st = 0;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->pid <= 0)
		return 0;
	if (kill_it || c->late)
		kill(c->pid, SIGKILL);
	while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
		;
	c->pid = 0;
	return st;
}
