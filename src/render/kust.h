/* SPDX-License-Identifier: ISC */
/*
 * The kustomization schema (kust.c), internal to src/render/: one table of
 * every field kustomize v5.5 reads, with what sotto does with it, used to
 * check a kustomization (and the other documents kustomize decodes the
 * same way: kustomizeconfig files, built-in plugin configs) and to print
 * the list in sotto-render(1) and the README.
 */
#ifndef SOTTO_RENDER_KUST_H
#define SOTTO_RENDER_KUST_H

#include <stdbool.h>

#include "sotto/buf.h"
#include "sotto/error.h"
#include "sotto/tree.h"

/* The YAML 1.1 type yaml.v2 gives a value (kustomize decodes its
 * documents with sigs.k8s.io/yaml: yaml.v2, then JSON). */
enum kjt { KJ_NULL, KJ_BOOL, KJ_INT, KJ_FLOAT, KJ_STR, KJ_MAP, KJ_SEQ };
enum kjt kj_type(const struct sotto_node *n);

struct ktype;
extern const struct ktype kt_kustomization;	/* types.Kustomization */
extern const struct ktype kt_tconfig;		/* TransformerConfig */
extern const struct ktype kt_replacement;	/* types.Replacement */
/* The configuration type of a built-in plugin kind sotto runs, or NULL. */
const struct ktype *kj_plugin_type(const char *kind);

/*
 * Decodes in as Go's encoding/json decodes into the type t: field names
 * match case-insensitively (an exact match first), a field given twice
 * takes the last value, null leaves a field unset, every value must have
 * the field's type (yaml.v2 typing: `yes` is a boolean, `1.20` a number),
 * and with strict an unknown field is an error (DisallowUnknownFields).
 * *out gets a copy with canonical field names and only known fields
 * (booleans as "true"/"false", integers in decimal).  what names the
 * document for messages ("'app/kustomization.yaml'").  Fields the table
 * marks as refused are errors naming them.
 */
sotto_err kj_normalize(struct sotto_node **out, const struct sotto_node *in,
    const struct ktype *t, bool strict, const char *what,
    struct sotto_error *e);

/*
 * The kustomization fields as a list: "text" one per line (field, then
 * what sotto does), "roff" for the man page, "md" for the README.
 */
sotto_err kj_list_fields(struct sotto_buf *out, const char *format);

#endif
