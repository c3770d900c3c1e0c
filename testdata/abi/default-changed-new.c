/* default-changed: pair_f@@PAIR_2 is the new default; the old
   pair_f@PAIR_1 stays for programs linked against it. */
int pair_f_1(int x) { return x + 1; }
int pair_f_2(int x, int y) { return x + y; }
__asm__(".symver pair_f_1, pair_f@PAIR_1");
__asm__(".symver pair_f_2, pair_f@@PAIR_2");
