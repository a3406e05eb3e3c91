#ifndef CGODEMO_CREC_H
#define CGODEMO_CREC_H
#include <stdint.h>

/* C recursion that calls back into Go (goAlloc, exported from main.go). */
int c_recurse(int depth, int size);

/* runtime.SetCgoTraceback hooks (see traceback.c). */
void cgodemo_traceback(void *arg);
void cgodemo_context(void *arg);
#endif
