int pair_f(int x) { return x + 1; }
int pair_g(int x) { return x + 2; }
