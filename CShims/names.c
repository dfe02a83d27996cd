// Names of signals and errno values: GNU extensions Swift's Glibc module does not expose.
#include "CShims.h"

#include <string.h>

const char *cshims_signal_abbrev(int sig) { return sigabbrev_np(sig); }
const char *cshims_errno_name(int err) { return strerrorname_np(err); }
