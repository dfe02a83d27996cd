// Extended attributes Swift's Glibc module does not import (<sys/xattr.h>).
#include "CShims.h"

#include <stddef.h>
#include <sys/xattr.h>

int cshims_has_file_capabilities(const char *path) {
    return getxattr(path, "security.capability", NULL, 0) > 0;
}
