/* SPDX-License-Identifier: ISC */
/*
 * `sotto kustomize-plugin CONFIG`: the legacy exec generator that
 * `kubectl kustomize --enable-alpha-plugins` runs for a generator of kind
 * SottoSecretGenerator (sotto.dev/v1), in the kustomization directory,
 * with the config in a temp file; prints the decrypted objects.
 * `sotto kustomize-plugin install` links this binary where kustomize
 * looks: $XDG_CONFIG_HOME/kustomize/plugin/sotto.dev/v1/
 * sottosecretgenerator/SottoSecretGenerator (spec in-cluster.md §9.1).
 */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sotto/io.h"
#include "sotto/render.h"

static int
mkdirs(char *p)
{
	char *s;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int
install(void)
{
	char dir[PATH_MAX], link[PATH_MAX + 32], *self;
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if ((self = realpath("/proc/self/exe", NULL)) == NULL) {
		cli_errorf("sotto", "cannot find the sotto binary");
		return 1;
	}
	if (xdg != NULL && *xdg != '\0')
		snprintf(dir, sizeof(dir), "%s/kustomize/plugin/sotto.dev/v1/"
		    "sottosecretgenerator", xdg);
	else
		snprintf(dir, sizeof(dir), "%s/.config/kustomize/plugin/"
		    "sotto.dev/v1/sottosecretgenerator", home ? home : ".");
	snprintf(link, sizeof(link), "%s/SottoSecretGenerator", dir);
	if (mkdirs(dir) != 0) {
		cli_errorf("sotto", "cannot create '%s': %s", dir,
		    strerror(errno));
		free(self);
		return 1;
	}
	(void)unlink(link);
	if (symlink(self, link) != 0) {
		cli_errorf("sotto", "cannot link '%s': %s", link,
		    strerror(errno));
		free(self);
		return 1;
	}
	printf("%s\n", link);
	free(self);
	return 0;
}

int
cmd_kustomize_plugin(int argc, char **argv, enum cli_mode mode)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_idlist ids = { NULL, 0 };
	struct sotto_buf sources = SOTTO_BUF_INIT;
	struct sotto_buf out = SOTTO_BUF_SECRET_INIT;
	struct sotto_render_opts ro;
	int rc = 0;

	(void)mode;
	if (argc != 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		fprintf(argc == 2 ? stdout : stderr, "usage: sotto "
		    "kustomize-plugin CONFIG\n       sotto kustomize-plugin "
		    "install\n\nRun by kubectl kustomize "
		    "--enable-alpha-plugins for a SottoSecretGenerator.\n");
		return argc == 2 ? 0 : 2;
	}
	if (strcmp(argv[1], "install") == 0)
		return install();
	memset(&ro, 0, sizeof(ro));
	if (cli_render_keys(&ids, &sources, &e))
		goto fail;
	ro.ids = ids.v;
	ro.nids = ids.n;
	ro.key_sources = sources.len ? (const char *)sources.data : NULL;
	if (sotto_render_generate(&out, argv[1], ".", &ro, &e) ||
	    cli_render_write(&out, &e))
		goto fail;
	goto out;
fail:
	cli_error("sotto", &e);
	rc = 1;
out:
	sotto_buf_release(&out);
	sotto_buf_release(&sources);
	sotto_age_idlist_free(&ids);
	return rc;
}
