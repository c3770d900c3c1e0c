/* var-resized: an exported array grows; programs holding a copy
   relocation of it see the old size. */
int pair_table[8] = {1, 2, 3, 4, 5, 6, 7, 8};
int pair_f(int i) { return pair_table[i]; }
