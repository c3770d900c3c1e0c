/* app-table: a non-PIE program that reads pair_table: the linker gives it
   a copy of the array (a copy relocation), sized as the old library had
   it. */
extern int pair_table[4];
int main(void) { return pair_table[1] == 2 ? 0 : 1; }
