/* SPDX-License-Identifier: ISC */
/*
 * ctl_accounts.c - sealpostctl's account commands: they open
 * DATA_DIR/users.db directly (the running server need not be up).
 *
 *	domain add DOMAIN [--postmaster ADDRESS] | list | del DOMAIN
 *	user add ADDRESS [--quota SIZE] [--password-file FILE]
 *	user list | del ADDRESS
 *	user passwd ADDRESS [--password-file FILE] [--new-password-file FILE]
 *	user app-password add ADDRESS LABEL [--password-file FILE]
 *	user app-password list ADDRESS | revoke ADDRESS LABEL
 *	user reset-password ADDRESS --recovery-key FILE [--password-file FILE]
 *	alias add ALIAS ADDRESS [--replace] | list | del ALIAS
 *	recovery init PRIVATE-FILE [PUBLIC-FILE]
 *
 * Process:  sealpostctl, run by root from a shell.
 * Trust:    the arguments are the administrator's, checked by
 *           store/accounts.c like any input.  Passwords never come from
 *           argv (ps shows it): a no-echo prompt on the terminal, the first
 *           line of --password-file, or a line of standard input when it is
 *           not a terminal; they are held in sodium_malloc memory only.
 * Limits:   ACCOUNTS_PASSWORD_MAX bytes per password line, CTL_MAX_ARGS.
 * See also: docs/sealpostctl.8, store/accounts.h.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "xmalloc.h"
#include "conf.h"
#include "accounts.h"
#include "layout.h"
#include "ctl_accounts.h"
#include "ctl_secret.h"
#include "banned.h"

#define CTL_MAX_ARGS	8

#define OPT_PASSWORD_FILE	0x01
#define OPT_NEW_PASSWORD_FILE	0x02
#define OPT_QUOTA		0x04
#define OPT_POSTMASTER		0x08
#define OPT_REPLACE		0x10
#define OPT_RECOVERY_KEY	0x20

#define CMD_CREATE	0x01	/* may create users.db */
#define CMD_NO_DB	0x02	/* does not open users.db */
#define CMD_RECOVERY	0x04	/* needs the configured recovery key */

struct ctl {
	struct sp_conf		*conf;
	struct accounts_db	*db;
	const char		*password_file;
	const char		*new_password_file;
	const char		*quota;
	const char		*postmaster;
	const char		*recovery_key;
	int			 replace;
	int			 opts;		/* OPT_* given */
};

/* A password, in sodium_malloc memory. */

struct ctl_table {
	size_t		 ncols;
	size_t		 nrows;
	char		**cells;	/* row 0 is the header */
};

struct ctl_cmd {
	const char	*words[3];
	int		 nwords;
	int		 minargs;
	int		 maxargs;
	int		 opts;		/* OPT_* allowed */
	int		 reqopts;	/* OPT_* required */
	int		 flags;		/* CMD_* */
	const char	*usage;
	int		(*fn)(struct ctl *, char **);
};

static int	cmd_domain_add(struct ctl *, char **);
static int	cmd_domain_list(struct ctl *, char **);
static int	cmd_domain_del(struct ctl *, char **);
static int	cmd_user_add(struct ctl *, char **);
static int	cmd_user_list(struct ctl *, char **);
static int	cmd_user_del(struct ctl *, char **);
static int	cmd_user_passwd(struct ctl *, char **);
static int	cmd_app_add(struct ctl *, char **);
static int	cmd_app_list(struct ctl *, char **);
static int	cmd_app_revoke(struct ctl *, char **);
static int	cmd_user_reset(struct ctl *, char **);
static int	cmd_alias_add(struct ctl *, char **);
static int	cmd_alias_list(struct ctl *, char **);
static int	cmd_alias_del(struct ctl *, char **);
static int	cmd_recovery_init(struct ctl *, char **);

static const struct ctl_cmd ctl_cmds[] = {
	{ { "domain", "add" }, 2, 1, 1, OPT_POSTMASTER, 0, CMD_CREATE,
	    "domain add DOMAIN [--postmaster ADDRESS]", cmd_domain_add },
	{ { "domain", "list" }, 2, 0, 0, 0, 0, 0,
	    "domain list", cmd_domain_list },
	{ { "domain", "del" }, 2, 1, 1, 0, 0, 0,
	    "domain del DOMAIN", cmd_domain_del },
	{ { "user", "add" }, 2, 1, 1, OPT_QUOTA | OPT_PASSWORD_FILE, 0,
	    CMD_RECOVERY,
	    "user add ADDRESS [--quota SIZE] [--password-file FILE]",
	    cmd_user_add },
	{ { "user", "list" }, 2, 0, 0, 0, 0, CMD_RECOVERY,
	    "user list", cmd_user_list },
	{ { "user", "del" }, 2, 1, 1, 0, 0, 0,
	    "user del ADDRESS", cmd_user_del },
	{ { "user", "passwd" }, 2, 1, 1,
	    OPT_PASSWORD_FILE | OPT_NEW_PASSWORD_FILE, 0, CMD_RECOVERY,
	    "user passwd ADDRESS [--password-file FILE] "
	    "[--new-password-file FILE]", cmd_user_passwd },
	{ { "user", "app-password", "add" }, 3, 2, 2, OPT_PASSWORD_FILE, 0,
	    CMD_RECOVERY,
	    "user app-password add ADDRESS LABEL [--password-file FILE]",
	    cmd_app_add },
	{ { "user", "app-password", "list" }, 3, 1, 1, 0, 0, 0,
	    "user app-password list ADDRESS", cmd_app_list },
	{ { "user", "app-password", "revoke" }, 3, 2, 2, 0, 0, 0,
	    "user app-password revoke ADDRESS LABEL", cmd_app_revoke },
	{ { "user", "reset-password" }, 2, 1, 1,
	    OPT_RECOVERY_KEY | OPT_PASSWORD_FILE, OPT_RECOVERY_KEY,
	    CMD_RECOVERY, "user reset-password ADDRESS --recovery-key FILE "
	    "[--password-file FILE]", cmd_user_reset },
	{ { "alias", "add" }, 2, 2, 2, OPT_REPLACE, 0, 0,
	    "alias add ALIAS ADDRESS [--replace]", cmd_alias_add },
	{ { "alias", "list" }, 2, 0, 0, 0, 0, 0,
	    "alias list", cmd_alias_list },
	{ { "alias", "del" }, 2, 1, 1, 0, 0, 0,
	    "alias del ALIAS", cmd_alias_del },
	{ { "recovery", "init" }, 2, 1, 2, 0, 0, CMD_NO_DB,
	    "recovery init PRIVATE-FILE [PUBLIC-FILE]", cmd_recovery_init },
};
#define CTL_NCMDS	(sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

/* Usage of one command, or of every command starting with family. */
static int
ctl_usage(const struct ctl_cmd *cmd, const char *family)
{
	const char	*pre = "usage:";
	size_t		 i;

	for (i = 0; i < CTL_NCMDS; i++) {
		if (cmd != NULL ? cmd != &ctl_cmds[i] :
		    strcmp(family, ctl_cmds[i].words[0]) != 0)
			continue;
		fprintf(stderr, "%s sealpostctl [-c file] %s\n", pre,
		    ctl_cmds[i].usage);
		pre = "      ";
	}
	return 2;
}

int
ctl_accounts_is_command(const char *word)
{
	size_t	i;

	for (i = 0; i < CTL_NCMDS; i++)
		if (strcmp(word, ctl_cmds[i].words[0]) == 0)
			return 1;
	return 0;
}

/* --- output helpers ---------------------------------------------------- */

static void
ctl_lower(const char *in, char *out, size_t outlen)
{
	size_t	i;

	for (i = 0; in[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

/* A byte count as typed in sealpost.conf: K, M, G, T when exact. */
static const char *
ctl_size(uint64_t v, int zero_none, char *buf, size_t len)
{
	static const char	sfx[] = "TGMK";
	int			i;

	if (v == 0)
		return zero_none ? "none" : "0";
	for (i = 0; i < 4; i++) {
		uint64_t	unit = 1ULL << (10 * (4 - i));

		if (v % unit == 0) {
			snprintf(buf, len, "%llu%c",
			    (unsigned long long)(v / unit), sfx[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

static const char *
ctl_date(int64_t t, char *buf, size_t len)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%MZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

static struct ctl_table *
table_new(size_t ncols)
{
	struct ctl_table	*t = xcalloc(1, sizeof(*t));

	t->ncols = ncols;
	return t;
}

/* Add a row of t->ncols strings (copied). */
static void
table_add(struct ctl_table *t, ...)
{
	va_list	ap;
	size_t	i;

	t->cells = xreallocarray(t->cells, (t->nrows + 1) * t->ncols,
	    sizeof(*t->cells));
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] =
		    xstrdup(va_arg(ap, const char *));
	va_end(ap);
	t->nrows++;
}

static void
table_free(struct ctl_table *t)
{
	size_t	i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* Print aligned (two spaces between columns) and free. */
static void
table_print_free(struct ctl_table *t)
{
	size_t	*w, r, i, n;

	w = xcalloc(t->ncols, sizeof(*w));
	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++)
			if ((n = strlen(t->cells[r * t->ncols + i])) > w[i])
				w[i] = n;
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			const char	*s = t->cells[r * t->ncols + i];

			if (i + 1 < t->ncols)
				printf("%-*s  ", (int)w[i], s);
			else
				printf("%s\n", s);
		}
	}
	free(w);
	table_free(t);
}

/* --- domains ----------------------------------------------------------- */

static int
ctl_conf_has_domain(const struct sp_conf *conf, const char *dom)
{
	size_t	i;

	for (i = 0; i < conf->ndomains; i++)
		if (strcmp(conf->domains[i], dom) == 0)
			return 1;
	return 0;
}

static int
cmd_domain_add(struct ctl *c, char **args)
{
	char		 dom[SP_HOSTNAME_MAX + 1];
	char		 pm[ACCOUNTS_ADDRESS_MAX + 1];
	const char	*e;

	if (accounts_domain_add(c->db, args[0], c->postmaster, &e) == -1)
		return ctl_error("%s", e);
	ctl_lower(args[0], dom, sizeof(dom));
	printf("added domain %s\n", dom);
	if (c->postmaster != NULL) {
		ctl_lower(c->postmaster, pm, sizeof(pm));
		printf("postmaster@%s and abuse@%s go to %s\n", dom, dom, pm);
	} else
		printf("postmaster@%s and abuse@%s will go to the first "
		    "account added in %s\n", dom, dom, dom);
	if (!ctl_conf_has_domain(c->conf, dom))
		printf("note: %s has no \"domain %s\" line: mail for %s is "
		    "refused until it has\n", c->conf->path, dom, dom);
	return 0;
}

static int
domain_row(const struct accounts_domain_info *d, void *arg)
{
	char	na[24], nl[24];

	snprintf(na, sizeof(na), "%llu", (unsigned long long)d->naccounts);
	snprintf(nl, sizeof(nl), "%llu", (unsigned long long)d->naliases);
	table_add(arg, d->name, na, nl,
	    d->postmaster != NULL ? d->postmaster : "-",
	    d->abuse != NULL ? d->abuse : "-");
	return 0;
}

static int
cmd_domain_list(struct ctl *c, char **args)
{
	struct ctl_table	*t = table_new(5);
	const char		*e;

	(void)args;
	table_add(t, "DOMAIN", "ACCOUNTS", "ALIASES", "POSTMASTER", "ABUSE");
	if (accounts_domain_list(c->db, domain_row, t, &e) == -1) {
		table_free(t);
		return ctl_error("%s", e);
	}
	table_print_free(t);
	return 0;
}

static int
cmd_domain_del(struct ctl *c, char **args)
{
	char		 dom[SP_HOSTNAME_MAX + 1];
	const char	*e;

	if (accounts_domain_del(c->db, args[0], &e) == -1)
		return ctl_error("%s", e);
	ctl_lower(args[0], dom, sizeof(dom));
	printf("deleted domain %s\n", dom);
	return 0;
}

/* --- users ------------------------------------------------------------- */

static int
cmd_user_add(struct ctl *c, char **args)
{
	struct accounts_user_info	 u;
	struct ctl_secret		 pw = { NULL, 0 };
	char				 prompt[ACCOUNTS_ADDRESS_MAX + 32];
	char				 sz[32];
	const char			*e, *dom;
	uint64_t			 quota = c->conf->default_quota;
	struct passwd			*dpw;
	char				 lerr[256];
	int				 rv;

	if (c->quota != NULL && conf_size_parse(c->quota, &quota) == -1)
		return ctl_error("--quota: \"%s\" is not a size (bytes, with "
		    "K, M, G or T, or none)", c->quota);
	if (accounts_user_check(c->db, args[0], 0, &e) == -1)
		return ctl_error("%s", e);
	snprintf(prompt, sizeof(prompt), "Password for %s: ", args[0]);
	if (ctl_secret_read(c->password_file, prompt, "Repeat the password: ",
	    &pw) != 0) {
		ctl_secret_free(&pw);
		return 1;
	}
	if ((dpw = getpwnam("_sp_deliver")) == NULL)
		return ctl_error("user _sp_deliver does not exist: create the "
		    "sealpost role users (contrib/dev does; see docs/design.md)");
	rv = accounts_user_add(c->db, args[0], pw.buf, pw.len, quota, &u, &e);
	ctl_secret_free(&pw);
	if (rv == -1)
		return ctl_error("%s", e);
	/* its folder (store/layout.h); without it, no account */
	if (layout_account_create(c->conf->data_dir, u.id, (uid_t)u.uid,
	    dpw->pw_gid, lerr, sizeof(lerr)) == -1) {
		(void)accounts_user_del(c->db, u.address, NULL, NULL, &e);
		return ctl_error("mail folder of %s: %s (the account was not "
		    "added)", args[0], lerr);
	}
	dom = strchr(u.address, '@') + 1;
	printf("added %s: account %llu, uid %lu, quota %s\n", u.address,
	    (unsigned long long)u.id, (unsigned long)u.uid,
	    ctl_size(u.quota, 1, sz, sizeof(sz)));
	if (u.wired_postmaster && u.wired_abuse)
		printf("postmaster@%s and abuse@%s go to %s\n", dom, dom,
		    u.address);
	else if (u.wired_postmaster || u.wired_abuse)
		printf("%s@%s goes to %s\n", u.wired_postmaster ?
		    "postmaster" : "abuse", dom, u.address);
	if (u.recovery == ACCOUNTS_RECOVERY_CURRENT)
		printf("its private key is also sealed to the recovery key: "
		    "\"sealpostctl user reset-password\" can set a new "
		    "password\n");
	else
		printf("NO RECOVERY KEY: if this password is forgotten, the "
		    "mail of %s can never be read again, by anyone\n",
		    u.address);
	return 0;
}

static int
user_row(const struct accounts_user_info *u, void *arg)
{
	char	id[24], uid[24], q[32], us[32], app[24];

	snprintf(id, sizeof(id), "%llu", (unsigned long long)u->id);
	snprintf(uid, sizeof(uid), "%lu", (unsigned long)u->uid);
	snprintf(app, sizeof(app), "%u", u->napp);
	table_add(arg, u->address, id, uid, ctl_size(u->quota, 1, q,
	    sizeof(q)), ctl_size(u->usage, 0, us, sizeof(us)), app,
	    u->recovery == ACCOUNTS_RECOVERY_CURRENT ? "yes" :
	    u->recovery == ACCOUNTS_RECOVERY_OTHER ? "old-key" : "no");
	return 0;
}

static int
cmd_user_list(struct ctl *c, char **args)
{
	struct ctl_table	*t = table_new(7);
	const char		*e;

	(void)args;
	table_add(t, "ADDRESS", "ID", "UID", "QUOTA", "USAGE",
	    "APP-PASSWORDS", "RECOVERY");
	if (accounts_user_list(c->db, user_row, t, &e) == -1) {
		table_free(t);
		return ctl_error("%s", e);
	}
	table_print_free(t);
	return 0;
}

static int
cmd_user_del(struct ctl *c, char **args)
{
	char		 addr[ACCOUNTS_ADDRESS_MAX + 1];
	const char	*e;
	uint64_t	 id;
	unsigned int	 naliases;

	if (accounts_user_del(c->db, args[0], &id, &naliases, &e) == -1)
		return ctl_error("%s", e);
	ctl_lower(args[0], addr, sizeof(addr));
	if (naliases > 0)
		printf("deleted %s (account %llu) and the %u alias%s to it\n",
		    addr, (unsigned long long)id, naliases,
		    naliases == 1 ? "" : "es");
	else
		printf("deleted %s (account %llu)\n", addr,
		    (unsigned long long)id);
	printf("its mail folder %s/mail/%llu is left as it is: remove it "
	    "when it is no longer needed\n", c->conf->data_dir,
	    (unsigned long long)id);
	return 0;
}

static int
cmd_user_passwd(struct ctl *c, char **args)
{
	struct ctl_secret	 old = { NULL, 0 }, new = { NULL, 0 };
	char			 p1[ACCOUNTS_ADDRESS_MAX + 32];
	char			 p2[ACCOUNTS_ADDRESS_MAX + 32];
	const char		*e;
	int			 rv = 1;

	if (accounts_user_check(c->db, args[0], 1, &e) == -1)
		return ctl_error("%s", e);
	snprintf(p1, sizeof(p1), "Current password for %s: ", args[0]);
	snprintf(p2, sizeof(p2), "New password for %s: ", args[0]);
	if (ctl_secret_read(c->password_file, p1, NULL, &old) != 0 ||
	    ctl_secret_read(c->new_password_file, p2,
	    "Repeat the new password: ", &new) != 0)
		goto out;
	if (accounts_passwd(c->db, args[0], old.buf, old.len, new.buf,
	    new.len, &e) == -1) {
		ctl_error("%s", e);
		goto out;
	}
	ctl_lower(args[0], p1, sizeof(p1));
	printf("changed the password of %s (its app passwords keep "
	    "working)\n", p1);
	rv = 0;
out:
	ctl_secret_free(&old);
	ctl_secret_free(&new);
	return rv;
}

static int
cmd_app_add(struct ctl *c, char **args)
{
	struct ctl_secret	 pw = { NULL, 0 };
	char			 prompt[ACCOUNTS_ADDRESS_MAX + 32];
	char			*app;
	const char		*e;
	int			 rv = 1;

	if (accounts_user_check(c->db, args[0], 1, &e) == -1)
		return ctl_error("%s", e);
	if ((app = sodium_malloc(ACCOUNTS_APP_PASSWORD_SIZE + 1)) == NULL)
		return ctl_error("out of memory");
	snprintf(prompt, sizeof(prompt), "Password of %s: ", args[0]);
	if (ctl_secret_read(c->password_file, prompt, NULL, &pw) != 0)
		goto out;
	if (accounts_app_password_add(c->db, args[0], pw.buf, pw.len, args[1],
	    app, ACCOUNTS_APP_PASSWORD_SIZE, &e) == -1) {
		ctl_error("%s", e);
		goto out;
	}
	ctl_lower(args[0], prompt, sizeof(prompt));
	printf("app password \"%s\" for %s (shown only this once):\n",
	    args[1], prompt);
	fflush(stdout);
	/* SECURITY: straight to fd 1, no copy in stdio's buffer */
	app[ACCOUNTS_APP_PASSWORD_LEN] = '\n';
	if (write(STDOUT_FILENO, app, ACCOUNTS_APP_PASSWORD_LEN + 1) !=
	    ACCOUNTS_APP_PASSWORD_LEN + 1) {
		ctl_error("standard output: %s", strerror(errno));
		goto out;
	}
	rv = 0;
out:
	ctl_secret_free(&pw);
	sodium_free(app);
	return rv;
}

static int
app_row(const struct accounts_cred_info *ci, void *arg)
{
	char	id[24], cr[32], rv[32];

	snprintf(id, sizeof(id), "%llu", (unsigned long long)ci->id);
	table_add(arg, ci->label, id, ctl_date(ci->created, cr, sizeof(cr)),
	    ci->revoked != 0 ? ctl_date(ci->revoked, rv, sizeof(rv)) : "-");
	return 0;
}

static int
cmd_app_list(struct ctl *c, char **args)
{
	struct ctl_table	*t = table_new(4);
	const char		*e;

	table_add(t, "LABEL", "ID", "CREATED", "REVOKED");
	if (accounts_app_password_list(c->db, args[0], app_row, t, &e) ==
	    -1) {
		table_free(t);
		return ctl_error("%s", e);
	}
	table_print_free(t);
	return 0;
}

static int
cmd_app_revoke(struct ctl *c, char **args)
{
	char		 addr[ACCOUNTS_ADDRESS_MAX + 1];
	const char	*e;

	if (accounts_app_password_revoke(c->db, args[0], args[1], &e) == -1)
		return ctl_error("%s", e);
	ctl_lower(args[0], addr, sizeof(addr));
	printf("revoked the app password \"%s\" of %s\n", args[1], addr);
	return 0;
}

static int
cmd_user_reset(struct ctl *c, char **args)
{
	struct ctl_secret	 pw = { NULL, 0 };
	char			 prompt[ACCOUNTS_ADDRESS_MAX + 32];
	char			 err[1024];
	uint8_t			*rsk;
	const char		*e;
	int			 rv = 1;

	if (accounts_user_check(c->db, args[0], 1, &e) == -1)
		return ctl_error("%s", e);
	if ((rsk = sodium_malloc(ACCOUNTS_KEY_LEN)) == NULL)
		return ctl_error("out of memory");
	if (accounts_recovery_load_private(c->recovery_key, rsk, err,
	    sizeof(err)) == -1) {
		ctl_error("%s", err);
		goto out;
	}
	snprintf(prompt, sizeof(prompt), "New password for %s: ", args[0]);
	if (ctl_secret_read(c->password_file, prompt,
	    "Repeat the new password: ", &pw) != 0)
		goto out;
	if (accounts_reset_password(c->db, args[0], rsk, pw.buf, pw.len,
	    &e) == -1) {
		ctl_error("%s", e);
		goto out;
	}
	ctl_lower(args[0], prompt, sizeof(prompt));
	printf("set a new password for %s with the recovery key (its app "
	    "passwords keep working)\n", prompt);
	rv = 0;
out:
	ctl_secret_free(&pw);
	sodium_free(rsk);
	return rv;
}

/* --- aliases ----------------------------------------------------------- */

static int
cmd_alias_add(struct ctl *c, char **args)
{
	char		 al[ACCOUNTS_ADDRESS_MAX + 1];
	char		 to[ACCOUNTS_ADDRESS_MAX + 1];
	const char	*e;

	if (accounts_alias_add(c->db, args[0], args[1], c->replace, &e) == -1)
		return ctl_error("%s", e);
	ctl_lower(args[0], al, sizeof(al));
	ctl_lower(args[1], to, sizeof(to));
	printf("%s goes to %s\n", al, to);
	return 0;
}

static int
alias_row(const struct accounts_alias_info *l, void *arg)
{
	table_add(arg, l->address, l->target);
	return 0;
}

static int
cmd_alias_list(struct ctl *c, char **args)
{
	struct ctl_table	*t = table_new(2);
	const char		*e;

	(void)args;
	table_add(t, "ALIAS", "ADDRESS");
	if (accounts_alias_list(c->db, alias_row, t, &e) == -1) {
		table_free(t);
		return ctl_error("%s", e);
	}
	table_print_free(t);
	return 0;
}

static int
cmd_alias_del(struct ctl *c, char **args)
{
	char		 al[ACCOUNTS_ADDRESS_MAX + 1];
	const char	*e;

	if (accounts_alias_del(c->db, args[0], &e) == -1)
		return ctl_error("%s", e);
	ctl_lower(args[0], al, sizeof(al));
	printf("deleted alias %s\n", al);
	return 0;
}

/* --- recovery ---------------------------------------------------------- */

static int
cmd_recovery_init(struct ctl *c, char **args)
{
	const char	*pub = args[1];
	char		 err[1024];

	if (pub == NULL)
		pub = c->conf->recovery_key;
	if (pub == NULL)
		return ctl_error("%s has no recovery-key: give the public key "
		    "file too (recovery init PRIVATE-FILE PUBLIC-FILE)",
		    c->conf->path);
	if (accounts_recovery_init(pub, args[0], err, sizeof(err)) == -1)
		return ctl_error("%s", err);
	printf("wrote the recovery public key to %s\n", pub);
	printf("wrote the recovery PRIVATE key to %s: move it offline now; "
	    "it opens the key of every account sealed to it\n", args[0]);
	if (c->conf->recovery_key == NULL ||
	    strcmp(c->conf->recovery_key, pub) != 0)
		printf("add \"recovery-key %s\" to %s: new accounts are sealed "
		    "to the configured key only\n", pub, c->conf->path);
	printf("accounts made before are sealed to it when their password "
	    "is next changed or an app password added\n");
	return 0;
}

/* --- the command line -------------------------------------------------- */

static int
ctl_setopt(struct ctl *c, int bit, const char **dst, const char *val,
    const char *name)
{
	if (c->opts & bit) {
		fprintf(stderr, "sealpostctl: %s given twice\n", name);
		return -1;
	}
	c->opts |= bit;
	if (dst != NULL)
		*dst = val;
	return 0;
}

static const struct ctl_cmd *
ctl_find(char **args, int nargs)
{
	size_t	i;
	int	w;

	for (i = 0; i < CTL_NCMDS; i++) {
		if (nargs < ctl_cmds[i].nwords)
			continue;
		for (w = 0; w < ctl_cmds[i].nwords; w++)
			if (strcmp(args[w], ctl_cmds[i].words[w]) != 0)
				break;
		if (w == ctl_cmds[i].nwords)
			return &ctl_cmds[i];
	}
	return NULL;
}

static const char *
ctl_optname(int bit)
{
	switch (bit) {
	case OPT_PASSWORD_FILE:		return "--password-file";
	case OPT_NEW_PASSWORD_FILE:	return "--new-password-file";
	case OPT_QUOTA:			return "--quota";
	case OPT_POSTMASTER:		return "--postmaster";
	case OPT_REPLACE:		return "--replace";
	default:			return "--recovery-key";
	}
}

/* Open users.db for cmd: 0, or an error printed and 1. */
static int
ctl_open(struct ctl *c, const struct ctl_cmd *cmd)
{
	struct accounts_params	 p;
	struct stat		 st;
	char			 path[PATH_MAX], err[1024];

	if (stat(c->conf->data_dir, &st) == -1)
		return ctl_error("data-dir %s: %s", c->conf->data_dir,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return ctl_error("data-dir %s: not a directory",
		    c->conf->data_dir);
	if ((size_t)snprintf(path, sizeof(path), "%s/users.db",
	    c->conf->data_dir) >= sizeof(path))
		return ctl_error("data-dir %s: path too long",
		    c->conf->data_dir);
	if (!(cmd->flags & CMD_CREATE) && lstat(path, &st) == -1 &&
	    errno == ENOENT)
		return ctl_error("%s does not exist: add a domain first "
		    "(sealpostctl domain add DOMAIN)", path);
	memset(&p, 0, sizeof(p));
	p.kdf_strength = c->conf->kdf_strength;
	p.uid_min = c->conf->account_uid_min;
	p.uid_max = c->conf->account_uid_max;
	if ((cmd->flags & CMD_RECOVERY) && c->conf->recovery_key != NULL) {
		if (accounts_recovery_load_public(c->conf->recovery_key,
		    p.recovery_pk, err, sizeof(err)) == -1)
			return ctl_error("recovery-key %s", err);
		p.have_recovery = 1;
	}
	if ((c->db = accounts_open(path, &p, (cmd->flags & CMD_CREATE) ?
	    ACCOUNTS_OPEN_CREATE : 0, err, sizeof(err))) == NULL)
		return ctl_error("%s", err);
	return 0;
}

int
ctl_accounts_main(const char *conffile, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "password-file",	required_argument, NULL, 'p' },
		{ "new-password-file",	required_argument, NULL, 'n' },
		{ "quota",		required_argument, NULL, 'q' },
		{ "postmaster",		required_argument, NULL, 'P' },
		{ "replace",		no_argument,	   NULL, 'r' },
		{ "recovery-key",	required_argument, NULL, 'R' },
		{ NULL,			0,		   NULL, 0 }
	};
	const struct ctl_cmd		*cmd;
	struct ctl			 c;
	char				*args[CTL_MAX_ARGS + 1];
	char				 err[1024];
	int				 ch, nargs = 0, i, rv, bad = 0;

	memset(&c, 0, sizeof(c));
	memset(args, 0, sizeof(args));
	args[nargs++] = argv[0];
	/*
	 * "-": options may follow the words, and every other argument comes
	 * back in order as 1; ":": no messages from getopt itself.
	 */
	optind = 0;
	opterr = 0;
	while (!bad && (ch = getopt_long(argc, argv, "-:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 1:
			if (nargs == CTL_MAX_ARGS)
				bad = 1;
			else
				args[nargs++] = optarg;
			break;
		case 'p':
			bad = ctl_setopt(&c, OPT_PASSWORD_FILE,
			    &c.password_file, optarg, "--password-file");
			break;
		case 'n':
			bad = ctl_setopt(&c, OPT_NEW_PASSWORD_FILE,
			    &c.new_password_file, optarg,
			    "--new-password-file");
			break;
		case 'q':
			bad = ctl_setopt(&c, OPT_QUOTA, &c.quota, optarg,
			    "--quota");
			break;
		case 'P':
			bad = ctl_setopt(&c, OPT_POSTMASTER, &c.postmaster,
			    optarg, "--postmaster");
			break;
		case 'r':
			bad = ctl_setopt(&c, OPT_REPLACE, NULL, NULL,
			    "--replace");
			c.replace = 1;
			break;
		case 'R':
			bad = ctl_setopt(&c, OPT_RECOVERY_KEY, &c.recovery_key,
			    optarg, "--recovery-key");
			break;
		case ':':
			fprintf(stderr, "sealpostctl: %s needs a value\n",
			    argv[optind - 1]);
			bad = 1;
			break;
		default:
			fprintf(stderr, "sealpostctl: unknown option %s\n",
			    argv[optind - 1]);
			bad = 1;
			break;
		}
	}
	for (i = optind; !bad && i < argc; i++) {	/* after "--" */
		if (nargs == CTL_MAX_ARGS)
			bad = 1;
		else
			args[nargs++] = argv[i];
	}
	if ((cmd = ctl_find(args, nargs)) == NULL)
		return ctl_usage(NULL, argv[0]);
	if (bad || nargs - cmd->nwords < cmd->minargs ||
	    nargs - cmd->nwords > cmd->maxargs)
		return ctl_usage(cmd, NULL);
	for (i = 0; i < 6; i++) {
		if ((c.opts & (1 << i)) && !(cmd->opts & (1 << i))) {
			fprintf(stderr, "sealpostctl: %s does not go with "
			    "%s %s%s%s\n", ctl_optname(1 << i), cmd->words[0],
			    cmd->words[1], cmd->nwords > 2 ? " " : "",
			    cmd->nwords > 2 ? cmd->words[2] : "");
			return ctl_usage(cmd, NULL);
		}
		if ((cmd->reqopts & (1 << i)) && !(c.opts & (1 << i)))
			return ctl_usage(cmd, NULL);
	}

	umask(077);
	if (sodium_init() < 0)
		return ctl_error("libsodium does not initialize");
	if ((c.conf = conf_load(conffile, err, sizeof(err))) == NULL)
		return ctl_error("%s", err);
	rv = 1;
	if ((cmd->flags & CMD_NO_DB) || ctl_open(&c, cmd) == 0)
		rv = cmd->fn(&c, args + cmd->nwords);
	accounts_close(c.db);
	conf_free(c.conf);
	if (fflush(stdout) == EOF && rv == 0)
		rv = ctl_error("standard output: %s", strerror(errno));
	return rv;
}
