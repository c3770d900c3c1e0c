int pair_f(void) { return 1; }
