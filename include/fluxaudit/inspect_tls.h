/* inspect_tls: TLS handshake facts from the TCP byte streams of a flow.
 *
 * Reassembles, per direction, the first bytes of the stream (capped) and
 * parses TLS records and handshake messages in them: ClientHello (offered
 * versions, SNI) and ServerHello (negotiated version, including TLS 1.3's
 * supported_versions, and cipher suite). Works on any port. Retransmitted
 * and overlapping segments are trimmed; segments past a gap are held (within
 * the cap) until the gap fills. Never keeps pointers to packet bytes. */
#ifndef FLUXAUDIT_INSPECT_TLS_H
#define FLUXAUDIT_INSPECT_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include "fluxaudit/facts.h"

#define TLS_STREAM_CAP 32768 /* bytes reassembled per direction, at most */

struct tls_inspector;

/* Allocates the per-flow state. Returns NULL on allocation failure. */
struct tls_inspector *tls_inspector_create(void);
void tls_inspector_destroy(struct tls_inspector *inspector);

/* Feeds one TCP segment. `direction` is 0 client->server, 1
 * server->client; `seq` the segment's sequence number, `syn` whether it
 * carries SYN (its payload then starts at seq + 1). Updates `facts`. */
void tls_inspector_feed(struct tls_inspector *inspector, int direction, uint32_t seq, bool syn,
                        const uint8_t *payload, uint32_t len, struct tls_facts *facts);

/* Returns true once nothing more can be learned (ServerHello parsed, or the
 * streams are not TLS, or the caps are reached): the state may be freed. */
bool tls_inspector_done(const struct tls_inspector *inspector);

/* Parses TLS records from `data` (one direction's stream start) into
 * `facts`. Returns the number of bytes consumed by complete records; sets
 * `*not_tls` when the bytes cannot be TLS. Exposed for unit tests and
 * fuzzing. */
uint32_t tls_parse_records(const uint8_t *data, uint32_t len, int direction, struct tls_facts *facts,
                           bool *not_tls);

#endif
