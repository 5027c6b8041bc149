/* inspect_credentials: logins, tokens and community strings crossing in
 * clear.
 *
 * Reads the first bytes of each direction of cleartext sessions (Telnet,
 * FTP, HTTP, POP3, IMAP, SMTP, LDAP, SNMP) and records credential facts:
 * protocol, method, masked user, whether the server accepted. The secret
 * is compared with the default-credential table in memory and dropped at
 * once: no buffer of this module outlives the packet it came from except
 * the bounded line-assembly buffers, which are wiped when freed. */
#ifndef FLUXAUDIT_INSPECT_CREDENTIALS_H
#define FLUXAUDIT_INSPECT_CREDENTIALS_H

#include <stdbool.h>
#include <stdint.h>

#include "fluxaudit/default_credentials.h"
#include "fluxaudit/facts.h"

/* Application protocols the inspector knows. */
enum credential_protocol {
    CREDENTIAL_PROTOCOL_NONE,
    CREDENTIAL_PROTOCOL_TELNET,
    CREDENTIAL_PROTOCOL_FTP,
    CREDENTIAL_PROTOCOL_HTTP,
    CREDENTIAL_PROTOCOL_POP3,
    CREDENTIAL_PROTOCOL_IMAP,
    CREDENTIAL_PROTOCOL_SMTP,
    CREDENTIAL_PROTOCOL_LDAP,
    CREDENTIAL_PROTOCOL_SNMP,
};

#define CREDENTIAL_STREAM_CAP 8192 /* bytes inspected per direction, at most */

struct credential_inspector;

/* Picks the protocol from the server port or, when the port says nothing,
 * from the first bytes (banner, request line). Returns NONE if nothing fits. */
enum credential_protocol credential_protocol_guess(uint8_t ip_proto, uint16_t server_port,
                                                   const uint8_t *first_payload, uint32_t len,
                                                   bool from_client);

/* Allocates the per-flow state for `protocol`; `defaults` (borrowed, may be
 * NULL) is the default-credential table. Returns NULL on allocation failure. */
struct credential_inspector *credential_inspector_create(enum credential_protocol protocol,
                                                         const struct default_credentials *defaults);

/* Wipes and frees the state. */
void credential_inspector_destroy(struct credential_inspector *inspector);

/* Feeds one payload segment: `direction` 0 client->server, 1 server->client,
 * `seq` the TCP sequence number (0 for UDP). In-order TCP bytes only are
 * parsed; a gap ends inspection of that direction. Updates `facts`. */
void credential_inspector_feed(struct credential_inspector *inspector, int direction, uint32_t seq,
                               const uint8_t *payload, uint32_t len, struct credential_facts *facts);

/* True once nothing more can be learned (caps reached, STARTTLS, not the
 * guessed protocol): the state may be freed. */
bool credential_inspector_done(const struct credential_inspector *inspector);

/* Writes the masked form of a user name: its first two characters then
 * "***" ("admin" -> "ad***", "a" -> "a***", "" -> ""). Non-printable bytes
 * become '?'. */
void credential_mask_user(const char *user, uint32_t len, char *out, uint32_t out_size);

#endif
