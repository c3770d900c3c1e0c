/* made-weak: the definition becomes weak (GLOBAL -> WEAK). */
__attribute__((weak)) int pair_f(int x) { return x + 1; }
