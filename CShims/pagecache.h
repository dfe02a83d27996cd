// Reads of a stopped tracee's memory for an unwinder: whole pages with process_vm_readv, a few
// kept for one backtrace (a walk reads many words from the same stack pages; one syscall per word
// would cost more than the rest of the walk). Shared by unwind.c and unwind32.c.
#ifndef CSHIMS_PAGECACHE_H
#define CSHIMS_PAGECACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CSHIMS_CACHE_PAGE 4096u
#define CSHIMS_CACHED_PAGES 8

typedef struct {
    pid_t tid;
    uint64_t page_addr[CSHIMS_CACHED_PAGES];
    int page_valid[CSHIMS_CACHED_PAGES];
    int next_slot;
    unsigned char pages[CSHIMS_CACHED_PAGES][CSHIMS_CACHE_PAGE];
} cshims_page_cache;

/// Forgets every page (the tracee ran since) and reads thread `tid` from now on.
void cshims_page_cache_reset(cshims_page_cache *_Nonnull c, pid_t tid);

/// Copies `size` bytes at `addr` (at most 8) into `out`: 0, or -1 if they cannot be read.
int cshims_page_cache_read(cshims_page_cache *_Nonnull c, uint64_t addr, void *_Nonnull out, size_t size);

#endif
