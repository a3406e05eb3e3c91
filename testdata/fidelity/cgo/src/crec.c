/* The C part of cgodemo: a recursive C function whose deepest call, and one
 * intermediate level, call back into Go. Compiled by cgo with its default
 * flags (-g -O2 plus -fPIC from the go tool), under which gcc 12 emits a local
 * alias c_recurse.localalias at c_recurse's address for the recursive call. */
#include "crec.h"
#include "_cgo_export.h"

/* c_leaf is inlined into c_recurse: the callback's call site has an inline
 * frame in the DWARF. */
static inline __attribute__((always_inline)) int c_leaf(int depth, int size) {
    goAlloc(depth, size);
    return depth + 1;
}

int c_recurse(int depth, int size) {
    /* volatile keeps a real frame at every level and stops gcc from turning
     * the recursion into a loop. */
    volatile int pad[4];
    pad[0] = depth;
    if (depth == 0) {
        return c_leaf(depth, size);
    }
    if (depth == 3) {
        goAlloc(depth, size / 2);
    }
    int r = c_recurse(depth - 1, size);
    return r + pad[0];
}
