/* SPDX-License-Identifier: ISC */
/*
 * ctl_store.h - sealpostctl store check|stats.
 */
#ifndef SP_CTL_STORE_H
#define SP_CTL_STORE_H

/* Is word a store command ("store")? */
int	ctl_store_is_command(const char *word);
/* Run it; returns the exit status. */
int	ctl_store_main(const char *conffile, int argc, char **argv);

#endif
