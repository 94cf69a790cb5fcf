/* SPDX-License-Identifier: ISC */
/* placeholder */
#include "render/build.h"

sotto_err
rr_replacements(struct rlist *l, struct rctx *c, const char *dir,
    const struct sotto_node *list, const char *kname, struct sotto_error *e)
{
	(void)l; (void)c; (void)dir; (void)list;
	return sotto_error_set(e, SOTTO_E_USAGE, "'%s': unsupported "
	    "kustomization field 'replacements'", kname);
}
