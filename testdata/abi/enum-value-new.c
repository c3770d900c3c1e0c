/* enum-value: an enumerator's value changes; callers pass the old one. */
enum pair_mode { PAIR_READ = 1, PAIR_WRITE = 4 };
int pair_f(enum pair_mode m) { return m == PAIR_WRITE; }
