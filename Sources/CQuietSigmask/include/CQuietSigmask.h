// Nothing to import: this target only defines sigprocmask for the executable that links it.
