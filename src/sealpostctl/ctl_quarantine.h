/* SPDX-License-Identifier: ISC */
/*
 * ctl_quarantine.h - sealpostctl quarantine list|show|release|delete
 * (ctl_quarantine.c).
 */
#ifndef SP_CTL_QUARANTINE_H
#define SP_CTL_QUARANTINE_H

/* Is word "quarantine"? */
int	ctl_quarantine_is_command(const char *word);
/*
 * Run the quarantine command in argv[0..argc) (argv[0] is "quarantine")
 * with the configuration conffile; sock (-s) or NULL names the control
 * socket release uses.  The exit status: 0 done, 1 refused or failed,
 * 2 usage, 67 or 75 when a release could not deliver (as deliver).
 */
int	ctl_quarantine_main(const char *conffile, const char *sock, int argc,
	    char **argv);

#endif
