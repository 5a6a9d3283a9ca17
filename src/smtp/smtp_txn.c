/* SPDX-License-Identifier: ISC */
/*
 * smtp_txn.c - an SMTP transaction once its data is in: our Received:
 * header first, the body into a memfd, the checks of what was read, the
 * filter's verdict, then durable delivery to every local recipient, and
 * the one reply.  250 is said only when every recipient's copy is on
 * disk (deliver fsynced it and acknowledged); anything else is one 4xx
 * or 5xx for the whole transaction.
 *
 * Process:  smtp session (unprivileged, sandboxed; it holds no key and
 *           never sees users.db: auth answers for accounts and quota,
 *           deliver seals and writes).
 * Trust:    the message is the client's; it is only copied, never parsed
 *           here (the filter looks at it, in its own process).
 * See also: smtp.c, smtp_data.c, filter/filter.c, deliver/deliver.c.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "buf.h"
#include "ipc.h"
#include "ipc_types.h"
#include "ipc_deliver.h"
#include "memfd.h"
#include "xmalloc.h"
#include "tls.h"
#include "smtp.h"
#include "banned.h"

static int
smtp_sink(void *arg, const void *p, size_t n)
{
	struct smtp	*sm = arg;

	return memfd_append(sm->msgfd, p, n);
}

bool
smtp_local_domain(const struct smtp *sm, const char *domain)
{
	const char	*p = sm->domains, *comma;
	size_t		 len = strlen(domain), n;

	while (p != NULL && *p != '\0') {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (n == len && strncasecmp(p, domain, n) == 0)
			return true;
		p = comma != NULL ? comma + 1 : NULL;
	}
	return false;
}

/*
 * RFC 5321 4.4, with the protocol names of RFC 3848 and RFC 6531 and the
 * TLS version and cipher.  The client's HELO name was checked (a Domain
 * or an address literal), and addresses by the parser: no CR, LF or
 * control character reaches the header.
 */
static int
smtp_received(struct smtp *sm, struct buf *b)
{
	struct session	*s = sm->s;
	char		 date[64];
	struct tm	 tm;
	time_t		 now = time(NULL);
	bool		 tls = s->io.tls != NULL;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000",
	    &tm) == 0)
		return -1;
	(void)buf_addf(b, "Received:");
	if (sm->pickup_from != NULL)
		(void)buf_addf(b, " from local (uid %s)\r\n\t", sm->pickup_uid);
	else if (!(sm->authed && sm->hide_client))
		(void)buf_addf(b, " from %s (%s%s%s)\r\n\t",
		    sm->helo[0] != '\0' ? sm->helo : "unknown",
		    s->client_v6 ? "[IPv6:" : "[", s->client, "]");
	else
		(void)buf_addf(b, " ");
	(void)buf_addf(b, "by %s (sealpost) with %s%s%s%s id %016" PRIx64
	    ".%u\r\n\t", s->hostname, sm->mail.smtputf8 ? "UTF8" : "",
	    sm->esmtp ? (sm->mail.smtputf8 ? "SMTP" : "ESMTP") : "SMTP",
	    sm->esmtp && tls ? "S" : "", sm->esmtp && sm->authed ? "A" : "",
	    s->id, sm->txns);
	if (tls)
		(void)buf_addf(b, "(using %s with cipher %s)\r\n\t",
		    tls_version(s->io.tls), tls_cipher(s->io.tls));
	if (sm->nrcpts == 1)
		(void)buf_addf(b, "for <%s>; ", sm->rcpts[0].addr);
	return buf_addf(b, "%s\r\n", date);
}

int
smtp_txn_begin(struct smtp *sm, bool bdat)
{
	struct buf	*b;
	int		 ret = -1;

	if ((sm->msgfd = memfd_new("message")) == -1)
		return -1;
	b = buf_new(8192);
	if (smtp_received(sm, b) != -1 &&
	    memfd_append(sm->msgfd, b->data, b->len) == 0)
		ret = 0;
	sm->added_lines = 0;
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '\n')
			sm->added_lines++;
	buf_free(&b);
	smtp_data_init(&sm->data, !bdat, sm->max_size, smtp_sink, sm);
	return ret;
}

void
smtp_txn_reset(struct smtp *sm)
{
	if (sm->msgfd != -1)
		close(sm->msgfd);
	sm->msgfd = -1;
	sm->junk = false;
	sm->autocrypt = false;
	sm->group[0] = '\0';
	sm->rcpt_max = 0;
	memset(&sm->mail, 0, sizeof(sm->mail));
	sm->nrcpts = 0;
	if (sm->state == SMTP_S_MAIL || sm->state == SMTP_S_BDAT)
		sm->state = SMTP_S_READY;
}

/* What the data reader saw that makes the message unacceptable. */
static const char *
smtp_data_refusal(const struct smtp_data *d)
{
	if (d->flags & SMTP_DATA_TOO_BIG)
		return "552 5.3.4 Message size exceeds fixed maximum message "
		    "size";
	if (d->flags & SMTP_DATA_SINK)
		return "451 4.3.0 Cannot store the message now, try again "
		    "later";
	if (d->flags & SMTP_DATA_NUL)
		return "554 5.6.0 Message contains NUL bytes";
	if (d->flags & (SMTP_DATA_BARE_CR | SMTP_DATA_BARE_LF))
		return "554 5.6.0 Message contains a bare CR or LF (RFC 5321 "
		    "2.3.8)";
	if (d->flags & SMTP_DATA_LONG_LINE)
		return "554 5.6.0 Message has a line longer than 1000 octets "
		    "(RFC 5321 4.5.3.1.6)";
	if (d->flags & SMTP_DATA_UNENDED)
		return "554 5.6.0 Message does not end with CRLF";
	return NULL;
}

/* A copy of the message fd for one IPC send (which closes what it sends). */
static int
smtp_msgfd(struct smtp *sm)
{
	return fcntl(sm->msgfd, F_DUPFD_CLOEXEC, 0);
}

/*
 * Header lines from the filter (trusted, but they go into stored mail,
 * SECURITY-TESTS T55): each "Name: value" of printable ASCII, tabs and
 * spaces, ending in CR LF, folded lines starting with a space or tab.
 */
static int
smtp_filter_headers_ok(const char *h)
{
	const char	*p;
	int		 bol = 1;

	for (p = h; *p != '\0'; p++) {
		if (*p == '\r') {
			if (p[1] != '\n')
				return -1;
			p++;
			bol = 1;
			continue;
		}
		if (bol && p == h && (*p == ' ' || *p == '\t'))
			return -1;	/* no continuation of our Received */
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return -1;
		if ((unsigned char)*p >= 0x7f)
			return -1;
		bol = 0;
	}
	return p == h || (p - h >= 2 && p[-1] == '\n') ? 0 : -1;
}

/* The message with the filter's header lines on top: a new sealed memfd. */
static int
smtp_prepend(struct smtp *sm, const char *hdrs)
{
	unsigned char	*buf;
	off_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = memfd_new("message")) == -1)
		return -1;
	if (memfd_append(fd, hdrs, strlen(hdrs)) == -1) {
		close(fd);
		return -1;
	}
	buf = xmalloc(65536);
	while ((n = pread(sm->msgfd, buf, 65536, off)) > 0) {
		if (memfd_append(fd, buf, (size_t)n) == -1)
			break;
		off += n;
	}
	free(buf);
	if (n != 0 || memfd_seal(fd) == -1) {
		close(fd);
		return -1;
	}
	close(sm->msgfd);
	sm->msgfd = fd;
	return 0;
}

/* What the filter said besides accept (smtp_filter's 1). */
struct smtp_held {
	char	reason[160];		/* "virus NAME" */
	char	refusal[256];		/* "554 5.7.1 ..." */
};

/*
 * The filter's verdict: 0 accept, 1 quarantine (held filled in), else
 * the reply was sent.
 */
static int
smtp_filter(struct smtp *sm, struct smtp_held *held)
{
	static struct ipc_msg	 reply;
	struct ipc_out		*out;
	const char		*text, *hdrs, *reason;
	char			 qid[40];
	uint32_t		 verdict, flags, i;
	int			 fd;

	if ((fd = smtp_msgfd(sm)) == -1) {
		session_reply(sm->s, "451 4.3.0 Local error, try again "
		    "later\r\n");
		return -1;
	}
	out = ipc_out_new(IMSG_FILTER_CHECK, 0, fd);
	ipc_add_str(out, sm->mail.addr);
	ipc_add_u32(out, sm->added_lines);
	ipc_add_u32(out, sm->authed);
	/*
	 * Whose policy decides the one reply to DATA: on a submission the
	 * sender's (DESIGN.md); from the Internet the first recipient's.
	 */
	ipc_add_str(out, sm->authed || sm->nrcpts == 0 ? "" :
	    sm->rcpts[0].addr);
	ipc_add_str(out, sm->helo);
	(void)snprintf(qid, sizeof(qid), "%016" PRIx64 ".%u", sm->s->id,
	    sm->txns);
	ipc_add_str(out, qid);
	ipc_add_u32(out, sm->nrcpts);
	for (i = 0; i < sm->nrcpts; i++)
		ipc_add_str(out, sm->rcpts[i].addr);
	if (session_call(sm->s, SVC_FILTER, out, &reply) == -1 ||
	    ipc_get_u32(&reply, &verdict) == -1 ||
	    ipc_get_str(&reply, &text, 256) == -1 ||
	    ipc_get_str(&reply, &hdrs, SMTP_FILTER_HEADERS_MAX) == -1 ||
	    ipc_get_u32(&reply, &flags) == -1 ||
	    ipc_get_str(&reply, &reason, sizeof(held->reason) - 1) == -1 ||
	    ipc_end(&reply) == -1 || verdict > FILTER_QUARANTINE ||
	    smtp_filter_headers_ok(hdrs) == -1 || (verdict ==
	    FILTER_QUARANTINE && (text[0] != '5' || reason[0] == '\0'))) {
		session_reply(sm->s, "451 4.3.0 Message filter unavailable, "
		    "try again later\r\n");
		return -1;
	}
	if (verdict == FILTER_ACCEPT) {
		if (hdrs[0] != '\0' && smtp_prepend(sm, hdrs) == -1) {
			session_reply(sm->s, "451 4.3.0 Local error, try "
			    "again later\r\n");
			return -1;
		}
		sm->junk = (flags & FILTER_F_JUNK) != 0;
		sm->autocrypt = (flags & FILTER_F_AUTOCRYPT) != 0;
		return 0;
	}
	if (verdict == FILTER_QUARANTINE) {
		strlcpy(held->reason, reason, sizeof(held->reason));
		strlcpy(held->refusal, text, sizeof(held->refusal));
		return 1;
	}
	/* the filter's own reply: "5xx x.y.z text" or "4xx ..." */
	if ((verdict == FILTER_REJECT && text[0] != '5') ||
	    (verdict == FILTER_TEMP && text[0] != '4') || strlen(text) < 10)
		text = verdict == FILTER_REJECT ? "554 5.7.0 Message refused" :
		    "451 4.7.1 Message deferred";
	session_reply(sm->s, "%s\r\n", text);
	return -1;
}

/* Reserve or give back quota: 1 ok, 0 over quota, -1 auth is gone. */
static int
smtp_quota(struct smtp *sm, uint64_t account, uint64_t bytes, int release)
{
	static struct ipc_msg	 reply;
	uint32_t		 ok;

	if (session_call(sm->s, SVC_AUTH, ipc_auth_quota_req(0, account,
	    bytes, release), &reply) == -1 ||
	    ipc_auth_quota_reply(&reply, &ok) == -1)
		return -1;
	return ok ? 1 : 0;
}

/* an encrypted copy: the message, armored (4/3) and wrapped */
#define SMTP_COPY_MAX		((size_t)256 * 1024 * 1024)

/* deliver is not there (restarting): not the same as a full disk */
#define SMTP_DELIVER_LOST	100

/*
 * The copy for recipient r: encrypted to its OpenPGP key when it has a
 * usable one and its policy is not "pgp never" (the pgp service), signed
 * with the organization's key too under "sign yes" (signed only when it
 * is not encrypted), else the message as it is.  *encrypted: a copy of
 * its own (encrypted or signed).  NULL with the copy in *fd_r (the
 * caller's), or the reply of the failure: plaintext never goes out in
 * place of a copy that should be encrypted ("pgp required" whose key
 * went away since RCPT, gpg failing).
 */
static const char *
smtp_copy(struct smtp *sm, const struct smtp_rcpt_ent *r, int *fd_r,
    bool *encrypted)
{
	static struct ipc_msg	 reply;
	struct ipc_out		*out;
	const char		*detail;
	uint32_t		 result;
	size_t			 len;
	int			 fd;

	*fd_r = -1;
	*encrypted = false;
	if ((fd = smtp_msgfd(sm)) == -1)
		return "451 4.3.0 Local error, try again later";
	if (r->pgp == SMTP_PGP_NEVER && !(r->pgp_flags & PGP_F_SIGN)) {
		*fd_r = fd;
		return NULL;
	}
	out = ipc_out_new(IMSG_PGP_ENCRYPT, 0, fd);
	/* "pgp never" with "sign yes": no recipient, signed only */
	ipc_add_str(out, r->pgp == SMTP_PGP_NEVER ? "" : r->addr);
	/* the sender's key: only one who logged in is known to be it */
	ipc_add_u32(out, r->pgp_flags & (sm->authed ? ~0U :
	    ~(unsigned int)PGP_F_TO_SENDER));
	ipc_add_str(out, sm->mail.addr);
	if (session_call(sm->s, SVC_PGP, out, &reply) == -1 ||
	    ipc_get_u32(&reply, &result) == -1 ||
	    ipc_get_str(&reply, &detail, 256) == -1 ||
	    ipc_end(&reply) == -1 || result > PGP_SIGNED ||
	    (result == PGP_ENCRYPTED || result == PGP_SIGNED) !=
	    (reply.fd != -1)) {
		ipc_msg_clear(&reply);
		return "451 4.7.1 Message could not be encrypted, try again "
		    "later";
	}
	/* SECURITY: signed is not encrypted: "pgp required" still waits */
	if (result == PGP_SIGNED && r->pgp == SMTP_PGP_REQUIRED) {
		ipc_msg_clear(&reply);
		return "451 4.7.1 The recipient's OpenPGP key is no longer "
		    "usable, try again later";
	}
	if (result == PGP_ENCRYPTED || result == PGP_SIGNED) {
		/* SECURITY: the bytes cannot change once we deliver them */
		if (memfd_check_sealed(reply.fd, SMTP_COPY_MAX, &len) == -1) {
			ipc_msg_clear(&reply);
			return "451 4.7.1 Message could not be encrypted, try "
			    "again later";
		}
		*fd_r = reply.fd;
		reply.fd = -1;
		*encrypted = true;
		return NULL;
	}
	if (result == PGP_TEMP)
		return "451 4.7.1 Message could not be encrypted, try again "
		    "later";
	if (result == PGP_NO_KEY && r->pgp == SMTP_PGP_REQUIRED)
		return "451 4.7.1 The recipient's OpenPGP key is no longer "
		    "usable, try again later";
	if ((*fd_r = smtp_msgfd(sm)) == -1)
		return "451 4.3.0 Local error, try again later";
	return NULL;
}

/*
 * One account's copy (fd, which is consumed): DELIVER_OK, _TEMP, _PERM
 * or SMTP_DELIVER_LOST.
 */
static uint32_t
smtp_deliver_one(struct smtp *sm, const struct smtp_rcpt_ent *r, int fd)
{
	static struct ipc_msg	 reply;
	const char		*text, *name;
	uint32_t		 result;

	/* the filter's junk verdict: local recipients get it in Junk */
	if (session_call(sm->s, SVC_DELIVER, ipc_deliver_req(0, fd,
	    r->account, r->pk, sm->junk ? "Junk" : "INBOX", sm->mail.addr,
	    r->addr), &reply) == -1)
		return SMTP_DELIVER_LOST;
	if (ipc_deliver_reply(&reply, &result, &text, &name) == -1)
		return DELIVER_TEMP;
	return result;
}

/*
 * One durable entry in the outbound queue for the remote recipients in
 * which[] (n of them), with the body fd (consumed).  NULL, or the
 * failure's reply.
 */
static const char *
smtp_queue_entry(struct smtp *sm, int fd, const bool *which, uint32_t n,
    char *id, size_t idlen)
{
	static struct ipc_msg	 reply;
	struct ipc_out		*out;
	const char		*text;
	uint32_t		 result;
	unsigned int		 i;

	out = ipc_out_new(IMSG_QUEUE_MSG, 0, fd);
	ipc_add_str(out, sm->mail.addr);
	ipc_add_u64(out, sm->account);
	ipc_add_u32(out, (uint32_t)sm->mail.ret);
	ipc_add_u32(out, sm->mail.body == SMTP_BODY_8BITMIME);
	ipc_add_u32(out, sm->mail.smtputf8);
	ipc_add_str(out, sm->mail.envid);
	ipc_add_u32(out, n);
	for (i = 0; i < sm->nrcpts; i++) {
		if (!which[i])
			continue;
		ipc_add_str(out, sm->rcpts[i].addr);
		ipc_add_u32(out, sm->rcpts[i].notify);
		ipc_add_str(out, sm->rcpts[i].orcpt);
	}
	if (session_call(sm->s, SVC_QUEUE, out, &reply) == -1 ||
	    ipc_get_u32(&reply, &result) == -1 ||
	    ipc_get_str(&reply, &text, 64) == -1 || ipc_end(&reply) == -1)
		return "451 4.3.0 Outbound queue unavailable, try again later";
	if (result != QUEUE_OK)
		return "452 4.3.1 Insufficient system storage, try again "
		    "later";
	strlcpy(id, text, idlen);
	return NULL;
}

/*
 * The remote recipients of an authenticated submission: an entry of its
 * own for each one whose copy is encrypted (its body differs), and one
 * entry for all the others.  NULL, or the failure's reply.
 */
static const char *
smtp_queue(struct smtp *sm, char *id, size_t idlen)
{
	const char	*fail = NULL;
	bool		*which, *plain, enc;
	uint32_t	 n = 0;
	unsigned int	 i;
	int		 fd;

	which = xcalloc(sm->nrcpts, sizeof(*which));
	plain = xcalloc(sm->nrcpts, sizeof(*plain));
	for (i = 0; i < sm->nrcpts && fail == NULL; i++) {
		if (sm->rcpts[i].local)
			continue;
		if ((fail = smtp_copy(sm, &sm->rcpts[i], &fd, &enc)) != NULL)
			break;
		if (!enc) {
			close(fd);
			plain[i] = true;
			n++;
			continue;
		}
		which[i] = true;
		fail = smtp_queue_entry(sm, fd, which, 1, id, idlen);
		which[i] = false;
	}
	if (fail == NULL && n > 0) {
		if ((fd = smtp_msgfd(sm)) == -1)
			fail = "451 4.3.0 Local error, try again later";
		else
			fail = smtp_queue_entry(sm, fd, plain, n, id, idlen);
	}
	free(which);
	free(plain);
	return fail;
}

/*
 * Every local account gets its copy, once even when several recipients
 * lead to it: quota first (atomic in users.db), then the durable write.
 * A failure gives that account's quota back and fails the transaction:
 * copies already written stay (the client retries: the only duplicates
 * sealpost makes, documented).
 */
static void	smtp_autocrypt(struct smtp *);

static void
smtp_deliver(struct smtp *sm, uint64_t size)
{
	const char	*fail;
	char		 qid[64];
	unsigned int	 i, j, copies = 0, encrypted = 0;
	struct stat	 st;
	uint64_t	 csize;
	uint32_t	 r;
	bool		 enc;
	int		 q, fd;

	qid[0] = '\0';
	fail = smtp_queue(sm, qid, sizeof(qid));
	for (i = 0; i < sm->nrcpts && fail == NULL; i++) {
		const struct smtp_rcpt_ent *rc = &sm->rcpts[i];

		if (!rc->local)
			continue;
		for (j = 0; j < i; j++)
			if (sm->rcpts[j].local &&
			    sm->rcpts[j].account == rc->account)
				break;
		if (j < i)
			continue;		/* that account has it */
		/* its copy first: an encrypted one is larger */
		if ((fail = smtp_copy(sm, rc, &fd, &enc)) != NULL)
			break;
		csize = size;
		if (enc && fstat(fd, &st) == 0)
			csize = (uint64_t)st.st_size;
		encrypted += enc;
		if ((q = smtp_quota(sm, rc->account, csize, 0)) != 1) {
			close(fd);
			fail = q == 0 ? "452 4.2.2 Mailbox full (over "
			    "quota), try again later" : "451 4.3.0 "
			    "Local error, try again later";
			break;
		}
		if ((r = smtp_deliver_one(sm, rc, fd)) != DELIVER_OK) {
			(void)smtp_quota(sm, rc->account, csize, 1);
			fail = r == DELIVER_PERM ? "554 5.3.0 Message cannot "
			    "be stored" : r == SMTP_DELIVER_LOST ? "451 4.3.0 "
			    "Local delivery unavailable, try again later" :
			    "452 4.3.1 Insufficient system storage, try "
			    "again later";
			break;
		}
		copies++;
	}
	log_info("%016" PRIx64 " smtp event=message id=%016" PRIx64 ".%u "
	    "size=%llu rcpts=%u copies=%u encrypted=%u queued=%s result=%s",
	    sm->s->id, sm->s->id, sm->txns, (unsigned long long)size,
	    sm->nrcpts, copies, encrypted, qid[0] != '\0' ? qid : "-",
	    fail == NULL ? "accepted" : "deferred");
	if (fail != NULL)
		session_reply(sm->s, "%s\r\n", fail);
	else {
		session_reply(sm->s, "250 2.0.0 Ok: queued as %016" PRIx64
		    ".%u\r\n", sm->s->id, sm->txns);
		smtp_autocrypt(sm);
	}
}

/*
 * After the 250 of an authenticated sender's message, when the policy
 * says "autocrypt yes": the pgp service learns the key of its Autocrypt
 * header (pgp_learn.c).  The envelope sender is the one the account was
 * checked to own at MAIL; the outcome is only the pgp service's log.
 */
static void
smtp_autocrypt(struct smtp *sm)
{
	static struct ipc_msg	 reply;
	struct ipc_out		*out;
	int			 fd;

	if (!sm->authed || !sm->autocrypt || sm->mail.addr[0] == '\0' ||
	    (fd = smtp_msgfd(sm)) == -1)
		return;
	out = ipc_out_new(IMSG_PGP_AUTOCRYPT, 0, fd);
	ipc_add_str(out, sm->mail.addr);
	if (session_call(sm->s, SVC_PGP, out, &reply) == 0)
		ipc_msg_clear(&reply);
}

/*
 * The policy holds the message back (antivirus quarantine): sealed to the
 * account postmaster@ the first recipient's domain leads to, written by
 * deliver into the quarantine folder (store/quarantine.h), and only then
 * 250.  Only mail for local recipients is held: a message with a remote
 * recipient comes from one of our own users, who is connected and is
 * told at once (the filter's refusal).  Nobody's quota is charged.
 */
static void
smtp_quarantine(struct smtp *sm, uint64_t size, const struct smtp_held *h)
{
	static struct ipc_msg	 reply;
	struct smtp_rcpt_ent	 pm;
	struct ipc_out		*out;
	const char		*fail = NULL, *text, *qname, *dom;
	char			 addr[SMTP_ADDR_MAX + 1], qid[40], esc[64];
	uint64_t		 quota, usage;
	uint32_t		 result, i;
	int			 fd, r;

	(void)snprintf(qid, sizeof(qid), "%016" PRIx64 ".%u", sm->s->id,
	    sm->txns);
	for (i = 0; i < sm->nrcpts; i++)
		if (!sm->rcpts[i].local) {
			log_info("%016" PRIx64 " smtp event=message id=%s "
			    "size=%llu result=refused reason=quarantine "
			    "with a remote recipient", sm->s->id, qid,
			    (unsigned long long)size);
			session_reply(sm->s, "%s\r\n", h->refusal);
			return;
		}
	dom = sm->nrcpts > 0 ? strrchr(sm->rcpts[0].addr, '@') : NULL;
	memset(&pm, 0, sizeof(pm));
	if (dom == NULL || snprintf(addr, sizeof(addr), "postmaster%s",
	    dom) >= (int)sizeof(addr) || (r = smtp_lookup(sm, addr, &pm,
	    &quota, &usage)) == -1)
		fail = "451 4.3.0 Local error, try again later";
	else if (r == 0) {
		log_warnx("%016" PRIx64 " smtp event=quarantine result=fail "
		    "reason=no account for %s", sm->s->id, log_esc(esc,
		    sizeof(esc), addr, strlen(addr)));
		fail = "451 4.3.0 Cannot hold the message for review now, "
		    "try again later";
	} else if ((fd = smtp_msgfd(sm)) == -1)
		fail = "451 4.3.0 Local error, try again later";
	else {
		out = ipc_out_new(IMSG_DELIVER_QUARANTINE, 0, fd);
		ipc_add_u64(out, pm.account);
		ipc_add_data(out, pm.pk, sizeof(pm.pk));
		ipc_add_str(out, qid);
		ipc_add_str(out, h->reason);
		ipc_add_str(out, sm->mail.addr);
		ipc_add_u32(out, sm->nrcpts);
		for (i = 0; i < sm->nrcpts; i++)
			ipc_add_str(out, sm->rcpts[i].addr);
		if (session_call(sm->s, SVC_DELIVER, out, &reply) == -1)
			fail = "451 4.3.0 Local delivery unavailable, try "
			    "again later";
		else if (ipc_get_u32(&reply, &result) == -1 ||
		    ipc_get_str(&reply, &text, 256) == -1 ||
		    ipc_get_str(&reply, &qname, 64) == -1 ||
		    ipc_end(&reply) == -1 || result != DELIVER_OK)
			fail = "452 4.3.1 Insufficient system storage, try "
			    "again later";
	}
	log_info("%016" PRIx64 " smtp event=message id=%s size=%llu rcpts=%u "
	    "quarantined=%s result=%s", sm->s->id, qid,
	    (unsigned long long)size, sm->nrcpts, fail == NULL ? "yes" : "no",
	    fail == NULL ? "accepted" : "deferred");
	if (fail != NULL)
		session_reply(sm->s, "%s\r\n", fail);
	else
		session_reply(sm->s, "250 2.7.0 Ok: queued as %s, held in "
		    "quarantine for review\r\n", qid);
}

void
smtp_txn_end(struct smtp *sm)
{
	struct smtp_held held;
	const char	*no;
	struct stat	 st;
	int		 r;

	if ((no = smtp_data_refusal(&sm->data)) != NULL) {
		log_info("%016" PRIx64 " smtp event=message result=refused "
		    "flags=0x%x", sm->s->id, sm->data.flags);
		session_reply(sm->s, "%s\r\n", no);
	} else if (memfd_seal(sm->msgfd) == -1 || fstat(sm->msgfd, &st) == -1)
		session_reply(sm->s, "451 4.3.0 Local error, try again "
		    "later\r\n");
	else if (sm->rcpt_max != 0 && (uint64_t)st.st_size > sm->rcpt_max)
		/* the policy's max-size of a recipient (SIZE= was smaller) */
		session_reply(sm->s, "552 5.3.4 Message too big for a "
		    "recipient\r\n");
	else if ((r = smtp_filter(sm, &held)) == 0)
		smtp_deliver(sm, (uint64_t)st.st_size);
	else if (r == 1)
		smtp_quarantine(sm, (uint64_t)st.st_size, &held);
	sm->txns++;
	smtp_txn_reset(sm);
}
