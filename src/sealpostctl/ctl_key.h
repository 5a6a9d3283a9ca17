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

/*
 * key pending [accept|reject ADDRESS], key discovered, key forget
 * ADDRESS (ctl_key_learnt.c): through the running server's control
 * socket sock (NULL: the configuration's).
 */
int	ctl_key_is_learnt_op(int argc, char **argv);
int	ctl_key_learnt_op(const char *conffile, const char *sock, int argc,
	    char **argv);

#endif
