/*
 * test_totp.c — two-step sign-in codes: the RFC 6238 test vectors at known
 * times, the ±1 step window, the replay rule, what counts as a well-formed
 * code, new secrets, the otpauth:// URI and QR code, and recovery codes.
 *
 * Needs no database (SHOAL_TEST_DB is ignored): everything here is pure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "app/mfa/mfa.h"
#include "auth/qr.h"
#include "auth/totp.h"
#include "core/buf.h"

/* RFC 6238 appendix B's SHA-1 key, "12345678901234567890", in base32. */
#define RFC_SECRET "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

static void rfc6238_vectors(void **state)
{
	(void)state;
	static const struct {
		int64_t time;
		const char *code;
	} vectors[] = {
	    {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
	    {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
	};
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		char out[9], six[7];
		assert_int_equal(totp_generate(RFC_SECRET, vectors[i].time, 8, out), 0);
		assert_string_equal(out, vectors[i].code);
		/* Six digits are the same code modulo 10^6: its last six digits. */
		assert_int_equal(totp_generate(RFC_SECRET, vectors[i].time, 6, six), 0);
		assert_string_equal(six, vectors[i].code + 2);
		int64_t step = 0;
		assert_int_equal(totp_verify(RFC_SECRET, six, vectors[i].time, 0, &step), TOTP_OK);
		assert_int_equal(step, vectors[i].time / 30);
	}
}

static void window_of_one_step(void **state)
{
	(void)state;
	const int64_t now = 1234567890, step_now = now / 30;
	for (int k = -3; k <= 3; k++) {
		char code[7];
		int64_t step = 0;
		assert_int_equal(totp_generate(RFC_SECRET, now + 30 * k, 6, code), 0);
		int rc = totp_verify(RFC_SECRET, code, now, 0, &step);
		if (k >= -1 && k <= 1) {
			assert_int_equal(rc, TOTP_OK);
			assert_int_equal(step, step_now + k);
		} else {
			assert_int_equal(rc, TOTP_WRONG);
		}
	}
	/* A code is good for its whole step: the first and last second of it. */
	int64_t step = 0;
	assert_int_equal(totp_verify(RFC_SECRET, "287082", 30, 0, &step), TOTP_OK); /* step 1 */
	assert_int_equal(totp_verify(RFC_SECRET, "287082", 89, 0, &step), TOTP_OK); /* step 2: -1 */
	assert_int_equal(totp_verify(RFC_SECRET, "287082", 90, 0, &step), TOTP_WRONG);
}

static void replay_is_refused(void **state)
{
	(void)state;
	const int64_t now = 2000000000, step_now = now / 30;
	char code[7], earlier[7];
	int64_t step = 0;
	assert_int_equal(totp_generate(RFC_SECRET, now, 6, code), 0);
	assert_int_equal(totp_verify(RFC_SECRET, code, now, step_now - 1, &step), TOTP_OK);
	assert_int_equal(step, step_now);
	/* The same code once its step has been accepted: refused, and said so. */
	assert_int_equal(totp_verify(RFC_SECRET, code, now, step_now, &step), TOTP_REUSED);
	/* So is the code of an earlier step still in the window. */
	assert_int_equal(totp_generate(RFC_SECRET, now - 30, 6, earlier), 0);
	assert_int_equal(totp_verify(RFC_SECRET, earlier, now, step_now, &step), TOTP_REUSED);
	/* The next step's code is still fresh. */
	assert_int_equal(totp_generate(RFC_SECRET, now + 30, 6, code), 0);
	assert_int_equal(totp_verify(RFC_SECRET, code, now, step_now, &step), TOTP_OK);
	assert_int_equal(step, step_now + 1);
	/* A wrong code stays wrong, whatever the last step. */
	assert_int_equal(totp_verify(RFC_SECRET, "000000", now, step_now, &step), TOTP_WRONG);
}

static void code_forms(void **state)
{
	(void)state;
	char out[TOTP_DIGITS + 1];
	int64_t step;
	assert_int_equal(totp_normalise("123456", out), 0);
	assert_string_equal(out, "123456");
	assert_int_equal(totp_normalise(" 123 456 ", out), 0);
	assert_string_equal(out, "123456");
	assert_int_equal(totp_normalise("123-456", out), 0);
	static const char *const bad[] = {
	    "",  "12345", "1234567", "12a456", "１２３４５６", "123456\n", "99999999999999999999",
	    NULL};
	assert_int_equal(totp_normalise(NULL, out), TOTP_MALFORMED);
	for (size_t i = 0; bad[i]; i++) {
		assert_int_equal(totp_normalise(bad[i], out), TOTP_MALFORMED);
		assert_string_equal(out, "");
		assert_int_equal(totp_verify(RFC_SECRET, bad[i], 59, 0, &step), TOTP_MALFORMED);
	}
	/* Spaces between groups are accepted at verification too. */
	assert_int_equal(totp_verify(RFC_SECRET, "287 082", 59, 0, &step), TOTP_OK);
	/* A broken secret is an error, not a wrong code. */
	assert_int_equal(totp_verify("not base32!", "287082", 59, 0, &step), TOTP_ERROR);
	assert_int_equal(totp_verify("", "287082", 59, 0, &step), TOTP_ERROR);
}

static void new_secrets(void **state)
{
	(void)state;
	char a[TOTP_SECRET_CHARS + 1], b[TOTP_SECRET_CHARS + 1], code[7];
	totp_new_secret(a);
	totp_new_secret(b);
	assert_int_equal(strlen(a), TOTP_SECRET_CHARS);
	assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), TOTP_SECRET_CHARS);
	assert_string_not_equal(a, b);
	/* liboath reads it back: its codes verify. */
	int64_t step;
	assert_int_equal(totp_generate(a, 1700000000, 6, code), 0);
	assert_int_equal(totp_verify(a, code, 1700000000, 0, &step), TOTP_OK);
	char grouped[TOTP_SECRET_CHARS + TOTP_SECRET_CHARS / 4 + 1];
	totp_group("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", grouped);
	assert_string_equal(grouped, "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP");
}

static void otpauth_uri(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 4096);
	assert_int_equal(qr_otpauth_uri(&b, "Wyvern Vale GP Collective (fictional)",
	                                "dr.o'neill+gp@wyvern.example", "JBSWY3DPEHPK3PXP"),
	                 0);
	assert_string_equal(b.data,
	                    "otpauth://totp/Wyvern%20Vale%20GP%20Collective%20%28fictional%29:"
	                    "dr.o%27neill%2Bgp%40wyvern.example?secret=JBSWY3DPEHPK3PXP&"
	                    "issuer=Wyvern%20Vale%20GP%20Collective%20%28fictional%29&"
	                    "algorithm=SHA1&digits=6&period=30");
	buf_clear(&b);
	/* A colon, an ampersand or a question mark in a name cannot split a field. */
	assert_int_equal(qr_otpauth_uri(&b, "A&B: C?", "x@y.example", "AAAA"), 0);
	assert_string_equal(b.data, "otpauth://totp/A%26B%3A%20C%3F:x%40y.example?secret=AAAA&"
	                            "issuer=A%26B%3A%20C%3F&algorithm=SHA1&digits=6&period=30");
	buf_free(&b);
	/* A full cap says so. */
	buf_init(&b, 16);
	assert_int_equal(qr_otpauth_uri(&b, "Issuer", "account@example.org", "AAAA"), -1);
	buf_free(&b);
}

static void qr_code_svg(void **state)
{
	(void)state;
	struct buf b;
	struct safe_html html = {0};
	const char *uri = "otpauth://totp/Shoal:a%40b.example?secret=JBSWY3DPEHPK3PXP&issuer=Shoal";
	buf_init(&b, 64u << 10);
	assert_int_equal(qr_svg(uri, "QR code", 200, &b, &html), 0);
	assert_ptr_equal(html.html, b.data);
	assert_true(!strncmp(b.data, "<svg ", 5));
	assert_non_null(strstr(b.data, "role=\"img\" aria-label=\"QR code\""));
	assert_non_null(strstr(b.data, "width=\"200\" height=\"200\""));
	assert_non_null(strstr(b.data, "</svg>"));
	/* The picture holds only the matrix: none of the encoded text. */
	assert_null(strstr(b.data, "JBSWY3DP"));
	assert_null(strstr(b.data, "otpauth"));
	/* Only digits, path commands and fixed markup in the path data. */
	const char *d = strstr(b.data, " d=\"") + 4;
	size_t n = strcspn(d, "\"");
	assert_int_equal(strspn(d, "0123456789 Mhvz-"), n);
	buf_free(&b);
	/* Too long for any QR code: refused, not truncated. */
	char big[8000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	buf_init(&b, 64u << 10);
	assert_int_equal(qr_svg(big, "QR code", 200, &b, &html), -1);
	buf_free(&b);
}

static void recovery_codes(void **state)
{
	(void)state;
	char a[MFA_RECOVERY_CODE_CHARS + 4], b[MFA_RECOVERY_CODE_CHARS + 4];
	char plain[MFA_RECOVERY_CODE_CHARS + 1];
	mfa_recovery_code_new(a);
	mfa_recovery_code_new(b);
	assert_int_equal(strlen(a), 19);
	assert_true(a[4] == '-' && a[9] == '-' && a[14] == '-');
	assert_string_not_equal(a, b);
	assert_int_equal(mfa_recovery_code_normalise(a, plain), 0);
	assert_int_equal(strlen(plain), MFA_RECOVERY_CODE_CHARS);
	assert_null(strpbrk(plain, "ilo01-"));
	/* Typed in capitals, with spaces instead of hyphens: the same code. */
	assert_int_equal(mfa_recovery_code_normalise(" ABCD efgh JKMN-pqrs ", plain), 0);
	assert_string_equal(plain, "abcdefghjkmnpqrs");
	static const char *const bad[] = {"",
	                                  "abcd-efgh-jkmn",
	                                  "abcd-efgh-jkmn-pqrs-t",
	                                  "abcd-efgh-jkmn-pqr1",
	                                  "abcd-efgh-jkmn-pqr\xc3\xa9",
	                                  NULL};
	for (size_t i = 0; bad[i]; i++)
		assert_int_equal(mfa_recovery_code_normalise(bad[i], plain), -1);
	assert_int_equal(mfa_recovery_code_normalise(NULL, plain), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rfc6238_vectors),   cmocka_unit_test(window_of_one_step),
	    cmocka_unit_test(replay_is_refused), cmocka_unit_test(code_forms),
	    cmocka_unit_test(new_secrets),       cmocka_unit_test(otpauth_uri),
	    cmocka_unit_test(qr_code_svg),       cmocka_unit_test(recovery_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
