// cxx-base-added: a class gains a base class ahead of its members:
// they move, and the class grows.
struct Named {
  const char *name;
};
struct Shape : Named {
  int w;
  int area() const;
};
int Shape::area() const { return w; }
