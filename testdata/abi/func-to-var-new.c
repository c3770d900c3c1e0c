/* func-to-var: the name now denotes a variable. */
int pair_thing = 0;
