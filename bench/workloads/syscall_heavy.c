// syscall_heavy N: N rounds of getppid() plus a 1-byte read of /dev/zero (2*N syscalls), and no
// mapping calls beyond start-up. A seccomp-filtered tracer should cost nearly nothing here: this
// measures the filter itself, and a tracer that stops at every syscall (plain PTRACE_SYSCALL) shows up.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 200000;
    int fd = open("/dev/zero", O_RDONLY);
    if (fd < 0) { perror("/dev/zero"); return 1; }
    unsigned long sum = 0;
    char c;
    for (long i = 0; i < n; i++) {
        sum += (unsigned long)syscall(SYS_getppid);  // the raw syscall: no caching in libc
        if (read(fd, &c, 1) != 1) { perror("read"); return 1; }
        sum += (unsigned char)c;
    }
    close(fd);
    printf("syscall_heavy %ld rounds, sum %lu\n", n, sum);
    return 0;
}
