/// exit-race N: N child processes, each with threads that map, ending in one of the racy ways a
/// process's last thread can go (exit_group from a non-leader thread while threads are being
/// created and mapping, the leader leaving first with pthread_exit, exec from a non-leader
/// thread...): every one of them must still get its final snapshot.
int scenario_exit_race(const char *self, unsigned children);
