/* template.c - provider-mock: the reply template.
 *
 * Placeholders are {{last}}, {{count}} and {{model}} (spaces inside the
 * braces allowed); anything else between {{ and }} is refused at init, so
 * a typo shows up as a config error rather than as literal text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

static int add(mock_template_t *t, int kind, size_t off, size_t len)
{
    if (kind == MOCK_SEG_TEXT && len == 0)
        return 0;
    mock_seg_t *s = realloc(t->segs, (t->nsegs + 1) * sizeof *s);
    if (s == NULL)
        return -1;
    t->segs = s;
    t->segs[t->nsegs++] = (mock_seg_t){kind, off, len};
    return 0;
}

int mock_template_parse(mock_template_t *t, const char *text, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->text = strdup(text);
    if (t->text == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *s = t->text;
    size_t lit = 0, i = 0, n = strlen(s);
    while (i < n) {
        if (s[i] != '{' || s[i + 1] != '{') {
            i++;
            continue;
        }
        const char *close = strstr(s + i + 2, "}}");
        if (close == NULL) {
            snprintf(err, errlen, "\"{{\" at offset %zu is never closed with \"}}\"", i);
            return -1;
        }
        size_t a = i + 2, b = (size_t)(close - s);
        while (a < b && s[a] == ' ')
            a++;
        while (b > a && s[b - 1] == ' ')
            b--;
        int kind = 0;
        if (b - a == 4 && memcmp(s + a, "last", 4) == 0)
            kind = MOCK_SEG_LAST;
        else if (b - a == 5 && memcmp(s + a, "count", 5) == 0)
            kind = MOCK_SEG_COUNT;
        else if (b - a == 5 && memcmp(s + a, "model", 5) == 0)
            kind = MOCK_SEG_MODEL;
        if (kind == 0) {
            snprintf(err, errlen, "unknown placeholder {{%.*s}} (use {{last}}, {{count}} or "
                                  "{{model}})", (int)(b - a > 40 ? 40 : b - a), s + a);
            return -1;
        }
        if (add(t, MOCK_SEG_TEXT, lit, i - lit) != 0 || add(t, kind, 0, 0) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        i = (size_t)(close - s) + 2;
        lit = i;
    }
    if (add(t, MOCK_SEG_TEXT, lit, n - lit) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void mock_template_render(const mock_template_t *t, const char *last, size_t count,
                          const char *model, mock_buf_t *out)
{
    mock_buf_append(out, "", 0); /* "" rather than NULL for an empty reply */
    for (size_t i = 0; i < t->nsegs; i++) {
        const mock_seg_t *g = &t->segs[i];
        switch (g->kind) {
        case MOCK_SEG_TEXT: mock_buf_append(out, t->text + g->off, g->len); break;
        case MOCK_SEG_LAST: mock_buf_puts(out, last); break;
        case MOCK_SEG_COUNT: mock_buf_printf(out, "%zu", count); break;
        case MOCK_SEG_MODEL: mock_buf_puts(out, model); break;
        }
    }
}

void mock_template_free(mock_template_t *t)
{
    free(t->text);
    free(t->segs);
    memset(t, 0, sizeof *t);
}
