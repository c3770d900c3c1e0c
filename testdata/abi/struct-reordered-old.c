struct pair_point { int x; long y; };
int pair_f(struct pair_point *p) { return p->x + (int)p->y; }
