/* store: the audit campaign in SQLite.
 *
 * One table of capture sessions (what was captured, with which matrix, the
 * capture counters) and one of results (every finding and observed flow of
 * a session, by name: audit_export_* records). A checkpoint replaces a
 * session's results in one transaction, so a reader or a restart after
 * kill -9 sees either the previous checkpoint or the new one, never a mix.
 * Loading merges every session's records into one fresh audit
 * (audit_import), which is what makes replays and restarts add up.
 *
 * The schema is the pre-release layout (version 0) plus the ordered
 * migrations below; a new database is created by running exactly that path,
 * so a fresh and a migrated database cannot differ. docs/store.md. */
#include "fluxaudit/store.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STORE_APPLICATION_ID 0x464C5841 /* "FLXA" in the file header */
#define STORE_BUSY_TIMEOUT_MS 5000
#define STORE_DAY_USEC (86400ull * 1000000ull)

struct store {
    sqlite3 *db;
    bool read_only;
    int schema_version;
};

/* ---- schema ------------------------------------------------------------- */

/* Version 0, the pre-release layout: results were written once, when a
 * session ended (no checkpoints, no provisional results), and the database
 * carried no version or application id. Kept verbatim: it is the first step
 * of every database's history. */
static const char schema_v0[] =
    "CREATE TABLE sessions ("
    " id INTEGER PRIMARY KEY,"
    " kind TEXT NOT NULL CHECK (kind IN ('replay', 'live')),"
    " started_usec INTEGER NOT NULL,"
    " ended_usec INTEGER,"
    " matrix_path TEXT,"
    " matrix_text TEXT NOT NULL,"
    " sources TEXT NOT NULL DEFAULT '[]',"
    " packets INTEGER NOT NULL DEFAULT 0,"
    " bytes INTEGER NOT NULL DEFAULT 0,"
    " ip_packets INTEGER NOT NULL DEFAULT 0,"
    " malformed INTEGER NOT NULL DEFAULT 0,"
    " not_ip INTEGER NOT NULL DEFAULT 0,"
    " not_decoded INTEGER NOT NULL DEFAULT 0,"
    " fragments INTEGER NOT NULL DEFAULT 0,"
    " first_usec INTEGER NOT NULL DEFAULT 0,"
    " last_usec INTEGER NOT NULL DEFAULT 0,"
    " dropped INTEGER NOT NULL DEFAULT 0,"
    " flows_active INTEGER NOT NULL DEFAULT 0,"
    " flows_peak INTEGER NOT NULL DEFAULT 0,"
    " flows_created INTEGER NOT NULL DEFAULT 0,"
    " flows_idle INTEGER NOT NULL DEFAULT 0,"
    " flows_evicted INTEGER NOT NULL DEFAULT 0,"
    " flows_flushed INTEGER NOT NULL DEFAULT 0,"
    " dpi_classified INTEGER NOT NULL DEFAULT 0,"
    " dpi_guessed INTEGER NOT NULL DEFAULT 0,"
    " dpi_unknown INTEGER NOT NULL DEFAULT 0,"
    " dpi_state_bytes INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE results ("
    " id INTEGER PRIMARY KEY,"
    " session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
    " is_finding INTEGER NOT NULL CHECK (is_finding IN (0, 1)),"
    " device TEXT NOT NULL,"
    " code TEXT,"
    " variant TEXT,"
    " risk TEXT,"
    " matrix_flow TEXT,"
    " client TEXT NOT NULL,"
    " server TEXT NOT NULL,"
    " proto INTEGER NOT NULL,"
    " port INTEGER NOT NULL,"
    " app TEXT NOT NULL,"
    " first_usec INTEGER NOT NULL,"
    " last_usec INTEGER NOT NULL,"
    " connections INTEGER NOT NULL,"
    " packets INTEGER NOT NULL,"
    " bytes INTEGER NOT NULL,"
    " evidence TEXT NOT NULL DEFAULT '[]');"
    "CREATE INDEX results_session ON results(session_id);";

/* migrations[v] takes a database from version v to v + 1. Append only:
 * a released step is never edited. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
    /* 0 -> 1: checkpoints. A session records when it last checkpointed, and
     * results of flows still active at a checkpoint are kept apart
     * (provisional) so a clean end replaces them. Pre-release results were
     * final: the default 0 says so. */
    "ALTER TABLE sessions ADD COLUMN checkpoint_usec INTEGER;"
    "ALTER TABLE results ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0"
    " CHECK (provisional IN (0, 1));"
    "DROP INDEX results_session;"
    "CREATE INDEX results_by_session ON results(session_id, provisional, id);",
};

/* ---- errors and statements ---------------------------------------------- */

static void set_error(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(char *err, size_t err_len, const char *fmt, ...)
{
    if (err == NULL || err_len == 0)
        return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, err_len, fmt, args);
    va_end(args);
}

/* Reports the connection's last error as "<what>: <sqlite message>". */
static bool sql_error(sqlite3 *db, const char *what, char *err, size_t err_len)
{
    set_error(err, err_len, "%s: %s", what, sqlite3_errmsg(db));
    return false;
}

/* Runs constant SQL (never built from data). */
static bool exec_sql(sqlite3 *db, const char *sql, const char *what, char *err, size_t err_len)
{
    char *message = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &message) == SQLITE_OK)
        return true;
    set_error(err, err_len, "%s: %s", what, message != NULL ? message : sqlite3_errmsg(db));
    sqlite3_free(message);
    return false;
}

static bool prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt, const char *what,
                    char *err, size_t err_len)
{
    if (sqlite3_prepare_v2(db, sql, -1, stmt, NULL) == SQLITE_OK)
        return true;
    *stmt = NULL;
    return sql_error(db, what, err, err_len);
}

/* Steps a statement that returns no row. */
static bool step_done(sqlite3 *db, sqlite3_stmt *stmt, const char *what, char *err,
                      size_t err_len)
{
    if (sqlite3_step(stmt) == SQLITE_DONE)
        return true;
    return sql_error(db, what, err, err_len);
}

/* Reads the single integer a query or pragma returns (0 when no row). */
static bool query_int(sqlite3 *db, const char *sql, int64_t *value, const char *what, char *err,
                      size_t err_len)
{
    sqlite3_stmt *stmt;
    if (!prepare(db, sql, &stmt, what, err, err_len))
        return false;
    int rc = sqlite3_step(stmt);
    *value = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    bool ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
    if (!ok)
        sql_error(db, what, err, err_len);
    sqlite3_finalize(stmt);
    return ok;
}

/* SQLite integers are signed 64-bit: counters and times go through as the
 * same bits and come back unchanged. */
static void bind_u64(sqlite3_stmt *stmt, int index, uint64_t value)
{
    sqlite3_bind_int64(stmt, index, (sqlite3_int64)value);
}

static uint64_t column_u64(sqlite3_stmt *stmt, int index)
{
    return (uint64_t)sqlite3_column_int64(stmt, index);
}

/* Binds `text`, or NULL when there is none. */
static void bind_text_or_null(sqlite3_stmt *stmt, int index, const char *text)
{
    if (text == NULL)
        sqlite3_bind_null(stmt, index);
    else
        sqlite3_bind_text(stmt, index, text, -1, SQLITE_TRANSIENT);
}

static const char *column_text(sqlite3_stmt *stmt, int index)
{
    return (const char *)sqlite3_column_text(stmt, index);
}

static bool begin_write(sqlite3 *db, char *err, size_t err_len)
{
    /* IMMEDIATE takes the write lock now, so a concurrent reader upgrading
     * later cannot deadlock us; busy_timeout waits for other writers. */
    return exec_sql(db, "BEGIN IMMEDIATE", "cannot start a write transaction", err, err_len);
}

/* Commits when `ok`, else rolls back (keeping the first error message). */
static bool end_transaction(sqlite3 *db, bool ok, char *err, size_t err_len)
{
    if (ok)
        return exec_sql(db, "COMMIT", "cannot commit", err, err_len);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return false;
}

static bool check_writable(const struct store *store, const char *what, char *err,
                           size_t err_len)
{
    if (!store->read_only)
        return true;
    set_error(err, err_len, "%s: the campaign database is open read-only", what);
    return false;
}

static uint64_t wall_clock_usec(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
}

/* ---- opening and migrating ---------------------------------------------- */

/* What the file says it is, before anything is changed. */
struct schema_state {
    int64_t version;      /* PRAGMA user_version */
    int64_t application;  /* PRAGMA application_id */
    int64_t objects;      /* tables and indexes, any */
    int64_t own_tables;   /* "sessions" and "results" */
};

static bool read_schema_state(sqlite3 *db, struct schema_state *state, char *err, size_t err_len)
{
    const char *what = "cannot read the campaign database's schema";
    return query_int(db, "PRAGMA user_version", &state->version, what, err, err_len) &&
           query_int(db, "PRAGMA application_id", &state->application, what, err, err_len) &&
           query_int(db, "SELECT count(*) FROM sqlite_master", &state->objects, what, err,
                     err_len) &&
           query_int(db,
                     "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                     " AND name IN ('sessions', 'results')",
                     &state->own_tables, what, err, err_len);
}

/* The version to migrate from: -1 for an empty file (nothing yet), else the
 * file's version. Refuses a database that is not a campaign or is newer. */
static bool classify_schema(const struct schema_state *state, int64_t *from, char *err,
                            size_t err_len)
{
    if (state->application != 0 && state->application != STORE_APPLICATION_ID) {
        set_error(err, err_len, "not a fluxaudit campaign database (application id 0x%08llx)",
                  (unsigned long long)state->application);
        return false;
    }
    if (state->version > STORE_SCHEMA_VERSION) {
        set_error(err, err_len,
                  "campaign database schema version %lld is newer than this fluxaudit's (%d): "
                  "use a newer fluxaudit",
                  (long long)state->version, STORE_SCHEMA_VERSION);
        return false;
    }
    if (state->version < 0 || (state->version > 0 && state->application == 0)) {
        set_error(err, err_len, "not a fluxaudit campaign database (user_version %lld)",
                  (long long)state->version);
        return false;
    }
    if (state->version == 0 && state->objects == 0) {
        *from = -1;
        return true;
    }
    if (state->own_tables != 2) {
        set_error(err, err_len, "not a fluxaudit campaign database (no sessions/results tables)");
        return false;
    }
    *from = state->version;
    return true;
}

/* Brings the schema from `from` (-1: empty) to STORE_SCHEMA_VERSION inside
 * the caller's transaction. */
static bool apply_migrations(sqlite3 *db, int64_t from, char *err, size_t err_len)
{
    if (from < 0) {
        if (!exec_sql(db, schema_v0, "cannot create the campaign schema", err, err_len))
            return false;
        from = 0;
    }
    for (int64_t v = from; v < STORE_SCHEMA_VERSION; v++) {
        char what[96];
        snprintf(what, sizeof(what), "cannot migrate the campaign schema from version %lld",
                 (long long)v);
        if (!exec_sql(db, migrations[v], what, err, err_len))
            return false;
    }
    /* Pragmas take no bound parameters: these are our own constants. */
    char pragma[96];
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d; PRAGMA application_id = %d;",
             STORE_SCHEMA_VERSION, STORE_APPLICATION_ID);
    return exec_sql(db, pragma, "cannot record the schema version", err, err_len);
}

/* Creates or migrates the schema in one transaction. The state is read
 * again under the write lock: another process may have done it meanwhile. */
static bool upgrade_schema(sqlite3 *db, char *err, size_t err_len)
{
    if (!begin_write(db, err, err_len))
        return false;
    struct schema_state state;
    int64_t from = 0;
    bool ok = read_schema_state(db, &state, err, err_len) &&
              classify_schema(&state, &from, err, err_len);
    if (ok && from < STORE_SCHEMA_VERSION)
        ok = apply_migrations(db, from, err, err_len);
    return end_transaction(db, ok, err, err_len);
}

/* WAL lets readers (serve, report) read while a capture writes, and makes
 * each commit atomic across kill -9. synchronous=FULL syncs the WAL at every
 * commit, so a power loss also keeps every completed checkpoint (NORMAL could
 * lose the commits since SQLite's last WAL checkpoint, minutes of them): one
 * fsync every few seconds is cheap. docs/store.md, "Durability". */
static bool configure_writer(sqlite3 *db, bool fresh, char *err, size_t err_len)
{
    /* auto_vacuum only takes effect before the first table exists. */
    if (fresh && !exec_sql(db, "PRAGMA auto_vacuum = INCREMENTAL", "cannot set auto_vacuum",
                           err, err_len))
        return false;
    sqlite3_stmt *stmt;
    if (!prepare(db, "PRAGMA journal_mode = WAL", &stmt, "cannot enable WAL", err, err_len))
        return false;
    int rc = sqlite3_step(stmt);
    bool wal = rc == SQLITE_ROW && column_text(stmt, 0) != NULL &&
               strcmp(column_text(stmt, 0), "wal") == 0;
    if (rc != SQLITE_ROW)
        sql_error(db, "cannot enable WAL", err, err_len);
    else if (!wal)
        set_error(err, err_len, "cannot enable WAL: journal mode stays %s", column_text(stmt, 0));
    sqlite3_finalize(stmt);
    return wal && exec_sql(db, "PRAGMA synchronous = FULL", "cannot set synchronous", err,
                           err_len);
}

/* Checks and prepares an open connection; `store->read_only` is set. */
static bool store_setup(struct store *store, char *err, size_t err_len)
{
    sqlite3 *db = store->db;
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
    if (!exec_sql(db, "PRAGMA foreign_keys = ON", "cannot enable foreign keys", err, err_len))
        return false;
    struct schema_state state;
    int64_t from = 0;
    /* The first read is where a file of random bytes is found out. */
    if (!read_schema_state(db, &state, err, err_len) ||
        !classify_schema(&state, &from, err, err_len))
        return false;
    if (store->read_only) {
        if (from == STORE_SCHEMA_VERSION)
            return true;
        if (from < 0)
            set_error(err, err_len, "the campaign database is empty");
        else
            set_error(err, err_len,
                      "campaign database schema version %lld must be migrated to %d: "
                      "open it once read-write",
                      (long long)from, STORE_SCHEMA_VERSION);
        return false;
    }
    return configure_writer(db, from < 0, err, err_len) && upgrade_schema(db, err, err_len);
}

struct store *store_open(const char *path, bool read_only, char *err, size_t err_len)
{
    struct store *store = calloc(1, sizeof(*store));
    if (store == NULL) {
        set_error(err, err_len, "out of memory");
        return NULL;
    }
    store->read_only = read_only;
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &store->db, flags, NULL) != SQLITE_OK) {
        set_error(err, err_len, "cannot open campaign database %s: %s", path,
                  store->db != NULL ? sqlite3_errmsg(store->db) : "out of memory");
        store_close(store);
        return NULL;
    }
    char why[512] = "";
    if (!store_setup(store, why, sizeof(why))) {
        set_error(err, err_len, "%s: %s", path, why);
        store_close(store);
        return NULL;
    }
    store->schema_version = STORE_SCHEMA_VERSION;
    return store;
}

void store_close(struct store *store)
{
    if (store == NULL)
        return;
    sqlite3_close(store->db); /* statements are always finalized: this cannot be busy */
    free(store);
}

int store_schema_version(const struct store *store)
{
    return store->schema_version;
}

/* ---- sessions ----------------------------------------------------------- */

/* The sources as a JSON array of strings; NULL on allocation failure. */
static char *sources_json(const char *const *sources, size_t count)
{
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; array != NULL && i < count; i++) {
        cJSON *item = cJSON_CreateString(sources[i] != NULL ? sources[i] : "");
        if (item == NULL || !cJSON_AddItemToArray(array, item)) {
            cJSON_Delete(item);
            cJSON_Delete(array);
            return NULL;
        }
    }
    char *text = array != NULL ? cJSON_PrintUnformatted(array) : NULL;
    cJSON_Delete(array);
    return text;
}

static bool session_info_valid(const struct store_session_info *info, char *err, size_t err_len)
{
    if (info == NULL || info->kind == NULL ||
        (strcmp(info->kind, "replay") != 0 && strcmp(info->kind, "live") != 0)) {
        set_error(err, err_len, "cannot begin a session: kind must be \"replay\" or \"live\"");
        return false;
    }
    if (info->matrix_text == NULL) {
        set_error(err, err_len, "cannot begin a session: no matrix text");
        return false;
    }
    if (info->source_count > 0 && info->sources == NULL) {
        set_error(err, err_len, "cannot begin a session: sources missing");
        return false;
    }
    return true;
}

bool store_begin_session(struct store *store, const struct store_session_info *info,
                         int64_t *session_id, char *err, size_t err_len)
{
    if (!check_writable(store, "cannot begin a session", err, err_len) ||
        !session_info_valid(info, err, err_len))
        return false;
    char *sources = sources_json(info->sources, info->source_count);
    if (sources == NULL) {
        set_error(err, err_len, "cannot begin a session: out of memory");
        return false;
    }
    sqlite3_stmt *stmt;
    bool ok = prepare(store->db,
                      "INSERT INTO sessions (kind, started_usec, matrix_path, matrix_text, sources)"
                      " VALUES (?1, ?2, ?3, ?4, ?5)",
                      &stmt, "cannot begin a session", err, err_len);
    if (ok) {
        sqlite3_bind_text(stmt, 1, info->kind, -1, SQLITE_STATIC);
        bind_u64(stmt, 2, info->started_usec);
        bind_text_or_null(stmt, 3, info->matrix_path);
        sqlite3_bind_text(stmt, 4, info->matrix_text, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 5, sources, -1, SQLITE_STATIC);
        ok = step_done(store->db, stmt, "cannot begin a session", err, err_len);
        sqlite3_finalize(stmt);
    }
    cJSON_free(sources);
    if (ok)
        *session_id = sqlite3_last_insert_rowid(store->db);
    return ok;
}

/* Fails unless the last statement changed exactly the session's row. */
static bool session_changed(sqlite3 *db, int64_t session_id, const char *what, char *err,
                            size_t err_len)
{
    if (sqlite3_changes(db) == 1)
        return true;
    set_error(err, err_len, "%s: no session %lld", what, (long long)session_id);
    return false;
}

bool store_end_session(struct store *store, int64_t session_id, uint64_t ended_usec, char *err,
                       size_t err_len)
{
    const char *what = "cannot end the session";
    if (!check_writable(store, what, err, err_len))
        return false;
    sqlite3_stmt *stmt;
    if (!prepare(store->db, "UPDATE sessions SET ended_usec = ?1 WHERE id = ?2", &stmt, what, err,
                 err_len))
        return false;
    bind_u64(stmt, 1, ended_usec);
    sqlite3_bind_int64(stmt, 2, session_id);
    bool ok = step_done(store->db, stmt, what, err, err_len) &&
              session_changed(store->db, session_id, what, err, err_len);
    sqlite3_finalize(stmt);
    return ok;
}

/* ---- checkpoints -------------------------------------------------------- */

#define RESULT_COLUMNS                                                                         \
    "session_id, provisional, is_finding, device, code, variant, risk, matrix_flow, client, " \
    "server, proto, port, app, first_usec, last_usec, connections, packets, bytes, evidence"

/* The evidence as a JSON array of [key, value] pairs (order and repeated
 * keys kept); NULL on allocation failure. */
static char *evidence_json(const struct evidence_item *items, size_t count)
{
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; array != NULL && i < count && i < AUDIT_EVIDENCE_MAX; i++) {
        const char *pair[2] = {items[i].key, items[i].value};
        cJSON *item = cJSON_CreateStringArray(pair, 2);
        if (item == NULL || !cJSON_AddItemToArray(array, item)) {
            cJSON_Delete(item);
            cJSON_Delete(array);
            return NULL;
        }
    }
    char *text = array != NULL ? cJSON_PrintUnformatted(array) : NULL;
    cJSON_Delete(array);
    return text;
}

/* Inserts one record with the prepared insert statement. */
static bool insert_record(sqlite3 *db, sqlite3_stmt *stmt, int64_t session_id, bool provisional,
                          const struct audit_record *record, char *err, size_t err_len)
{
    char *evidence = evidence_json(record->evidence, record->evidence_count);
    if (evidence == NULL) {
        set_error(err, err_len, "cannot checkpoint: out of memory");
        return false;
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    sqlite3_bind_int64(stmt, 1, session_id);
    sqlite3_bind_int(stmt, 2, provisional);
    sqlite3_bind_int(stmt, 3, record->is_finding);
    bind_text_or_null(stmt, 4, record->device);
    bind_text_or_null(stmt, 5, record->is_finding ? finding_code_name(record->code) : NULL);
    bind_text_or_null(stmt, 6, record->variant);
    bind_text_or_null(stmt, 7, record->risk);
    bind_text_or_null(stmt, 8, record->matrix_flow);
    bind_text_or_null(stmt, 9, record->flow.client_text);
    bind_text_or_null(stmt, 10, record->flow.server_text);
    sqlite3_bind_int(stmt, 11, record->flow.ip_proto);
    sqlite3_bind_int(stmt, 12, record->flow.port);
    bind_text_or_null(stmt, 13, record->flow.app);
    bind_u64(stmt, 14, record->first_usec);
    bind_u64(stmt, 15, record->last_usec);
    bind_u64(stmt, 16, record->flows);
    bind_u64(stmt, 17, record->packets);
    bind_u64(stmt, 18, record->bytes);
    bind_text_or_null(stmt, 19, evidence);
    bool ok = step_done(db, stmt, "cannot checkpoint a result", err, err_len);
    cJSON_free(evidence);
    return ok;
}

/* Inserts every finding and observed flow of `audit`. */
static bool insert_audit(sqlite3 *db, int64_t session_id, const struct audit *audit,
                         bool provisional, char *err, size_t err_len)
{
    sqlite3_stmt *stmt;
    if (!prepare(db,
                 "INSERT INTO results (" RESULT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
                 " ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
                 &stmt, "cannot checkpoint", err, err_len))
        return false;
    bool ok = true;
    for (size_t d = 0; ok && d < audit_device_count(audit); d++) {
        const struct audit_device *device = audit_get_device(audit, d);
        struct audit_record record;
        for (size_t i = 0; ok && i < device->finding_count; i++) {
            audit_export_finding(device, i, &record);
            ok = insert_record(db, stmt, session_id, provisional, &record, err, err_len);
        }
        for (size_t i = 0; ok && i < device->observed_count; i++) {
            audit_export_observed(device, i, &record);
            ok = insert_record(db, stmt, session_id, provisional, &record, err, err_len);
        }
    }
    sqlite3_finalize(stmt);
    return ok;
}

/* Writes the session's counters (absent ones as zero) and checkpoint time. */
static bool update_counters(sqlite3 *db, int64_t session_id, const struct report_input *input,
                            char *err, size_t err_len)
{
    const char *what = "cannot checkpoint the session's counters";
    sqlite3_stmt *stmt;
    if (!prepare(db,
                 "UPDATE sessions SET checkpoint_usec = ?1, packets = ?2, bytes = ?3,"
                 " ip_packets = ?4, malformed = ?5, not_ip = ?6, not_decoded = ?7,"
                 " fragments = ?8, first_usec = ?9, last_usec = ?10, dropped = ?11,"
                 " flows_active = ?12, flows_peak = ?13, flows_created = ?14, flows_idle = ?15,"
                 " flows_evicted = ?16, flows_flushed = ?17, dpi_classified = ?18,"
                 " dpi_guessed = ?19, dpi_unknown = ?20, dpi_state_bytes = ?21 WHERE id = ?22",
                 &stmt, what, err, err_len))
        return false;
    struct pipeline_counters counters = {0};
    struct flow_table_stats flows = {0};
    struct dpi_stats dpi = {0};
    if (input->counters != NULL)
        counters = *input->counters;
    if (input->flow_stats != NULL)
        flows = *input->flow_stats;
    if (input->dpi_stats != NULL)
        dpi = *input->dpi_stats;
    const uint64_t values[] = {
        wall_clock_usec(), counters.packets, counters.bytes, counters.ip_packets,
        counters.malformed, counters.not_ip, counters.not_decoded, counters.fragments,
        counters.first_usec, counters.last_usec, input->dropped, flows.active, flows.peak,
        flows.created, flows.ended_idle, flows.ended_evicted, flows.ended_flush,
        dpi.flows_classified, dpi.flows_guessed, dpi.flows_unknown, dpi.state_bytes};
    const int count = (int)(sizeof(values) / sizeof(values[0]));
    for (int i = 0; i < count; i++)
        bind_u64(stmt, i + 1, values[i]);
    sqlite3_bind_int64(stmt, count + 1, session_id);
    bool ok = step_done(db, stmt, what, err, err_len) &&
              session_changed(db, session_id, "cannot checkpoint", err, err_len);
    sqlite3_finalize(stmt);
    return ok;
}

static bool delete_results(sqlite3 *db, int64_t session_id, char *err, size_t err_len)
{
    sqlite3_stmt *stmt;
    if (!prepare(db, "DELETE FROM results WHERE session_id = ?1", &stmt, "cannot checkpoint", err,
                 err_len))
        return false;
    sqlite3_bind_int64(stmt, 1, session_id);
    bool ok = step_done(db, stmt, "cannot replace the session's results", err, err_len);
    sqlite3_finalize(stmt);
    return ok;
}

bool store_checkpoint(struct store *store, int64_t session_id, const struct report_input *input,
                      const struct audit *provisional, char *err, size_t err_len)
{
    if (!check_writable(store, "cannot checkpoint", err, err_len))
        return false;
    if (input == NULL || input->audit == NULL) {
        set_error(err, err_len, "cannot checkpoint: no audit given");
        return false;
    }
    if (!begin_write(store->db, err, err_len))
        return false;
    bool ok = update_counters(store->db, session_id, input, err, err_len) &&
              delete_results(store->db, session_id, err, err_len) &&
              insert_audit(store->db, session_id, input->audit, false, err, err_len) &&
              (provisional == NULL ||
               insert_audit(store->db, session_id, provisional, true, err, err_len));
    return end_transaction(store->db, ok, err, err_len);
}

/* ---- retention ---------------------------------------------------------- */

bool store_purge(struct store *store, unsigned retention_days, uint64_t now_usec, size_t *purged,
                 char *err, size_t err_len)
{
    const char *what = "cannot purge old sessions";
    *purged = 0;
    if (!check_writable(store, what, err, err_len))
        return false;
    /* Past the epoch there is nothing older: no underflow, no overflow. */
    uint64_t cutoff = 0;
    if (retention_days < now_usec / STORE_DAY_USEC)
        cutoff = now_usec - (uint64_t)retention_days * STORE_DAY_USEC;
    sqlite3_stmt *stmt;
    if (!prepare(store->db,
                 "DELETE FROM sessions"
                 " WHERE coalesce(ended_usec, checkpoint_usec, started_usec) < ?1",
                 &stmt, what, err, err_len))
        return false;
    bind_u64(stmt, 1, cutoff);
    bool ok = step_done(store->db, stmt, what, err, err_len);
    sqlite3_finalize(stmt);
    if (!ok)
        return false;
    /* Counts the sessions only: cascaded results are not in changes(). */
    *purged = (size_t)sqlite3_changes(store->db);
    /* Give freed pages back to the file system (auto_vacuum=INCREMENTAL);
     * a pre-release database without it just keeps them for reuse. */
    return *purged == 0 ||
           exec_sql(store->db, "PRAGMA incremental_vacuum", what, err, err_len);
}

/* ---- loading the campaign ----------------------------------------------- */

/* Parses the newest session's matrix. */
static bool load_matrix(sqlite3 *db, struct store_campaign *campaign, char *err, size_t err_len)
{
    const char *what = "cannot read the campaign's matrix";
    sqlite3_stmt *stmt;
    if (!prepare(db, "SELECT id, matrix_path, matrix_text FROM sessions ORDER BY id DESC LIMIT 1",
                 &stmt, what, err, err_len))
        return false;
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            set_error(err, err_len, "the campaign database holds no session");
        else
            sql_error(db, what, err, err_len);
        sqlite3_finalize(stmt);
        return false;
    }
    const char *name = column_text(stmt, 1) != NULL ? column_text(stmt, 1) : "stored matrix";
    const char *text = column_text(stmt, 2) != NULL ? column_text(stmt, 2) : "";
    size_t len = (size_t)sqlite3_column_bytes(stmt, 2);
    struct diag diag;
    diag_init(&diag);
    campaign->matrix = matrix_parse_json(name, text, len, &diag);
    if (campaign->matrix == NULL) {
        char first[512] = "no detail";
        if (diag.count > 0)
            diag_format(&diag, 0, first, sizeof(first));
        set_error(err, err_len, "the matrix stored with session %lld is refused: %s",
                  (long long)sqlite3_column_int64(stmt, 0), first);
    }
    diag_free(&diag);
    sqlite3_finalize(stmt);
    return campaign->matrix != NULL;
}

/* Appends `source` unless the campaign already lists it. */
static bool add_source(struct store_campaign *campaign, const char *source)
{
    for (size_t i = 0; i < campaign->source_count; i++) {
        if (strcmp(campaign->sources[i], source) == 0)
            return true;
    }
    char **grown = realloc(campaign->sources, (campaign->source_count + 1) * sizeof(*grown));
    if (grown == NULL)
        return false;
    campaign->sources = grown;
    char *copy = strdup(source);
    if (copy == NULL)
        return false;
    campaign->sources[campaign->source_count++] = copy;
    return true;
}

/* Adds a session's JSON source list, in order. */
static bool add_sources(struct store_campaign *campaign, int64_t session_id, const char *json,
                        int len, char *err, size_t err_len)
{
    cJSON *array = json != NULL ? cJSON_ParseWithLength(json, (size_t)len) : NULL;
    bool ok = cJSON_IsArray(array);
    if (!ok)
        set_error(err, err_len, "session %lld: malformed source list", (long long)session_id);
    const cJSON *list = ok ? array : NULL;
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        if (!cJSON_IsString(item))
            continue;
        if (!add_source(campaign, item->valuestring)) {
            set_error(err, err_len, "out of memory");
            ok = false;
            break;
        }
    }
    cJSON_Delete(array);
    return ok;
}

static void widen_span(uint64_t *first, uint64_t *last, uint64_t from, uint64_t to)
{
    if (from != 0 && (*first == 0 || from < *first))
        *first = from;
    if (to > *last)
        *last = to;
}

/* Adds one session row (columns of load_sessions' query) to the totals. */
static void add_session_counters(struct store_campaign *campaign, sqlite3_stmt *stmt)
{
    struct pipeline_counters *c = &campaign->counters;
    c->packets += column_u64(stmt, 2);
    c->bytes += column_u64(stmt, 3);
    c->ip_packets += column_u64(stmt, 4);
    c->malformed += column_u64(stmt, 5);
    c->not_ip += column_u64(stmt, 6);
    c->not_decoded += column_u64(stmt, 7);
    c->fragments += column_u64(stmt, 8);
    widen_span(&c->first_usec, &c->last_usec, column_u64(stmt, 9), column_u64(stmt, 10));
    campaign->report.dropped += column_u64(stmt, 11);
    struct flow_table_stats *f = &campaign->flow_stats;
    f->active += (size_t)column_u64(stmt, 12);
    if ((size_t)column_u64(stmt, 13) > f->peak)
        f->peak = (size_t)column_u64(stmt, 13); /* never more at once than in one session */
    f->created += column_u64(stmt, 14);
    f->ended_idle += column_u64(stmt, 15);
    f->ended_evicted += column_u64(stmt, 16);
    f->ended_flush += column_u64(stmt, 17);
    struct dpi_stats *d = &campaign->dpi_stats;
    d->flows_classified += column_u64(stmt, 18);
    d->flows_guessed += column_u64(stmt, 19);
    d->flows_unknown += column_u64(stmt, 20);
    if (column_u64(stmt, 21) > d->state_bytes)
        d->state_bytes = column_u64(stmt, 21); /* a gauge: the largest */
    uint64_t started = column_u64(stmt, 22);
    uint64_t activity = column_u64(stmt, 23);
    widen_span(&campaign->first_session_usec, &campaign->last_session_usec, started,
               activity > started ? activity : started);
    campaign->session_count++;
}

/* Sums every session's counters and lists their sources. */
static bool load_sessions(sqlite3 *db, struct store_campaign *campaign, char *err, size_t err_len)
{
    const char *what = "cannot read the campaign's sessions";
    sqlite3_stmt *stmt;
    if (!prepare(db,
                 "SELECT id, sources, packets, bytes, ip_packets, malformed, not_ip,"
                 " not_decoded, fragments, first_usec, last_usec, dropped, flows_active,"
                 " flows_peak, flows_created, flows_idle, flows_evicted, flows_flushed,"
                 " dpi_classified, dpi_guessed, dpi_unknown, dpi_state_bytes, started_usec,"
                 " coalesce(ended_usec, checkpoint_usec, started_usec)"
                 " FROM sessions ORDER BY id",
                 &stmt, what, err, err_len))
        return false;
    bool ok = true;
    int rc;
    while (ok && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        add_session_counters(campaign, stmt);
        ok = add_sources(campaign, sqlite3_column_int64(stmt, 0), column_text(stmt, 1),
                         sqlite3_column_bytes(stmt, 1), err, err_len);
    }
    if (ok && rc != SQLITE_DONE)
        ok = sql_error(db, what, err, err_len);
    sqlite3_finalize(stmt);
    return ok;
}

/* Fills the record's evidence from its JSON text into `items`. */
static bool parse_evidence(const char *json, int len, struct evidence_item *items,
                           size_t *count)
{
    *count = 0;
    cJSON *array = json != NULL ? cJSON_ParseWithLength(json, (size_t)len) : NULL;
    bool ok = cJSON_IsArray(array);
    const cJSON *list = ok ? array : NULL;
    const cJSON *pair;
    cJSON_ArrayForEach(pair, list) {
        const cJSON *key = cJSON_GetArrayItem(pair, 0);
        const cJSON *value = cJSON_GetArrayItem(pair, 1);
        if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2 || !cJSON_IsString(key) ||
            !cJSON_IsString(value)) {
            ok = false;
            break;
        }
        if (*count < AUDIT_EVIDENCE_MAX) { /* the audit keeps no more */
            snprintf(items[*count].key, sizeof(items[*count].key), "%s", key->valuestring);
            snprintf(items[*count].value, sizeof(items[*count].value), "%s",
                     value->valuestring);
            (*count)++;
        }
    }
    cJSON_Delete(array);
    return ok;
}

/* Columns of load_results' query. */
enum result_column {
    RC_ID, RC_IS_FINDING, RC_DEVICE, RC_CODE, RC_VARIANT, RC_RISK, RC_MATRIX_FLOW, RC_CLIENT,
    RC_SERVER, RC_PROTO, RC_PORT, RC_APP, RC_FIRST, RC_LAST, RC_CONNECTIONS, RC_PACKETS,
    RC_BYTES, RC_EVIDENCE
};

/* The record of a result row; text pointers stay valid until the next
 * step. A value the audit cannot hold (protocol or port out of range, an
 * unknown code) leaves the record with no connection, which audit_import
 * refuses and counts in its `dropped`. */
static void row_record(sqlite3_stmt *stmt, struct audit_record *record)
{
    memset(record, 0, sizeof(*record));
    record->device = column_text(stmt, RC_DEVICE);
    record->is_finding = sqlite3_column_int(stmt, RC_IS_FINDING) != 0;
    record->variant = column_text(stmt, RC_VARIANT);
    record->risk = column_text(stmt, RC_RISK);
    record->matrix_flow = column_text(stmt, RC_MATRIX_FLOW);
    struct audit_flow_ref *ref = &record->flow;
    const char *client = column_text(stmt, RC_CLIENT), *server = column_text(stmt, RC_SERVER);
    const char *app = column_text(stmt, RC_APP);
    snprintf(ref->client_text, sizeof(ref->client_text), "%s", client != NULL ? client : "");
    snprintf(ref->server_text, sizeof(ref->server_text), "%s", server != NULL ? server : "");
    snprintf(ref->app, sizeof(ref->app), "%s", app != NULL ? app : "");
    if (!net_addr_parse(ref->client_text, &ref->client))
        memset(&ref->client, 0, sizeof(ref->client));
    if (!net_addr_parse(ref->server_text, &ref->server))
        memset(&ref->server, 0, sizeof(ref->server));
    int64_t proto = sqlite3_column_int64(stmt, RC_PROTO);
    int64_t port = sqlite3_column_int64(stmt, RC_PORT);
    record->first_usec = column_u64(stmt, RC_FIRST);
    record->last_usec = column_u64(stmt, RC_LAST);
    record->flows = column_u64(stmt, RC_CONNECTIONS);
    record->packets = column_u64(stmt, RC_PACKETS);
    record->bytes = column_u64(stmt, RC_BYTES);
    bool valid = proto >= 0 && proto <= UINT8_MAX && port >= 0 && port <= UINT16_MAX;
    const char *code = column_text(stmt, RC_CODE);
    if (record->is_finding)
        valid = valid && code != NULL && finding_code_parse(code, &record->code);
    ref->ip_proto = (uint8_t)(valid ? proto : 0);
    ref->port = (uint16_t)(valid ? port : 0);
    if (!valid)
        record->flows = 0;
}

/* Merges every stored result into the campaign's audit, oldest session
 * first (the first record merged gives a finding its evidence). */
static bool load_results(sqlite3 *db, struct audit *audit, char *err, size_t err_len)
{
    const char *what = "cannot read the campaign's results";
    sqlite3_stmt *stmt;
    if (!prepare(db,
                 "SELECT id, is_finding, device, code, variant, risk, matrix_flow, client,"
                 " server, proto, port, app, first_usec, last_usec, connections, packets,"
                 " bytes, evidence FROM results ORDER BY session_id, provisional, id",
                 &stmt, what, err, err_len))
        return false;
    bool ok = true;
    int rc;
    while (ok && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct audit_record record;
        struct evidence_item evidence[AUDIT_EVIDENCE_MAX];
        row_record(stmt, &record);
        ok = parse_evidence(column_text(stmt, RC_EVIDENCE),
                            sqlite3_column_bytes(stmt, RC_EVIDENCE), evidence,
                            &record.evidence_count);
        if (!ok) {
            set_error(err, err_len, "result %lld: malformed evidence",
                      (long long)sqlite3_column_int64(stmt, RC_ID));
            break;
        }
        record.evidence = evidence;
        audit_import(audit, &record); /* a refused record is counted in `dropped` */
    }
    if (ok && rc != SQLITE_DONE)
        ok = sql_error(db, what, err, err_len);
    sqlite3_finalize(stmt);
    return ok;
}

/* Points the report at the campaign's own copies. */
static void fill_report(struct store_campaign *campaign)
{
    struct report_input *report = &campaign->report;
    report->sources = (const char *const *)campaign->sources;
    report->source_count = campaign->source_count;
    report->counters = &campaign->counters;
    report->flow_stats = &campaign->flow_stats;
    report->dpi_stats = &campaign->dpi_stats;
    report->matrix = campaign->matrix;
    report->rules = &campaign->rules;
    report->audit = campaign->audit;
    report->access = NULL;     /* not stored: only the findings it raised are */
    report->generated_at = NULL;
}

static bool load_campaign_content(sqlite3 *db, const struct rules *rules,
                                  struct store_campaign *campaign, char *err, size_t err_len)
{
    if (!load_matrix(db, campaign, err, err_len))
        return false;
    campaign->rules = *rules;
    campaign->audit = audit_create(campaign->matrix, &campaign->rules, AUDIT_DEFAULT_MAX_ENTRIES);
    if (campaign->audit == NULL) {
        set_error(err, err_len, "cannot load the campaign: out of memory");
        return false;
    }
    if (!load_sessions(db, campaign, err, err_len) ||
        !load_results(db, campaign->audit, err, err_len))
        return false;
    audit_finish(campaign->audit);
    fill_report(campaign);
    return true;
}

bool store_load_campaign(struct store *store, const struct rules *rules,
                         struct store_campaign *campaign, char *err, size_t err_len)
{
    memset(campaign, 0, sizeof(*campaign));
    /* One read transaction: a capture checkpointing meanwhile is seen
     * entirely before or entirely after. */
    if (!exec_sql(store->db, "BEGIN", "cannot start a read transaction", err, err_len))
        return false;
    bool ok = load_campaign_content(store->db, rules, campaign, err, err_len);
    sqlite3_exec(store->db, "COMMIT", NULL, NULL, NULL); /* read-only: nothing to lose */
    if (!ok)
        store_campaign_free(campaign);
    return ok;
}

void store_campaign_free(struct store_campaign *campaign)
{
    if (campaign == NULL)
        return;
    audit_destroy(campaign->audit); /* before the matrix it points into */
    matrix_free(campaign->matrix);
    for (size_t i = 0; i < campaign->source_count; i++)
        free(campaign->sources[i]);
    free(campaign->sources);
    memset(campaign, 0, sizeof(*campaign));
}
