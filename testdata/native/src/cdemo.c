/* cdemo: C program whose heap profile is recorded by gperftools.
 * Built with gcc -O2 -g, as PIE and as non-PIE, linked against libnativedemo.so.
 * Allocation sites:
 *   - build_records: raw_alloc -> make_buffer inlined (inline chain depth 2,
 *     three frames at one PC);
 *   - recurse_alloc: recursive, allocates at every level;
 *   - load_library_data: calls into libnativedemo.so (its own sites);
 *   - main: a direct malloc.
 * All blocks stay live until the profile is dumped. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nativedemo.h"

#ifndef CDEMO_VARIANT
#define CDEMO_VARIANT 0
#endif

/* Globals for data-address lookups. */
int g_counter = 42;                                   /* .data */
long g_bss_buf[64];                                   /* .bss */
const char g_banner[] = "cdemo banner: pprofsym native fixture"; /* .rodata */

/* Global (not static) so the compiler cannot drop the stores and then the
 * allocations themselves. */
void *cdemo_keep[1024];
int nkeep;

static void remember(void *p)
{
    if (nkeep < (int)(sizeof cdemo_keep / sizeof cdemo_keep[0]))
        cdemo_keep[nkeep++] = p;
}

static inline __attribute__((always_inline)) void *raw_alloc(size_t n)
{
    g_counter++;
    return malloc(n);
}

static inline __attribute__((always_inline)) char *make_buffer(size_t n, int fill)
{
    char *p = raw_alloc(n);
    memset(p, fill, n);
    return p;
}

__attribute__((noinline)) void build_records(int count)
{
    for (int i = 0; i < count; i++)
        remember(make_buffer(4096 + CDEMO_VARIANT, 'a' + (i % 26)));
}

struct node {
    struct node *next;
    int depth;
    char payload[100];
};

__attribute__((noinline)) struct node *recurse_alloc(int depth)
{
    struct node *n = malloc(sizeof *n);
    n->depth = depth;
    n->next = depth > 0 ? recurse_alloc(depth - 1) : NULL;
    g_bss_buf[depth & 63] += (long)n->depth;
    return n;
}

__attribute__((noinline)) void load_library_data(void)
{
    remember(nd_make_table(32, 16));
    remember(nd_dup_string(g_banner));
    remember(nd_dup_string(nd_rodata_name));
}

/* Returns its own return address: a mid-function PC inside the caller. */
__attribute__((noinline)) void *where_am_i(void)
{
    return __builtin_extract_return_addr(__builtin_return_address(0));
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 8;

    build_records(rounds);
    remember(recurse_alloc(5));
    load_library_data();
    remember(malloc(65536));

    /* Dump while everything is live. HeapProfilerDump exists only when
     * gperftools' libtcmalloc is loaded (LD_PRELOAD); look it up lazily. */
    void (*dump)(const char *) = (void (*)(const char *))dlsym(RTLD_DEFAULT, "HeapProfilerDump");
    if (dump)
        dump("cdemo-final");
    if (getenv("CDEMO_PRINT_MAPS")) {
        FILE *f = fopen("/proc/self/maps", "r");
        char line[512];
        while (f && fgets(line, sizeof line, f))
            fputs(line, stdout);
        if (f)
            fclose(f);
        /* Runtime addresses, one "name 0xaddr" per line, for --maps tests. */
        printf("RUNTIME main %p\n", (void *)main);
        printf("RUNTIME build_records %p\n", (void *)build_records);
        printf("RUNTIME recurse_alloc %p\n", (void *)recurse_alloc);
        printf("RUNTIME where_am_i_return %p\n", where_am_i());
        printf("RUNTIME nd_make_table %p\n", (void *)nd_make_table);
        printf("RUNTIME nd_dup_string %p\n", (void *)nd_dup_string);
        printf("RUNTIME g_counter %p\n", (void *)&g_counter);
        printf("RUNTIME g_bss_buf %p\n", (void *)g_bss_buf);
        printf("RUNTIME g_banner %p\n", (void *)g_banner);
        printf("RUNTIME nd_data_version %p\n", (void *)&nd_data_version);
        printf("RUNTIME nd_bss_counter %p\n", (void *)&nd_bss_counter);
        printf("RUNTIME nd_rodata_name %p\n", (void *)nd_rodata_name);
    }
    printf("%s: %d records, counter %d, bss %ld, data %d\n", g_banner, nkeep, g_counter,
           g_bss_buf[0] + nd_bss_counter, nd_data_version);
    return 0;
}
