/* SPDX-License-Identifier: ISC */
/*
 * ctl_queue.h - sealpostctl queue list|show.
 */
#ifndef SP_CTL_QUEUE_H
#define SP_CTL_QUEUE_H

/* Is word a queue command ("queue")? */
int	ctl_queue_is_command(const char *word);
/* Run it; returns the exit status. */
int	ctl_queue_main(const char *conffile, int argc, char **argv);

#endif
