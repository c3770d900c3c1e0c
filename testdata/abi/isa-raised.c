/* same: the library rebuilt unchanged. */
int pair_f(int x) { return x + 1; }
int pair_var = 3;
