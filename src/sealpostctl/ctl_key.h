/* SPDX-License-Identifier: ISC */
/*
 * ctl_key.h - sealpostctl key import|list|show|export|remove: the
 * organization's OpenPGP keyring; key publish|unpublish|published: its
 * keys of local addresses in the Web Key Directory tree (ctl_key.c).
 */
#ifndef SP_CTL_KEY_H
#define SP_CTL_KEY_H

/* Is word "key"? */
int	ctl_key_is_command(const char *word);
/*
 * Run the key command in argv[0..argc) (argv[0] is "key") with the
 * configuration conffile.  The exit status: 0 done, 1 refused or failed,
 * 2 usage.
 */
int	ctl_key_main(const char *conffile, int argc, char **argv);

#endif
