/* SPDX-License-Identifier: ISC */
/*
 * fuzz_ipc.c - libFuzzer target for the IPC decoder (ipc_msg_decode and
 * the typed getters), what a service runs on every datagram a session
 * sends.  The input is one datagram.  A well-formed one is read with a
 * sequence of getters chosen by its first payload bytes (so the fuzzer
 * explores getter sequences); every getter must stay inside the payload.
 * What was read is then built again with ipc_add_* and must encode to
 * the same bytes and decode to the same values.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "log.h"
#include "banned.h"

#define FUZZ_MAX_FIELDS	64	/* getters per input */
#define FUZZ_MAX_OPS	16	/* payload bytes that choose them */

enum fuzz_op { OP_U32, OP_U64, OP_STR, OP_DATA, OP_END, OP_COUNT };

struct fuzz_field {
	int		 op;
	uint64_t	 v;		/* u32, u64 */
	const void	*p;		/* str, data: into the message */
	size_t		 n;		/* str: strlen; data: length */
	size_t		 max;		/* str */
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* 64 KiB each: not on the stack */
static struct ipc_msg	m, m2;

static const size_t	str_max[] = {
	0, 1, 3, 16, 255, IPC_MAX_STR, IPC_MAX_PAYLOAD, SIZE_MAX
};

/*
 * Read one field of kind f->op (f->max for a string) from msg: 0 read,
 * -1 refused.  Checks that a getter never reads or points outside the
 * payload and that a refused one does not move the cursor.
 */
static int
fuzz_get(struct ipc_msg *msg, struct fuzz_field *f)
{
	const uint8_t	*pl = msg->buf + IPC_HDR_SIZE;
	const uint8_t	*end = pl + msg->hdr.len;
	const char	*s;
	const void	*d;
	size_t		 off = msg->off, n;
	uint32_t	 v32;
	uint64_t	 v64;
	int		 r = -1;

	switch (f->op) {
	case OP_U32:
		if ((r = ipc_get_u32(msg, &v32)) == 0) {
			f->v = v32;
			SP_ASSERT(msg->off == off + 4);
		}
		break;
	case OP_U64:
		if ((r = ipc_get_u64(msg, &v64)) == 0) {
			f->v = v64;
			SP_ASSERT(msg->off == off + 8);
		}
		break;
	case OP_STR:
		if ((r = ipc_get_str(msg, &s, f->max)) == 0) {
			n = strlen(s);
			SP_ASSERT(n <= f->max);
			SP_ASSERT((const uint8_t *)s >= pl + off + 4 &&
			    (const uint8_t *)s + n < end);
			SP_ASSERT(msg->off == off + 4 + n + 1);
			f->p = s;
			f->n = n;
		}
		break;
	case OP_DATA:
		if ((r = ipc_get_data(msg, &d, &n)) == 0) {
			SP_ASSERT((const uint8_t *)d == pl + off + 4 &&
			    n <= (size_t)(end - (const uint8_t *)d));
			SP_ASSERT(msg->off == off + 4 + n);
			f->p = d;
			f->n = n;
		}
		break;
	case OP_END:
		r = ipc_end(msg);
		SP_ASSERT((r == 0) == (msg->off == msg->hdr.len));
		break;
	default:
		abort();
	}
	if (r == -1)
		SP_ASSERT(msg->off == off);
	SP_ASSERT(msg->off <= msg->hdr.len);
	return r;
}

/* Add a field read before to o. */
static void
fuzz_put(struct ipc_out *o, const struct fuzz_field *f)
{
	int	r = 0;

	switch (f->op) {
	case OP_U32:
		r = ipc_add_u32(o, (uint32_t)f->v);
		break;
	case OP_U64:
		r = ipc_add_u64(o, f->v);
		break;
	case OP_STR:
		r = ipc_add_str(o, f->p);
		break;
	case OP_DATA:
		r = ipc_add_data(o, f->p, f->n);
		break;
	}
	/* it came out of a message no longer than the limit: it fits */
	SP_ASSERT(r == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_field	 fields[FUZZ_MAX_FIELDS];
	struct fuzz_field		 f;
	struct ipc_out			*o;
	const uint8_t			*pl, *out;
	size_t				 i, nf = 0, nops, outlen;
	uint32_t			 hlen;
	int				 r, wellformed = 0;

	/* the oracle: well-formed exactly when the header's len is right */
	if (size >= IPC_HDR_SIZE) {
		memcpy(&hlen, data + 4, sizeof(hlen));
		wellformed = hlen <= IPC_MAX_PAYLOAD &&
		    hlen == size - IPC_HDR_SIZE;
	}
	r = ipc_msg_decode(&m, data, size);
	SP_ASSERT((r == 0) == wellformed);
	if (r == -1)
		return 0;
	SP_ASSERT(size >= IPC_HDR_SIZE && m.hdr.len == size - IPC_HDR_SIZE);
	SP_ASSERT(m.hdr.len <= IPC_MAX_PAYLOAD && m.off == 0 && m.fd == -1);
	pl = data + IPC_HDR_SIZE;
	nops = m.hdr.len < FUZZ_MAX_OPS ? m.hdr.len : FUZZ_MAX_OPS;

	/* walk: the payload's first bytes choose the getters, in a cycle */
	for (i = 0; nops > 0 && i < FUZZ_MAX_FIELDS; i++) {
		memset(&f, 0, sizeof(f));
		f.op = pl[i % nops] % OP_COUNT;
		f.max = str_max[(pl[i % nops] / OP_COUNT) %
		    (sizeof(str_max) / sizeof(str_max[0]))];
		if (fuzz_get(&m, &f) == -1 || f.op == OP_END)
			break;
		fields[nf++] = f;
	}
	if (nops == 0)
		SP_ASSERT(ipc_end(&m) == 0);

	/* build what was read again: the same bytes, the same values */
	o = ipc_out_new(m.hdr.type, m.hdr.id, -1);
	o->hdr.flags = m.hdr.flags;
	for (i = 0; i < nf; i++)
		fuzz_put(o, &fields[i]);
	out = ipc_out_bytes(o, &outlen);
	SP_ASSERT(out != NULL && outlen == IPC_HDR_SIZE + m.off);
	SP_ASSERT(memcmp(out + IPC_HDR_SIZE, pl, m.off) == 0);
	if (m.off == m.hdr.len)
		SP_ASSERT(outlen == size && memcmp(out, data, size) == 0);
	SP_ASSERT(ipc_msg_decode(&m2, out, outlen) == 0);
	SP_ASSERT(m2.hdr.type == m.hdr.type && m2.hdr.id == m.hdr.id &&
	    m2.hdr.flags == m.hdr.flags);
	for (i = 0; i < nf; i++) {
		f = fields[i];
		f.p = NULL;
		SP_ASSERT(fuzz_get(&m2, &f) == 0);
		SP_ASSERT(f.v == fields[i].v && f.n == fields[i].n);
		if (f.op == OP_STR || f.op == OP_DATA)
			SP_ASSERT(f.n == 0 ||
			    memcmp(f.p, fields[i].p, f.n) == 0);
	}
	SP_ASSERT(ipc_end(&m2) == 0);
	ipc_out_free(o);
	return 0;
}
