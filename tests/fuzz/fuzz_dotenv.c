/* SPDX-License-Identifier: ISC */
/* libFuzzer harness for the dotenv store; the body is tests/fuzz/fuzz_store.h. */
#define STORE sotto_store_dotenv
#include "fuzz_store.h"
