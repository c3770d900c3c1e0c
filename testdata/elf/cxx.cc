// libcxx.so: a C++ class with virtual functions, so the library needs
// GLIBCXX_* and CXXABI_* versions from libstdc++ and exports a vtable.
#include <string>

class Shape {
public:
    virtual ~Shape();
    virtual double area() const;
    std::string name() const;
};

Shape::~Shape() {}
double Shape::area() const { return 0.0; }
std::string Shape::name() const { return "shape"; }

std::string label(const Shape &s, int n) {
    if (n < 0)
        throw n;
    return s.name() + std::to_string(n);
}
