/* reply.c - provider-mock: the OpenAI JSON it answers with, and how a
 * reply is cut into stream pieces and failures are classified. */
#include <string.h>

#include "mock.h"

static void head(mock_buf_t *b, const char *id, const char *object, int64_t created,
                 const char *model)
{
    mock_buf_puts(b, "{\"id\":");
    mock_buf_json_str(b, id, strlen(id));
    mock_buf_printf(b, ",\"object\":\"%s\",\"created\":%lld,\"model\":", object,
                    (long long)created);
    mock_buf_json_str(b, model, strlen(model));
}

static void usage(mock_buf_t *b, int64_t prompt, int64_t completion)
{
    mock_buf_printf(b, ",\"usage\":{\"prompt_tokens\":%lld,\"completion_tokens\":%lld,"
                       "\"total_tokens\":%lld}",
                    (long long)prompt, (long long)completion, (long long)(prompt + completion));
}

void mock_reply_completion(mock_buf_t *b, const char *id, int64_t created, const char *model,
                           const char *content, size_t len, int64_t prompt, int64_t completion)
{
    head(b, id, "chat.completion", created, model);
    mock_buf_puts(b, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                     "\"content\":");
    mock_buf_json_str(b, content, len);
    mock_buf_puts(b, "},\"logprobs\":null,\"finish_reason\":\"stop\"}]");
    usage(b, prompt, completion);
    mock_buf_puts(b, "}");
}

void mock_reply_chunk(mock_buf_t *b, const char *id, int64_t created, const char *model,
                      const char *role, const char *content, size_t len, const char *finish,
                      int64_t prompt, int64_t completion)
{
    head(b, id, "chat.completion.chunk", created, model);
    if (role == NULL && content == NULL && finish == NULL) {
        mock_buf_puts(b, ",\"choices\":[]");
        usage(b, prompt, completion);
        mock_buf_puts(b, "}");
        return;
    }
    mock_buf_puts(b, ",\"choices\":[{\"index\":0,\"delta\":{");
    if (role != NULL) {
        mock_buf_puts(b, "\"role\":");
        mock_buf_json_str(b, role, strlen(role));
        mock_buf_puts(b, ",\"content\":\"\"");
    } else if (content != NULL) {
        mock_buf_puts(b, "\"content\":");
        mock_buf_json_str(b, content, len);
    }
    mock_buf_puts(b, "},\"logprobs\":null,\"finish_reason\":");
    if (finish != NULL)
        mock_buf_json_str(b, finish, strlen(finish));
    else
        mock_buf_puts(b, "null");
    mock_buf_puts(b, "}]}");
}

static int is_cont(unsigned char c)
{
    return (c & 0xC0u) == 0x80u;
}

size_t mock_code_points(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (!is_cont((unsigned char)s[i]))
            n++;
    return n;
}

size_t mock_split_at(const char *s, size_t len, size_t k, size_t n)
{
    size_t want = mock_code_points(s, len) * (k + 1) / n; /* code points in pieces 0..k */
    if (k + 1 >= n)
        return len;
    size_t seen = 0, i = 0;
    for (; i < len; i++) {
        if (!is_cont((unsigned char)s[i])) {
            if (seen == want)
                break;
            seen++;
        }
    }
    return i;
}

int32_t mock_class_of_status(int s)
{
    switch (s) {
    case 401:
    case 402:
    case 403: return OC_PROV_ERR_AUTH;
    case 408: return OC_PROV_ERR_SERVER;
    case 429: return OC_PROV_ERR_RATE;
    default: return s >= 400 && s < 500 ? OC_PROV_ERR_REQUEST : OC_PROV_ERR_SERVER;
    }
}

int32_t mock_status_of_class(int32_t c)
{
    switch (c) {
    case OC_PROV_ERR_REQUEST: return OC_EINVAL;
    case OC_PROV_ERR_AUTH: return OC_EACCES;
    case OC_PROV_ERR_RATE: return OC_ELIMIT;
    case OC_PROV_ERR_TIMEOUT: return OC_ETIMEDOUT;
    case OC_PROV_ERR_CANCELED: return OC_ECANCELED;
    default: return OC_EUNAVAIL;
    }
}
