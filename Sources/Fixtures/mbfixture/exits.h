/// Exit-path scenarios (ExitPathTests, SignalTests): each prints `pid=`/`child_pid=`/... lines first
/// so a test can check afterwards that no process is left behind.
int scenario_exit_thread(void);
int scenario_exit_group(int threads);
int scenario_abort(void);
int scenario_wait_kill(void);
int scenario_orphan(void);
int scenario_daemon(void);
