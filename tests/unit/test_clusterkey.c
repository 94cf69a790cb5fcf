/* SPDX-License-Identifier: ISC */
/*
 * Keys born in the cluster (issue #19, clusterkey.c): which age recipients
 * a Kustomization's files name in their sops metadata, as the status field
 * and the metric report them (the agent's retire check reads the same).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube/kint.h"

#define R1 "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
#define R2 "age1pq1" "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
#define R3 "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg"

static void
put(const char *dir, const char *name, const char *text)
{
	char p[1024];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
}

static void
rm(const char *dir, const char *name)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(unlink(p), 0);
}

static void
test_kkeys_note_reads_every_spelling(void **state)
{
	char tmpl[] = "/tmp/sotto-ck-XXXXXX", app[1200], sub[1300];
	struct kkeys *kk = NULL;
	struct sotto_buf m = SOTTO_BUF_INIT;
	json_t *ks, *ks2, *st = json_object(), *r;
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	snprintf(app, sizeof(app), "%s/app", tmpl);
	snprintf(sub, sizeof(sub), "%s/app/deep", tmpl);
	assert_int_equal(mkdir(app, 0700), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	put(app, "s.yaml", "a: ENC[x]\nsops:\n    age:\n        - recipient: "
	    R1 "\n          enc: |\n            x\n");
	put(sub, "s.json", "{\"sops\":{\"age\":[{\"recipient\": \"" R2
	    "\"}]}}");
	put(sub, "s.env", "sops_age__list_0__map_recipient=" R1 "\n");
	/* not after "recipient": not counted */
	put(app, "readme.md", "our key is " R3 "\n");
	/* outside the checkout: not read */
	put(tmpl, "outside.yaml", "recipient: " R3 "\n");
	ks = json_pack("{s:{s:s,s:s},s:{s:s}}", "metadata", "name", "app",
	    "namespace", "default", "spec", "path", "./app");
	assert_int_equal(kkeys_new(&kk), SOTTO_OK);
	kkeys_status(kk, "default/app", st);
	assert_null(json_object_get(st, SOTTO_KEY_STATUS_FIELD));
	kkeys_note(kk, &mu, ks, app, "main@sha1:1");
	kkeys_status(kk, "default/app", st);
	r = json_object_get(st, SOTTO_KEY_STATUS_FIELD);
	assert_int_equal(json_array_size(r), 2);
	/* sorted */
	assert_string_equal(json_string_value(json_array_get(r, 0)), R2);
	assert_string_equal(json_string_value(json_array_get(r, 1)), R1);
	kkeys_metrics(kk, &m);
	assert_non_null(strstr((char *)m.data, "sotto_kustomization_"
	    "decryption_recipient{kustomization=\"default/app\",recipient=\""
	    R1 "\"} 1\n"));
	assert_null(strstr((char *)m.data, R3));
	sotto_buf_release(&m);
	/* the same revision is not read again; a new one is */
	put(app, "more.yaml", "recipient: " R3 "\n");
	kkeys_note(kk, &mu, ks, app, "main@sha1:1");
	kkeys_status(kk, "default/app", st);
	assert_int_equal(json_array_size(json_object_get(st,
	    SOTTO_KEY_STATUS_FIELD)), 2);
	kkeys_note(kk, &mu, ks, app, "main@sha1:2");
	kkeys_status(kk, "default/app", st);
	assert_int_equal(json_array_size(json_object_get(st,
	    SOTTO_KEY_STATUS_FIELD)), 3);
	/* another Kustomization of that checkout and revision: the same
	 * scan, the files are not read again */
	put(app, "late.yaml", "recipient: " R3 "x\n");
	ks2 = json_pack("{s:{s:s,s:s},s:{s:s}}", "metadata", "name", "b",
	    "namespace", "default", "spec", "path", "./app");
	kkeys_note(kk, &mu, ks2, app, "main@sha1:2");
	kkeys_status(kk, "default/b", st);
	assert_int_equal(json_array_size(json_object_get(st,
	    SOTTO_KEY_STATUS_FIELD)), 3);
	rm(app, "late.yaml");
	json_decref(ks2);
	rm(app, "more.yaml");
	json_decref(ks);
	json_decref(st);
	kkeys_free(kk);
	kkeys_free(NULL);
	rm(sub, "s.json");
	rm(sub, "s.env");
	rm(app, "s.yaml");
	rm(app, "readme.md");
	rm(tmpl, "outside.yaml");
	assert_int_equal(rmdir(sub) | rmdir(app) | rmdir(tmpl), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kkeys_note_reads_every_spelling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
