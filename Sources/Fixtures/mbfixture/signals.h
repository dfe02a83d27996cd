int scenario_segv_recover(void);
int scenario_signals(int count);
