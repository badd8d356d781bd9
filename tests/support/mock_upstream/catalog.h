/* mock_upstream/catalog.h - model lists and embeddings (see catalog.c).
 * Pure formatting; thread-safe. */
#ifndef MOCK_CATALOG_H
#define MOCK_CATALOG_H

#include <stddef.h>

#include "llm_req.h"
#include "util/buf.h"

/* GET /v1/models: OpenAI's {"object":"list","data":[...]}, or Anthropic's
 * {"data":[...],"has_more",...} when `anthropic`. models is borrowed. */
void catalog_models(char *const *models, size_t n, int anthropic, gw_buf_t *out);
/* GET /v1/models/<id> (id percent-encoded, len bytes): 0 with the model
 * object appended, or -1 when it is not one of models. */
int catalog_model(char *const *models, size_t n, int anthropic, const char *id, size_t len,
                  gw_buf_t *out);
/* POST /v1/embeddings for a validated request. model_json: the model,
 * JSON-escaped; scratch: room for r->dimensions floats. */
void catalog_embeddings(const llm_req_t *r, const char *model_json, float *scratch,
                        gw_buf_t *out);

#endif
