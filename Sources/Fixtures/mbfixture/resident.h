#ifndef MBFIXTURE_RESIDENT_H
#define MBFIXTURE_RESIDENT_H

// resident: a fully touched malloc next to an untouched mmap, merged by the kernel into one VMA.
void scenario_resident(void);
// resident-big MIB [STRIDE]: MIB MiB mapped, every STRIDE-th page written (for timing pagemap).
void scenario_resident_big(unsigned long mib, unsigned long stride);

#endif
