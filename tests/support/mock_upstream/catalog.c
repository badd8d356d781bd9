/* mock_upstream/catalog.c - the answers that are not chat: the model list
 * (OpenAI's shape, or Anthropic's when the request carries
 * anthropic-version), one model, and OpenAI embeddings (deterministic unit
 * vectors derived from the input, float or base64). Pure formatting. */
#include <math.h>
#include <string.h>

#include "catalog.h"
#include "text.h"

#define MODEL_CREATED 1700000000 /* a fixed date: answers stay byte-stable */

static void model_object(const char *id, int anthropic, gw_buf_t *out)
{
    if (anthropic) {
        gw_buf_puts(out, "{\"type\":\"model\",\"id\":\"");
        json_escape(out, id, strlen(id));
        gw_buf_puts(out, "\",\"display_name\":\"");
        json_escape(out, id, strlen(id));
        gw_buf_puts(out, "\",\"created_at\":\"2023-11-14T22:13:20Z\"}");
    } else {
        gw_buf_puts(out, "{\"id\":\"");
        json_escape(out, id, strlen(id));
        gw_buf_printf(out, "\",\"object\":\"model\",\"created\":%d,\"owned_by\":"
                           "\"oc-mock-upstream\"}",
                      MODEL_CREATED);
    }
}

void catalog_models(char *const *models, size_t n, int anthropic, gw_buf_t *out)
{
    gw_buf_puts(out, anthropic ? "{\"data\":[" : "{\"object\":\"list\",\"data\":[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            gw_buf_putc(out, ',');
        model_object(models[i], anthropic, out);
    }
    gw_buf_putc(out, ']');
    if (anthropic) {
        gw_buf_puts(out, ",\"has_more\":false,\"first_id\":");
        if (n == 0) {
            gw_buf_puts(out, "null,\"last_id\":null");
        } else {
            gw_buf_putc(out, '"');
            json_escape(out, models[0], strlen(models[0]));
            gw_buf_puts(out, "\",\"last_id\":\"");
            json_escape(out, models[n - 1], strlen(models[n - 1]));
            gw_buf_putc(out, '"');
        }
    }
    gw_buf_putc(out, '}');
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int catalog_model(char *const *models, size_t n, int anthropic, const char *id, size_t len,
                  gw_buf_t *out)
{
    char name[512];
    size_t k = 0;
    /* The id is a path segment: "a%2Fb" names the model "a/b". */
    for (size_t i = 0; i < len; i++) {
        char ch = id[i];
        if (ch == '%' && i + 2 < len && hexval(id[i + 1]) >= 0 && hexval(id[i + 2]) >= 0) {
            ch = (char)(hexval(id[i + 1]) * 16 + hexval(id[i + 2]));
            i += 2;
        }
        if (k + 1 >= sizeof name)
            return -1;
        name[k++] = ch;
    }
    name[k] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (strlen(models[i]) == k && memcmp(models[i], name, k) == 0) {
            model_object(models[i], anthropic, out);
            return 0;
        }
    }
    return -1;
}

/* splitmix64: a fast, well-mixed sequence from any seed. */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
    return h;
}

static void base64(gw_buf_t *out, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < n ? tab[v >> 6 & 63] : '=',
                     i + 2 < n ? tab[v & 63] : '='};
        gw_buf_append(out, q, 4);
    }
}

/* One input's vector: seeded by its text, normalised to length 1 like the
 * real models' output. */
static void vector(struct json_object *item, uint32_t dims, int b64, float *v, gw_buf_t *out)
{
    const char *text = json_object_to_json_string_ext(item, JSON_C_TO_STRING_PLAIN);
    uint64_t s = fnv1a(text, strlen(text));
    double norm = 0;
    for (uint32_t i = 0; i < dims; i++) {
        v[i] = (float)((double)(mix(&s) >> 11) * 0x1.0p-52 - 1.0);
        norm += (double)v[i] * v[i];
    }
    norm = norm > 0 ? sqrt(norm) : 1;
    for (uint32_t i = 0; i < dims; i++)
        v[i] = (float)(v[i] / norm);
    if (b64) {
        gw_buf_putc(out, '"');
        base64(out, (const unsigned char *)v, dims * sizeof(float)); /* little-endian host */
        gw_buf_putc(out, '"');
        return;
    }
    gw_buf_putc(out, '[');
    for (uint32_t i = 0; i < dims; i++)
        gw_buf_printf(out, i ? ",%.9g" : "%.9g", (double)v[i]);
    gw_buf_putc(out, ']');
}

void catalog_embeddings(const llm_req_t *r, const char *model_json, float *scratch,
                        gw_buf_t *out)
{
    /* One input: a string or a token array; else one vector per element. */
    int single = json_object_is_type(r->input, json_type_string) ||
                 (r->ninputs == 1 && json_object_array_length(r->input) > 0 &&
                  json_object_is_type(json_object_array_get_idx(r->input, 0), json_type_int));
    gw_buf_puts(out, "{\"object\":\"list\",\"data\":[");
    for (size_t i = 0; i < r->ninputs; i++) {
        struct json_object *item = single ? r->input : json_object_array_get_idx(r->input, i);
        gw_buf_printf(out, "%s{\"object\":\"embedding\",\"index\":%zu,\"embedding\":",
                      i ? "," : "", i);
        vector(item, r->dimensions, r->base64, scratch, out);
        gw_buf_putc(out, '}');
    }
    unsigned tokens = (unsigned)((r->prompt_bytes + 3) / 4);
    gw_buf_printf(out, "],\"model\":\"%s\",\"usage\":{\"prompt_tokens\":%u,\"total_tokens\":%u}}",
                  model_json, tokens, tokens);
}
