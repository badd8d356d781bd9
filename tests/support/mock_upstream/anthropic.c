/* mock_upstream/anthropic.c - Anthropic Messages API answers: the whole
 * message object and the SSE event sequence message_start,
 * content_block_start, ping, content_block_delta..., content_block_stop,
 * message_delta, message_stop (or an error event), each as
 * "event: <name>\ndata: <json>\n\n". Pure formatting; the reply's text
 * cursor advances on EV_PIECE. */
#include <inttypes.h>

#include "mock.h"

void anthropic_event_counts(const reply_t *st, uint32_t *npre, uint32_t *ntail)
{
    (void)st;
    *npre = 3;  /* message_start, content_block_start, ping */
    *ntail = 3; /* content_block_stop, message_delta, message_stop */
}

static void event(const char *name, gw_buf_t *out)
{
    gw_buf_printf(out, "event: %s\ndata: {\"type\":\"%s\"", name, name);
}

void anthropic_event(reply_t *st, int ev, uint32_t i, gw_buf_t *out)
{
    if (ev == EV_PRE && i == 0) {
        event("message_start", out);
        gw_buf_printf(out, ",\"message\":{\"id\":\"msg_mock%" PRIu64 "\",\"type\":\"message\","
                           "\"role\":\"assistant\",\"model\":\"%s\",\"content\":[],"
                           "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":"
                           "{\"input_tokens\":%u,\"output_tokens\":1}}}\n\n",
                      st->n, st->model, st->prompt_tokens);
    } else if (ev == EV_PRE && i == 1) {
        event("content_block_start", out);
        if (st->tool)
            gw_buf_printf(out, ",\"index\":0,\"content_block\":{\"type\":\"tool_use\","
                               "\"id\":\"toolu_mock%" PRIu64 "\",\"name\":\"%s\","
                               "\"input\":{}}}\n\n",
                          st->n, st->tool_name);
        else
            gw_buf_puts(out, ",\"index\":0,\"content_block\":{\"type\":\"text\","
                             "\"text\":\"\"}}\n\n");
    } else if (ev == EV_PRE) {
        event("ping", out);
        gw_buf_puts(out, "}\n\n");
    } else if (ev == EV_PIECE) {
        event("content_block_delta", out);
        gw_buf_puts(out, st->tool ? ",\"index\":0,\"delta\":{\"type\":\"input_json_delta\","
                                    "\"partial_json\":\""
                                  : ",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"");
        text_piece(&st->text, text_piece_chars(&st->text, i, st->pieces), out);
        gw_buf_puts(out, "\"}}\n\n");
    } else if (ev == EV_TAIL && i == 0) {
        event("content_block_stop", out);
        gw_buf_puts(out, ",\"index\":0}\n\n");
    } else if (ev == EV_TAIL && i == 1) {
        event("message_delta", out);
        gw_buf_printf(out, ",\"delta\":{\"stop_reason\":\"%s\",\"stop_sequence\":null},"
                           "\"usage\":{\"output_tokens\":%u}}\n\n",
                      st->tool ? "tool_use" : "end_turn", st->completion_tokens);
    } else if (ev == EV_TAIL) {
        event("message_stop", out);
        gw_buf_puts(out, "}\n\n");
    } else {
        event("error", out);
        gw_buf_printf(out, ",\"error\":{\"type\":\"overloaded_error\",\"message\":\"mock: stream "
                           "failure injected after %u chunks (stream_error_after)\"}}\n\n",
                      st->next);
    }
}

void anthropic_body(reply_t *st, gw_buf_t *out)
{
    gw_buf_printf(out, "{\"id\":\"msg_mock%" PRIu64 "\",\"type\":\"message\","
                       "\"role\":\"assistant\",\"model\":\"%s\",\"content\":[",
                  st->n, st->model);
    if (st->tool) {
        /* input is an object: the arguments' raw JSON, not a string */
        gw_buf_printf(out, "{\"type\":\"tool_use\",\"id\":\"toolu_mock%" PRIu64 "\","
                           "\"name\":\"%s\",\"input\":%s}",
                      st->n, st->tool_name, st->text.prefix);
    } else {
        gw_buf_puts(out, "{\"type\":\"text\",\"text\":\"");
        text_piece(&st->text, st->text.total_chars, out);
        gw_buf_puts(out, "\"}");
    }
    gw_buf_printf(out, "],\"stop_reason\":\"%s\",\"stop_sequence\":null,\"usage\":"
                       "{\"input_tokens\":%u,\"output_tokens\":%u}}",
                  st->tool ? "tool_use" : "end_turn", st->prompt_tokens, st->completion_tokens);
}
