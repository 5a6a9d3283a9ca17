/* SPDX-License-Identifier: ISC */
/*
 * pgp.c - the pgp service: for an smtp session, whether a recipient has
 * a usable OpenPGP key (the policy's "pgp required", at RCPT), and that
 * recipient's copy of a message encrypted to its key as RFC 3156
 * PGP/MIME (pgp_mime.c), before it is stored or queued; under the
 * policy's "sign yes", signed with the organization's key too, or only
 * signed (multipart/signed, pgp_sign.c) when it is not encrypted.  One
 * GPGME context lives as long as the process; each operation runs gpg,
 * which needs no agent for the keyring (public keys only: gpg.conf says
 * no-autostart).  The signing key has a second context and its own
 * gpg-agent, our child (pgp_agent.c), when DATA_DIR/keys/signing holds
 * a key.
 *
 * Process:  pgp (user _sp_pgp; jail_pgp: a private mount namespace with
 *           /usr, /dev/null and the keyring DATA_DIR/keys/gnupg at
 *           /gnupg, read-only, the signing home at /signing; sandbox
 *           ROLE_PGP: the one role that may exec, and only gpg and
 *           gpg-agent).
 * Trust:    requests come from smtp sessions (untrusted): addresses are
 *           bounded and checked (pgp_key_for), the message memfd's seals
 *           are checked before it is read; the message itself is parsed
 *           by GMime only.  The keyring is the administrator's
 *           (sealpostctl key import), read-only here.
 * Limits:   PGP_MSG_MAX per message.
 * See also: pgp_keys.c (which key), pgp_mime.c, pgp_sign.c, pgp_agent.c,
 *           docs/design.md.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <ctype.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <gpgme.h>

#include "sealpost.h"
#include "log.h"
#include "memfd.h"
#include "xmalloc.h"
#include "ipc_types.h"
#include "service.h"
#include "pgp_keys.h"
#include "pgp_mime.h"
#include "pgp_learn.h"
#include "pgp_sign.h"
#include "buf.h"
#include "mta_7bit.h"
#include "banned.h"

#define PGP_MSG_MAX	((size_t)64 * 1024 * 1024)
#define PGP_HOME	"/gnupg"		/* in the jail */
#define PGP_SIGN_HOME	"/signing"		/* jail_pgp's tmpfs */
#define PGP_COPY_MAX	((size_t)256 * 1024 * 1024)	/* a signed copy */
#define PGP_GPG		"/usr/bin/gpg"
/*
 * Seconds one operation may take.  GPGME spins for ever when gpg dies
 * while it is being fed the message (seen with gpg killed by SIGKILL in
 * test_pgp.py): then the process ends itself, the sessions waiting get
 * 451 (their channel breaks) and the master starts a fresh pgp.  Below
 * the sessions' own IPC timeout (SP_IPC_TIMEOUT_MS).
 */
#define PGP_WATCHDOG	10

static gpgme_ctx_t	ctx;
/* the master's channel to the mta (WKD lookups, pgp_learn.c), used
 * blocking, outside the event loop; -1 none */
int			pgp_mta_fd = -1;
static gpgme_ctx_t	sctx;		/* the signing key's; NULL: none */
static char		sign_fpr[64];
static int		sign_warned;

/* pgp_agent_sign, and whether gpg failed (not the message): PGP_TEMP */
struct pgp_sign_arg {
	gpgme_ctx_t	ctx;
	int		failed;
};

static int
pgp_sign_cb(void *arg, const unsigned char *data, size_t len,
    struct buf *sig, char *micalg, size_t micalglen, char *err,
    size_t errlen)
{
	struct pgp_sign_arg	*sa = arg;

	if (pgp_agent_sign(sa->ctx, data, len, sig, micalg, micalglen, err,
	    errlen) == 0)
		return 0;
	sa->failed = 1;
	return -1;
}

/* SIGALRM: an operation outlived PGP_WATCHDOG.  Async-signal-safe only. */
static void
pgp_watchdog(int sig)
{
	static const char	msg[] = "3pgp event=watchdog result=exit "
	    "reason=timeout";

	(void)sig;
	(void)send(SP_FD_LOG, msg, sizeof(msg) - 1, MSG_DONTWAIT |
	    MSG_NOSIGNAL);
	_exit(3);
}

static void
pgp_reply(struct service_session *ss, uint32_t type, uint32_t id,
    uint32_t result, const char *detail, int fd)
{
	struct ipc_out	*out = ipc_out_new(type, id, fd);

	ipc_add_u32(out, result);
	ipc_add_str(out, detail);
	(void)ipc_chan_send(ss->chan, out);
}

/*
 * "No key" from gpg is believed only when the keyring does not name the
 * address: a gpg that dies (a signal, the sandbox) ends GPGME's listing
 * as if it were empty, and opportunistic encryption must not then turn
 * into plaintext.  User IDs are stored as they are in pubring.kbx, so
 * "<address>" (any case) in it means a key gpg should have listed.
 * 1 mentioned (or unreadable: not believed either), 0 not.
 */
static int
pgp_keyring_mentions(const char *addr)
{
	struct stat	 st;
	unsigned char	*p;
	size_t		 n = strlen(addr), i, j;
	int		 fd, found = 1;
	char		 pat[PGP_ADDRESS_MAX + 3];

	if (n == 0 || n > PGP_ADDRESS_MAX)
		return 0;
	pat[0] = '<';
	memcpy(pat + 1, addr, n);
	pat[n + 1] = '>';
	n += 2;
	if ((fd = open(PGP_HOME "/pubring.kbx", O_RDONLY | O_CLOEXEC |
	    O_NONBLOCK)) == -1)
		return errno == ENOENT ? 0 : 1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 1;
	}
	if (st.st_size == 0) {
		close(fd);
		return 0;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return 1;
	found = 0;
	for (i = 0; !found && i + n <= (size_t)st.st_size; i++) {
		for (j = 0; j < n; j++)
			if (tolower(p[i + j]) != tolower((unsigned char)pat[j]))
				break;
		found = j == n;
	}
	munmap(p, (size_t)st.st_size);
	return found;
}

/*
 * The key for address, in the trust order (pgp_learn.h): the
 * administrator's keyring decides every address it names; for the
 * others, what was learnt (WKD when flags allow, then Autocrypt).
 * pgp_key_for's answers, and 2: none for now (a WKD lookup failed).
 * *src_r: "admin", "wkd" or "autocrypt" with a key.
 */
static int
pgp_choose(const char *addr, uint32_t flags, gpgme_key_t *key_r,
    const char **src_r, char *why, size_t whylen)
{
	time_t	now = time(NULL);
	int	r;

	*src_r = "admin";
	r = pgp_key_for(ctx, addr, now, key_r, why, whylen);
	if (r != 0 || strcmp(why, "no key") != 0)
		return r;
	if (pgp_keyring_mentions(addr)) {
		strlcpy(why, "gpg listed no key for an address the keyring "
		    "names", whylen);
		return -1;
	}
	return learn_key_for(addr, flags, now, key_r, src_r, why, whylen);
}

/* 1 when the keyring of the administrator has a say for addr. */
static int
pgp_admin_names(const char *addr)
{
	gpgme_key_t	 key = NULL;
	char		 why[PGP_WHY_MAX];
	int		 r;

	r = pgp_key_for(ctx, addr, time(NULL), &key, why, sizeof(why));
	if (key != NULL)
		gpgme_key_unref(key);
	return r != 0 || strcmp(why, "no key") != 0 ||
	    pgp_keyring_mentions(addr);
}

static int
pgp_smtp_kind(enum sp_listener_kind k)
{
	return k < SP_LISTEN_KIND_MAX;
}

static int
pgp_lookup(struct service_session *ss, struct ipc_msg *msg)
{
	gpgme_key_t	 key = NULL;
	const char	*addr, *src;
	char		 why[256];
	uint32_t	 flags;
	int		 r;

	if (ipc_get_str(msg, &addr, 320) == -1 ||
	    ipc_get_u32(msg, &flags) == -1 || ipc_end(msg) == -1 ||
	    (flags & ~PGP_F_ALL) != 0)
		return -1;
	alarm(PGP_WATCHDOG);
	r = pgp_choose(addr, flags, &key, &src, why, sizeof(why));
	alarm(0);
	if (r == 1) {
		strlcpy(why, key->subkeys != NULL && key->subkeys->fpr != NULL ?
		    key->subkeys->fpr : "", sizeof(why));
		gpgme_key_unref(key);
	} else if (r == -1)
		log_warnx("%016" PRIx64 " pgp event=lookup result=error "
		    "reason=%s", ss->connid, why);
	/* 1 a key, 0 none, 2 none for now (r == 2: WKD failed) */
	pgp_reply(ss, IMSG_PGP_LOOKUP, msg->hdr.id, r == 1 ? 1 : r == 2 ? 2 :
	    0, why, -1);
	return 0;
}

/*
 * The copy signed, not encrypted (PGP_SIGNED, the sealed memfd in
 * *out_r), or PGP_ALREADY (signed or encrypted by the sender: as it is),
 * or PGP_NO_KEY when the message cannot be signed as it is (a reason in
 * err: it goes unsigned), or PGP_TEMP when gpg failed.
 */
static uint32_t
pgp_sign_only(int fd, size_t size, int *out_r, char *err, size_t errlen)
{
	struct pgp_sign_arg	 sa = { sctx, 0 };
	struct pgp_signer	 signer = { pgp_sign_cb, &sa };
	struct buf		*b;
	unsigned char		*in;
	uint32_t		 result = PGP_TEMP;
	int			 r, out = -1;

	*out_r = -1;
	err[0] = '\0';
	in = xmalloc(size + 1);
	b = buf_new(PGP_COPY_MAX);
	if (memfd_read(fd, in, size) == -1)
		snprintf(err, errlen, "cannot read the message");
	else if ((r = pgp_sign_mime(&signer, in, size, b, err, errlen)) == 1)
		result = PGP_ALREADY;
	else if (r == -1)
		result = sa.failed ? PGP_TEMP : PGP_NO_KEY;
	else if ((out = memfd_new("pgp")) == -1 ||
	    memfd_append(out, b->data, b->len) == -1 || memfd_seal(out) == -1)
		snprintf(err, errlen, "memfd: %s", strerror(errno));
	else {
		result = PGP_SIGNED;
		*out_r = out;
		out = -1;
	}
	if (out != -1)
		close(out);
	buf_free(&b);
	free(in);
	return result;
}

/* A copy to sign with no signing key: once at warning, then debug. */
static void
pgp_sign_missing(struct service_session *ss)
{
	if (!sign_warned)
		log_warnx("%016" PRIx64 " pgp event=sign result=unsigned "
		    "reason=\"no signing key (sealpostctl key import "
		    "--signing)\"", ss->connid);
	else
		log_debug("%016" PRIx64 " pgp event=sign result=unsigned "
		    "reason=no-key", ss->connid);
	sign_warned = 1;
}

/* "sign yes" and no key to encrypt to: the copy signed only. */
static int
pgp_sign_reply(struct service_session *ss, struct ipc_msg *msg,
    size_t size)
{
	uint32_t	result;
	char		err[256], esc[128];
	int		out;

	alarm(PGP_WATCHDOG);
	result = pgp_sign_only(msg->fd, size, &out, err, sizeof(err));
	alarm(0);
	if (result == PGP_SIGNED)
		log_info("%016" PRIx64 " pgp event=sign result=signed "
		    "size=%zu key=%s", ss->connid, size, sign_fpr);
	else if (result == PGP_ALREADY)
		log_info("%016" PRIx64 " pgp event=sign result=already-signed "
		    "size=%zu", ss->connid, size);
	else
		log_warnx("%016" PRIx64 " pgp event=sign result=%s size=%zu "
		    "reason=%s", ss->connid, result == PGP_TEMP ? "error" :
		    "unsigned", size, log_esc(esc, sizeof(esc), err,
		    strlen(err)));
	pgp_reply(ss, IMSG_PGP_ENCRYPT, msg->hdr.id, result,
	    result == PGP_SIGNED ? sign_fpr : "", out);
	ipc_msg_clear(msg);
	return 0;
}

static int
pgp_encrypt(struct service_session *ss, struct ipc_msg *msg)
{
	gpgme_key_t	 key = NULL, skey = NULL;
	struct timespec	 t0, t1;
	unsigned char	*buf = NULL;
	const char	*rcpt, *sender, *src = "", *ssrc = "";
	char		 why[256], err[256], esc[128];
	uint32_t	 flags, result;
	size_t		 size;
	long		 ms;
	int		 r, out = -1, sign;

	if (msg->fd == -1 || ipc_get_str(msg, &rcpt, 320) == -1 ||
	    ipc_get_u32(msg, &flags) == -1 ||
	    ipc_get_str(msg, &sender, 320) == -1 || ipc_end(msg) == -1 ||
	    (flags & ~PGP_F_ALL) != 0)
		return -1;
	/* SECURITY: only a sealed memfd: what we encrypt is what was sent */
	if (memfd_check_sealed(msg->fd, PGP_MSG_MAX, &size) == -1)
		return -1;
	sign = (flags & PGP_F_SIGN) != 0;
	if (sign && sctx == NULL) {
		pgp_sign_missing(ss);
		sign = 0;
	}
	/* "pgp never": signed only, or the original */
	if (rcpt[0] == '\0') {
		if (sign)
			return pgp_sign_reply(ss, msg, size);
		pgp_reply(ss, IMSG_PGP_ENCRYPT, msg->hdr.id, PGP_NO_KEY,
		    "not encrypted", -1);
		ipc_msg_clear(msg);
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	alarm(PGP_WATCHDOG);
	r = pgp_choose(rcpt, flags, &key, &src, why, sizeof(why));
	if (r == 2)
		r = 0;		/* "pgp required" defers: smtp_copy */
	if (r == 0 && sign) {
		alarm(0);
		return pgp_sign_reply(ss, msg, size);
	}
	if (r == 0) {
		/*
		 * Most copies: debug only.  SECURITY: no reason (it may name
		 * the address).
		 */
		log_debug("%016" PRIx64 " pgp event=encrypt result=no-key "
		    "size=%zu%s", ss->connid, size, strcmp(why, "no key") == 0 ?
		    "" : " unusable=yes");
		pgp_reply(ss, IMSG_PGP_ENCRYPT, msg->hdr.id, PGP_NO_KEY, why,
		    -1);
		alarm(0);
		ipc_msg_clear(msg);
		return 0;
	}
	result = PGP_TEMP;
	err[0] = '\0';
	/* and the sender's key too, when the policy says so and it has one
	 * (its Autocrypt key counts: the sender is one of our users) */
	if (r == 1 && (flags & PGP_F_TO_SENDER) && sender[0] != '\0' &&
	    pgp_choose(sender, 0, &skey, &ssrc, err, sizeof(err)) == -1) {
		r = -1;
		strlcpy(why, err, sizeof(why));
	}
	err[0] = '\0';
	if (r == -1)
		strlcpy(err, why, sizeof(err));
	else {
		buf = xmalloc(size + 1);
		if (memfd_read(msg->fd, buf, size) == -1)
			snprintf(err, sizeof(err), "cannot read the message");
		else if ((out = memfd_new("pgp")) == -1)
			snprintf(err, sizeof(err), "memfd: %s",
			    strerror(errno));
		else {
			/*
			 * signed too: the signing context sees every keyring;
			 * a learnt key: so does learn_ctx_all's
			 */
			r = pgp_mime_encrypt(sign ? sctx :
			    strcmp(src, "admin") != 0 || (skey != NULL &&
			    strcmp(ssrc, "admin") != 0) ? learn_ctx_all() : ctx,
			    key, skey, buf, size,
			    (flags & PGP_F_PROTECT_SUBJECT) != 0, sign, out, err,
			    sizeof(err));
			if (r == 0 && memfd_seal(out) == 0)
				result = PGP_ENCRYPTED;
			else if (r == 0)
				snprintf(err, sizeof(err), "cannot seal");
			else if (r == 1)
				result = PGP_ALREADY;
		}
		/* the plaintext: wiped before the heap has it back */
		explicit_bzero(buf, size);
		free(buf);
	}
	alarm(0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	/* SECURITY: the key's fingerprint, never the address */
	if (result == PGP_TEMP)
		log_warnx("%016" PRIx64 " pgp event=encrypt result=error "
		    "size=%zu ms=%ld reason=%s", ss->connid, size, ms,
		    log_esc(esc, sizeof(esc), err, strlen(err)));
	else
		log_info("%016" PRIx64 " pgp event=encrypt result=%s size=%zu "
		    "key=%s%s%s source=%s ms=%ld%s%s%s", ss->connid,
		    result == PGP_ENCRYPTED ? "encrypted" : "already-encrypted",
		    size, key->subkeys->fpr, skey != NULL ? " sender_key=" :
		    "", skey != NULL ? skey->subkeys->fpr : "", src, ms,
		    (flags & PGP_F_PROTECT_SUBJECT) ? " protect-subject=yes" :
		    "", sign && result == PGP_ENCRYPTED ? " signed_by=" : "",
		    sign && result == PGP_ENCRYPTED ? sign_fpr : "");
	if (result != PGP_ENCRYPTED && out != -1) {
		close(out);
		out = -1;
	}
	pgp_reply(ss, IMSG_PGP_ENCRYPT, msg->hdr.id, result,
	    result == PGP_ENCRYPTED || result == PGP_ALREADY ?
	    key->subkeys->fpr : "", out);
	if (key != NULL)
		gpgme_key_unref(key);
	if (skey != NULL)
		gpgme_key_unref(skey);
	ipc_msg_clear(msg);
	return 0;
}

/*
 * An authenticated sender's accepted message: its Autocrypt key.  The
 * sender is not waiting for the outcome (smtp has replied): it is only
 * logged.
 */
static int
pgp_autocrypt(struct service_session *ss, struct ipc_msg *msg)
{
	const char	*sender;
	char		 why[256], esc[128];
	uint32_t	 r;

	if (msg->fd == -1 || ipc_get_str(msg, &sender, 320) == -1 ||
	    ipc_end(msg) == -1)
		return -1;
	alarm(PGP_WATCHDOG);
	if (!pgp_address_ok(sender)) {
		r = PGP_AC_NONE;
		strlcpy(why, "not an address", sizeof(why));
	} else
		r = learn_autocrypt(sender, msg->fd, pgp_admin_names(sender),
		    why, sizeof(why));
	alarm(0);
	/* SECURITY: never the address; the key's fingerprint is public */
	log_info("%016" PRIx64 " pgp event=autocrypt result=%s %s=%s",
	    ss->connid, r == PGP_AC_SAME ? "same" : r == PGP_AC_NEW ? "new" :
	    r == PGP_AC_PENDING ? "pending" : r == PGP_AC_IGNORED ?
	    "ignored" : r == PGP_AC_ERROR ? "error" : "none",
	    r == PGP_AC_NEW || r == PGP_AC_SAME || r == PGP_AC_PENDING ?
	    "key" : "reason", log_esc(esc, sizeof(esc), why, strlen(why)));
	pgp_reply(ss, IMSG_PGP_AUTOCRYPT, msg->hdr.id, r, "", -1);
	ipc_msg_clear(msg);
	return 0;
}

/* sealpostctl key pending|discovered|forget, through control. */
static int
pgp_ctl(struct service_session *ss, struct ipc_msg *msg)
{
	const char	*addr;
	char		*text = NULL;
	uint32_t	 op;
	int		 ok;

	if (ipc_get_u32(msg, &op) == -1 ||
	    ipc_get_str(msg, &addr, 320) == -1 || ipc_end(msg) == -1 ||
	    op > PGP_CTL_FORGET)
		return -1;
	ok = learn_ctl(op, addr, &text);
	pgp_reply(ss, IMSG_PGP_CTL, msg->hdr.id, (uint32_t)ok, text, -1);
	free(text);
	return 0;
}

static int
pgp_session_msg(struct service_session *ss, struct ipc_msg *msg)
{
	if (ss->kind == SP_KIND_CONTROL)
		return msg->hdr.type == IMSG_PGP_CTL ? pgp_ctl(ss, msg) : -1;
	if (!pgp_smtp_kind(ss->kind))
		return -1;
	if (msg->hdr.type == IMSG_PGP_LOOKUP)
		return pgp_lookup(ss, msg);
	if (msg->hdr.type == IMSG_PGP_ENCRYPT)
		return pgp_encrypt(ss, msg);
	if (msg->hdr.type == IMSG_PGP_AUTOCRYPT)
		return pgp_autocrypt(ss, msg);
	return -1;
}

/*
 * Before the jail: GMime, GPGME and its engine (it runs "gpg --version"
 * once, here, with the paths the jail will have), one context.
 */
static void
pgp_preload(const struct child_args *a)
{
	gpgme_engine_info_t	 ei;
	gpgme_error_t		 ge;
	char			 err[256];

	(void)a;
	g_mime_init();
	mta_7bit_init();
	tzset();
	if (gpgme_check_version(NULL) == NULL)
		fatalx("pgp: gpgme_check_version");
	if ((ge = gpgme_set_engine_info(GPGME_PROTOCOL_OpenPGP, PGP_GPG,
	    PGP_HOME)) != 0 || (ge = gpgme_get_engine_info(&ei)) != 0)
		fatalx("pgp: gpgme engine: %s", gpgme_strerror(ge));
	if ((ctx = pgp_ctx_new(PGP_HOME, err, sizeof(err))) == NULL)
		fatalx("pgp: %s", err);
}

/* After the sandbox: the watchdog's handler, the signing key's agent. */
static void
pgp_init(struct event_base *base)
{
	struct sigaction	sa;

	char			err[256], esc[512];

	(void)base;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pgp_watchdog;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		fatal("pgp: sigaction");
	/*
	 * The signing key, when there is one: its agent starts now, in the
	 * sandbox.  A failure leaves copies unsigned (logged), never
	 * undelivered.
	 */
	alarm(PGP_WATCHDOG);
	sctx = pgp_agent_start(PGP_SIGN_HOME, sign_fpr, sizeof(sign_fpr), err,
	    sizeof(err));
	alarm(0);
	if (sctx != NULL)
		log_info("pgp event=signing-key result=ready key=%s", sign_fpr);
	else if (err[0] != '\0')
		log_warnx("pgp event=signing-key result=error reason=%s",
		    log_esc(esc, sizeof(esc), err, strlen(err)));
	learn_init();
}

/* The master's channel to the mta: a newer one replaces the old. */
static int
pgp_master_msg(struct ipc_msg *msg)
{
	uint32_t	svc;

	if (msg->hdr.type != IMSG_MASTER_CHANNEL || msg->fd == -1 ||
	    ipc_get_u32(msg, &svc) == -1 || ipc_end(msg) == -1 ||
	    svc != SVC_MTA)
		return -1;
	if (pgp_mta_fd != -1)
		close(pgp_mta_fd);
	pgp_mta_fd = msg->fd;
	msg->fd = -1;
	return 0;
}

static const struct service_ops pgp_ops = {
	.name = "pgp",
	.role = ROLE_PGP,
	.preload = pgp_preload,
	.init = pgp_init,
	.session_msg = pgp_session_msg,
	.master_msg = pgp_master_msg,
};

int
main(int argc, char **argv)
{
	service_main(argc, argv, &pgp_ops);
}
