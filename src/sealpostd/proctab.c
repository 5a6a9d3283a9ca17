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
	/* opens DATA_DIR/users.db before its jail and keeps it open */
	[SVC_AUTH] = { .name = "auth", .binary = "sealpost-auth",
	    .user = "_sp_auth", .role = ROLE_AUTH,
	    .data_dir = 1 },
	[SVC_FILTER] = { .name = "filter", .binary = "sealpost-filter",
	    .user = "_sp_filter", .role = ROLE_FILTER },
	/* the only service that opens files while it runs: DATA_DIR/mail */
	[SVC_DELIVER] = { .name = "deliver", .binary = "sealpost-deliver",
	    .user = "_sp_deliver", .role = ROLE_DELIVER,
	    .jail_mail = 1 },
	/* DATA_DIR/queue/spool; reads DATA_DIR/keys/queue.key first */
	[SVC_QUEUE] = { .name = "queue", .binary = "sealpost-queue",
	    .user = "_sp_queue", .role = ROLE_QUEUE,
	    .data_dir = 1, .jail_mail = 1, .jail_queue = 1 },
	[SVC_CONTROL] = { .name = "control", .binary = "sealpost-control",
	    .user = "_sp_ctl", .role = ROLE_CONTROL },
	/* execs gpg: /usr and DATA_DIR/keys/gnupg (read-only) in its jail */
	[SVC_PGP] = { .name = "pgp", .binary = "sealpost-pgp",
	    .user = "_sp_pgp", .role = ROLE_PGP, .jail_pgp = 1 },
	/* outbound SMTP and DNS: the one role that reaches other hosts;
	 * its only peer is the queue (service_link) */
	[SVC_MTA] = { .name = "mta", .binary = "sealpost-mta",
	    .user = "_sp_mta", .role = ROLE_MTA },
	/* DKIM: reads DATA_DIR/keys/dkim before its jail; its only peer
	 * is the queue; a reload restarts it (new keys) */
	[SVC_SIGNER] = { .name = "signer", .binary = "sealpost-signer",
	    .user = "_sp_sign", .role = ROLE_SIGNER, .data_dir = 1 },
};

/*
 * Channels between services, made by the master whenever both ends are
 * ready and remade after either restarts (service_link): the first
 * service sees the second as a peer it sends requests to; the second sees
 * a session of kind SP_KIND_CONTROL or SP_KIND_QUEUE.
 */
const struct proc_link proctab_links[] = {
	/* sealpostctl deliver, quarantine release, queue flush|hold|... */
	{ SVC_CONTROL, SVC_AUTH },
	{ SVC_CONTROL, SVC_DELIVER },
	{ SVC_CONTROL, SVC_QUEUE },
	/* sending; bounces to local senders straight into their INBOX */
	{ SVC_QUEUE, SVC_MTA },
	{ SVC_QUEUE, SVC_AUTH },
	{ SVC_QUEUE, SVC_DELIVER },
	/* DKIM-Signature fields for outbound mail */
	{ SVC_QUEUE, SVC_SIGNER },
	/* sealpostctl key pending|discovered */
	{ SVC_CONTROL, SVC_PGP },
	/* Web Key Directory lookups: the mta is the one that reaches out */
	{ SVC_PGP, SVC_MTA },
};
const size_t proctab_nlinks = sizeof(proctab_links) / sizeof(proctab_links[0]);

/*
 * The mail process of a logged-in IMAP or POP3 connection: the account's
 * own uid (account-uids), its folder as its jail, the key channel from
 * auth (proc_login).
 */
const struct proc_spec proctab_imap_mail = { .name = "imap-mail",
    .binary = "sealpost-imap-mail", .role = ROLE_IMAP_MAIL };
const struct proc_spec proctab_pop3_mail = { .name = "pop3-mail",
    .binary = "sealpost-pop3-mail", .role = ROLE_POP3_MAIL };

/*
 * Per-connection sessions.  channels: the services a session may reach;
 * each gets its own socketpair per session, the master relays nothing.
 */
static const struct proc_spec spec_smtp = { .name = "smtp",
    .binary = "sealpost-smtp", .user = "_sp_smtp", .role = ROLE_SMTP,
    .needs_tls = 1,
    .channels = CH(SVC_AUTH) | CH(SVC_FILTER) | CH(SVC_DELIVER) |
    CH(SVC_QUEUE) | CH(SVC_PGP) };
static const struct proc_spec spec_imap_login = { .name = "imap-login",
    .binary = "sealpost-imap-login", .user = "_sp_login",
    .role = ROLE_IMAP_LOGIN, .needs_tls = 1,
    .channels = CH(SVC_AUTH), .mail = &proctab_imap_mail };
static const struct proc_spec spec_pop3_login = { .name = "pop3-login",
    .binary = "sealpost-pop3-login", .user = "_sp_login",
    .role = ROLE_POP3_LOGIN, .needs_tls = 1,
    .channels = CH(SVC_AUTH), .mail = &proctab_pop3_mail };

const struct proc_spec *proctab_sessions[SP_LISTEN_KIND_MAX] = {
	[SP_LISTEN_SMTP] = &spec_smtp,
	[SP_LISTEN_SUBMISSION] = &spec_smtp,
	[SP_LISTEN_SUBMISSIONS] = &spec_smtp,
	[SP_LISTEN_IMAP] = &spec_imap_login,
	[SP_LISTEN_IMAPS] = &spec_imap_login,
	[SP_LISTEN_POP3] = &spec_pop3_login,
	[SP_LISTEN_POP3S] = &spec_pop3_login,
};

