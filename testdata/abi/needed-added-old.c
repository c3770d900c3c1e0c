double pair_f(double x) { return x + 1; }
