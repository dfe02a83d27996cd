int mbfixturelib_touch(void);
