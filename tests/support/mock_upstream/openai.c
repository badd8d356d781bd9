/* mock_upstream/openai.c - OpenAI chat completion answers: the whole
 * chat.completion object and the chat.completion.chunk SSE events, with the
 * field names and order of the public API (SDKs parse them). Pure
 * formatting; the reply's text cursor advances on EV_PIECE. */
#include <inttypes.h>

#include "mock.h"

/* Appends the "id".."model" members shared by every object. */
static void head(const reply_t *st, const char *object, gw_buf_t *out)
{
    gw_buf_printf(out, "{\"id\":\"chatcmpl-mock%" PRIu64 "\",\"object\":\"%s\",\"created\":%" PRId64
                       ",\"model\":\"%s\",\"system_fingerprint\":\"fp_mock\"",
                  st->n, object, st->created, st->model);
}

static void usage(const reply_t *st, gw_buf_t *out)
{
    gw_buf_printf(out, "\"usage\":{\"prompt_tokens\":%u,\"completion_tokens\":%u,"
                       "\"total_tokens\":%u}",
                  st->prompt_tokens, st->completion_tokens,
                  st->prompt_tokens + st->completion_tokens);
}

void openai_event_counts(const reply_t *st, uint32_t *npre, uint32_t *ntail)
{
    *npre = 1;                            /* the role delta */
    *ntail = st->include_usage ? 3 : 2;   /* finish [, usage], [DONE] */
}

/* A chunk with one choice: delta (a JSON object) and finish_reason. The
 * delta text is written by the caller between the two calls. */
static void chunk_open(reply_t *st, gw_buf_t *out)
{
    if (st->event_head.len == 0) { /* the same for every chunk: built once */
        gw_buf_puts(&st->event_head, "data: ");
        head(st, "chat.completion.chunk", &st->event_head);
        gw_buf_puts(&st->event_head, ",\"choices\":[{\"index\":0,\"delta\":");
    }
    gw_buf_append(out, st->event_head.data, st->event_head.len);
}

static void chunk_close(const reply_t *st, const char *finish, gw_buf_t *out)
{
    gw_buf_printf(out, ",\"logprobs\":null,\"finish_reason\":%s}]%s}\n\n", finish,
                  st->include_usage ? ",\"usage\":null" : "");
}

void openai_event(reply_t *st, int ev, uint32_t i, gw_buf_t *out)
{
    switch (ev) {
    case EV_PRE:
        chunk_open(st, out);
        if (st->tool)
            gw_buf_printf(out, "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":"
                               "[{\"index\":0,\"id\":\"call_mock%" PRIu64 "\","
                               "\"type\":\"function\",\"function\":{\"name\":\"%s\","
                               "\"arguments\":\"\"}}],\"refusal\":null}",
                          st->n, st->tool_name);
        else
            gw_buf_puts(out, "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}");
        chunk_close(st, "null", out);
        return;
    case EV_PIECE:
        chunk_open(st, out);
        gw_buf_puts(out, st->tool ? "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\""
                                  : "{\"content\":\"");
        text_piece(&st->text, text_piece_chars(&st->text, i, st->pieces), out);
        gw_buf_puts(out, st->tool ? "\"}}]}" : "\"}");
        chunk_close(st, "null", out);
        return;
    case EV_TAIL:
        if (i == 0) {
            chunk_open(st, out);
            gw_buf_puts(out, "{}");
            chunk_close(st, st->tool ? "\"tool_calls\"" : "\"stop\"", out);
        } else if (i == 1 && st->include_usage) {
            gw_buf_puts(out, "data: ");
            head(st, "chat.completion.chunk", out);
            gw_buf_puts(out, ",\"choices\":[],");
            usage(st, out);
            gw_buf_puts(out, "}\n\n");
        } else {
            gw_buf_puts(out, "data: [DONE]\n\n");
        }
        return;
    default:
        gw_buf_printf(out, "data: {\"error\":{\"message\":\"mock: stream failure injected after "
                           "%u chunks (stream_error_after)\",\"type\":\"server_error\","
                           "\"param\":null,\"code\":\"mock_stream_error\"}}\n\n",
                      st->next);
    }
}

void openai_body(reply_t *st, gw_buf_t *out)
{
    head(st, "chat.completion", out);
    if (st->tool) {
        gw_buf_printf(out, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                           "\"content\":null,\"tool_calls\":[{\"id\":\"call_mock%" PRIu64 "\","
                           "\"type\":\"function\",\"function\":{\"name\":\"%s\",\"arguments\":\"",
                      st->n, st->tool_name);
        text_piece(&st->text, st->text.total_chars, out);
        gw_buf_puts(out, "\"}}],\"refusal\":null,\"annotations\":[]},\"logprobs\":null,"
                         "\"finish_reason\":\"tool_calls\"}],");
    } else {
        gw_buf_puts(out, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                         "\"content\":\"");
        text_piece(&st->text, st->text.total_chars, out);
        gw_buf_puts(out, "\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,"
                         "\"finish_reason\":\"stop\"}],");
    }
    usage(st, out);
    gw_buf_putc(out, '}');
}
