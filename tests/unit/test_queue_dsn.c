/* SPDX-License-Identifier: ISC */
/*
 * test_queue_dsn.c - delivery status notifications (queue/queue_dsn.c):
 * the whole text of a failure report, line by line; a delay warning;
 * RET=FULL and its fall back to the header for an original with a line
 * too long; hostile values (a remote's reply with CR LF and escape
 * bytes, a bad status, host or ORCPT) reduced or left out; no report to
 * the null sender or to an address that could inject header fields; the
 * boundary found in the original refused; every line CR LF, <= 998.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "queue_dsn.h"
#include "test.h"
#include "banned.h"

static const char	msg[] = "Received: from x\r\nFrom: a@example.test\r\n"
    "Subject: hello\r\n\r\nthe body\r\n";

static void
dsn_base(struct dsn_in *in, struct dsn_rcpt *r, size_t n)
{
	memset(in, 0, sizeof(*in));
	in->reporting_mta = "mail.example.test";
	in->sender = "a@example.test";
	in->envid = "ENV1";
	in->arrival = 1795766400;	/* Fri, 27 Nov 2026 08:00:00 */
	in->now = 1795770000;
	in->rcpts = r;
	in->nrcpts = n;
	in->msg = (const unsigned char *)msg;
	in->msglen = sizeof(msg) - 1;
	in->boundary = "0123456789abcdefXYZ";
}

/* Every line ends in CR LF, none is longer than 998, no NUL. */
static int
lines_ok(const struct buf *b)
{
	size_t	i, ll = 0;

	for (i = 0; i < b->len; i++) {
		if (b->data[i] == '\0')
			return 0;
		if (b->data[i] == '\r') {
			if (i + 1 >= b->len || b->data[i + 1] != '\n')
				return 0;
			i++;
			ll = 0;
			continue;
		}
		if (b->data[i] == '\n' || ++ll > 998)
			return 0;
	}
	return b->len >= 2 && b->data[b->len - 1] == '\n';
}

static void
test_failed(void)
{
	struct dsn_rcpt	 r[2] = {
		{ "b@remote.test", "rfc822;b@remote.test", DSN_FAILED, "5.1.1",
		    "mx.remote.test", "550 5.1.1 no such user" },
		{ "c@remote.test", "", DSN_FAILED, "4.4.7", "", "" } };
	struct dsn_in	 in;
	struct buf	*b = buf_new(1 << 20);
	char		 err[128];

	test_begin("a failure report, line by line");
	dsn_base(&in, r, 2);
	test_assert(dsn_build(&in, b, err, sizeof(err)) == 0);
	test_assert(lines_ok(b));
	test_assert_streq(buf_cstr(b),
	    "From: Mail Delivery System <MAILER-DAEMON@mail.example.test>\r\n"
	    "To: <a@example.test>\r\n"
	    "Subject: Undelivered Mail Returned to Sender\r\n"
	    "Date: Fri, 27 Nov 2026 09:00:00 +0000\r\n"
	    "Message-ID: <0123456789abcdefXYZ.dsn@mail.example.test>\r\n"
	    "Auto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"0123456789abcdefXYZ\"\r\n\r\n"
	    "This is a MIME-encapsulated delivery status notification.\r\n\r\n"
	    "--0123456789abcdefXYZ\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Description: Notification\r\n\r\n"
	    "This is the mail system at mail.example.test.\r\n\r\n"
	    "Your message could not be delivered to the recipients below, "
	    "and\r\nthe mail system has given up. Its header is attached."
	    "\r\n\r\n"
	    "<b@remote.test>: failed\r\n"
	    "    mx.remote.test said: 550 5.1.1 no such user\r\n"
	    "<c@remote.test>: failed\r\n"
	    "\r\n--0123456789abcdefXYZ\r\n"
	    "Content-Type: message/delivery-status\r\n"
	    "Content-Description: Delivery report\r\n\r\n"
	    "Reporting-MTA: dns; mail.example.test\r\n"
	    "Original-Envelope-Id: ENV1\r\n"
	    "Arrival-Date: Fri, 27 Nov 2026 08:00:00 +0000\r\n"
	    "\r\nFinal-Recipient: rfc822; b@remote.test\r\n"
	    "Original-Recipient: rfc822;b@remote.test\r\n"
	    "Action: failed\r\nStatus: 5.1.1\r\n"
	    "Remote-MTA: dns; mx.remote.test\r\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
	    "\r\nFinal-Recipient: rfc822; c@remote.test\r\n"
	    "Action: failed\r\nStatus: 4.4.7\r\n"
	    "\r\n--0123456789abcdefXYZ\r\n"
	    "Content-Type: text/rfc822-headers\r\n"
	    "Content-Description: Undelivered Message Headers\r\n\r\n"
	    "Received: from x\r\nFrom: a@example.test\r\nSubject: hello\r\n"
	    "\r\n--0123456789abcdefXYZ--\r\n");
	buf_free(&b);
	test_end();
}

static void
test_delayed_full(void)
{
	struct dsn_rcpt	 r = { "b@remote.test", "", DSN_DELAYED, "5.1.1",
			    "", "" };
	struct dsn_in	 in;
	struct buf	*b = buf_new(1 << 20);
	char		 err[128], *longmsg;

	test_begin("a delay warning; RET=FULL; a line too long");
	dsn_base(&in, &r, 1);
	in.ret_full = 1;
	test_assert(dsn_build(&in, b, err, sizeof(err)) == 0 && lines_ok(b));
	test_assert(strstr(buf_cstr(b), "Subject: Delayed Mail (still being "
	    "retried)\r\n") != NULL);
	test_assert(strstr(buf_cstr(b), "Action: delayed\r\nStatus: 4.0.0\r\n")
	    != NULL);	/* a 5.x.x status does not go with delayed */
	test_assert(strstr(buf_cstr(b), "Content-Type: message/rfc822\r\n"
	    "Content-Description: Undelivered Message\r\n\r\n"
	    "Received: from x\r\nFrom: a@example.test\r\nSubject: hello\r\n"
	    "\r\nthe body\r\n\r\n--0123456789abcdefXYZ--\r\n") != NULL);
	/* a body line of 2000 octets: not sendable as it is, the header */
	longmsg = malloc(3000);
	memcpy(longmsg, "Subject: x\r\n\r\n", 14);
	memset(longmsg + 14, 'y', 2000);
	memcpy(longmsg + 2014, "\r\n", 2);
	in.msg = (const unsigned char *)longmsg;
	in.msglen = 2016;
	buf_reset(b);
	test_assert(dsn_build(&in, b, err, sizeof(err)) == 0 && lines_ok(b));
	test_assert(strstr(buf_cstr(b), "Content-Type: text/rfc822-headers"
	    "\r\n") != NULL && strstr(buf_cstr(b), "yyy") == NULL);
	/* a header line of 2000 octets: cut at 998 */
	memcpy(longmsg, "Subject: ", 9);
	memset(longmsg + 9, 'z', 2000);
	memcpy(longmsg + 2009, "\r\n\r\nbody\r\n", 10);
	in.msglen = 2019;
	buf_reset(b);
	test_assert(dsn_build(&in, b, err, sizeof(err)) == 0 && lines_ok(b));
	free(longmsg);
	buf_free(&b);
	test_end();
}

static void
test_hostile(void)
{
	struct dsn_rcpt	 r = { "b@remote.test", "rfc822;b\x1b[31m", DSN_FAILED,
			    "5.1.1\r\nBcc: x@evil.test", "mx\r\nX: y",
			    "550 ok\r\nBcc: x@evil.test\x1b[2J" };
	struct dsn_in	 in;
	struct buf	*b = buf_new(1 << 20);
	char		 err[128], bad[32];
	const char	*s;

	test_begin("hostile values reduced or left out; refusals");
	dsn_base(&in, &r, 1);
	in.envid = "has space";
	test_assert(dsn_build(&in, b, err, sizeof(err)) == 0 && lines_ok(b));
	s = buf_cstr(b);
	test_assert(strstr(s, "\r\nBcc:") == NULL && strchr(s, 0x1b) == NULL);
	test_assert(strstr(s, "Status: 5.0.0\r\n") != NULL);
	test_assert(strstr(s, "Remote-MTA") == NULL);
	test_assert(strstr(s, "Original-Envelope-Id") == NULL);
	test_assert(strstr(s, "Diagnostic-Code: smtp; 550 ok??Bcc: "
	    "x@evil.test?[2J\r\n") != NULL);
	test_assert(strstr(s, "Original-Recipient: rfc822;b?[31m\r\n") != NULL);
	/* never to the null sender; no header injection through the sender */
	in.sender = "";
	test_assert(dsn_build(&in, b, err, sizeof(err)) == -1);
	test_assert_streq(err, "no notification to the null sender");
	in.sender = "a@b>\r\nBcc: c@d";
	test_assert(dsn_build(&in, b, err, sizeof(err)) == -1);
	in.sender = "a@example.test";
	in.nrcpts = 0;
	test_assert(dsn_build(&in, b, err, sizeof(err)) == -1);
	in.nrcpts = 1;
	in.boundary = "short";
	test_assert(dsn_build(&in, b, err, sizeof(err)) == -1);
	/* the boundary in the original: refused, the caller draws again */
	in.boundary = "0123456789abcdefXYZ";
	snprintf(bad, sizeof(bad), "X: --%s\r\n\r\n", in.boundary);
	in.msg = (const unsigned char *)bad;
	in.msglen = strlen(bad);
	test_assert(dsn_build(&in, b, err, sizeof(err)) == -1);
	/* too small an output buffer: refused, not cut */
	buf_free(&b);
	b = buf_new(512);
	in.msg = (const unsigned char *)msg;
	in.msglen = sizeof(msg) - 1;
	test_assert(dsn_build(&in, b, err, sizeof(err)) == -1);
	test_assert_streq(err, "the notification is too large");
	buf_free(&b);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = { test_failed, test_delayed_full,
	    test_hostile, NULL };

	return test_run(tests);
}
