struct pair_point { int x; int y; };
int pair_f(struct pair_point *p) { return p->x + p->y; }
