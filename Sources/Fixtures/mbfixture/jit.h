/// jit-code N: N anonymous mmaps made by machine code copied into anonymous executable memory (as
///   a JIT compiler emits it), which keeps a frame pointer and has no unwind information. Prints
///   jit=ADDRESS of the code and first=ADDRESS of the first mapping it made.
int scenario_jit_code(int calls);
