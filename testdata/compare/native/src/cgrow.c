/* cgrow: a C program whose heap is dumped twice by gperftools' heap profiler
 * (run with LD_PRELOAD=libtcmalloc.so.4 HEAPPROFILE=...), so that pprofsym's
 * base/diff_base and traces can be checked on a real pair of native dumps.
 *
 * Between the two dumps:
 *   - cache_put grows a chained hash table (node via the always_inline helper
 *     chain new_node -> zalloc, key via libc's strdup, so the leaf frame of
 *     that site is inside libc): 2 000 entries at dump 1, 6 000 at dump 2;
 *   - fill_pool's 16 x 64 KiB buffers are freed (they exist only in dump 1);
 *   - grow_log adds 1 MiB chunks: 1 before dump 1, 3 more before dump 2;
 *   - load_config (one 2 MiB table, one fopen'd FILE kept open) is steady;
 *   - sort_scratch runs qsort on a 64 KiB array: glibc's qsort mallocs and
 *     frees a temporary buffer (alloc only, leaf frame in libc), before each
 *     dump, so both dumps have alloc != inuse (four sample types each).
 * HeapProfilerDump is looked up with dlsym, so the binary does not link
 * tcmalloc; without the preload it just runs. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024

struct node {
    struct node *next;
    char *key;
    long value;
    char payload[40];
};

struct node *cgrow_buckets[NBUCKETS];
char *cgrow_pool[16];
char *cgrow_log[16];
int cgrow_nlog;
char *cgrow_config;
FILE *cgrow_config_file;
volatile long cgrow_sink;

static inline __attribute__((always_inline)) void *zalloc(size_t n)
{
    void *p = malloc(n);
    memset(p, 0, n);
    return p;
}

static inline __attribute__((always_inline)) struct node *new_node(const char *key, long value)
{
    struct node *n = zalloc(sizeof *n);
    n->key = strdup(key);
    n->value = value;
    return n;
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

__attribute__((noinline)) void cache_put(const char *key, long value)
{
    unsigned b = hash(key) % NBUCKETS;
    struct node *n = new_node(key, value);
    n->next = cgrow_buckets[b];
    cgrow_buckets[b] = n;
}

__attribute__((noinline)) void fill_cache(int from, int to)
{
    char key[32];
    for (int i = from; i < to; i++) {
        snprintf(key, sizeof key, "user:%d", i);
        cache_put(key, i);
    }
}

__attribute__((noinline)) void fill_pool(void)
{
    for (int i = 0; i < 16; i++)
        cgrow_pool[i] = zalloc(64 << 10);
}

__attribute__((noinline)) void release_pool(void)
{
    for (int i = 0; i < 16; i++) {
        free(cgrow_pool[i]);
        cgrow_pool[i] = NULL;
    }
}

__attribute__((noinline)) void grow_log(int chunks)
{
    for (int i = 0; i < chunks && cgrow_nlog < 16; i++)
        cgrow_log[cgrow_nlog++] = zalloc(1 << 20);
}

__attribute__((noinline)) void load_config(void)
{
    cgrow_config = zalloc(2 << 20);
    cgrow_config_file = fopen("/proc/self/stat", "r");
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

__attribute__((noinline)) void sort_scratch(int seed)
{
    enum { N = 16384 };
    int *v = malloc(N * sizeof *v);
    for (int i = 0; i < N; i++)
        v[i] = (i * 7919 + seed) % N;
    qsort(v, N, sizeof *v, cmp_int);
    cgrow_sink += v[N / 2];
    free(v);
}

int main(void)
{
    void (*dump)(const char *) = (void (*)(const char *))dlsym(RTLD_DEFAULT, "HeapProfilerDump");

    load_config();
    fill_cache(0, 2000);
    fill_pool();
    grow_log(1);
    sort_scratch(1);
    if (dump)
        dump("cgrow-1");

    fill_cache(2000, 6000);
    release_pool();
    grow_log(3);
    sort_scratch(2);
    if (dump)
        dump("cgrow-2");
    return 0;
}
