/* SPDX-License-Identifier: ISC */
/*
 * `sotto age-keygen` / `age-keygen` (spec age-format.md §12.2): writes a
 * new identity file (mode 0600, refusing to overwrite) or, with -y, prints
 * the recipients of an identity file.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/age_internal.h"	/* sotto_age_identity_generate_pq */
#include "sotto/io.h"

static const char keygen_usage[] =
    "Usage:\n"
    "    {P} [-pq] [-o OUTPUT]\n"
    "    {P} -y [-o OUTPUT] [INPUT]\n"
    "\n"
    "Options:\n"
    "    -o, --output OUTPUT       Write the result to the file at path OUTPUT.\n"
    "                              The file is created with mode 0600 and must not exist.\n"
    "    -pq, --pq                 Generate a post-quantum hybrid ML-KEM-768 + X25519\n"
    "                              key pair (age1pq1... / AGE-SECRET-KEY-PQ-1...).\n"
    "    -y                        Convert an identity file to a recipients file.\n"
    "    -h, --help                Show this help.\n"
    "        --version             Print the version.\n"
    "\n"
    "{P} generates a new native X25519 key pair (or, with -pq, a post-quantum\n"
    "hybrid key pair), and outputs it to\n"
    "standard output or to the OUTPUT file.\n"
    "\n"
    "If an OUTPUT file is specified, the public key is printed to standard error.\n"
    "If OUTPUT already exists, it is not overwritten.\n"
    "\n"
    "In -y mode, {P} reads an identity file from INPUT or from standard\n"
    "input and writes the corresponding recipient(s) to OUTPUT or to standard\n"
    "output, one per line, with no comments.\n"
    "\n"
    "Examples:\n"
    "    $ {P}\n"
    "    # created: 2021-01-02T15:30:45+01:00\n"
    "    # public key: age1lvyvwawkr0mcnnnncaghunadrqkmuf9e6507x9y920xxpp866cnql7dp2z\n"
    "    AGE-SECRET-KEY-1N9JEPW6DWJ0ZQUDX63F5A03GX8QUW7PXDE39N8UYF82VZ9PC8UFS3M7XA9\n"
    "\n"
    "    $ {P} -o key.txt\n"
    "    Public key: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n"
    "\n"
    "    $ {P} -y key.txt\n"
    "    age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n";

static int
convert(const char *prog, const char *input, const char *output)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf in = SOTTO_BUF_SECRET_INIT, out = SOTTO_BUF_INIT;
	struct sotto_age_idlist ids = { NULL, 0 };
	struct sotto_age_recipient *r;
	size_t i;
	int rc = 1;

	if (sotto_io_read_file(&in, input ? input : "-", 16u << 20, &e) ||
	    sotto_age_identities_parse(&ids, in.data, in.len,
	    input ? input : "standard input", cli_pass_cb, NULL, &e))
		goto fail;
	for (i = 0; i < ids.n; i++) {
		const char *rs;

		if (sotto_age_identity_to_recipient(&r, ids.v[i], &e))
			goto fail;
		rs = sotto_age_recipient_string(r);
		/* as age-keygen: native age identities only (a plugin
		 * identity's recipient is no string, an SSH key is no age
		 * identity) */
		if (strncmp(rs, "age1", 4) != 0) {
			sotto_age_recipient_free(r);
			sotto_error_set(&e, SOTTO_E_KEY_FORMAT, "'%s': -y "
			    "converts only native age identities "
			    "(AGE-SECRET-KEY-1..., AGE-SECRET-KEY-PQ-1...)",
			    input ? input : "standard input");
			goto fail;
		}
		sotto_buf_addf(&out, "%s\n", rs);
		sotto_age_recipient_free(r);
	}
	if (output != NULL && strcmp(output, "-") != 0) {
		if (sotto_io_write_new(output, out.data, out.len, 0644, &e))
			goto fail;
	} else if (sotto_io_write_all(STDOUT_FILENO, out.data, out.len)) {
		sotto_error_set(&e, SOTTO_E_IO, "cannot write output");
		goto fail;
	}
	rc = 0;
	goto done;
fail:
	cli_error(prog, &e);
done:
	sotto_age_idlist_free(&ids);
	sotto_buf_release(&in);
	sotto_buf_release(&out);
	return rc;
}

static int
generate(const char *prog, const char *output, bool pq)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_age_identity *id = NULL;
	struct sotto_age_recipient *r = NULL;
	struct sotto_buf out = SOTTO_BUF_SECRET_INIT;
	struct stat st;
	char when[64];
	time_t now = time(NULL);
	struct tm tm;
	int rc = 1;
	bool to_file = output != NULL && strcmp(output, "-") != 0;

	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", &tm);
	/* RFC 3339 offset: +0100 -> +01:00, +0000 -> Z as Go prints it */
	if (strlen(when) == 24) {
		if (strcmp(when + 19, "+0000") == 0) {
			when[19] = 'Z';
			when[20] = '\0';
		} else {
			memmove(when + 23, when + 22, 2);
			when[22] = ':';
			when[25] = '\0';
		}
	}
	if ((pq ? sotto_age_identity_generate_pq(&id, &e) :
	    sotto_age_identity_generate(&id, &e)) ||
	    sotto_age_identity_to_recipient(&r, id, &e))
		goto fail;
	if (sotto_buf_addf(&out, "# created: %s\n# public key: %s\n", when,
	    sotto_age_recipient_string(r)) ||
	    sotto_age_identity_string(&out, id, &e) ||
	    sotto_buf_addch(&out, '\n'))
		goto fail;
	if (to_file) {
		if (sotto_io_write_new(output, out.data, out.len, 0600, &e))
			goto fail;
	} else {
		if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
		    (st.st_mode & 0004))
			cli_warnf(prog, "writing secret key to a "
			    "world-readable file");
		if (sotto_io_write_all(STDOUT_FILENO, out.data, out.len)) {
			sotto_error_set(&e, SOTTO_E_IO, "cannot write output");
			goto fail;
		}
	}
	if (to_file || !isatty(STDOUT_FILENO))
		fprintf(stderr, "Public key: %s\n",
		    sotto_age_recipient_string(r));
	rc = 0;
	goto done;
fail:
	cli_error(prog, &e);
done:
	sotto_age_recipient_free(r);
	sotto_age_identity_free(id);
	sotto_buf_release(&out);
	return rc;
}

int
cmd_keygen(int argc, char **argv, enum cli_mode mode)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "pq", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = mode == CLI_KEYGEN ? "age-keygen" :
	    "sotto age-keygen";
	const char *output = NULL;
	bool y = false, pq = false;
	int c, i, j;

	/* the reference spells it -pq (Go flag syntax); take it out of argv
	 * before getopt, which would read it as -p -q */
	for (i = j = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "-pq") == 0 || strcmp(argv[i], "--pq") == 0)
			pq = true;
		else
			argv[j++] = argv[i];
	}
	argc = j;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:yh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'y': y = true; break;
		case 'h':
			cli_print_template(stdout, keygen_usage, prog, prog);
			return 0;
		case 'V':
			printf("%s\n", mode == CLI_KEYGEN ? SOTTO_VERSION :
			    cli_version());
			return 0;
		default:
			cli_print_template(stderr, keygen_usage, prog, prog);
			return 1;
		}
	}
	if (!y && argc - optind > 0) {
		cli_errorf(prog, "too many arguments (did you mean -y?)");
		return 1;
	}
	if (y && argc - optind > 1) {
		cli_errorf(prog, "too many arguments");
		return 1;
	}
	if (y && pq) {
		cli_errorf(prog, "-pq cannot be used with -y");
		return 1;
	}
	if (y)
		return convert(prog, argc - optind == 1 ? argv[optind] : NULL,
		    output);
	return generate(prog, output, pq);
}
