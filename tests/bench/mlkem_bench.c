/* SPDX-License-Identifier: ISC */
/*
 * ML-KEM-768 operations per second (tests/bench/pq.sh builds and runs it
 * against build/libsotto.a).  Prints one JSON object like the JavaScript
 * side in pq.sh: ML-KEM-768 keygen/encaps/decaps per second, and hybrid
 * (age1pq1) age encrypt+decrypt round trips of a 1 KB file per second,
 * in process through sotto_age_encrypt_mem / sotto_age_decrypt_mem.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "crypto/age_internal.h"
#include "crypto/mlkem.h"
#include "sotto/secret.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	static uint8_t ek[1184], dk[2400], ct[1088], ss[32], d[32], z[32];
	double secs = argc > 1 ? atof(argv[1]) : 1.0, t0, r[4];
	struct sotto_age_identity *id;
	struct sotto_age_recipient *rc;
	struct sotto_error e;
	struct sotto_buf c = SOTTO_BUF_INIT, p = SOTTO_BUF_SECRET_INIT;
	uint8_t msg[1024];
	long n;
	int op;

	if (sotto_secret_init() != SOTTO_OK)
		return 1;
	randombytes_buf(msg, sizeof(msg));
	if (sotto_age_identity_generate_pq(&id, &e) ||
	    sotto_age_identity_to_recipient(&rc, id, &e))
		return 1;
	randombytes_buf(d, 32);
	randombytes_buf(z, 32);
	sotto_mlkem768_keygen_internal(ek, dk, d, z);
	sotto_mlkem768_encaps(ss, ct, ek);
	for (op = 0; op < 3; op++) {
		t0 = now();
		for (n = 0; now() - t0 < secs; n++) {
			if (op == 0)
				sotto_mlkem768_keygen_internal(ek, dk, d, z);
			else if (op == 1)
				sotto_mlkem768_encaps(ss, ct, ek);
			else
				sotto_mlkem768_decaps(ss, ct, dk);
		}
		r[op] = (double)n / (now() - t0);
	}
	t0 = now();
	for (n = 0; now() - t0 < secs; n++) {
		sotto_buf_truncate(&c, 0);
		sotto_buf_truncate(&p, 0);
		if (sotto_age_encrypt_mem(&c, msg, sizeof(msg), &rc, 1, false,
		    &e) || sotto_age_decrypt_mem(&p, c.data, c.len, &id, 1, &e) ||
		    p.len != sizeof(msg))
			return 1;
	}
	r[3] = (double)n / (now() - t0);
	printf("{\"keygen\":%.0f,\"encaps\":%.0f,\"decaps\":%.0f,"
	    "\"age_pq_1k\":%.0f}\n", r[0], r[1], r[2], r[3]);
	sotto_buf_release(&c);
	sotto_buf_release(&p);
	sotto_age_recipient_free(rc);
	sotto_age_identity_free(id);
	return 0;
}
