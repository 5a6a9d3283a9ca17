/* SPDX-License-Identifier: ISC */
/*
 * ctl_dkim.h - sealpostctl dkim gen|list|record|activate|remove: the DKIM
 * keys the signer service signs with (ctl_dkim.c).
 */
#ifndef SP_CTL_DKIM_H
#define SP_CTL_DKIM_H

/* Is word "dkim"? */
int	ctl_dkim_is_command(const char *word);
/*
 * Run the dkim command in argv[0..argc) (argv[0] is "dkim") with the
 * configuration conffile.  The exit status: 0 done, 1 refused or failed,
 * 2 usage.
 */
int	ctl_dkim_main(const char *conffile, int argc, char **argv);

#endif
