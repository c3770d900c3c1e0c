/* struct-reordered: the members swap places; their offsets change. */
struct pair_point { long y; int x; };
int pair_f(struct pair_point *p) { return p->x + (int)p->y; }
