/* SPDX-License-Identifier: ISC */
/*
 * test_smtp_data.c - the DATA/BDAT body reader: dot-unstuffing, the end
 * of DATA, pipelined bytes after it, every SMTP smuggling end-of-data
 * variant flagged, NUL, long lines, the size limit, BDAT chunks.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "smtp_data.h"
#include "test.h"
#include "banned.h"

struct out {
	unsigned char	buf[65536];
	size_t		len;
	int		fail;
};

static int
sink(void *arg, const void *p, size_t n)
{
	struct out	*o = arg;

	if (o->fail || o->len + n > sizeof(o->buf))
		return -1;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

/* Feed s as DATA; returns consumed, message in o. */
static size_t
data(const char *s, struct smtp_data *d, struct out *o, uint64_t max)
{
	size_t	n;

	memset(o, 0, sizeof(*o));
	smtp_data_init(d, true, max, sink, o);
	n = smtp_data_feed(d, (const unsigned char *)s, strlen(s));
	smtp_data_finish(d);
	return n;
}

static int
msg_is(const struct out *o, const char *s)
{
	return o->len == strlen(s) && memcmp(o->buf, s, o->len) == 0;
}

static void
test_plain(void)
{
	struct smtp_data	d;
	struct out		o;
	const char		*s = "Subject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n";

	test_begin("DATA: unstuffing, the end, pipelined bytes left over");
	test_assert(data(s, &d, &o, 1000) == strlen(s) - 6);
	test_assert(d.done && d.flags == 0);
	test_assert(msg_is(&o, "Subject: x\r\n\r\n.dot\r\n"));
	test_assert(data(".\r\n", &d, &o, 1000) == 3 && d.done &&
	    o.len == 0 && d.flags == 0);
	/* a line of only ".." is one "." */
	test_assert(data("a\r\n..\r\n.\r\n", &d, &o, 1000) == 10 && d.done &&
	    msg_is(&o, "a\r\n.\r\n"));
	/* not ended yet */
	test_assert(data("a\r\n.x", &d, &o, 1000) == 5 && !d.done);
	test_end();
}

static void
test_smuggling(void)
{
	static const char	*v[] = {
		"a\n.\nMAIL FROM:<x@y>\r\n.\r\n",	/* <LF>.<LF> */
		"a\r.\rMAIL FROM:<x@y>\r\n.\r\n",	/* <CR>.<CR> */
		"a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n",	/* <LF>.<CR><LF> */
		"a\r\n.\nMAIL FROM:<x@y>\r\n.\r\n",	/* <CR><LF>.<LF> */
		"a\r\n.\rMAIL FROM:<x@y>\r\n.\r\n",	/* <CR><LF>.<CR> */
		"a\r\rb\r\n.\r\n", "a\nb\r\n.\r\n", "\n.\r\nx\r\n.\r\n",
	};
	struct smtp_data	d;
	struct out		o;
	size_t			i, n;

	test_begin("DATA: no smuggling variant ends it early; all flagged");
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = data(v[i], &d, &o, 1000);
		test_assert(d.flags & (SMTP_DATA_BARE_LF | SMTP_DATA_BARE_CR));
		/* only the real CRLF.CRLF at the end ends it */
		test_assert(d.done && n == strlen(v[i]));
	}
	test_end();
}

static void
test_limits(void)
{
	struct smtp_data	d;
	struct out		o;
	char			line[1100];

	test_begin("DATA: NUL, a 999-byte line, the size limit, sink failure");
	memset(&o, 0, sizeof(o));
	smtp_data_init(&d, true, 1000, sink, &o);
	test_assert(smtp_data_feed(&d, (const unsigned char *)"a\0b\r\n.\r\n",
	    8) == 8 && d.done && d.flags == SMTP_DATA_NUL);
	memset(line, 'x', sizeof(line));
	memcpy(line + 998, "\r\n.\r\n", 6);
	test_assert(data(line, &d, &o, 5000) && d.flags == 0);
	memcpy(line + 999, "\r\n.\r\n", 6);
	line[998] = 'x';
	test_assert(data(line, &d, &o, 5000) &&
	    d.flags == SMTP_DATA_LONG_LINE);
	test_assert(data("0123456789\r\n.\r\n", &d, &o, 5) && d.done &&
	    d.flags == SMTP_DATA_TOO_BIG && d.size == 5 && d.seen == 12 &&
	    o.len == 5);
	memset(&o, 0, sizeof(o));
	o.fail = 1;
	smtp_data_init(&d, true, 1000, sink, &o);
	(void)smtp_data_feed(&d, (const unsigned char *)"a\r\n.\r\n", 6);
	test_assert(d.done && d.flags == SMTP_DATA_SINK);
	test_end();
}

static void
test_bdat(void)
{
	struct smtp_data	d;
	struct out		o;

	test_begin("BDAT: chunks join, no dot rules, the last line ends");
	memset(&o, 0, sizeof(o));
	smtp_data_init(&d, false, 1000, sink, &o);
	test_assert(smtp_data_feed(&d, (const unsigned char *)"a\r", 2) == 2);
	test_assert(smtp_data_feed(&d, (const unsigned char *)"\n.\r\n.x\r\n",
	    8) == 8);
	smtp_data_finish(&d);
	test_assert(!d.done && d.flags == 0 && msg_is(&o, "a\r\n.\r\n.x\r\n"));
	memset(&o, 0, sizeof(o));
	smtp_data_init(&d, false, 1000, sink, &o);
	(void)smtp_data_feed(&d, (const unsigned char *)"abc", 3);
	smtp_data_finish(&d);
	test_assert(d.flags == SMTP_DATA_UNENDED);
	memset(&o, 0, sizeof(o));
	smtp_data_init(&d, false, 1000, sink, &o);
	(void)smtp_data_feed(&d, (const unsigned char *)"abc\r", 4);
	smtp_data_finish(&d);
	test_assert(d.flags & SMTP_DATA_BARE_CR);
	memset(&o, 0, sizeof(o));
	smtp_data_init(&d, false, 1000, sink, &o);
	smtp_data_finish(&d);
	test_assert(d.flags == 0 && o.len == 0);	/* an empty message */
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = {
		test_plain, test_smuggling, test_limits, test_bdat, NULL
	};

	return test_run(tests);
}
