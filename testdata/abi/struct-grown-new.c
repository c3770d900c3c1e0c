/* struct-grown: a member added to a struct the API passes: its size
   grows from 8 to 12 bytes; callers allocate the old size. */
struct pair_point { int x; int y; int z; };
int pair_f(struct pair_point *p) { return p->x + p->y + p->z; }
