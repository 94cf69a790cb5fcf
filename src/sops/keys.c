/* SPDX-License-Identifier: ISC */
/*
 * Collects age identities from the places sops looks (environment, key
 * commands, SSH keys, the default keys.txt) and parses recipient comma
 * lists.  The identity and recipient formats belong to crypto/age.c; the
 * command runner here never uses a shell.
 */
#include "sotto/keys.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "sotto/io.h"
#include "sotto/tree.h"

extern char **environ;

/* ------------------------------------------------------------------ */
/* commands                                                             */

void
sotto_keys_argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++) {
		sodium_memzero(argv[i], strlen(argv[i]));
		free(argv[i]);
	}
	free(argv);
}

static sotto_err
argv_push(char ***argv, size_t *n, struct sotto_buf *w)
{
	char **nv;

	nv = realloc(*argv, (*n + 2) * sizeof(*nv));
	if (nv == NULL)
		return SOTTO_E_NOMEM;
	*argv = nv;
	nv[*n] = strndup(w->data != NULL ? (const char *)w->data : "", w->len);
	if (nv[*n] == NULL)
		return SOTTO_E_NOMEM;
	nv[++*n] = NULL;
	sotto_buf_truncate(w, 0);
	return SOTTO_OK;
}

sotto_err
sotto_keys_split_command(char ***argv_out, const char *cmd,
    struct sotto_error *e)
{
	struct sotto_buf w = SOTTO_BUF_SECRET_INIT;
	char **argv = NULL;
	const char *p = cmd;
	size_t n = 0;
	bool inword = false;
	sotto_err err = SOTTO_OK;

	*argv_out = NULL;
	for (;;) {
		if (*p == '\0' || isspace((unsigned char)*p)) {
			if (inword && argv_push(&argv, &n, &w) != SOTTO_OK)
				goto nomem;
			inword = false;
			if (*p == '\0')
				break;
			p++;
			continue;
		}
		inword = true;
		if (*p == '\'') {
			const char *end = strchr(p + 1, '\'');

			if (end == NULL)
				goto unterminated;
			if (sotto_buf_add(&w, p + 1, (size_t)(end - p - 1)))
				goto nomem;
			p = end + 1;
		} else if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0')
					goto unterminated;
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				if (sotto_buf_addch(&w, *p))
					goto nomem;
			}
			p++;
		} else if (*p == '\\' && p[1] != '\0') {
			if (sotto_buf_addch(&w, p[1]))
				goto nomem;
			p += 2;
		} else {
			if (sotto_buf_addch(&w, *p++))
				goto nomem;
		}
	}
	if (n == 0) {
		err = sotto_error_set(e, SOTTO_E_USAGE, "empty command");
		goto out;
	}
	*argv_out = argv;
	argv = NULL;
	goto out;
unterminated:
	err = sotto_error_set(e, SOTTO_E_USAGE,
	    "unterminated quote in command");
	goto out;
nomem:
	err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
out:
	sotto_buf_release(&w);
	sotto_keys_argv_free(argv);
	return err;
}

/* environ plus SOPS_AGE_RECIPIENT=<recipient>; *var is the new string. */
static char **
child_env(const char *recipient, char **var)
{
	static const char name[] = "SOPS_AGE_RECIPIENT=";
	char **env;
	size_t n = 0, i, k = 0;

	*var = NULL;
	while (environ != NULL && environ[n] != NULL)
		n++;
	if ((env = calloc(n + 2, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (recipient == NULL ||
		    strncmp(environ[i], name, sizeof(name) - 1) != 0)
			env[k++] = environ[i];
	if (recipient != NULL) {
		if (asprintf(var, "%s%s", name, recipient) < 0) {
			*var = NULL;
			free(env);
			return NULL;
		}
		env[k++] = *var;
	}
	env[k] = NULL;
	return env;
}

sotto_err
sotto_keys_run_command(struct sotto_buf *out, const char *cmd,
    const char *what, const char *recipient, size_t cap,
    struct sotto_error *e)
{
	posix_spawn_file_actions_t fa;
	char **argv = NULL, **env = NULL, *var = NULL;
	int fds[2] = { -1, -1 }, rc, status;
	bool fa_init = false, killed = false;
	pid_t pid = -1;
	size_t start = out->len;
	ssize_t r;
	sotto_err err;

	if ((err = sotto_keys_split_command(&argv, cmd, e)) != SOTTO_OK) {
		sotto_error_prefix(e, "%s", what);
		goto out;
	}
	if ((env = child_env(recipient, &var)) == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	if (pipe2(fds, O_CLOEXEC) != 0) {
		err = sotto_error_set(e, SOTTO_E_IO, "%s: pipe: %s", what,
		    strerror(errno));
		goto out;
	}
	if (posix_spawn_file_actions_init(&fa) != 0) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	fa_init = true;
	if (posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO) != 0) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, env);
	if (rc != 0) {
		pid = -1;
		err = sotto_error_set(e, rc == ENOENT ? SOTTO_E_NOTFOUND :
		    SOTTO_E_IO, "cannot run '%.64s' from %s: %s", argv[0], what,
		    strerror(rc));
		goto out;
	}
	close(fds[1]);
	fds[1] = -1;
	err = SOTTO_OK;
	for (;;) {
		if (sotto_buf_grow(out, 65536) != SOTTO_OK) {
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
			break;
		}
		r = read(fds[0], out->data + out->len, 65536);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = sotto_error_set(e, SOTTO_E_IO,
			    "'%.64s' from %s: read: %s", argv[0], what,
			    strerror(errno));
			break;
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
		out->data[out->len] = '\0';
		if (out->len - start > cap) {
			err = sotto_error_set(e, SOTTO_E_LIMIT,
			    "output of '%.64s' from %s is larger than %zu "
			    "bytes", argv[0], what, cap);
			break;
		}
	}
	if (err != SOTTO_OK) {
		kill(pid, SIGKILL);
		killed = true;
	}
	close(fds[0]);
	fds[0] = -1;
	while ((rc = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	pid = -1;
	if (err != SOTTO_OK || killed)
		goto out;
	if (rc < 0) {
		err = sotto_error_set(e, SOTTO_E_IO, "'%.64s' from %s: wait: "
		    "%s", argv[0], what, strerror(errno));
	} else if (WIFSIGNALED(status)) {
		err = sotto_error_set(e, SOTTO_E_IO, "command '%.64s' from %s "
		    "was killed by signal %d", argv[0], what,
		    WTERMSIG(status));
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		err = sotto_error_set(e, SOTTO_E_IO, "command '%.64s' from %s "
		    "failed: exit status %d", argv[0], what,
		    WEXITSTATUS(status));
	}
out:
	if (err != SOTTO_OK)
		sotto_buf_truncate(out, start);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	sotto_keys_argv_free(argv);
	free(env);
	free(var);
	return err;
}

/* ------------------------------------------------------------------ */
/* identities                                                           */

struct loadctx {
	struct sotto_age_idlist *out;
	const struct sotto_keys_opts *o;
	struct sotto_buf *sources;
	sotto_err first;		/* first failure, or OK */
	struct sotto_error first_e;	/* its message */
};

/* One "LABEL: STATUS" line of the sources report. */
static void
note(struct loadctx *c, const char *label, const char *status)
{
	if (c->sources == NULL)
		return;
	(void)sotto_buf_addf(c->sources, "%s: %s\n", label, status);
}

/* True when the text has a line that is neither blank nor a comment. */
static bool
has_content(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
			i++;
		if (i < n && p[i] != '\n' && p[i] != '#')
			return true;
		while (i < n && p[i] != '\n')
			i++;
		i++;
	}
	return false;
}

/*
 * Records a source's failure.  se's message names the source (callers
 * see to it) and is the report line.  The first failure becomes the
 * error returned when nothing loads (unless report_only); optional
 * sources (the SSH defaults) are only reported.
 */
static void
failed(struct loadctx *c, const struct sotto_error *se, bool optional)
{
	if (c->sources != NULL)
		(void)sotto_buf_addf(c->sources, "%s\n", se->msg);
	if (optional || c->first != SOTTO_OK)
		return;
	c->first = se->code != SOTTO_OK ? se->code : SOTTO_E_INTERNAL;
	c->first_e = *se;
	if (c->first_e.code == SOTTO_OK)
		c->first_e.code = c->first;
}

/* Parses identity text from a source, noting the outcome. */
static void
take(struct loadctx *c, const char *label, const uint8_t *p, size_t n,
    bool prompt, bool optional)
{
	struct sotto_error se = { SOTTO_OK, "" };
	size_t before = c->out->n, got;
	char count[32];

	if (!has_content(p, n)) {
		note(c, label, "no keys");
		return;
	}
	if (sotto_age_identities_parse(c->out, p, n, label,
	    prompt && c->o != NULL ? c->o->cb : NULL,
	    c->o != NULL ? c->o->cbctx : NULL, &se) != SOTTO_OK) {
		failed(c, &se, optional);
		return;
	}
	got = c->out->n - before;
	snprintf(count, sizeof(count), "%zu key%s", got, got == 1 ? "" : "s");
	note(c, label, count);
}

/*
 * SOPS_AGE_KEY may hold several whitespace-separated keys per line: put
 * each on its own line.  Armored or PEM text is left alone.
 */
static sotto_err
normalize_inline(struct sotto_buf *out, const char *s)
{
	const char *p = s, *tok;

	while (isspace((unsigned char)*p))
		p++;
	if (strncmp(p, "-----BEGIN", 10) == 0 ||
	    strncmp(p, "age-encryption", 14) == 0)
		return sotto_buf_addstr(out, s);
	p = s;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '#') {		/* comment line */
			while (*p != '\0' && *p != '\n')
				p++;
			continue;
		}
		if (*p == '\n') {
			p++;
			continue;
		}
		tok = p;
		while (*p != '\0' && !isspace((unsigned char)*p))
			p++;
		if (sotto_buf_add(out, tok, (size_t)(p - tok)) ||
		    sotto_buf_addch(out, '\n'))
			return SOTTO_E_NOMEM;
	}
	return SOTTO_OK;
}

static void
from_file(struct loadctx *c, const char *label, const char *path,
    bool prompt, bool optional)
{
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	struct sotto_error se = { SOTTO_OK, "" };

	if (sotto_io_read_file(&b, path, SOTTO_KEYS_MAX_BYTES, &se) !=
	    SOTTO_OK) {
		/* the message names the variable that gave the path */
		if (se.code == SOTTO_E_NOTFOUND)
			sotto_error_set(&se, SOTTO_E_NOTFOUND, "%s: no such "
			    "file", label);
		else if (strcmp(label, path) != 0)
			sotto_error_prefix(&se, "%s", label);
		failed(c, &se, optional);
	} else {
		take(c, label, b.data, b.len, prompt, optional);
	}
	sotto_buf_release(&b);
}

static void
from_cmd(struct loadctx *c, const char *label, const char *cmd,
    const char *recipient)
{
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	struct sotto_error se = { SOTTO_OK, "" };

	if (sotto_keys_run_command(&b, cmd, label, recipient,
	    SOTTO_KEYS_MAX_BYTES, &se) != SOTTO_OK)
		failed(c, &se, false);
	else
		take(c, label, b.data, b.len, true, false);
	sotto_buf_release(&b);
}

static void
from_fd(struct loadctx *c, const char *val)
{
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	struct sotto_error se = { SOTTO_OK, "" };
	char *end;
	long fd;
	ssize_t r;

	errno = 0;
	fd = strtol(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0' || fd < 0 ||
	    fd > 1048576) {
		sotto_error_set(&se, SOTTO_E_USAGE, "SOPS_AGE_KEY_FD: not a "
		    "file descriptor number");
		failed(c, &se, false);
		return;
	}
	for (;;) {
		if (sotto_buf_grow(&b, 65536) != SOTTO_OK) {
			sotto_error_set(&se, SOTTO_E_NOMEM, "out of memory");
			break;
		}
		r = sotto_io_read_full((int)fd, b.data + b.len, 65536);
		if (r < 0) {
			sotto_error_set(&se, SOTTO_E_IO, "SOPS_AGE_KEY_FD: "
			    "read: %s", strerror(errno));
			break;
		}
		b.len += (size_t)r;
		b.data[b.len] = '\0';
		if (b.len > SOTTO_KEYS_MAX_BYTES) {
			sotto_error_set(&se, SOTTO_E_LIMIT, "SOPS_AGE_KEY_FD: "
			    "larger than %zu bytes", SOTTO_KEYS_MAX_BYTES);
			break;
		}
		if (r < 65536)
			break;
	}
	/* read once: no child (editor, exec-env command, key command,
	 * plugin) inherits the key descriptor; 0-2 stay the child's stdio */
	if (fd > 2)
		(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	if (se.code != SOTTO_OK)
		failed(c, &se, false);
	else
		take(c, "SOPS_AGE_KEY_FD", b.data, b.len, true, false);
	sotto_buf_release(&b);
}

/* "<dir>/<rel>" as a new string, or NULL. */
static char *
join(const char *dir, const char *rel)
{
	char *s;

	if (asprintf(&s, "%s/%s", dir, rel) < 0)
		return NULL;
	return s;
}

static void
ssh_default(struct loadctx *c, const char *home, const char *name)
{
	struct stat st;
	char *path = join(home, name);

	if (path == NULL)
		return;
	if (stat(path, &st) == 0)
		from_file(c, path, path, false, true);
	else
		note(c, path, "not found");
	free(path);
}

/* The type and base64 fields of an SSH public key line. */
static void
ssh_fields(const char *s, const char **t, size_t *tl, const char **b,
    size_t *bl)
{
	*t = s;
	*tl = strcspn(s, " \t");
	s += *tl;
	s += strspn(s, " \t");
	*b = s;
	*bl = strcspn(s, " \t");
}

bool
sotto_keys_recipient_equal(const char *a, const char *b)
{
	const char *ta, *ba, *tb, *bb;
	size_t tal, bal, tbl, bbl;

	if (strcmp(a, b) == 0)
		return true;
	if (strncmp(a, "ssh-", 4) != 0 || strncmp(b, "ssh-", 4) != 0)
		return false;
	/* SSH keys: the type and the base64 blob; the comment is a label */
	ssh_fields(a, &ta, &tal, &ba, &bal);
	ssh_fields(b, &tb, &tbl, &bb, &bbl);
	return tal == tbl && memcmp(ta, tb, tal) == 0 && bal == bbl &&
	    bal > 0 && memcmp(ba, bb, bal) == 0;
}

/* True when id is (natively) the identity of recipient. */
static bool
id_is_for(const struct sotto_age_identity *id, const char *recipient)
{
	struct sotto_age_recipient *r = NULL;
	bool res;

	if (sotto_age_identity_to_recipient(&r, id, NULL) != SOTTO_OK)
		return false;
	res = sotto_keys_recipient_equal(sotto_age_recipient_string(r),
	    recipient);
	sotto_age_recipient_free(r);
	return res;
}

/* "SOPS_AGE_KEY_CMD for age1abc...", the label of one run. */
static char *
cmd_label(const char *var, const char *recipient)
{
	char *s;

	if (asprintf(&s, "%s for %.24s%s", var, recipient,
	    strlen(recipient) > 24 ? "..." : "") < 0)
		return NULL;
	return s;
}

/*
 * The key commands, as sops runs them: once per master key, with
 * SOPS_AGE_RECIPIENT set to its recipient, until a key group has an
 * identity for one of its recipients.  Without targets, once (with
 * o->recipient, if any).
 */
static void
key_commands(struct loadctx *c, const char *kc, const char *sc)
{
	const struct sotto_keys_opts *o = c->o;
	const struct sotto_keys_target *t;
	struct sotto_error se = { SOTTO_OK, "" };
	size_t i, j, ng = 0, before;
	char *label;
	bool *done;

	if (o == NULL || o->ntargets == 0) {
		if (kc != NULL)
			from_cmd(c, "SOPS_AGE_KEY_CMD", kc,
			    o != NULL ? o->recipient : NULL);
		if (sc != NULL)
			from_cmd(c, "SOPS_AGE_SSH_PRIVATE_KEY_CMD", sc,
			    o != NULL ? o->recipient : NULL);
		return;
	}
	for (i = 0; i < o->ntargets; i++)
		if (o->targets[i].group + 1 > ng)
			ng = o->targets[i].group + 1;
	if ((done = calloc(ng, sizeof(*done))) == NULL) {
		sotto_error_set(&se, SOTTO_E_NOMEM, "out of memory");
		failed(c, &se, false);
		return;
	}
	for (i = 0; i < o->ntargets; i++) {
		t = &o->targets[i];
		if (done[t->group] || t->recipient == NULL)
			continue;
		before = c->out->n;
		if (kc != NULL && (label = cmd_label("SOPS_AGE_KEY_CMD",
		    t->recipient)) != NULL) {
			from_cmd(c, label, kc, t->recipient);
			free(label);
		}
		if (sc != NULL && (label = cmd_label(
		    "SOPS_AGE_SSH_PRIVATE_KEY_CMD", t->recipient)) != NULL) {
			from_cmd(c, label, sc, t->recipient);
			free(label);
		}
		for (j = before; j < c->out->n; j++)
			if (id_is_for(c->out->v[j], t->recipient))
				done[t->group] = true;
	}
	free(done);
}

sotto_err
sotto_keys_load_identities(struct sotto_age_idlist *out,
    const struct sotto_keys_opts *o, struct sotto_buf *sources,
    struct sotto_error *e)
{
	struct loadctx c = { out, o, sources, SOTTO_OK, { SOTTO_OK, "" } };
	struct sotto_buf b = SOTTO_BUF_SECRET_INIT;
	struct sotto_error se = { SOTTO_OK, "" };
	const char *v, *home = getenv("HOME"), *xdg;
	char *label = NULL, *path = NULL;
	size_t before = out->n;
	bool cmds = o == NULL || o->which != SOTTO_KEYS_NO_CMDS;
	bool rest = o == NULL || o->which != SOTTO_KEYS_CMDS_ONLY;
	struct stat st;

	if (!rest)
		goto commands;
	if ((v = getenv("SOPS_AGE_KEY")) != NULL) {
		if (normalize_inline(&b, v) != SOTTO_OK) {
			sotto_error_set(&se, SOTTO_E_NOMEM, "out of memory");
			failed(&c, &se, false);
		} else {
			take(&c, "SOPS_AGE_KEY", b.data, b.len, true, false);
		}
		sotto_buf_release(&b);
	} else {
		note(&c, "SOPS_AGE_KEY", "not set");
	}
	if ((v = getenv("SOPS_AGE_KEY_FD")) != NULL)
		from_fd(&c, v);
	if ((v = getenv("SOPS_AGE_KEY_FILE")) != NULL) {
		if (asprintf(&label, "SOPS_AGE_KEY_FILE=%s", v) < 0)
			label = NULL;
		from_file(&c, label != NULL ? label : "SOPS_AGE_KEY_FILE",
		    v, true, false);
		free(label);
		label = NULL;
	} else {
		note(&c, "SOPS_AGE_KEY_FILE", "not set");
	}
	if ((v = getenv("SOPS_AGE_SSH_PRIVATE_KEY_FILE")) != NULL) {
		if (asprintf(&label, "SOPS_AGE_SSH_PRIVATE_KEY_FILE=%s",
		    v) < 0)
			label = NULL;
		from_file(&c, label != NULL ? label :
		    "SOPS_AGE_SSH_PRIVATE_KEY_FILE", v, true, false);
		free(label);
		label = NULL;
	} else {
		note(&c, "SOPS_AGE_SSH_PRIVATE_KEY_FILE", "not set");
	}
	if (o != NULL && o->include_ssh_defaults && home != NULL &&
	    home[0] != '\0') {
		ssh_default(&c, home, ".ssh/id_ed25519");
		ssh_default(&c, home, ".ssh/id_rsa");
	}
	xdg = getenv("XDG_CONFIG_HOME");
	if (xdg != NULL && xdg[0] != '\0')
		path = join(xdg, "sops/age/keys.txt");
	else if (home != NULL && home[0] != '\0')
		path = join(home, ".config/sops/age/keys.txt");
	else
		note(&c, "sops/age/keys.txt", "neither XDG_CONFIG_HOME nor "
		    "HOME is set");
	if (path != NULL) {
		if (stat(path, &st) == 0) {
			from_file(&c, path, path, true, false);
		} else if (errno != ENOENT && errno != ENOTDIR) {
			sotto_error_set(&se, SOTTO_E_IO, "cannot open '%s': %s",
			    path, strerror(errno));
			failed(&c, &se, false);
		} else {
			note(&c, path, "not found");
		}
		free(path);
	}
commands:
	if (cmds) {
		const char *kc = getenv("SOPS_AGE_KEY_CMD");
		const char *sc = getenv("SOPS_AGE_SSH_PRIVATE_KEY_CMD");

		key_commands(&c, kc, sc);
		if (kc == NULL)
			note(&c, "SOPS_AGE_KEY_CMD", "not set");
		if (sc == NULL)
			note(&c, "SOPS_AGE_SSH_PRIVATE_KEY_CMD", "not set");
	}
	if (c.first == SOTTO_E_NOMEM || (c.first != SOTTO_OK &&
	    (o == NULL || !o->report_only) && (out->n == before ||
	    (o != NULL && o->strict)))) {
		if (e != NULL)
			*e = c.first_e;
		return c.first;
	}
	return SOTTO_OK;
}

sotto_err
sotto_keys_targets(struct sotto_keys_target **out, size_t *n,
    const struct sotto_node *meta)
{
	const struct sotto_node *kg, *grp, *age, *ent, *r;
	struct sotto_keys_target *v = NULL, *nv;
	size_t ng, g, i, k = 0;

	*out = NULL;
	*n = 0;
	if (meta == NULL || meta->kind != SOTTO_NODE_MAP)
		return SOTTO_OK;
	kg = sotto_tree_map_get(meta, "key_groups");
	ng = kg != NULL && kg->kind == SOTTO_NODE_SEQ ? kg->n : 0;
	for (g = 0; g < (ng ? ng : 1); g++) {
		grp = ng ? kg->items[g].val : meta;
		age = grp->kind == SOTTO_NODE_MAP ?
		    sotto_tree_map_get(grp, "age") : NULL;
		for (i = 0; age != NULL && age->kind == SOTTO_NODE_SEQ &&
		    i < age->n; i++) {
			ent = age->items[i].val;
			if (ent->kind != SOTTO_NODE_MAP)
				continue;
			r = sotto_tree_map_get(ent, "recipient");
			if (r == NULL || r->kind != SOTTO_NODE_SCALAR)
				continue;
			if ((nv = realloc(v, (k + 1) * sizeof(*v))) == NULL) {
				free(v);
				return SOTTO_E_NOMEM;
			}
			v = nv;
			v[k].recipient = r->text;
			v[k].group = g;
			k++;
		}
	}
	*out = v;
	*n = k;
	return SOTTO_OK;
}

/* ------------------------------------------------------------------ */
/* recipients                                                           */

sotto_err
sotto_keys_parse_recipients(struct sotto_age_reclist *out,
    const char *comma_list, struct sotto_error *e)
{
	struct sotto_age_recipient *r = NULL;
	const char *s = comma_list, *a, *b, *end;
	char *one;
	size_t pos = 0;
	sotto_err err;

	while (*s != '\0') {
		end = strchr(s, ',');
		if (end == NULL)
			end = s + strlen(s);
		a = s;
		b = end;
		s = *end == ',' ? end + 1 : end;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (a == b)
			continue;
		pos++;
		if ((one = strndup(a, (size_t)(b - a))) == NULL)
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		err = sotto_age_recipient_parse(&r, one, e);
		sodium_memzero(one, strlen(one));	/* may be a mistake */
		free(one);
		if (err != SOTTO_OK)
			return sotto_error_prefix(e, "recipient %zu", pos);
		if (sotto_age_reclist_add(out, r) != SOTTO_OK)
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
	}
	return SOTTO_OK;
}
