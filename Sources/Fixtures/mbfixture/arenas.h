/// arena-stacks: a malloc arena whose trimmed-off reservation is later filled by thread stacks
/// (arenas.c).
int scenario_arena_stacks(int threads);
