/* liblegacy.so: a small shared library with allocation sites of its own,
 * used by the legacy-format fixture programs (lheap, lheapxx). */
#ifndef LIBLEGACY_H
#define LIBLEGACY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ll_table {
    size_t rows;
    size_t cols;
    double *cells;
};

/* Two allocation sites: the header (through an inlined helper) and the cells
 * (calloc). */
struct ll_table *ll_make_table(size_t rows, size_t cols);

/* Copies a string through two inlined helpers (one malloc). */
char *ll_dup_string(const char *s);

/* Frees what ll_make_table allocated. */
void ll_free_table(struct ll_table *t);

#ifdef __cplusplus
}
#endif

#endif
