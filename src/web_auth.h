/* web_auth: the web UI's accounts, login sessions and failed-login limits
 * (internal to web.c; the public part is web_account_set in web.h).
 *
 * Accounts file: one "user:hash" line per account, the hash a yescrypt
 * string ("$y$...") from libxcrypt; blank lines and "#" comments allowed.
 * Sessions live in memory only: a bounded table of 256-bit random ids. */
#ifndef FLUXAUDIT_WEB_AUTH_H
#define FLUXAUDIT_WEB_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEB_AUTH_USER_MAX 64           /* bytes of a user name */
#define WEB_AUTH_PASSWORD_MAX 256      /* bytes of a password */
#define WEB_AUTH_ACCOUNTS_MAX 256      /* accounts in a file */
#define WEB_AUTH_FILE_MAX 262144u      /* bytes of an accounts file (256 KiB) */
#define WEB_AUTH_SESSION_ID_LEN 64     /* hex characters (256 bits) */
#define WEB_AUTH_SESSIONS_MAX 128      /* the oldest goes when full */
#define WEB_AUTH_SESSION_TTL 28800u    /* seconds: 8 hours */
#define WEB_AUTH_FAILURES_PER_WINDOW 5 /* failed logins per address... */
#define WEB_AUTH_FAILURE_WINDOW 60u    /* ...per this many seconds */
#define WEB_AUTH_TRACKED_ADDRESSES 256

struct web_auth;

enum web_login_result {
    WEB_LOGIN_OK,
    WEB_LOGIN_REFUSED,      /* unknown user or wrong password (not told apart) */
    WEB_LOGIN_RATE_LIMITED, /* too many failures from this address: not even checked */
    WEB_LOGIN_ERROR         /* no randomness or no memory */
};

/* Loads the accounts of `path` (NULL: none, login not required). Returns
 * NULL and a message when the file cannot be read or a line is malformed. */
struct web_auth *web_auth_create(const char *path, char *err, size_t err_len);
void web_auth_destroy(struct web_auth *auth);

/* True when the accounts file had at least one account. */
bool web_auth_required(const struct web_auth *auth);

/* Checks `user`/`password` for a client at `address` (16 bytes, IPv4
 * mapped into IPv6) at `now` (seconds). On success writes a new session id
 * (WEB_AUTH_SESSION_ID_LEN hex characters and a NUL) to `session_id`. */
enum web_login_result web_auth_login(struct web_auth *auth, const uint8_t address[16],
                                     const char *user, const char *password, uint64_t now,
                                     char session_id[WEB_AUTH_SESSION_ID_LEN + 1]);

/* True when `session_id` names a session that has not expired at `now`. */
bool web_auth_session_valid(struct web_auth *auth, const char *session_id, uint64_t now);

/* Ends the session `session_id` (no effect when unknown). */
void web_auth_logout(struct web_auth *auth, const char *session_id);

/* True when `user` is an acceptable account name: 1-64 of [A-Za-z0-9._@-]. */
bool web_auth_user_valid(const char *user);

#endif
