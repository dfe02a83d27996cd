/// Address inside the library's .bss (and touches it).
void *mbfixturelib_bss_address(void);
