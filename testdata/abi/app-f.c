/* app-f: a program that uses pair_f only. */
int pair_f(int);
int main(void) { return pair_f(1) == 2 ? 0 : 1; }
