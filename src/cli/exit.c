/* SPDX-License-Identifier: ISC */
/*
 * The one table that maps library errors to exit statuses.  Where sops has
 * a code (spec sops-format.md §8.3) we use its number, since scripts
 * depend on them; sotto-only statuses stay below 126.  age and age-keygen
 * personalities exit 1 on every error, as the reference does.
 */
#include "cli/cli.h"

int
cli_exit_status(sotto_err code, enum cli_mode mode)
{
	if (code == SOTTO_OK)
		return 0;
	if (mode == CLI_AGE || mode == CLI_KEYGEN)
		return 1;
	switch (code) {
	case SOTTO_E_USAGE: return 2;		/* sotto: usage */
	case SOTTO_E_NOTFOUND: return 100;	/* sops NoFileSpecified */
	case SOTTO_E_IO: return 2;		/* CouldNotReadInputFile */
	case SOTTO_E_LIMIT:
	case SOTTO_E_PARSE:
	case SOTTO_E_YAML:
	case SOTTO_E_JSON:
	case SOTTO_E_DOTENV:
	case SOTTO_E_INI: return 2;		/* CouldNotReadInputFile */
	case SOTTO_E_WRITE: return 3;	/* CouldNotWriteOutputFile */
	case SOTTO_E_EMIT: return 4;		/* ErrorDumpingTree */
	case SOTTO_E_CONFIG: return 5;		/* ErrorReadingConfig */
	case SOTTO_E_CONFLICT: return 8;	/* ConflictingParameters */
	case SOTTO_E_ENCRYPT: return 23;	/* ErrorEncryptingTree */
	case SOTTO_E_DECRYPT:
	case SOTTO_E_ENC_VALUE: return 25;	/* ErrorDecryptingTree */
	case SOTTO_E_MAC_MISMATCH: return 51;	/* MacMismatch */
	case SOTTO_E_MAC_NOT_FOUND: return 52;	/* MacNotFound */
	case SOTTO_E_CONFIG_NOT_FOUND: return 61;
	case SOTTO_E_GIT: return 70;		/* sotto: libgit2 call failed */
	case SOTTO_E_GIT_LOAD: return 71;	/* sotto: no libgit2.so.1.5 */
	case SOTTO_E_GIT_REPO: return 72;	/* sotto: not a repository */
	case SOTTO_E_HOOK: return 73;		/* sotto: hook not changed */
	case SOTTO_E_INTERRUPTED: return 85;	/* KeyboardInterrupt */
	case SOTTO_E_TREE_PATH: return 91;	/* InvalidTreePathFormat */
	case SOTTO_E_NO_DOCUMENT: return 92;	/* NeedAtLeastOneDocument */
	case SOTTO_E_NO_RECIPIENTS: return 111;	/* NoEncryptionKeyFound */
	case SOTTO_E_DECRYPTION_ORDER:
		return 112;		/* DuplicateDecryptionKeyType */
	case SOTTO_E_NO_KEY:
	case SOTTO_E_AGE_NO_MATCH: return 128;	/* CouldNotRetrieveKey */
	case SOTTO_E_UNCHANGED: return 200;	/* FileHasNotBeenModified */
	case SOTTO_E_NO_EDITOR: return 201;	/* NoEditorFound */
	case SOTTO_E_ALREADY_ENCRYPTED: return 203; /* FileAlreadyEncrypted */
	default: return 1;			/* ErrorGeneric */
	}
}
