/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: kubeconfig files (sotto_kube_config_load, as
 * `--kubeconfig` and $KUBECONFIG are read).  The input is written to
 * "config" in an empty directory under /tmp (where relative file names in
 * it point) and loaded once with the current-context and once with a
 * context named "fuzz".  Invariants: a failure sets a message and its
 * code and leaves the config empty; a success gives a server and a
 * namespace, and free empties it.  Paths in the input (tokenFile,
 * certificate-authority, client-key...) are read as the tool would; stdin
 * is /dev/null in case one reaches it.
 * Seeds: tests/fuzz/seeds/fuzz_kubeconfig/ (fake servers and tokens).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sotto/kube.h"

static int fd = -1;
static char dir[] = "/tmp/sotto-fuzz-kubeconfig-XXXXXX";
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int null = open("/dev/null", O_RDONLY);

	(void)argc;
	(void)argv;
	if (null < 0 || dup2(null, STDIN_FILENO) < 0)
		abort();
	close(null);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/config", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		abort();
	atexit(cleanup);
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	return 0;
}

static void
load(const char *context)
{
	struct sotto_kube_config c;
	struct sotto_error e = { SOTTO_OK, "" };
	sotto_err err;

	err = sotto_kube_config_load(&c, path, context, &e);
	if (err != SOTTO_OK) {
		if (e.code != err || e.msg[0] == '\0' || c.server != NULL ||
		    c.namespace != NULL || c.token.len != 0 || c.key.len != 0)
			abort();
		return;
	}
	if (c.server == NULL || c.namespace == NULL)
		abort();
	sotto_kube_config_free(&c);
	if (c.server != NULL || c.token.data != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ftruncate(fd, 0) != 0 ||
	    pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	load(NULL);
	load("fuzz");
	return 0;
}
