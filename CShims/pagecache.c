#include "pagecache.h"

#include <string.h>

#include "CShims.h"

void cshims_page_cache_reset(cshims_page_cache *c, pid_t tid) {
    c->tid = tid;
    c->next_slot = 0;
    memset(c->page_valid, 0, sizeof c->page_valid);
}

int cshims_page_cache_read(cshims_page_cache *c, uint64_t addr, void *out, size_t size) {
    uint64_t base = addr & ~(uint64_t)(CSHIMS_CACHE_PAGE - 1);
    uint64_t off = addr - base;
    if (off + size <= CSHIMS_CACHE_PAGE) {
        for (int i = 0; i < CSHIMS_CACHED_PAGES; i++) {
            if (c->page_valid[i] && c->page_addr[i] == base) {
                memcpy(out, c->pages[i] + off, size);
                return 0;
            }
        }
        int slot = c->next_slot;
        c->next_slot = (slot + 1) % CSHIMS_CACHED_PAGES;
        if (cshims_read_memory(c->tid, base, c->pages[slot], CSHIMS_CACHE_PAGE) == (long)CSHIMS_CACHE_PAGE) {
            c->page_addr[slot] = base;
            c->page_valid[slot] = 1;
            memcpy(out, c->pages[slot] + off, size);
            return 0;
        }
        c->page_valid[slot] = 0;
    }
    // The value straddles pages, or the page is only partly readable: read exactly the value.
    return cshims_read_memory(c->tid, addr, out, size) == (long)size ? 0 : -1;
}
