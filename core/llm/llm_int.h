/* llm/llm_int.h - shared by the llm module's sources only. */
#ifndef GW_LLM_LLM_INT_H
#define GW_LLM_LLM_INT_H

#include "llm/llm.h"

/* catalog.c: builds providers, targets, aliases and chains into l (l->cfg
 * set). 0 or -ENOMEM. */
int gw_llm_catalog_build(gw_llm_t *l, gw_plugins_t *ps);
void gw_llm_catalog_free(gw_llm_t *l);

/* A target's series, resolved on first use. Thread-safe. */
gw_series_t *gw_llm_series_calls(const gw_llm_t *l, const gw_llm_target_t *t, int32_t cls);
gw_series_t *gw_llm_series_duration(const gw_llm_t *l, const gw_llm_target_t *t);
gw_series_t *gw_llm_series_ttft(const gw_llm_t *l, const gw_llm_target_t *t);
gw_series_t *gw_llm_series_tokens(const gw_llm_t *l, const gw_llm_target_t *t, int out);

#endif
