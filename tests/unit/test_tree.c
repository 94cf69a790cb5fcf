/* SPDX-License-Identifier: ISC */
/* Document tree: constructors, lookup, clone, free; store registry. */
#include "testutil.h"

#include "sotto/store.h"
#include "sotto/tree.h"

static void
test_build(void **state)
{
	struct sotto_node *m = sotto_tree_new_map(), *s, *q, *c;

	(void)state;
	assert_non_null(m);
	s = sotto_tree_new_scalar(SOTTO_T_INT, "0x1F", 4);
	assert_int_equal(s->src_start, SOTTO_SPAN_NONE);
	assert_int_equal(sotto_tree_set_canon(s, "31", 2), SOTTO_OK);
	assert_int_equal(sotto_tree_map_add(m, "a", 1, s), SOTTO_OK);
	q = sotto_tree_new_seq();
	assert_int_equal(sotto_tree_seq_add(q, sotto_tree_new_scalar(
	    SOTTO_T_STR, "x\0y", 3)), SOTTO_OK);
	assert_int_equal(sotto_tree_seq_add(q, sotto_tree_new_comment(" c",
	    2)), SOTTO_OK);
	assert_int_equal(sotto_tree_map_add(m, "b", 1, q), SOTTO_OK);
	assert_int_equal(sotto_tree_map_add(m, NULL, 0,
	    sotto_tree_new_comment("x", 1)), SOTTO_OK);
	assert_ptr_equal(sotto_tree_map_get(m, "a"), s);
	assert_null(sotto_tree_map_get(m, "zz"));
	assert_int_equal(q->items[0].val->len, 3);
	assert_int_equal(q->items[1].val->kind, SOTTO_NODE_COMMENT);
	/* set_text clears canon and marks dirty */
	assert_int_equal(sotto_tree_set_text(s, SOTTO_T_STR, "ENC[x]", 6),
	    SOTTO_OK);
	assert_null(s->canon);
	assert_true(s->dirty);
	assert_string_equal(s->text, "ENC[x]");
	/* deep clone */
	c = sotto_tree_clone(m);
	assert_non_null(c);
	assert_int_equal(c->n, 3);
	assert_null(c->items[2].key);
	assert_memory_equal(sotto_tree_map_get(c, "b")->items[0].val->text,
	    "x\0y", 3);
	assert_ptr_not_equal(sotto_tree_map_get(c, "a"), s);
	sotto_tree_node_free(c, true);
	sotto_tree_node_free(m, true);
	sotto_tree_node_free(NULL, true);
}

static void
test_doc(void **state)
{
	struct sotto_doc *d = sotto_tree_doc_new("f.yaml");
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_int_equal(sotto_tree_doc_add(d, sotto_tree_new_map()),
		    SOTTO_OK);
	assert_int_equal(d->n, 5);
	assert_null(d->meta[4]);
	assert_int_equal(d->meta_start[4], SOTTO_SPAN_NONE);
	d->meta[1] = sotto_tree_new_map();
	d->secret = true;
	sotto_tree_doc_free(d);
	sotto_tree_doc_free(NULL);
	assert_string_equal(sotto_tree_type_name(SOTTO_T_FLOAT), "float");
	assert_string_equal(sotto_tree_type_name(SOTTO_T_BOOL), "bool");
}

static void
test_registry(void **state)
{
	(void)state;
	assert_ptr_equal(sotto_store_for_path("a/b.yaml"), &sotto_store_yaml);
	assert_ptr_equal(sotto_store_for_path("b.yml"), &sotto_store_yaml);
	assert_ptr_equal(sotto_store_for_path("b.json"), &sotto_store_json);
	assert_ptr_equal(sotto_store_for_path(".env"), &sotto_store_dotenv);
	assert_ptr_equal(sotto_store_for_path("x.txt"), &sotto_store_binary);
	assert_ptr_equal(sotto_store_for_path("x.YAML"), &sotto_store_binary);
	assert_ptr_equal(sotto_store_for_path("c.ini"), &sotto_store_ini);
	assert_ptr_equal(sotto_store_by_name("yml"), &sotto_store_yaml);
	assert_ptr_equal(sotto_store_by_name("env"), &sotto_store_dotenv);
	assert_null(sotto_store_by_name("toml"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_doc),
		cmocka_unit_test(test_registry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
