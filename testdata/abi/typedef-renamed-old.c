typedef int pair_count;
int pair_f(pair_count n) { return n + 1; }
