/* SPDX-License-Identifier: ISC */
/*
 * Store registry: by name and by file extension (sops rules, §5), and the
 * buffer-taking parse entry point.
 */
#include "sotto/store.h"

#include <string.h>

#include "formats/yaml.h"

static const struct sotto_store *
ini_store(void)
{
	return &sotto_store_ini;
}

const struct sotto_store *
sotto_store_by_name(const char *name)
{
	if (name == NULL)
		return NULL;
	if (strcmp(name, "yaml") == 0 || strcmp(name, "yml") == 0)
		return &sotto_store_yaml;
	if (strcmp(name, "json") == 0)
		return &sotto_store_json;
	if (strcmp(name, "dotenv") == 0 || strcmp(name, "env") == 0)
		return &sotto_store_dotenv;
	if (strcmp(name, "ini") == 0)
		return ini_store();
	if (strcmp(name, "binary") == 0)
		return &sotto_store_binary;
	return NULL;
}

static bool
has_suffix(const char *path, size_t plen, const char *ext)
{
	size_t el = strlen(ext);

	return plen >= el && strcmp(path + plen - el, ext) == 0;
}

const struct sotto_store *
sotto_store_for_path(const char *path)
{
	size_t plen;

	if (path == NULL)
		return &sotto_store_binary;
	plen = strlen(path);
	if (has_suffix(path, plen, ".yaml") || has_suffix(path, plen, ".yml"))
		return &sotto_store_yaml;
	if (has_suffix(path, plen, ".json"))
		return &sotto_store_json;
	if (has_suffix(path, plen, ".env"))
		return &sotto_store_dotenv;
	if (has_suffix(path, plen, ".ini") && ini_store() != NULL)
		return ini_store();
	return &sotto_store_binary;
}

sotto_err
sotto_store_parse_buf(const struct sotto_store *s, struct sotto_doc **out,
    struct sotto_buf *in, const char *name, const struct sotto_limits *lim,
    struct sotto_error *e)
{
	sotto_err err;

	if (s->parse_buf != NULL)
		err = s->parse_buf(out, in, name, lim, e);
	else
		err = s->parse(out, in->data != NULL ? in->data :
		    (const uint8_t *)"", in->len, name, lim, e);
	sotto_buf_release(in);
	return err;
}

const char *
sotto_store_roundtrip_note(const struct sotto_doc *doc,
    const struct sotto_node *n)
{
	if (doc == NULL || n == NULL)
		return NULL;
	if (doc->store == &sotto_store_yaml)
		return sotto_yaml_roundtrip_note(doc, n);
	return NULL;
}
