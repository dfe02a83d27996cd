// cpu_bound N: N million steps of an integer hash chain (no syscalls, no allocation after start).
// About 0.3 s at the default N on the reference machine; a seccomp tracer should cost only its
// start-up here.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    long millions = argc > 1 ? atol(argv[1]) : 300;
    unsigned long x = 88172645463325252UL, acc = 0;
    for (long i = 0; i < millions * 1000000L; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        acc += x * 0x9e3779b97f4a7c15UL >> 61;
    }
    printf("cpu_bound %ld M steps, acc %lu\n", millions, acc);
    return 0;
}
