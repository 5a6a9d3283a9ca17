/* SPDX-License-Identifier: ISC */
/*
 * sendmail.c - sealpost-sendmail: the sendmail(8) interface that cron,
 * scripts and PHP's mail() use on the host.  It reads a message from
 * standard input and submits it over RUN_DIR/pickup.sock, where the
 * master learns the caller's uid from the kernel and lets it send only as
 * the address its local-sender line gives (sealpostd/pickup.c).  Called
 * as mailq (or with -bp) it lists the queue, for root.
 *
 *	sealpost-sendmail [-t] [-i | -oi] [-f ADDR] [-F NAME] [-C CONF]
 *	    [ADDR ...]
 *
 * -t adds the To:, Cc: and Bcc: addresses to those of the command line;
 * Bcc: fields are never sent.  Without -i, a line holding only "." ends
 * the message.  Lines end with LF or CR LF; they are sent with CR LF.
 * Missing From:, Date: and Message-ID: fields are added (From: is the
 * local-sender address, or -f's).  Exit status as sendmail's
 * (sysexits.h): 0, 64 usage, 65 a bad message, 67 an unknown recipient,
 * 69 refused, 75 try again later (the message was not taken).
 *
 * Process:  any local user (unprivileged, not setuid).
 * Trust:    the input is the caller's own; the server checks everything
 *           again.  The configuration is only read, for run-dir and the
 *           caller's local-sender line.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "conf.h"
#include "ctl_queue.h"
#include "banned.h"

#define SM_RCPTS_MAX	1000
#define SM_ADDR_MAX	254
#define SM_REPLY_MAX	4096

struct sm {
	int		 fd;
	char		 in[SM_REPLY_MAX];
	size_t		 inlen;
	char		*rcpts[SM_RCPTS_MAX];
	size_t		 nrcpts;
};

static void __attribute__((noreturn))
sm_usage(void)
{
	fprintf(stderr, "usage: sealpost-sendmail [-t] [-i] [-f address] "
	    "[-F name] [-C config] [address ...]\n       mailq\n");
	exit(EX_USAGE);
}

static void
sm_add_rcpt(struct sm *s, const char *a, size_t len)
{
	while (len > 0 && isspace((unsigned char)*a)) {
		a++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)a[len - 1]))
		len--;
	if (len == 0)
		return;
	if (len > SM_ADDR_MAX || memchr(a, '\0', len) != NULL) {
		fprintf(stderr, "sendmail: recipient address too long\n");
		exit(EX_DATAERR);
	}
	if (s->nrcpts == SM_RCPTS_MAX) {
		fprintf(stderr, "sendmail: too many recipients\n");
		exit(EX_DATAERR);
	}
	if ((s->rcpts[s->nrcpts] = strndup(a, len)) == NULL)
		exit(EX_OSERR);
	s->nrcpts++;
}

/*
 * The addresses of one unfolded To:/Cc:/Bcc: value: comma-separated,
 * each "<addr>" (with a display name, maybe quoted) or a bare addr-spec;
 * comments and group names ("name: a, b;") are skipped.
 */
static void
sm_header_rcpts(struct sm *s, const char *v)
{
	const char	*p = v, *start = v, *lt = NULL, *gt = NULL;
	int		 quote = 0, paren = 0;

	for (;; p++) {
		if (*p == '\0' || (!quote && !paren && (*p == ',' ||
		    *p == ';'))) {
			if (lt != NULL && gt != NULL && gt > lt)
				sm_add_rcpt(s, lt + 1, (size_t)(gt - lt - 1));
			else if (lt == NULL)
				sm_add_rcpt(s, start, (size_t)(p - start));
			if (*p == '\0')
				return;
			start = p + 1;
			lt = gt = NULL;
			continue;
		}
		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '"' && !paren)
			quote = !quote;
		else if (!quote && *p == '(')
			paren++;
		else if (!quote && *p == ')' && paren > 0)
			paren--;
		else if (!quote && !paren && *p == '<')
			lt = p;
		else if (!quote && !paren && *p == '>')
			gt = p;
		else if (!quote && !paren && *p == ':' && lt == NULL)
			start = p + 1;		/* a group's name */
	}
}

/*
 * Read standard input into msg as CR LF lines (dot handling: dots end it
 * unless ignore_dots), collecting the header fields' facts; Bcc: lines
 * are dropped from what is sent.
 */
static void
sm_read(struct sm *s, struct buf *msg, int ignore_dots, int extract,
    int *has_from, int *has_date, int *has_msgid, int *eightbit)
{
	char		*line = NULL, *field = NULL;
	size_t		 cap = 0, flen = 0;
	ssize_t		 n;
	int		 inhdr = 1, bcc = 0;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		size_t	len = (size_t)n;

		if (line[len - 1] == '\n')
			len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		if (!ignore_dots && len == 1 && line[0] == '.')
			break;
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)line[i] >= 0x80)
				*eightbit = 1;
		if (inhdr) {
			int cont = len > 0 && (line[0] == ' ' ||
			    line[0] == '\t');

			/* the previous field is complete: look at it */
			if (!cont && field != NULL) {
				if (extract && (strncasecmp(field, "To:", 3) ==
				    0 || strncasecmp(field, "Cc:", 3) == 0))
					sm_header_rcpts(s, field + 3);
				else if (extract && strncasecmp(field, "Bcc:",
				    4) == 0)
					sm_header_rcpts(s, field + 4);
				free(field);
				field = NULL;
				flen = 0;
			}
			if (len == 0) {
				inhdr = 0;
				(void)buf_add(msg, "\r\n", 2);
				continue;
			}
			if (!cont) {
				bcc = strncasecmp(line, "Bcc:", 4) == 0;
				*has_from |= strncasecmp(line, "From:", 5) == 0;
				*has_date |= strncasecmp(line, "Date:", 5) == 0;
				*has_msgid |= strncasecmp(line, "Message-ID:",
				    11) == 0;
			}
			if (flen + len + 1 > 65536) {
				fprintf(stderr, "sendmail: header field too "
				    "long\n");
				exit(EX_DATAERR);
			}
			field = realloc(field, flen + len + 1);
			if (field == NULL)
				exit(EX_OSERR);
			memcpy(field + flen, line, len + 1);
			flen += len;
			if (bcc)
				continue;	/* never sent */
		}
		if (buf_add(msg, line, len) == -1 ||
		    buf_add(msg, "\r\n", 2) == -1) {
			fprintf(stderr, "sendmail: message too large\n");
			exit(EX_DATAERR);
		}
	}
	if (field != NULL && extract) {
		if (strncasecmp(field, "To:", 3) == 0 ||
		    strncasecmp(field, "Cc:", 3) == 0)
			sm_header_rcpts(s, field + 3);
		else if (strncasecmp(field, "Bcc:", 4) == 0)
			sm_header_rcpts(s, field + 4);
	}
	free(field);
	free(line);
}

/* The reply code at the start of text, or 0. */
static int
sm_code(const char *text)
{
	char	c[4];

	if (strlen(text) < 3)
		return 0;
	memcpy(c, text, 3);
	c[3] = '\0';
	return (int)strtonum(c, 200, 599, NULL);
}

/* One whole reply: its code (0 when the server went away). */
static int
sm_reply(struct sm *s, char *text, size_t textlen)
{
	char	*nl;
	ssize_t	 n;

	for (;;) {
		while ((nl = memchr(s->in, '\n', s->inlen)) != NULL) {
			size_t	len = (size_t)(nl - s->in) + 1;
			int	last = len >= 4 && s->in[3] != '-';

			snprintf(text, textlen, "%.*s", (int)(len - 1), s->in);
			text[strcspn(text, "\r")] = '\0';
			memmove(s->in, s->in + len, s->inlen - len);
			s->inlen -= len;
			if (last)
				return sm_code(text);
		}
		if (s->inlen == sizeof(s->in))
			return 0;
		n = read(s->fd, s->in + s->inlen, sizeof(s->in) - s->inlen);
		if (n <= 0)
			return 0;
		s->inlen += (size_t)n;
	}
}

static void
sm_write(struct sm *s, const void *p, size_t len)
{
	const char	*c = p;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(s->fd, c, len)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			fprintf(stderr, "sendmail: the mail server went away\n");
			exit(EX_TEMPFAIL);
		}
		c += n;
		len -= (size_t)n;
	}
}

/* Send a command; a reply outside 2xx/3xx ends the program. */
static void
sm_cmd(struct sm *s, const char *cmd, int want, int nouser)
{
	char	text[512];
	int	code;

	if (cmd != NULL) {
		sm_write(s, cmd, strlen(cmd));
		sm_write(s, "\r\n", 2);
	}
	code = sm_reply(s, text, sizeof(text));
	if (code / 100 == want)
		return;
	fprintf(stderr, "sendmail: %s\n", code == 0 ? "the mail server went "
	    "away" : text);
	exit(code / 100 == 4 || code == 0 ? EX_TEMPFAIL : nouser &&
	    strncmp(text + 4, "5.1.1", 5) == 0 ? EX_NOUSER : EX_UNAVAILABLE);
}

/* This user's local-sender address, as the server will see it. */
static const char *
sm_sender(const struct sp_conf *c)
{
	struct passwd	*pw = getpwuid(getuid());
	char		 num[24];
	size_t		 i;

	snprintf(num, sizeof(num), "%lu", (unsigned long)getuid());
	for (i = 0; i < c->nsenders; i++)
		if (strcmp(c->senders[i].user, num) == 0 || (pw != NULL &&
		    strcmp(c->senders[i].user, pw->pw_name) == 0))
			return c->senders[i].address;
	return NULL;
}

int
main(int argc, char **argv)
{
	static struct sm	 s;
	struct sockaddr_un	 sun;
	struct sp_conf		*conf;
	struct buf		*msg, *head;
	const char		*conffile = SP_SYSCONFDIR "/sealpost.conf";
	const char		*from = NULL, *name = NULL, *me, *base;
	char			 err[1024], cmd[600], date[64];
	unsigned char		 rnd[12];
	size_t			 i;
	int			 ch, extract = 0, ignore_dots = 0, mailq = 0;
	int			 has_from = 0, has_date = 0, has_msgid = 0, eb = 0;
	time_t			 now;

	base = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 :
	    argv[0];
	mailq = strcmp(base, "mailq") == 0;
	while ((ch = getopt(argc, argv, "tif:F:C:o:b:v")) != -1) {
		switch (ch) {
		case 't':
			extract = 1;
			break;
		case 'i':
			ignore_dots = 1;
			break;
		case 'f':
			from = optarg;
			break;
		case 'F':
			name = optarg;
			break;
		case 'C':
			conffile = optarg;
			break;
		case 'o':
			/* -oi; the delivery-mode and error-mode options of
			 * old callers change nothing here */
			if (strcmp(optarg, "i") == 0)
				ignore_dots = 1;
			else if (optarg[0] != 'd' && optarg[0] != 'e' &&
			    strcmp(optarg, "m") != 0)
				sm_usage();
			break;
		case 'b':
			if (strcmp(optarg, "p") == 0)
				mailq = 1;
			else if (strcmp(optarg, "m") != 0)
				sm_usage();
			break;
		case 'v':
			break;
		default:
			sm_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if ((conf = conf_load(conffile, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sendmail: %s\n", err);
		return EX_CONFIG;
	}
	if (mailq) {
		char	*qargv[] = { "queue", "list", NULL };

		if (geteuid() != 0) {
			fprintf(stderr, "mailq: only root can read the queue "
			    "(its key is root's)\n");
			return EX_NOPERM;
		}
		conf_free(conf);
		return ctl_queue_main(conffile, 2, qargv);
	}
	if ((me = from) == NULL && (me = sm_sender(conf)) == NULL) {
		fprintf(stderr, "sendmail: uid %lu may not send mail here (no "
		    "local-sender line in %s)\n", (unsigned long)getuid(),
		    conffile);
		return EX_NOPERM;
	}
	for (i = 0; i < (size_t)argc; i++)
		sm_add_rcpt(&s, argv[i], strlen(argv[i]));
	msg = buf_new(conf->max_message_size);
	sm_read(&s, msg, ignore_dots, extract, &has_from, &has_date,
	    &has_msgid, &eb);
	if (s.nrcpts == 0) {
		fprintf(stderr, "sendmail: no recipients\n");
		return EX_USAGE;
	}
	/* the fields a message must have (RFC 5322 3.6) */
	head = buf_new(4096);
	now = time(NULL);
	if (!has_from) {
		if (name != NULL && strpbrk(name, "\r\n\"\\") == NULL)
			(void)buf_addf(head, "From: \"%s\" <%s>\r\n", name, me);
		else
			(void)buf_addf(head, "From: <%s>\r\n", me);
	}
	if (!has_date && strftime(date, sizeof(date),
	    "%a, %d %b %Y %H:%M:%S %z", localtime(&now)) > 0)
		(void)buf_addf(head, "Date: %s\r\n", date);
	if (!has_msgid) {
		randombytes_buf(rnd, sizeof(rnd));
		(void)buf_addf(head, "Message-ID: <%lld.", (long long)now);
		for (i = 0; i < sizeof(rnd); i++)
			(void)buf_addf(head, "%02x", rnd[i]);
		(void)buf_addf(head, "@%s>\r\n", conf->hostname);
	}

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/pickup.sock",
	    conf->run_dir);
	if ((s.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(s.fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "sendmail: %s: %s (is sealpostd running?)\n",
		    sun.sun_path, strerror(errno));
		return EX_TEMPFAIL;
	}
	sm_cmd(&s, NULL, 2, 0);
	sm_cmd(&s, "EHLO localhost", 2, 0);
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>%s", from != NULL ? from :
	    "", eb ? " BODY=8BITMIME" : "");
	sm_cmd(&s, cmd, 2, 0);
	for (i = 0; i < s.nrcpts; i++) {
		snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>", s.rcpts[i]);
		sm_cmd(&s, cmd, 2, 1);
	}
	/* BDAT: the message goes as it is, no dot-stuffing to get wrong */
	snprintf(cmd, sizeof(cmd), "BDAT %zu LAST", head->len + msg->len);
	sm_write(&s, cmd, strlen(cmd));
	sm_write(&s, "\r\n", 2);
	sm_write(&s, head->data, head->len);
	sm_write(&s, msg->data, msg->len);
	sm_cmd(&s, NULL, 2, 0);
	sm_cmd(&s, "QUIT", 2, 0);
	close(s.fd);
	buf_free(&msg);
	buf_free(&head);
	conf_free(conf);
	return 0;
}
