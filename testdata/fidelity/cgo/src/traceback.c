/* Minimal runtime.SetCgoTraceback hooks, so that the Go runtime's stacks (and
 * so its heap profile) include the C frames between a Go -> C call and the C ->
 * Go callback. No symbolizer is registered: the runtime leaves those frames
 * unsymbolized in the profile.
 *
 * The context hook runs on the C stack when C calls into Go (from the exported
 * function's C wrapper, via _cgo_wait_runtime_init_done) and records that C
 * stack with libgcc's unwinder; the traceback hook copies the recorded PCs out.
 * Recorded PCs are return addresses minus 1 (inside the call instruction), as
 * the SetCgoTraceback documentation asks. */
#include <stdint.h>
#include <stdlib.h>
#include <unwind.h>
#include "crec.h"

#define MAXPCS 64

struct cgodemo_ctx {
    uintptr_t n;
    uintptr_t pcs[MAXPCS];
};

struct unwind_state {
    struct cgodemo_ctx *ctx;
    int skip;
};

static _Unwind_Reason_Code record(struct _Unwind_Context *uc, void *p) {
    struct unwind_state *st = p;
    int before = 0;
    uintptr_t pc = _Unwind_GetIPInfo(uc, &before);
    if (pc == 0) {
        return _URC_END_OF_STACK;
    }
    if (st->skip > 0) {
        st->skip--;
        return _URC_NO_REASON;
    }
    if (!before) {
        pc--;
    }
    if (st->ctx->n >= MAXPCS) {
        return _URC_END_OF_STACK;
    }
    st->ctx->pcs[st->ctx->n++] = pc;
    return _URC_NO_REASON;
}

struct context_arg {
    uintptr_t Context;
};

void cgodemo_context(void *p) {
    struct context_arg *arg = p;
    if (arg->Context != 0) {
        free((void *)arg->Context);
        arg->Context = 0;
        return;
    }
    struct cgodemo_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        return;
    }
    /* Skip this function and _cgo_wait_runtime_init_done, its caller. The
     * first recorded frame is the exported function's C wrapper (goAlloc). */
    struct unwind_state st = {ctx, 2};
    _Unwind_Backtrace(record, &st);
    arg->Context = (uintptr_t)ctx;
}

struct traceback_arg {
    uintptr_t Context;
    uintptr_t SigContext;
    uintptr_t *Buf;
    uintptr_t Max;
};

void cgodemo_traceback(void *p) {
    struct traceback_arg *arg = p;
    uintptr_t i = 0;
    if (arg->Context != 0) {
        struct cgodemo_ctx *ctx = (struct cgodemo_ctx *)arg->Context;
        for (; i < ctx->n && i + 1 < arg->Max; i++) {
            arg->Buf[i] = ctx->pcs[i];
        }
    }
    /* Context 0 (a signal in C code): no C frames. */
    if (i < arg->Max) {
        arg->Buf[i] = 0;
    }
}
