/* needed-added: the library now needs libm. */
#include <math.h>
double pair_f(double x) { return cos(x) + 1; }
