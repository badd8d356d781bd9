/* sign.h - the X-OpenClaw-Signature scheme: "sha256=" followed by the
 * lower-case hex HMAC-SHA256 of the raw body, keyed with the account's
 * secret. Used for both directions. Pure functions (GnuTLS only). */
#ifndef WH_SIGN_H
#define WH_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define WH_SIG_HEADER "X-OpenClaw-Signature"
#define WH_SIG_PREFIX "sha256="
#define WH_MAC_LEN 32
/* Size of a header value with its NUL: prefix + 64 hex digits + NUL. */
#define WH_SIG_VALUE_SIZE (sizeof(WH_SIG_PREFIX) - 1 + 2 * WH_MAC_LEN + 1)

/* HMAC-SHA256 of body under key into mac. 0, or -1 when GnuTLS fails. */
int wh_sign_mac(const void *key, size_t key_len, const void *body, size_t len,
                uint8_t mac[WH_MAC_LEN]);

/* The header value for body into out ("sha256=<64 lower-case hex>").
 * 0, or -1 when GnuTLS fails. */
int wh_sign_header(const void *key, size_t key_len, const void *body, size_t len,
                   char out[WH_SIG_VALUE_SIZE]);

/* Decodes a received header value into the MAC it claims. Spaces and tabs
 * around it are ignored; the prefix must be "sha256=" exactly, followed by
 * exactly 64 hex digits of either case. 0, or -1 when malformed. */
int wh_sign_parse(const char *value, uint8_t mac[WH_MAC_LEN]);

/* 1 when the claimed MAC is the HMAC of body under key, else 0 (also when
 * GnuTLS fails). The comparison takes the same time wherever they differ. */
int wh_sign_verify(const void *key, size_t key_len, const void *body, size_t len,
                   const uint8_t claimed[WH_MAC_LEN]);

#endif
