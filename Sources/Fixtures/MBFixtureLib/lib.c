// A shared library with a large .bss: ld.so zero-fills its tail with an anonymous MAP_FIXED mmap,
// which mapblame must report as "bss of .../libmbfixturelib.so".
#include "MBFixtureLib.h"

static char library_bss[4 << 20];

void *mbfixturelib_bss_address(void) {
    library_bss[0] = 1;                    // touch one page
    library_bss[sizeof library_bss - 1] = 1;
    return &library_bss[sizeof library_bss / 2];
}
