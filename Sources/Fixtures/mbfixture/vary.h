#ifndef MBFIXTURE_VARY_H
#define MBFIXTURE_VARY_H
int scenario_arenas_vary(void);
#endif
