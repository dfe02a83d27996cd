/// serve LOG [FORK]: a long-running, daemon-like process for `mapblame attach` tests (serve.c).
int scenario_serve(const char *self, const char *log, int forking);
/// Loads libmbfixturelib.so from the directory of `self` and returns the address of its .bss.
void *fixture_library_bss(const char *self);
