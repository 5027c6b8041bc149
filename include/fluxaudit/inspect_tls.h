/* inspect_tls: TLS handshake facts from the TCP byte streams of a flow.
 *
 * Reassembles, per direction, the first bytes of the stream (capped) and
 * parses TLS records and handshake messages in them: ClientHello (offered
 * versions, SNI, first ALPN protocol), ServerHello (negotiated version,
 * including TLS 1.3's supported_versions, cipher suite, selected ALPN) and,
 * in TLS <= 1.2, the server's Certificate message (leaf certificate facts,
 * chain length). Works on any port. Retransmitted and overlapping segments
 * are trimmed; segments past a gap are held (within the cap) until the gap
 * fills. Never keeps pointers to packet bytes. DTLS hellos are parsed per
 * datagram by tls_inspect_datagram. */
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

/* Returns true once nothing more can be learned (TLS 1.3 ServerHello
 * parsed; TLS <= 1.2 Certificate parsed, or ServerHelloDone or
 * ChangeCipherSpec seen without one; or the streams are not TLS, or the
 * caps are reached): the state may be freed. */
bool tls_inspector_done(const struct tls_inspector *inspector);

/* Parses TLS records from `data` (one direction's stream start) into
 * `facts`. Returns the number of bytes consumed by complete records; sets
 * `*not_tls` when the bytes cannot be TLS. Exposed for unit tests and
 * fuzzing. */
uint32_t tls_parse_records(const uint8_t *data, uint32_t len, int direction, struct tls_facts *facts,
                           bool *not_tls);

/* Parses the DTLS records of one UDP datagram. `direction` is 0
 * client->server, 1 server->client. Fills ClientHello and ServerHello facts
 * as for TLS (versions as on the DTLS wire: 0xfeff DTLS 1.0, 0xfefd 1.2,
 * 0xfefc 1.3; the newest is the lowest number), the certificate when an
 * unfragmented Certificate message is in the datagram, and sets is_dtls.
 * Stateless. Returns true if the datagram starts with a complete DTLS
 * record, false (facts untouched) otherwise. */
bool tls_inspect_datagram(int direction, const uint8_t *payload, uint32_t len,
                          struct tls_facts *facts);

#endif
