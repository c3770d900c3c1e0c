// cxx-base-added: a class gains a base class ahead of its members:
// they move, and the class grows.
struct Shape {
  int w;
  int area() const;
};
int Shape::area() const { return w; }
