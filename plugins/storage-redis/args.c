/* args.c - storage-redis: an op's script arguments, copied into its block.
 *
 * A fill function describes the arguments once; rd_op_make runs it twice:
 * to measure (argv NULL), then to write into the block it allocated. The
 * caller's strings are borrowed for the call only, so everything is copied.
 * Any thread (H makes storage ops, T its internal ones). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rd.h"

void rd_arg_mem(rd_args_t *a, const char *p, size_t n)
{
    if (a->argv != NULL) {
        memcpy(a->cur, p, n);
        a->cur[n] = '\0';
        a->argv[a->argc] = a->cur;
        a->lens[a->argc] = n;
        a->cur += n + 1;
    }
    a->bytes += n + 1;
    a->argc++;
}

void rd_arg_str(rd_args_t *a, const char *s)
{
    rd_arg_mem(a, s, strlen(s));
}

/* NULL and "" must differ in the store: one marker byte says which. */
void rd_arg_opt(rd_args_t *a, const char *s)
{
    if (s == NULL) {
        rd_arg_mem(a, "-", 1);
        return;
    }
    size_t n = strlen(s);
    if (a->argv != NULL) {
        a->cur[0] = '=';
        memcpy(a->cur + 1, s, n);
        a->cur[n + 1] = '\0';
        a->argv[a->argc] = a->cur;
        a->lens[a->argc] = n + 1;
        a->cur += n + 2;
    }
    a->bytes += n + 2;
    a->argc++;
}

void rd_arg_u64(rd_args_t *a, uint64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%" PRIu64, v);
    if (a->argv == NULL) { /* measure the widest, so both passes agree */
        a->bytes += sizeof buf;
        a->argc++;
        return;
    }
    rd_arg_mem(a, buf, (size_t)n);
    a->bytes += sizeof buf - ((size_t)n + 1);
}

void rd_arg_bool(rd_args_t *a, int v)
{
    rd_arg_mem(a, v ? "1" : "0", 1);
}

rd_op_t *rd_op_make(rd_op_kind_t kind, void *data, rd_fill_fn fill, const void *in)
{
    rd_args_t m = {0};
    fill(&m, in);
    /* The op holds uint64_t members, so what follows it is 8-aligned. */
    size_t ptrs = m.argc * (sizeof(const char *) + sizeof(size_t));
    if (m.argc > SIZE_MAX / 32 || m.bytes > SIZE_MAX - sizeof(rd_op_t) - ptrs)
        return NULL;
    rd_op_t *op = calloc(1, sizeof(rd_op_t) + ptrs + m.bytes);
    if (op == NULL)
        return NULL;
    op->kind = kind;
    op->data = data;
    op->status = OC_EINTERNAL;
    op->t0_ns = rd_mono_ns();
    op->argv = (const char **)(op + 1);
    op->argvlen = (size_t *)(op->argv + m.argc);
    rd_args_t w = {.argv = op->argv, .lens = op->argvlen, .cur = (char *)(op->argvlen + m.argc)};
    fill(&w, in);
    op->argc = w.argc;
    return op;
}
