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
#include "service.h"
#include "filter_headers.h"
#include "filter_av.h"
#include "filter_work.h"
#include "policy.h"
#include "banned.h"

#define FILTER_MSG_MAX	((size_t)1 << 31)
#define FILTER_TMPDIR	"/tmp"		/* the jail's private tmpfs */

TAILQ_HEAD(live_list, filter_job);
static struct live_list	 live = TAILQ_HEAD_INITIALIZER(live);
static unsigned int	 nworkers = 2;
static struct policy	*policy;	/* from the master, SP_FD_POLICY */

static int
filter_kind(enum sp_listener_kind k)
{
	return k == SP_LISTEN_SMTP || k == SP_LISTEN_SUBMISSION ||
	    k == SP_LISTEN_SUBMISSIONS;
}

static void
filter_reply(struct service_session *ss, uint32_t reqid, uint32_t verdict,
    const char *text, const char *headers)
{
	struct ipc_out	*out;

	out = ipc_out_new(IMSG_FILTER_CHECK, reqid, -1);
	ipc_add_u32(out, verdict);
	ipc_add_str(out, text);
	ipc_add_str(out, headers);
	(void)ipc_chan_send(ss->chan, out);
}

static const char *
filter_verdict_name(uint32_t verdict)
{
	return verdict == FILTER_ACCEPT ? "accept" :
	    verdict == FILTER_REJECT ? "reject" : "tempfail";
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
	uint32_t	 verdict = FILTER_ACCEPT;
	char		 reply[256], hdrs[256];

	TAILQ_REMOVE(&live, j, live);
	reply[0] = hdrs[0] = '\0';
	switch (j->av) {
	case AV_CLEAN:
		break;
	case AV_VIRUS:
		/*
		 * antivirus reject, and quarantine too until the quarantine
		 * store exists: a virus is never accepted (docs/design.md)
		 */
		verdict = FILTER_REJECT;
		snprintf(reply, sizeof(reply), "554 5.7.1 Message refused: "
		    "virus found (%s)", j->name);
		if (j->pv.antivirus == POLICY_AV_QUARANTINE)
			log_warnx("%016" PRIx64 " filter: the policy says "
			    "quarantine, which this release does not have "
			    "yet: refused", j->connid);
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
	log_info("%016" PRIx64 " filter event=verdict result=%s size=%zu "
	    "antivirus=%s%s%s av_ms=%ld wait_ms=%ld policy=%s%s%s", j->connid,
	    filter_verdict_name(verdict), j->size,
	    j->av == AV_CLEAN ? "clean" : j->av == AV_VIRUS ? "virus" :
	    j->av == AV_LIMIT ? "limit" : "error",
	    j->name[0] != '\0' ? " virus=" : "", j->name, j->av_ms,
	    j->wait_ms, j->group, hdrs[0] != '\0' ? " unscanned=accepted" :
	    "", j->ss == NULL ? " session=gone" : "");
	if (j->err[0] != '\0')
		log_warnx("%016" PRIx64 " filter event=antivirus "
		    "result=%s reason=%s", j->connid, j->av == AV_LIMIT ?
		    "limit" : "error", j->err);
	if (j->ss != NULL)
		filter_reply(j->ss, j->reqid, verdict, reply, hdrs);
	close(j->fd);
	free(j);
}

static int
filter_check(struct service_session *ss, struct ipc_msg *msg)
{
	struct filter_job	*j;
	struct policy_ctx	 ctx;
	struct policy_result	 pr;
	unsigned char		*buf;
	const char		*sender, *rcpt;
	char			 reply[256];
	size_t			 size, n;
	uint32_t		 verdict = FILTER_ACCEPT, added, authed;

	if (!filter_kind(ss->kind) || msg->fd == -1 ||
	    ipc_get_str(msg, &sender, 320) == -1 ||
	    ipc_get_u32(msg, &added) == -1 ||
	    ipc_get_u32(msg, &authed) == -1 ||
	    ipc_get_str(msg, &rcpt, 320) == -1 || ipc_end(msg) == -1 ||
	    authed > 1)
		return -1;
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
		if (filter_work_submit(j) == 0) {
			TAILQ_INSERT_TAIL(&live, j, live);
			return 0;
		}
		close(j->fd);
		free(j);
		verdict = FILTER_TEMP;
		snprintf(reply, sizeof(reply), "451 4.3.2 Too many messages "
		    "being checked, try again later");
	}
	ipc_msg_clear(msg);		/* the handler owns the fd: close it */
	log_info("%016" PRIx64 " filter event=verdict result=%s size=%zu%s%s",
	    ss->connid, filter_verdict_name(verdict), size,
	    reply[0] != '\0' ? " reason=" : "", reply);
	filter_reply(ss, msg->hdr.id, verdict, reply, "");
	return 0;
}

static int
filter_session_msg(struct service_session *ss, struct ipc_msg *msg)
{
	if (msg->hdr.type == IMSG_FILTER_CHECK)
		return filter_check(ss, msg);
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

/* A number the master passed with -o key=N, or def. */
static long long
filter_opt(const struct child_args *a, const char *key, long long min,
    long long max, long long def)
{
	const char	*v, *errstr;
	long long	 n;

	if ((v = child_opt(a, key)) == NULL)
		return def;
	n = strtonum(v, min, max, &errstr);
	if (errstr != NULL)
		fatalx("filter: bad %s from the master", key);
	return n;
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
	nworkers = (unsigned int)filter_opt(a, "workers", 1,
	    FILTER_WORKERS_MAX, nworkers);
	l.max_scan = (uint64_t)filter_opt(a, "av-max-scan", 1, 1LL << 40,
	    (long long)l.max_scan);
	l.max_file = (uint64_t)filter_opt(a, "av-max-file", 1, 1LL << 40,
	    (long long)l.max_file);
	l.max_recursion = (unsigned int)filter_opt(a, "av-max-recursion", 1,
	    64, l.max_recursion);
	l.max_files = (unsigned int)filter_opt(a, "av-max-files", 1, 1000000,
	    l.max_files);
	if ((dir = child_opt(a, "av-database")) == NULL)
		dir = "/var/lib/clamav";
	if (av_load(dir, FILTER_TMPDIR, &l, err, sizeof(err)) == -1)
		log_warnx("filter: antivirus unavailable, every message "
		    "will be deferred: %s", err);
	if (filter_work_prepare() == -1)
		fatal("filter: pipe");
	filter_policy_load();
}

/* After the sandbox: the threads inherit it. */
static void
filter_init(struct event_base *base)
{
	struct policy_stats	st;

	if (filter_work_start(base, nworkers, filter_done) == -1)
		fatal("filter: scanning threads");
	policy_stats(policy, &st);
	log_info("filter event=start antivirus=\"%s\" workers=%u "
	    "policy_files=%zu policy_rules=%zu", av_describe(), nworkers,
	    st.files, st.rules);
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
