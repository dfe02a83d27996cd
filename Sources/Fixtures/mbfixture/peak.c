// peak: the example of a peak that the final map does not show. Maps 100 MiB, then 10 MiB
// more, then frees the 100 MiB: the peak of anonymous bytes is 110 MiB above what the program had
// before, at the second call; 10 MiB stay. Then a 64-page mapping whose every other page is made
// read-only (64 VMAs at once: the peak of the VMA count), freed again. Nothing else maps between
// the calls (the addresses are printed at the end: printf's buffer comes from malloc). Half a
// second passes between the peak and the rest, so that on a time axis the peak's calls and the later
// ones (the VMA peak, a last 1 MiB that stays) stay apart however slowly the program starts or exits.
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "peak.h"

#define MIB (1024UL * 1024)

int scenario_peak(void) {
    char *big = mmap(NULL, 100 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // @site:peak_big
    if (big == MAP_FAILED) { perror("mmap"); return 1; }
    char *small = mmap(NULL, 10 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // @site:peak_small
    if (small == MAP_FAILED) { perror("mmap"); return 1; }
    if (munmap(big, 100 * MIB) != 0) { perror("munmap"); return 1; }
    usleep(500 * 1000);
    char *striped = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (striped == MAP_FAILED) { perror("mmap"); return 1; }
    for (int i = 1; i < 64; i += 2) {
        if (mprotect(striped + i * 4096, 4096, PROT_READ) != 0) { perror("mprotect"); return 1; }
    }
    if (munmap(striped, 64 * 4096) != 0) { perror("munmap"); return 1; }
    char *late = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // @site:peak_late
    if (late == MAP_FAILED) { perror("mmap"); return 1; }
    small[0] = late[0] = 1;
    printf("big=%p\nsmall=%p\nstriped=%p\nlate=%p\n", (void *)big, (void *)small, (void *)striped, (void *)late);
    return 0;
}
