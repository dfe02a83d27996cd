/// Pages of every mapping call the stress scenarios make (how tests recognise their events).
#define STRESS_PAGES 3
int scenario_threads(int threads, unsigned long ops);
int scenario_forks(int processes, unsigned long ops);
int scenario_exec_thread(const char *self);
