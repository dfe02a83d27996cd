static char big[1<<20]; int mbfixturelib_touch(void){ big[0]=1; return big[0]; }
