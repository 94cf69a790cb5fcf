/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the sops value layer (sotto/sops_value.h) with a
 * fixed data key.  The first input byte picks a mode:
 *   0  the rest is an ENC[...] string: parse, then decrypt (AAD "a:b:")
 *   1  the rest is a plaintext: encrypt it as type T (from byte 2), then
 *      decrypt it back; a success must give the same bytes and type
 *   2  the rest is a lastmodified timestamp: normalise it, then check a
 *      stored MAC against it (both must fail cleanly or succeed)
 *   3  the rest is a stored MAC: mac_check against a fixed hex and time
 * Aborts on any inconsistency; ASan/UBSan catch memory errors.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sotto/buf.h"
#include "sotto/error.h"
#include "sotto/sops_value.h"

static const uint8_t key[32] = {
	0x9a, 0xc0, 0x88, 0xcf, 0x70, 0x29, 0x98, 0x13, 0x41, 0x45, 0x7c,
	0x39, 0xdd, 0x56, 0xdd, 0xe5, 0x46, 0x00, 0xdf, 0xbc, 0xe9, 0xb5,
	0xed, 0xe2, 0x3a, 0xa6, 0x5c, 0x41, 0x89, 0x00, 0xab, 0x67,
};
static const char aad[] = "a:b:";
static const char *const types[] = { "str", "int", "float", "bool", "time",
	"comment", "bytes", "nope" };
static char mac_hex[SOTTO_SOPS_MAC_HEX];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	memset(mac_hex, 'A', 128);
	mac_hex[128] = '\0';
	return 0;
}

static void
mode_decrypt(const char *s, size_t n)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_sops_enc enc;
	struct sotto_buf plain = SOTTO_BUF_SECRET_INIT;
	char type[SOTTO_SOPS_TYPE_MAX];
	sotto_err err;

	err = sotto_sops_value_parse(&enc, s, n, &e);
	if (err == SOTTO_OK && (enc.iv.len == 0 ||
	    enc.data_b64 + enc.data_b64len > s + n))
		abort();
	sotto_sops_value_release(&enc);
	sotto_sops_value_release(&enc);	/* twice: must be safe */
	err = sotto_sops_value_decrypt(&plain, type, s, n, aad,
	    sizeof(aad) - 1, key, &e);
	if (err != SOTTO_OK && plain.len != 0)
		abort();	/* no plaintext may survive a failure */
	if (strnlen(e.msg, sizeof(e.msg)) >= sizeof(e.msg))
		abort();
	sotto_buf_release(&plain);
}

static void
mode_roundtrip(const uint8_t *p, size_t n)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf enc = SOTTO_BUF_INIT;
	struct sotto_buf plain = SOTTO_BUF_SECRET_INIT;
	char type[SOTTO_SOPS_TYPE_MAX];
	const char *t;
	sotto_err err;

	if (n == 0)
		return;
	t = types[p[0] % (sizeof(types) / sizeof(types[0]))];
	p++;
	n--;
	err = sotto_sops_value_encrypt(&enc, p, n, t, aad, sizeof(aad) - 1,
	    key, NULL, &e);
	if (err != SOTTO_OK || enc.len == 0)
		goto out;
	if (!sotto_sops_value_is_enc((const char *)enc.data, enc.len))
		abort();
	err = sotto_sops_value_decrypt(&plain, type, (const char *)enc.data,
	    enc.len, aad, sizeof(aad) - 1, key, &e);
	if (err == SOTTO_OK) {
		if (plain.len != n || memcmp(plain.data, p, n) != 0 ||
		    strcmp(type, t) != 0)
			abort();
	} else if (err == SOTTO_E_DECRYPT || plain.len != 0) {
		abort();	/* our own ciphertext must authenticate */
	}
	/* the same ciphertext under another AAD must never decrypt */
	sotto_buf_truncate(&plain, 0);
	if (sotto_sops_value_decrypt(&plain, type, (const char *)enc.data,
	    enc.len, "a:", 2, key, &e) == SOTTO_OK)
		abort();
out:
	sotto_buf_release(&enc);
	sotto_buf_release(&plain);
}

static void
mode_time(const char *s)
{
	struct sotto_error e = { SOTTO_OK, "" };
	struct sotto_buf mac = SOTTO_BUF_INIT;
	char out[64];

	if (sotto_sops_time_rfc3339_normalize(out, s, &e) != SOTTO_OK)
		return;
	if (strnlen(out, sizeof(out)) >= sizeof(out))
		abort();
	if (sotto_sops_mac_encrypt(&mac, mac_hex, s, key, NULL, &e) ==
	    SOTTO_OK &&
	    sotto_sops_mac_check((const char *)mac.data, s, mac_hex, key,
	    &e) != SOTTO_OK)
		abort();	/* a MAC we stored must verify */
	sotto_buf_release(&mac);
}

static void
mode_mac(const char *s)
{
	struct sotto_error e = { SOTTO_OK, "" };

	if (sotto_sops_mac_check(s, "2024-01-02T03:04:05Z", mac_hex, key,
	    &e) == SOTTO_OK)
		abort();	/* forging the MAC is not expected */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size == 0 || size > 65536)
		return 0;
	/* a NUL-terminated copy, so C-string APIs see no overread */
	s = malloc(size);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] & 3) {
	case 0:
		mode_decrypt(s, size - 1);
		break;
	case 1:
		mode_roundtrip(data + 1, size - 1);
		break;
	case 2:
		mode_time(s);
		break;
	case 3:
		mode_mac(s);
		break;
	}
	free(s);
	return 0;
}
