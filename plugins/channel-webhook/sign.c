/* sign.c - see sign.h. */
#include "sign.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

int wh_sign_mac(const void *key, size_t key_len, const void *body, size_t len,
                uint8_t mac[WH_MAC_LEN])
{
    /* GnuTLS reads nothing from a NULL body of length 0, but be explicit. */
    static const char empty[1] = "";
    if (body == NULL)
        body = empty;
    return gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, key_len, body, len, mac) == 0 ? 0 : -1;
}

int wh_sign_header(const void *key, size_t key_len, const void *body, size_t len,
                   char out[WH_SIG_VALUE_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t mac[WH_MAC_LEN];
    if (wh_sign_mac(key, key_len, body, len, mac) != 0)
        return -1;
    size_t n = sizeof(WH_SIG_PREFIX) - 1;
    memcpy(out, WH_SIG_PREFIX, n);
    for (size_t i = 0; i < WH_MAC_LEN; i++) {
        out[n++] = hex[mac[i] >> 4];
        out[n++] = hex[mac[i] & 0xf];
    }
    out[n] = '\0';
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

int wh_sign_parse(const char *value, uint8_t mac[WH_MAC_LEN])
{
    if (value == NULL)
        return -1;
    while (is_ows(*value))
        value++;
    size_t n = strlen(value);
    while (n > 0 && is_ows(value[n - 1]))
        n--;
    size_t plen = sizeof(WH_SIG_PREFIX) - 1;
    if (n != plen + 2 * WH_MAC_LEN || memcmp(value, WH_SIG_PREFIX, plen) != 0)
        return -1;
    const char *h = value + plen;
    for (size_t i = 0; i < WH_MAC_LEN; i++) {
        int hi = hex_value(h[2 * i]), lo = hex_value(h[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int wh_sign_verify(const void *key, size_t key_len, const void *body, size_t len,
                   const uint8_t claimed[WH_MAC_LEN])
{
    uint8_t mac[WH_MAC_LEN];
    if (wh_sign_mac(key, key_len, body, len, mac) != 0)
        return 0;
    /* Branch-free: no early exit that would time where the MACs differ. */
    volatile uint8_t acc = 0;
    for (size_t i = 0; i < WH_MAC_LEN; i++)
        acc |= (uint8_t)(mac[i] ^ claimed[i]);
    gnutls_memset(mac, 0, sizeof mac);
    return (int)(((uint32_t)acc - 1u) >> 31); /* 1 when acc == 0 */
}
