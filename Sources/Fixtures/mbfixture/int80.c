// `int 0x80` from 64-bit code enters the kernel's i386 ABI: i386 numbers, arguments in ebx, ecx,
// edx, esi, edi, ebp, 32-bit results (the kernel maps such calls below 4 GiB). mapblame must
// decode them as i386 calls although the program is a 64-bit one.
#include "int80.h"

#include <stdio.h>
#include <sys/mman.h>

#define PAGE 4096
#define I386_MMAP2 192
#define I386_MUNMAP 91
#define I386_MPROTECT 125

// An i386 call of up to five arguments (ebp, the sixth, is 0: mmap2's page offset). rsp moves
// below the red zone first: the compiler may keep locals there.
static long int80(long number, long a, long b, long c, long d, long e) {
    long result;
    __asm__ volatile("sub $128, %%rsp\n\t"  // @site:int80 (debug info names the statement's first line)
                     "push %%rbp\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "int $0x80\n\t"
                     "pop %%rbp\n\t"
                     "add $128, %%rsp"
                     : "=a"(result)
                     : "a"(number), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
                     : "memory", "cc");
    return (int)result;  // the kernel returns a 32-bit value
}

int scenario_int80(void) {
    long p = int80(I386_MMAP2, 0, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    if (p < 0 && p > -4096) {
        fprintf(stderr, "int 0x80 mmap2: error %ld\n", -p);
        return 1;
    }
    unsigned long address = (unsigned int)p;
    if (int80(I386_MUNMAP, (long)(address + 4 * PAGE), 4 * PAGE, 0, 0, 0) != 0 ||
        int80(I386_MPROTECT, (long)(address + 12 * PAGE), 2 * PAGE, PROT_READ, 0, 0) != 0) {
        fprintf(stderr, "int 0x80 munmap/mprotect failed\n");
        return 1;
    }
    printf("int80=%#lx\n", address);
    return 0;
}
