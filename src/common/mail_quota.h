/* SPDX-License-Identifier: ISC */
/*
 * mail_quota.h - a mail process's side of its channel to auth: the
 * account's quota in users.db (DESIGN.md "At-rest formats").
 */
#ifndef SP_MAIL_QUOTA_H
#define SP_MAIL_QUOTA_H

#include <stdint.h>

/*
 * Use fd (the channel auth handed the key over, SP_FD_KEY) for account's
 * quota from now on; the channel is closed when auth is gone.
 */
void	mail_quota_init(int fd, uint64_t account);
/* Reserve bytes before a write: 1 reserved, 0 over quota, -1 no auth. */
int	mail_quota_reserve(uint64_t bytes);
/* Give bytes back (an expunge freed them, a write failed): 0 or -1. */
int	mail_quota_release(uint64_t bytes);
/* The quota (0: none) and usage in bytes: 0, or -1 (no auth). */
int	mail_quota_get(uint64_t *quota_r, uint64_t *usage_r);

#endif
