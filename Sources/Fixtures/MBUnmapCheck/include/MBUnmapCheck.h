// Test helper, preloaded (LD_PRELOAD) into mapblame by a test: see unmapcheck.c.
#include <stddef.h>

/// munmap that aborts the process when [addr, addr + length) is not entirely mapped.
int munmap(void *addr, size_t length);
