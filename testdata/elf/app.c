/* A program using libver.so.1: its reference to ver_table is a copy
 * relocation when built without PIE; foo binds to the default foo@@VER_2. */
#include <stdio.h>

extern int ver_table[16];
extern int ver_a(void);
extern int ver_b(void);
extern int foo(void);

int main(void) {
    printf("%d %d %d %d\n", ver_table[0], ver_a(), ver_b(), foo());
    return 0;
}
