/* One of the ten shared libraries of the debuginfod benchmark, compiled with -DLIB=<0..9>: each exports
   tenN_work, which allocates through an always_inline helper chain (so its frames have inline frames). */
#include <stdlib.h>
#include <string.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define NAME(s) CAT(CAT(ten, LIB), s)

static inline __attribute__((always_inline)) void *NAME(_raw)(size_t n) {
    void *p = malloc(n);
    if (p) memset(p, LIB + 1, n);
    return p;
}

static inline __attribute__((always_inline)) void *NAME(_block)(size_t n) {
    return NAME(_raw)(n + 16 * LIB);
}

__attribute__((noinline)) void *NAME(_work)(size_t i) {
    return NAME(_block)(256 + 64 * (i % 7));
}
