/* SPDX-License-Identifier: ISC */
/*
 * age plugin clients (spec age-format.md §11, C2SP age-plugin.md): for
 * age1NAME1... recipients and AGE-PLUGIN-NAME-1... identities, runs
 * age-plugin-NAME (found in $PATH, absolute directories only, never the
 * working directory) and speaks the recipient-v1 or identity-v1 state
 * machine over a socketpair used as the plugin's stdin and stdout.  The
 * plugin's stderr is passed through.
 *
 * Messages are age stanzas: "-> command args..." then a base64 body in
 * 64-column lines ending with a shorter (maybe empty) line.  The plugin's
 * requests (msg, confirm, request-public, request-secret) are answered from
 * /dev/tty, or refused with "fail" when there is no terminal; msg only
 * prints to stderr.  Unknown requests get "unsupported".
 *
 * Every failure names the binary ("age-plugin-NAME: ...").  Limits: a line
 * is at most 64 KiB, a body at most 1 MiB, a session at most 16 MiB and 4096
 * messages.  Each read waits at most SOTTO_AGE_PLUGIN_TIMEOUT seconds
 * (default 60; the time the user spends answering a prompt does not
 * count); then the plugin is killed.
 */
#include "crypto/age_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "crypto/b64.h"
#include "crypto/bech32.h"
#include "sotto/secret.h"

extern char **environ;

#define PLUGIN_NAME_MAX 64
#define PLUGIN_LINE_MAX (64u << 10)
#define PLUGIN_BODY_MAX (1u << 20)
#define PLUGIN_SESSION_MAX (16u << 20)
#define PLUGIN_MSGS_MAX 4096
#define PLUGIN_TIMEOUT_DEFAULT 60

/* ---- keys --------------------------------------------------------------- */

struct plugin_key {
	char name[PLUGIN_NAME_MAX + 1];	/* NAME, lower-case */
	char *str;			/* the full recipient / identity */
	char labels[256];		/* recipient: labels of the last wrap */
	bool identity;			/* recipient made of an identity */
};

static bool
valid_name(const char *n, size_t len)
{
	size_t i;

	if (len == 0 || len > PLUGIN_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)n[i]) && n[i] != '-' &&
		    n[i] != '_' && n[i] != '.' && n[i] != '+')
			return false;
	return true;
}

static struct plugin_key *
key_new(const char *name, size_t nlen, const char *str)
{
	struct plugin_key *k = calloc(1, sizeof(*k));
	size_t i;

	if (k == NULL || (k->str = strdup(str)) == NULL) {
		free(k);
		return NULL;
	}
	for (i = 0; i < nlen; i++)
		k->name[i] = (char)tolower((unsigned char)name[i]);
	return k;
}

static void
key_free(void *priv)
{
	struct plugin_key *k = priv;

	if (k == NULL)
		return;
	if (k->str != NULL) {
		sodium_memzero(k->str, strlen(k->str));
		free(k->str);
	}
	free(k);
}

/* ---- the connection ------------------------------------------------------ */

struct conn {
	char bin[PLUGIN_NAME_MAX + 16];	/* "age-plugin-NAME", for messages */
	pid_t pid;			/* the plugin process, or -1 */
	int fd;				/* our end of the socketpair */
	uint8_t *buf;			/* read-ahead */
	size_t off, len, cap;
	size_t total, msgs;		/* session counters (limits) */
	int timeout_s;			/* per-read timeout */
};

static int
plugin_timeout(void)
{
	const char *s = getenv("SOTTO_AGE_PLUGIN_TIMEOUT");
	long v;
	char *end;

	if (s == NULL || *s == '\0')
		return PLUGIN_TIMEOUT_DEFAULT;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v <= 0 || v > 86400)
		return PLUGIN_TIMEOUT_DEFAULT;
	return (int)v;
}

/* Finds age-plugin-NAME in the absolute directories of $PATH. */
static bool
find_binary(char *out, size_t cap, const char *bin)
{
	const char *path = getenv("PATH"), *p, *end;
	struct stat st;
	size_t n;

	if (path == NULL)
		return false;
	for (p = path; ; p = end + 1) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (n > 0 && p[0] == '/' &&
		    (size_t)snprintf(out, cap, "%.*s/%s", (int)n, p, bin) < cap &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(out, X_OK) == 0)
			return true;
		if (*end == '\0')
			return false;
	}
}

/* Describes how the plugin ended (reaping it, killing it if needed). */
static void
reap(struct conn *c, char *why, size_t cap, bool kill_it)
{
	int status = 0, i;
	pid_t r = 0;

	snprintf(why, cap, "plugin closed the connection unexpectedly");
	if (c->pid <= 0)
		return;
	for (i = 0; i < 50 && !kill_it; i++) {	/* up to 0.5 s to exit */
		r = waitpid(c->pid, &status, WNOHANG);
		if (r != 0)
			break;
		usleep(10000);
	}
	if (r == 0) {
		kill(c->pid, SIGKILL);
		r = waitpid(c->pid, &status, 0);
		c->pid = -1;
		return;
	}
	c->pid = -1;
	if (r < 0)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		snprintf(why, cap, "plugin exited unexpectedly with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(why, cap, "plugin crashed (killed by signal %d)",
		    WTERMSIG(status));
}

static void
conn_close(struct conn *c)
{
	char why[128];

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->pid > 0)
		reap(c, why, sizeof(why), false);
	if (c->buf != NULL) {
		sodium_memzero(c->buf, c->cap);
		free(c->buf);
	}
	c->buf = NULL;
}

static sotto_err
conn_open(struct conn *c, const char *name, const char *machine,
    struct sotto_error *e)
{
	char path[PATH_MAX], arg[64];
	posix_spawn_file_actions_t fa;
	int sv[2], rc;
	char *argv[3];

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->pid = -1;
	c->timeout_s = plugin_timeout();
	snprintf(c->bin, sizeof(c->bin), "age-plugin-%s", name);
	if (!find_binary(path, sizeof(path), c->bin))
		return sotto_error_set(e, SOTTO_E_NOTFOUND,
		    "%s: plugin not found in $PATH", c->bin);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return sotto_error_set(e, SOTTO_E_IO, "%s: socketpair: %s",
		    c->bin, strerror(errno));
	snprintf(arg, sizeof(arg), "--age-plugin=%s", machine);
	argv[0] = c->bin;
	argv[1] = arg;
	argv[2] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
	rc = posix_spawn(&c->pid, path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		c->pid = -1;
		return sotto_error_set(e, SOTTO_E_IO, "%s: cannot start: %s",
		    c->bin, strerror(rc));
	}
	c->fd = sv[0];
	c->cap = 4096;
	c->buf = malloc(c->cap);
	if (c->buf == NULL) {
		conn_close(c);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	return SOTTO_OK;
}

/* Fails the session: kills the plugin, reports why it went away. */
static sotto_err
conn_dead(struct conn *c, struct sotto_error *e)
{
	char why[128];

	reap(c, why, sizeof(why), false);
	return sotto_error_set(e, SOTTO_E_IO, "%s: %s", c->bin, why);
}

static sotto_err
conn_write(struct conn *c, const void *p, size_t n, struct sotto_error *e)
{
	const uint8_t *q = p;
	ssize_t w;

	while (n > 0) {
		w = send(c->fd, q, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return conn_dead(c, e);
		q += w;
		n -= (size_t)w;
	}
	return SOTTO_OK;
}

/* Writes one message; body may be NULL (an empty body line). */
static sotto_err
send_msg(struct conn *c, const char *type, const char *const *args,
    size_t nargs, const uint8_t *body, size_t blen, struct sotto_error *e)
{
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT, enc = SOTTO_BUF_SECRET_INIT;
	size_t i, off;
	sotto_err err;

	if (sotto_buf_addf(&b, "-> %s", type))
		goto nomem;
	for (i = 0; i < nargs; i++)
		if (sotto_buf_addf(&b, " %s", args[i]))
			goto nomem;
	if (sotto_buf_addch(&b, '\n') ||
	    (blen > 0 && sotto_b64_encode(&enc, body, blen, false)))
		goto nomem;
	for (off = 0; off + 64 <= enc.len; off += 64)
		if (sotto_buf_add(&b, enc.data + off, 64) ||
		    sotto_buf_addch(&b, '\n'))
			goto nomem;
	if (sotto_buf_add(&b, enc.data + off, enc.len - off) ||
	    sotto_buf_addch(&b, '\n'))
		goto nomem;
	err = conn_write(c, b.data, b.len, e);
	sotto_buf_release(&b);
	sotto_buf_release(&enc);
	return err;
nomem:
	sotto_buf_release(&b);
	sotto_buf_release(&enc);
	return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
}

static sotto_err
send_simple(struct conn *c, const char *type, const char *arg,
    struct sotto_error *e)
{
	const char *args[1] = { arg };

	return send_msg(c, type, args, arg != NULL ? 1 : 0, NULL, 0, e);
}

/* Reads one line (without LF) into line, within the limits and timeout. */
static sotto_err
read_line(struct conn *c, struct sotto_buf *line, struct sotto_error *e)
{
	struct pollfd pfd;
	uint8_t *lf;
	ssize_t r;
	int pr;

	sotto_buf_truncate(line, 0);
	for (;;) {
		lf = memchr(c->buf + c->off, '\n', c->len - c->off);
		if (lf != NULL) {
			size_t n = (size_t)(lf - (c->buf + c->off));

			if (line->len + n > PLUGIN_LINE_MAX)
				goto toolong;
			if (sotto_buf_add(line, c->buf + c->off, n))
				return sotto_error_set(e, SOTTO_E_NOMEM,
				    "out of memory");
			c->off += n + 1;
			return SOTTO_OK;
		}
		if (line->len + (c->len - c->off) > PLUGIN_LINE_MAX)
			goto toolong;
		if (sotto_buf_add(line, c->buf + c->off, c->len - c->off))
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		c->off = c->len = 0;
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		pr = poll(&pfd, 1, c->timeout_s * 1000);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			char why[128];

			reap(c, why, sizeof(why), true);
			return sotto_error_set(e, SOTTO_E_IO,
			    "%s: timed out after %d seconds waiting for the "
			    "plugin (SOTTO_AGE_PLUGIN_TIMEOUT)", c->bin,
			    c->timeout_s);
		}
		r = recv(c->fd, c->buf, c->cap, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return conn_dead(c, e);
		c->len = (size_t)r;
		c->total += (size_t)r;
		if (c->total > PLUGIN_SESSION_MAX) {
			reap(c, (char[128]){ 0 }, 128, true);
			return sotto_error_set(e, SOTTO_E_LIMIT,
			    "%s: plugin sent more than 16 MiB", c->bin);
		}
	}
toolong:
	reap(c, (char[128]){ 0 }, 128, true);
	return sotto_error_set(e, SOTTO_E_LIMIT,
	    "%s: message line longer than 64 KiB", c->bin);
}

static sotto_err
malformed(struct conn *c, const char *what, struct sotto_error *e)
{
	reap(c, (char[128]){ 0 }, 128, true);
	return sotto_error_set(e, SOTTO_E_PARSE, "%s: malformed message "
	    "from plugin: %s", c->bin, what);
}

/* Reads one message into s (cleared first).  The body may be secret. */
static sotto_err
read_msg(struct conn *c, struct age_stanza *s, struct sotto_error *e)
{
	struct sotto_buf line = SOTTO_BUF_SECRET_INIT;
	struct sotto_buf b64 = SOTTO_BUF_SECRET_INIT;
	uint8_t *body = NULL;
	char *p, *tok, *save = NULL;
	size_t i, got;
	sotto_err err;

	age_stanza_clear(s);
	if (++c->msgs > PLUGIN_MSGS_MAX) {
		reap(c, (char[128]){ 0 }, 128, true);
		return sotto_error_set(e, SOTTO_E_LIMIT,
		    "%s: too many messages from plugin", c->bin);
	}
	if ((err = read_line(c, &line, e)) != SOTTO_OK)
		goto out;
	p = (char *)line.data;
	if (line.len < 4 || strncmp(p, "-> ", 3) != 0) {
		err = malformed(c, "expected a \"-> \" line", e);
		goto out;
	}
	for (i = 3; i < line.len; i++)
		if (p[i] != ' ' && (p[i] < 33 || p[i] > 126)) {
			err = malformed(c, "invalid character", e);
			goto out;
		}
	if (strstr(p + 3, "  ") != NULL || p[3] == ' ' ||
	    p[line.len - 1] == ' ') {
		err = malformed(c, "empty argument", e);
		goto out;
	}
	for (tok = strtok_r(p + 3, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if (s->type == NULL) {
			if ((s->type = strdup(tok)) == NULL)
				goto nomem;
		} else if (age_stanza_add_arg(s, tok) != SOTTO_OK)
			goto nomem;
	}
	for (;;) {
		if ((err = read_line(c, &line, e)) != SOTTO_OK)
			goto out;
		if (line.len > 64) {
			err = malformed(c, "body line longer than 64 columns",
			    e);
			goto out;
		}
		if (b64.len + line.len > PLUGIN_BODY_MAX * 4 / 3) {
			reap(c, (char[128]){ 0 }, 128, true);
			err = sotto_error_set(e, SOTTO_E_LIMIT,
			    "%s: message body larger than 1 MiB", c->bin);
			goto out;
		}
		if (sotto_buf_add(&b64, line.data, line.len))
			goto nomem;
		if (line.len < 64)
			break;
	}
	body = sodium_malloc(SOTTO_B64_DECODED_MAX(b64.len) + 1);
	if (body == NULL)
		goto nomem;
	if (!sotto_b64_decode(body, &got, (const char *)b64.data, b64.len,
	    false)) {
		err = malformed(c, "invalid base64 body", e);
		goto out;
	}
	if (age_stanza_set_body(s, body, got) != SOTTO_OK)
		goto nomem;
	err = SOTTO_OK;
	goto out;
nomem:
	err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
out:
	if (body != NULL)
		sodium_free(body);
	sotto_buf_release(&line);
	sotto_buf_release(&b64);
	return err;
}

/* ---- the terminal (msg, confirm, request-*) ----------------------------- */

/* Prompts on /dev/tty and reads a line; false if there is no terminal. */
static bool
tty_ask(struct sotto_buf *ans, const char *bin, const char *prompt,
    bool secret)
{
	struct termios old, raw;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	bool echo_off = false, ok = false;
	char ch;
	ssize_t r;

	if (fd < 0)
		return false;
	if (dprintf(fd, "%s: %s ", bin, prompt) < 0)
		goto out;
	if (secret && tcgetattr(fd, &old) == 0) {
		raw = old;
		raw.c_lflag &= ~(tcflag_t)ECHO;
		echo_off = tcsetattr(fd, TCSANOW, &raw) == 0;
	}
	for (;;) {
		r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		if (ch == '\n' || ch == '\r')
			break;
		if (sotto_buf_addch(ans, ch))
			goto out;
	}
	ok = true;
out:
	if (echo_off) {
		tcsetattr(fd, TCSANOW, &old);
		(void)!write(fd, "\n", 1);
	}
	close(fd);
	return ok;
}

/*
 * Answers a plugin request that is not part of the state machine proper.
 * Returns SOTTO_OK after answering; handled=false if s is not one.
 */
static sotto_err
answer_ui(struct conn *c, const struct age_stanza *s, bool *handled,
    struct sotto_error *e)
{
	struct sotto_buf ans = SOTTO_BUF_SECRET_INIT, prompt = SOTTO_BUF_INIT;
	uint8_t yes[256], no[256];
	size_t ylen = 0, nlen = 0;
	sotto_err err;

	*handled = true;
	if (sotto_buf_add(&prompt, s->body, s->body_len)) {
		sotto_buf_release(&prompt);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < prompt.len; i++)	/* no terminal escapes */
		if (prompt.data[i] < 32 || prompt.data[i] == 127)
			prompt.data[i] = '?';
	if (strcmp(s->type, "msg") == 0) {
		fprintf(stderr, "%s: %s\n", c->bin, (const char *)prompt.data);
		err = send_simple(c, "ok", NULL, e);
	} else if (strcmp(s->type, "request-public") == 0 ||
	    strcmp(s->type, "request-secret") == 0) {
		if (tty_ask(&ans, c->bin, (const char *)prompt.data,
		    strcmp(s->type, "request-secret") == 0))
			err = send_msg(c, "ok", NULL, 0, ans.data, ans.len, e);
		else
			err = send_simple(c, "fail", NULL, e);
	} else if (strcmp(s->type, "confirm") == 0) {
		char q[1024];

		if (s->nargs < 1 || s->nargs > 2 ||
		    SOTTO_B64_DECODED_MAX(strlen(s->args[0])) >= sizeof(yes) ||
		    !sotto_b64_decode(yes, &ylen, s->args[0],
		    strlen(s->args[0]), false) || (s->nargs == 2 &&
		    (SOTTO_B64_DECODED_MAX(strlen(s->args[1])) >= sizeof(no) ||
		    !sotto_b64_decode(no, &nlen, s->args[1],
		    strlen(s->args[1]), false)))) {
			sotto_buf_release(&prompt);
			return malformed(c, "bad confirm arguments", e);
		}
		if (s->nargs == 2)
			snprintf(q, sizeof(q), "%s [1 = %.*s, 2 = %.*s]:",
			    (const char *)prompt.data, (int)ylen, yes,
			    (int)nlen, no);
		else
			snprintf(q, sizeof(q), "%s [press enter for %.*s]:",
			    (const char *)prompt.data, (int)ylen, yes);
		for (size_t i = 0; q[i]; i++)
			if ((unsigned char)q[i] < 32)
				q[i] = '?';
		if (!tty_ask(&ans, c->bin, q, true))
			err = send_simple(c, "fail", NULL, e);
		else if (s->nargs == 2 && ans.len == 1 && ans.data[0] == '2')
			err = send_simple(c, "ok", "no", e);
		else if (s->nargs == 1 || (ans.len == 1 && ans.data[0] == '1'))
			err = send_simple(c, "ok", "yes", e);
		else
			err = send_simple(c, "fail", NULL, e);
	} else {
		*handled = false;
		err = SOTTO_OK;
	}
	sotto_buf_release(&ans);
	sotto_buf_release(&prompt);
	return err;
}

/* "error" from the plugin: acknowledge, then fail naming it. */
static sotto_err
plugin_error(struct conn *c, const struct age_stanza *s,
    struct sotto_error *e)
{
	char msg[200];
	size_t i, n = s->body_len < sizeof(msg) - 1 ? s->body_len :
	    sizeof(msg) - 1;

	for (i = 0; i < n; i++)
		msg[i] = s->body[i] >= 32 && s->body[i] < 127 ?
		    (char)s->body[i] : '?';
	msg[n] = '\0';
	(void)send_simple(c, "ok", NULL, e);
	return sotto_error_set(e, SOTTO_E_CRYPTO, "%s: plugin reported an "
	    "error (%s%s%s): %s", c->bin, s->nargs > 0 ? s->args[0] : "?",
	    s->nargs > 1 ? " " : "", s->nargs > 1 ? s->args[1] : "", msg);
}

/* ---- recipient-v1 ------------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static sotto_err
plugin_wrap(const struct sotto_age_recipient *r, const uint8_t file_key[16],
    struct age_header *h, struct sotto_error *e)
{
	struct plugin_key *k = r->priv;
	struct age_stanza s, *out;
	struct conn c;
	size_t nst = 0, i;
	bool handled;
	sotto_err err;

	memset(&s, 0, sizeof(s));
	k->labels[0] = '\0';
	if ((err = conn_open(&c, k->name, "recipient-v1", e)) != SOTTO_OK)
		return err;
	/* phase 1 */
	if ((err = send_simple(&c, k->identity ? "add-identity" :
	    "add-recipient", k->str, e)) ||
	    (err = send_msg(&c, "wrap-file-key", NULL, 0, file_key, 16, e)) ||
	    (err = send_simple(&c, "extension-labels", NULL, e)) ||
	    (err = send_simple(&c, "done", NULL, e)))
		goto out;
	/* phase 2 */
	for (;;) {
		if ((err = read_msg(&c, &s, e)) != SOTTO_OK)
			goto out;
		if (strcmp(s.type, "done") == 0)
			break;
		if (strcmp(s.type, "recipient-stanza") == 0) {
			if (s.nargs < 2 || strcmp(s.args[0], "0") != 0) {
				err = malformed(&c, "recipient-stanza needs "
				    "file index 0 and a type", e);
				goto out;
			}
			if ((out = age_header_add(h, s.args[1])) == NULL)
				goto nomem;
			for (i = 2; i < s.nargs; i++)
				if (age_stanza_add_arg(out, s.args[i]))
					goto nomem;
			if (age_stanza_set_body(out, s.body, s.body_len))
				goto nomem;
			nst++;
			err = send_simple(&c, "ok", NULL, e);
		} else if (strcmp(s.type, "labels") == 0) {
			size_t off = 0;

			qsort(s.args, s.nargs, sizeof(*s.args), cmp_str);
			for (i = 0; i < s.nargs; i++) {
				if (i > 0 && strcmp(s.args[i],
				    s.args[i - 1]) == 0) {
					err = malformed(&c, "duplicate label",
					    e);
					goto out;
				}
				off += (size_t)snprintf(k->labels + off,
				    sizeof(k->labels) - off, "%s%s",
				    i ? " " : "", s.args[i]);
				if (off >= sizeof(k->labels)) {
					err = malformed(&c, "labels too long",
					    e);
					goto out;
				}
			}
			err = send_simple(&c, "ok", NULL, e);
		} else if (strcmp(s.type, "error") == 0) {
			err = plugin_error(&c, &s, e);
			goto out;
		} else {
			if ((err = answer_ui(&c, &s, &handled, e)) != SOTTO_OK)
				goto out;
			if (!handled)
				err = send_simple(&c, "unsupported", NULL, e);
		}
		if (err != SOTTO_OK)
			goto out;
	}
	if (nst == 0)
		err = sotto_error_set(e, SOTTO_E_CRYPTO, "%s: plugin returned "
		    "no recipient stanza", c.bin);
	goto out;
nomem:
	err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
out:
	age_stanza_clear(&s);
	conn_close(&c);
	return err;
}

static const char *
plugin_labels(const struct sotto_age_recipient *r)
{
	return ((const struct plugin_key *)r->priv)->labels;
}

static const struct age_recipient_ops plugin_rec_ops = {
	.name = "plugin",
	.wrap = plugin_wrap,
	.free_priv = key_free,
	.labels = plugin_labels,
};

sotto_err
age_plugin_recipient_parse(struct sotto_age_recipient **out, const char *s,
    struct sotto_error *e)
{
	char hrp[PLUGIN_NAME_MAX + 8];
	uint8_t *data;
	size_t n = strlen(s), dlen;
	struct plugin_key *k;
	sotto_err err;

	*out = NULL;
	if ((data = malloc(n + 1)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	err = sotto_bech32_decode(hrp, sizeof(hrp), data, &dlen, s, n, e);
	free(data);
	if (err != SOTTO_OK)
		return sotto_error_prefix(e, "malformed plugin recipient "
		    "'%.40s'", s);
	if (strncmp(hrp, "age1", 4) != 0 || !valid_name(hrp + 4,
	    strlen(hrp + 4)))
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "malformed plugin recipient '%.40s': invalid plugin name",
		    s);
	if ((k = key_new(hrp + 4, strlen(hrp + 4), s)) == NULL ||
	    (*out = age_recipient_new(&plugin_rec_ops, k, s)) == NULL) {
		key_free(k);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	return SOTTO_OK;
}

/* ---- identity-v1 -------------------------------------------------------- */

static sotto_err
plugin_unwrap(const struct sotto_age_identity *id, const struct age_header *h,
    uint8_t file_key[16], struct sotto_error *e)
{
	const struct plugin_key *k = id->priv;
	struct age_stanza s;
	struct conn c;
	const char **args = NULL;
	size_t i, j;
	bool have = false, handled;
	sotto_err err;

	memset(&s, 0, sizeof(s));
	if ((err = conn_open(&c, k->name, "identity-v1", e)) != SOTTO_OK)
		return err;
	/* phase 1 */
	if ((err = send_simple(&c, "add-identity", k->str, e)) != SOTTO_OK)
		goto out;
	for (i = 0; i < h->n; i++) {
		const struct age_stanza *st = &h->st[i];

		args = calloc(st->nargs + 2, sizeof(*args));
		if (args == NULL)
			goto nomem;
		args[0] = "0";
		args[1] = st->type;
		for (j = 0; j < st->nargs; j++)
			args[j + 2] = st->args[j];
		err = send_msg(&c, "recipient-stanza", args, st->nargs + 2,
		    st->body, st->body_len, e);
		free(args);
		args = NULL;
		if (err != SOTTO_OK)
			goto out;
	}
	if ((err = send_simple(&c, "done", NULL, e)) != SOTTO_OK)
		goto out;
	/* phase 2 */
	for (;;) {
		if ((err = read_msg(&c, &s, e)) != SOTTO_OK)
			goto out;
		if (strcmp(s.type, "done") == 0)
			break;
		if (strcmp(s.type, "file-key") == 0) {
			if (s.nargs != 1 || strcmp(s.args[0], "0") != 0 ||
			    s.body_len != 16) {
				err = malformed(&c, "file-key needs file "
				    "index 0 and a 16-byte key", e);
				goto out;
			}
			if (have) {
				err = malformed(&c, "duplicate file-key", e);
				goto out;
			}
			memcpy(file_key, s.body, 16);
			have = true;
			err = send_simple(&c, "ok", NULL, e);
		} else if (strcmp(s.type, "error") == 0) {
			err = plugin_error(&c, &s, e);
			goto out;
		} else {
			if ((err = answer_ui(&c, &s, &handled, e)) != SOTTO_OK)
				goto out;
			if (!handled)
				err = send_simple(&c, "unsupported", NULL, e);
		}
		if (err != SOTTO_OK)
			goto out;
	}
	err = have ? SOTTO_OK : SOTTO_E_AGE_NO_MATCH;
	goto out;
nomem:
	err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
out:
	if (err != SOTTO_OK && have)
		sodium_memzero(file_key, 16);
	age_stanza_clear(&s);
	conn_close(&c);
	return err;
}

/*
 * The recipient of a plugin identity (age -e -i/-j): the plugin gets the
 * identity itself ("add-identity") and wraps the file key to it.  Its
 * string form names no key, as Go's "<identity-based recipient>".
 */
static sotto_err
plugin_to_recipient(struct sotto_age_recipient **out,
    const struct sotto_age_identity *id, struct sotto_error *e)
{
	const struct plugin_key *ik = id->priv;
	struct plugin_key *k = key_new(ik->name, strlen(ik->name), ik->str);

	if (k == NULL || (*out = age_recipient_new(&plugin_rec_ops, k,
	    "<identity-based recipient>")) == NULL) {
		key_free(k);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	k->identity = true;
	return SOTTO_OK;
}

static const struct age_identity_ops plugin_id_ops = {
	.name = "plugin",
	.unwrap = plugin_unwrap,
	.to_recipient = plugin_to_recipient,
	.free_priv = key_free,
};

static sotto_err
identity_new(struct sotto_age_identity **out, const char *name, size_t nlen,
    const char *s, struct sotto_error *e)
{
	struct plugin_key *k = key_new(name, nlen, s);

	if (k == NULL || (*out = age_identity_new(&plugin_id_ops, k)) == NULL) {
		key_free(k);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	(*out)->native = false;	/* tried after native identities */
	return SOTTO_OK;
}

sotto_err
age_plugin_identity_parse(struct sotto_age_identity **out, const char *s,
    struct sotto_error *e)
{
	char hrp[PLUGIN_NAME_MAX + 16];
	uint8_t *data;
	size_t n = strlen(s), dlen, hl;
	sotto_err err;

	*out = NULL;
	if ((data = sodium_malloc(n + 1)) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	err = sotto_bech32_decode(hrp, sizeof(hrp), data, &dlen, s, n, e);
	sodium_free(data);
	if (err != SOTTO_OK)
		return sotto_error_prefix(e, "malformed plugin identity");
	hl = strlen(hrp);
	if (strncmp(hrp, "AGE-PLUGIN-", 11) != 0 || hl < 13 ||
	    hrp[hl - 1] != '-' || !valid_name(hrp + 11, hl - 12))
		return sotto_error_set(e, SOTTO_E_KEY_FORMAT,
		    "malformed plugin identity: invalid plugin name");
	return identity_new(out, hrp + 11, hl - 12, s, e);
}

sotto_err
age_plugin_identity_new(struct sotto_age_identity **out, const char *name,
    struct sotto_error *e)
{
	struct sotto_buf s = SOTTO_BUF_INIT;
	char hrp[PLUGIN_NAME_MAX + 16];
	size_t i, n = strlen(name);
	sotto_err err;

	*out = NULL;
	if (!valid_name(name, n))
		return sotto_error_set(e, SOTTO_E_USAGE,
		    "invalid plugin name '%.70s'", name);
	snprintf(hrp, sizeof(hrp), "AGE-PLUGIN-%s-", name);
	for (i = 0; hrp[i]; i++)
		hrp[i] = (char)toupper((unsigned char)hrp[i]);
	if (sotto_bech32_encode(&s, hrp, NULL, 0)) {
		sotto_buf_release(&s);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	err = identity_new(out, name, n, (const char *)s.data, e);
	sotto_buf_release(&s);
	return err;
}
