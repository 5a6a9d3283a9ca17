/* SPDX-License-Identifier: ISC */
/*
 * ctl_quarantine.c - sealpostctl quarantine: the messages the policy held
 * back (antivirus quarantine), in DATA_DIR/mail/quarantine, sealed to the
 * key of the account postmaster@DOMAIN leads to (store/quarantine.h).
 *
 *	quarantine list
 *	quarantine show ID [--raw] [--password-file FILE]
 *	quarantine release ID [--rcpt ADDRESS] [--password-file FILE]
 *	quarantine delete ID... | --older-than DAYS
 *
 * list and delete need no password (they read only the cleartext info);
 * show and release open the message with the postmaster account's
 * password, which unwraps its private key here, in sodium_malloc memory,
 * for as long as the command runs.  release hands the message back to
 * the running server (control socket, deliver service), unfiltered.
 *
 * Process:  sealpostctl, run by root.
 * Trust:    the files were written by the deliver service from what an
 *           smtp session sent, and the message is hostile (it carries a
 *           virus): every file is bounded and checked (quarantine.c,
 *           queue_store.c, blob.c), and what is printed to a terminal is
 *           escaped; --raw refuses a terminal.
 * See also: docs/sealpostctl.8 QUARANTINE, smtp/smtp_txn.c.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "conf.h"
#include "log.h"
#include "accounts.h"
#include "blob.h"
#include "quarantine.h"
#include "ctl_client.h"
#include "ctl_secret.h"
#include "ctl_quarantine.h"
#include "ctl_queue.h"
#include "banned.h"

#define CQ_HEADER_MAX	(256 * 1024)	/* show: header bytes printed */

struct cq {
	struct sp_conf		*conf;
	const char		*conffile;
	const char		*sock;
	int			 dfd;		/* the quarantine folder */
	const char		*pwfile;
	const char		*rcpt;		/* release --rcpt */
	int			 raw;		/* show --raw */
	long long		 older;		/* delete --older-than, days */
};

int
ctl_quarantine_is_command(const char *word)
{
	return strcmp(word, "quarantine") == 0;
}

static int
cq_usage(void)
{
	fprintf(stderr, "usage: sealpostctl [-c file] quarantine list\n"
	    "       sealpostctl [-c file] quarantine show ID [--raw] "
	    "[--password-file FILE]\n"
	    "       sealpostctl [-c file] quarantine release ID "
	    "[--rcpt ADDRESS] [--password-file FILE]\n"
	    "       sealpostctl [-c file] quarantine delete ID ... | "
	    "--older-than DAYS\n");
	return 2;
}

/* Every quarantined message's id (envelope present), sorted. */
static int
cq_ids(struct cq *q, char (**ids)[QUEUE_ID_LEN + 1], size_t *n)
{
	if (queue_store_ids(q->dfd, ids, n) == -1) {
		fprintf(stderr, "sealpostctl: quarantine: %s\n",
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * ID as given: the 32-digit id of "list", or the queue id of the SMTP
 * reply and the logs.  0 with the id in out, or -1 (said why).
 */
static int
cq_resolve(struct cq *q, const char *arg, char out[QUEUE_ID_LEN + 1])
{
	struct quar_info	 qi;
	char			(*ids)[QUEUE_ID_LEN + 1] = NULL, err[256];
	size_t			 n, i, found = 0;
	struct stat		 st;
	char			 name[64];

	if (strlen(arg) == QUEUE_ID_LEN && strspn(arg, "0123456789abcdef") ==
	    QUEUE_ID_LEN) {
		snprintf(name, sizeof(name), "%s.env", arg);
		if (fstatat(q->dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			goto none;
		strlcpy(out, arg, QUEUE_ID_LEN + 1);
		return 0;
	}
	if (!quar_qid_ok(arg)) {
		fprintf(stderr, "sealpostctl: \"%s\" is not a quarantine id "
		    "(see sealpostctl quarantine list)\n", arg);
		return -1;
	}
	if (cq_ids(q, &ids, &n) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (quarantine_info(q->dfd, ids[i], &qi, err,
		    sizeof(err)) == 0 && strcmp(qi.qid, arg) == 0) {
			if (found++ == 0)
				strlcpy(out, ids[i], QUEUE_ID_LEN + 1);
		}
	free(ids);
	if (found == 1)
		return 0;
	if (found > 1) {
		fprintf(stderr, "sealpostctl: %s names %zu messages: give the "
		    "id that sealpostctl quarantine list shows\n", arg, found);
		return -1;
	}
none:
	fprintf(stderr, "sealpostctl: %s: no such message in the quarantine\n",
	    arg);
	return -1;
}

static int
cq_list(struct cq *q)
{
	struct quar_info	 qi;
	char			(*ids)[QUEUE_ID_LEN + 1] = NULL;
	char			 err[256], t[32];
	size_t			 n, i;

	if (cq_ids(q, &ids, &n) == -1)
		return 1;
	if (n == 0)
		printf("the quarantine is empty\n");
	else
		printf("%-32s %-27s %-20s %10s %5s %s\n", "ID", "QUEUE-ID",
		    "RECEIVED", "SIZE", "RCPTS", "REASON");
	for (i = 0; i < n; i++) {
		if (quarantine_info(q->dfd, ids[i], &qi, err,
		    sizeof(err)) == -1) {
			printf("%-32s (no details: %s)\n", ids[i], err);
			continue;
		}
		ctl_queue_time(qi.received, t, sizeof(t));
		printf("%-32s %-27s %-20s %10" PRIu64 " %5" PRIu32 " %s\n",
		    ids[i], qi.qid, t, qi.size, qi.nrcpts, qi.reason);
	}
	free(ids);
	return 0;
}

struct cq_find {
	uint64_t	 id;
	char		 address[ACCOUNTS_ADDRESS_MAX + 1];
};

static int
cq_find_account(const struct accounts_user_info *u, void *arg)
{
	struct cq_find	*f = arg;

	if (u->id == f->id)
		strlcpy(f->address, u->address, sizeof(f->address));
	return 0;
}

/*
 * The key pair of the account the message is sealed to, unwrapped with
 * its password: 0 with sk (sodium_malloc'd, the caller frees) and pk,
 * or -1 (said why).
 */
static int
cq_unlock(struct cq *q, const struct quar_info *qi, unsigned char **sk_r,
    unsigned char pk[QUEUE_KEY_LEN])
{
	struct accounts_params	 p;
	struct accounts_db	*db;
	struct ctl_secret	 pw = { NULL, 0 };
	struct cq_find		 f;
	const char		*e;
	char			 path[PATH_MAX], err[1024], prompt[400];
	unsigned char		*sk;
	uint64_t		 id, quota, usage;
	uint32_t		 uid;
	int			 r, ret = -1;

	*sk_r = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/users.db",
	    q->conf->data_dir) >= sizeof(path)) {
		fprintf(stderr, "sealpostctl: data-dir too long\n");
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.kdf_strength = q->conf->kdf_strength;
	p.uid_min = q->conf->account_uid_min;
	p.uid_max = q->conf->account_uid_max;
	if ((db = accounts_open(path, &p, 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealpostctl: %s\n", err);
		return -1;
	}
	memset(&f, 0, sizeof(f));
	f.id = qi->account;
	if (accounts_user_list(db, cq_find_account, &f, &e) == -1) {
		fprintf(stderr, "sealpostctl: %s\n", e);
		goto done;
	}
	if (f.address[0] == '\0') {
		fprintf(stderr, "sealpostctl: the message is sealed to account "
		    "%" PRIu64 ", which no longer exists: it cannot be "
		    "opened\n", qi->account);
		goto done;
	}
	if (accounts_lookup(db, f.address, &id, pk, &uid, &quota,
	    &usage) != 1 || id != qi->account) {
		fprintf(stderr, "sealpostctl: %s: cannot read the account\n",
		    f.address);
		goto done;
	}
	snprintf(prompt, sizeof(prompt), "Password of %s (the postmaster "
	    "account the message is sealed to): ", f.address);
	if (ctl_secret_read(q->pwfile, prompt, NULL, &pw) != 0)
		goto done;
	if ((sk = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL) {
		fprintf(stderr, "sealpostctl: out of memory\n");
		goto done;
	}
	r = accounts_unlock(db, f.address, pw.buf, pw.len, &id, NULL, sk);
	if (r != 1 || id != qi->account) {
		sodium_free(sk);
		if (r == -1)
			fprintf(stderr, "sealpostctl: %s\n",
			    accounts_errstr(db));
		else
			fprintf(stderr, "sealpostctl: wrong password for %s\n",
			    f.address);
		goto done;
	}
	*sk_r = sk;
	ret = 0;
done:
	ctl_secret_free(&pw);
	accounts_close(db);
	return ret;
}

/*
 * Open the quarantined message id: its info, envelope and body reader.
 * 0, or -1 (said why).  The caller closes *r_r and *fd_r, frees env.
 */
static int
cq_open(struct cq *q, const char *id, struct quar_info *qi,
    struct queue_env *env, struct blob_reader **r_r, int *fd_r)
{
	unsigned char	*sk = NULL, pk[QUEUE_KEY_LEN], bid[BLOB_ID_LEN];
	char		 err[1024];
	size_t		 binlen;
	int		 fd = -1;

	*r_r = NULL;
	*fd_r = -1;
	memset(env, 0, sizeof(*env));
	if (quarantine_info(q->dfd, id, qi, err, sizeof(err)) == -1) {
		fprintf(stderr, "sealpostctl: %s: %s (the account it is sealed "
		    "to is unknown)\n", id, err);
		return -1;
	}
	if (cq_unlock(q, qi, &sk, pk) == -1)
		return -1;
	if (queue_store_get_in(q->dfd, "quarantine", pk, sk, id, env, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "sealpostctl: %s\n", err);
		goto fail;
	}
	if (sodium_hex2bin(bid, sizeof(bid), id, QUEUE_ID_LEN, NULL, &binlen,
	    NULL) != 0 || binlen != sizeof(bid) ||
	    (fd = openat(q->dfd, id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1) {
		fprintf(stderr, "sealpostctl: %s: the message: %s\n", id,
		    strerror(errno));
		goto fail;
	}
	if ((*r_r = blob_open(fd, pk, sk, bid, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealpostctl: %s: the message: %s\n", id, err);
		goto fail;
	}
	sodium_free(sk);
	*fd_r = fd;
	return 0;
fail:
	if (fd != -1)
		close(fd);
	queue_env_free(env);
	sodium_free(sk);
	return -1;
}

/* Text from the message for a terminal: printable ASCII, tab, newline. */
static void
cq_print_escaped(const unsigned char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			continue;
		if (p[i] == '\n' || p[i] == '\t' || (p[i] >= 0x20 &&
		    p[i] < 0x7f))
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
}

/*
 * The whole message, at most CTL_MESSAGE_MAX bytes, after leadlen bytes
 * of lead (release's header line): malloc'd, *len_r the message's bytes.
 */
static unsigned char *
cq_read_all(struct blob_reader *r, const char *id, const char *lead,
    size_t leadlen, size_t *len_r)
{
	uint64_t	 size = blob_meta(r)->size;
	unsigned char	*buf;

	if (size > CTL_MESSAGE_MAX - leadlen) {
		fprintf(stderr, "sealpostctl: %s: message larger than 64 MiB\n",
		    id);
		return NULL;
	}
	if ((buf = malloc(leadlen + size + 1)) == NULL) {
		fprintf(stderr, "sealpostctl: out of memory\n");
		return NULL;
	}
	memcpy(buf, lead, leadlen);
	if (blob_pread(r, buf + leadlen, size, 0) != (ssize_t)size) {
		fprintf(stderr, "sealpostctl: %s: the message does not open: "
		    "%s\n", id, strerror(errno));
		free(buf);
		return NULL;
	}
	*len_r = size;
	return buf;
}

static int
cq_show(struct cq *q, const char *id)
{
	struct quar_info	 qi;
	struct queue_env	 env;
	struct blob_reader	*r;
	unsigned char		*buf;
	char			 t[32], esc[QUEUE_ADDR_MAX * 4 + 1];
	size_t			 len = 0, i, hlen;
	int			 fd, rc = 0;

	if (q->raw && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "sealpostctl: --raw writes the message as it "
		    "is (it holds a virus): redirect standard output to a "
		    "file\n");
		return 1;
	}
	if (cq_open(q, id, &qi, &env, &r, &fd) == -1)
		return 1;
	if ((buf = cq_read_all(r, id, "", 0, &len)) == NULL) {
		rc = 1;
		goto done;
	}
	if (q->raw) {
		if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
			fprintf(stderr, "sealpostctl: standard output: %s\n",
			    strerror(errno));
			rc = 1;
		}
		goto done;
	}
	ctl_queue_time(qi.received, t, sizeof(t));
	printf("id:        %s\nqueue id:  %s\nreceived:  %s\nreason:    %s\n"
	    "size:      %zu\nfrom:      <%s>\n", id, qi.qid, t, qi.reason, len,
	    log_esc(esc, sizeof(esc), env.from, strlen(env.from)));
	for (i = 0; i < env.nrcpts; i++)
		printf("to:        <%s>\n", log_esc(esc, sizeof(esc),
		    env.rcpts[i].addr, strlen(env.rcpts[i].addr)));
	/* the header section: up to the first empty line */
	for (hlen = 0; hlen < len && hlen < CQ_HEADER_MAX; hlen++)
		if (buf[hlen] == '\n' && hlen + 2 < len &&
		    buf[hlen + 1] == '\r' && buf[hlen + 2] == '\n') {
			hlen++;
			break;
		}
	printf("\n");
	cq_print_escaped(buf, hlen);
	if (hlen < len)
		printf("\n(%zu more bytes: the body; sealpostctl quarantine "
		    "show %s --raw > FILE writes the whole message)\n",
		    len - hlen, id);
done:
	if (buf != NULL) {
		sodium_memzero(buf, len);
		free(buf);
	}
	blob_close(r);
	close(fd);
	queue_env_free(&env);
	return rc;
}

static int
cq_release(struct cq *q, const char *id)
{
	struct quar_info	 qi;
	struct queue_env	 env;
	struct blob_reader	*r;
	unsigned char		*msg = NULL;
	char			 hdr[400], t[40], res[256], err[256];
	char			 esc[QUEUE_ADDR_MAX * 4 + 1];
	size_t			 len = 0, hl = 0, i, j, ok = 0, tried = 0;
	time_t			 now = time(NULL);
	struct tm		 tm;
	int			 fd, rc = 0, c;

	if (cq_open(q, id, &qi, &env, &r, &fd) == -1)
		return 1;
	if (q->rcpt != NULL) {
		for (i = 0; i < env.nrcpts; i++)
			if (strcasecmp(env.rcpts[i].addr, q->rcpt) == 0)
				break;
		if (i == env.nrcpts) {
			fprintf(stderr, "sealpostctl: %s is not a recipient of "
			    "%s\n", q->rcpt, id);
			rc = 1;
			goto done;
		}
	}
	/* the recipients learn it was held, and why: a line on top */
	if (gmtime_r(&now, &tm) == NULL || strftime(t, sizeof(t),
	    "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		t[0] = '\0';
	hl = (size_t)snprintf(hdr, sizeof(hdr), "X-Sealpost-Antivirus: "
	    "released from quarantine by the postmaster\r\n\t(%s); %s\r\n",
	    qi.reason, t);
	if (hl >= sizeof(hdr) ||
	    (msg = cq_read_all(r, id, hdr, hl, &len)) == NULL) {
		hl = 0;
		rc = 1;
		goto done;
	}
	for (i = 0; i < env.nrcpts; i++) {
		const char *a = env.rcpts[i].addr;

		if (q->rcpt != NULL && strcasecmp(a, q->rcpt) != 0)
			continue;
		for (j = 0; j < i; j++)		/* once per address */
			if (strcasecmp(env.rcpts[j].addr, a) == 0)
				break;
		if (j < i)
			continue;
		tried++;
		c = ctl_deliver_buf(q->sock, a, msg, hl + len, res,
		    sizeof(res));
		log_esc(esc, sizeof(esc), a, strlen(a));
		if (c == 0) {
			printf("delivered to <%s>\n", esc);
			ok++;
		} else {
			fprintf(stderr, "sealpostctl: <%s>: %s\n", esc, res);
			if (rc == 0 || c == 75)
				rc = c;
		}
	}
	if (ok == tried && q->rcpt == NULL) {
		if (quarantine_remove(q->dfd, id, err, sizeof(err)) == -1) {
			fprintf(stderr, "sealpostctl: %s\n", err);
			rc = 1;
		} else
			printf("released %s: removed from the quarantine\n",
			    id);
	} else if (q->rcpt != NULL && ok == tried)
		printf("%s stays in the quarantine (released to one "
		    "recipient; sealpostctl quarantine delete %s when done)\n",
		    id, id);
	else
		fprintf(stderr, "sealpostctl: %zu of %zu recipients got %s; it "
		    "stays in the quarantine (release the others with "
		    "--rcpt)\n", ok, tried, id);
done:
	if (msg != NULL) {
		sodium_memzero(msg, hl + len);
		free(msg);
	}
	blob_close(r);
	close(fd);
	queue_env_free(&env);
	return rc;
}

static int
cq_delete(struct cq *q, char **args, int nargs)
{
	struct quar_info	 qi;
	char			(*ids)[QUEUE_ID_LEN + 1] = NULL;
	char			 id[QUEUE_ID_LEN + 1], err[256];
	size_t			 n, i, gone = 0;
	int64_t			 cut;
	int			 k, rc = 0;

	if (q->older < 0) {
		for (k = 0; k < nargs; k++) {
			if (cq_resolve(q, args[k], id) == -1) {
				rc = 1;
				continue;
			}
			if (quarantine_remove(q->dfd, id, err,
			    sizeof(err)) == -1) {
				fprintf(stderr, "sealpostctl: %s\n", err);
				rc = 1;
			} else
				printf("deleted %s\n", id);
		}
		return rc;
	}
	if (cq_ids(q, &ids, &n) == -1)
		return 1;
	cut = (int64_t)time(NULL) - (int64_t)q->older * 86400;
	for (i = 0; i < n; i++) {
		if (quarantine_info(q->dfd, ids[i], &qi, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "sealpostctl: %s: %s: left alone (delete "
			    "it by its id)\n", ids[i], err);
			continue;
		}
		if (qi.received >= cut)
			continue;
		if (quarantine_remove(q->dfd, ids[i], err, sizeof(err)) == -1) {
			fprintf(stderr, "sealpostctl: %s\n", err);
			rc = 1;
		} else
			gone++;
	}
	free(ids);
	printf("deleted %zu message%s received more than %lld day%s ago\n",
	    gone, gone == 1 ? "" : "s", q->older, q->older == 1 ? "" : "s");
	return rc;
}

int
ctl_quarantine_main(const char *conffile, const char *sock, int argc,
    char **argv)
{
	static const struct option opts[] = {
		{ "raw", no_argument, NULL, 'r' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "rcpt", required_argument, NULL, 't' },
		{ "older-than", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	struct cq	 q;
	const char	*verb, *e;
	char		 err[1024], path[PATH_MAX], spath[108], id[QUEUE_ID_LEN + 1];
	int		 ch, rc;

	if (argc < 2)
		return cq_usage();
	verb = argv[1];
	memset(&q, 0, sizeof(q));
	q.older = -1;
	q.conffile = conffile;
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			q.raw = 1;
			break;
		case 'p':
			q.pwfile = optarg;
			break;
		case 't':
			q.rcpt = optarg;
			break;
		case 'o':
			q.older = strtonum(optarg, 0, 36500, &e);
			if (e != NULL) {
				fprintf(stderr, "sealpostctl: --older-than "
				    "%s: days, a number from 0 to 36500\n",
				    optarg);
				return 2;
			}
			break;
		default:
			return cq_usage();
		}
	}
	argc -= optind;
	argv += optind;
	/* which options go with which verb, and how many ids */
	if (strcmp(verb, "list") == 0) {
		if (argc != 0 || q.raw || q.pwfile || q.rcpt || q.older >= 0)
			return cq_usage();
	} else if (strcmp(verb, "show") == 0) {
		if (argc != 1 || q.rcpt || q.older >= 0)
			return cq_usage();
	} else if (strcmp(verb, "release") == 0) {
		if (argc != 1 || q.raw || q.older >= 0)
			return cq_usage();
	} else if (strcmp(verb, "delete") == 0) {
		if (q.raw || q.pwfile || q.rcpt || (q.older >= 0) ==
		    (argc > 0))
			return cq_usage();
	} else
		return cq_usage();

	if ((q.conf = conf_load(conffile, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealpostctl: %s\n", err);
		return 1;
	}
	if (sodium_init() < 0) {
		conf_free(q.conf);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/mail/" QUAR_DIR, q.conf->data_dir);
	if ((q.dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT && strcmp(verb, "list") == 0) {
			printf("the quarantine is empty\n");	/* never ran */
			conf_free(q.conf);
			return 0;
		}
		fprintf(stderr, "sealpostctl: %s: %s\n", path, strerror(errno));
		conf_free(q.conf);
		return 1;
	}
	if (strcmp(verb, "list") == 0)
		rc = cq_list(&q);
	else if (strcmp(verb, "delete") == 0)
		rc = cq_delete(&q, argv, argc);
	else if (cq_resolve(&q, argv[0], id) == -1)
		rc = 1;
	else if (strcmp(verb, "show") == 0)
		rc = cq_show(&q, id);
	else if (ctl_socket_path(conffile, sock, spath, sizeof(spath)) == -1)
		rc = 1;
	else {
		q.sock = spath;
		rc = cq_release(&q, id);
	}
	close(q.dfd);
	conf_free(q.conf);
	return rc;
}
