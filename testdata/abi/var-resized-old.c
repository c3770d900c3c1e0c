int pair_table[4] = {1, 2, 3, 4};
int pair_f(int i) { return pair_table[i]; }
