/* Public interface of libnativedemo.so, the shared library used by cdemo. */
#ifndef NATIVEDEMO_H
#define NATIVEDEMO_H

#include <stddef.h>

struct nd_table {
    size_t rows;
    size_t cols;
    double *cells;
};

/* Allocates the table header and its cells (two allocation sites). */
struct nd_table *nd_make_table(size_t rows, size_t cols);

/* Copies a string through two inlined helpers. */
char *nd_dup_string(const char *s);

/* Library globals for data-address lookups. */
extern int nd_data_version;
extern long nd_bss_counter;
extern const char nd_rodata_name[];

#endif
