/* SPDX-License-Identifier: ISC */
/*
 * YAML store internals other parts of src/formats/ call.  Not part of
 * the public API.
 */
#ifndef SOTTO_FORMATS_YAML_H
#define SOTTO_FORMATS_YAML_H

#include "sotto/tree.h"

/* See sotto_store_roundtrip_note() in sotto/store.h. */
const char *sotto_yaml_roundtrip_note(const struct sotto_doc *doc,
    const struct sotto_node *n);

#endif
