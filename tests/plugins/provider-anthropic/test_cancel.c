/* provider-anthropic: cancel, from outside and from inside on_chunk, and
 * on_chunk asking to stop. After cancel nothing is called back, whatever
 * the upstream still sends. */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"

#define START                                                                                  \
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}\n\n"  \
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"         \
    "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
#define TEXT(t)                                                                                \
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"         \
    "\"delta\":{\"type\":\"text_delta\",\"text\":\"" t "\"}}\n\n"
#define END                                                                                    \
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"      \
    "\"end_turn\"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"

static int has_request(void *arg)
{
    return gw_ths_request_count(((fx_t *)arg)->srv) > 0;
}

Test(ant_cancel, before_the_answer)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    gw_ths_route(f.srv, MESSAGES,
                 &(gw_ths_response_t){.delay_ms = 300,
                                      .headers = "Content-Type: application/json\r\n",
                                      .body = MESSAGE_BODY});
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
    cr_assert(wait_until(&f, has_request, &f, 5000));
    f.ops->cancel(f.st, r.call);
    run_for(&f, 600); /* past the answer */
    cr_expect_eq(r.ndone, 0, "on_done after cancel");
    rec_free(&r);
    fx_free(&f);
}

Test(ant_cancel, right_after_chat)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    route_json(&f, 200, NULL, MESSAGE_BODY);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 100), OC_PENDING);
    f.ops->cancel(f.st, r.call); /* also stops the first-token timer */
    run_for(&f, 300);
    cr_expect_eq(r.ndone, 0);
    cr_expect_eq(r.nchunks, 0);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_cancel, mid_stream_from_outside)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    const char *pieces[] = {START, TEXT("b"), END};
    route_sse(&f, pieces, 3, 0, 1);
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait_chunks(&f, &r, 1, 5000));
    f.ops->cancel(f.st, r.call);
    gw_ths_release(f.srv);
    gw_ths_release(f.srv);
    gw_ths_release(f.srv);
    run_for(&f, 300);
    cr_expect_eq(r.nchunks, 1);
    cr_expect_eq(r.ndone, 0);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_cancel, from_inside_on_chunk)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    /* All in one piece: the rest is parsed in the same read. */
    const char *pieces[] = {START TEXT("a") TEXT("b") TEXT("c") END};
    route_sse(&f, pieces, 1, 0, 0);
    rec_t r = {0};
    r.cancel_at = 2;
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 0), OC_PENDING);
    run_for(&f, 400);
    cr_expect_eq(r.nchunks, 2);
    cr_expect_eq(r.ndone, 0);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_cancel, from_inside_the_last_chunk)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    /* The finish chunk is the last one before message_stop: canceling in
     * it must not let on_done through. */
    const char *pieces[] = {START TEXT("a") END};
    route_sse(&f, pieces, 1, 0, 0);
    rec_t r = {0};
    r.cancel_at = 3;
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 0), OC_PENDING);
    run_for(&f, 300);
    cr_expect_eq(r.nchunks, 3);
    cr_expect_eq(r.ndone, 0);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_cancel, on_chunk_returning_canceled)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    const char *pieces[] = {START TEXT("a") TEXT("b") TEXT("c") END};
    route_sse(&f, pieces, 1, 0, 0);
    rec_t r = {0};
    r.return_cancel_at = 1;
    cr_assert_eq(rec_start(&f, &r, NULL, 1, NULL, 0, 0), OC_PENDING);
    cr_assert(rec_wait(&f, &r, 5000));
    run_for(&f, 100);
    cr_expect_eq(r.nchunks, 1);
    cr_expect_eq(r.ndone, 1);
    cr_expect_eq(r.res.status, OC_ECANCELED);
    cr_expect_eq(r.res.error_class, OC_PROV_ERR_CANCELED);
    rec_free(&r);
    fx_free(&f);
}

Test(ant_cancel, during_a_retry_backoff)
{
    fx_t f = {0};
    fx_up(&f, "    maxRetries: 3\n");
    route_json(&f, 529, "retry-after: 0.3\r\n", "{}");
    rec_t r = {0};
    cr_assert_eq(rec_start(&f, &r, NULL, 0, NULL, 0, 0), OC_PENDING);
    cr_assert(wait_until(&f, has_request, &f, 5000));
    run_for(&f, 100); /* the 529 arrived; the retry waits */
    f.ops->cancel(f.st, r.call);
    run_for(&f, 500);
    cr_expect_eq(r.ndone, 0);
    cr_expect_eq(gw_ths_request_count(f.srv), 1, "no retry after cancel");
    rec_free(&r);
    fx_free(&f);
}

Test(ant_cancel, many_calls_then_stop)
{
    fx_t f = {0};
    fx_up(&f, NULL);
    gw_ths_route(f.srv, MESSAGES,
                 &(gw_ths_response_t){.delay_ms = 100,
                                      .headers = "Content-Type: application/json\r\n",
                                      .body = MESSAGE_BODY});
    rec_t r[8] = {{0}};
    for (int i = 0; i < 8; i++)
        cr_assert_eq(rec_start(&f, &r[i], NULL, 0, NULL, 0, 0), OC_PENDING);
    for (int i = 0; i < 8; i += 2)
        f.ops->cancel(f.st, r[i].call);
    oc_test_host_free(f.th); /* stop waits for the four left */
    f.th = NULL;
    for (int i = 0; i < 8; i++) {
        cr_expect_eq(r[i].ndone, i % 2, "call %d", i);
        rec_free(&r[i]);
    }
    fx_free(&f);
}
