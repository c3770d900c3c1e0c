enum pair_mode { PAIR_READ = 1, PAIR_WRITE = 2 };
int pair_f(enum pair_mode m) { return m == PAIR_WRITE; }
