// cxx-virtual-added: a virtual function added to a class: its vtable
// (_ZTV5Shape) grows, and programs' vtable slots shift.
struct Shape {
  virtual ~Shape();
  virtual int area() const;
  virtual int perimeter() const;
};
Shape::~Shape() {}
int Shape::area() const { return 0; }
int Shape::perimeter() const { return 0; }
Shape *pair_make() { return new Shape; }
