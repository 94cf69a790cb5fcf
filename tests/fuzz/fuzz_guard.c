/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the git guard's content checks (sotto_guard_ctx_new +
 * sotto_guard_check) on an in-memory snapshot, with no repository.  The
 * input is up to four parts split at NUL bytes: the blob, a .sops.yaml, a
 * .sottoignore and the content of an encrypted sibling.  The blob is
 * checked under several paths so that every rule can fire: the private-key
 * scanners (age, PEM, OpenSSH, PGP), Kubernetes Secret detection, the
 * .sops.yaml-driven sops-plaintext rule and decrypted-copy (with the
 * published sops test identity), plus `sotto:allow` comments.
 * Invariants: a .sops.yaml that fails sets a message and its code;
 * checking only fails for out-of-memory; every finding has a known rule,
 * the path it was given, a line and a message that quotes nothing of the
 * blob outside '...' names (no run of 16 letters and digits found in the
 * blob and in none of the other parts, which the messages may quote).
 * Seeds: tests/fuzz/seeds/fuzz_guard/.
 */
#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/guard.h"

#include "fuzz_sodium_init.h"

/* vectors/sops/hist/keys.txt: the published sops test identity */
static const char key[] =
    "AGE-SECRET-KEY-1NJT5YCS2LWU4V4QAJQ6R4JNU7LXPDX602DZ9NUFANVU5GDTGUWCQ5T59M6";

enum { P_BLOB, P_SOPS, P_IGNORE, P_SIBLING, NPARTS };

struct snap {
	const uint8_t *part[NPARTS];	/* NULL: absent */
	size_t len[NPARTS];
	const char *paths[8];
	size_t n;
};

/* Paths checked (sorted with the config files, see build_paths). */
static const char *const checked[] = { "app.env", "config.json",
	"id_ed25519", "k8s/secret.enc.yaml", "k8s/secret.yaml" };

static sotto_err
snap_get(void *arg, const char *path, struct sotto_buf *out,
    struct sotto_error *e)
{
	struct snap *s = arg;
	int k = P_BLOB;

	if (strcmp(path, ".sops.yaml") == 0)
		k = P_SOPS;
	else if (strcmp(path, ".sottoignore") == 0)
		k = P_IGNORE;
	else if (strcmp(path, "k8s/secret.enc.yaml") == 0 &&
	    s->part[P_SIBLING] != NULL)
		k = P_SIBLING;
	if (s->part[k] == NULL)
		return sotto_error_set(e, SOTTO_E_NOTFOUND, "no '%s'", path);
	if (sotto_buf_add(out, s->part[k], s->len[k]) != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

static sotto_err
ids_load(void *arg, struct sotto_age_idlist *out, struct sotto_error *e)
{
	struct sotto_age_identity *id;
	sotto_err err;

	(void)arg;
	if ((err = sotto_age_identity_parse(&id, key, e)) != SOTTO_OK)
		return err;
	return sotto_age_idlist_add(out, id);
}

static void
split(struct snap *s, const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *z;
	size_t left = size;
	int k;

	memset(s, 0, sizeof(*s));
	for (k = 0; k < NPARTS; k++) {
		s->part[k] = p;
		z = k < NPARTS - 1 ? memchr(p, '\0', left) : NULL;
		s->len[k] = z ? (size_t)(z - p) : left;
		if (z == NULL)
			break;
		left -= s->len[k] + 1;
		p = z + 1;
	}
	if (s->part[P_SOPS] != NULL)
		s->paths[s->n++] = ".sops.yaml";
	if (s->part[P_IGNORE] != NULL)
		s->paths[s->n++] = ".sottoignore";
	for (k = 0; k < (int)(sizeof(checked) / sizeof(checked[0])); k++)
		s->paths[s->n++] = checked[k];
}

static bool
known_rule(const char *r)
{
	return r != NULL && (strcmp(r, SOTTO_GUARD_RULE_SOPS) == 0 ||
	    strcmp(r, SOTTO_GUARD_RULE_K8S) == 0 ||
	    strcmp(r, SOTTO_GUARD_RULE_KEY) == 0 ||
	    strcmp(r, SOTTO_GUARD_RULE_COPY) == 0);
}

static bool
in_part(const struct snap *s, int k, const char *w)
{
	return s->part[k] != NULL &&
	    memmem(s->part[k], s->len[k], w, 16) != NULL;
}

/*
 * True if msg holds, outside '...' (names and key paths, which messages
 * may quote), a run of 16 alphanumerics that occurs in the blob and not
 * in the config parts (a .sops.yaml regex may be quoted).
 */
static bool
quotes(const char *msg, const struct snap *s)
{
	size_t i, run = 0;
	bool in_name = false;
	const char *w;

	for (i = 0; msg[i] != '\0'; i++) {
		if (msg[i] == '\'')
			in_name = !in_name;
		run = !in_name && isalnum((unsigned char)msg[i]) ? run + 1 : 0;
		w = msg + i - 15;
		if (run >= 16 && in_part(s, P_BLOB, w) &&
		    !in_part(s, P_SOPS, w) && !in_part(s, P_IGNORE, w) &&
		    !in_part(s, P_SIBLING, w))
			return true;
	}
	return false;
}

static void
check_report(const struct sotto_guard_report *r, size_t from,
    const char *path, const struct snap *s)
{
	const struct sotto_guard_finding *f;
	size_t i, sup = 0;

	for (i = from; i < r->n; i++) {
		f = &r->v[i];
		if (!known_rule(f->rule) || f->path == NULL ||
		    strcmp(f->path, path) != 0 || f->line == 0 ||
		    f->msg == NULL || f->msg[0] == '\0' ||
		    quotes(f->msg, s))
			abort();
	}
	for (i = 0; i < r->n; i++)
		sup += r->v[i].allowed_by != NULL;
	if (sup != r->suppressed || sotto_guard_report_active(r) !=
	    r->n - sup)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sotto_guard_report r;
	struct sotto_guard_snapshot snap;
	struct sotto_guard_ids ids = { ids_load, NULL };
	struct sotto_guard_ctx *c = NULL;
	struct sotto_error e = { SOTTO_OK, "" };
	struct snap s;
	size_t i, before;
	sotto_err err;

	split(&s, data, size);
	snap.paths = s.paths;
	snap.npaths = s.n;
	snap.get = snap_get;
	snap.arg = &s;
	memset(&r, 0, sizeof(r));
	err = sotto_guard_ctx_new(&c, "/fuzz/repo", &snap, &ids, &e);
	if (err != SOTTO_OK) {
		if (e.code != err || e.msg[0] == '\0' || c != NULL)
			abort();
		return 0;
	}
	for (i = 0; i < sizeof(checked) / sizeof(checked[0]); i++) {
		before = r.n;
		err = sotto_guard_check(&r, c, i % 2 ? "abc1234" : NULL,
		    checked[i], s.part[P_BLOB], s.len[P_BLOB], &e);
		if (err != SOTTO_OK && err != SOTTO_E_NOMEM)
			abort();
		check_report(&r, before, checked[i], &s);
	}
	if (r.files != sizeof(checked) / sizeof(checked[0]))
		abort();
	sotto_guard_report_release(&r);
	sotto_guard_ctx_free(c);
	return 0;
}
