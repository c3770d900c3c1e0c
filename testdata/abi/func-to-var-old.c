int pair_thing(void) { return 0; }
