/* SPDX-License-Identifier: ISC */
/*
 * memfd.h - sealed memory files: how bytes (message bodies, the TLS
 * certificate and key) cross from one process to another.
 */
#ifndef SP_MEMFD_H
#define SP_MEMFD_H

#include <stddef.h>

/* All seals a receiver insists on before it trusts the contents. */
#define SP_MEMFD_SEALS	(F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | \
			 F_SEAL_SEAL)

/*
 * Building one: a new empty memfd that can be sealed, bytes appended
 * (write; ENOSPC / EFBIG when a limit is reached), then every seal.
 * Each -1 with errno on error.
 */
int	memfd_new(const char *name);
int	memfd_append(int fd, const void *data, size_t len);
int	memfd_seal(int fd);
/* A memfd holding a copy of data[0..len), sealed; -1 with errno on error. */
int	memfd_sealed_from(const char *name, const void *data, size_t len);
/*
 * Check that fd is a memfd with every seal of SP_MEMFD_SEALS and at most
 * max bytes; its size goes to *len_r.  -1 when it is not (the sender is
 * then not to be trusted with this fd).
 */
int	memfd_check_sealed(int fd, size_t max, size_t *len_r);
/* Read exactly len bytes from offset 0 (pread: the offset is shared). */
int	memfd_read(int fd, void *dst, size_t len);

#endif
