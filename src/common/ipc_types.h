/* SPDX-License-Identifier: ISC */
/*
 * ipc_types.h - THE list of IPC message types: every message any sealpost
 * process sends to another.  One line each: sender -> receiver, payload,
 * whether an fd goes with it.  A request and its reply share a type; the
 * reply carries the request's id.  Bump IPC_VERSION on every change.
 */
#ifndef SP_IPC_TYPES_H
#define SP_IPC_TYPES_H

#define IPC_VERSION	21

enum imsg_type {
	IMSG_NONE = 0,

	/* any child -> master, once, after its sandbox is in place */
	IMSG_PROC_READY,	/* u32 IPC_VERSION, str role, str sandbox */

	/* health: master or session -> service, and back */
	IMSG_HEALTH,		/* req: --; reply: str role, u32 pid,
				 * u64 sessions served, u32 sessions now */

	/* master -> service */
	IMSG_MASTER_SESSION,	/* u64 connid, u32 listener kind, str client
				 * address (as the master accepted it; "" for
				 * control); fd: the service's end of the
				 * session's socketpair */

	/* login session or submission smtp session -> auth, and back (only
	 * for a login session does auth then tell the master) */
	IMSG_AUTH_LOGIN,	/* u64 connid, str user, data password;
				 * reply: u32 AUTH_RESULT_*, str text,
				 * u64 account id (0 unless OK) */
	/* smtp session or control -> auth: is this a local recipient? */
	IMSG_AUTH_RCPT,		/* str address; reply: u32 found, u64 account
				 * id, data public key (32), u64 quota,
				 * u64 usage */
	/* smtp session or control -> auth: quota for a message */
	IMSG_AUTH_QUOTA,	/* u64 account id, u64 bytes, u32 release (0:
				 * reserve, 1: give back); reply: u32 ok */
	/* auth -> master: only auth may say who a connection is */
	IMSG_AUTH_LOGIN_OK,	/* u64 connid, u64 account id */
	/* master -> login session: its mail process, or why there is none */
	IMSG_MASTER_MAIL_READY,	/* u32 ok, u64 account id; fd (when ok): a
				 * stream socket to the account's mail process */

	/* session or control -> deliver, and back */
	IMSG_DELIVER_MSG,	/* u64 account id, data public key (32),
				 * str folder, str sender, str recipient;
				 * fd: the message, a sealed memfd.
				 * reply: u32 DELIVER_*, str text, str name */

	/* smtp session -> filter, at the end of DATA, and back */
	IMSG_FILTER_CHECK,	/* str sender, u32 lines the session added on
				 * top, u32 authenticated, str the recipient
				 * whose policy decides ("": the sender's),
				 * str HELO, str queue id, u32 n, n x str
				 * recipient; fd: the message, a sealed
				 * memfd.  reply: u32 FILTER_*, str the SMTP
				 * reply when not accepted ("550 5.6.0 ..."),
				 * str header lines to put on top when
				 * accepted (each ending in CR LF; "" none),
				 * u32 FILTER_F_*, str the quarantine reason
				 * ("virus NAME") with FILTER_QUARANTINE */

	/* smtp session -> queue: remote recipients of an authenticated
	 * submission, stored durably before the reply */
	IMSG_QUEUE_MSG,		/* str sender, u64 account, u32 ret, u32 body8,
				 * u32 smtputf8, str envid, u32 n, then n x
				 * (str rcpt, u32 notify, str orcpt, u32
				 * SMTP_TLS_*); fd: the
				 * message, a sealed memfd.  reply: u32
				 * QUEUE_*, str queue id or the reason */

	/* master -> auth: a channel to the mail process of connid */
	IMSG_MASTER_KEYCHAN,	/* u64 connid, u64 account id; fd: channel */
	/* auth -> mail process, once: the account's unwrapped key pair */
	IMSG_AUTH_KEY,		/* u64 account id, data public key (32),
				 * data private key (32) */
	/* mail process -> auth over that channel, which stays open for its
	 * own account's quota: IMSG_AUTH_QUOTA (for that account only), and */
	IMSG_AUTH_USAGE,	/* req: --; reply: u32 found, u64 quota (0:
				 * none), u64 usage (bytes) */

	/* master -> control: its channel to a service (sealpostctl deliver) */
	IMSG_MASTER_CHANNEL,	/* u32 service; fd: the channel */

	/* control -> master, and back */
	IMSG_CTL_STATUS,	/* req: --; reply: data (JSON text) */
	IMSG_CTL_RELOAD,	/* req: --; reply: u32 ok, str message */

	/* master -> service: a fresh process of yours serves new sessions;
	 * finish the ones you have, then exit (service.c) */
	IMSG_MASTER_RETIRE,	/* -- */

	/* smtp session -> filter, at RCPT: the policy's RCPT phase */
	IMSG_FILTER_RCPT,	/* str sender, u32 authenticated, str
				 * recipient; reply: str policy group (an
				 * opaque token: equal tokens, same group),
				 * u64 max-size (0: unset), u32 pgp
				 * (SMTP_PGP_*), u32 PGP_F_* the policy
				 * sets for this recipient, u32 SMTP_TLS_* */

	/* smtp session -> deliver: a message the policy holds back, sealed
	 * to the postmaster's account (store/quarantine.h) */
	IMSG_DELIVER_QUARANTINE,	/* u64 account id, data public key
				 * (32), str queue id, str reason, str
				 * sender, u32 n, n x str recipient; fd: the
				 * message, a sealed memfd.  reply: u32
				 * DELIVER_*, str text, str quarantine id */

	/* smtp session -> pgp: is there a usable key for this recipient? */
	IMSG_PGP_LOOKUP,	/* str address, u32 PGP_F_* (PGP_F_WKD);
				 * reply: u32 found (1 yes, 0 no, 2 not
				 * now: a WKD lookup failed), str the
				 * fingerprint, or why there is none */
	/* smtp session -> pgp: this recipient's copy, encrypted when it has
	 * a usable key (RFC 3156 PGP/MIME) */
	IMSG_PGP_ENCRYPT,	/* str recipient ("": not encrypted, only
				 * signed, with PGP_F_SIGN), u32 PGP_F_*,
				 * str the sender (PGP_F_TO_SENDER); fd:
				 * the message, a sealed memfd.  reply: u32
				 * PGP_*, str fingerprint or reason; fd
				 * (PGP_ENCRYPTED, PGP_SIGNED): the new
				 * copy, a sealed memfd */

	/* queue -> mta: send one message to the recipients of one domain
	 * (at most MTA_CLIENT_RCPTS_MAX); the mta looks up the MX, tries
	 * the hosts in order and answers with an outcome per recipient */
	IMSG_MTA_SEND,		/* str queue id, str domain, str sender, u32
				 * body8, u32 smtputf8, u32 ret, str envid
				 * (decoded), u32 n, n x (str rcpt, u32
				 * notify, str orcpt "type;decoded", u32
				 * SMTP_TLS_*); fd:
				 * the message, a sealed memfd.  reply: str
				 * the remote host that answered ("" none),
				 * u32 n, n x (u32 MTA_RCPT_*, str the reply
				 * "550 5.1.1 text" or why) */

	/* control -> queue: sealpostctl queue flush|hold|release|delete */
	IMSG_QUEUE_CTL,		/* u32 QUEUE_CTL_*, str queue id ("": every
				 * message, flush only); reply: u32 ok, str
				 * text */

	/* pgp -> mta: fetch a Web Key Directory key for an address
	 * (draft-koch-openpgp-webkey-service): the advanced method when
	 * openpgpkey.DOMAIN has an address, else the direct method */
	IMSG_MTA_WKD,		/* str domain (lower case), str hash (32
				 * z-base-32 characters, wkd.h), str local
				 * part as written (the "l=" parameter);
				 * reply: u32 WKD_*, str what happened
				 * ("advanced 200", "direct 404", "tls: ..."
				 * never the address); fd (WKD_FOUND): the
				 * response body, a sealed memfd of at most
				 * WKD_KEY_MAX bytes */

	/* smtp session -> pgp: an authenticated sender's accepted message,
	 * for its Autocrypt header (the policy's "autocrypt yes") */
	IMSG_PGP_AUTOCRYPT,	/* str envelope sender (owned by the
				 * account that logged in); fd: the message,
				 * a sealed memfd.  reply: u32 PGP_AC_* */

	/* control -> pgp: sealpostctl key pending|discovered */
	IMSG_PGP_CTL,		/* u32 PGP_CTL_*, str address ("" for the
				 * lists); reply: u32 ok, str text */

	/* queue -> signer: DKIM-Signature fields for an outbound message
	 * (the From field's domain, when the signer has keys for it) */
	IMSG_SIGNER_SIGN,	/* u32 SIGNER_F_*; fd: the message, a sealed
				 * memfd.  reply: u32 SIGNER_*, str the From
				 * domain ("" unknown), str the fields to put
				 * on top (SIGNER_SIGNED, CR LF ended) or why
				 * not */

	/* test hooks (--enable-test-hooks builds only) */
	IMSG_AUTH_TEST_ACCOUNT,	/* master -> auth: str address, data password,
				 * u64 account id */

	IMSG_MAX
};

/* IMSG_DELIVER_MSG results */
#define DELIVER_OK		0
#define DELIVER_TEMP		1	/* 4xx: try again (disk full, I/O) */
#define DELIVER_PERM		2	/* 5xx: will never work */

/* IMSG_FILTER_CHECK verdicts */
#define FILTER_ACCEPT		0
#define FILTER_REJECT		1	/* 5xx: the reply says why */
#define FILTER_TEMP		2	/* 4xx */
#define FILTER_QUARANTINE	3	/* held for the postmaster; the reply
					 * is the refusal for when it cannot
					 * be (a remote recipient) */
/* IMSG_FILTER_CHECK flags of an accepted message */
#define FILTER_F_JUNK		0x01	/* local recipients: into Junk */

/* IMSG_FILTER_RCPT's pgp: the policy's "pgp" (policy.h's order) */
#define SMTP_PGP_OPPORTUNISTIC	0
#define SMTP_PGP_REQUIRED	1
#define SMTP_PGP_NEVER		2

/* the policy's "tls" per recipient (IMSG_FILTER_RCPT, the queue, the mta) */
#define SMTP_TLS_OPPORTUNISTIC	0
#define SMTP_TLS_REQUIRED	1

/* IMSG_PGP_ENCRYPT flags and results */
#define PGP_F_PROTECT_SUBJECT	0x01
#define PGP_F_TO_SENDER		0x02	/* and to the sender's key (an
					 * authenticated submission's) */
#define PGP_F_SIGN		0x04	/* signed with the organization's
					 * key (pgp/pgp_sign.h); with an
					 * empty recipient: signed only */
#define PGP_F_WKD		0x08	/* may look the key up in the
					 * recipient domain's Web Key Directory */
#define PGP_F_ALL		0x0f
#define PGP_ENCRYPTED		0	/* the reply's fd is the copy */
#define PGP_NO_KEY		1	/* no usable key: the original */
#define PGP_ALREADY		2	/* already encrypted: the original */
#define PGP_TEMP		3	/* gpg failed: try again later */
#define PGP_SIGNED		4	/* not encrypted, signed: the reply's
					 * fd is the multipart/signed copy */

/* IMSG_MTA_WKD results */
#define WKD_FOUND		0	/* 200: the reply's fd is the body */
#define WKD_NONE		1	/* none published: 404, no such host */
#define WKD_TEMP		2	/* DNS, connection, TLS, 5xx, too big */
#define WKD_KEY_MAX		((size_t)256 * 1024)

/* IMSG_PGP_AUTOCRYPT results (the sender is not told: only logged) */
#define PGP_AC_NONE		0	/* no usable header */
#define PGP_AC_SAME		1	/* the key we have */
#define PGP_AC_NEW		2	/* a first key: in use at once */
#define PGP_AC_PENDING		3	/* a changed key: held for the admin */
#define PGP_AC_IGNORED		4	/* the admin keyring names the address */
#define PGP_AC_ERROR		5

/* IMSG_PGP_CTL operations */
#define PGP_CTL_PENDING		0	/* list held Autocrypt key changes */
#define PGP_CTL_ACCEPT		1	/* use the held key for address */
#define PGP_CTL_REJECT		2	/* drop it, keep the old one */
#define PGP_CTL_DISCOVERED	3	/* list WKD and Autocrypt keys */
#define PGP_CTL_FORGET		4	/* drop what was learnt for address */

/* IMSG_FILTER_CHECK flags: FILTER_F_JUNK, and */
#define FILTER_F_AUTOCRYPT	0x02	/* harvest the sender's Autocrypt key */

/* IMSG_QUEUE_MSG results */
#define QUEUE_OK		0
#define QUEUE_TEMP		1	/* 4xx: disk full, I/O */

/* IMSG_QUEUE_CTL operations */
#define QUEUE_CTL_FLUSH		0	/* try now (held ones stay held) */
#define QUEUE_CTL_HOLD		1	/* no attempt until released */
#define QUEUE_CTL_RELEASE	2	/* back to the schedule, try now */
#define QUEUE_CTL_DELETE	3	/* remove, no notification */

/* IMSG_SIGNER_SIGN flags and results */
#define SIGNER_F_8BIT_OK	0x01	/* sign 8-bit content as it is (it
					 * cannot be made 7-bit) */
#define SIGNER_SIGNED		0	/* the reply's fields sign it */
#define SIGNER_NONE		1	/* no key for its domain, or not
					 * signable: send it unsigned */
#define SIGNER_8BIT		2	/* a key, but 8-bit content: make it
					 * 7-bit, then ask again */
#define SIGNER_TEMP		3	/* signing failed: try again later */
#define SIGNER_NO_KEYS		4	/* it holds no key at all: send it
					 * unsigned, and do not ask again
					 * until the signer is linked anew */

/* IMSG_AUTH_LOGIN results */
#define AUTH_RESULT_OK		0
#define AUTH_RESULT_FAIL	1	/* wrong credentials or no such user */
#define AUTH_RESULT_TEMP	2	/* try again later */

#endif
