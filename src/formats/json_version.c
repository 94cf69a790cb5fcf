/* SPDX-License-Identifier: ISC */
/*
 * jansson's run-time version, for the same reason as yaml_version.c: the
 * CLI does not include <jansson.h>.
 */
#include "formats/version.h"

#include <jansson.h>

const char *
sotto_json_version(void)
{
	return jansson_version_str();
}
