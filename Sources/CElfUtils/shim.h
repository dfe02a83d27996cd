// elfutils headers for Swift: libdwfl (module lookup, debuginfo search), libdw (DWARF), gelf.
#include <elfutils/libdwfl.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <dwarf.h>
#include <gelf.h>
#include <stddef.h>
