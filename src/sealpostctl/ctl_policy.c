/* SPDX-License-Identifier: ISC */
/*
 * ctl_policy.c - sealpostctl policy check|explain: the policy files as
 * the server would load them (sealpost.policy(5)), checked, and what they
 * decide for one sender, recipient and listener.
 *
 *	policy check [FILE]	the whole policy folder, or one file alone
 *	policy explain --from ADDR [--rcpt ADDR] [--listener NAME]
 *	    [--authenticated] [--spam-score S]
 *
 * Process:  sealpostctl (the administrator; it only reads files).
 * Trust:    the files are the administrator's; errors and explanations
 *           print escaped text only (policy.h), addresses from the
 *           command line are matched, never printed raw.
 * See also: src/policy/policy.h, docs/sealpostctl.8.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "buf.h"
#include "xmalloc.h"
#include "policy.h"
#include "ctl_policy.h"
#include "banned.h"

#define EXPLAIN_MAX	8192

int
ctl_policy_is_command(const char *word)
{
	return strcmp(word, "policy") == 0;
}

static int
ctl_policy_usage(void)
{
	fprintf(stderr, "usage: sealpostctl [-c file] policy check [FILE]\n"
	    "       sealpostctl [-c file] policy explain --from ADDR "
	    "[--rcpt ADDR]\n"
	    "           [--listener smtp|submission|submissions] "
	    "[--authenticated]\n"
	    "           [--spam-score SCORE]\n");
	return 2;
}

/* The server's policy: the folder of sealpost.conf (missing: built-in). */
static struct policy *
ctl_policy_load(const struct sp_conf *conf, char *err, size_t errlen)
{
	struct policy	*p;
	struct buf	*img;

	if (policy_image_read(conf->policy_dir, conf->policy_dir_given ? 0 :
	    POLICY_DIR_OPTIONAL, &img, err, errlen) == -1)
		return NULL;
	p = policy_image_load(img->data, img->len, err, errlen);
	buf_free(&img);
	return p;
}

/* SCORE: [-]digits[.d[d]] into hundredths; -1 when malformed. */
static int
ctl_policy_score(const char *s, int64_t *out)
{
	int64_t	v = 0;
	int	neg = 0, frac = 0, digits = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (v > 100000)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (digits == 0)
		return -1;
	v *= 100;
	if (*s == '.') {
		s++;
		if (*s >= '0' && *s <= '9') {
			v += 10 * (*s++ - '0');
			frac++;
		}
		if (*s >= '0' && *s <= '9') {
			v += *s++ - '0';
			frac++;
		}
		if (frac == 0)
			return -1;
	}
	if (*s != '\0')
		return -1;
	*out = neg ? -v : v;
	return 0;
}

static int
ctl_policy_check(const struct sp_conf *conf, int argc, char **argv)
{
	struct policy		*p;
	struct policy_stats	 st;
	struct buf		*b;
	const char		*name;
	char			 err[POLICY_ERR_MAX], chunk[8192];
	FILE			*f;
	size_t			 n;
	int			 too_big;

	if (argc > 3)
		return ctl_policy_usage();
	if (argc == 3) {
		/* one file alone, named as the server would name it */
		if ((f = fopen(argv[2], "re")) == NULL) {
			fprintf(stderr, "sealpostctl: %s: cannot open\n",
			    argv[2]);
			return 1;
		}
		b = buf_new(POLICY_FILE_MAX);
		too_big = 0;
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			if (buf_add(b, chunk, n) == -1) {
				too_big = 1;	/* never parse a cut file */
				break;
			}
		fclose(f);
		name = strrchr(argv[2], '/') != NULL ? strrchr(argv[2], '/') +
		    1 : argv[2];
		if (too_big) {
			fprintf(stderr, "sealpostctl: %s: larger than %d "
			    "bytes\n", name, POLICY_FILE_MAX);
			buf_free(&b);
			return 1;
		}
		p = policy_load_buf(name, b->data, b->len, err, sizeof(err));
		buf_free(&b);
	} else
		p = ctl_policy_load(conf, err, sizeof(err));
	if (p == NULL) {
		fprintf(stderr, "sealpostctl: policy: %s\n", err);
		return 1;
	}
	policy_stats(p, &st);
	printf("policy OK: %zu file%s, %zu rule%s%s\n", st.files,
	    st.files == 1 ? "" : "s", st.rules, st.rules == 1 ? "" : "s",
	    st.defaults ? ", a defaults block" : "");
	policy_free(p);
	return 0;
}

static int
ctl_policy_explain(const struct sp_conf *conf, int argc, char **argv)
{
	struct policy		*p;
	struct policy_ctx	 ctx;
	struct policy_result	 res;
	const char		*from = NULL, *rcpt = NULL;
	char			 err[POLICY_ERR_MAX], *text;
	int64_t			 score = 0;
	int			 i, have_score = 0;
	static const char	*actions[] = { "none", "tag", "junk",
				    "reject" };

	memset(&ctx, 0, sizeof(ctx));
	ctx.listener = SP_LISTEN_SMTP;
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--authenticated") == 0) {
			ctx.authenticated = true;
			continue;
		}
		if (i + 1 >= argc)
			return ctl_policy_usage();
		if (strcmp(argv[i], "--from") == 0)
			from = argv[++i];
		else if (strcmp(argv[i], "--rcpt") == 0)
			rcpt = argv[++i];
		else if (strcmp(argv[i], "--listener") == 0) {
			i++;
			if (strcmp(argv[i], "smtp") == 0)
				ctx.listener = SP_LISTEN_SMTP;
			else if (strcmp(argv[i], "submission") == 0)
				ctx.listener = SP_LISTEN_SUBMISSION;
			else if (strcmp(argv[i], "submissions") == 0)
				ctx.listener = SP_LISTEN_SUBMISSIONS;
			else {
				fprintf(stderr, "sealpostctl: --listener: "
				    "smtp, submission or submissions\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--spam-score") == 0) {
			if (ctl_policy_score(argv[++i], &score) == -1) {
				fprintf(stderr, "sealpostctl: --spam-score: "
				    "a number such as 7.5 (at most two "
				    "decimals)\n");
				return 2;
			}
			have_score = 1;
		} else
			return ctl_policy_usage();
	}
	if (from == NULL)
		return ctl_policy_usage();
	if ((p = ctl_policy_load(conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealpostctl: policy: %s\n", err);
		return 1;
	}
	/* "<>" on the command line is the null sender */
	ctx.sender = strcmp(from, "<>") == 0 ? "" : from;
	ctx.recipient = rcpt;
	policy_eval(p, &ctx, &res);
	text = xmalloc(EXPLAIN_MAX);
	(void)policy_explain(p, &res, text, EXPLAIN_MAX);
	if (rcpt == NULL)
		printf("(no recipient: the sender's policy, as for the DATA "
		    "verdict of a submission)\n");
	fputs(text, stdout);
	free(text);
	if (have_score)
		printf("a spam score of %s%lld.%02lld: %s\n", score < 0 ?
		    "-" : "", (long long)(score < 0 ? -score : score) / 100,
		    (long long)(score < 0 ? -score : score) % 100,
		    actions[policy_spam_action(&res.v, score)]);
	policy_free(p);
	return 0;
}

int
ctl_policy_main(const char *conffile, int argc, char **argv)
{
	struct sp_conf	*conf;
	char		 err[1024];
	int		 rc;

	if (argc < 2 || (strcmp(argv[1], "check") != 0 &&
	    strcmp(argv[1], "explain") != 0))
		return ctl_policy_usage();
	/* one file is checked alone: no configuration needed */
	if (strcmp(argv[1], "check") == 0 && argc == 3)
		return ctl_policy_check(NULL, argc, argv);
	if ((conf = conf_load(conffile, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealpostctl: %s\n", err);
		return 1;
	}
	rc = strcmp(argv[1], "check") == 0 ?
	    ctl_policy_check(conf, argc, argv) :
	    ctl_policy_explain(conf, argc, argv);
	conf_free(conf);
	return rc;
}
