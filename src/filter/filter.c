/* SPDX-License-Identifier: ISC */
/*
 * filter.c - the filter service: the verdict on a message at the end of
 * DATA.  The RFC 5322 sanity checks of filter_headers.c run at once in
 * the loop; then the message goes to a scanning thread (filter_work.c)
 * for libclamav (filter_av.c), and the verdict goes back to the session
 * when the thread is done.  The policy and rspamd come with the rest of
 * the filtering issue; until then the built-in policy applies: a virus
 * is refused (554 5.7.1 naming it), and a scan that fails or hits a
 * limit defers the message (451 4.7.1: fail closed).
 *
 * Process:  filter (user _sp_filter, jailed in the empty chroot with a
 *           private tmpfs at /tmp for libclamav, sandbox profile
 *           ROLE_FILTER, scanning threads).
 * Trust:    sessions are untrusted peers (common/service.c drops one that
 *           sends anything malformed); the message is hostile and only
 *           read from a sealed memfd (its contents cannot change while we
 *           look); the master is trusted.
 * Limits:   FILTER_MSG_MAX bytes of message; FH_BLOCK_MAX + 2 read for
 *           the header checks; FILTER_QUEUE_MAX messages in hand (more
 *           are deferred); libclamav's limits from the configuration.
 * See also: common/service.c (the loop), ipc_types.h, smtp/smtp_txn.c.
 */
#include "config.h"

#include <sys/queue.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "ipc_types.h"
#include "memfd.h"
#include "buf.h"
#include "service.h"
#include "filter_headers.h"
#include "filter_av.h"
#include "filter_work.h"
#include "policy.h"
#include "banned.h"

#define FILTER_MSG_MAX	((size_t)1 << 31)
#define FILTER_TMPDIR	"/tmp"		/* the jail's private tmpfs */
#define FILTER_HEADERS_MAX 2048		/* header lines we add */
#define FILTER_GROUP_TOKEN_MAX 400	/* IMSG_FILTER_RCPT's group token */

TAILQ_HEAD(live_list, filter_job);
static struct live_list	 live = TAILQ_HEAD_INITIALIZER(live);
static unsigned int	 nworkers = 2;
static struct policy	*policy;	/* from the master, SP_FD_POLICY */
static const char	*hostname = "localhost";	/* -o hostname */
static const char	*rspamd_url;	/* -o rspamd-url, or NULL: no spam */
static uint32_t		 generation;	/* this process, in group tokens */

static int
filter_kind(enum sp_listener_kind k)
{
	return k == SP_LISTEN_SMTP || k == SP_LISTEN_SUBMISSION ||
	    k == SP_LISTEN_SUBMISSIONS;
}

static void
filter_reply(struct service_session *ss, uint32_t reqid, uint32_t verdict,
    const char *text, const char *headers, uint32_t flags, const char *reason)
{
	struct ipc_out	*out;

	out = ipc_out_new(IMSG_FILTER_CHECK, reqid, -1);
	ipc_add_u32(out, verdict);
	ipc_add_str(out, text);
	ipc_add_str(out, headers);
	ipc_add_u32(out, flags);
	ipc_add_str(out, reason);
	(void)ipc_chan_send(ss->chan, out);
}

static void
filter_job_free(struct filter_job *j)
{
	close(j->fd);
	buf_free(&j->rcptbuf);
	free(j->rcpts);
	free(j);
}

/* The envelope sender's domain for Authentication-Results ("" none). */
static const char *
filter_domain(const char *addr)
{
	const char	*at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

/*
 * rspamd's result and the policy: the verdict, header lines and flags.
 * The score against the policy's thresholds; a pre-result of rspamd's
 * own (is_skipped with action reject: GTUBE, a hard rule) refuses too.
 */
static void
filter_spam_verdict(struct filter_job *j, uint32_t *verdict, char *reply,
    size_t rlen, char *hdrs, size_t hlen, uint32_t *flags,
    enum policy_spam_action *act_r)
{
	enum policy_spam_action	 act = POLICY_ACTION_NONE;
	unsigned int		 which = 0;
	size_t			 used = strlen(hdrs);
	int			 n;

	*act_r = POLICY_ACTION_NONE;
	if (j->spam == 1) {
		if (j->pv.scanner_failure == POLICY_SCANFAIL_ACCEPT) {
			(void)snprintf(hdrs + used, hlen - used,
			    "X-Sealpost-Spam: not scanned (the spam scanner "
			    "is unavailable)\r\n");
			return;
		}
		*verdict = FILTER_TEMP;
		(void)snprintf(reply, rlen, "451 4.7.1 Message could not be "
		    "scanned for spam, try again later");
		return;
	}
	act = policy_spam_action(&j->pv, j->sr.score);
	if (j->sr.skipped && j->sr.action == SPAM_REJECT)
		act = POLICY_ACTION_REJECT;
	*act_r = act;
	if (act == POLICY_ACTION_REJECT) {
		*verdict = FILTER_REJECT;
		(void)snprintf(reply, rlen, "554 5.7.1 Message refused as "
		    "spam");
		return;
	}
	if (act == POLICY_ACTION_JUNK)
		*flags |= FILTER_F_JUNK;
	if (j->pv.headers & POLICY_HDR_SPAM_SCORE)
		which |= SPAM_HDR_SCORE;
	if (j->pv.headers & POLICY_HDR_SPAM_STATUS)
		which |= SPAM_HDR_STATUS;
	if (j->pv.headers & POLICY_HDR_AUTH_RESULTS)
		which |= SPAM_HDR_AUTH;
	if (which != 0 && (n = spam_headers(&j->sr, which,
	    act != POLICY_ACTION_NONE, hostname, filter_domain(j->sender),
	    hdrs + used, hlen - used)) < 0)
		hdrs[used] = '\0';	/* too long: without them */
}

static const char *
filter_verdict_name(uint32_t verdict)
{
	return verdict == FILTER_ACCEPT ? "accept" :
	    verdict == FILTER_REJECT ? "reject" :
	    verdict == FILTER_QUARANTINE ? "quarantine" : "tempfail";
}

/* A group name in a log line: no spaces or quotes (names may hold them). */
static void
filter_log_safe(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == ' ' || *s == '"' || *s == '=')
			*s = '_';
}

/* A scanning thread is done: the verdict to the session, if it is there. */
static void
filter_done(struct filter_job *j)
{
	uint32_t		 verdict = FILTER_ACCEPT, flags = 0;
	enum policy_spam_action	 act = POLICY_ACTION_NONE;
	char			 reply[256], hdrs[FILTER_HEADERS_MAX];
	char			 reason[160];
	static const char	*acts[] = { "none", "tag", "junk", "reject" };

	TAILQ_REMOVE(&live, j, live);
	reply[0] = hdrs[0] = reason[0] = '\0';
	/*
	 * The message's own scanner-timeout: libclamav stops at the
	 * policy's longest one; a scan past this message's is not trusted.
	 */
	if (j->av == AV_CLEAN && j->av_ms > (long)j->pv.scanner_timeout * 1000) {
		j->av = AV_LIMIT;
		(void)snprintf(j->err, sizeof(j->err), "took %ld ms, past the "
		    "policy's scanner-timeout", j->av_ms);
	}
	switch (j->av) {
	case AV_CLEAN:
		break;
	case AV_VIRUS:
		/*
		 * The reply is the refusal; with antivirus quarantine the
		 * session holds the message for the postmaster instead, when
		 * every recipient is local (smtp_txn.c), else refuses it.
		 */
		verdict = j->pv.antivirus == POLICY_AV_QUARANTINE ?
		    FILTER_QUARANTINE : FILTER_REJECT;
		snprintf(reply, sizeof(reply), "554 5.7.1 Message refused: "
		    "virus found (%s)", j->name);
		snprintf(reason, sizeof(reason), "virus%s%s",
		    j->name[0] != '\0' ? " " : "", j->name);
		break;
	case AV_LIMIT:
	case AV_ERROR:
		if (j->pv.scanner_failure == POLICY_SCANFAIL_ACCEPT) {
			/* the policy accepts it unscanned, and says so */
			snprintf(hdrs, sizeof(hdrs), "X-Sealpost-Antivirus: "
			    "not scanned (%s)\r\n", j->av == AV_LIMIT ?
			    "a scan limit was reached" :
			    "the scanner is unavailable");
			break;
		}
		verdict = FILTER_TEMP;
		snprintf(reply, sizeof(reply), "451 4.7.1 Message could not "
		    "be scanned for viruses, try again later");
		break;
	}
	if (verdict == FILTER_ACCEPT && j->spam != -1)
		filter_spam_verdict(j, &verdict, reply, sizeof(reply), hdrs,
		    sizeof(hdrs), &flags, &act);
	/* the session harvests only from a sender that logged in */
	if (verdict == FILTER_ACCEPT && j->pv.autocrypt)
		flags |= FILTER_F_AUTOCRYPT;
	{
		char	spam[96];

		if (j->spam == 0)
			(void)snprintf(spam, sizeof(spam), " spam=%s%lld.%02lld "
			    "spam_action=%s spam_ms=%ld", j->sr.score < 0 ? "-" :
			    "", (long long)(j->sr.score < 0 ? -j->sr.score :
			    j->sr.score) / 100, (long long)(j->sr.score < 0 ?
			    -j->sr.score : j->sr.score) % 100, acts[act],
			    j->spam_ms);
		else
			(void)snprintf(spam, sizeof(spam), "%s", j->spam == 1 ?
			    " spam=error" : "");
		log_info("%016" PRIx64 " filter event=verdict result=%s "
		    "id=%s size=%zu antivirus=%s%s%s av_ms=%ld wait_ms=%ld%s "
		    "policy=%s%s%s%s", j->connid,
		    filter_verdict_name(verdict), j->qid, j->size,
		    j->av == AV_CLEAN ? "clean" : j->av == AV_VIRUS ? "virus" :
		    j->av == AV_LIMIT ? "limit" : "error",
		    j->name[0] != '\0' ? " virus=" : "", j->name, j->av_ms,
		    j->wait_ms, spam, j->group,
		    strstr(hdrs, "not scanned") != NULL ?
		    " unscanned=accepted" : "",
		    flags & FILTER_F_JUNK ? " folder=Junk" : "",
		    j->ss == NULL ? " session=gone" : "");
	}
	if (j->spam == 1)
		log_warnx("%016" PRIx64 " filter event=spam result=error "
		    "reason=%s", j->connid, j->spam_err);
	if (j->err[0] != '\0')
		log_warnx("%016" PRIx64 " filter event=antivirus "
		    "result=%s reason=%s", j->connid, j->av == AV_LIMIT ?
		    "limit" : "error", j->err);
	if (j->ss != NULL)
		filter_reply(j->ss, j->reqid, verdict, reply,
		    verdict == FILTER_ACCEPT ? hdrs : "", flags,
		    verdict == FILTER_QUARANTINE ? reason : "");
	filter_job_free(j);
}

static int
filter_check(struct service_session *ss, struct ipc_msg *msg)
{
	struct filter_job	*j;
	struct policy_ctx	 ctx;
	struct policy_result	 pr;
	unsigned char		*buf;
	const char		*sender, *rcpt, *helo, *qid, *r;
	char			 reply[256];
	size_t			 size, n;
	uint32_t		 verdict = FILTER_ACCEPT, added, authed, nrcpts, i;
	struct buf		*rcpts;

	if (!filter_kind(ss->kind) || msg->fd == -1 ||
	    ipc_get_str(msg, &sender, 320) == -1 ||
	    ipc_get_u32(msg, &added) == -1 ||
	    ipc_get_u32(msg, &authed) == -1 ||
	    ipc_get_str(msg, &rcpt, 320) == -1 ||
	    ipc_get_str(msg, &helo, 255) == -1 ||
	    ipc_get_str(msg, &qid, 39) == -1 ||
	    ipc_get_u32(msg, &nrcpts) == -1 || authed > 1 ||
	    nrcpts > FILTER_RCPTS_MAX)
		return -1;
	/* the recipients, NUL-separated, for rspamd's Rcpt headers */
	rcpts = buf_new((size_t)FILTER_RCPTS_MAX * 321);
	for (i = 0; i < nrcpts; i++)
		if (ipc_get_str(msg, &r, 320) == -1 ||
		    buf_add(rcpts, r, strlen(r) + 1) == -1) {
			buf_free(&rcpts);
			return -1;
		}
	if (ipc_end(msg) == -1) {
		buf_free(&rcpts);
		return -1;
	}
	/* the DATA phase of the policy: the sender's, or the recipient's */
	memset(&ctx, 0, sizeof(ctx));
	ctx.listener = ss->kind;
	ctx.authenticated = authed;
	ctx.sender = sender;
	ctx.recipient = rcpt[0] != '\0' ? rcpt : NULL;
	policy_eval(policy, &ctx, &pr);
	reply[0] = '\0';
	/* SECURITY: only a sealed memfd, so what we check is what is kept */
	if (memfd_check_sealed(msg->fd, FILTER_MSG_MAX, &size) == -1)
		return -1;
	n = size < FH_BLOCK_MAX + 2 ? size : FH_BLOCK_MAX + 2;
	buf = xmalloc(n + 1);
	if (memfd_read(msg->fd, buf, n) == -1) {
		verdict = FILTER_TEMP;
		snprintf(reply, sizeof(reply), "451 4.3.0 Cannot read the "
		    "message, try again later");
	} else if (filter_headers_check(buf, n, n == size, added, reply,
	    sizeof(reply)) == -1)
		verdict = FILTER_REJECT;
	free(buf);
	if (verdict == FILTER_ACCEPT) {
		/* the content, in a scanning thread; the job owns the fd */
		j = xcalloc(1, sizeof(*j));
		j->fd = msg->fd;
		msg->fd = -1;
		j->size = size;
		j->ss = ss;
		j->reqid = msg->hdr.id;
		j->connid = ss->connid;
		j->pv = pr.v;
		(void)policy_group_name(policy, &pr.group, j->group,
		    sizeof(j->group));
		filter_log_safe(j->group);
		strlcpy(j->sender, sender, sizeof(j->sender));
		strlcpy(j->helo, helo, sizeof(j->helo));
		strlcpy(j->qid, qid, sizeof(j->qid));
		strlcpy(j->ip, ss->client, sizeof(j->ip));
		j->authed = authed;
		j->rcptbuf = rcpts;
		rcpts = NULL;
		j->nrcpts = nrcpts;
		j->rcpts = xcalloc(nrcpts + 1, sizeof(*j->rcpts));
		for (i = 0, r = (const char *)j->rcptbuf->data; i < nrcpts;
		    i++, r += strlen(r) + 1)
			j->rcpts[i] = r;
		if (filter_work_submit(j) == 0) {
			TAILQ_INSERT_TAIL(&live, j, live);
			return 0;
		}
		filter_job_free(j);
		verdict = FILTER_TEMP;
		snprintf(reply, sizeof(reply), "451 4.3.2 Too many messages "
		    "being checked, try again later");
	}
	buf_free(&rcpts);
	ipc_msg_clear(msg);		/* the handler owns the fd: close it */
	log_info("%016" PRIx64 " filter event=verdict result=%s size=%zu%s%s",
	    ss->connid, filter_verdict_name(verdict), size,
	    reply[0] != '\0' ? " reason=" : "", reply);
	filter_reply(ss, msg->hdr.id, verdict, reply, "", 0, "");
	return 0;
}

/*
 * The RCPT phase: the recipient's policy group, as a token the session
 * compares (this process's generation, then the group's rule bits: a
 * fresh filter's tokens never equal an old one's), and its max-size.
 */
static int
filter_rcpt(struct service_session *ss, struct ipc_msg *msg)
{
	struct policy_ctx	 ctx;
	struct policy_result	 pr;
	struct ipc_out		*out;
	const char		*sender, *rcpt;
	char			 token[FILTER_GROUP_TOKEN_MAX];
	size_t			 i, off;
	uint32_t		 authed;

	if (!filter_kind(ss->kind) || ipc_get_str(msg, &sender, 320) == -1 ||
	    ipc_get_u32(msg, &authed) == -1 ||
	    ipc_get_str(msg, &rcpt, 320) == -1 || ipc_end(msg) == -1 ||
	    authed > 1)
		return -1;
	memset(&ctx, 0, sizeof(ctx));
	ctx.listener = ss->kind;
	ctx.authenticated = authed;
	ctx.sender = sender;
	ctx.recipient = rcpt;
	policy_eval(policy, &ctx, &pr);
	off = (size_t)snprintf(token, sizeof(token), "%08x", generation);
	/* at most 8 + 16 x 20 bytes: never cut (equal tokens, same group) */
	for (i = 0; i < POLICY_GROUP_WORDS; i++)
		if (pr.group.bits[i] != 0)
			off += (size_t)snprintf(token + off, sizeof(token) - off,
			    ":%zx.%llx", i, (unsigned long long)pr.group.bits[i]);
	out = ipc_out_new(IMSG_FILTER_RCPT, msg->hdr.id, -1);
	ipc_add_str(out, token);
	ipc_add_u64(out, pr.v.max_size);
	ipc_add_u32(out, (uint32_t)pr.v.pgp);
	ipc_add_u32(out, (pr.v.protect_subject ? PGP_F_PROTECT_SUBJECT : 0) |
	    (pr.v.encrypt_to_sender ? PGP_F_TO_SENDER : 0) |
	    (pr.v.wkd ? PGP_F_WKD : 0) | (pr.v.sign ? PGP_F_SIGN : 0));
	(void)ipc_chan_send(ss->chan, out);
	return 0;
}

static int
filter_session_msg(struct service_session *ss, struct ipc_msg *msg)
{
	if (msg->hdr.type == IMSG_FILTER_CHECK)
		return filter_check(ss, msg);
	if (msg->hdr.type == IMSG_FILTER_RCPT)
		return filter_rcpt(ss, msg);
	return -1;
}

/* A session went: its jobs finish, and their verdicts go nowhere. */
static void
filter_session_gone(struct service_session *ss)
{
	struct filter_job	*j;

	TAILQ_FOREACH(j, &live, live)
		if (j->ss == ss)
			j->ss = NULL;
}

/*
 * The policy the master read and checked, as a sealed memfd on
 * SP_FD_POLICY (this process cannot open the files).  It loaded there, so
 * a failure here is a bug between trusted processes.
 */
static void
filter_policy_load(void)
{
	unsigned char	*img;
	size_t		 len;
	char		 err[POLICY_ERR_MAX];

	if (memfd_check_sealed(SP_FD_POLICY, POLICY_IMAGE_MAX, &len) == -1)
		fatalx("filter: no sealed policy from the master");
	img = xmalloc(len + 1);
	if (memfd_read(SP_FD_POLICY, img, len) == -1)
		fatal("filter: reading the policy");
	if ((policy = policy_image_load(img, len, err, sizeof(err))) == NULL)
		fatalx("filter: policy: %s", err);
	free(img);
	close(SP_FD_POLICY);
}

/*
 * Before the jail, as root: the options from the master, the antivirus
 * engine (it reads the database folder), the threads' wake-up pipe.
 */
static void
filter_preload(const struct child_args *a)
{
	struct av_limits	 l;
	const char		*dir;
	char			 err[512];

	memset(&l, 0, sizeof(l));
	l.max_scan = 100ULL << 20;
	l.max_file = 25ULL << 20;
	l.max_recursion = 16;
	l.max_files = 10000;
	nworkers = (unsigned int)child_opt_num(a, "workers", 1,
	    FILTER_WORKERS_MAX, nworkers);
	l.max_scan = (uint64_t)child_opt_num(a, "av-max-scan", 1, 1LL << 40,
	    (long long)l.max_scan);
	l.max_file = (uint64_t)child_opt_num(a, "av-max-file", 1, 1LL << 40,
	    (long long)l.max_file);
	l.max_recursion = (unsigned int)child_opt_num(a, "av-max-recursion", 1,
	    64, l.max_recursion);
	l.max_files = (unsigned int)child_opt_num(a, "av-max-files", 1, 1000000,
	    l.max_files);
	if ((dir = child_opt(a, "av-database")) == NULL)
		dir = "/var/lib/clamav";
	/* the policy first: its longest scanner-timeout bounds every scan */
	filter_policy_load();
	l.max_ms = policy_max_timeout(policy) * 1000;
	if (av_load(dir, FILTER_TMPDIR, &l, err, sizeof(err)) == -1)
		log_warnx("filter: antivirus unavailable, every message "
		    "will be deferred: %s", err);
	hostname = child_opt(a, "hostname") != NULL ?
	    child_opt(a, "hostname") : hostname;
	rspamd_url = child_opt(a, "rspamd-url");
	if (rspamd_url != NULL) {
		/* the one port the sandbox lets us connect to */
		const char	*c = strrchr(rspamd_url, ':'), *errstr;
		long long	 port = c != NULL ? strtonum(c + 1, 1, 65535,
				    &errstr) : 0;

		if (c == NULL || errstr != NULL)
			fatalx("filter: bad rspamd-url from the master");
		sandbox_allow_connect((uint16_t)port);
	}
	if (filter_work_prepare(nworkers, rspamd_url, err, sizeof(err)) == -1)
		fatalx("filter: %s", err);
}

/* After the sandbox: the threads inherit it. */
static void
filter_init(struct event_base *base)
{
	struct policy_stats	st;

	if (filter_work_start(base, nworkers, filter_done) == -1)
		fatal("filter: scanning threads");
	arc4random_buf(&generation, sizeof(generation));
	policy_stats(policy, &st);
	log_info("filter event=start antivirus=\"%s\" spam=%s workers=%u "
	    "policy_files=%zu policy_rules=%zu", av_describe(),
	    rspamd_url != NULL ? rspamd_url : "off", nworkers, st.files,
	    st.rules);
}

static const struct service_ops filter_ops = {
	.name = "filter",
	.role = ROLE_FILTER,
	.preload = filter_preload,
	.init = filter_init,
	.session_msg = filter_session_msg,
	.session_gone = filter_session_gone,
};

int
main(int argc, char **argv)
{
	service_main(argc, argv, &filter_ops);
}
