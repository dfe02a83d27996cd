#ifndef MBFIXTURE_INT80_H
#define MBFIXTURE_INT80_H

// int80: mapping calls of the i386 ABI (`int 0x80`) made by 64-bit code.
int scenario_int80(void);

#endif
