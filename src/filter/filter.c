/* SPDX-License-Identifier: ISC */
/*
 * filter.c - the filter service: the verdict on a message at the end of
 * DATA.  Today it makes the RFC 5322 sanity checks of filter_headers.c;
 * the filtering issue adds the policy, libclamav and rspamd.
 *
 * Process:  filter (user _sp_filter, jailed in the empty chroot, sandbox
 *           profile ROLE_FILTER).
 * Trust:    sessions are untrusted peers (common/service.c drops one that
 *           sends anything malformed); the message is hostile and only
 *           read from a sealed memfd (its contents cannot change while we
 *           look); the master is trusted.
 * Limits:   FILTER_MSG_MAX bytes of message; FH_BLOCK_MAX + 2 read.
 * See also: common/service.c (the loop), ipc_types.h, smtp/smtp.c.
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"
#include "ipc_types.h"
#include "memfd.h"
#include "service.h"
#include "filter_headers.h"
#include "banned.h"

#define FILTER_MSG_MAX	((size_t)1 << 31)

static int
filter_kind(enum sp_listener_kind k)
{
	return k == SP_LISTEN_SMTP || k == SP_LISTEN_SUBMISSION ||
	    k == SP_LISTEN_SUBMISSIONS;
}

static int
filter_check(struct service_session *ss, struct ipc_msg *msg)
{
	struct ipc_out	*out;
	unsigned char	*buf;
	const char	*sender;
	char		 reply[256];
	size_t		 size, n;
	uint32_t	 verdict = FILTER_ACCEPT, added;

	if (!filter_kind(ss->kind) || msg->fd == -1 ||
	    ipc_get_str(msg, &sender, 320) == -1 ||
	    ipc_get_u32(msg, &added) == -1 || ipc_end(msg) == -1)
		return -1;
	reply[0] = '\0';
	/* SECURITY: only a sealed memfd, so what we check is what is kept */
	if (memfd_check_sealed(msg->fd, FILTER_MSG_MAX, &size) == -1)
		return -1;
	n = size < FH_BLOCK_MAX + 2 ? size : FH_BLOCK_MAX + 2;
	buf = xmalloc(n + 1);
	if (memfd_read(msg->fd, buf, n) == -1) {
		verdict = FILTER_TEMP;
		snprintf(reply, sizeof(reply), "451 4.3.0 Cannot read the "
		    "message, try again later");
	} else if (filter_headers_check(buf, n, n == size, added, reply,
	    sizeof(reply)) == -1)
		verdict = FILTER_REJECT;
	free(buf);
	ipc_msg_clear(msg);		/* the handler owns the fd: close it */
	log_info("%016" PRIx64 " filter event=verdict result=%s size=%zu%s%s",
	    ss->connid, verdict == FILTER_ACCEPT ? "accept" :
	    verdict == FILTER_REJECT ? "reject" : "tempfail", size,
	    reply[0] != '\0' ? " reason=" : "", reply);
	out = ipc_out_new(IMSG_FILTER_CHECK, msg->hdr.id, -1);
	ipc_add_u32(out, verdict);
	ipc_add_str(out, reply);
	(void)ipc_chan_send(ss->chan, out);
	return 0;
}

static int
filter_session_msg(struct service_session *ss, struct ipc_msg *msg)
{
	if (msg->hdr.type == IMSG_FILTER_CHECK)
		return filter_check(ss, msg);
	return -1;
}

static const struct service_ops filter_ops = {
	.name = "filter",
	.role = ROLE_FILTER,
	.session_msg = filter_session_msg,
};

int
main(int argc, char **argv)
{
	service_main(argc, argv, &filter_ops);
}
