#include <stdint.h>
/// Seeded random mapping calls; see random.c.
int scenario_random(uint64_t seed, unsigned long ops, int threads, int with_fork);
