/// predict: munmap/mprotect at the edges of the tracer's result prediction (predict.c).
int scenario_predict(void);
