/* SPDX-License-Identifier: ISC */
/* libFuzzer harness for the json store; the body is tests/fuzz/fuzz_store.h. */
#define STORE sotto_store_json
#include "fuzz_store.h"
