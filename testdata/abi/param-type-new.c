/* param-type: a parameter's type widens; callers pass an int. */
int pair_f(long x) { return (int)x + 1; }
