/* lheap: C program whose heap is profiled by gperftools (HEAPPROFILE) and by
 * jemalloc (prof.dump) for the legacy-format fixtures.
 * Built with gcc -O2 -g, as PIE (lheap) and non-PIE (lheap.nopie), linked
 * against liblegacy.so and libpthread. It links no allocator: the allocator
 * is LD_PRELOADed and its dump function is looked up with dlsym.
 *
 * Allocation sites (all deterministic; sizes in bytes):
 *   build_records   16 x 4096 kept, malloc reached through the always_inline
 *                   helpers make_buffer -> raw_alloc (three frames at one PC)
 *   recurse_alloc   recursive, 6 levels, 112 each, kept
 *   load_library_data  calls into liblegacy.so: ll_make_table (header 24 +
 *                   calloc 32*16*8 = 4096), two ll_dup_string; one more
 *                   table (24 + 512) that is freed again
 *   big_alloc       one 8 MiB block, kept
 *   churn           2000 x 1000, every 100th kept, the rest freed
 *   grow_array      realloc doubling 16 -> 65536, the final block kept
 *   worker (2 pthreads)  200 x (512 + 256*id) kept, 500 x 3000 freed; the
 *                   threads stay alive (parked on a barrier) while the
 *                   profile is dumped, so jemalloc has per-thread data.
 *
 * Usage: lheap [JEMALLOC_DUMP_PATH]
 *   Under gperftools (HeapProfilerDump present): dumps "lheap-final" to the
 *   HEAPPROFILE prefix. Under jemalloc (mallctl present): mallctl("prof.dump")
 *   to JEMALLOC_DUMP_PATH (default "lheap.jeheap"). Otherwise dumps nothing. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liblegacy.h"

/* Global (not static) so the compiler keeps every allocation. */
void *lheap_keep[4096];
int lheap_nkeep;
long lheap_counter;
volatile unsigned char lheap_sink;

static void remember(void *p)
{
    if (lheap_nkeep < (int)(sizeof lheap_keep / sizeof lheap_keep[0]))
        lheap_keep[lheap_nkeep++] = p;
}

/* Touches a block so malloc/free pairs cannot be optimised away. */
static void touch(void *p, size_t n)
{
    memset(p, (int)(n & 0x7f), n < 64 ? n : 64);
    lheap_sink += ((unsigned char *)p)[n / 2 < 64 ? n / 2 : 63];
}

static inline __attribute__((always_inline)) void *raw_alloc(size_t n)
{
    lheap_counter++;
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
        remember(make_buffer(4096, 'a' + (i % 26)));
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
    lheap_counter += n->depth;
    return n;
}

__attribute__((noinline)) void load_library_data(void)
{
    remember(ll_make_table(32, 16));
    remember(ll_dup_string("lheap: legacy heap fixture"));
    remember(ll_dup_string("liblegacy"));
    struct ll_table *tmp = ll_make_table(8, 8);
    touch(tmp->cells, 64 * sizeof(double));
    ll_free_table(tmp);
}

__attribute__((noinline)) void *big_alloc(size_t n)
{
    void *p = malloc(n);
    touch(p, n);
    return p;
}

__attribute__((noinline)) void churn(int count, size_t size)
{
    void *batch[100];
    for (int i = 0; i < count; i++) {
        void *p = malloc(size);
        touch(p, size);
        batch[i % 100] = p;
        if (i % 100 == 99) {
            remember(batch[0]);
            for (int j = 1; j < 100; j++)
                free(batch[j]);
        }
    }
}

__attribute__((noinline)) void *grow_array(size_t final_size)
{
    size_t n = 16;
    char *p = malloc(n);
    touch(p, n);
    while (n < final_size) {
        n *= 2;
        p = realloc(p, n);
        touch(p, n);
    }
    return p;
}

static pthread_barrier_t allocated, dumped;

struct worker_arg {
    int id;
    void *kept[200];
};

__attribute__((noinline)) void worker_allocate(struct worker_arg *a)
{
    for (int i = 0; i < 200; i++) {
        a->kept[i] = malloc(512 + 256 * (size_t)a->id);
        touch(a->kept[i], 512);
    }
    for (int i = 0; i < 500; i++) {
        void *p = malloc(3000);
        touch(p, 3000);
        free(p);
    }
}

static void *worker(void *arg)
{
    worker_allocate(arg);
    pthread_barrier_wait(&allocated);
    pthread_barrier_wait(&dumped); /* stay alive while main dumps */
    return NULL;
}

static void dump_profile(const char *jemalloc_path)
{
    void (*heap_profiler_dump)(const char *) =
        (void (*)(const char *))dlsym(RTLD_DEFAULT, "HeapProfilerDump");
    int (*mallctl)(const char *, void *, size_t *, void *, size_t) =
        (int (*)(const char *, void *, size_t *, void *, size_t))dlsym(RTLD_DEFAULT, "mallctl");
    if (heap_profiler_dump) {
        heap_profiler_dump("lheap-final");
    } else if (mallctl) {
        const char *path = jemalloc_path;
        int err = mallctl("prof.dump", NULL, NULL, (void *)&path, sizeof path);
        if (err != 0) {
            fprintf(stderr, "lheap: mallctl(prof.dump, %s) failed: %d\n", path, err);
            exit(1);
        }
    } else {
        fprintf(stderr, "lheap: no allocator dump function found\n");
    }
}

int main(int argc, char **argv)
{
    const char *jemalloc_path = argc > 1 ? argv[1] : "lheap.jeheap";
    pthread_t threads[2];
    struct worker_arg args[2];

    pthread_barrier_init(&allocated, NULL, 3);
    pthread_barrier_init(&dumped, NULL, 3);

    build_records(16);
    remember(recurse_alloc(5));
    load_library_data();
    remember(big_alloc(8 << 20));
    churn(2000, 1000);
    remember(grow_array(65536));

    for (int i = 0; i < 2; i++) {
        args[i].id = i + 1;
        pthread_create(&threads[i], NULL, worker, &args[i]);
    }
    pthread_barrier_wait(&allocated);
    dump_profile(jemalloc_path);
    pthread_barrier_wait(&dumped);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);

    printf("lheap: %d blocks kept, counter %ld, sink %d\n", lheap_nkeep, lheap_counter,
           lheap_sink);
    return 0;
}
