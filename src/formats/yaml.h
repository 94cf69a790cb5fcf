/* SPDX-License-Identifier: ISC */
/*
 * YAML store internals other parts of src/formats/ call.  Not part of
 * the public API.
 */
#ifndef SOTTO_FORMATS_YAML_H
#define SOTTO_FORMATS_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "sotto/tree.h"

/* See sotto_store_roundtrip_note() in sotto/store.h. */
const char *sotto_yaml_roundtrip_note(const struct sotto_doc *doc,
    const struct sotto_node *n);

/*
 * Whether go-yaml v3 reads the plain scalar s[0..n) as a string (not a
 * bool, number, null or timestamp): the renderer's label key check.
 */
bool sotto_yaml_plain_is_str(const char *s, size_t n);

#endif
