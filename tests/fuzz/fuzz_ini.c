/* SPDX-License-Identifier: ISC */
/* libFuzzer harness for the ini store; the body is tests/fuzz/fuzz_store.h. */
#define STORE sotto_store_ini
#include "fuzz_store.h"
