/* SPDX-License-Identifier: ISC */
/* The library's error carrier: codes, messages and context prefixes. */
#include "sotto/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

sotto_err
sotto_error_set(struct sotto_error *e, sotto_err code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

sotto_err
sotto_error_prefix(struct sotto_error *e, const char *fmt, ...)
{
	char pre[SOTTO_ERROR_MSG_MAX], old[SOTTO_ERROR_MSG_MAX];
	va_list ap;

	if (e == NULL)
		return SOTTO_OK;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	if (old[0] != '\0') {
		size_t n = strlen(pre);

		if (n > sizeof(e->msg) - 3)
			n = sizeof(e->msg) - 3;
		memcpy(e->msg, pre, n);
		memcpy(e->msg + n, ": ", 2);
		n += 2;
		snprintf(e->msg + n, sizeof(e->msg) - n, "%.*s",
		    (int)(sizeof(e->msg) - n - 1), old);
	} else {
		memcpy(e->msg, pre, sizeof(e->msg));
	}
	return e->code;
}

void
sotto_error_clear(struct sotto_error *e)
{
	if (e == NULL)
		return;
	e->code = SOTTO_OK;
	e->msg[0] = '\0';
}

const char *
sotto_strerror(sotto_err code)
{
	switch (code) {
	case SOTTO_OK: return "success";
	case SOTTO_E_NOMEM: return "out of memory";
	case SOTTO_E_IO: return "input/output error";
	case SOTTO_E_USAGE: return "invalid usage";
	case SOTTO_E_LIMIT: return "input exceeds a limit";
	case SOTTO_E_INTERNAL: return "internal error";
	case SOTTO_E_NOTFOUND: return "not found";
	case SOTTO_E_EXISTS: return "already exists";
	case SOTTO_E_TTY: return "a terminal is required";
	case SOTTO_E_INTERRUPTED: return "interrupted";
	case SOTTO_E_PARSE: return "malformed input";
	case SOTTO_E_AGE_HEADER: return "malformed age header";
	case SOTTO_E_AGE_ARMOR: return "malformed age armor";
	case SOTTO_E_BECH32: return "malformed Bech32 string";
	case SOTTO_E_KEY_FORMAT: return "malformed key";
	case SOTTO_E_YAML: return "malformed YAML";
	case SOTTO_E_JSON: return "malformed JSON";
	case SOTTO_E_DOTENV: return "malformed dotenv";
	case SOTTO_E_INI: return "malformed INI";
	case SOTTO_E_ENC_VALUE: return "malformed encrypted value";
	case SOTTO_E_TREE_PATH: return "invalid tree path";
	case SOTTO_E_EMIT: return "cannot write tree in this format";
	case SOTTO_E_PATH_MISSING: return "key path not found";
	case SOTTO_E_BAD_REGEX: return "invalid regular expression";
	case SOTTO_E_CRYPTO: return "cryptographic operation failed";
	case SOTTO_E_AGE_NO_MATCH: return "no identity matched any of the recipients";
	case SOTTO_E_AGE_HMAC: return "bad header MAC";
	case SOTTO_E_AGE_PAYLOAD: return "payload decryption failed";
	case SOTTO_E_DECRYPT: return "value decryption failed";
	case SOTTO_E_MAC_MISMATCH: return "MAC mismatch";
	case SOTTO_E_BAD_PASSPHRASE: return "incorrect passphrase";
	case SOTTO_E_UNSUPPORTED: return "not supported";
	case SOTTO_E_ENCRYPT: return "value encryption failed";
	case SOTTO_E_SOPS_METADATA: return "sops metadata missing or malformed";
	case SOTTO_E_NO_KEY: return "could not retrieve the data key";
	case SOTTO_E_ALREADY_ENCRYPTED: return "file already encrypted";
	case SOTTO_E_NOT_ENCRYPTED: return "file is not encrypted";
	case SOTTO_E_CONFIG: return "invalid configuration";
	case SOTTO_E_NO_RECIPIENTS: return "no recipients";
	case SOTTO_E_MAC_NOT_FOUND: return "MAC not found";
	case SOTTO_E_NO_DOCUMENT: return "no document to encrypt";
	case SOTTO_E_CONFLICT: return "conflicting parameters";
	case SOTTO_E_UNCHANGED: return "file has not been modified";
	case SOTTO_E_NO_EDITOR: return "no editor found";
	case SOTTO_E_CONFIG_NOT_FOUND: return "config file not found";
	case SOTTO_E_WRITE: return "cannot write the output file";
	case SOTTO_E_EMPTY_GROUP: return "empty key group provided";
	case SOTTO_E_DECRYPTION_ORDER: return "duplicate decryption key type";
	case SOTTO_E_GIT: return "git operation failed";
	case SOTTO_E_GIT_LOAD: return "libgit2 cannot be loaded";
	case SOTTO_E_GIT_REPO: return "not a git repository";
	case SOTTO_E_HOOK: return "git hook cannot be changed";
	case SOTTO_E_KUBE_API: return "the Kubernetes API returned an error";
	case SOTTO_E_KUBE_LOAD: return "libcurl cannot be loaded";
	case SOTTO_E_KUBE_TRANSPORT: return "cannot reach the Kubernetes API";
	case SOTTO_E_KUBE_CONFIG: return "bad kubeconfig";
	case SOTTO_E_KUBE_NOTFOUND: return "Kubernetes object not found";
	case SOTTO_E_KUBE_CONFLICT: return "Kubernetes API conflict";
	case SOTTO_E_RECONCILE: return "reconciliation failed";
	}
	return "unknown error";
}
