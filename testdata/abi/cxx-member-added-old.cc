// cxx-member-added: a data member added to a class whose methods are
// exported: its size grows; callers allocate the old size.
class Shape {
 public:
  int area() const;
 private:
  int w;
};
int Shape::area() const { return w; }
