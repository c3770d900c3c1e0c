/* typedef-renamed: the parameter's typedef has a new name for the same
   type: harmless. */
typedef int pair_size;
int pair_f(pair_size n) { return n + 1; }
