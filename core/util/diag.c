#include "util/diag.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

void gw_diag_addv(gw_diag_t *d, const char *file, int line, int col, const char *fmt, va_list ap)
{
    gw_buf_t b = GW_BUF_INIT;
    if (file && line > 0 && col > 0)
        gw_buf_printf(&b, "%s:%d:%d: ", file, line, col);
    else if (file && line > 0)
        gw_buf_printf(&b, "%s:%d: ", file, line);
    else if (file)
        gw_buf_printf(&b, "%s: ", file);
    gw_buf_vprintf(&b, fmt, ap);
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        char **m = realloc(d->msgs, cap * sizeof(*m));
        if (m == NULL) {
            gw_buf_free(&b);
            return;
        }
        d->msgs = m;
        d->cap = cap;
    }
    d->msgs[d->count++] = gw_buf_steal(&b);
}

void gw_diag_add(gw_diag_t *d, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gw_diag_addv(d, file, line, col, fmt, ap);
    va_end(ap);
}

void gw_diag_print(const gw_diag_t *d, FILE *out)
{
    for (size_t i = 0; i < d->count; i++)
        fprintf(out, "error: %s\n", d->msgs[i]);
}

int gw_diag_contains(const gw_diag_t *d, const char *needle)
{
    for (size_t i = 0; i < d->count; i++)
        if (strstr(d->msgs[i], needle))
            return 1;
    return 0;
}

void gw_diag_free(gw_diag_t *d)
{
    for (size_t i = 0; i < d->count; i++)
        free(d->msgs[i]);
    free(d->msgs);
    d->msgs = NULL;
    d->count = d->cap = 0;
}
