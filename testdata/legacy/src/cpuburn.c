/* cpuburn: C program profiled by gperftools' CPU profiler (libprofiler,
 * CPUPROFILE=...) for the legacy binary CPU-profile fixtures.
 * Built with gcc -O2 -g (PIE), linked with -lprofiler (--no-as-needed) and
 * liblegacy.so and libm. It burns CPU for about BURN_MS milliseconds
 * (argv[1], default 1500) in a few distinct places:
 *   mix_hash     integer hashing through an always_inline helper (mix_step)
 *   sort_rounds  qsort: time in libc with our comparator cmp_long on top
 *   fib          plain recursion
 *   trig_sum     sin/exp/sqrt in libm
 *   table_rounds calls liblegacy.so's ll_make_table/ll_free_table (malloc,
 *                calloc, free inside libc)
 * The profile is written by libprofiler at exit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "liblegacy.h"

volatile unsigned long burn_sink;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline __attribute__((always_inline)) unsigned long mix_step(unsigned long h, unsigned long v)
{
    h ^= v + 0x9e3779b97f4a7c15UL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdUL;
}

__attribute__((noinline)) unsigned long mix_hash(int n)
{
    unsigned long h = 1;
    for (int i = 0; i < n; i++)
        h = mix_step(h, (unsigned long)i);
    return h;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

__attribute__((noinline)) void sort_rounds(int rounds)
{
    long v[4096];
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 4096; i++)
            v[i] = (long)mix_step((unsigned long)r, (unsigned long)i) >> 3;
        qsort(v, 4096, sizeof v[0], cmp_long);
        burn_sink += (unsigned long)v[r % 4096];
    }
}

__attribute__((noinline)) unsigned long fib(int n)
{
    return n < 2 ? (unsigned long)n : fib(n - 1) + fib(n - 2);
}

__attribute__((noinline)) double trig_sum(int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += sin(i * 0.001) * exp(-i * 1e-7) + sqrt((double)i);
    return s;
}

__attribute__((noinline)) void table_rounds(int n)
{
    for (int i = 0; i < n; i++) {
        struct ll_table *t = ll_make_table(64, 64);
        t->cells[i % 4096] = i;
        burn_sink += (unsigned long)t->cells[0];
        ll_free_table(t);
    }
}

int main(int argc, char **argv)
{
    double budget = argc > 1 ? atof(argv[1]) : 1500;
    double start = now_ms();
    int rounds = 0;
    while (now_ms() - start < budget) {
        burn_sink += mix_hash(2000000);
        sort_rounds(20);
        burn_sink += fib(24);
        burn_sink += (unsigned long)trig_sum(300000);
        table_rounds(200);
        rounds++;
    }
    printf("cpuburn: %d rounds, sink %lu\n", rounds, burn_sink);
    return 0;
}
