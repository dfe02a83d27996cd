#include <stddef.h>
#include <stdint.h>

/* libFuzzer's driver for a program that has its own main (https://llvm.org/docs/LibFuzzer.html,
   "Using libFuzzer as a library"). SwiftPM gives every executable target its own main, so the fuzz
   targets link libclang_rt.fuzzer_no_main and call this instead of defining LLVMFuzzerTestOneInput. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
