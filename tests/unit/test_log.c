/* SPDX-License-Identifier: ISC */
/* test_log.c - unit tests for log_esc: client text cannot forge fields. */
#include "config.h"

#include <string.h>

#include "log.h"
#include "test.h"
#include "banned.h"

static void
test_esc_plain(void)
{
	char	out[64];

	test_begin("log_esc keeps printable text");
	test_assert_streq(log_esc(out, sizeof(out), "mail.example", 12),
	    "mail.example");
	test_end();
}

static void
test_esc_specials(void)
{
	char	out[128];
	const char in[] = "a b=c\"d\\e\r\nf\x00g\xff";

	test_begin("log_esc escapes space, =, quote, backslash, CR, LF, NUL, 8-bit");
	log_esc(out, sizeof(out), in, sizeof(in) - 1);
	test_assert_streq(out,
	    "a\\x20b\\x3dc\\x22d\\x5ce\\x0d\\x0af\\x00g\\xff");
	test_assert(strchr(out, ' ') == NULL && strchr(out, '\n') == NULL);
	test_end();
}

static void
test_esc_truncate(void)
{
	char	out[16], in[100];

	test_begin("log_esc cuts long input and marks it");
	memset(in, 'a', sizeof(in));
	log_esc(out, sizeof(out), in, sizeof(in));
	test_assert(strlen(out) < sizeof(out));
	test_assert(strcmp(out + strlen(out) - 3, "...") == 0);
	memset(in, '\n', sizeof(in));
	log_esc(out, sizeof(out), in, sizeof(in));
	test_assert(strlen(out) < sizeof(out));
	test_assert(strstr(out, "\\x0a") == out);
	test_end();
}

static void
test_esc_exact_fit(void)
{
	char	out[12];

	test_begin("log_esc of an empty string");
	test_assert_streq(log_esc(out, sizeof(out), "", 0), "");
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = {
		test_esc_plain, test_esc_specials, test_esc_truncate,
		test_esc_exact_fit, NULL
	};

	return test_run(tests);
}
