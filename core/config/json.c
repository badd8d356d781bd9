/* config/json.c - a configuration subtree as JSON (config get, config.get). */
#include "config/node.h"

#include <errno.h>
#include <string.h>

/* Unquoted decimal integers and booleans keep their type; the rest is text
 * (YAML's other implicit types are not worth guessing at). */
static int bare_scalar(const gw_cfg_node_t *n)
{
    const char *s = n->scalar;
    if (n->quoted)
        return 0;
    if (!strcmp(s, "true") || !strcmp(s, "false"))
        return 1;
    const char *p = s + (*s == '-');
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0') || strlen(p) > 18)
        return 0;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

static int emit(const gw_cfg_node_t *n, gw_buf_t *out, unsigned flags)
{
    int rc = 0;
    if ((flags & GW_CFG_JSON_REDACT) && n->secret && n->type != OC_CFG_NULL)
        return gw_buf_json_str(out, GW_CFG_REDACTED);
    switch (n->type) {
    case OC_CFG_SCALAR:
        return bare_scalar(n) ? gw_buf_puts(out, n->scalar) : gw_buf_json_str(out, n->scalar);
    case OC_CFG_MAP:
    case OC_CFG_LIST:
        rc = gw_buf_putc(out, n->type == OC_CFG_MAP ? '{' : '[');
        for (size_t i = 0; rc == 0 && i < n->len; i++) {
            if (i)
                rc = gw_buf_putc(out, ',');
            if (rc == 0 && n->type == OC_CFG_MAP)
                rc = gw_buf_json_str(out, n->keys[i]) || gw_buf_putc(out, ':') ? -ENOMEM : 0;
            if (rc == 0)
                rc = emit(n->items[i], out, flags);
        }
        return rc ? rc : gw_buf_putc(out, n->type == OC_CFG_MAP ? '}' : ']');
    default:
        return gw_buf_puts(out, "null");
    }
}

int gw_cfg_to_json(const gw_cfg_node_t *node, gw_buf_t *out, unsigned flags)
{
    if (node == NULL)
        return gw_buf_puts(out, "null");
    /* A value under a secret key is redacted whole, wherever the dump starts. */
    if ((flags & GW_CFG_JSON_REDACT) && gw_cfg_is_secret(node) && node->type != OC_CFG_NULL)
        return gw_buf_json_str(out, GW_CFG_REDACTED);
    return emit(node, out, flags);
}
