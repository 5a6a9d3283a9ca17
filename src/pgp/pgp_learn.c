/* SPDX-License-Identifier: ISC */
/*
 * pgp_learn.c - the keys the pgp service learns by itself (pgp_learn.h):
 * WKD lookups (asked of the mta, cached in the index with expiry, the
 * keys in /discovered/wkd), Autocrypt keys of local senders (in
 * /discovered/autocrypt; a changed key is held until the administrator
 * accepts it), and the control requests that list and change them.
 *
 * Process:  pgp (jailed; /discovered is the pgp user's own folder).
 * Trust:    a WKD answer is the recipient domain's web server's (hostile):
 *           at most WKD_KEY_MAX bytes, imported by gpg, and a key counts
 *           only for the address it was looked up for, only when one of
 *           its user IDs is exactly that address, and only by the
 *           fingerprint the index records for that address (a key that
 *           also names another address does not count for it).  An
 *           Autocrypt header is the sender's: only an authenticated
 *           sender's, only for its own envelope address (which smtp
 *           checked it owns), the same rules for the key.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <gpgme.h>

#include "sealpost.h"
#include "log.h"
#include "ipc.h"
#include "ipc_types.h"
#include "memfd.h"
#include "xmalloc.h"
#include "pgp_keys.h"
#include "pgp_disc.h"
#include "pgp_learn.h"
#include "autocrypt.h"
#include "wkd.h"
#include "banned.h"

/* The message's header is looked at up to here (Autocrypt). */
#define LEARN_HEADER_MAX	((size_t)256 * 1024)
/* The most text a listing sends back (one IPC message). */
#define LEARN_TEXT_MAX		(IPC_MAX_PAYLOAD - 1024)

static struct disc	 idx;
static int		 dirfd_disc = -1;
static gpgme_ctx_t	 ctx_wkd, ctx_ac, ctx_all;
static uint32_t		 wkd_reqid;

void
learn_init(void)
{
	char	err[256];
	size_t	skipped;

	if ((dirfd_disc = open(LEARN_DIR, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		fatal("pgp: %s", LEARN_DIR);
	if (disc_load(&idx, dirfd_disc, &skipped) == -1)
		fatal("pgp: %s/index", LEARN_DIR);
	if (skipped > 0)
		log_warnx("pgp: %s/index: %zu lines skipped", LEARN_DIR,
		    skipped);
	if ((ctx_wkd = pgp_ctx_new(LEARN_DIR "/wkd", err, sizeof(err))) ==
	    NULL || (ctx_ac = pgp_ctx_new(LEARN_DIR "/autocrypt", err,
	    sizeof(err))) == NULL || (ctx_all = pgp_ctx_new(LEARN_DIR "/all",
	    err, sizeof(err))) == NULL)
		fatalx("pgp: %s", err);
}

gpgme_ctx_t
learn_ctx_all(void)
{
	return ctx_all;
}

static void
learn_save(void)
{
	if (disc_save(&idx, dirfd_disc) == -1)
		log_warn("pgp: %s/index", LEARN_DIR);
}

/*
 * The key fpr of ring c, when it still counts for address: one of its
 * user IDs is exactly address and it is usable now.  1 with *key_r, 0
 * with why.
 */
static int
learn_key(gpgme_ctx_t c, const char *fpr, const char *address, time_t now,
    gpgme_key_t *key_r, char *why, size_t whylen)
{
	gpgme_key_t	key = NULL;
	char		reason[PGP_WHY_MAX];

	*key_r = NULL;
	if (gpgme_get_key(c, fpr, &key, 0) != 0 || key == NULL) {
		snprintf(why, whylen, "the key learnt is gone from its keyring");
		return 0;
	}
	if (!pgp_key_has_address(key, address)) {
		gpgme_key_unref(key);
		snprintf(why, whylen, "the key learnt does not name the address");
		return 0;
	}
	if (!pgp_key_usable(key, now, reason, sizeof(reason))) {
		gpgme_key_unref(key);
		snprintf(why, whylen, "the key learnt is not usable: %s",
		    reason);
		return 0;
	}
	*key_r = key;
	return 1;
}

/* Remove fpr from ring c unless an entry (but skip) still uses it. */
static void
learn_drop_key(gpgme_ctx_t c, const char *fpr, const struct disc_ent *skip)
{
	gpgme_key_t	key = NULL;

	if (fpr[0] == '\0' || disc_refers(&idx, fpr, skip))
		return;
	if (gpgme_get_key(c, fpr, &key, 0) != 0 || key == NULL)
		return;
	if (gpgme_op_delete_ext(c, key, GPGME_DELETE_FORCE) != 0)
		log_warnx("pgp: cannot remove key %s from a learnt keyring",
		    fpr);
	gpgme_key_unref(key);
}

/*
 * Import data (len bytes, hostile) into ring c and pick the key for
 * address: of the keys it held, the newest usable one with a user ID of
 * exactly address, into fpr.  Keys it brought that are not picked and
 * nothing uses are removed again.  1 picked, 0 none (why), -1 gpg failed
 * (why).
 */
static int
learn_import(gpgme_ctx_t c, const void *data, size_t len,
    const char *address, time_t now, char fpr[PGP_FPR_LEN + 1], char *why,
    size_t whylen)
{
	gpgme_data_t		 d;
	gpgme_import_result_t	 res;
	gpgme_import_status_t	 st;
	gpgme_key_t		 key;
	gpgme_error_t		 ge;
	long			 best = -1;
	char			 reason[PGP_WHY_MAX];
	/* the import's result goes with the next operation on c: copied */
	char			 (*fprs)[PGP_FPR_LEN + 1] = NULL;
	int			*isnew = NULL;
	size_t			 n = 0, i;

	fpr[0] = '\0';
	snprintf(why, whylen, "no key for the address in it");
	if ((ge = gpgme_data_new_from_mem(&d, data, len, 0)) != 0) {
		snprintf(why, whylen, "gpgme: %s", gpgme_strerror(ge));
		return -1;
	}
	ge = gpgme_op_import(c, d);
	gpgme_data_release(d);
	if (ge != 0) {
		snprintf(why, whylen, "import: %s", gpgme_strerror(ge));
		return -1;
	}
	if ((res = gpgme_op_import_result(c)) == NULL)
		return 0;
	if (res->considered == 0 || res->imports == NULL)
		snprintf(why, whylen, "no key in it");
	for (st = res->imports; st != NULL; st = st->next)
		n++;
	fprs = xcalloc(n + 1, sizeof(*fprs));
	isnew = xcalloc(n + 1, sizeof(*isnew));
	for (st = res->imports, n = 0; st != NULL; st = st->next) {
		if (st->result != 0)
			snprintf(why, whylen, "gpg: %s",
			    gpgme_strerror(st->result));
		if (st->result != 0 || st->fpr == NULL || !pgp_fpr_ok(st->fpr))
			continue;
		strlcpy(fprs[n], st->fpr, sizeof(fprs[n]));
		isnew[n++] = (st->status & GPGME_IMPORT_NEW) != 0;
	}
	for (i = 0; i < n; i++) {
		if (gpgme_get_key(c, fprs[i], &key, 0) != 0 || key == NULL)
			continue;
		if (!pgp_key_has_address(key, address))
			snprintf(why, whylen, "its key does not name the "
			    "address");
		else if (!pgp_key_usable(key, now, reason, sizeof(reason)))
			snprintf(why, whylen, "its key is not usable: %s",
			    reason);
		else if (key->subkeys != NULL &&
		    key->subkeys->timestamp > best) {
			best = key->subkeys->timestamp;
			strlcpy(fpr, fprs[i], PGP_FPR_LEN + 1);
		}
		gpgme_key_unref(key);
	}
	/* what came along and is not wanted goes again */
	for (i = 0; i < n; i++)
		if (isnew[i] && strcasecmp(fprs[i], fpr) != 0)
			learn_drop_key(c, fprs[i], NULL);
	free(fprs);
	free(isnew);
	return fpr[0] != '\0';
}

/* ---- WKD ------------------------------------------------------------ */

/*
 * Ask the mta for address's WKD key (blocking, LEARN_WKD_WAIT_MS at
 * most).  WKD_* with what happened in why; WKD_FOUND with the body in
 * *fd_r (a sealed memfd, the caller's).
 */
static uint32_t
learn_wkd_fetch(const struct wkd_addr *a, int *fd_r, char *why,
    size_t whylen)
{
	struct ipc_out		*out;
	struct ipc_msg		 msg;
	struct timespec		 t0, t1;
	const char		*detail;
	uint32_t		 result, id;
	long			 left;
	size_t			 size;
	int			 r;

	*fd_r = -1;
	if (pgp_mta_fd == -1) {
		snprintf(why, whylen, "the mta is not there");
		return WKD_TEMP;
	}
	id = ++wkd_reqid;
	out = ipc_out_new(IMSG_MTA_WKD, id, -1);
	ipc_add_str(out, a->domain);
	ipc_add_str(out, a->hash);
	ipc_add_str(out, a->local);
	if (ipc_send(pgp_mta_fd, out) == -1) {
		snprintf(why, whylen, "the mta is not there");
		goto lost;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = LEARN_WKD_WAIT_MS - ((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0) {
			snprintf(why, whylen, "the mta did not answer in time");
			return WKD_TEMP;
		}
		memset(&msg, 0, sizeof(msg));
		if ((r = ipc_recv(pgp_mta_fd, &msg, (int)left)) == -1 &&
		    errno == ETIMEDOUT) {
			snprintf(why, whylen, "the mta did not answer in time");
			return WKD_TEMP;
		}
		if (r != 1) {
			snprintf(why, whylen, "the mta went away");
			goto lost;
		}
		/* an answer to a request that timed out before: late */
		if (msg.hdr.type == IMSG_MTA_WKD && msg.hdr.id != id) {
			ipc_msg_clear(&msg);
			continue;
		}
		break;
	}
	if (msg.hdr.type != IMSG_MTA_WKD || ipc_get_u32(&msg, &result) == -1 ||
	    ipc_get_str(&msg, &detail, 256) == -1 || ipc_end(&msg) == -1 ||
	    result > WKD_TEMP || (result == WKD_FOUND) != (msg.fd != -1) ||
	    (msg.fd != -1 && memfd_check_sealed(msg.fd, WKD_KEY_MAX,
	    &size) == -1)) {
		ipc_msg_clear(&msg);
		snprintf(why, whylen, "the mta's answer is malformed");
		goto lost;
	}
	strlcpy(why, detail, whylen);
	*fd_r = msg.fd;
	return result;
lost:
	close(pgp_mta_fd);
	pgp_mta_fd = -1;
	return WKD_TEMP;
}

/* Look address up now and record the answer in e (address's entry). */
static void
learn_wkd_refresh(const char *address, time_t now)
{
	struct disc_ent		*e;
	struct wkd_addr		 a;
	struct timespec		 t0, t1;
	unsigned char		*body = NULL;
	const char		*errstr;
	uint32_t		 result;
	size_t			 size = 0;
	char			 why[256], fpr[PGP_FPR_LEN + 1], old[PGP_FPR_LEN + 1];
	char			 esc[256], reason[256];
	unsigned int		 watchdog;
	int			 fd = -1, r = 0;

	if ((e = disc_put(&idx, DISC_WKD, address, 0)) == NULL)
		return;
	strlcpy(old, e->fpr, sizeof(old));
	if (wkd_addr_parse(address, &a, &errstr) == -1) {
		/* no lookup can be made for it: none published, as such */
		e->state = DISC_NONE;
		e->fpr[0] = '\0';
		e->seen = now;
		e->until = now + LEARN_WKD_TTL_NONE;
		learn_drop_key(ctx_wkd, old, e);
		learn_save();
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* pgp.c's watchdog waits while the mta does (it has its own) */
	watchdog = alarm(0);
	result = learn_wkd_fetch(&a, &fd, why, sizeof(why));
	if (watchdog != 0)
		alarm(watchdog);
	if (result == WKD_FOUND) {
		if (memfd_check_sealed(fd, WKD_KEY_MAX, &size) == -1 ||
		    size == 0) {
			result = WKD_NONE;
			strlcpy(why, "an empty answer", sizeof(why));
		} else {
			body = xmalloc(size);
			if (memfd_read(fd, body, size) == -1) {
				result = WKD_TEMP;
				strlcpy(why, "cannot read the answer",
				    sizeof(why));
			} else if ((r = learn_import(ctx_wkd, body, size,
			    address, now, fpr, reason, sizeof(reason))) != 1) {
				result = r == -1 ? WKD_TEMP : WKD_NONE;
				strlcpy(why, reason, sizeof(why));
			}
			free(body);
		}
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* disc_put may have moved entries: find it again */
	if ((e = disc_find(&idx, DISC_WKD, address, 0)) == NULL)
		return;
	switch (result) {
	case WKD_FOUND:
		strlcpy(e->fpr, fpr, sizeof(e->fpr));
		e->state = DISC_KEY;
		e->seen = now;
		e->until = now + LEARN_WKD_TTL_KEY;
		break;
	case WKD_NONE:
		e->state = DISC_NONE;
		e->fpr[0] = '\0';
		e->seen = now;
		e->until = now + LEARN_WKD_TTL_NONE;
		break;
	default:
		/* the key from before stays, for LEARN_WKD_STALE */
		if (e->state != DISC_KEY && e->state != DISC_FAILED) {
			e->fpr[0] = '\0';
			e->seen = now;
		}
		e->state = DISC_FAILED;
		e->until = now + LEARN_WKD_TTL_FAILED;
		break;
	}
	if (strcasecmp(old, e->fpr) != 0)
		learn_drop_key(ctx_wkd, old, e);
	learn_save();
	/* SECURITY: the domain, never the local part */
	log_info("pgp event=wkd domain=%s result=%s%s%s ms=%ld detail=%s",
	    a.domain, result == WKD_FOUND ? "key" : result == WKD_NONE ?
	    "none" : "failed", result == WKD_FOUND ? " key=" : "",
	    result == WKD_FOUND ? fpr : "", (long)((t1.tv_sec - t0.tv_sec) *
	    1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000),
	    log_esc(esc, sizeof(esc), why, strlen(why)));
}

int
learn_key_for(const char *address, uint32_t flags, time_t now,
    gpgme_key_t *key_r, const char **src_r, char *why, size_t whylen)
{
	struct disc_ent	*e;
	int		 later = 0;

	*key_r = NULL;
	*src_r = "";
	snprintf(why, whylen, "no key");
	if (flags & PGP_F_WKD) {
		e = disc_find(&idx, DISC_WKD, address, 0);
		if (e == NULL || now >= e->until) {
			learn_wkd_refresh(address, now);
			e = disc_find(&idx, DISC_WKD, address, 0);
		}
		if (e != NULL && e->fpr[0] != '\0' && (e->state == DISC_KEY ||
		    (e->state == DISC_FAILED && now - e->seen <
		    LEARN_WKD_STALE)) && learn_key(ctx_wkd, e->fpr, address,
		    now, key_r, why, whylen) == 1) {
			*src_r = "wkd";
			return 1;
		}
		if (e != NULL && e->state == DISC_FAILED)
			later = 1;
	}
	if ((e = disc_find(&idx, DISC_AUTOCRYPT, address, 0)) != NULL &&
	    e->state == DISC_KEY && learn_key(ctx_ac, e->fpr, address, now,
	    key_r, why, whylen) == 1) {
		*src_r = "autocrypt";
		return 1;
	}
	if (later) {
		snprintf(why, whylen, "the Web Key Directory lookup failed");
		return 2;
	}
	return 0;
}

/* ---- Autocrypt ------------------------------------------------------ */

/* The message's header block, from fd (at most LEARN_HEADER_MAX). */
static GMimeMessage *
learn_header(int fd, char *why, size_t whylen)
{
	GMimeStream	*s;
	GMimeParser	*p;
	GMimeMessage	*m;
	char		*buf;
	size_t		 size, n, i;

	if (memfd_check_sealed(fd, (size_t)1 << 40, &size) == -1) {
		snprintf(why, whylen, "the message is not sealed");
		return NULL;
	}
	n = size < LEARN_HEADER_MAX ? size : LEARN_HEADER_MAX;
	buf = xmalloc(n + 1);
	if (memfd_read(fd, buf, n) == -1) {
		free(buf);
		snprintf(why, whylen, "cannot read the message");
		return NULL;
	}
	/* the header only: up to the empty line */
	for (i = 0; i < n; i++)
		if (buf[i] == '\n' && ((i + 1 < n && buf[i + 1] == '\n') ||
		    (i + 2 < n && buf[i + 1] == '\r' && buf[i + 2] == '\n'))) {
			n = i + 1;
			break;
		}
	s = g_mime_stream_mem_new_with_buffer(buf, n);
	free(buf);
	p = g_mime_parser_new_with_stream(s);
	g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
	m = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	g_object_unref(s);
	if (m == NULL)
		snprintf(why, whylen, "no header");
	return m;
}

uint32_t
learn_autocrypt(const char *sender, int fd, int admin_names, char *why,
    size_t whylen)
{
	struct autocrypt_hdr	 h;
	struct disc_ent		*e, *p;
	GMimeMessage		*m;
	GMimeHeaderList		*hl;
	GMimeHeader		*hd;
	InternetAddressList	*from;
	InternetAddress		*ia;
	GMimeContentType	*ct;
	const char		*values[AUTOCRYPT_PICK_MAX + 1], *v, *err;
	size_t			 lens[AUTOCRYPT_PICK_MAX + 1], n = 0, len;
	char			 fpr[PGP_FPR_LEN + 1], from_addr[PGP_ADDRESS_MAX + 1];
	int			 i, count, r;
	uint32_t		 result = PGP_AC_NONE;
	time_t			 now = time(NULL);

	memset(&h, 0, sizeof(h));
	if ((m = learn_header(fd, why, whylen)) == NULL)
		return PGP_AC_NONE;
	/* Level 1: not from a message with several From addresses, an
	 * automatic reply or a report */
	from = g_mime_message_get_from(m);
	if (from == NULL || internet_address_list_length(from) != 1 ||
	    !INTERNET_ADDRESS_IS_MAILBOX(ia =
	    internet_address_list_get_address(from, 0))) {
		snprintf(why, whylen, "not one From address");
		goto done;
	}
	strlcpy(from_addr, internet_address_mailbox_get_addr(
	    INTERNET_ADDRESS_MAILBOX(ia)), sizeof(from_addr));
	if ((v = g_mime_object_get_header(GMIME_OBJECT(m),
	    "Auto-Submitted")) != NULL && strncasecmp(v, "auto-replied",
	    12) == 0) {
		snprintf(why, whylen, "an automatic reply");
		goto done;
	}
	ct = g_mime_object_get_content_type(GMIME_OBJECT(m));
	if (ct != NULL && g_mime_content_type_is_type(ct, "multipart",
	    "report")) {
		snprintf(why, whylen, "a report");
		goto done;
	}
	hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
	count = hl != NULL ? g_mime_header_list_get_count(hl) : 0;
	for (i = 0; i < count; i++) {
		hd = g_mime_header_list_get_header_at(hl, i);
		if (strcasecmp(g_mime_header_get_name(hd), "Autocrypt") != 0)
			continue;
		if (n == AUTOCRYPT_PICK_MAX + 1)
			break;
		v = g_mime_header_get_raw_value(hd);
		len = v != NULL ? strlen(v) : 0;
		while (len > 0 && (v[len - 1] == '\n' || v[len - 1] == '\r'))
			len--;
		values[n] = v != NULL ? v : "";
		lens[n++] = len;
	}
	if (n == 0) {
		snprintf(why, whylen, "no Autocrypt header");
		goto done;
	}
	if (autocrypt_pick(values, lens, n, from_addr, &h, &err) == -1) {
		snprintf(why, whylen, "%s", err);
		goto done;
	}
	/* SECURITY: only for the address the account proved it owns */
	if (strcasecmp(h.addr, sender) != 0) {
		snprintf(why, whylen, "its address is not the envelope sender");
		goto done;
	}
	if (admin_names) {
		snprintf(why, whylen, "the administrator's keyring has the "
		    "address");
		result = PGP_AC_IGNORED;
		goto done;
	}
	if ((r = learn_import(ctx_ac, h.keydata, h.keylen, h.addr, now, fpr,
	    why, whylen)) != 1) {
		result = r == -1 ? PGP_AC_ERROR : PGP_AC_NONE;
		goto done;
	}
	e = disc_find(&idx, DISC_AUTOCRYPT, h.addr, 0);
	p = disc_find(&idx, DISC_AUTOCRYPT, h.addr, 1);
	if (e == NULL) {
		/* a first key: in use, at the lowest trust */
		if ((e = disc_put(&idx, DISC_AUTOCRYPT, h.addr, 0)) == NULL) {
			snprintf(why, whylen, "the index is full");
			result = PGP_AC_ERROR;
			goto done;
		}
		e->state = DISC_KEY;
		strlcpy(e->fpr, fpr, sizeof(e->fpr));
		e->seen = now;
		result = PGP_AC_NEW;
	} else if (strcasecmp(e->fpr, fpr) == 0) {
		e->seen = now;
		/* back to the key in use: the change held is moot */
		if (p != NULL) {
			char	held[PGP_FPR_LEN + 1];

			strlcpy(held, p->fpr, sizeof(held));
			disc_del(&idx, p);
			learn_drop_key(ctx_ac, held, NULL);
		}
		result = PGP_AC_SAME;
	} else {
		if (p == NULL && (p = disc_put(&idx, DISC_AUTOCRYPT, h.addr,
		    1)) == NULL) {
			snprintf(why, whylen, "the index is full");
			result = PGP_AC_ERROR;
			goto done;
		}
		if (p->fpr[0] != '\0' && strcasecmp(p->fpr, fpr) != 0) {
			char	held[PGP_FPR_LEN + 1];

			strlcpy(held, p->fpr, sizeof(held));
			strlcpy(p->fpr, fpr, sizeof(p->fpr));
			learn_drop_key(ctx_ac, held, NULL);
		}
		strlcpy(p->fpr, fpr, sizeof(p->fpr));
		p->state = DISC_PENDING;
		p->seen = now;
		result = PGP_AC_PENDING;
	}
	learn_save();
	snprintf(why, whylen, "%s", fpr);
done:
	autocrypt_free(&h);
	g_object_unref(m);
	return result;
}

/* ---- sealpostctl key pending|discovered|forget ----------------------- */

static void
learn_date(int64_t t, char *buf, size_t len)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		strlcpy(buf, "-", len);
	else
		strftime(buf, len, "%Y-%m-%dT%H:%MZ", &tm);
}

static char *
learn_list(int pending_only)
{
	struct disc_ent	*e, *inuse;
	char		*text, seen[32], until[32];
	size_t		 i, off = 0;
	int		 n;

	text = xmalloc(LEARN_TEXT_MAX + 1);
	text[0] = '\0';
	for (i = 0; i < idx.n; i++) {
		e = &idx.ent[i];
		if (pending_only != (e->state == DISC_PENDING))
			continue;
		learn_date(e->seen, seen, sizeof(seen));
		learn_date(e->until, until, sizeof(until));
		if (pending_only) {
			inuse = disc_find(&idx, DISC_AUTOCRYPT, e->addr, 0);
			n = snprintf(text + off, LEARN_TEXT_MAX + 1 - off,
			    "%s %s %s %s\n", e->addr, inuse != NULL ?
			    inuse->fpr : "-", e->fpr, seen);
		} else
			n = snprintf(text + off, LEARN_TEXT_MAX + 1 - off,
			    "%s %s %s %s %s %s\n", disc_source_name(e->src),
			    e->addr, disc_state_name(e->state),
			    e->fpr[0] != '\0' ? e->fpr : "-", seen, until);
		if (n < 0 || (size_t)n >= LEARN_TEXT_MAX + 1 - off - 32) {
			text[off] = '\0';
			snprintf(text + off, LEARN_TEXT_MAX + 1 - off,
			    "... and more\n");
			break;
		}
		off += (size_t)n;
	}
	return text;
}

int
learn_ctl(uint32_t op, const char *address, char **text_r)
{
	struct disc_ent	*e, *p;
	char		 held[PGP_FPR_LEN + 1], old[PGP_FPR_LEN + 1];
	char		 msg[512];
	enum disc_source src;
	int		 i;

	*text_r = NULL;
	switch (op) {
	case PGP_CTL_PENDING:
		*text_r = learn_list(1);
		return 1;
	case PGP_CTL_DISCOVERED:
		*text_r = learn_list(0);
		return 1;
	}
	if (!pgp_address_ok(address)) {
		*text_r = xstrdup("not an address");
		return 0;
	}
	switch (op) {
	case PGP_CTL_ACCEPT:
	case PGP_CTL_REJECT:
		if ((p = disc_find(&idx, DISC_AUTOCRYPT, address, 1)) == NULL) {
			*text_r = xstrdup("no key change is held for that "
			    "address");
			return 0;
		}
		strlcpy(held, p->fpr, sizeof(held));
		disc_del(&idx, p);
		if (op == PGP_CTL_REJECT) {
			learn_drop_key(ctx_ac, held, NULL);
			snprintf(msg, sizeof(msg), "rejected key %s; the key "
			    "in use stays\n", held);
		} else {
			old[0] = '\0';
			if ((e = disc_put(&idx, DISC_AUTOCRYPT, address, 0)) ==
			    NULL) {
				*text_r = xstrdup("the index is full");
				return 0;
			}
			strlcpy(old, e->fpr, sizeof(old));
			strlcpy(e->fpr, held, sizeof(e->fpr));
			e->state = DISC_KEY;
			e->seen = time(NULL);
			learn_drop_key(ctx_ac, old, NULL);
			snprintf(msg, sizeof(msg), "accepted key %s%s%s\n", held,
			    old[0] != '\0' ? "; it replaces " : "", old);
		}
		learn_save();
		*text_r = xstrdup(msg);
		return 1;
	case PGP_CTL_FORGET:
		msg[0] = '\0';
		for (i = (int)idx.n - 1; i >= 0; i--) {
			e = &idx.ent[i];
			if (strcasecmp(e->addr, address) != 0)
				continue;
			strlcpy(held, e->fpr, sizeof(held));
			src = e->src;
			strlcat(msg, src == DISC_WKD ? "wkd " :
			    e->state == DISC_PENDING ? "autocrypt-pending " :
			    "autocrypt ", sizeof(msg));
			disc_del(&idx, e);
			learn_drop_key(src == DISC_WKD ? ctx_wkd : ctx_ac, held,
			    NULL);
		}
		if (msg[0] == '\0') {
			*text_r = xstrdup("nothing was learnt for that "
			    "address");
			return 0;
		}
		learn_save();
		msg[strlen(msg) - 1] = '\n';
		*text_r = xstrdup(msg);
		return 1;
	}
	*text_r = xstrdup("unknown operation");
	return 0;
}
