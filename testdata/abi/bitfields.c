/* bitfields: the same struct of bit-fields, described in DWARF 4 (bit
   offsets from the storage unit's top) on one side and DWARF 5 (data bit
   offsets) on the other: no change. */
struct pair_flags { int d; unsigned a : 3; unsigned b : 5; unsigned c : 1; };
int pair_f(struct pair_flags *f) { return f->a + f->b + f->c + f->d; }
