/* dpi: application classification with nDPI. The only module that includes
 * nDPI's headers.
 *
 * Detection runs on the first packets of a flow and gives up after a bounded
 * number of packets; nDPI's per-flow state is freed as soon as the flow is
 * classified (and nDPI wants no more packets), so a long flow costs nothing
 * more than its struct flow. */
#ifndef FLUXAUDIT_DPI_H
#define FLUXAUDIT_DPI_H

#include <stddef.h>
#include <stdint.h>

#include "fluxaudit/decode.h"
#include "fluxaudit/flow.h"

#define DPI_MAX_PACKETS_PER_FLOW 32

struct dpi_stats {
    uint64_t flows_classified; /* nDPI named the protocol */
    uint64_t flows_guessed;    /* given up, protocol guessed from ports */
    uint64_t flows_unknown;    /* given up with nothing */
    uint64_t state_bytes;      /* nDPI per-flow bytes held now */
};

/* Creates the nDPI module with every protocol enabled. Returns NULL and a
 * message in `err` on failure. */
struct dpi *dpi_create(char *err, size_t err_len);
void dpi_destroy(struct dpi *dpi);

/* Feeds one decoded packet of `flow` going in `direction`. Updates
 * flow->facts; a no-op once detection is finished. */
void dpi_process_packet(struct dpi *dpi, struct flow *flow, enum flow_direction direction,
                        const struct decoded_packet *packet);

/* Finishes detection (giving up and guessing if needed), fills the final
 * facts and frees nDPI's per-flow state. Call again when the flow ends:
 * it then only refreshes facts that depend on the final counters. */
void dpi_flow_finish(struct dpi *dpi, struct flow *flow);

/* nDPI's name for risk bit `risk` ("TLS Obsolete Version"...). */
const char *dpi_risk_name(unsigned risk);

/* The risk number of an nDPI risk identifier as in ndpi_typedefs.h
 * ("NDPI_SMB_INSECURE_VERSION"); -1 when nDPI 4.2 has no such risk. */
int dpi_risk_from_key(const char *key);

void dpi_get_stats(const struct dpi *dpi, struct dpi_stats *stats);

#endif
