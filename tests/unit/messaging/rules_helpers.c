#define _GNU_SOURCE
#include "rules_helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

void rules_setup(void)
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
    setenv("OPENCLAW_STATE_DIR", "/tmp/gw-messaging-rules-test-unused", 1);
}

static void dump(const gw_diag_t *d)
{
    for (size_t i = 0; i < d->count; i++)
        fprintf(stderr, "  diag[%zu]: %s\n", i, d->msgs[i]);
}

gw_config_t *rules_load(const char *yaml)
{
    gw_diag_t d = GW_DIAG_INIT;
    gw_config_t *c = NULL;
    int rc = gw_config_load_string(NULL, "t.yaml", yaml, &c, &d);
    if (rc != 0 || d.count != 0)
        dump(&d);
    cr_assert_eq(rc, 0, "load failed: %d", rc);
    cr_assert_not_null(c);
    cr_assert_eq(d.count, 0);
    gw_diag_free(&d);
    return c;
}

void rules_expect(const gw_diag_t *d, const char *msg)
{
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->msgs[i], msg) == 0)
            return;
    dump(d);
    cr_assert_fail("expected message not found:\n  want: %s", msg);
}

void rules_expect_count(const gw_diag_t *d, size_t n)
{
    if (d->count != n)
        dump(d);
    cr_assert_eq(d->count, n, "expected %zu messages, got %zu", n, d->count);
}

gw_envelope_t rules_env(int peer_kind, const char *channel, const char *account,
                        const char *peer_id, const char *sender_id, const char *text)
{
    gw_envelope_t e;
    memset(&e, 0, sizeof(e));
    e.peer_kind = peer_kind;
    e.channel = (char *)channel;
    e.account = (char *)account;
    e.peer_id = (char *)peer_id;
    e.sender_id = (char *)sender_id;
    e.text = (char *)text;
    e.message_id = (char *)"m1";
    e.received_ms = 1700000000000ull;
    return e;
}
