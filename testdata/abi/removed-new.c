/* removed: an exported function is gone. */
int pair_f(int x) { return x + 1; }
