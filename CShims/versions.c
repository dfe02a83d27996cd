// Versions for `mapblame --version`: the build's commit (weak defaults a generated object
// overrides at link time) and the libunwind and elfutils libraries this process runs with.
#include "CShims.h"

#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <libunwind-ptrace.h>
#include <limits.h>
#include <stdlib.h>

// Weak, so that the strong definitions in the object `make` generates from git (packaging/
// buildinfo.sh) win at link time without any source file changing: the commit never forces a
// recompilation, only a relink.
__attribute__((weak)) const char *cshims_build_commit(void) { return NULL; }
__attribute__((weak)) int cshims_build_dirty(void) { return -1; }

#define CSHIMS_STR2(x) #x
#define CSHIMS_STR(x) CSHIMS_STR2(x)

const char *cshims_libunwind_header_version(void) {
    return CSHIMS_STR(UNW_VERSION_MAJOR) "." CSHIMS_STR(UNW_VERSION_MINOR) "." CSHIMS_STR(UNW_VERSION_EXTRA);
}

// libunwind has no run-time version call; the file that holds unw_init_remote says which library
// was loaded (its name carries the soname version, its package says the rest).
const char *cshims_libunwind_loaded_file(void) {
    static char path[PATH_MAX];
    Dl_info info;
    if (dladdr((void *)&unw_init_remote, &info) == 0 || info.dli_fname == NULL) return NULL;
    if (realpath(info.dli_fname, path) == NULL) return info.dli_fname;
    return path;
}

const char *cshims_elfutils_version(void) {
    const char *v = dwfl_version(NULL);
    return v != NULL ? v : "unknown";
}
