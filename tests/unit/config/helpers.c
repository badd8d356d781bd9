#define _GNU_SOURCE
#include "helpers.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static char home[256];

void cfg_setup(void)
{
    /* Collect names first: unsetenv while walking environ skips entries. */
    char *names[256];
    size_t n = 0;
    for (char **e = environ; *e && n < 256; e++)
        if (strncmp(*e, "OPENCLAW_", 9) == 0)
            names[n++] = strndup(*e, strcspn(*e, "="));
    for (size_t i = 0; i < n; i++) {
        unsetenv(names[i]);
        free(names[i]);
    }
    snprintf(home, sizeof(home), "/tmp/gw-config-test.XXXXXX");
    cr_assert_not_null(mkdtemp(home));
    setenv("HOME", home, 1);
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void cfg_teardown(void)
{
    if (home[0])
        nftw(home, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

const char *cfg_home(void)
{
    return home;
}

const char *cfg_write(const char *rel, const char *content)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", home, rel);
    for (char *p = path + strlen(home) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0700);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(content, f);
    fclose(f);
    return path;
}

static void dump(const gw_diag_t *d)
{
    for (size_t i = 0; i < d->count; i++)
        fprintf(stderr, "  diag[%zu]: %s\n", i, d->msgs[i]);
}

void cfg_expect(const gw_diag_t *d, const char *msg)
{
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->msgs[i], msg) == 0)
            return;
    dump(d);
    cr_assert_fail("expected message not found:\n  want: %s", msg);
}

void cfg_expect_count(const gw_diag_t *d, size_t n)
{
    if (d->count != n)
        dump(d);
    cr_assert_eq(d->count, n, "expected %zu messages, got %zu", n, d->count);
}

gw_cfg_node_t *cfg_parse_ok(const char *yaml)
{
    gw_diag_t d = GW_DIAG_INIT;
    gw_cfg_node_t *root = NULL;
    int rc = gw_cfg_parse_string("t.yaml", yaml, &root, &d);
    if (rc != 0)
        dump(&d);
    cr_assert_eq(rc, 0, "parse failed: %d", rc);
    cr_assert_not_null(root);
    gw_diag_free(&d);
    return root;
}

gw_config_t *cfg_load_ok(const gw_config_opts_t *o, const char *yaml)
{
    gw_diag_t d = GW_DIAG_INIT;
    gw_config_t *c = NULL;
    int rc = gw_config_load_string(o, "t.yaml", yaml, &c, &d);
    if (rc != 0)
        dump(&d);
    cr_assert_eq(rc, 0, "load failed: %d", rc);
    cr_assert_not_null(c);
    cr_assert_eq(d.count, 0);
    gw_diag_free(&d);
    return c;
}

void cfg_load_fail(const gw_config_opts_t *o, const char *yaml, gw_diag_t *d)
{
    gw_config_t *c = NULL;
    int rc = gw_config_load_string(o, "t.yaml", yaml, &c, d);
    cr_assert_neq(rc, 0, "load unexpectedly succeeded");
    cr_assert_null(c);
    cr_assert_gt(d->count, 0);
}
