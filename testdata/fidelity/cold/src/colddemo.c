/* colddemo: gcc -O2 splits the unlikely paths of main and of foo into separate
 * partitions in .text.unlikely, named main.cold and foo.cold in the symbol
 * table. A block that calls a function declared cold is predicted never
 * executed, so the allocation next to that call moves with it. The program
 * does take those paths at run time (argc >= 1 always holds, the compiler does
 * not know it), so the gperftools heap profile has stacks through both cold
 * parts: malloc called from main.cold and from foo.cold, and cold_note (which
 * allocates too) called from them. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *keep[64];
int nkeep;

/* Declared cold: calls to it, and the blocks holding them, go to .text.unlikely. */
__attribute__((cold, noinline)) void cold_note(const char *what, size_t n)
{
    char *copy = malloc(n + strlen(what) + 1);
    memcpy(copy, what, strlen(what) + 1);
    keep[nkeep++] = copy;
}

/* Inlined into the cold block of foo: an inline frame inside foo.cold. */
static inline __attribute__((always_inline)) void *cold_buffer(size_t n)
{
    void *p = malloc(n);
    memset(p, 0x5a, n);
    return p;
}

__attribute__((noinline)) int foo(int n)
{
    int sum = 0;
    for (int i = 0; i < n; i++)
        sum += i * 3;
    if (sum > n) {
        /* Unlikely path (predicted never executed): moves to foo.cold. */
        keep[nkeep++] = cold_buffer((size_t)n * 16);
        cold_note("foo", (size_t)n);
    }
    return sum;
}

__attribute__((noinline)) void *hot_alloc(size_t n)
{
    return malloc(n);
}

int main(int argc, char **argv)
{
    (void)argv;
    keep[nkeep++] = hot_alloc(1000);
    int s = foo(40);
    if (argc >= 1) {
        /* Unlikely path of main: main.cold. */
        keep[nkeep++] = malloc(3000 + (size_t)s % 7);
        cold_note("main", 500);
    }
    void (*dump)(const char *) = (void (*)(const char *))dlsym(RTLD_DEFAULT, "HeapProfilerDump");
    if (dump != NULL)
        dump("final");
    else
        fprintf(stderr, "colddemo: HeapProfilerDump not found (run with LD_PRELOAD=libtcmalloc.so.4)\n");
    printf("%d %d\n", nkeep, s);
    return 0;
}
