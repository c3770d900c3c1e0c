int pair_f(int x) { return x + 1; }
