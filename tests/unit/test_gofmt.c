/* SPDX-License-Identifier: ISC */
/* Go strconv / encoding/json number text (sotto/gofmt.h). */
#include "testutil.h"

#include <float.h>
#include <math.h>

#include "sotto/gofmt.h"

struct ftab {
	double v;
	const char *want;
};

static void
run_fmt(int (*fn)(char *, size_t, double), const struct ftab *t, size_t n)
{
	char out[SOTTO_GOFMT_FLOAT_MAX];
	size_t i;

	for (i = 0; i < n; i++) {
		int r = fn(out, sizeof(out), t[i].v);

		if (r < 0 || strcmp(out, t[i].want) != 0)
			fail_msg("value %zu: got '%s' want '%s'", i, out,
			    t[i].want);
		assert_int_equal(r, (int)strlen(t[i].want));
	}
}

/* spec 1.1 and extra FormatFloat(v, 'f', -1, 64) cases */
static void
test_gofmt_float_f(void **state)
{
	static const struct ftab t[] = {
		{ 1.0, "1" }, { 1.5, "1.5" }, { -0.25, "-0.25" },
		{ 1e21, "1000000000000000000000" },
		{ 1.234e-7, "0.0000001234" }, { 3.14159, "3.14159" },
		{ INFINITY, "+Inf" }, { -INFINITY, "-Inf" }, { NAN, "NaN" },
		{ 0.0, "0" }, { -0.0, "-0" }, { 0.1, "0.1" },
		{ 0.1 + 0.2, "0.30000000000000004" },
		{ 1234568000.0, "1234568000" }, { 25.4, "25.4" },
		{ 123456789012345678901234567890.0,
		    "123456789012345680000000000000" },
		{ 9007199254740993.0, "9007199254740992" },
		{ 9223372036854775808.0, "9223372036854776000" },
		{ 1e23, "100000000000000000000000" },
		{ 100, "100" }, { -1e-5, "-0.00001" },
	};

	(void)state;
	run_fmt(sotto_gofmt_float_f, t, sizeof(t) / sizeof(t[0]));
}

static void
test_gofmt_float_f_small_cap(void **state)
{
	char out[SOTTO_GOFMT_FLOAT_MAX], tiny[4];

	(void)state;
	assert_int_equal(sotto_gofmt_float_f(tiny, sizeof(tiny), 1.5), 3);
	assert_int_equal(sotto_gofmt_float_f(tiny, sizeof(tiny), 12.5), -1);
	assert_int_equal(tiny[3], '\0');
	assert_int_equal(sotto_gofmt_float_f(tiny, 0, 1), -1);
	/* the longest outputs fit SOTTO_GOFMT_FLOAT_MAX */
	assert_int_equal(sotto_gofmt_float_f(out, sizeof(out), -5e-324), 327);
	assert_memory_equal(out, "-0.000", 6);
	assert_int_equal(out[326], '5');
	assert_int_equal(sotto_gofmt_float_f(out, sizeof(out), -DBL_MAX), 310);
	assert_memory_equal(out, "-17976931348623157", 18);
}

/* yaml.v3 emission: FormatFloat(v, 'g', -1, 64), spec 5.1 */
static void
test_gofmt_float_g(void **state)
{
	static const struct ftab t[] = {
		{ 1.0, "1" }, { 1e21, "1e+21" }, { 0.5, "0.5" },
		{ 1234568000.0, "1.234568e+09" }, { 1e6, "1e+06" },
		{ 100000, "100000" }, { 123456, "123456" },
		{ 1234567, "1.234567e+06" }, { 0.0001, "0.0001" },
		{ 0.00001, "1e-05" }, { 0.000012345, "1.2345e-05" },
		{ 123456789012345678901234567890.0,
		    "1.2345678901234568e+29" },
		{ 3.14159, "3.14159" }, { -0.25, "-0.25" }, { 0.0, "0" },
		{ -0.0, "-0" }, { INFINITY, "+Inf" }, { NAN, "NaN" },
		{ 5e-324, "5e-324" },
		{ DBL_MAX, "1.7976931348623157e+308" },
		{ 2.2250738585072014e-308, "2.2250738585072014e-308" },
		{ 9223372036854775808.0, "9.223372036854776e+18" },
		{ 25.4, "25.4" }, { 1e100, "1e+100" },
	};

	(void)state;
	run_fmt(sotto_gofmt_float_g, t, sizeof(t) / sizeof(t[0]));
}

static void
test_gofmt_float_g_small_cap(void **state)
{
	char tiny[5];

	(void)state;
	assert_int_equal(sotto_gofmt_float_g(tiny, sizeof(tiny), 1e6), -1);
	assert_int_equal(sotto_gofmt_float_g(tiny, sizeof(tiny), NAN), 3);
}

/* encoding/json float64 */
static void
test_gofmt_float_json(void **state)
{
	static const struct ftab t[] = {
		{ 1.0, "1" }, { 1e21, "1e+21" }, { 1e20,
		    "100000000000000000000" }, { 1e-7, "1e-7" },
		{ 0.000001, "0.000001" }, { 1.5e-10, "1.5e-10" },
		{ 1e-100, "1e-100" }, { -1.234e-7, "-1.234e-7" },
		{ 25.4, "25.4" }, { 0.0, "0" }, { -0.0, "-0" },
		{ 1234568000.0, "1234568000" },
		{ 123456789012345678901234567890.0,
		    "1.2345678901234568e+29" },
	};

	(void)state;
	run_fmt(sotto_gofmt_float_json, t, sizeof(t) / sizeof(t[0]));
}

static void
test_gofmt_float_json_unsupported(void **state)
{
	char out[SOTTO_GOFMT_FLOAT_MAX];

	(void)state;
	assert_int_equal(sotto_gofmt_float_json(out, sizeof(out), NAN), -1);
	assert_int_equal(sotto_gofmt_float_json(out, sizeof(out), INFINITY),
	    -1);
	assert_int_equal(sotto_gofmt_float_json(out, sizeof(out), -INFINITY),
	    -1);
}

static void
test_gofmt_int(void **state)
{
	char out[SOTTO_GOFMT_INT_MAX];

	(void)state;
	assert_int_equal(sotto_gofmt_int(out, sizeof(out), INT64_MIN), 20);
	assert_string_equal(out, "-9223372036854775808");
	assert_int_equal(sotto_gofmt_int(out, sizeof(out), 0), 1);
	assert_string_equal(out, "0");
}

static void
test_gofmt_int_small_cap(void **state)
{
	char out[3];

	(void)state;
	assert_int_equal(sotto_gofmt_int(out, sizeof(out), 123), -1);
}

static void
test_gofmt_parse_int(void **state)
{
	static const struct {
		const char *s;
		int64_t v;
	} t[] = {
		{ "0", 0 }, { "+5", 5 }, { "-0", 0 }, { "007", 7 },
		{ "-42", -42 }, { "9223372036854775807", INT64_MAX },
		{ "-9223372036854775808", INT64_MIN },
		{ "+0000000000000000000000001", 1 },
	};
	int64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_true(sotto_gofmt_parse_int(t[i].s, strlen(t[i].s), &v));
		assert_true(v == t[i].v);
	}
	/* length-bounded: "12" of "123" */
	assert_true(sotto_gofmt_parse_int("123", 2, &v));
	assert_true(v == 12);
}

static void
test_gofmt_parse_int_reject(void **state)
{
	static const char *const t[] = {
		"", "+", "-", "1_000", "0x10", " 1", "1 ", "1.0", "1e3",
		"9223372036854775808", "-9223372036854775809",
		"99999999999999999999", "--1", "+-1", "١",
	};
	int64_t v = 77;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (sotto_gofmt_parse_int(t[i], strlen(t[i]), &v))
			fail_msg("accepted '%s'", t[i]);
	assert_true(v == 77);
}

static void
test_gofmt_parse_float(void **state)
{
	static const struct {
		const char *s;
		double v;
	} t[] = {
		{ "1", 1 }, { "1.5", 1.5 }, { ".5", 0.5 }, { "5.", 5 },
		{ "1e21", 1e21 }, { "1E+21", 1e21 }, { "-0.25", -0.25 },
		{ "0x1p-2", 0.25 }, { "0X1.8P1", 3 }, { "-0x.8p1", -1 },
		{ "1_000.5", 1000.5 }, { "0x_1p0", 1 }, { "1e1_0", 1e10 },
		{ "1e-400", 0 }, { "0e99999", 0 }, { "+0", 0 },
		{ "0.0000001234", 1.234e-7 },
		{ "123456789012345680000000000000",
		    123456789012345678901234567890.0 },
		{ "1.7976931348623157e308", DBL_MAX },
		{ "inf", INFINITY }, { "+Inf", INFINITY },
		{ "-infinity", -INFINITY }, { "INFINITY", INFINITY },
	};
	double v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!sotto_gofmt_parse_float(t[i].s, strlen(t[i].s), &v))
			fail_msg("rejected '%s'", t[i].s);
		assert_true(v == t[i].v);
	}
	assert_true(sotto_gofmt_parse_float("NaN", 3, &v) && isnan(v));
	assert_true(sotto_gofmt_parse_float("nan", 3, &v) && isnan(v));
	assert_true(sotto_gofmt_parse_float("-0", 2, &v) && v == 0 &&
	    signbit(v));
}

static void
test_gofmt_parse_float_reject(void **state)
{
	static const char *const t[] = {
		"", ".", "e5", "1e", "1e+", "0x1", "0x", "0xp1", "1_", "_1",
		"1__0", "+nan", "-NaN", "nana", "infin", "infinityy", "1.5.",
		" 1", "1 ", "1e400", "-1e400", "0x1p", "1._5", "1_.5",
		"1e_5", "--1", "1,5", "0x1p1024", "1e5f", "+", "-",
		"0b101", "0o17", "1f",
	};
	double v = 77;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (sotto_gofmt_parse_float(t[i], strlen(t[i]), &v))
			fail_msg("accepted '%s'", t[i]);
	assert_true(v == 77);
}

static void
test_gofmt_parse_bool(void **state)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true",
	    "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false",
	    "False" };
	bool b;
	size_t i;

	(void)state;
	for (i = 0; i < 6; i++) {
		assert_true(sotto_gofmt_parse_bool(yes[i], strlen(yes[i]), &b));
		assert_true(b);
		assert_true(sotto_gofmt_parse_bool(no[i], strlen(no[i]), &b));
		assert_false(b);
	}
}

static void
test_gofmt_parse_bool_reject(void **state)
{
	static const char *const t[] = { "", "yes", "no", "on", "off", "y",
	    "tRUE", "TrUe", "2", "true ", "10", "fals" };
	bool b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (sotto_gofmt_parse_bool(t[i], strlen(t[i]), &b))
			fail_msg("accepted '%s'", t[i]);
}

/* f output always parses back to the same double */
static void
test_gofmt_float_f_roundtrip(void **state)
{
	char out[SOTTO_GOFMT_FLOAT_MAX];
	uint64_t x = 0x9E3779B97F4A7C15ULL, b;
	double v, w;
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b = x;
		memcpy(&v, &b, sizeof(v));
		if (isnan(v) || isinf(v))
			continue;
		assert_true(sotto_gofmt_float_f(out, sizeof(out), v) > 0);
		assert_true(sotto_gofmt_parse_float(out, strlen(out), &w));
		assert_true(memcmp(&v, &w, sizeof(v)) == 0);
		assert_true(sotto_gofmt_float_g(out, sizeof(out), v) > 0);
		assert_true(sotto_gofmt_parse_float(out, strlen(out), &w));
		assert_true(memcmp(&v, &w, sizeof(v)) == 0);
	}
}

static void
test_gofmt_float_f_roundtrip_specials(void **state)
{
	char out[SOTTO_GOFMT_FLOAT_MAX];
	double w;

	(void)state;
	/* "+Inf" and "NaN" read back; JSON refuses them */
	assert_int_equal(sotto_gofmt_float_f(out, sizeof(out), INFINITY), 4);
	assert_true(sotto_gofmt_parse_float(out, strlen(out), &w) &&
	    isinf(w));
	assert_int_equal(sotto_gofmt_float_f(out, sizeof(out), NAN), 3);
	assert_true(sotto_gofmt_parse_float(out, strlen(out), &w) &&
	    isnan(w));
	assert_int_equal(sotto_gofmt_float_json(out, sizeof(out), NAN), -1);
}

/* go-yaml v3 timestamps and RFC 3339 out, as time.Format writes them */
static void
test_gofmt_time_rfc3339(void **state)
{
	static const struct {
		const char *in, *want, *nano;
	} t[] = {
		{ "2025-01-02", "2025-01-02T00:00:00Z", "2025-01-02T00:00:00Z" },
		{ "2025-1-2", "2025-01-02T00:00:00Z", NULL },
		{ "2025-01-02 03:04:05", "2025-01-02T03:04:05Z", NULL },
		{ "2025-01-02 3:4:5.5", "2025-01-02T03:04:05Z",
		    "2025-01-02T03:04:05.5Z" },
		{ "2025-01-02T03:04:05Z", "2025-01-02T03:04:05Z", NULL },
		{ "2006-01-02T15:04:05+07:06", "2006-01-02T15:04:05+07:06",
		    NULL },
		{ "2006-01-02t15:04:05.120000-00:00", "2006-01-02T15:04:05Z",
		    "2006-01-02T15:04:05.12Z" },
		{ "2001-12-14T21:59:43,1234567891-05:00",
		    "2001-12-14T21:59:43-05:00",
		    "2001-12-14T21:59:43.123456789-05:00" },
		{ "2024-02-29", "2024-02-29T00:00:00Z", NULL },
		{ "2000-02-29T00:00:00+24:60", "2000-02-29T00:00:00+25:00",
		    NULL },
	};
	static const char *const bad[] = {
		"", "2025", "25-01-02", "2025-13-01", "2025-00-01", "2025-02-29",
		"2023-02-29", "1900-02-29", "2025-01-32", "2025-001-02",
		"2025-01-02T03:04:05", "2025-01-02 03:04:05Z",
		"2025-01-02T24:00:00Z", "2025-01-02T03:60:00Z",
		"2025-01-02T03:04:60Z", "2025-01-02T03:04:05z",
		"2025-01-02T03:04:05+0100", "2025-01-02T03:04:05+25:00",
		"2025-01-02T03:04:05+01:61", "2025-01-02 ", " 2025-01-02",
		"2025-01-02T03:04:05.Z", "2025-01-02T03:04Z", "2025/01/02",
	};
	char out[64];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = sotto_gofmt_time_rfc3339(out, sizeof(out), t[i].in,
		    strlen(t[i].in), false);
		if (r < 0 || strcmp(out, t[i].want) != 0)
			fail_msg("'%s': got '%s' want '%s'", t[i].in,
			    r < 0 ? "(refused)" : out, t[i].want);
		r = sotto_gofmt_time_rfc3339(out, sizeof(out), t[i].in,
		    strlen(t[i].in), true);
		if (r < 0 || strcmp(out, t[i].nano ? t[i].nano :
		    t[i].want) != 0)
			fail_msg("'%s' nano: got '%s'", t[i].in, out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sotto_gofmt_time_rfc3339(out, sizeof(out), bad[i],
		    strlen(bad[i]), true) >= 0)
			fail_msg("'%s' accepted as '%s'", bad[i], out);
	/* too small a buffer */
	assert_int_equal(sotto_gofmt_time_rfc3339(out, 10, "2025-01-02", 10,
	    false), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gofmt_float_f),
		cmocka_unit_test(test_gofmt_float_f_small_cap),
		cmocka_unit_test(test_gofmt_float_g),
		cmocka_unit_test(test_gofmt_float_g_small_cap),
		cmocka_unit_test(test_gofmt_float_json),
		cmocka_unit_test(test_gofmt_float_json_unsupported),
		cmocka_unit_test(test_gofmt_int),
		cmocka_unit_test(test_gofmt_int_small_cap),
		cmocka_unit_test(test_gofmt_parse_int),
		cmocka_unit_test(test_gofmt_parse_int_reject),
		cmocka_unit_test(test_gofmt_parse_float),
		cmocka_unit_test(test_gofmt_parse_float_reject),
		cmocka_unit_test(test_gofmt_parse_bool),
		cmocka_unit_test(test_gofmt_parse_bool_reject),
		cmocka_unit_test(test_gofmt_float_f_roundtrip),
		cmocka_unit_test(test_gofmt_float_f_roundtrip_specials),
		cmocka_unit_test(test_gofmt_time_rfc3339),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
