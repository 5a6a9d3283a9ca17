/* SPDX-License-Identifier: ISC */
/*
 * imap_mail.c - the imap-mail process: one logged-in IMAP connection of
 * one account, started by the master only after the auth service said who
 * the connection is.  It runs as the account's own uid, in a jail that
 * holds only the account's folder (at /mail), and reads the client's
 * commands relayed by the imap-login process.
 *
 * Commands are read and parsed by imap_cmd.c (literals, LITERAL+,
 * bounds); CAPABILITY, NOOP and LOGOUT are answered here, the mailbox
 * commands by imap_mbox.c; the rest get BAD until the IMAP issues add
 * them.
 *
 * Process:  imap-mail (account uid; account jail; ROLE_IMAP_MAIL).
 * Trust:    the relayed bytes are the client's: hostile.  Lines are bounded
 *           before they are looked at.
 * Limits:   IMAP_LINE_MAX, IMAP_MAX_ERRORS, IMAP_TIMEOUT_AUTH_MS.
 * See also: imap_login.c, sealpostd/proc.c (proc_login), privdrop.c
 *           (jail_account).
 */
#include "config.h"

#include <sys/inotify.h>

#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "conf.h"
#include "child.h"
#include "io.h"
#include "ipc.h"
#include "ipc_types.h"
#include "index.h"
#include "meta.h"
#include "meta_seal.h"
#include "imap_cmd.h"
#include "imap_mbox.h"
#include "mail_quota.h"
#include "imap_compress.h"
#include "banned.h"

#define IMAP_LINE_MAX		8192
#define IMAP_MAX_ERRORS		10
#define IMAP_TIMEOUT_AUTH_MS	(30 * 60 * 1000)	/* RFC 3501 5.4 */
#define IMAP_LITERAL_MAX	(64 * 1024)	/* APPEND will take more */
#define IMAP_IDLE_POLL_MS	(30 * 1000)	/* IDLE looks anyway */
#define IMAP_META_AT_LOGIN	20	/* records built before serving */
#define IMAP_META_BATCH		2	/* then this many while it is quiet */

static struct io		 io;
static uint64_t			 connid;
static unsigned long long	 account;
static unsigned int		 errors;
static unsigned long		 uid;		/* ours, from the master */
static unsigned char		*keys;		/* sodium_malloc: pk | sk */
static struct index		*ix;		/* /mail/index.db, with the key */
static struct ipc_msg		 keymsg;	/* wiped after use */
static struct imap_raw		 raw;		/* the command being read */
static long			 to_auth = IMAP_TIMEOUT_AUTH_MS;	/* or test */
static bool			 backlog;	/* new/ held more than a batch */
static bool			 meta_backlog;	/* messages without metadata */
static volatile sig_atomic_t	 stop;

/*
 * The account's key pair, from auth (never through the master), then the
 * account's index: import what deliver left in new/.  A test account has
 * no key: auth closes the channel and there is no store to open.
 */
static void
mail_open_store(void)
{
	const void	*pk, *sk;
	size_t		 pklen, sklen, imported = 0, remaining = 0, built;
	uint64_t	 acct;
	char		 err[256];
	int		 dfd;

	if (ipc_recv(SP_FD_KEY, &keymsg, SP_IPC_TIMEOUT_MS) != 1)
		return;
	if (keymsg.hdr.type != IMSG_AUTH_KEY ||
	    ipc_get_u64(&keymsg, &acct) == -1 ||
	    ipc_get_data(&keymsg, &pk, &pklen) == -1 ||
	    ipc_get_data(&keymsg, &sk, &sklen) == -1 ||
	    ipc_end(&keymsg) == -1 || pklen != 32 || sklen != 32 ||
	    acct != account)
		fatalx("imap-mail: malformed key message from auth");
	if ((keys = sodium_malloc(64)) == NULL)
		fatal("imap-mail: sodium_malloc");
	memcpy(keys, pk, 32);
	memcpy(keys + 32, sk, 32);
	sodium_memzero(&keymsg, sizeof(keymsg));
	/* the channel stays: this account's quota, from auth */
	mail_quota_init(SP_FD_KEY, account);
	if ((dfd = open("/mail", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || (ix = index_open(dfd, "/mail", keys,
	    keys + 32, INDEX_OPEN_CREATE, err, sizeof(err))) == NULL) {
		log_warnx("%016" PRIx64 " imap-mail event=store account=%llu "
		    "result=fail reason=%s", connid, account, dfd == -1 ?
		    strerror(errno) : err);
		return;
	}
	/* one bounded batch: a backlog never delays the login */
	if (index_import(ix, INDEX_IMPORT_MAX, &imported, &remaining) == -1)
		log_warnx("%016" PRIx64 " imap-mail event=import result=fail "
		    "reason=%s", connid, index_errstr(ix));
	else {
		log_info("%016" PRIx64 " imap-mail event=import account=%llu "
		    "imported=%zu remaining=%zu", connid, account, imported,
		    remaining);
		backlog = remaining > 0;
	}
	/*
	 * The metadata of what is new, newest first: a few now, the rest
	 * while the client is quiet (mail_meta_quiet), so that a backlog
	 * never delays the login.
	 */
	if (meta_seal_pending(ix, keys + 32, IMAP_META_AT_LOGIN, &built) == -1)
		log_warnx("%016" PRIx64 " imap-mail event=metadata "
		    "result=fail reason=%s", connid, index_errstr(ix));
	else {
		if (built > 0)
			log_info("%016" PRIx64 " imap-mail event=metadata "
			    "account=%llu built=%zu", connid, account, built);
		meta_backlog = built == IMAP_META_AT_LOGIN;
	}
}

/* Build up to max metadata records; the backlog ends when fewer were due. */
static void
mail_meta_some(size_t max)
{
	size_t	built;

	if (!meta_backlog || ix == NULL || keys == NULL)
		return;
	if (meta_seal_pending(ix, keys + 32, max, &built) == -1 ||
	    built < max)
		meta_backlog = false;
}

/* The backlog, a batch at a time, until the client says something. */
static void
mail_meta_quiet(void)
{
	while (meta_backlog && !stop && !io_input_waiting(&io, 0))
		mail_meta_some(IMAP_META_BATCH);
}
static void
mail_sigterm(int sig)
{
	(void)sig;
	stop = 1;
}

static void __attribute__((noreturn))
mail_end(const char *reason)
{
	log_info("%016" PRIx64 " imap-mail event=disconnect account=%llu "
	    "reason=%s errors=%u", connid, account, reason, errors);
	close(io.fd);
	exit(0);
}

static void mail_reply(const char *, ...)
    __attribute__((format(printf, 1, 2)));

static void
mail_reply(const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	SP_ASSERT(n > 0 && (size_t)n < sizeof(buf));
	if (io_write(&io, buf, (size_t)n) == -1)
		mail_end("write-error");
}

static void
mail_error(void)
{
	if (++errors >= IMAP_MAX_ERRORS) {
		mail_reply("* BYE Too many invalid commands\r\n");
		mail_end("too-many-errors");
	}
}

#ifdef SP_TEST_HOOKS
struct mail_test_walk {
	int64_t		 mailbox;
	unsigned int	 n;
	char		*subj;
	size_t		 len;
};

static int
mail_test_meta_one(const struct index_msg_info *mi, void *arg)
{
	struct mail_test_walk	*w = arg;
	struct meta		*rec;
	char			 err[256];
	size_t			 i;

	if ((rec = meta_seal_load(ix, keys + 32, w->mailbox, mi->uid, err,
	    sizeof(err))) == NULL)
		return 0;
	w->n++;
	/* the decoded subject of the last one, in hex: ASCII on the wire */
	w->subj[0] = '-';
	w->subj[1] = '\0';
	for (i = 0; rec->subject != NULL && rec->subject[i] != '\0' &&
	    2 * i + 2 < w->len; i++)
		snprintf(w->subj + 2 * i, 3, "%02x",
		    (unsigned char)rec->subject[i]);
	meta_free(rec);
	return 0;
}

/* Test hooks: how many records of INBOX open; the newest one's subject. */
static void
mail_test_meta(int64_t mailbox, unsigned int *n_r, char *subj, size_t len)
{
	struct mail_test_walk	w = { mailbox, 0, subj, len };

	snprintf(subj, len, "-");
	if (keys != NULL)
		(void)index_msg_foreach(ix, mailbox, 1, UINT32_MAX, 0,
		    mail_test_meta_one, &w);
	*n_r = w.n;
}
#endif

static struct imap_mbox	mbox;
static uint64_t		append_max = 50ULL << 20;	/* -o max-size */

/*
 * The literal now announced may be a message only in APPEND (RFC 3501
 * 6.3.11): "tag APPEND mailbox [flags] [date] {N}"; every other command
 * keeps the small limit.
 */
static size_t
mail_literal_limit(void *arg, const struct imap_raw *r, size_t max)
{
	const char	*p, *end;

	(void)arg;
	if (r->nsegs != 1 || r->segs[0].literal)
		return max;
	p = r->segs[0].p;
	end = p + r->segs[0].len;
	while (p < end && *p != ' ')
		p++;			/* the tag */
	if (end - p > 8 && strncasecmp(p, " APPEND ", 8) == 0)
		return append_max > SIZE_MAX / 2 ? max : (size_t)append_max;
	return max;
}

static int
mail_write(void *arg, const char *p, size_t len)
{
	(void)arg;
	return io_write(&io, p, len);
}

static int	inotify_fd = -1;	/* new/ and the changes file */

/*
 * Watch new/ (deliveries) and the changes file (other connections of the
 * account): it wakes IDLE and tells a command whether new/ needs a look.
 * Made once, in the jail (paths under /mail).
 */
static void
mail_watch(void)
{
	if (inotify_fd != -1 || ix == NULL)
		return;
	if ((inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return;
	if (inotify_add_watch(inotify_fd, "/mail/new", IN_MOVED_TO |
	    IN_CREATE) == -1 || inotify_add_watch(inotify_fd, "/mail/changes",
	    IN_MODIFY | IN_CLOSE_WRITE) == -1) {
		close(inotify_fd);
		inotify_fd = -1;
	}
}

/*
 * Whether new/ needs a look: something happened since the last call, a
 * backlog remains, or nothing watches.
 */
static bool
mail_events(void)
{
	char	buf[4096];
	bool	any = backlog;

	if (inotify_fd == -1)
		return true;
	while (read(inotify_fd, buf, sizeof(buf)) > 0)
		any = true;
	return any;
}

/* Import what deliver left in new/ (bounded, as at login). */
static void
mail_import(void)
{
	size_t	imported, remaining;

	if (ix == NULL)
		return;
	if (index_import(ix, INDEX_IMPORT_MAX, &imported, &remaining) == -1)
		return;
	backlog = remaining > 0;
	if (imported > 0)
		meta_backlog = true;
}

/* Import, then tell the client what changed (IDLE). */
static void
mail_update(void)
{
	if (ix == NULL)
		return;
	mail_import();
	mbox.ix = ix;
	if (imap_mbox_changes(&mbox) == -1)
		mail_end("write-error");
}

/*
 * RFC 2177 IDLE: "+ idling", then changes as they happen until the
 * client's DONE.  Woken by inotify; without it (or as a safety net) the
 * mailbox is looked at every IMAP_IDLE_POLL_MS.  The session's 30-minute
 * timeout ends an IDLE too, however busy the mailbox (RFC 2177 3: clients
 * re-IDLE at least every 29 minutes).
 */
static void
mail_idle(const char *tag)
{
	struct pollfd	 pfd[2];
	char		*line;
	size_t		 len;
	long		 start, now, next_look, wait;
	int		 n;

	start = io_now_ms();
	next_look = start + IMAP_IDLE_POLL_MS;
	(void)mail_events();
	mail_update();
	mail_reply("+ idling\r\n");
	for (;;) {
		/* io_pending: also what COMPRESS holds, which poll cannot see */
		if (!io_pending(&io)) {
			now = io_now_ms();
			if (now - start >= to_auth) {
				mail_reply("* BYE Autologout; idle for too "
				    "long\r\n");
				mail_end("timeout");
			}
			if (now >= next_look) {
				mail_update();		/* the safety net */
				next_look = now + IMAP_IDLE_POLL_MS;
			}
			wait = start + to_auth - now;
			if (next_look - now < wait)
				wait = next_look - now;
			if (meta_backlog)
				wait = 0;	/* quiet: build a batch */
			pfd[0].fd = io.fd;
			pfd[0].events = POLLIN;
			pfd[1].fd = inotify_fd;
			pfd[1].events = POLLIN;
			pfd[0].revents = pfd[1].revents = 0;
			n = poll(pfd, inotify_fd != -1 ? 2 : 1, (int)wait);
			if (n == -1 && errno != EINTR)
				mail_end("io-error");
			if (stop) {
				mail_reply("* BYE Server shutting down\r\n");
				mail_end("shutdown");
			}
			if (n > 0 && inotify_fd != -1 &&
			    (pfd[1].revents & POLLIN) && mail_events())
				mail_update();
			if (n == 0)
				mail_meta_some(IMAP_META_BATCH);
			if (n <= 0 || !(pfd[0].revents & (POLLIN | POLLHUP)))
				continue;
		}
		switch (io_getline(&io, IMAP_LINE_MAX, &line, &len)) {
		case IO_LINE:
			if (strcasecmp(line, "DONE") == 0) {
				mail_update();
				mail_reply("%s OK IDLE terminated\r\n", tag);
				return;
			}
			mail_reply("%s BAD Expected DONE\r\n", tag);
			mail_error();
			return;
		case IO_TOOLONG:
			mail_reply("%s BAD Line too long\r\n", tag);
			mail_error();
			return;
		case IO_EOF:
			mail_end("client-closed");
		default:
			mail_end("io-error");
		}
	}
}

static void
mail_command(const struct imap_cmd *c)
{
	const char	*tag = c->tag;
	int		 r;

	if (strcmp(c->name, "CAPABILITY") == 0 && !c->uid && c->nargs == 0) {
		mail_reply("* CAPABILITY " IMAP_CAPS_AUTH " APPENDLIMIT=%llu\r\n"
		    "%s OK CAPABILITY completed\r\n",
		    (unsigned long long)append_max, tag);
		return;
	}
	if (strcmp(c->name, "NOOP") == 0 && !c->uid && c->nargs == 0 &&
	    ix == NULL) {
		mail_reply("%s OK NOOP completed\r\n", tag);
		return;
	}
	if (strcmp(c->name, "IDLE") == 0 && !c->uid && c->nargs == 0 &&
	    ix != NULL) {
		mail_idle(tag);
		return;
	}
	if (strcmp(c->name, "LOGOUT") == 0 && !c->uid && c->nargs == 0) {
		mail_reply("* BYE Logging out\r\n%s OK LOGOUT completed\r\n",
		    tag);
		mail_end("logout");
	}
#ifdef SP_TEST_HOOKS
	/* test hooks: who and where are we, as the tests see it */
	if (strcmp(c->name, "XSPTEST") == 0) {
		struct index_mailbox	mb;
		char			subj[128];
		unsigned int		meta;

		while (meta_backlog)		/* all of it, for the count */
			mail_meta_some(IMAP_META_BATCH);
		if (ix == NULL || index_mailbox_open(ix, "INBOX", &mb) != 1)
			mb.messages = 0;
		if (ix != NULL) {
			mail_test_meta(mb.id, &meta, subj, sizeof(subj));
			mail_reply("* XSPTEST uid=%lu account=%llu inbox=%u "
			    "meta=%u subject=%s\r\n"
			    "%s OK XSPTEST completed\r\n", uid, account,
			    mb.messages, meta, subj, tag);
		} else
			mail_reply("* XSPTEST uid=%lu account=%llu\r\n"
			    "%s OK XSPTEST completed\r\n", uid, account, tag);
		return;
	}
#endif
	if (strcmp(c->name, "COMPRESS") == 0 && !c->uid) {
		/* RFC 4978 3: once per connection; DEFLATE is the one */
		if (c->nargs != 1 || c->args[0].type != IMAP_ARG_ATOM ||
		    c->args[0].len != 7 || strncasecmp(c->args[0].s, "DEFLATE",
		    7) != 0) {
			mail_reply("%s BAD Unknown compression mechanism\r\n",
			    tag);
			return;
		}
		if (imap_compress_active()) {
			mail_reply("%s NO [COMPRESSIONACTIVE] DEFLATE active "
			    "already\r\n", tag);
			return;
		}
		mail_reply("%s OK DEFLATE active\r\n", tag);
		if (imap_compress_start(&io) == -1)
			mail_end("compress-failed");
		log_info("%016" PRIx64 " imap-mail event=compress "
		    "account=%llu", connid, account);
		return;
	}
	if (strcmp(c->name, "LOGIN") == 0 ||
	    strcmp(c->name, "AUTHENTICATE") == 0) {
		/* RFC 3501 6.2.2, 6.2.3: only in the not-authenticated state */
		mail_reply("%s BAD Already logged in\r\n", tag);
		mail_error();
		return;
	}
	if (ix != NULL) {
		/* a delivery waits in new/: in the index before the news */
		if (mail_events())
			mail_import();
		mbox.ix = ix;
		r = imap_mbox_command(&mbox, c);
		raw.utf8 = mbox.utf8;	/* ENABLE UTF8=ACCEPT or IMAP4rev2 */
		if (r == -1)
			mail_end("write-error");
		if (r == 1)
			return;
	}
	mail_reply("%s BAD Command unknown or not available yet\r\n", tag);
	mail_error();
}

int
main(int argc, char **argv)
{
	struct child_args	 a;
	struct sandbox_status	 st;
	struct sigaction	 sa;
	const char		*errstr, *v;
	char			*end;
	int			 ch;

	memset(&a, 0, sizeof(a));
	log_init("imap-mail", LOG_DEST_MASTER, SP_FD_LOG);
	while ((ch = getopt(argc, argv, CHILD_GETOPT "a:H:i:")) != -1) {
		if (child_getopt(ch, optarg, &a))
			continue;
		switch (ch) {
		case 'a':
			account = (unsigned long long)strtonum(optarg, 0,
			    4294967295LL, &errstr);
			if (errstr != NULL)
				fatalx("imap-mail: bad account id");
			break;
		case 'H':
			break;
		case 'i':
			errno = 0;
			connid = strtoull(optarg, &end, 16);
			if (errno != 0 || *end != '\0' || end == optarg)
				fatalx("imap-mail: bad connection id");
			break;
		default:
			fatalx("usage: imap-mail -u UID -g GID -j DIR -m ROOT "
			    "-i ID -a ACCOUNT -H HOST");
		}
	}
	child_args_check(&a, "imap-mail");
	if ((v = child_opt(&a, "max-size")) != NULL) {
		append_max = (uint64_t)strtonum(v, 1024, 1LL << 40, &errstr);
		if (errstr != NULL)
			fatalx("imap-mail: bad max-size from the master");
	}
	raw.literal_limit = mail_literal_limit;
#ifdef SP_TEST_HOOKS
	if ((v = child_opt(&a, "timeouts")) != NULL) {
		to_auth = strtonum(v, 100, 60000, &errstr);
		if (errstr != NULL)
			fatalx("imap-mail: bad timeouts from the master");
	}
#endif
	uid = (unsigned long)a.uid;
	if (a.mailroot == NULL)
		fatalx("imap-mail: -m is required");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mail_sigterm;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		fatal("sigaction");
	signal(SIGPIPE, SIG_IGN);
	io_init(&io, SP_FD_CLIENT, (int)to_auth);
	io.stop = &stop;

	/* before the jail: libsodium, SQLite's seed, GMime, the time zone */
	if (sodium_init() < 0 || index_init() == -1)
		fatalx("imap-mail: sodium_init or index_init");
	meta_init();
	tzset();
	child_confine(&a, ROLE_IMAP_MAIL, "imap-mail", &st);
	child_ready(SP_FD_MASTER, "imap-mail", &st);
	mail_open_store();
	mail_watch();
	log_info("%016" PRIx64 " imap-mail event=start account=%llu uid=%lu "
	    "sandbox=\"%s\"", connid, account, uid, sandbox_describe(&st));

	mbox.write_fn = mail_write;
	mbox.appendlimit = append_max;
	mbox.sk = keys != NULL ? keys + 32 : NULL;
	for (;;) {
		struct imap_cmd		 cmd;
		const char		*perr;
		enum imap_read_status	 rs;
		enum imap_parse_status	 ps;
		int			 iost = IO_ERROR;
		bool			 insync = true;
		char			 reply[256];

		mail_meta_quiet();
		rs = imap_cmd_read(&io, &raw, IMAP_LITERAL_MAX, mail_write,
		    NULL, &iost, &insync);
		if (rs == IMAP_READ_IO) {
			switch (iost) {
			case IO_TIMEOUT:
				mail_reply("* BYE Autologout; idle for too "
				    "long\r\n");
				mail_end("timeout");
			case IO_STOP:
				mail_reply("* BYE Server shutting down\r\n");
				mail_end("shutdown");
			case IO_EOF:
				mail_end("client-closed");
			default:
				mail_end("io-error");
			}
		}
		if (rs != IMAP_READ_OK) {
			if (imap_read_refusal(rs, &raw, insync, reply,
			    sizeof(reply))) {
				mail_reply("%s", reply);
				mail_end("literal-too-big");
			}
			mail_reply("%s", reply);
			mail_error();
			continue;
		}
		memset(&cmd, 0, sizeof(cmd));
		if ((ps = imap_cmd_parse(&raw, &cmd, &perr)) != IMAP_PARSE_OK) {
			imap_parse_refusal(ps, &cmd, perr, reply, sizeof(reply));
			mail_reply("%s", reply);
			imap_cmd_free(&cmd);
			mail_error();
			continue;
		}
		mail_command(&cmd);
		imap_cmd_free(&cmd);
	}
}
