/* mock_upstream/respond.c - HTTP response heads, SSE chunk framing and the
 * error bodies of both dialects. Pure formatting except send_*, which write
 * on the connection's worker thread. */
#include <stdio.h>
#include <string.h>

#include "mock.h"
#include "text.h"

const char *status_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 529: return "Overloaded";
    default: return status < 500 ? "Client Error" : "Server Error";
    }
}

static void put_uint(gw_buf_t *out, size_t v)
{
    char tmp[24];
    int i = (int)sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    gw_buf_append(out, tmp + i, sizeof tmp - (size_t)i);
}

void respond(gw_buf_t *out, int status, const char *ctype, const char *extra, const char *body,
             size_t len, int close)
{
    /* Hand-assembled: this runs once per answer on the benchmark path. */
    gw_buf_reserve(out, 160 + len);
    gw_buf_puts(out, "HTTP/1.1 ");
    put_uint(out, (size_t)status);
    gw_buf_putc(out, ' ');
    gw_buf_puts(out, status_reason(status));
    gw_buf_puts(out, "\r\nContent-Type: ");
    gw_buf_puts(out, ctype);
    gw_buf_puts(out, "\r\nContent-Length: ");
    put_uint(out, len);
    gw_buf_puts(out, "\r\n");
    if (extra != NULL)
        gw_buf_puts(out, extra);
    if (close)
        gw_buf_puts(out, "Connection: close\r\n");
    gw_buf_puts(out, "\r\n");
    gw_buf_append(out, body, len);
}

static const char *openai_type(int status)
{
    if (status == 401)
        return "authentication_error";
    if (status == 403)
        return "permission_error";
    if (status == 429)
        return "requests"; /* what the API sends for request-rate limits */
    if (status >= 500)
        return "server_error";
    return "invalid_request_error";
}

static const char *anthropic_type(int status)
{
    switch (status) {
    case 401: return "authentication_error";
    case 402: return "billing_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 504: return "timeout_error";
    case 529: return "overloaded_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

void error_body(gw_buf_t *out, int dialect, int status, const char *code, const char *msg)
{
    if (dialect == D_ANTHROPIC) {
        gw_buf_puts(out, "{\"type\":\"error\",\"error\":{\"type\":\"");
        gw_buf_puts(out, anthropic_type(status));
        gw_buf_puts(out, "\",\"message\":\"");
        json_escape(out, msg, strlen(msg));
        gw_buf_puts(out, "\"}}");
        return;
    }
    gw_buf_puts(out, "{\"error\":{\"message\":\"");
    json_escape(out, msg, strlen(msg));
    gw_buf_puts(out, "\",\"type\":\"");
    gw_buf_puts(out, openai_type(status));
    gw_buf_puts(out, "\",\"param\":null,\"code\":\"");
    gw_buf_puts(out, code);
    gw_buf_puts(out, "\"}}");
}

void send_event(conn_t *c, const char *ev, size_t len)
{
    char size_line[24];
    uv_buf_t b[3];
    STAT_ADD(c->w->stats.chunks_out, 1);
    STAT_ADD(c->w->stats.bytes_out, len);
    if (c->raw_stream) {
        b[0] = uv_buf_init((char *)ev, (unsigned)len);
        conn_send(c, b, 1);
        return;
    }
    int n = snprintf(size_line, sizeof size_line, "%zx\r\n", len);
    STAT_ADD(c->w->stats.bytes_out, (size_t)n + 2);
    b[0] = uv_buf_init(size_line, (unsigned)n);
    b[1] = uv_buf_init((char *)ev, (unsigned)len);
    b[2] = uv_buf_init((char *)"\r\n", 2);
    conn_send(c, b, 3);
}

void send_last_chunk(conn_t *c)
{
    if (c->raw_stream)
        return;
    STAT_ADD(c->w->stats.bytes_out, 5);
    uv_buf_t b = uv_buf_init((char *)"0\r\n\r\n", 5);
    conn_send(c, &b, 1);
}
