/* SPDX-License-Identifier: ISC */
/*
 * libyaml's run-time version.  A second door to libyaml, deliberately tiny:
 * the CLI may not include <yaml.h> (STYLE: libyaml only in formats/), and
 * yaml.c is about the store, not about reporting versions.
 */
#include "formats/version.h"

#include <yaml.h>

const char *
sotto_yaml_version(void)
{
	return yaml_get_version_string();
}
