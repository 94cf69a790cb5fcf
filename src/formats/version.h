/* SPDX-License-Identifier: ISC */
/*
 * Run-time versions of the format libraries, for `sotto --version`.  Each
 * function lives beside its library's one door: yaml_version.c is the only
 * file besides yaml.c that includes <yaml.h>, json_version.c the only one
 * besides json.c that includes <jansson.h>.
 */
#ifndef SOTTO_FORMATS_VERSION_H
#define SOTTO_FORMATS_VERSION_H

/* libyaml's version as the linked library reports it ("0.2.5"); static. */
const char *sotto_yaml_version(void);

/* jansson's version as the linked library reports it ("2.14"); static. */
const char *sotto_json_version(void);

#endif
