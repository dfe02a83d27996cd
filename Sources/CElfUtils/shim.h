// elfutils headers for Swift: libdwfl (module lookup, debuginfo search), libdw (DWARF), gelf.
#include <elfutils/libdwfl.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <dwarf.h>
#include <gelf.h>
#include <stddef.h>

// The C++ ABI demangler from libstdc++ (declared here because <cxxabi.h> is C++ only).
char *__cxa_demangle(const char *mangled_name, char *output_buffer, size_t *length, int *status);
