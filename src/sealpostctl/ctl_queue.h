/* SPDX-License-Identifier: ISC */
/*
 * ctl_queue.h - sealpostctl queue list|show.
 */
#ifndef SP_CTL_QUEUE_H
#define SP_CTL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

/* Is word a queue command ("queue")? */
int	ctl_queue_is_command(const char *word);
/* A time for a listing: "2026-11-27 08:00:00Z" (UTC), or "?". */
void	ctl_queue_time(int64_t t, char *buf, size_t len);
/* Run it; returns the exit status. */
int	ctl_queue_main(const char *conffile, int argc, char **argv);
/*
 * queue flush|hold|release|delete (ctl_queue_ops.c): through the running
 * server's control socket (sock, or the configuration's).
 */
int	ctl_queue_is_op(int argc, char **argv);
int	ctl_queue_op(const char *conffile, const char *sock, int argc,
	    char **argv);

#endif
