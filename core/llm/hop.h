/* llm/hop.h - a provider call made on the home loop for a caller on a
 * worker loop: providers without OC_PLUGIN_F_MULTI_LOOP may only be called
 * on their home (sdk/ABI.md §6), while the API request lives on the worker.
 *
 * The worker posts the call to the home loop; chunks and the result are
 * copied and posted back. Cancel posts the provider's cancel to the home
 * loop and silences the worker side at once.
 *
 * Lifetime: the hop is reference-counted (atomically): the worker's handle,
 * the call on the home loop, and each event in flight between the loops
 * hold one reference. Threads: gw_llm_hop_start and gw_llm_hop_cancel on
 * the worker loop that started it; the callbacks run there too. */
#ifndef GW_LLM_HOP_H
#define GW_LLM_HOP_H

#include <openclaw/plugin.h>

#include "loop/loop.h"

typedef struct gw_llm_hop_s gw_llm_hop_t;

typedef struct gw_llm_hop_cbs_s {
    /* A chunk (borrowed). OC_ECANCELED stops the call: on_done follows with
     * OC_PROV_ERR_CANCELED. */
    int32_t (*on_chunk)(void *data, const char *json, size_t len);
    /* Exactly once unless canceled; res is borrowed for the call. */
    void (*on_done)(void *data, const oc_chat_result_t *res);
} gw_llm_hop_cbs_t;

/* Starts `plugin`'s chat on `home` for the calling loop. req is copied
 * (its body too); its provider and model strings must outlive the hop (the
 * catalog's do). NULL when out of memory or the home loop is closing (no
 * callback then). */
gw_llm_hop_t *gw_llm_hop_start(gw_loop_t *home, oc_plugin_t *plugin, const oc_chat_request_t *req,
                               const gw_llm_hop_cbs_t *cbs, void *data);
/* No callback after this; the home loop cancels the provider's call. */
void gw_llm_hop_cancel(gw_llm_hop_t *h);

#endif
