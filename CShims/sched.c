// CPU affinity and thread ids: sched_setaffinity, cpu_set_t and gettid are GNU extensions Swift does not see.
#include "CShims.h"

#include <sched.h>
#include <unistd.h>

int cshims_pin_self(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

int cshims_allowed_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    return CPU_COUNT(&set);
}

_Static_assert(sizeof(cshims_cpu_mask) == sizeof(cpu_set_t), "cshims_cpu_mask is a cpu_set_t");

int cshims_get_mask(cshims_cpu_mask *mask) {
    return sched_getaffinity(0, sizeof(cpu_set_t), (cpu_set_t *)mask);
}

int cshims_set_mask(const cshims_cpu_mask *mask) {
    return sched_setaffinity(0, sizeof(cpu_set_t), (const cpu_set_t *)mask);
}

pid_t cshims_gettid(void) { return gettid(); }
