struct Shape {
  virtual ~Shape();
  virtual int area() const;
};
Shape::~Shape() {}
int Shape::area() const { return 0; }
Shape *pair_make() { return new Shape; }
