/* The smallest program: built static, 32-bit, with an x86-64-v3 marker. */
#include <stdio.h>

int main(void) {
    puts("hello");
    return 0;
}
