/* inspect_snmp: the SNMP version of a UDP message.
 *
 * Only the message header is read (SEQUENCE, then INTEGER version): enough
 * to tell SNMPv3 (user-based security) from v1/v2c (a community string in
 * clear). The community itself is never read here. */
#ifndef FLUXAUDIT_INSPECT_SNMP_H
#define FLUXAUDIT_INSPECT_SNMP_H

#include <stdint.h>

/* Returns 1, 2 (v2c) or 3 for a well-formed SNMP message header at the start
 * of `payload`, 0 for anything else. */
uint8_t snmp_message_version(const uint8_t *payload, uint32_t len);

#endif
