/* return-type: the return type changes from int to double. */
double pair_f(void) { return 1.0; }
