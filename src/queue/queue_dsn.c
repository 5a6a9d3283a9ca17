/* SPDX-License-Identifier: ISC */
/*
 * queue_dsn.c - delivery status notifications (queue_dsn.h): RFC 3464
 * fields in an RFC 6522 multipart/report, RFC 3834's Auto-Submitted.
 *
 * Process:  queue (the outbound issue), and the tests.
 * Trust:    the envelope was checked when the message was taken, but the
 *           remote's reply and the original message are anyone's: every
 *           value is checked or reduced to printable ASCII before it goes
 *           into a header field, and every line written is CR LF and at
 *           most 998 octets (RFC 5322 2.1.1), whatever the original held.
 * Limits:   DSN_FULL_MAX, DSN_HEADERS_MAX, DSN_DIAG_MAX, DSN_RCPTS_MAX.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "queue_dsn.h"
#include "banned.h"

#define LINE_MAX_OCTETS	998

/* Printable ASCII, no space, at most max bytes, not empty. */
static int
dsn_token_ok(const char *s, size_t max)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return 1;
}

/* An address we may write: ASCII, an '@' inside, no <, > or quote... */
static int
dsn_addr_ok(const char *s)
{
	const char	*at;

	if (!dsn_token_ok(s, 254) || strpbrk(s, "<>()[]\\,;:\"") != NULL)
		return 0;
	at = strrchr(s, '@');
	return at != NULL && at != s && at[1] != '\0';
}

/* A host name or an address literal. */
static int
dsn_host_ok(const char *s)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > 255)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr(".-[]:", s[i]) !=
		    NULL))
			return 0;
	return 1;
}

/* RFC 3463: class 2, 4 or 5, then 1-3 and 1-3 digits. */
static int
dsn_status_ok(const char *s)
{
	size_t	i = 2, part, d;

	if (s == NULL || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    s[1] != '.')
		return 0;
	for (part = 0; part < 2; part++) {
		for (d = 0; s[i] >= '0' && s[i] <= '9' && d < 3; i++)
			d++;
		if (d == 0)
			return 0;
		if (part == 0 && s[i++] != '.')
			return 0;
	}
	return s[i] == '\0';
}

static int
dsn_boundary_ok(const char *b)
{
	size_t	i, n = strlen(b);

	if (n < 16 || n > 60)
		return 0;
	for (i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') ||
		    (b[i] >= 'A' && b[i] <= 'Z') ||
		    (b[i] >= '0' && b[i] <= '9')))
			return 0;
	return 1;
}

static void
dsn_date(int64_t t, char *buf, size_t len)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		(void)snprintf(buf, len, "Thu, 01 Jan 1970 00:00:00 +0000");
}

/* n bytes of text, printable ASCII only ('?' for the rest), appended. */
static void
dsn_printable(struct buf *out, const char *p, size_t n)
{
	size_t	i;
	char	c;

	for (i = 0; i < n; i++) {
		c = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
		(void)buf_add(out, &c, 1);
	}
}

/*
 * The original's bytes p..p+n as lines: every line end (CR LF, a lone CR
 * or LF) made CR LF, a NUL made '?', a line past 998 octets cut there
 * when cut is set, else -1 (nothing is kept of a message that cannot go
 * as it is).  A last line without an end gets one.  *eight: an octet
 * past 0x7f was seen.
 */
static int
dsn_lines(struct buf *out, const unsigned char *p, size_t n, int cut,
    int *eight)
{
	size_t	i, ll = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' || p[i] == '\n') {
			if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
				i++;
			(void)buf_add(out, "\r\n", 2);
			ll = 0;
			continue;
		}
		if (ll >= LINE_MAX_OCTETS) {
			if (!cut)
				return -1;
			continue;	/* the rest of a long line dropped */
		}
		if (p[i] >= 0x80)
			*eight = 1;
		(void)buf_add(out, p[i] == '\0' ? (const void *)"?" :
		    (const void *)&p[i], 1);
		ll++;
	}
	if (n > 0 && p[n - 1] != '\n' && p[n - 1] != '\r')
		(void)buf_add(out, "\r\n", 2);
	return 0;
}

/* The header section: up to and without the empty line. */
static size_t
dsn_header_len(const unsigned char *m, size_t n)
{
	size_t	i;

	for (i = 0; i + 1 < n; i++) {
		if (m[i] == '\n' && (m[i + 1] == '\n' || (m[i + 1] == '\r' &&
		    i + 2 < n && m[i + 2] == '\n')))
			return i + 1;
	}
	return n;
}

/* Does the boundary line "--b" occur in p (n bytes)? */
static int
dsn_has_boundary(const unsigned char *p, size_t n, const char *b)
{
	size_t	bl = strlen(b), i;

	for (i = 0; i + 2 + bl <= n; i++)
		if (p[i] == '-' && p[i + 1] == '-' &&
		    memcmp(p + i + 2, b, bl) == 0)
			return 1;
	return 0;
}

int
dsn_build(const struct dsn_in *in, struct buf *out, char *err, size_t errlen)
{
	const struct dsn_rcpt	*r;
	struct buf		*part;
	char			 date[64], adate[64];
	size_t			 i, hlen, dl;
	int			 eight = 0, full, failed = 0, delayed = 0;

	if (in->sender == NULL || in->sender[0] == '\0') {
		snprintf(err, errlen, "no notification to the null sender");
		return -1;
	}
	if (!dsn_addr_ok(in->sender)) {
		snprintf(err, errlen, "the sender is not an address a "
		    "notification can go to");
		return -1;
	}
	if (in->nrcpts == 0 || in->nrcpts > DSN_RCPTS_MAX) {
		snprintf(err, errlen, "no recipient to report on");
		return -1;
	}
	if (!dsn_host_ok(in->reporting_mta) ||
	    !dsn_boundary_ok(in->boundary)) {
		snprintf(err, errlen, "a bad host name or boundary");
		return -1;
	}
	for (i = 0; i < in->nrcpts; i++) {
		if (in->rcpts[i].action == DSN_DELAYED)
			delayed++;
		else
			failed++;
	}
	hlen = dsn_header_len(in->msg, in->msglen);
	full = in->ret_full && in->msglen <= DSN_FULL_MAX;
	if (hlen > DSN_HEADERS_MAX)
		hlen = DSN_HEADERS_MAX;

	/* what goes inside: the original, so that the boundary is checked */
	part = buf_new(DSN_FULL_MAX * 2 + 4096);
	if (full && dsn_lines(part, in->msg, in->msglen, 0, &eight) == -1) {
		buf_reset(part);	/* a line too long: the header only */
		full = 0;
		eight = 0;
	}
	if (!full)
		(void)dsn_lines(part, in->msg, hlen, 1, &eight);
	if (dsn_has_boundary((const unsigned char *)part->data, part->len,
	    in->boundary)) {
		buf_free(&part);
		snprintf(err, errlen, "the boundary occurs in the original: "
		    "draw another");
		return -1;
	}

	/*
	 * Room for all of it, counted before a byte is written: every
	 * buf_add below then succeeds (a buffer never grows past its max).
	 */
	if (out->max - out->len < part->len + 4096 + in->nrcpts *
	    (2 * 256 + 500 + 2 * (DSN_DIAG_MAX + 300) + 200)) {
		buf_free(&part);
		snprintf(err, errlen, "the notification is too large");
		return -1;
	}
	dsn_date(in->now, date, sizeof(date));
	dsn_date(in->arrival, adate, sizeof(adate));
	(void)buf_addf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
	    "To: <%s>\r\nSubject: %s\r\nDate: %s\r\n"
	    "Message-ID: <%s.dsn@%s>\r\nAuto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: multipart/report; "
	    "report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n\r\n"
	    "This is a MIME-encapsulated delivery status notification.\r\n\r\n",
	    in->reporting_mta, in->sender, failed > 0 ? "Undelivered Mail "
	    "Returned to Sender" : "Delayed Mail (still being retried)", date,
	    in->boundary, in->reporting_mta, in->boundary);

	/* for people */
	(void)buf_addf(out, "--%s\r\nContent-Type: text/plain; "
	    "charset=us-ascii\r\nContent-Description: Notification\r\n\r\n"
	    "This is the mail system at %s.\r\n\r\n", in->boundary,
	    in->reporting_mta);
	if (failed > 0)
		(void)buf_addf(out, "Your message could not be delivered to "
		    "the recipients below, and\r\nthe mail system has given "
		    "up. Its %s is attached.\r\n\r\n", full ? "text" :
		    "header");
	if (delayed > 0)
		(void)buf_addf(out, "Your message has not yet been delivered "
		    "to the recipients below.\r\nThe mail system keeps "
		    "trying; you need not send it again.\r\n\r\n");
	for (i = 0; i < in->nrcpts; i++) {
		r = &in->rcpts[i];
		(void)buf_add(out, "<", 1);
		dsn_printable(out, r->addr, strlen(r->addr) > 254 ? 254 :
		    strlen(r->addr));
		(void)buf_addf(out, ">: %s\r\n", r->action == DSN_DELAYED ?
		    "delayed" : "failed");
		if (r->diag != NULL && r->diag[0] != '\0') {
			dl = strlen(r->diag);
			(void)buf_add(out, "    ", 4);
			if (r->remote_mta != NULL && dsn_host_ok(r->remote_mta))
				(void)buf_addf(out, "%s said: ", r->remote_mta);
			dsn_printable(out, r->diag, dl > DSN_DIAG_MAX ?
			    DSN_DIAG_MAX : dl);
			(void)buf_add(out, "\r\n", 2);
		}
	}

	/* for programs: RFC 3464 */
	(void)buf_addf(out, "\r\n--%s\r\nContent-Type: message/delivery-status"
	    "\r\nContent-Description: Delivery report\r\n\r\n"
	    "Reporting-MTA: dns; %s\r\n", in->boundary, in->reporting_mta);
	if (in->envid != NULL && dsn_token_ok(in->envid, 100))
		(void)buf_addf(out, "Original-Envelope-Id: %s\r\n", in->envid);
	(void)buf_addf(out, "Arrival-Date: %s\r\n", adate);
	for (i = 0; i < in->nrcpts; i++) {
		r = &in->rcpts[i];
		(void)buf_addf(out, "\r\nFinal-Recipient: rfc822; ");
		dsn_printable(out, r->addr, strlen(r->addr) > 254 ? 254 :
		    strlen(r->addr));
		(void)buf_add(out, "\r\n", 2);
		if (r->orcpt != NULL && r->orcpt[0] != '\0' &&
		    strchr(r->orcpt, ';') != NULL &&
		    strlen(r->orcpt) <= 500) {
			(void)buf_addf(out, "Original-Recipient: ");
			dsn_printable(out, r->orcpt, strlen(r->orcpt));
			(void)buf_add(out, "\r\n", 2);
		}
		/* failed: 5.x.x, or 4.x.x (given up after temporary
		 * failures, as 4.4.7); delayed: 4.x.x */
		(void)buf_addf(out, "Action: %s\r\nStatus: %s\r\n",
		    r->action == DSN_DELAYED ? "delayed" : "failed",
		    dsn_status_ok(r->status) && (r->status[0] == '4' ||
		    (r->status[0] == '5' && r->action == DSN_FAILED)) ?
		    r->status : r->action == DSN_DELAYED ? "4.0.0" : "5.0.0");
		if (r->remote_mta != NULL && dsn_host_ok(r->remote_mta))
			(void)buf_addf(out, "Remote-MTA: dns; %s\r\n",
			    r->remote_mta);
		if (r->diag != NULL && r->diag[0] != '\0') {
			dl = strlen(r->diag);
			(void)buf_addf(out, "Diagnostic-Code: smtp; ");
			dsn_printable(out, r->diag, dl > DSN_DIAG_MAX ?
			    DSN_DIAG_MAX : dl);
			(void)buf_add(out, "\r\n", 2);
		}
	}

	/* the original: its header, or all of it (RET=FULL) */
	(void)buf_addf(out, "\r\n--%s\r\nContent-Type: %s\r\n"
	    "Content-Description: %s\r\n%s\r\n", in->boundary,
	    full ? "message/rfc822" : "text/rfc822-headers", full ?
	    "Undelivered Message" : "Undelivered Message Headers",
	    eight ? "Content-Transfer-Encoding: 8bit\r\n" : "");
	(void)buf_add(out, part->data, part->len);
	buf_free(&part);
	(void)buf_addf(out, "\r\n--%s--\r\n", in->boundary);
	return 0;
}
