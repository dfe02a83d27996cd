/// Scenarios from real programs that broke mapblame (issue 15): each reproduces one pattern.
/// foreign-code: mapping calls made from code in a file that is not ELF (an unwinder must not
///   take it for a module).
int scenario_foreign_code(void);
/// many-vmas N: N pages of alternating protection, N VMAs in one address space (a snapshot of
///   several MiB, records larger than the trace writer's window).
int scenario_many_vmas(unsigned pages);
