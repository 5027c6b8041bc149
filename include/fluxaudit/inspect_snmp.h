/* inspect_snmp: the SNMP version of a UDP message, and the v1/v2c
 * community as a credential fact.
 *
 * snmp_message_version reads only the message header (SEQUENCE, then
 * INTEGER version): enough to tell SNMPv3 (user-based security) from
 * v1/v2c (a community string in clear). snmp_inspect_message reads the
 * community too, compares it with the default table in memory and records
 * only the verdict: the community never leaves the call. */
#ifndef FLUXAUDIT_INSPECT_SNMP_H
#define FLUXAUDIT_INSPECT_SNMP_H

#include <stdint.h>

#include "fluxaudit/default_credentials.h"
#include "fluxaudit/facts.h"

/* Returns 1, 2 (v2c) or 3 for a well-formed SNMP message header at the start
 * of `payload`, 0 for anything else. */
uint8_t snmp_message_version(const uint8_t *payload, uint32_t len);

/* Records the community of a well-formed SNMPv1/v2c message (SEQUENCE,
 * version, community OCTET STRING, then a PDU) in `facts` as protocol
 * "SNMP", method "community", kind CREDENTIAL_COMMUNITY, no user, merged
 * with earlier messages of the flow (count). default_credential is true if
 * `defaults` (may be NULL) lists the community. accepted is 1 once a
 * Response PDU with error-status 0 comes from the agent (`direction` 1,
 * server->client: agents drop messages with a wrong community), else -1.
 * Anything else (v3, malformed, truncated) records nothing. */
void snmp_inspect_message(const uint8_t *payload, uint32_t len, int direction,
                          const struct default_credentials *defaults,
                          struct credential_facts *facts);

#endif
