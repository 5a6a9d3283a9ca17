/* SPDX-License-Identifier: ISC */
/*
 * proctab.c - the process table as data: every kind of child the master
 * starts, with its program, user, sandbox profile, jail and channels.
 * Changing who may talk to whom, or who runs as which user, is a change
 * to this table and nothing else (like relayd's procs[]).
 *
 * Process:  master.
 * See also: docs/design.md (the same table, explained), sandbox.c (the
 *           profiles), sealpost.h (the descriptor slots).
 */
#include "config.h"

#include <stddef.h>

#include "sealpostd.h"
#include "banned.h"

#define CH(s)	(1u << (s))

/* Long-running services, indexed by enum sp_service. */
const struct proc_spec proctab_services[SVC_MAX] = {
	[SVC_AUTH] = { "auth", "sealpost-auth", "_sp_auth", ROLE_AUTH,
	    PK_SERVICE, 0, 0 },
	[SVC_FILTER] = { "filter", "sealpost-filter", "_sp_filter",
	    ROLE_FILTER, PK_SERVICE, 0, 0 },
	[SVC_DELIVER] = { "deliver", "sealpost-deliver", "_sp_deliver",
	    ROLE_DELIVER, PK_SERVICE, 0, 0 },
	[SVC_QUEUE] = { "queue", "sealpost-queue", "_sp_queue", ROLE_QUEUE,
	    PK_SERVICE, 0, 0 },
	[SVC_CONTROL] = { "control", "sealpost-control", "_sp_ctl",
	    ROLE_CONTROL, PK_SERVICE, 0, 0 },
};

/*
 * Per-connection sessions.  channels: the services a session may reach;
 * each gets its own socketpair per session, the master relays nothing.
 */
static const struct proc_spec spec_smtp = { "smtp", "sealpost-smtp",
    "_sp_smtp", ROLE_SMTP, PK_SESSION,
    CH(SVC_AUTH) | CH(SVC_FILTER) | CH(SVC_DELIVER) | CH(SVC_QUEUE), 1 };
static const struct proc_spec spec_imap_login = { "imap-login",
    "sealpost-imap-login", "_sp_login", ROLE_IMAP_LOGIN, PK_SESSION,
    CH(SVC_AUTH), 1 };
static const struct proc_spec spec_pop3_login = { "pop3-login",
    "sealpost-pop3-login", "_sp_login", ROLE_POP3_LOGIN, PK_SESSION,
    CH(SVC_AUTH), 1 };

const struct proc_spec *proctab_sessions[SP_LISTEN_KIND_MAX] = {
	[SP_LISTEN_SMTP] = &spec_smtp,
	[SP_LISTEN_SUBMISSION] = &spec_smtp,
	[SP_LISTEN_SUBMISSIONS] = &spec_smtp,
	[SP_LISTEN_IMAP] = &spec_imap_login,
	[SP_LISTEN_IMAPS] = &spec_imap_login,
	[SP_LISTEN_POP3] = &spec_pop3_login,
	[SP_LISTEN_POP3S] = &spec_pop3_login,
};

/* The mail process of a logged-in IMAP connection: the account's own uid
 * (account-uids), its folder as its jail, no service channel yet. */
const struct proc_spec proctab_imap_mail = { "imap-mail",
    "sealpost-imap-mail", NULL, ROLE_IMAP_MAIL, PK_SESSION, 0, 0 };
