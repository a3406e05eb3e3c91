/* liblegacy.so: see liblegacy.h. Built with gcc -O2 -g -fPIC -shared. */
#include <stdlib.h>
#include <string.h>

#include "liblegacy.h"

long ll_alloc_count; /* .bss */

static inline __attribute__((always_inline)) void *ll_raw_alloc(size_t n)
{
    ll_alloc_count++;
    return malloc(n);
}

static inline __attribute__((always_inline)) char *ll_copy_bytes(const char *s, size_t n)
{
    char *p = ll_raw_alloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ll_dup_string(const char *s)
{
    return ll_copy_bytes(s, strlen(s));
}

struct ll_table *ll_make_table(size_t rows, size_t cols)
{
    struct ll_table *t = ll_raw_alloc(sizeof *t);
    t->rows = rows;
    t->cols = cols;
    t->cells = calloc(rows * cols, sizeof(double));
    return t;
}

void ll_free_table(struct ll_table *t)
{
    free(t->cells);
    free(t);
}
