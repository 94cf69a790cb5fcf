/* SPDX-License-Identifier: ISC */
/*
 * .sops.yaml: lookup, loading into struct sotto_config and creation-rule
 * matching.  The YAML itself is parsed by the YAML store, regexes by
 * regex.c (Go's RE2 syntax); what the rules mean for encryption belongs to
 * the sops layer that calls sotto_config_match().
 */
#include "sotto/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sotto/age.h"
#include "sotto/io.h"
#include "sotto/regex.h"
#include "sotto/store.h"

#define CONFIG_NAME	".sops.yaml"
#define CONFIG_ALT_NAME	".sops.yml"
#define CONFIG_MAX_DEPTH 100
#define CONFIG_MAX_BYTES ((size_t)16 << 20)
#define MERGE_MAX_DEPTH	32

/* ------------------------------------------------------------------ */
/* paths                                                                */

/*
 * The working directory as Go's os.Getwd gives it (sops' filepath.Abs):
 * $PWD when it is absolute and names the working directory, else
 * getcwd().  Writes it to cwd (cap bytes); false on failure.
 */
static bool
go_getwd(char *cwd, size_t cap)
{
	const char *pwd = getenv("PWD");
	struct stat a, b;

	if (pwd != NULL && pwd[0] == '/' && strlen(pwd) < cap &&
	    stat(pwd, &a) == 0 && stat(".", &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
		memcpy(cwd, pwd, strlen(pwd) + 1);
		return true;
	}
	return getcwd(cwd, cap) != NULL;
}

/* Makes p absolute against the cwd and removes ".", ".." and "//". */
static char *
abs_clean(const char *p)
{
	struct sotto_buf in = SOTTO_BUF_INIT, outb = SOTTO_BUF_INIT;
	char cwd[PATH_MAX];
	const char *s, *seg;
	size_t n, cut;

	if (p[0] != '/') {
		if (!go_getwd(cwd, sizeof(cwd)))
			return NULL;
		if (sotto_buf_addstr(&in, cwd) || sotto_buf_addch(&in, '/'))
			goto fail;
	}
	if (sotto_buf_addstr(&in, p) || sotto_buf_grow(&outb, in.len + 1))
		goto fail;
	s = (const char *)in.data;
	while (*s != '\0') {
		while (*s == '/')
			s++;
		seg = s;
		while (*s != '\0' && *s != '/')
			s++;
		n = (size_t)(s - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			cut = outb.len;
			while (cut > 0 && outb.data[cut - 1] != '/')
				cut--;
			sotto_buf_truncate(&outb, cut > 0 ? cut - 1 : 0);
			continue;
		}
		if (sotto_buf_addch(&outb, '/') || sotto_buf_add(&outb, seg, n))
			goto fail;
	}
	if (outb.len == 0 && sotto_buf_addch(&outb, '/'))
		goto fail;
	sotto_buf_release(&in);
	return (char *)sotto_buf_detach(&outb, NULL);
fail:
	sotto_buf_release(&in);
	sotto_buf_release(&outb);
	return NULL;
}

/* The directory part of p ("." when there is none). */
static char *
dir_of(const char *p)
{
	const char *slash = strrchr(p, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == p)
		return strdup("/");
	return strndup(p, (size_t)(slash - p));
}

static bool
path_exists(const char *dir, const char *name, char **joined)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	struct stat st;

	*joined = NULL;
	if (sotto_buf_addstr(&b, dir) ||
	    (strcmp(dir, "/") != 0 && sotto_buf_addch(&b, '/')) ||
	    sotto_buf_addstr(&b, name)) {
		sotto_buf_release(&b);
		return false;
	}
	if (stat((const char *)b.data, &st) != 0) {
		sotto_buf_release(&b);
		return false;
	}
	*joined = (char *)sotto_buf_detach(&b, NULL);
	return true;
}

sotto_err
sotto_config_find(char **path_out, char **warning_out, const char *start_dir,
    struct sotto_error *e)
{
	struct sotto_buf w = SOTTO_BUF_INIT;
	char *dir = NULL, *hit = NULL, *alt = NULL, *slash;
	int i;
	sotto_err err = SOTTO_OK;

	*path_out = NULL;
	if (warning_out != NULL)
		*warning_out = NULL;
	if ((dir = abs_clean(start_dir)) == NULL) {
		err = sotto_error_set(e, SOTTO_E_IO,
		    "'%s': cannot make the path absolute", start_dir);
		goto out;
	}
	for (i = 0; i < CONFIG_MAX_DEPTH; i++) {
		if (path_exists(dir, CONFIG_NAME, &hit))
			break;
		if (alt == NULL)
			(void)path_exists(dir, CONFIG_ALT_NAME, &alt);
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else if (slash != NULL)
			*slash = '\0';
	}
	if (alt != NULL && warning_out != NULL) {
		if (sotto_buf_addf(&w, "ignoring '%s' when searching for "
		    "config file; the config file must be called '%s'",
		    alt, CONFIG_NAME) ||
		    (hit != NULL &&
		    sotto_buf_addf(&w, "; using '%s' instead", hit))) {
			err = sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
			goto out;
		}
		*warning_out = (char *)sotto_buf_detach(&w, NULL);
	}
	*path_out = hit;
	hit = NULL;
out:
	sotto_buf_release(&w);
	free(dir);
	free(hit);
	free(alt);
	return err;
}

sotto_err
sotto_config_locate(char **path_out, char **warning_out, const char *given,
    struct sotto_error *e)
{
	*path_out = NULL;
	if (warning_out != NULL)
		*warning_out = NULL;
	if (given != NULL) {
		if ((*path_out = strdup(given)) == NULL)
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
		return SOTTO_OK;
	}
	return sotto_config_find(path_out, warning_out, ".", e);
}

/* ------------------------------------------------------------------ */
/* loading                                                              */

struct loader {
	const char *path;		/* config name for messages */
	size_t rule;			/* current rule index */
	const char *where;		/* "" or " key_groups[i]" context */
	struct sotto_error *e;		/* error out */
};

/* "'<path>' creation_rules[i]<where>: <fmt with field>" */
static sotto_err
lfail(struct loader *l, const char *fmt, const char *field)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, field);
	return sotto_error_set(l->e, SOTTO_E_CONFIG,
	    "'%s' creation_rules[%zu]%s: %s", l->path, l->rule, l->where, msg);
}

static bool
is_null(const struct sotto_node *n)
{
	return n == NULL || (n->kind == SOTTO_NODE_SCALAR &&
	    n->type == SOTTO_T_NULL);
}

/* Iterates the non-comment items of a MAP or SEQ. */
static const struct sotto_entry *
next_item(const struct sotto_node *n, size_t *i)
{
	while (*i < n->n) {
		const struct sotto_entry *it = &n->items[(*i)++];

		if (it->val != NULL && it->val->kind != SOTTO_NODE_COMMENT &&
		    (n->kind == SOTTO_NODE_SEQ || it->key != NULL))
			return it;
	}
	return NULL;
}

static size_t
count_items(const struct sotto_node *n)
{
	size_t i = 0, c = 0;

	while (next_item(n, &i) != NULL)
		c++;
	return c;
}

/* Copies a scalar field; NULL/absent/"" gives *out NULL. */
static sotto_err
get_str(struct loader *l, const struct sotto_node *map, const char *key,
    char **out)
{
	const struct sotto_node *n = sotto_tree_map_get(map, key);

	*out = NULL;
	if (is_null(n))
		return SOTTO_OK;
	if (n->kind != SOTTO_NODE_SCALAR)
		return lfail(l, "'%s' must be a string", key);
	if (n->len == 0)
		return SOTTO_OK;
	if ((*out = strdup(n->text)) == NULL)
		return sotto_error_set(l->e, SOTTO_E_NOMEM, "out of memory");
	return SOTTO_OK;
}

static sotto_err
get_bool(struct loader *l, const struct sotto_node *map, const char *key,
    bool *out)
{
	static const char *yes[] = { "true", "yes", "y", "on" };
	static const char *no[] = { "false", "no", "n", "off" };
	const struct sotto_node *n = sotto_tree_map_get(map, key);
	size_t i;

	*out = false;
	if (is_null(n))
		return SOTTO_OK;
	if (n->kind == SOTTO_NODE_SCALAR && (n->type == SOTTO_T_BOOL ||
	    n->type == SOTTO_T_STR)) {
		for (i = 0; i < 4; i++) {
			if (strcasecmp(n->text, yes[i]) == 0) {
				*out = true;
				return SOTTO_OK;
			}
			if (strcasecmp(n->text, no[i]) == 0)
				return SOTTO_OK;
		}
	}
	return lfail(l, "'%s' must be true or false", key);
}

/* An integer scalar in [lo, hi]; absent/null leaves *out unchanged. */
static sotto_err
get_int(struct loader *l, const struct sotto_node *map, const char *key,
    long lo, long hi, int *out)
{
	const struct sotto_node *n = sotto_tree_map_get(map, key);
	char *end;
	long v;

	if (is_null(n))
		return SOTTO_OK;
	if (n->kind != SOTTO_NODE_SCALAR || n->type != SOTTO_T_INT)
		return lfail(l, "'%s' must be an integer", key);
	errno = 0;
	v = strtol(n->text, &end, 0);
	if (errno != 0 || *end != '\0' || end == n->text || v < lo || v > hi)
		return lfail(l, "'%s' is out of range", key);
	*out = (int)v;
	return SOTTO_OK;
}

/* Appends s split on ',' (trimmed, empty entries skipped) to v. */
static sotto_err
split_add(char ***v, size_t *n, const char *s)
{
	const char *a, *b, *end;
	char **nv;

	while (*s != '\0') {
		end = strchr(s, ',');
		if (end == NULL)
			end = s + strlen(s);
		a = s;
		b = end;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b > a) {
			nv = realloc(*v, (*n + 1) * sizeof(**v));
			if (nv == NULL)
				return SOTTO_E_NOMEM;
			*v = nv;
			if ((nv[*n] = strndup(a, (size_t)(b - a))) == NULL)
				return SOTTO_E_NOMEM;
			(*n)++;
		}
		s = *end == ',' ? end + 1 : end;
	}
	return SOTTO_OK;
}

/*
 * A key field: a string (comma list) or, when list_ok, a list of strings
 * (each may itself be a comma list).  strings NULL = only count.
 */
static sotto_err
key_field(struct loader *l, const struct sotto_node *n, const char *key,
    bool scalar_ok, char ***v, size_t *nv, size_t *count)
{
	const struct sotto_entry *it;
	char **tmp = NULL;
	size_t i = 0, ntmp = 0, k;
	sotto_err err = SOTTO_OK;

	if (is_null(n))
		return SOTTO_OK;
	if (v == NULL) {
		v = &tmp;
		nv = &ntmp;
	}
	if (n->kind == SOTTO_NODE_SCALAR && scalar_ok) {
		err = split_add(v, nv, n->text);
	} else if (n->kind == SOTTO_NODE_SEQ) {
		while (err == SOTTO_OK && (it = next_item(n, &i)) != NULL) {
			if (it->val->kind == SOTTO_NODE_MAP && v == &tmp) {
				(*count)++;	/* kms/gcp_kms/... entries */
				continue;
			}
			if (it->val->kind != SOTTO_NODE_SCALAR) {
				err = lfail(l, "'%s' entries must be strings",
				    key);
				goto out;
			}
			if (!is_null(it->val))
				err = split_add(v, nv, it->val->text);
		}
	} else {
		err = lfail(l, scalar_ok ? "'%s' must be a string or a list" :
		    "'%s' must be a list", key);
		goto out;
	}
	if (err == SOTTO_E_NOMEM)
		err = sotto_error_set(l->e, SOTTO_E_NOMEM, "out of memory");
	if (v == &tmp)
		*count += ntmp;
out:
	for (k = 0; k < ntmp; k++)
		free(tmp[k]);
	free(tmp);
	return err;
}

static const struct {
	const char *flat;	/* creation-rule field, NULL if none */
	const char *group;	/* key_groups field */
	unsigned bit;
	const char *name;	/* for messages */
} other_keys[] = {
	{ "pgp", "pgp", SOTTO_CONFIG_KEY_PGP, "pgp" },
	{ "kms", "kms", SOTTO_CONFIG_KEY_KMS, "kms" },
	{ "gcp_kms", "gcp_kms", SOTTO_CONFIG_KEY_GCP_KMS, "gcp_kms" },
	{ "azure_keyvault", "azure_keyvault", SOTTO_CONFIG_KEY_AZURE_KV,
	    "azure_keyvault" },
	{ "hc_vault_transit_uri", "hc_vault", SOTTO_CONFIG_KEY_HC_VAULT,
	    "hc_vault" },
	{ "hckms", "hckms", SOTTO_CONFIG_KEY_HCKMS, "hckms" },
	{ "plugins", "plugins", SOTTO_CONFIG_KEY_PLUGIN, "plugins" },
};
#define NOTHER (sizeof(other_keys) / sizeof(other_keys[0]))

sotto_err
sotto_config_key_types(struct sotto_buf *b, unsigned types)
{
	size_t i;
	bool first = true;

	for (i = 0; i < NOTHER; i++) {
		if (!(types & other_keys[i].bit))
			continue;
		if (sotto_buf_addf(b, "%s%s", first ? "" : ", ",
		    other_keys[i].name))
			return SOTTO_E_NOMEM;
		first = false;
	}
	return SOTTO_OK;
}

/* Adds the key fields of one key_groups entry (and its merges) to g. */
static sotto_err
parse_group(struct loader *l, const struct sotto_node *m,
    struct sotto_config_group *g, int depth)
{
	const struct sotto_node *merge;
	const struct sotto_entry *it;
	size_t i = 0, k, before;
	sotto_err err;

	if (is_null(m))
		return SOTTO_OK;
	if (m->kind != SOTTO_NODE_MAP)
		return lfail(l, "%s must be a map", "key group");
	if (depth > MERGE_MAX_DEPTH)
		return lfail(l, "%s nested too deeply", "merge");
	merge = sotto_tree_map_get(m, "merge");
	if (!is_null(merge)) {
		if (merge->kind != SOTTO_NODE_SEQ)
			return lfail(l, "'%s' must be a list", "merge");
		while ((it = next_item(merge, &i)) != NULL)
			if ((err = parse_group(l, it->val, g, depth + 1)))
				return err;
	}
	if ((err = key_field(l, sotto_tree_map_get(m, "age"), "age", false,
	    &g->age, &g->nage, NULL)) != SOTTO_OK ||
	    (err = key_field(l, sotto_tree_map_get(m, "pgp"), "pgp", false,
	    &g->pgp, &g->npgp, NULL)) != SOTTO_OK)
		return err;
	for (k = 0; k < NOTHER; k++) {
		if (other_keys[k].bit == SOTTO_CONFIG_KEY_PGP)
			continue;	/* sotto uses them: g->pgp */
		before = g->nother;
		if ((err = key_field(l, sotto_tree_map_get(m,
		    other_keys[k].group), other_keys[k].group, false, NULL,
		    NULL, &g->nother)) != SOTTO_OK)
			return err;
		if (g->nother > before)
			g->other_types |= other_keys[k].bit;
	}
	return SOTTO_OK;
}

/* Removes duplicate recipients, keeping the first. */
static void
dedup_group(struct sotto_config_group *g)
{
	size_t i, j, n = 0;

	for (i = 0; i < g->nage; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(g->age[j], g->age[i]) == 0)
				break;
		if (j < n) {
			free(g->age[i]);
			continue;
		}
		g->age[n++] = g->age[i];
	}
	g->nage = n;
}

static sotto_err
add_group(struct sotto_config_rule *r, struct sotto_config_group **g)
{
	struct sotto_config_group *ng;

	ng = realloc(r->groups, (r->ngroups + 1) * sizeof(*ng));
	if (ng == NULL)
		return SOTTO_E_NOMEM;
	r->groups = ng;
	memset(&ng[r->ngroups], 0, sizeof(*ng));
	*g = &ng[r->ngroups++];
	return SOTTO_OK;
}

/* Records a deferred rule error (the first one wins). */
static sotto_err
defer(struct sotto_config_rule *r, struct loader *l, sotto_err code,
    const char *msg)
{
	if (r->code != SOTTO_OK)
		return SOTTO_OK;
	if (asprintf(&r->msg, "'%s' creation_rules[%zu]: %s", l->path,
	    l->rule, msg) < 0) {
		r->msg = NULL;
		return sotto_error_set(l->e, SOTTO_E_NOMEM, "out of memory");
	}
	r->code = code;
	return SOTTO_OK;
}

/* The checks sops makes when a rule is selected. */
static sotto_err
check_rule(struct loader *l, struct sotto_config_rule *r)
{
	struct sotto_age_recipient *rec = NULL;
	struct sotto_error ae = { SOTTO_OK, "" };
	char msg[SOTTO_ERROR_MSG_MAX];
	size_t g, k;
	int sel;

	sel = (r->unencrypted_suffix != NULL) + (r->encrypted_suffix != NULL) +
	    (r->unencrypted_regex != NULL) + (r->encrypted_regex != NULL) +
	    (r->unencrypted_comment_regex != NULL) +
	    (r->encrypted_comment_regex != NULL);
	if (sel > 1)
		return defer(r, l, SOTTO_E_CONFIG, "cannot use more than one "
		    "of encrypted_suffix, unencrypted_suffix, "
		    "encrypted_regex, unencrypted_regex, "
		    "encrypted_comment_regex, or unencrypted_comment_regex "
		    "for the same rule");
	for (g = 0; g < r->ngroups; g++) {
		for (k = 0; k < r->groups[g].nage; k++) {
			if (sotto_age_recipient_parse(&rec, r->groups[g].age[k],
			    &ae) != SOTTO_OK) {
				snprintf(msg, sizeof(msg), "key group %zu: "
				    "age recipient %zu: %.400s", g, k + 1,
				    ae.msg);
				return defer(r, l, SOTTO_E_CONFIG, msg);
			}
			sotto_age_recipient_free(rec);
			rec = NULL;
		}
	}
	return SOTTO_OK;
}

static sotto_err
parse_rule(struct loader *l, const struct sotto_node *m,
    struct sotto_config_rule *r)
{
	struct sotto_config_group *g;
	const struct sotto_node *kg;
	const struct sotto_entry *it;
	struct sotto_error re_e = { SOTTO_OK, "" };
	char where[48];
	size_t i = 0, gi = 0, k, before;
	sotto_err err;

	r->index = l->rule;
	if (is_null(m))
		return SOTTO_OK;	/* a null rule matches everything */
	if (m->kind != SOTTO_NODE_MAP)
		return lfail(l, "%s must be a map", "the rule");
	if ((err = get_str(l, m, "path_regex", &r->path_regex)) ||
	    (err = get_str(l, m, "unencrypted_suffix",
	    &r->unencrypted_suffix)) ||
	    (err = get_str(l, m, "encrypted_suffix", &r->encrypted_suffix)) ||
	    (err = get_str(l, m, "unencrypted_regex",
	    &r->unencrypted_regex)) ||
	    (err = get_str(l, m, "encrypted_regex", &r->encrypted_regex)) ||
	    (err = get_str(l, m, "unencrypted_comment_regex",
	    &r->unencrypted_comment_regex)) ||
	    (err = get_str(l, m, "encrypted_comment_regex",
	    &r->encrypted_comment_regex)) ||
	    (err = get_bool(l, m, "mac_only_encrypted",
	    &r->mac_only_encrypted)) ||
	    (err = get_int(l, m, "shamir_threshold", 0, 255,
	    &r->shamir_threshold)))
		return err;
	kg = sotto_tree_map_get(m, "key_groups");
	if (!is_null(kg) && kg->kind != SOTTO_NODE_SEQ)
		return lfail(l, "'%s' must be a list", "key_groups");
	if (!is_null(kg) && count_items(kg) > 0) {
		r->has_key_groups = true;
		while ((it = next_item(kg, &i)) != NULL) {
			if (add_group(r, &g))
				return sotto_error_set(l->e, SOTTO_E_NOMEM,
				    "out of memory");
			snprintf(where, sizeof(where), " key_groups[%zu]",
			    gi++);
			l->where = where;
			err = parse_group(l, it->val, g, 0);
			l->where = "";
			if (err != SOTTO_OK)
				return err;
			dedup_group(g);
		}
	} else {
		if (add_group(r, &g))
			return sotto_error_set(l->e, SOTTO_E_NOMEM,
			    "out of memory");
		if ((err = key_field(l, sotto_tree_map_get(m, "age"), "age",
		    true, &g->age, &g->nage, NULL)) != SOTTO_OK ||
		    (err = key_field(l, sotto_tree_map_get(m, "pgp"), "pgp",
		    true, &g->pgp, &g->npgp, NULL)) != SOTTO_OK)
			return err;
		for (k = 0; k < NOTHER; k++) {
			if (other_keys[k].bit == SOTTO_CONFIG_KEY_PGP)
				continue;	/* g->pgp */
			before = g->nother;
			if ((err = key_field(l, sotto_tree_map_get(m,
			    other_keys[k].flat), other_keys[k].flat,
			    other_keys[k].bit != SOTTO_CONFIG_KEY_HCKMS &&
			    other_keys[k].bit != SOTTO_CONFIG_KEY_PLUGIN, NULL,
			    NULL, &g->nother)) != SOTTO_OK)
				return err;
			if (g->nother > before)
				g->other_types |= other_keys[k].bit;
		}
		dedup_group(g);
	}
	if (r->path_regex != NULL &&
	    sotto_regex_compile(&r->re, r->path_regex, &re_e) != SOTTO_OK) {
		if (re_e.code == SOTTO_E_NOMEM)
			return sotto_error_set(l->e, SOTTO_E_NOMEM,
			    "out of memory");
		r->re_code = SOTTO_E_CONFIG;
		if (asprintf(&r->re_msg, "'%s' creation_rules[%zu]: "
		    "path_regex: %s", l->path, l->rule, re_e.msg) < 0) {
			r->re_msg = NULL;
			return sotto_error_set(l->e, SOTTO_E_NOMEM,
			    "out of memory");
		}
	}
	return check_rule(l, r);
}

/* stores.<name>.indent */
static sotto_err
store_indent(struct sotto_error *e, const char *path,
    const struct sotto_node *stores, const char *name, int *out, int min)
{
	const struct sotto_node *s = sotto_tree_map_get(stores, name);
	struct loader l = { path, 0, "", e };

	if (is_null(s))
		return SOTTO_OK;
	if (s->kind != SOTTO_NODE_MAP)
		return sotto_error_set(e, SOTTO_E_CONFIG,
		    "'%s' stores.%s: must be a map", path, name);
	if (get_int(&l, s, "indent", INT_MIN, INT_MAX, out) != SOTTO_OK ||
	    *out < min)
		return sotto_error_set(e, SOTTO_E_CONFIG,
		    "'%s' stores.%s.indent: must be an integer >= %d", path,
		    name, min);
	return SOTTO_OK;
}

/* ------------------------------------------------------------------ */
/* keys sops reads (its yaml struct tags): anything else it ignores     */

static const char *const k_top[] = { "creation_rules", "destination_rules",
	"stores", NULL };
static const char *const k_stores[] = { "yaml", "json", "json_binary",
	"dotenv", "ini", NULL };
static const char *const k_indent[] = { "indent", NULL };
static const char *const k_none[] = { NULL };
static const char *const k_rule[] = { "path_regex", "kms", "aws_profile",
	"age", "pgp", "gcp_kms", "hckms", "azure_keyvault",
	"hc_vault_transit_uri", "key_groups", "shamir_threshold",
	"unencrypted_suffix", "encrypted_suffix", "unencrypted_regex",
	"encrypted_regex", "unencrypted_comment_regex",
	"encrypted_comment_regex", "mac_only_encrypted", NULL };
static const char *const k_group[] = { "merge", "kms", "gcp_kms", "hckms",
	"azure_keyvault", "hc_vault", "age", "pgp", NULL };
static const char *const k_kms[] = { "arn", "role", "context",
	"aws_profile", NULL };
static const char *const k_gcp[] = { "resource_id", NULL };
static const char *const k_azure[] = { "vaultUrl", "key", "version", NULL };
static const char *const k_hckms[] = { "key_id", NULL };
static const char *const k_dest[] = { "path_regex", "s3_bucket", "s3_prefix",
	"gcs_bucket", "gcs_prefix", "vault_path", "vault_address",
	"vault_kv_mount_name", "vault_kv_version", "recreation_rule",
	"omit_extensions", NULL };

#define UNKNOWN_MAX	100	/* keys named; the rest are counted */

/* Records "<where>.<key>" (escaped, truncated) as a key sops ignores. */
static sotto_err
unknown_add(struct sotto_config *c, const char *where, const char *key,
    size_t keylen)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	char **nv;
	size_t i;

	if (c->nunknown >= UNKNOWN_MAX) {
		c->nunknown_more++;
		return SOTTO_OK;
	}
	if (where[0] != '\0' && (sotto_buf_addstr(&b, where) ||
	    sotto_buf_addch(&b, '.')))
		goto nomem;
	for (i = 0; i < keylen && i < 80; i++) {
		unsigned char ch = (unsigned char)key[i];

		if ((ch < 0x20 || ch == 0x7f ? sotto_buf_addf(&b, "\\x%02x", ch) :
		    sotto_buf_addch(&b, ch)) != SOTTO_OK)
			goto nomem;
	}
	if (i < keylen && sotto_buf_addstr(&b, "..."))
		goto nomem;
	if ((nv = realloc(c->unknown, (c->nunknown + 1) * sizeof(*nv))) == NULL)
		goto nomem;
	c->unknown = nv;
	nv[c->nunknown++] = (char *)sotto_buf_detach(&b, NULL);
	return SOTTO_OK;
nomem:
	sotto_buf_release(&b);
	return SOTTO_E_NOMEM;
}

static sotto_err scan_keys(struct sotto_config *c, const struct sotto_node *m,
    const char *const *known, const char *where, int depth);

/* Each map in the list n, as "<where>[i]". */
static sotto_err
scan_list(struct sotto_config *c, const struct sotto_node *n,
    const char *const *known, const char *where, int depth)
{
	const struct sotto_entry *it;
	char w[256];
	size_t i = 0, k = 0;
	sotto_err err;

	if (is_null(n) || n->kind != SOTTO_NODE_SEQ)
		return SOTTO_OK;
	while ((it = next_item(n, &i)) != NULL) {
		snprintf(w, sizeof(w), "%s[%zu]", where, k++);
		if ((err = scan_keys(c, it->val, known, w, depth)))
			return err;
	}
	return SOTTO_OK;
}

/* The keys of map m (at where) that sops does not read, recursively. */
static sotto_err
scan_keys(struct sotto_config *c, const struct sotto_node *m,
    const char *const *known, const char *where, int depth)
{
	const struct sotto_entry *it;
	const char *const *k;
	const char *key;
	char w[256];
	size_t i = 0;
	sotto_err err = SOTTO_OK;

	if (is_null(m) || m->kind != SOTTO_NODE_MAP || depth > MERGE_MAX_DEPTH)
		return SOTTO_OK;
	while (err == SOTTO_OK && (it = next_item(m, &i)) != NULL) {
		key = it->key;
		for (k = known; *k != NULL; k++)
			if (strlen(*k) == it->keylen &&
			    memcmp(*k, key, it->keylen) == 0)
				break;
		if (*k == NULL) {
			err = unknown_add(c, where, key, it->keylen);
			continue;
		}
		snprintf(w, sizeof(w), "%s%s%s", where, where[0] ? "." : "",
		    *k);
		if (known == k_top && strcmp(*k, "stores") == 0)
			err = scan_keys(c, it->val, k_stores, w, depth + 1);
		else if (known == k_top && strcmp(*k, "creation_rules") == 0)
			err = scan_list(c, it->val, k_rule, w, depth + 1);
		else if (known == k_top)
			err = scan_list(c, it->val, k_dest, w, depth + 1);
		else if (known == k_stores)
			err = scan_keys(c, it->val, strcmp(*k, "dotenv") == 0 ||
			    strcmp(*k, "ini") == 0 ? k_none : k_indent, w,
			    depth + 1);
		else if (known == k_dest && strcmp(*k, "recreation_rule") == 0)
			err = scan_keys(c, it->val, k_rule, w, depth + 1);
		else if (known == k_rule && strcmp(*k, "key_groups") == 0)
			err = scan_list(c, it->val, k_group, w, depth + 1);
		else if (known == k_group && strcmp(*k, "merge") == 0)
			err = scan_list(c, it->val, k_group, w, depth + 1);
		else if (known == k_group && strcmp(*k, "kms") == 0)
			err = scan_list(c, it->val, k_kms, w, depth + 1);
		else if (known == k_group && strcmp(*k, "gcp_kms") == 0)
			err = scan_list(c, it->val, k_gcp, w, depth + 1);
		else if (known == k_group && strcmp(*k, "azure_keyvault") == 0)
			err = scan_list(c, it->val, k_azure, w, depth + 1);
		else if (known == k_group && strcmp(*k, "hckms") == 0)
			err = scan_list(c, it->val, k_hckms, w, depth + 1);
	}
	return err;
}

sotto_err
sotto_config_from_doc(struct sotto_config **out, const struct sotto_doc *doc,
    const char *path, struct sotto_error *e)
{
	struct sotto_config *c;
	const struct sotto_node *root = NULL, *cr, *stores;
	const struct sotto_entry *it;
	struct loader l = { path, 0, "", e };
	size_t i = 0, n;
	sotto_err err = SOTTO_OK;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	c->yaml_indent = 4;
	c->json_indent = -1;
	c->json_binary_indent = -1;
	if ((c->path = strdup(path)) == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	{
		char *d = dir_of(path);

		c->dir = d != NULL ? abs_clean(d) : NULL;
		free(d);
		if (c->dir == NULL) {
			err = sotto_error_set(e, SOTTO_E_IO,
			    "'%s': cannot make the path absolute", path);
			goto out;
		}
	}
	if (doc != NULL && doc->n > 0)
		root = doc->branches[0];
	if (is_null(root))
		goto out;
	if (root->kind != SOTTO_NODE_MAP) {
		err = sotto_error_set(e, SOTTO_E_CONFIG,
		    "'%s': the config must be a map", path);
		goto out;
	}
	if (scan_keys(c, root, k_top, "", 0) != SOTTO_OK) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	stores = sotto_tree_map_get(root, "stores");
	if (!is_null(stores)) {
		if (stores->kind != SOTTO_NODE_MAP) {
			err = sotto_error_set(e, SOTTO_E_CONFIG,
			    "'%s' stores: must be a map", path);
			goto out;
		}
		if ((err = store_indent(e, path, stores, "yaml",
		    &c->yaml_indent, 0)) ||
		    (err = store_indent(e, path, stores, "json",
		    &c->json_indent, -1)) ||
		    (err = store_indent(e, path, stores, "json_binary",
		    &c->json_binary_indent, -1)))
			goto out;
		if (c->yaml_indent == 0)
			c->yaml_indent = 4;
	}
	cr = sotto_tree_map_get(root, "creation_rules");
	if (is_null(cr))
		goto out;
	if (cr->kind != SOTTO_NODE_SEQ) {
		err = sotto_error_set(e, SOTTO_E_CONFIG,
		    "'%s' creation_rules: must be a list", path);
		goto out;
	}
	c->has_creation_rules = true;
	n = count_items(cr);
	if (n > 0 && (c->rules = calloc(n, sizeof(*c->rules))) == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto out;
	}
	while ((it = next_item(cr, &i)) != NULL) {
		l.rule = c->nrules;
		c->nrules++;
		if ((err = parse_rule(&l, it->val,
		    &c->rules[c->nrules - 1])) != SOTTO_OK)
			goto out;
	}
out:
	if (err != SOTTO_OK) {
		sotto_config_free(c);
		return err;
	}
	*out = c;
	return SOTTO_OK;
}

sotto_err
sotto_config_parse(struct sotto_config **out, const uint8_t *src, size_t len,
    const char *path, struct sotto_error *e)
{
	struct sotto_limits lim = SOTTO_LIMITS_DEFAULT;
	struct sotto_doc *doc = NULL;
	sotto_err err;

	*out = NULL;
	lim.max_bytes = CONFIG_MAX_BYTES;
	lim.max_depth = 64;
	lim.max_nodes = 1000000;
	lim.max_alias = 100000;
	err = sotto_store_yaml.parse(&doc, src, len, path, &lim, e);
	if (err != SOTTO_OK) {
		if (err != SOTTO_E_NOMEM) {
			sotto_error_prefix(e, "cannot load config");
			err = SOTTO_E_CONFIG;
			if (e != NULL)
				e->code = err;
		}
		goto out;
	}
	err = sotto_config_from_doc(out, doc, path, e);
out:
	sotto_tree_doc_free(doc);
	return err;
}

sotto_err
sotto_config_load(struct sotto_config **out, const char *path,
    struct sotto_error *e)
{
	struct sotto_buf b = SOTTO_BUF_INIT;
	sotto_err err;

	*out = NULL;
	err = sotto_io_read_file(&b, path, CONFIG_MAX_BYTES, e);
	if (err == SOTTO_OK)
		err = sotto_config_parse(out, b.data != NULL ? b.data :
		    (const uint8_t *)"", b.len, path, e);
	sotto_buf_release(&b);
	return err;
}

/* ------------------------------------------------------------------ */
/* matching                                                             */

/* The path the regexes see: absolute, minus "<config dir>/". */
static sotto_err
rel_path(char **out, const struct sotto_config *c, const char *file_path,
    struct sotto_error *e)
{
	char *abs;
	size_t dl = strlen(c->dir);

	*out = NULL;
	if ((abs = abs_clean(file_path)) == NULL)
		return sotto_error_set(e, SOTTO_E_IO,
		    "'%s': cannot make the path absolute", file_path);
	/* like sops: TrimPrefix(path, dir + "/"); dir "/" gives "//" */
	if (strncmp(abs, c->dir, dl) == 0 && abs[dl] == '/' &&
	    strcmp(c->dir, "/") != 0) {
		memmove(abs, abs + dl + 1, strlen(abs + dl + 1) + 1);
	}
	*out = abs;
	return SOTTO_OK;
}

sotto_err
sotto_config_explain(struct sotto_config_explain *ex, char **rel_out,
    const struct sotto_config *c, const char *file_path,
    struct sotto_error *e)
{
	const struct sotto_config_rule *r, *sel = NULL;
	char *rel = NULL;
	size_t i;
	bool m;
	sotto_err err = SOTTO_OK;

	if (rel_out != NULL)
		*rel_out = NULL;
	if ((err = rel_path(&rel, c, file_path, e)) != SOTTO_OK)
		return err;
	for (i = 0; i < c->nrules; i++) {
		r = &c->rules[i];
		if (ex != NULL) {
			ex[i].rule = i;
			ex[i].verdict = SOTTO_CONFIG_NOT_REACHED;
			ex[i].reason = "not reached: an earlier rule matched";
		}
		if (sel != NULL || err != SOTTO_OK) {
			if (err != SOTTO_OK && ex != NULL)
				ex[i].reason = "not reached: an earlier rule "
				    "has an invalid path_regex";
			continue;
		}
		if (r->path_regex == NULL) {
			sel = r;
			if (ex != NULL) {
				ex[i].verdict = SOTTO_CONFIG_SELECTED;
				ex[i].reason = "no path_regex: matches every "
				    "file";
			}
		} else if (r->re == NULL) {
			err = sotto_error_set(e, r->re_code, "%s", r->re_msg);
			if (ex != NULL) {
				ex[i].verdict = SOTTO_CONFIG_BAD_REGEX;
				ex[i].reason = "path_regex is invalid";
			}
		} else if ((err = sotto_regex_match(&m, r->re, rel,
		    strlen(rel), e)) != SOTTO_OK) {
			if (ex != NULL) {
				ex[i].verdict = SOTTO_CONFIG_BAD_REGEX;
				ex[i].reason = "path_regex could not be matched";
			}
		} else if (m) {
			sel = r;
			if (ex != NULL) {
				ex[i].verdict = SOTTO_CONFIG_SELECTED;
				ex[i].reason = "path_regex matches";
			}
		} else if (ex != NULL) {
			ex[i].verdict = SOTTO_CONFIG_NO_MATCH;
			ex[i].reason = "path_regex does not match";
		}
	}
	if (err == SOTTO_OK && c->has_creation_rules) {
		if (sel == NULL)
			err = sotto_error_set(e, SOTTO_E_CONFIG,
			    "'%s': no matching creation rules found", c->path);
		else if (sel->code != SOTTO_OK)
			err = sotto_error_set(e, sel->code, "%s", sel->msg);
	}
	if (rel_out != NULL)
		*rel_out = rel;
	else
		free(rel);
	return err;
}

sotto_err
sotto_config_match(const struct sotto_config_rule **out,
    const struct sotto_config *c, const char *file_path,
    struct sotto_error *e)
{
	const struct sotto_config_rule *r;
	char *rel = NULL;
	size_t i;
	bool m;
	sotto_err err = SOTTO_OK;

	*out = NULL;
	if (!c->has_creation_rules)
		return SOTTO_OK;
	if ((err = rel_path(&rel, c, file_path, e)) != SOTTO_OK)
		return err;
	for (i = 0; i < c->nrules; i++) {
		r = &c->rules[i];
		if (r->path_regex != NULL) {
			if (r->re == NULL) {
				err = sotto_error_set(e, r->re_code, "%s",
				    r->re_msg);
				goto out;
			}
			if ((err = sotto_regex_match(&m, r->re, rel,
			    strlen(rel), e)) != SOTTO_OK)
				goto out;
			if (!m)
				continue;
		}
		if (r->code != SOTTO_OK) {
			err = sotto_error_set(e, r->code, "%s", r->msg);
			goto out;
		}
		*out = r;
		goto out;
	}
	err = sotto_error_set(e, SOTTO_E_CONFIG,
	    "'%s': no matching creation rules found", c->path);
out:
	free(rel);
	return err;
}

sotto_err
sotto_config_validate(const struct sotto_config *c, struct sotto_error *e)
{
	size_t i;

	for (i = 0; i < c->nrules; i++) {
		if (c->rules[i].re_code != SOTTO_OK)
			return sotto_error_set(e, c->rules[i].re_code, "%s",
			    c->rules[i].re_msg);
		if (c->rules[i].code != SOTTO_OK)
			return sotto_error_set(e, c->rules[i].code, "%s",
			    c->rules[i].msg);
	}
	return SOTTO_OK;
}

void
sotto_config_free(struct sotto_config *c)
{
	struct sotto_config_rule *r;
	size_t i, g, k;

	if (c == NULL)
		return;
	for (i = 0; i < c->nrules; i++) {
		r = &c->rules[i];
		for (g = 0; g < r->ngroups; g++) {
			for (k = 0; k < r->groups[g].nage; k++)
				free(r->groups[g].age[k]);
			free(r->groups[g].age);
			for (k = 0; k < r->groups[g].npgp; k++)
				free(r->groups[g].pgp[k]);
			free(r->groups[g].pgp);
		}
		free(r->groups);
		free(r->path_regex);
		free(r->unencrypted_suffix);
		free(r->encrypted_suffix);
		free(r->unencrypted_regex);
		free(r->encrypted_regex);
		free(r->unencrypted_comment_regex);
		free(r->encrypted_comment_regex);
		sotto_regex_free(r->re);
		free(r->re_msg);
		free(r->msg);
	}
	for (i = 0; i < c->nunknown; i++)
		free(c->unknown[i]);
	free(c->unknown);
	free(c->rules);
	free(c->path);
	free(c->dir);
	free(c);
}
