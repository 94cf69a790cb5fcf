/* SPDX-License-Identifier: ISC */
/*
 * The .sops.yaml configuration: lookup, loading and creation-rule
 * matching (spec sops-format.md §7).  Regexes are Go's (sotto/regex.h).
 *
 * Loading goes through the YAML store (libyaml stays in formats/yaml.c).
 * Like sops, problems that sops only reports once a rule is used are
 * deferred: a bad path_regex fails when matching reaches that rule, and a
 * rule's other errors (two selection rules, a bad age recipient) fail
 * only when that rule is selected.  Type errors in the YAML (a map where
 * a list belongs, a non-integer shamir_threshold) fail at load, as they
 * do in sops' yaml.Unmarshal.  sotto_config_validate() reports every
 * deferred error eagerly, for `sotto config check`.
 *
 * sotto encrypts to age recipients and (the CLI, through GnuPG) to pgp
 * fingerprints: other key types (kms, ...) are counted and named per
 * group so callers can say so (other_types never has the pgp bit).
 */
#ifndef SOTTO_CONFIG_H
#define SOTTO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "sotto/buf.h"
#include "sotto/error.h"
#include "sotto/regex.h"
#include "sotto/tree.h"

/* Key types other than age, as bits of sotto_config_group.other_types. */
#define SOTTO_CONFIG_KEY_PGP		0x01u
#define SOTTO_CONFIG_KEY_KMS		0x02u
#define SOTTO_CONFIG_KEY_GCP_KMS	0x04u
#define SOTTO_CONFIG_KEY_AZURE_KV	0x08u
#define SOTTO_CONFIG_KEY_HC_VAULT	0x10u
#define SOTTO_CONFIG_KEY_HCKMS		0x20u
#define SOTTO_CONFIG_KEY_PLUGIN		0x40u

/* One key group of a rule (merge entries already flattened in). */
struct sotto_config_group {
	char **age;		/* age recipients, trimmed, deduplicated */
	size_t nage;		/* count of age */
	char **pgp;		/* pgp fingerprints, trimmed (as written) */
	size_t npgp;		/* count of pgp */
	size_t nother;		/* keys of other types (not deduped) */
	unsigned other_types;	/* SOTTO_CONFIG_KEY_* bits present */
};

/* One creation rule. */
struct sotto_config_rule {
	size_t index;			/* position in creation_rules */
	char *path_regex;		/* NULL or "" = matches everything */
	struct sotto_config_group *groups; /* key groups (flat form: one) */
	size_t ngroups;			/* count of groups */
	bool has_key_groups;		/* groups came from key_groups */
	int shamir_threshold;		/* 0 = unset */
	char *unencrypted_suffix;	/* NULL = unset; at most one of */
	char *encrypted_suffix;		/*   these six is set in a */
	char *unencrypted_regex;	/*   rule without error */
	char *encrypted_regex;
	char *unencrypted_comment_regex;
	char *encrypted_comment_regex;
	bool mac_only_encrypted;	/* MAC covers encrypted values only */
	/* private */
	struct sotto_regex *re;		/* compiled path_regex */
	sotto_err re_code;		/* path_regex compile error, or OK */
	char *re_msg;			/* its message */
	sotto_err code;			/* deferred rule error, or OK */
	char *msg;			/* its message */
};

struct sotto_config {
	char *path;			/* the file, as given */
	char *dir;			/* its absolute, clean directory */
	bool has_creation_rules;	/* false: treat the config as absent */
	struct sotto_config_rule *rules; /* creation_rules in order */
	size_t nrules;			/* count of rules */
	int yaml_indent;		/* stores.yaml.indent (default 4) */
	int json_indent;		/* stores.json.indent (-1 = tab) */
	int json_binary_indent;		/* stores.json_binary.indent */
	char **unknown;			/* keys sops does not read and so
					   ignores ("creation_rules[0].foo"),
					   escaped; at most 100 */
	size_t nunknown;		/* count of unknown */
	size_t nunknown_more;		/* unknown keys past the 100 */
};

/*
 * Looks for ".sops.yaml" in start_dir (made absolute against the cwd,
 * read as Go's os.Getwd: $PWD when it names it), then its parents, up to
 * 100 levels, as sops' LookupConfigFile does.  *path_out is a new
 * string (free()) or NULL when nothing was found (not an error).  When a
 * ".sops.yml" was seen on the way, *warning_out (if warning_out is not
 * NULL) gets a new message saying it is ignored; else NULL.
 */
sotto_err sotto_config_find(char **path_out, char **warning_out,
    const char *start_dir, struct sotto_error *e);

/*
 * The config a sops command uses, as sops finds it: given (--config or
 * SOPS_CONFIG) when not NULL, else the first ".sops.yaml" from the
 * working directory upwards (not from the file's directory: sops runs
 * LookupConfigFile(".")).  Results as sotto_config_find().  Callers that
 * look relative to something else (the guard: the nearest .sops.yaml
 * above each staged path) call sotto_config_find() themselves.
 */
sotto_err sotto_config_locate(char **path_out, char **warning_out,
    const char *given, struct sotto_error *e);

/*
 * Reads and parses the config at path.  Returns a new config (free with
 * sotto_config_free()).  Errors: SOTTO_E_NOTFOUND/SOTTO_E_IO for the file,
 * SOTTO_E_CONFIG for invalid content ("'<path>' creation_rules[2]: ...").
 */
sotto_err sotto_config_load(struct sotto_config **out, const char *path,
    struct sotto_error *e);

/* As sotto_config_load() from bytes; path names the file in messages. */
sotto_err sotto_config_parse(struct sotto_config **out, const uint8_t *src,
    size_t len, const char *path, struct sotto_error *e);

/* As sotto_config_load() from a parsed document (borrowed). */
sotto_err sotto_config_from_doc(struct sotto_config **out,
    const struct sotto_doc *doc, const char *path, struct sotto_error *e);

/*
 * Finds the first creation rule matching file_path (absolute, or relative
 * to the cwd), after stripping "<config dir>/" from its absolute form.
 * *out borrows from c.  When the config has no creation_rules key, *out is
 * NULL and SOTTO_OK is returned (the config counts as absent).  No match:
 * SOTTO_E_CONFIG "no matching creation rules found".  A bad regex reached
 * on the way or an error of the selected rule: SOTTO_E_CONFIG.
 */
sotto_err sotto_config_match(const struct sotto_config_rule **out,
    const struct sotto_config *c, const char *file_path,
    struct sotto_error *e);

/* Why a rule did or did not match, for `sotto config explain`. */
enum sotto_config_verdict {
	SOTTO_CONFIG_SELECTED,		/* the rule used */
	SOTTO_CONFIG_NO_MATCH,		/* path_regex did not match */
	SOTTO_CONFIG_BAD_REGEX,		/* invalid path_regex: stops */
	SOTTO_CONFIG_NOT_REACHED,	/* after the selected rule */
};

struct sotto_config_explain {
	size_t rule;			/* rule index */
	enum sotto_config_verdict verdict; /* what happened */
	const char *reason;		/* static text, e.g. "path_regex
					   does not match" */
};

/*
 * Fills ex (room for c->nrules entries) with one verdict per rule for
 * file_path, and *rel_out (if not NULL) with the path the regexes saw (a
 * new string).  Returns what sotto_config_match() would.
 */
sotto_err sotto_config_explain(struct sotto_config_explain *ex,
    char **rel_out, const struct sotto_config *c, const char *file_path,
    struct sotto_error *e);

/* Returns the first deferred error of any rule (regex or rule errors). */
sotto_err sotto_config_validate(const struct sotto_config *c,
    struct sotto_error *e);

/*
 * Appends the names of the SOTTO_CONFIG_KEY_* bits in types to b,
 * comma-separated ("pgp, kms").
 */
sotto_err sotto_config_key_types(struct sotto_buf *b, unsigned types);

/* Frees c; NULL is a no-op. */
void sotto_config_free(struct sotto_config *c);

#endif
