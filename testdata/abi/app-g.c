/* app-g: a program that uses pair_g. */
int pair_g(int);
int main(void) { return pair_g(1) == 3 ? 0 : 1; }
