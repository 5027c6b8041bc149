/* default_credentials: the well-known default logins of network devices,
 * embedded systems and medical equipment (rules/default-credentials).
 *
 * Loaded once, validated like every input (file:line:column errors), then
 * queried in memory by the credential inspectors. Only the verdict leaves
 * the process: the table's own entries are public defaults, and the
 * credentials seen on the wire are compared, never copied. */
#ifndef FLUXAUDIT_DEFAULT_CREDENTIALS_H
#define FLUXAUDIT_DEFAULT_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>

#include "fluxaudit/diag.h"

struct default_credentials;

/* Loads `path`. Returns NULL with every error in `diag`. */
struct default_credentials *default_credentials_load(const char *path, struct diag *diag);

/* Same, from a buffer; `name` is used in diagnostics. */
struct default_credentials *default_credentials_parse(const char *name, const char *text, size_t len,
                                                      struct diag *diag);

void default_credentials_free(struct default_credentials *table);

/* True if (user, password) is a listed default login. `user` may be NULL
 * or "" for password-only protocols. Constant-time in the password length
 * is not needed here: the comparison runs on data already seen in clear. */
bool default_credentials_match_login(const struct default_credentials *table, const char *user,
                                     size_t user_len, const char *password, size_t password_len);

/* True if `community` is a listed default SNMP community. */
bool default_credentials_match_community(const struct default_credentials *table,
                                         const char *community, size_t len);

/* The file installed with the program, or the source tree's. */
const char *default_credentials_default_path(void);

#endif
