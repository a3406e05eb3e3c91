/* libnativedemo.so: a small shared library with its own allocation sites.
 * Built with gcc -O2 -g -fPIC -shared. */
#include <stdlib.h>
#include <string.h>

#include "nativedemo.h"

int nd_data_version = 3;                            /* .data */
long nd_bss_counter;                                /* .bss */
const char nd_rodata_name[] = "libnativedemo rodata name"; /* .rodata */

static inline __attribute__((always_inline)) void *nd_raw_alloc(size_t n)
{
    nd_bss_counter++;
    return malloc(n);
}

static inline __attribute__((always_inline)) char *nd_copy_bytes(const char *s, size_t n)
{
    char *p = nd_raw_alloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *nd_dup_string(const char *s)
{
    return nd_copy_bytes(s, strlen(s));
}

struct nd_table *nd_make_table(size_t rows, size_t cols)
{
    struct nd_table *t = nd_raw_alloc(sizeof *t);
    t->rows = rows;
    t->cols = cols;
    t->cells = calloc(rows * cols, sizeof(double));
    return t;
}
