/* enum-added: a new enumerator at the end; old values keep meaning. */
enum pair_mode { PAIR_READ = 1, PAIR_WRITE = 2, PAIR_APPEND = 3 };
int pair_f(enum pair_mode m) { return m == PAIR_WRITE; }
