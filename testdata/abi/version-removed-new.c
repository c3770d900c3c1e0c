/* version-removed: the PAIR_2 node and its function are gone. */
int pair_f(int x) { return x + 1; }
