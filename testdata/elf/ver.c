/* libver.so.1: symbol versions from a version script (ver.map), a symbol
 * with two versions (foo@VER_1 kept for old binaries, foo@@VER_2 the
 * default), a weak definition, an exported array (copy-relocated by
 * app_copyreloc), a TLS variable, an IFUNC and a weak undefined reference. */
#include <stddef.h>

int ver_table[16] = {1};
__thread int ver_tls = 7;

int ver_a(void) { return 1; }
int ver_b(void) { return 2; }
__attribute__((weak)) int ver_weak(void) { return 3; }

int foo_v1(void) { return 10; }
int foo_v2(void) { return 20; }
__asm__(".symver foo_v1, foo@VER_1");
__asm__(".symver foo_v2, foo@@VER_2");

static int ifunc_impl(void) { return 42; }
static void *ver_ifunc_resolver(void) { return (void *)ifunc_impl; }
int ver_ifunc(void) __attribute__((ifunc("ver_ifunc_resolver")));

extern void maybe_missing(void) __attribute__((weak));
int ver_call_maybe(void) {
    if (maybe_missing != NULL) {
        maybe_missing();
        return 1;
    }
    return 0;
}
