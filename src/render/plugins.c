/* SPDX-License-Identifier: ISC */
/* placeholder */
#include "render/build.h"

#include <stdlib.h>

static sotto_err
refuse(const struct rkust *k, const char *f, struct sotto_error *e)
{
	if (rn_get(k->k, f) != NULL && rn_get(k->k, f)->n > 0)
		return sotto_error_set(e, SOTTO_E_USAGE, "'%s': unsupported "
		    "kustomization field '%s'", k->kname, f);
	return SOTTO_OK;
}

sotto_err
rx_generators(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, struct sotto_error *e)
{
	const struct sotto_node *g = rn_get(k->k, "generators");
	size_t i;
	sotto_err err;

	(void)ra; (void)c; (void)dir;
	for (i = 0; g != NULL && i < g->n; i++) {
		struct rlist l = { NULL, 0, 0 };
		struct rlist cfgs = { NULL, 0, 0 };
		char *abs = NULL;
		size_t j;

		if ((err = rc_resolve(&abs, c, dir, rn_value(g->items[i].val),
		    e)) != SOTTO_OK)
			return err;
		err = rc_load_file(&cfgs, c, abs, e);
		free(abs);
		for (j = 0; err == SOTTO_OK && j < cfgs.n; j++)
			err = rg_sotto_generator(&l, c, dir, cfgs.v[j].n,
			    cfgs.v[j].origin, e);
		if (err == SOTTO_OK)
			err = ra_append(ra, c, &l, k->kname, e);
		rl_free(&l);
		rl_free(&cfgs);
		if (err != SOTTO_OK)
			return err;
	}
	return SOTTO_OK;
}

sotto_err
rx_transformers(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, struct sotto_error *e)
{
	(void)ra; (void)c; (void)dir;
	return refuse(k, "transformers", e);
}

sotto_err
rx_validators(struct racc *ra, struct rctx *c, const char *dir,
    const struct rkust *k, struct sotto_error *e)
{
	(void)ra; (void)c; (void)dir;
	return refuse(k, "validators", e);
}
