/* web: the embedded web UI and its read-only JSON API (libmicrohttpd).
 *
 * The server never reads the live tables: the owner of the data (the
 * capture loop, or `serve` reading a campaign database) publishes
 * immutable snapshots, and request threads serve the newest one. A
 * snapshot holds the report in every format, rendered once. */
#ifndef FLUXAUDIT_WEB_H
#define FLUXAUDIT_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxaudit/report.h"

struct web_options {
    const char *listen;        /* "ADDR:PORT" or "[IPv6]:PORT"; NULL: 127.0.0.1:8080 */
    const char *tls_cert;      /* PEM files: HTTPS (TLS 1.2+ only) when both are given */
    const char *tls_key;
    const char *accounts;      /* accounts file: login required when it has accounts; NULL: none */
    bool live;                 /* the UI refreshes itself (live capture) */
};

/* One rendering of the report in every format, plus live figures. */
struct web_snapshot;

/* Renders `input` (JSON, HTML, CSV, syslog) into a new snapshot. `rate_pps`
 * is the live packet rate (0 for stored campaigns). Returns NULL and a
 * message on failure. */
struct web_snapshot *web_snapshot_create(const struct report_input *input, double rate_pps,
                                         char *err, size_t err_len);

struct web_server;

/* Starts serving in background threads. Returns NULL and a message on
 * failure (bad address, port in use, unreadable certificate...). */
struct web_server *web_start(const struct web_options *options, char *err, size_t err_len);

/* Makes `snapshot` the one served from now on; the server owns it and frees
 * the previous one once no request uses it. Thread-safe. */
void web_publish(struct web_server *server, struct web_snapshot *snapshot);

/* Stops the server and frees the snapshots. */
void web_stop(struct web_server *server);

/* The address the server listens on, as "ADDR:PORT" (useful with port 0). */
const char *web_listen_address(const struct web_server *server);

/* Adds or replaces `user` in the accounts file with `password` hashed
 * (salted, a current memory-hard algorithm). Returns false and a message. */
bool web_account_set(const char *accounts_path, const char *user, const char *password, char *err,
                     size_t err_len);

#endif
