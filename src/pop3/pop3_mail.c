/* SPDX-License-Identifier: ISC */
/*
 * pop3_mail.c - the pop3-mail process: one logged-in POP3 connection of
 * one account (RFC 1939 TRANSACTION and UPDATE states), started by the
 * master only after the auth service said who the connection is.  It
 * runs as the account's own uid, in a jail that holds only the account's
 * folder (at /mail), and reads the client's commands relayed by the
 * pop3-login process, which does not answer the successful PASS or AUTH:
 * that reply is the first thing written here.
 *
 * At login: the key from auth, the index, the maildrop lock (RFC 1939 8:
 * one POP3 session per maildrop; IMAP sessions of the account go on
 * meanwhile), the import of new/, the snapshot of INBOX (pop3_drop.c).
 * Nothing changes in the index before QUIT; a connection that ends any
 * other way (closed, timeout, SIGTERM, too many errors, a crash) deletes
 * and flags nothing.
 *
 * Process:  pop3-mail (account uid; account jail; ROLE_POP3_MAIL).
 * Trust:    the relayed bytes are the client's: hostile.  Lines are
 *           bounded (io_getline) before pop3_cmd_parse looks at them.
 *           Message content is only copied (pop3_drop_send); nothing of
 *           it is logged.
 * Limits:   POP3_CMD_LINE_MAX, POP3_MAX_ERRORS, POP3_TIMEOUT_MS,
 *           POP3_IMPORT_BATCHES, POP3_DROP_MAX.
 * See also: pop3_login.c, pop3_drop.c, pop3_cmd.c, imap_mail.c (the same
 *           start), sealpostd/proc.c (proc_login), privdrop.c
 *           (jail_account).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "sealpost.h"
#include "log.h"
#include "child.h"
#include "buf.h"
#include "io.h"
#include "ipc.h"
#include "ipc_types.h"
#include "index.h"
#include "mail_quota.h"
#include "pop3_cmd.h"
#include "pop3_drop.h"
#include "banned.h"

#define POP3_MAX_ERRORS		10
#define POP3_TIMEOUT_MS		(10 * 60 * 1000)	/* RFC 1939 3 */
/* new/ at login: INDEX_IMPORT_MAX each, 20,000 messages at most */
#define POP3_IMPORT_BATCHES	40
/* a LIST or UIDL answer is written in pieces of about POP3_DROP_CHUNK */
#define POP3_SCAN_BUF		(POP3_DROP_CHUNK + 1024)

static struct io		 io;
static uint64_t			 connid;
static unsigned long long	 account;
static unsigned int		 errors;
static unsigned long		 uid;	/* ours, from the master */
static unsigned char		*keys;	/* sodium_malloc: pk | sk */
static struct index		*ix;	/* /mail/index.db, with the key */
static struct pop3_drop		*drop;	/* the INBOX snapshot */
static struct ipc_msg		 keymsg;	/* wiped after use */
static int			 lockfd = -1;	/* pop3.lock, locked */
static long			 timeout_ms = POP3_TIMEOUT_MS;	/* or test */
static volatile sig_atomic_t	 stop;

static void
mail_sigterm(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * The end of the session, whatever the reason: nothing is committed here
 * (the commit is QUIT's).  The index closes cleanly and the key is wiped.
 */
static void __attribute__((noreturn))
mail_end(const char *reason)
{
	log_info("%016" PRIx64 " pop3-mail event=disconnect account=%llu "
	    "reason=%s errors=%u", connid, account, reason, errors);
	close(io.fd);
	pop3_drop_close(drop);
	drop = NULL;
	index_close(ix);
	ix = NULL;
	if (keys != NULL)
		sodium_free(keys);	/* wipes */
	keys = NULL;
	if (lockfd != -1)
		close(lockfd);
	exit(0);
}

static void mail_reply(const char *, ...)
    __attribute__((format(printf, 1, 2)));

static void
mail_reply(const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	SP_ASSERT(n > 0 && (size_t)n < sizeof(buf));
	if (io_write(&io, buf, (size_t)n) == -1)
		mail_end("write-error");
}

/* A -ERR for a bad command was sent: RFC 1939 does not bound them, we do. */
static void
mail_error(void)
{
	if (++errors >= POP3_MAX_ERRORS) {
		mail_reply("-ERR Too many errors\r\n");
		mail_end("too-many-errors");
	}
}

static int
mail_write(void *arg, const void *p, size_t len)
{
	(void)arg;
	/* SIGTERM in a long RETR: stop (without the final ".") */
	if (stop)
		return -1;
	return io_write(&io, p, len);
}

/*
 * The account's key pair, from auth (never through the master): 1, or 0
 * when auth closed the channel without one (an account without a store),
 * -1 when it did not come (auth unreachable or slow).
 */
static int
mail_take_key(void)
{
	const void	*pk, *sk;
	size_t		 pklen, sklen;
	uint64_t	 acct;
	int		 rc;

	if ((rc = ipc_recv(SP_FD_KEY, &keymsg, SP_IPC_TIMEOUT_MS)) != 1)
		return rc == 0 ? 0 : -1;
	if (keymsg.hdr.type != IMSG_AUTH_KEY ||
	    ipc_get_u64(&keymsg, &acct) == -1 ||
	    ipc_get_data(&keymsg, &pk, &pklen) == -1 ||
	    ipc_get_data(&keymsg, &sk, &sklen) == -1 ||
	    ipc_end(&keymsg) == -1 || pklen != 32 || sklen != 32 ||
	    acct != account)
		fatalx("pop3-mail: malformed key message from auth");
	if ((keys = sodium_malloc(64)) == NULL)
		fatal("pop3-mail: sodium_malloc");
	memcpy(keys, pk, 32);
	memcpy(keys + 32, sk, 32);
	sodium_memzero(&keymsg, sizeof(keymsg));
	return 1;
}

/*
 * Everything before the reply to the login: the key, the index, the
 * maildrop lock, new/, the snapshot.  A failure answers the login with
 * -ERR and ends the session.
 */
static void
mail_open_drop(void)
{
	size_t		 imported, remaining, total = 0;
	uint32_t	 n;
	uint64_t	 octets;
	char		 err[256];
	int		 dfd, rc, i;

	if ((rc = mail_take_key()) != 1) {
		log_warnx("%016" PRIx64 " pop3-mail event=store account=%llu "
		    "result=fail reason=%s", connid, account, rc == 0 ?
		    "no-key" : "key-not-received");
		if (rc == 0)
			mail_reply("-ERR [SYS/PERM] No mail store for this "
			    "account\r\n");
		else
			mail_reply("-ERR [SYS/TEMP] Mail store unavailable, "
			    "try again later\r\n");
		mail_end("no-store");
	}
	/* the channel stays: this account's quota, from auth */
	mail_quota_init(SP_FD_KEY, account);
	if ((dfd = open("/mail", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || (ix = index_open(dfd, "/mail", keys,
	    keys + 32, INDEX_OPEN_CREATE, err, sizeof(err))) == NULL) {
		log_warnx("%016" PRIx64 " pop3-mail event=store account=%llu "
		    "result=fail reason=%s", connid, account, dfd == -1 ?
		    strerror(errno) : err);
		mail_reply("-ERR [SYS/TEMP] Mail store unavailable, try again "
		    "later\r\n");
		mail_end("store-unavailable");
	}
	/* RFC 1939 8: the maildrop is locked for the whole session */
	if ((rc = pop3_drop_lock(dfd, &lockfd)) != 1) {
		if (rc == 0) {
			log_info("%016" PRIx64 " pop3-mail event=lock "
			    "account=%llu result=in-use", connid, account);
			mail_reply("-ERR [IN-USE] Maildrop already locked by "
			    "another POP3 session\r\n");
			mail_end("in-use");
		}
		log_warn("%016" PRIx64 " pop3-mail event=lock account=%llu "
		    "result=fail", connid, account);
		mail_reply("-ERR [SYS/TEMP] Mail store unavailable, try again "
		    "later\r\n");
		mail_end("store-unavailable");
	}
	close(dfd);
	/*
	 * What deliver left in new/ is part of the maildrop (a POP3 client
	 * has no other way to see it), in bounded batches; a failure leaves
	 * it there for the next session.
	 */
	for (i = 0; i < POP3_IMPORT_BATCHES; i++) {
		if (index_import(ix, INDEX_IMPORT_MAX, &imported,
		    &remaining) == -1) {
			log_warnx("%016" PRIx64 " pop3-mail event=import "
			    "result=fail reason=%s", connid, index_errstr(ix));
			break;
		}
		total += imported;
		if (remaining == 0 || imported == 0)
			break;
	}
	if (total > 0 || remaining > 0)
		log_info("%016" PRIx64 " pop3-mail event=import account=%llu "
		    "imported=%zu remaining=%zu", connid, account, total,
		    remaining);
	if ((drop = pop3_drop_open(ix)) == NULL) {
		log_warnx("%016" PRIx64 " pop3-mail event=store account=%llu "
		    "result=fail reason=%s", connid, account,
		    index_errstr(ix));
		mail_reply("-ERR [SYS/TEMP] Mail store unavailable, try again "
		    "later\r\n");
		mail_end("store-unavailable");
	}
	pop3_drop_stat(drop, &n, &octets);
	log_info("%016" PRIx64 " pop3-mail event=login account=%llu "
	    "messages=%" PRIu32 " octets=%llu%s", connid, account, n,
	    (unsigned long long)octets, drop->truncated ? " truncated=yes" :
	    "");
	mail_reply("+OK Logged in, %" PRIu32 " messages (%llu octets)\r\n", n,
	    (unsigned long long)octets);
}

/* RFC 1939 6: the UPDATE state, then the end. */
static void __attribute__((noreturn))
mail_quit(void)
{
	struct pop3_commit	res;
	uint64_t		freed;
	int			rc;

	rc = pop3_drop_commit(drop, &res);
	if (res.seen_failed)
		log_warnx("%016" PRIx64 " pop3-mail event=seen account=%llu "
		    "result=fail reason=%s", connid, account, res.seen_err);
	if (rc == -1)
		log_warnx("%016" PRIx64 " pop3-mail event=expunge "
		    "account=%llu result=fail reason=%s", connid, account,
		    index_errstr(ix));
	/* the blobs no row names any more: back to the account's quota */
	if ((freed = index_freed_take(ix)) > 0 &&
	    mail_quota_release(freed) == -1)
		log_warnx("%016" PRIx64 " pop3-mail: %llu bytes freed but not "
		    "given back to the quota (auth unreachable)", connid,
		    (unsigned long long)freed);
	log_info("%016" PRIx64 " pop3-mail event=quit account=%llu "
	    "deleted=%" PRIu32 " retrieved=%" PRIu32 " expunged=%zu", connid,
	    account, res.deleted, drop->nretrieved, res.expunged);
	if (rc == -1)
		mail_reply("-ERR [SYS/TEMP] Some deleted messages not "
		    "removed\r\n");
	else
		mail_reply("+OK sealpost POP3 server signing off (%" PRIu32
		    " messages deleted)\r\n", res.deleted);
	mail_end("quit");
}

/* LIST or UIDL without an argument: one buffer, few writes. */
static void
mail_scan(int what)
{
	struct buf	*b;
	uint32_t	 n;
	uint64_t	 octets;

	pop3_drop_stat(drop, &n, &octets);
	b = buf_new(POP3_SCAN_BUF);
	if (buf_addf(b, "+OK %" PRIu32 " messages (%llu octets)\r\n", n,
	    (unsigned long long)octets) == -1)
		fatalx("pop3-mail: scan buffer");
	if (pop3_drop_scan(drop, what, b, mail_write, NULL) == -1) {
		buf_free(&b);
		mail_end(stop ? "shutdown" : "write-error");
	}
	buf_free(&b);
}

/* RETR and TOP. */
static void
mail_send(const struct pop3_cmd *c)
{
	const struct pop3_drop_msg	*m;
	char				 ok[64];
	int				 n;
	bool				 top = c->verb == POP3_TOP;

	if ((m = pop3_drop_msg(drop, c->n1)) == NULL || m->deleted) {
		mail_reply("-ERR No such message\r\n");
		return;
	}
	if (top)
		n = snprintf(ok, sizeof(ok), "+OK\r\n");
	else
		n = snprintf(ok, sizeof(ok), "+OK %llu octets\r\n",
		    (unsigned long long)m->size);
	SP_ASSERT(n > 0 && (size_t)n < sizeof(ok));
	switch (pop3_drop_send(drop, c->n1, top, c->n2, ok, (size_t)n,
	    mail_write, NULL)) {
	case POP3_SEND_OK:
		return;
	case POP3_SEND_NOMSG:
		mail_reply("-ERR No such message\r\n");
		return;
	case POP3_SEND_DAMAGED:
		log_warnx("%016" PRIx64 " pop3-mail event=read account=%llu "
		    "uid=%" PRIu32 " result=fail reason=%s", connid, account,
		    m->uid, index_errstr(ix));
		mail_reply("-ERR [SYS/PERM] Message %" PRIu32 " cannot be "
		    "read\r\n", c->n1);
		return;
	case POP3_SEND_GONE:
		mail_reply("-ERR [SYS/PERM] Message %" PRIu32 " was removed "
		    "by another session\r\n", c->n1);
		return;
	case POP3_SEND_TEMP:
		log_warnx("%016" PRIx64 " pop3-mail event=read account=%llu "
		    "uid=%" PRIu32 " result=fail reason=%s", connid, account,
		    m->uid, index_errstr(ix));
		mail_reply("-ERR [SYS/TEMP] Message %" PRIu32 " cannot be "
		    "read now, try again later\r\n", c->n1);
		return;
	case POP3_SEND_READ:
		/* the +OK went out: end without the "." (RFC 1939 3) */
		log_warn("%016" PRIx64 " pop3-mail event=read account=%llu "
		    "uid=%" PRIu32 " result=fail", connid, account, m->uid);
		mail_end("read-error");
	case POP3_SEND_WRITE:
	default:
		mail_end(stop ? "shutdown" : "write-error");
	}
}

static void
mail_command(char *line, size_t len)
{
	struct pop3_cmd			 c;
	const struct pop3_drop_msg	*m;
	const char			*perr;
	char				 id[POP3_UIDL_MAX];
	uint32_t			 n;
	uint64_t			 octets;

	if (pop3_cmd_parse(line, len, &c, &perr) == -1) {
		/* a refused PASS or AUTH line may hold a secret */
		if (c.verb == POP3_PASS || c.verb == POP3_AUTH) {
			sodium_memzero(line, len);
			io_wipe_spent(&io);
		}
		mail_reply("-ERR %s\r\n", perr);
		mail_error();
		return;
	}
	switch (c.verb) {
	case POP3_USER:
	case POP3_PASS:
	case POP3_APOP:
	case POP3_AUTH:
	case POP3_STLS:
		if (c.verb == POP3_PASS || c.verb == POP3_AUTH) {
			sodium_memzero(line, len);
			io_wipe_spent(&io);
		}
		mail_reply("-ERR Command not valid in the TRANSACTION "
		    "state\r\n");
		mail_error();
		return;
	case POP3_CAPA:
		/* RFC 2449 5, 6: what this state offers */
		mail_reply("+OK Capability list follows\r\nTOP\r\nUIDL\r\n"
		    "RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
		    "IMPLEMENTATION sealpost\r\n.\r\n");
		return;
	case POP3_QUIT:
		mail_quit();
	case POP3_STAT:
		pop3_drop_stat(drop, &n, &octets);
		mail_reply("+OK %" PRIu32 " %llu\r\n", n,
		    (unsigned long long)octets);
		return;
	case POP3_LIST:
	case POP3_UIDL:
		if (!c.has_n1) {
			mail_scan(c.verb == POP3_LIST ? POP3_SCAN_LIST :
			    POP3_SCAN_UIDL);
			return;
		}
		if ((m = pop3_drop_msg(drop, c.n1)) == NULL || m->deleted) {
			mail_reply("-ERR No such message\r\n");
			return;
		}
		if (c.verb == POP3_LIST)
			mail_reply("+OK %" PRIu32 " %llu\r\n", c.n1,
			    (unsigned long long)m->size);
		else {
			SP_ASSERT(pop3_drop_uidl(drop, c.n1, id,
			    sizeof(id)) == 0);
			mail_reply("+OK %" PRIu32 " %s\r\n", c.n1, id);
		}
		return;
	case POP3_RETR:
	case POP3_TOP:
		mail_send(&c);
		return;
	case POP3_DELE:
		if ((m = pop3_drop_msg(drop, c.n1)) == NULL)
			mail_reply("-ERR No such message\r\n");
		else if (pop3_drop_dele(drop, c.n1) == 1)
			mail_reply("+OK Message %" PRIu32 " deleted\r\n",
			    c.n1);
		else
			mail_reply("-ERR Message %" PRIu32 " already "
			    "deleted\r\n", c.n1);
		return;
	case POP3_RSET:
		pop3_drop_rset(drop);
		pop3_drop_stat(drop, &n, &octets);
		mail_reply("+OK Maildrop has %" PRIu32 " messages (%llu "
		    "octets)\r\n", n, (unsigned long long)octets);
		return;
	case POP3_NOOP:
		mail_reply("+OK\r\n");
		return;
	case POP3_UNKNOWN:
	default:
		mail_reply("-ERR Unknown command\r\n");
		mail_error();
		return;
	}
}

int
main(int argc, char **argv)
{
	struct child_args	 a;
	struct sandbox_status	 st;
	struct sigaction	 sa;
	const char		*errstr;
#ifdef SP_TEST_HOOKS
	const char		*v;
#endif
	char			*end, *line;
	size_t			 len;
	int			 ch;

	memset(&a, 0, sizeof(a));
	log_init("pop3-mail", LOG_DEST_MASTER, SP_FD_LOG);
	while ((ch = getopt(argc, argv, CHILD_GETOPT "a:H:i:")) != -1) {
		if (child_getopt(ch, optarg, &a))
			continue;
		switch (ch) {
		case 'a':
			account = (unsigned long long)strtonum(optarg, 0,
			    4294967295LL, &errstr);
			if (errstr != NULL)
				fatalx("pop3-mail: bad account id");
			break;
		case 'H':
			break;
		case 'i':
			errno = 0;
			connid = strtoull(optarg, &end, 16);
			if (errno != 0 || *end != '\0' || end == optarg)
				fatalx("pop3-mail: bad connection id");
			break;
		default:
			fatalx("usage: pop3-mail -u UID -g GID -j DIR -m ROOT "
			    "-i ID -a ACCOUNT -H HOST");
		}
	}
	child_args_check(&a, "pop3-mail");
#ifdef SP_TEST_HOOKS
	if ((v = child_opt(&a, "timeouts")) != NULL) {
		timeout_ms = strtonum(v, 100, 60000, &errstr);
		if (errstr != NULL)
			fatalx("pop3-mail: bad timeouts from the master");
	}
#endif
	uid = (unsigned long)a.uid;
	if (a.mailroot == NULL)
		fatalx("pop3-mail: -m is required");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mail_sigterm;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		fatal("sigaction");
	signal(SIGPIPE, SIG_IGN);
	io_init(&io, SP_FD_CLIENT, (int)timeout_ms);
	io.stop = &stop;

	/* before the jail: libsodium, SQLite's seed */
	if (sodium_init() < 0 || index_init() == -1)
		fatalx("pop3-mail: sodium_init or index_init");
	child_confine(&a, ROLE_POP3_MAIL, "pop3-mail", &st);
	child_ready(SP_FD_MASTER, "pop3-mail", &st);
	log_info("%016" PRIx64 " pop3-mail event=start account=%llu uid=%lu "
	    "sandbox=\"%s\"", connid, account, uid, sandbox_describe(&st));
	mail_open_drop();

	for (;;) {
		switch (io_getline(&io, POP3_CMD_LINE_MAX - 2, &line, &len)) {
		case IO_LINE:
			mail_command(line, len);
			break;
		case IO_TOOLONG:
			mail_reply("-ERR Line too long\r\n");
			mail_error();
			break;
		case IO_TIMEOUT:
			mail_reply("-ERR Autologout; idle for too long\r\n");
			mail_end("timeout");
		case IO_STOP:
			mail_reply("-ERR [SYS/TEMP] Server shutting down\r\n");
			mail_end("shutdown");
		case IO_EOF:
			mail_end("client-closed");
		case IO_ERROR:
		default:
			mail_end("io-error");
		}
	}
}
