/* Unit test for the example plugin, in the SDK's test host. */
#include <openclaw/testing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "FAIL %s:%d: %s\n%s", __FILE__, __LINE__, #cond,                   \
                    oc_test_host_errors(th));                                                  \
            return 1;                                                                          \
        }                                                                                      \
    } while (0)

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s path/to/auth-header.so\n", argv[0]);
        return 2;
    }
    oc_test_host_t *th = oc_test_host_new("auth:\n  headerToken: example-token-1\n");
    CHECK(th != NULL);
    CHECK(oc_test_host_load(th, argv[1]) == OC_OK);
    const oc_auth_ops_t *ops = oc_test_host_kind_ops(th, "auth-header");
    void *st = oc_test_host_state(th, "auth-header");
    oc_auth_request_t req = {.struct_size = sizeof(req), .api_key = "example-token-1"};
    oc_auth_result_t res = {.struct_size = sizeof(res)};
    CHECK(ops->authenticate(st, &req, &res) == OC_OK);
    CHECK(strcmp(res.principal, "headerToken") == 0);
    req.api_key = "nope";
    CHECK(ops->authenticate(st, &req, &res) == OC_EACCES);
    req.api_key = NULL;
    CHECK(ops->authenticate(st, &req, &res) == OC_DECLINED);
    char *page = oc_test_host_metrics(th);
    CHECK(strstr(page, "openclaw_header_auth_decisions_total{result=\"allowed\"} 1") != NULL);
    free(page);
    oc_test_host_free(th);

    /* A bad value is reported with its position. */
    th = oc_test_host_new("auth:\n  headerToken: [not, a, string]\n");
    CHECK(th != NULL);
    CHECK(oc_test_host_load(th, argv[1]) == OC_ECONFIG);
    CHECK(strstr(oc_test_host_errors(th), "test.yaml:2:16: auth.headerToken") != NULL);
    oc_test_host_free(th);
    printf("2 passed, 0 failed\n");
    return 0;
}
