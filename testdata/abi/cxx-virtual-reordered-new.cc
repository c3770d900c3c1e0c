// cxx-virtual-reordered: two virtual functions swap places in the
// class: the symbols stay, the vtable slots move.
struct Shape {
  virtual ~Shape();
  virtual int perimeter() const;
  virtual int area() const;
};
Shape::~Shape() {}
int Shape::area() const { return 1; }
int Shape::perimeter() const { return 2; }
Shape *pair_make() { return new Shape; }
