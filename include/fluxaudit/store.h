/* store: the audit campaign in SQLite (WAL, versioned schema, migrations).
 *
 * A campaign is a sequence of capture sessions (a replay of some files, or
 * a live capture) audited against a matrix. Each session stores its own
 * aggregated results (findings, observed flows, capture counters); loading
 * the campaign merges all sessions the way the audit merges flows (counts
 * summed, first/last seen widened), so replaying more files into the same
 * database adds to the campaign, and a live capture that checkpoints every
 * few seconds and is killed keeps everything up to its last checkpoint:
 * restarting on the same database starts a new session of the same
 * campaign. The store holds what reports hold, never more: no payload, no
 * secret, no patient data. */
#ifndef FLUXAUDIT_STORE_H
#define FLUXAUDIT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxaudit/audit.h"
#include "fluxaudit/matrix.h"
#include "fluxaudit/pipeline.h"
#include "fluxaudit/report.h"
#include "fluxaudit/rules.h"

#define STORE_SCHEMA_VERSION 1
#define STORE_DEFAULT_RETENTION_DAYS 180 /* requirements.md, MEMENTO: at most six months */

struct store;

/* Opens (creating if needed) the campaign database at `path`, migrating an
 * older schema to STORE_SCHEMA_VERSION in one transaction. A database of a
 * newer schema is refused. `read_only` opens for readers (serve, report).
 * Returns NULL and a message in `err` on failure. */
struct store *store_open(const char *path, bool read_only, char *err, size_t err_len);
void store_close(struct store *store);

/* The schema version of the open database. */
int store_schema_version(const struct store *store);

/* What one session saw: everything a report shows of it. */
struct store_session_info {
    const char *kind;                 /* "replay" or "live" */
    const char *const *sources;       /* files, or "live:IFACE" */
    size_t source_count;
    const char *matrix_text;          /* the matrix file's JSON text, kept with the campaign */
    const char *matrix_path;
    uint64_t started_usec;            /* wall clock */
};

/* Starts a session; its id goes to *session_id. */
bool store_begin_session(struct store *store, const struct store_session_info *info,
                         int64_t *session_id, char *err, size_t err_len);

/* Replaces the session's stored results with `input` (the audit of its
 * ended flows, its counters) and, when `provisional` is not NULL, with the
 * provisional audit of the flows still active, in one transaction. Call
 * every few seconds during a live capture and once at the end (with
 * provisional NULL). */
bool store_checkpoint(struct store *store, int64_t session_id, const struct report_input *input,
                      const struct audit *provisional, char *err, size_t err_len);

/* Marks the session ended at `ended_usec`. */
bool store_end_session(struct store *store, int64_t session_id, uint64_t ended_usec, char *err,
                       size_t err_len);

/* Deletes the sessions whose last activity is older than `retention_days`
 * days before `now_usec`, with their results. *purged counts them. */
bool store_purge(struct store *store, unsigned retention_days, uint64_t now_usec, size_t *purged,
                 char *err, size_t err_len);

/* The campaign merged from every stored session, ready for the report
 * writers. Owns everything `report` points to; free with
 * store_campaign_free. */
struct store_campaign {
    struct report_input report;       /* sources, counters, matrix, rules, audit of the campaign */
    struct matrix *matrix;            /* the newest session's matrix */
    struct rules rules;
    struct audit *audit;              /* results of every session, merged; audit_finish done */
    struct pipeline_counters counters;
    struct flow_table_stats flow_stats;
    struct dpi_stats dpi_stats;
    char **sources;
    size_t source_count;
    size_t session_count;
    uint64_t first_session_usec;
    uint64_t last_session_usec;
};

/* Loads the campaign with `rules` (the current rules file decides severities
 * and titles). Returns false and a message if the database holds no
 * session or cannot be read. */
bool store_load_campaign(struct store *store, const struct rules *rules,
                         struct store_campaign *campaign, char *err, size_t err_len);
void store_campaign_free(struct store_campaign *campaign);

#endif
