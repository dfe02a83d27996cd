int scenario_peak(void);
