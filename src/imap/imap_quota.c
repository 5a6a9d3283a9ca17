/* SPDX-License-Identifier: ISC */
/*
 * imap_quota.c - the QUOTA extension (RFC 9208) in the account's mail
 * process: one quota root, "", over every mailbox of the account, with
 * one resource, STORAGE, read from users.db through auth (mail_quota.c).
 * An account without a quota has no quota root.  Quotas are set by the
 * administrator (sealpostctl user add --quota), never over IMAP.
 *
 * Trust: the arguments are the client's (checked by imap_cmd.c for
 * syntax); nothing here reaches users.db but this account's two numbers.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "buf.h"
#include "index.h"
#include "mail_quota.h"
#include "imap_cmd.h"
#include "imap_mbox.h"
#include "imap_mbox_int.h"
#include "banned.h"

/* RFC 9208 5.1: STORAGE is in units of 1024 octets. */
#define QUOTA_KIB(n)	(((n) + 1023) / 1024)

/* "* QUOTA "" (STORAGE used limit)", or 0 without a quota; -1 no auth. */
static int
mb_quota_line(struct mb_out *o)
{
	uint64_t	quota, usage;

	if (mail_quota_get(&quota, &usage) == -1)
		return -1;
	if (quota == 0)
		return 0;
	mb_printf(o, "* QUOTA \"\" (STORAGE %llu %llu)\r\n",
	    (unsigned long long)QUOTA_KIB(usage),
	    (unsigned long long)(quota / 1024));
	return 1;
}

int
mb_quota(struct imap_mbox *m, const struct imap_cmd *c, struct mb_out *o)
{
	struct index_mailbox	 mb;
	char			 name[INDEX_NAME_MAX + 1];
	uint64_t		 quota, usage;

	if (strcmp(c->name, "SETQUOTA") == 0) {
		/* no QUOTASET: the administrator sets quotas */
		mb_printf(o, "%s NO [NOPERM] Quotas are set by the "
		    "administrator\r\n", c->tag);
		return 0;
	}
	if (c->nargs != 1 || mb_name_arg(m, &c->args[0], name,
	    sizeof(name), NULL) == -1) {
		mb_printf(o, "%s BAD Invalid arguments\r\n", c->tag);
		return 0;
	}
	if (strcmp(c->name, "GETQUOTA") == 0) {
		if (name[0] != '\0' || mail_quota_get(&quota, &usage) == -1 ||
		    quota == 0) {
			mb_printf(o, "%s NO [NONEXISTENT] No such quota "
			    "root\r\n", c->tag);
			return 0;
		}
		(void)mb_quota_line(o);
		mb_printf(o, "%s OK GETQUOTA completed\r\n", c->tag);
		return 0;
	}
	/* GETQUOTAROOT mailbox */
	if (index_mailbox_open(m->ix, name, &mb) != 1) {
		mb_printf(o, "%s NO [NONEXISTENT] No such mailbox\r\n",
		    c->tag);
		return 0;
	}
	if (mail_quota_get(&quota, &usage) == -1) {
		mb_printf(o, "%s NO [UNAVAILABLE] Cannot read the quota, try "
		    "again later\r\n", c->tag);
		return 0;
	}
	mb_printf(o, "* QUOTAROOT ");
	mb_name_out(o, mb.name);
	if (quota != 0) {
		mb_printf(o, " \"\"\r\n");
		(void)mb_quota_line(o);
	} else
		mb_printf(o, "\r\n");
	mb_printf(o, "%s OK GETQUOTAROOT completed\r\n", c->tag);
	return 0;
}

void
mb_quota_settle(struct imap_mbox *m)
{
	uint64_t	freed;

	if (m->ix == NULL || (freed = index_freed_take(m->ix)) == 0)
		return;
	if (mail_quota_release(freed) == -1)
		log_warnx("imap-mail: %llu bytes freed but not given back to "
		    "the quota (auth unreachable)",
		    (unsigned long long)freed);
}
