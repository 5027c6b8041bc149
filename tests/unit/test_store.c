/* Unit tests of store: creation and reopening (schema version, WAL,
 * application id), refusal of newer, foreign and corrupt files, migration
 * of a pre-release (version 0) database with its data, checkpoints
 * (idempotent, atomic, provisional results), merge of sessions into one
 * campaign, retention purge, read-only use, evidence round trip, hostile
 * rows, and a SIGKILL in the middle of checkpoints. Each test works in its
 * own temporary directory; audits are built from hand-made flows. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fluxaudit/store.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

#ifdef FLUXAUDIT_SOURCE_ROOT
#define SOURCE_ROOT FLUXAUDIT_SOURCE_ROOT
#else
#define SOURCE_ROOT TEST_DATA_DIR "/../.."
#endif

#define T0 1700000000000000ull /* 2023-11-14T22:13:20Z */
#define SEC 1000000ull
#define DAY (86400ull * SEC)

/* ct declares three flows: F1 to the PACS, F2 to NTP, F3 to a web host.
 * Single quotes stand for double quotes. */
#define M_CT                                                                                 \
    "{'format':'fluxaudit-matrix/1','hosts':{'pacs':['10.10.2.10'],'ntp':['10.10.2.20'],"   \
    "'web':['10.10.2.7']},'devices':[{'name':'ct','addresses':['10.10.1.20'],'flows':["       \
    "{'id':'F1','from':'device','to':'pacs','proto':'tcp','port':104},"                      \
    "{'id':'F2','from':'device','to':'ntp','proto':'udp','port':123},"                       \
    "{'id':'F3','from':'device','to':'web','proto':'tcp','port':443}]}]}"

/* The same site after ct was renamed: nothing stored for "ct" applies. */
#define M_RENAMED                                                                            \
    "{'format':'fluxaudit-matrix/1','hosts':{'pacs':['10.10.2.10']},'devices':[{"            \
    "'name':'ct-3','addresses':['10.10.1.20'],'flows':["                                     \
    "{'id':'F1','from':'device','to':'pacs','proto':'tcp','port':104}]}]}"

/* ---- temporary directory ------------------------------------------------ */

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/fluxaudit-store-XXXXXX");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void remove_tmpdir(void)
{
    DIR *dir = opendir(tmpdir);
    if (dir == NULL)
        return;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", tmpdir, entry->d_name);
        unlink(path);
    }
    closedir(dir);
    rmdir(tmpdir);
}

/* A path in the test's directory (one static buffer per name slot). */
static const char *tmp_path(const char *name)
{
    static char paths[4][512];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, 512, "%s/%s", tmpdir, name);
    return path;
}

/* ---- fixtures ----------------------------------------------------------- */

struct fx {
    char *matrix_text;
    struct matrix *matrix;
    struct rules rules;
};

static const char *source_path(const char *relative)
{
    static char path[1024];
    const char *root = getenv("FLUXAUDIT_SOURCE_ROOT");
    snprintf(path, sizeof(path), "%s/%s", root != NULL && root[0] != '\0' ? root : SOURCE_ROOT,
             relative);
    return path;
}

static void load_rules(struct rules *rules)
{
    struct diag d;
    diag_init(&d);
    bool ok = rules_load(source_path("rules/findings.json"), rules, &d);
    char first[512] = "";
    if (d.count > 0)
        diag_format(&d, 0, first, sizeof(first));
    diag_free(&d);
    ck_assert_msg(ok, "cannot load rules: %s", first);
}

static char *dquote(const char *squoted)
{
    char *text = strdup(squoted);
    ck_assert_ptr_nonnull(text);
    for (char *p = text; *p; p++) {
        if (*p == '\'')
            *p = '"';
    }
    return text;
}

static void fx_open(struct fx *fx, const char *squoted_matrix)
{
    memset(fx, 0, sizeof(*fx));
    fx->matrix_text = dquote(squoted_matrix);
    struct diag d;
    diag_init(&d);
    fx->matrix = matrix_parse_json("matrix.json", fx->matrix_text, strlen(fx->matrix_text), &d);
    char first[512] = "";
    if (d.count > 0)
        diag_format(&d, 0, first, sizeof(first));
    diag_free(&d);
    ck_assert_msg(fx->matrix != NULL, "matrix refused: %s", first);
    load_rules(&fx->rules);
}

static void fx_close(struct fx *fx)
{
    matrix_free(fx->matrix);
    free(fx->matrix_text);
    memset(fx, 0, sizeof(*fx));
}

/* A flow of `packets` packets (100 bytes each) over 5 s from `first`. */
static struct flow make_flow(const char *server, uint16_t port, uint8_t ip_proto, uint64_t first,
                             uint64_t packets)
{
    struct flow f;
    memset(&f, 0, sizeof(f));
    ck_assert(net_addr_parse("10.10.1.20", &f.client));
    ck_assert_msg(net_addr_parse(server, &f.server), "bad server %s", server);
    f.client_port = 40000;
    f.server_port = port;
    f.ip_proto = ip_proto;
    f.packets[FLOW_TO_SERVER] = packets;
    f.bytes[FLOW_TO_SERVER] = packets * 100;
    f.first_usec = first;
    f.last_usec = first + 5 * SEC;
    return f;
}

static struct flow pacs_flow(uint64_t first, uint64_t packets)
{
    return make_flow("10.10.2.10", 104, IP_PROTO_TCP, first, packets);
}

static struct flow ntp_flow(uint64_t first, uint64_t packets)
{
    return make_flow("10.10.2.20", 123, IP_PROTO_UDP, first, packets);
}

static struct flow stray_flow(uint64_t first, uint64_t packets)
{
    return make_flow("10.10.9.9", 8080, IP_PROTO_TCP, first, packets);
}

/* An audit of `count` flows, finished. */
static struct audit *run_audit(const struct fx *fx, const struct flow *flows, size_t count)
{
    struct audit *audit = audit_create(fx->matrix, &fx->rules, AUDIT_DEFAULT_MAX_ENTRIES);
    ck_assert_ptr_nonnull(audit);
    for (size_t i = 0; i < count; i++)
        audit_flow(audit, &flows[i]);
    audit_finish(audit);
    return audit;
}

static struct store *open_ok(const char *path, bool read_only)
{
    char err[512] = "";
    struct store *store = store_open(path, read_only, err, sizeof(err));
    ck_assert_msg(store != NULL, "store_open(%s): %s", path, err);
    ck_assert_str_eq(err, "");
    return store;
}

/* Opening must fail with a message containing `expected`. */
static void open_refused(const char *path, bool read_only, const char *expected)
{
    char err[512] = "";
    struct store *store = store_open(path, read_only, err, sizeof(err));
    ck_assert_msg(store == NULL, "%s opened", path);
    ck_assert_msg(strstr(err, expected) != NULL, "message \"%s\" lacks \"%s\"", err, expected);
}

static int64_t begin_ok(struct store *store, const struct fx *fx, const char *kind,
                        const char *const *sources, size_t source_count, uint64_t started)
{
    struct store_session_info info = {.kind = kind, .sources = sources,
                                      .source_count = source_count,
                                      .matrix_text = fx->matrix_text,
                                      .matrix_path = "matrix.json", .started_usec = started};
    int64_t id = -1;
    char err[512] = "";
    ck_assert_msg(store_begin_session(store, &info, &id, err, sizeof(err)), "begin: %s", err);
    ck_assert_int_gt(id, 0);
    return id;
}

/* The counters a session reports: `packets` packets of 100 bytes between
 * `first` and `first` + 1 h; other counters derived so sums are checkable. */
struct counters_fx {
    struct pipeline_counters counters;
    struct flow_table_stats flows;
    struct dpi_stats dpi;
};

static struct counters_fx session_counters(uint64_t packets, uint64_t first)
{
    struct counters_fx c;
    memset(&c, 0, sizeof(c));
    c.counters = (struct pipeline_counters){.packets = packets, .bytes = packets * 100,
                                            .ip_packets = packets - 1, .malformed = 1,
                                            .not_ip = 2, .not_decoded = 3, .fragments = 4,
                                            .first_usec = first, .last_usec = first + 3600 * SEC};
    c.flows = (struct flow_table_stats){.active = 1, .peak = packets / 10, .created = 7,
                                        .ended_idle = 5, .ended_evicted = 1, .ended_flush = 1};
    c.dpi = (struct dpi_stats){.flows_classified = 4, .flows_guessed = 2, .flows_unknown = 1,
                               .state_bytes = packets * 3};
    return c;
}

static bool checkpoint(struct store *store, int64_t id, const struct audit *audit,
                       const struct audit *provisional, const struct counters_fx *c, char *err,
                       size_t err_len)
{
    struct report_input input = {.counters = &c->counters, .flow_stats = &c->flows,
                                 .dpi_stats = &c->dpi, .audit = audit, .dropped = 9};
    return store_checkpoint(store, id, &input, provisional, err, err_len);
}

static void checkpoint_ok(struct store *store, int64_t id, const struct audit *audit,
                          const struct audit *provisional, uint64_t packets, uint64_t first)
{
    struct counters_fx c = session_counters(packets, first);
    char err[512] = "";
    ck_assert_msg(checkpoint(store, id, audit, provisional, &c, err, sizeof(err)),
                  "checkpoint: %s", err);
}

static void end_ok(struct store *store, int64_t id, uint64_t ended)
{
    char err[512] = "";
    ck_assert_msg(store_end_session(store, id, ended, err, sizeof(err)), "end: %s", err);
}

static void load_ok(struct store *store, const struct rules *rules,
                    struct store_campaign *campaign)
{
    char err[512] = "";
    ck_assert_msg(store_load_campaign(store, rules, campaign, err, sizeof(err)), "load: %s",
                  err);
}

/* ---- raw SQLite access (what the store wrote) --------------------------- */

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                     NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = raw_open(path);
    char *message = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &message);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, message != NULL ? message : "?");
    sqlite3_close(db);
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db = raw_open(path);
    sqlite3_stmt *stmt = NULL;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    int64_t value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
}

/* Every row of `sql` as text ("a|b|c\n" per row), malloc'd. */
static char *raw_dump(const char *path, const char *sql)
{
    sqlite3 *db = raw_open(path);
    sqlite3_stmt *stmt = NULL;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    ck_assert_ptr_nonnull(out);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(stmt); i++) {
            const unsigned char *value = sqlite3_column_text(stmt, i);
            fprintf(out, "%s%s", i > 0 ? "|" : "", value != NULL ? (const char *)value : "NULL");
        }
        fputc('\n', out);
    }
    fclose(out);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return text;
}

static void raw_load_script(const char *path, const char *script_path)
{
    FILE *f = fopen(script_path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", script_path);
    static char script[1 << 16];
    size_t len = fread(script, 1, sizeof(script) - 1, f);
    fclose(f);
    script[len] = '\0';
    raw_exec(path, script);
}

/* ---- campaign lookups --------------------------------------------------- */

static const struct audit_device *device0(const struct store_campaign *campaign)
{
    const struct audit_device *d = audit_get_device(campaign->audit, 0);
    ck_assert_ptr_nonnull(d);
    return d;
}

static size_t count_code(const struct audit_device *d, enum finding_code code)
{
    size_t n = 0;
    for (size_t i = 0; i < d->finding_count; i++)
        n += d->findings[i].code == code;
    return n;
}

static const struct audit_finding *finding_of(const struct audit_device *d,
                                              enum finding_code code, const char *flow_id)
{
    for (size_t i = 0; i < d->finding_count; i++) {
        const struct audit_finding *f = &d->findings[i];
        const char *id = f->matrix_flow != NULL ? f->matrix_flow->id : NULL;
        if (f->code == code &&
            (flow_id == NULL ? id == NULL : id != NULL && strcmp(id, flow_id) == 0))
            return f;
    }
    return NULL;
}

static const struct audit_observed_flow *observed_to(const struct audit_device *d,
                                                     const char *server, uint16_t port)
{
    for (size_t i = 0; i < d->observed_count; i++) {
        const struct audit_observed_flow *o = &d->observed[i];
        if (strcmp(o->flow.server_text, server) == 0 && o->flow.port == port)
            return o;
    }
    return NULL;
}

static uint64_t dropped_of(const struct store_campaign *campaign)
{
    struct audit_stats stats;
    audit_get_stats(campaign->audit, &stats);
    return stats.dropped;
}

/* ---- opening ------------------------------------------------------------ */

START_TEST(test_create_and_reopen)
{
    const char *path = tmp_path("campaign.db");
    struct store *store = open_ok(path, false);
    ck_assert_int_eq(store_schema_version(store), STORE_SCHEMA_VERSION);
    ck_assert_int_eq(STORE_SCHEMA_VERSION, 1);
    store_close(store);
    ck_assert_int_eq(raw_int(path, "PRAGMA user_version"), 1);
    ck_assert_int_eq(raw_int(path, "PRAGMA application_id"), 0x464C5841);
    ck_assert_int_eq(raw_int(path, "PRAGMA auto_vacuum"), 2); /* incremental */
    char *mode = raw_dump(path, "PRAGMA journal_mode");
    ck_assert_str_eq(mode, "wal\n");
    free(mode);
    char *tables = raw_dump(path, "SELECT type, name FROM sqlite_master ORDER BY name");
    ck_assert_str_eq(tables, "table|results\nindex|results_by_session\ntable|sessions\n");
    free(tables);
    store = open_ok(path, false); /* reopening changes nothing */
    ck_assert_int_eq(store_schema_version(store), 1);
    store_close(store);
    store = open_ok(path, true);
    ck_assert_int_eq(store_schema_version(store), 1);
    store_close(store);
    ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM sessions"), 0);
    store_close(NULL);
}
END_TEST

START_TEST(test_refuse_newer_version)
{
    const char *path = tmp_path("campaign.db");
    store_close(open_ok(path, false));
    raw_exec(path, "PRAGMA user_version = 2");
    open_refused(path, false, "schema version 2 is newer than this fluxaudit's (1)");
    open_refused(path, true, "schema version 2 is newer");
    ck_assert_int_eq(raw_int(path, "PRAGMA user_version"), 2); /* left alone */
}
END_TEST

START_TEST(test_refuse_foreign_database)
{
    const char *other = tmp_path("other.db");
    raw_exec(other, "CREATE TABLE patients (id INTEGER)");
    open_refused(other, false, "not a fluxaudit campaign database (no sessions/results tables)");
    ck_assert_int_eq(raw_int(other, "SELECT count(*) FROM sqlite_master"), 1); /* untouched */

    const char *app = tmp_path("app.db");
    raw_exec(app, "PRAGMA application_id = 1234; CREATE TABLE t (x)");
    open_refused(app, false, "not a fluxaudit campaign database (application id 0x000004d2)");

    const char *versioned = tmp_path("versioned.db");
    raw_exec(versioned,
             "PRAGMA user_version = 1; CREATE TABLE sessions (x); CREATE TABLE results (y)");
    open_refused(versioned, false, "not a fluxaudit campaign database (user_version 1)");
}
END_TEST

START_TEST(test_refuse_corrupt_file)
{
    const char *path = tmp_path("random.db");
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    uint32_t state = 0x12345678u;
    for (int i = 0; i < 8192; i++) {
        state = state * 1103515245u + 12345u; /* deterministic "random" bytes */
        fputc((int)(state >> 24), f);
    }
    fclose(f);
    open_refused(path, false, "file is not a database");
    open_refused(path, true, "file is not a database");
    char err[512];
    ck_assert_ptr_null(store_open(path, false, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, path)); /* the message names the file */
}
END_TEST

START_TEST(test_read_only_missing_or_empty)
{
    open_refused(tmp_path("missing.db"), true, "cannot open campaign database");
    const char *empty = tmp_path("empty.db");
    FILE *f = fopen(empty, "wb");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    open_refused(empty, true, "the campaign database is empty");
}
END_TEST

/* ---- migration ---------------------------------------------------------- */

/* The columns and indexes of a database, for comparing layouts. */
static char *schema_dump(const char *path)
{
    return raw_dump(path,
                    "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk"
                    " FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'"
                    " UNION ALL SELECT m.name, i.seqno, i.name, m.tbl_name, '', '', ''"
                    " FROM sqlite_master m, pragma_index_info(m.name) i WHERE m.type = 'index'"
                    " ORDER BY 1, 2");
}

START_TEST(test_migrate_from_version_0)
{
    const char *path = tmp_path("prerelease.db");
    raw_load_script(path, TEST_DATA_DIR "/store/schema-v0.sql");
    ck_assert_int_eq(raw_int(path, "PRAGMA user_version"), 0);
    /* A reader cannot migrate: it says what to do. */
    open_refused(path, true, "schema version 0 must be migrated to 1: open it once read-write");

    struct store *store = open_ok(path, false);
    ck_assert_int_eq(store_schema_version(store), 1);
    ck_assert_int_eq(raw_int(path, "PRAGMA user_version"), 1);
    ck_assert_int_eq(raw_int(path, "PRAGMA application_id"), 0x464C5841);
    /* Every row kept; pre-release results were final, never checkpointed. */
    ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM results"), 5);
    ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM results WHERE provisional = 0"), 5);
    ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM sessions WHERE checkpoint_usec IS NULL"),
                     1);

    /* A fresh database has exactly the migrated layout. */
    const char *fresh = tmp_path("fresh.db");
    store_close(open_ok(fresh, false));
    char *a = schema_dump(path), *b = schema_dump(fresh);
    ck_assert_str_eq(a, b);
    ck_assert_ptr_nonnull(strstr(a, "results|19|provisional|INTEGER|1|0|0\n"));
    ck_assert_ptr_nonnull(strstr(a, "sessions|27|checkpoint_usec|INTEGER|0|NULL|0\n"));
    free(a);
    free(b);

    struct rules rules;
    load_rules(&rules);
    struct store_campaign campaign;
    load_ok(store, &rules, &campaign);
    ck_assert_uint_eq(campaign.session_count, 1);
    ck_assert_uint_eq(campaign.source_count, 1);
    ck_assert_str_eq(campaign.sources[0], "day1.pcap");
    ck_assert_uint_eq(campaign.counters.packets, 1000);
    ck_assert_uint_eq(campaign.counters.bytes, 640000);
    ck_assert_uint_eq(campaign.counters.first_usec, T0);
    ck_assert_uint_eq(campaign.counters.last_usec, T0 + 900 * SEC);
    ck_assert_uint_eq(campaign.flow_stats.created, 40);
    ck_assert_uint_eq(campaign.dpi_stats.flows_classified, 35);
    ck_assert_uint_eq(campaign.first_session_usec, T0);
    ck_assert_uint_eq(campaign.last_session_usec, T0 + 3600 * SEC);
    const struct audit_device *d = device0(&campaign);
    const struct audit_observed_flow *pacs = observed_to(d, "10.10.2.10", 104);
    ck_assert_ptr_nonnull(pacs);
    ck_assert_uint_eq(pacs->flows, 3);
    ck_assert_uint_eq(pacs->packets, 30);
    ck_assert_str_eq(pacs->flow.app, "DICOM");
    const struct audit_finding *stray = finding_of(d, FINDING_FLOW_UNDECLARED, NULL);
    ck_assert_ptr_nonnull(stray);
    ck_assert_uint_eq(stray->flows, 1);
    ck_assert_uint_eq(stray->evidence_count, 2);
    ck_assert_str_eq(stray->evidence[1].key, "peer");
    ck_assert_str_eq(stray->evidence[1].value, "10.10.9.9 \"lab\"");
    /* Recomputed for the campaign: F1 was observed, F2 and F3 were not. */
    ck_assert_uint_eq(count_code(d, FINDING_FLOW_NOT_OBSERVED), 2);
    ck_assert_ptr_null(finding_of(d, FINDING_FLOW_NOT_OBSERVED, "F1"));
    ck_assert_ptr_nonnull(finding_of(d, FINDING_FLOW_NOT_OBSERVED, "F2"));
    ck_assert_uint_eq(dropped_of(&campaign), 0);
    store_campaign_free(&campaign);
    store_close(store);
}
END_TEST

/* ---- checkpoints -------------------------------------------------------- */

#define RESULT_ROWS                                                                          \
    "SELECT session_id, provisional, is_finding, device, code, variant, risk, matrix_flow,"  \
    " client, server, proto, port, app, first_usec, last_usec, connections, packets, bytes," \
    " evidence FROM results ORDER BY session_id, provisional, is_finding, code, server, port"

START_TEST(test_checkpoint_idempotent)
{
    const char *path = tmp_path("campaign.db");
    struct fx fx;
    fx_open(&fx, M_CT);
    struct flow flows[] = {pacs_flow(T0, 10), pacs_flow(T0 + SEC, 10), stray_flow(T0, 5)};
    struct audit *audit = run_audit(&fx, flows, 3);
    struct store *store = open_ok(path, false);
    const char *sources[] = {"a.pcap"};
    int64_t id = begin_ok(store, &fx, "replay", sources, 1, T0);
    checkpoint_ok(store, id, audit, NULL, 100, T0);
    char *first = raw_dump(path, RESULT_ROWS);
    checkpoint_ok(store, id, audit, NULL, 100, T0);
    char *second = raw_dump(path, RESULT_ROWS);
    ck_assert_str_eq(first, second);
    /* observed: pacs, stray; findings: FLOW_UNDECLARED, NOT_OBSERVED F2, F3 */
    ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM results"), 5);
    ck_assert_ptr_nonnull(strstr(first, "1|0|0|ct|NULL|NULL|NULL|F1|10.10.1.20|10.10.2.10|6|104||"
                                        "1700000000000000|1700000006000000|2|20|2000|[]\n"));
    ck_assert_ptr_nonnull(strstr(first, "|FLOW_UNDECLARED|NULL|NULL|NULL|10.10.1.20|10.10.9.9|6|"
                                        "8080||1700000000000000|1700000005000000|1|5|500|[["));
    ck_assert_int_eq(raw_int(path, "SELECT packets FROM sessions"), 100);
    ck_assert_int_eq(raw_int(path, "SELECT dropped FROM sessions"), 9);
    ck_assert_int_eq(raw_int(path, "SELECT flows_peak FROM sessions"), 10);
    int64_t checkpointed = raw_int(path, "SELECT checkpoint_usec FROM sessions");
    ck_assert_int_gt(checkpointed, (int64_t)T0); /* the wall clock, now */
    free(first);
    free(second);
    audit_destroy(audit);
    store_close(store);
    fx_close(&fx);
}
END_TEST

START_TEST(test_checkpoint_errors_roll_back)
{
    const char *path = tmp_path("campaign.db");
    struct fx fx;
    fx_open(&fx, M_CT);
    struct flow flows[] = {pacs_flow(T0, 10)};
    struct audit *audit = run_audit(&fx, flows, 1);
    struct store *store = open_ok(path, false);
    char err[512] = "";
    struct counters_fx c = session_counters(10, T0);
    ck_assert(!checkpoint(store, 42, audit, NULL, &c, err, sizeof(err)));
    ck_assert_str_eq(err, "cannot checkpoint: no session 42");
    ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM results"), 0);
    ck_assert(!store_end_session(store, 42, T0, err, sizeof(err)));
    ck_assert_str_eq(err, "cannot end the session: no session 42");
    int64_t id = begin_ok(store, &fx, "live", NULL, 0, T0);
    ck_assert(!store_checkpoint(store, id, NULL, NULL, err, sizeof(err)));
    ck_assert_str_eq(err, "cannot checkpoint: no audit given");
    struct store_session_info info = {.kind = "other", .matrix_text = "{}"};
    int64_t other;
    ck_assert(!store_begin_session(store, &info, &other, err, sizeof(err)));
    ck_assert_str_eq(err, "cannot begin a session: kind must be \"replay\" or \"live\"");
    info.kind = "live";
    info.matrix_text = NULL;
    ck_assert(!store_begin_session(store, &info, &other, err, sizeof(err)));
    ck_assert_str_eq(err, "cannot begin a session: no matrix text");
    ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM sessions"), 1);
    /* A session without results yet loads as an empty campaign. */
    struct store_campaign campaign;
    load_ok(store, &fx.rules, &campaign);
    ck_assert_uint_eq(campaign.session_count, 1);
    ck_assert_uint_eq(campaign.source_count, 0);
    ck_assert_uint_eq(device0(&campaign)->observed_count, 0);
    ck_assert_uint_eq(count_code(device0(&campaign), FINDING_FLOW_NOT_OBSERVED), 3);
    store_campaign_free(&campaign);
    audit_destroy(audit);
    store_close(store);
    fx_close(&fx);
}
END_TEST

/* ---- merging sessions --------------------------------------------------- */

START_TEST(test_merge_two_replays)
{
    const char *path = tmp_path("campaign.db");
    struct fx fx;
    fx_open(&fx, M_CT);
    /* Replay 1: two PACS connections and a stray one. */
    struct flow day1[] = {pacs_flow(T0, 10), pacs_flow(T0 + 60 * SEC, 10),
                          stray_flow(T0 + 10 * SEC, 5)};
    /* Replay 2, a day later: NTP (F2, never seen in replay 1), PACS, stray. */
    struct flow day2[] = {ntp_flow(T0 + DAY, 2), pacs_flow(T0 + DAY, 4),
                          stray_flow(T0 + DAY + 30 * SEC, 7)};
    struct audit *a1 = run_audit(&fx, day1, 3), *a2 = run_audit(&fx, day2, 3);
    ck_assert_ptr_nonnull(finding_of(audit_get_device(a1, 0), FINDING_FLOW_NOT_OBSERVED, "F2"));

    struct store *store = open_ok(path, false);
    const char *s1[] = {"day1.pcap", "shared.pcap"};
    const char *s2[] = {"shared.pcap", "day2.pcap"};
    int64_t id1 = begin_ok(store, &fx, "replay", s1, 2, T0 + 100 * DAY);
    checkpoint_ok(store, id1, a1, NULL, 1000, T0);
    end_ok(store, id1, T0 + 100 * DAY + 60 * SEC);
    store_close(store);

    store = open_ok(path, false); /* a second run on the same database */
    int64_t id2 = begin_ok(store, &fx, "replay", s2, 2, T0 + 101 * DAY);
    ck_assert_int_gt(id2, id1);
    checkpoint_ok(store, id2, a2, NULL, 300, T0 + DAY);
    end_ok(store, id2, T0 + 101 * DAY + 60 * SEC);

    struct store_campaign campaign;
    load_ok(store, &fx.rules, &campaign);
    ck_assert_uint_eq(campaign.session_count, 2);
    ck_assert_uint_eq(campaign.source_count, 3);
    ck_assert_str_eq(campaign.sources[0], "day1.pcap");
    ck_assert_str_eq(campaign.sources[1], "shared.pcap");
    ck_assert_str_eq(campaign.sources[2], "day2.pcap");
    ck_assert_uint_eq(campaign.first_session_usec, T0 + 100 * DAY);
    ck_assert_uint_eq(campaign.last_session_usec, T0 + 101 * DAY + 60 * SEC);
    /* Counters: summed, capture span widened, gauges at their largest. */
    ck_assert_uint_eq(campaign.counters.packets, 1300);
    ck_assert_uint_eq(campaign.counters.bytes, 130000);
    ck_assert_uint_eq(campaign.counters.ip_packets, 1298);
    ck_assert_uint_eq(campaign.counters.malformed, 2);
    ck_assert_uint_eq(campaign.counters.not_ip, 4);
    ck_assert_uint_eq(campaign.counters.not_decoded, 6);
    ck_assert_uint_eq(campaign.counters.fragments, 8);
    ck_assert_uint_eq(campaign.counters.first_usec, T0);
    ck_assert_uint_eq(campaign.counters.last_usec, T0 + DAY + 3600 * SEC);
    ck_assert_uint_eq(campaign.report.dropped, 18);
    ck_assert_uint_eq(campaign.flow_stats.created, 14);
    ck_assert_uint_eq(campaign.flow_stats.peak, 100);
    ck_assert_uint_eq(campaign.flow_stats.ended_idle, 10);
    ck_assert_uint_eq(campaign.dpi_stats.flows_classified, 8);
    ck_assert_uint_eq(campaign.dpi_stats.state_bytes, 3000);

    const struct audit_device *d = device0(&campaign);
    const struct audit_observed_flow *pacs = observed_to(d, "10.10.2.10", 104);
    ck_assert_ptr_nonnull(pacs);
    ck_assert_uint_eq(pacs->flows, 3);
    ck_assert_uint_eq(pacs->packets, 24);
    ck_assert_uint_eq(pacs->bytes, 2400);
    ck_assert_uint_eq(pacs->first_usec, T0);
    ck_assert_uint_eq(pacs->last_usec, T0 + DAY + 5 * SEC);
    const struct audit_finding *stray = finding_of(d, FINDING_FLOW_UNDECLARED, NULL);
    ck_assert_ptr_nonnull(stray);
    ck_assert_uint_eq(count_code(d, FINDING_FLOW_UNDECLARED), 1);
    ck_assert_uint_eq(stray->flows, 2);
    ck_assert_uint_eq(stray->packets, 12);
    ck_assert_uint_eq(stray->first_usec, T0 + 10 * SEC);
    ck_assert_uint_eq(stray->last_usec, T0 + DAY + 35 * SEC);
    /* F2 was observed in replay 2: only F3 is "not observed" now. */
    ck_assert_uint_eq(count_code(d, FINDING_FLOW_NOT_OBSERVED), 1);
    ck_assert_ptr_nonnull(finding_of(d, FINDING_FLOW_NOT_OBSERVED, "F3"));
    ck_assert(d->matrix_flow_seen[0] && d->matrix_flow_seen[1] && !d->matrix_flow_seen[2]);
    ck_assert_uint_eq(dropped_of(&campaign), 0);
    /* The report points into the campaign. */
    ck_assert_ptr_eq(campaign.report.audit, campaign.audit);
    ck_assert_ptr_eq(campaign.report.matrix, campaign.matrix);
    ck_assert_ptr_eq(campaign.report.rules, &campaign.rules);
    ck_assert_ptr_eq(campaign.report.counters, &campaign.counters);
    ck_assert_ptr_eq(campaign.report.flow_stats, &campaign.flow_stats);
    ck_assert_ptr_eq(campaign.report.dpi_stats, &campaign.dpi_stats);
    ck_assert_uint_eq(campaign.report.source_count, 3);
    ck_assert_str_eq(campaign.report.sources[2], "day2.pcap");
    ck_assert_ptr_null(campaign.report.access);
    ck_assert_ptr_null(campaign.report.generated_at);
    store_campaign_free(&campaign);
    store_campaign_free(&campaign); /* freeing twice is harmless: it was zeroed */

    audit_destroy(a1);
    audit_destroy(a2);
    store_close(store);
    fx_close(&fx);
}
END_TEST

START_TEST(test_provisional_rows_of_killed_session)
{
    const char *path = tmp_path("campaign.db");
    struct fx fx;
    fx_open(&fx, M_CT);
    struct flow ended[] = {pacs_flow(T0, 10)};
    struct flow active[] = {ntp_flow(T0 + 20 * SEC, 3), pacs_flow(T0 + 30 * SEC, 1)};
    struct audit *final = run_audit(&fx, ended, 1), *provisional = run_audit(&fx, active, 2);
    struct store *store = open_ok(path, false);
    const char *sources[] = {"live:eth1"};
    int64_t id = begin_ok(store, &fx, "live", sources, 1, T0);
    checkpoint_ok(store, id, final, provisional, 50, T0);
    store_close(store); /* and the process dies: no final checkpoint, no end */
    /* final: pacs observed, F2 and F3 not observed; provisional: ntp and
     * pacs observed, F3 not observed. */
    ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM results WHERE provisional = 0"), 3);
    ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM results WHERE provisional = 1"), 3);

    store = open_ok(path, true);
    struct store_campaign campaign;
    load_ok(store, &fx.rules, &campaign);
    const struct audit_device *d = device0(&campaign);
    const struct audit_observed_flow *ntp = observed_to(d, "10.10.2.20", 123);
    ck_assert_ptr_nonnull(ntp);
    ck_assert_uint_eq(ntp->flows, 1);
    ck_assert_uint_eq(ntp->packets, 3);
    const struct audit_observed_flow *pacs = observed_to(d, "10.10.2.10", 104);
    ck_assert_uint_eq(pacs->flows, 2); /* one ended, one active at the checkpoint */
    ck_assert_uint_eq(pacs->packets, 11);
    ck_assert_uint_eq(count_code(d, FINDING_FLOW_NOT_OBSERVED), 1); /* F3 only */
    ck_assert_uint_eq(campaign.first_session_usec, T0);
    ck_assert_uint_gt(campaign.last_session_usec, T0); /* its last checkpoint */
    ck_assert_str_eq(campaign.sources[0], "live:eth1");
    store_campaign_free(&campaign);
    store_close(store);
    audit_destroy(final);
    audit_destroy(provisional);
    fx_close(&fx);
}
END_TEST

START_TEST(test_clean_end_replaces_provisional)
{
    const char *path = tmp_path("campaign.db");
    struct fx fx;
    fx_open(&fx, M_CT);
    struct flow early[] = {pacs_flow(T0, 10)};
    struct flow active[] = {ntp_flow(T0 + 20 * SEC, 3)};
    struct flow all[] = {pacs_flow(T0, 10), ntp_flow(T0 + 20 * SEC, 3)};
    struct audit *a_early = run_audit(&fx, early, 1), *a_active = run_audit(&fx, active, 1);
    struct audit *a_all = run_audit(&fx, all, 2);
    struct store *store = open_ok(path, false);
    int64_t id = begin_ok(store, &fx, "live", NULL, 0, T0);
    checkpoint_ok(store, id, a_early, a_active, 50, T0);
    ck_assert_int_gt(raw_int(path, "SELECT count(*) FROM results WHERE provisional = 1"), 0);
    /* The capture stops: every flow ended, the last checkpoint has no
     * provisional part. */
    checkpoint_ok(store, id, a_all, NULL, 60, T0);
    end_ok(store, id, T0 + 3600 * SEC);
    ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM results WHERE provisional = 1"), 0);
    ck_assert_int_eq(raw_int(path, "SELECT ended_usec FROM sessions"), (int64_t)(T0 + 3600 * SEC));

    struct store_campaign campaign;
    load_ok(store, &fx.rules, &campaign);
    const struct audit_device *d = device0(&campaign);
    ck_assert_uint_eq(observed_to(d, "10.10.2.20", 123)->flows, 1); /* not counted twice */
    ck_assert_uint_eq(observed_to(d, "10.10.2.10", 104)->flows, 1);
    ck_assert_uint_eq(campaign.counters.packets, 60);
    ck_assert_uint_eq(campaign.last_session_usec, T0 + 3600 * SEC);
    store_campaign_free(&campaign);
    store_close(store);
    audit_destroy(a_early);
    audit_destroy(a_active);
    audit_destroy(a_all);
    fx_close(&fx);
}
END_TEST

/* Results of a device or declared flow the newest matrix no longer has are
 * dropped, and counted. */
START_TEST(test_older_matrix_results_dropped)
{
    const char *path = tmp_path("campaign.db");
    struct fx old, renamed;
    fx_open(&old, M_CT);
    fx_open(&renamed, M_RENAMED);
    struct flow flows[] = {pacs_flow(T0, 10), stray_flow(T0, 2)};
    struct audit *a_old = run_audit(&old, flows, 2), *a_new = run_audit(&renamed, flows, 1);
    struct store *store = open_ok(path, false);
    int64_t id1 = begin_ok(store, &old, "replay", NULL, 0, T0);
    checkpoint_ok(store, id1, a_old, NULL, 10, T0);
    int64_t id2 = begin_ok(store, &renamed, "replay", NULL, 0, T0 + DAY);
    checkpoint_ok(store, id2, a_new, NULL, 10, T0);
    struct store_campaign campaign;
    load_ok(store, &old.rules, &campaign);
    ck_assert_uint_eq(campaign.matrix->device_count, 1);
    ck_assert_str_eq(campaign.matrix->devices[0].name, "ct-3"); /* the newest matrix */
    const struct audit_device *d = device0(&campaign);
    ck_assert_uint_eq(observed_to(d, "10.10.2.10", 104)->flows, 1);
    /* pacs, stray observed and FLOW_UNDECLARED of "ct": refused
     * (its FLOW_NOT_OBSERVED rows are recomputed, never imported). */
    ck_assert_uint_eq(dropped_of(&campaign), 3);
    store_campaign_free(&campaign);
    store_close(store);
    audit_destroy(a_old);
    audit_destroy(a_new);
    fx_close(&old);
    fx_close(&renamed);
}
END_TEST

/* ---- loading errors and hostile rows ------------------------------------ */

START_TEST(test_load_errors)
{
    const char *path = tmp_path("campaign.db");
    struct rules rules;
    load_rules(&rules);
    struct store *store = open_ok(path, false);
    struct store_campaign campaign;
    char err[512] = "";
    ck_assert(!store_load_campaign(store, &rules, &campaign, err, sizeof(err)));
    ck_assert_str_eq(err, "the campaign database holds no session");
    ck_assert_ptr_null(campaign.audit);

    struct store_session_info info = {.kind = "replay", .matrix_text = "{\"format\": 3}",
                                      .matrix_path = "broken.json", .started_usec = T0};
    int64_t id;
    ck_assert(store_begin_session(store, &info, &id, err, sizeof(err)));
    ck_assert(!store_load_campaign(store, &rules, &campaign, err, sizeof(err)));
    ck_assert_msg(strncmp(err, "the matrix stored with session 1 is refused: broken.json:", 57) ==
                  0, "%s", err);
    ck_assert_ptr_null(campaign.matrix);
    store_close(store);
}
END_TEST

START_TEST(test_hostile_rows)
{
    const char *path = tmp_path("campaign.db");
    struct fx fx;
    fx_open(&fx, M_CT);
    struct store *store = open_ok(path, false);
    int64_t id = begin_ok(store, &fx, "replay", NULL, 0, T0);
    (void)id;
    /* Rows no fluxaudit writes: out-of-range protocol and port, unknown
     * code, no code, no connection, unknown variant; and a finding whose
     * client is not an address, which is kept as text. */
    raw_exec(path,
             "INSERT INTO results (session_id, is_finding, device, code, matrix_flow, client,"
             " server, proto, port, app, first_usec, last_usec, connections, packets, bytes)"
             " VALUES"
             " (1, 0, 'ct', NULL, NULL, '10.10.1.20', '10.10.9.9', 999, 80, '', 1, 2, 1, 1, 1),"
             " (1, 0, 'ct', NULL, NULL, '10.10.1.20', '10.10.9.9', 6, 70000, '', 1, 2, 1, 1, 1),"
             " (1, 1, 'ct', 'NOPE', NULL, '10.10.1.20', '10.10.9.9', 6, 80, '', 1, 2, 1, 1, 1),"
             " (1, 1, 'ct', NULL, NULL, '10.10.1.20', '10.10.9.9', 6, 80, '', 1, 2, 1, 1, 1),"
             " (1, 0, 'ct', NULL, NULL, '10.10.1.20', '10.10.9.9', 6, 80, '', 1, 2, 0, 1, 1),"
             " (1, 1, 'ct', 'FLOW_UNDECLARED', NULL, '10.10.1.20', '10.10.9.9', 6, 81, '',"
             "  1, 2, 1, 1, 1),"
             " (1, 1, 'ct', 'FLOW_UNDECLARED', NULL, 'not an address', '10.10.9.9', 6, 82, '',"
             "  1, 2, 1, 1, 1)");
    raw_exec(path, "UPDATE results SET variant = 'nonesuch' WHERE port = 81");
    struct store_campaign campaign;
    load_ok(store, &fx.rules, &campaign);
    ck_assert_uint_eq(dropped_of(&campaign), 6);
    const struct audit_device *d = device0(&campaign);
    ck_assert_uint_eq(d->observed_count, 0);
    ck_assert_uint_eq(count_code(d, FINDING_FLOW_UNDECLARED), 1);
    const struct audit_finding *kept = finding_of(d, FINDING_FLOW_UNDECLARED, NULL);
    ck_assert_str_eq(kept->flow.client_text, "not an address");
    ck_assert_uint_eq(kept->flow.port, 82);
    store_campaign_free(&campaign);

    raw_exec(path, "INSERT INTO results (session_id, is_finding, device, code, client, server,"
                   " proto, port, app, first_usec, last_usec, connections, packets, bytes,"
                   " evidence) VALUES (1, 1, 'ct', 'FLOW_UNDECLARED', 'a', 'b', 6, 1, '', 1, 2,"
                   " 1, 1, 1, '[[\"k\"]]')");
    char err[512] = "";
    ck_assert(!store_load_campaign(store, &fx.rules, &campaign, err, sizeof(err)));
    ck_assert_str_eq(err, "result 8: malformed evidence");
    raw_exec(path, "DELETE FROM results WHERE id = 8; UPDATE sessions SET sources = '{'");
    ck_assert(!store_load_campaign(store, &fx.rules, &campaign, err, sizeof(err)));
    ck_assert_str_eq(err, "session 1: malformed source list");
    raw_exec(path, "UPDATE sessions SET sources = '[\"a\", 3, null, \"b\"]'");
    load_ok(store, &fx.rules, &campaign);
    ck_assert_uint_eq(campaign.source_count, 2); /* non-strings skipped */
    ck_assert_str_eq(campaign.sources[1], "b");
    store_campaign_free(&campaign);
    store_close(store);
    fx_close(&fx);
}
END_TEST

START_TEST(test_evidence_round_trip)
{
    const char *path = tmp_path("campaign.db");
    struct fx fx;
    fx_open(&fx, M_CT);
    struct audit *audit = audit_create(fx.matrix, &fx.rules, AUDIT_DEFAULT_MAX_ENTRIES);
    struct evidence_item evidence[AUDIT_EVIDENCE_MAX];
    memset(evidence, 0, sizeof(evidence));
    const char *keys[] = {"quote\"d", "back\\slash", "utf8", "ctl", "long", "empty"};
    const char *values[] = {"\"admin\" said 'hi'", "C:\\dir\\file \\\"", "é ü 漢字 🚑 ñ",
                            "tab\there\nnewline\x01", "", ""};
    for (size_t i = 0; i < AUDIT_EVIDENCE_MAX; i++) {
        snprintf(evidence[i].key, sizeof(evidence[i].key), "%s", keys[i]);
        snprintf(evidence[i].value, sizeof(evidence[i].value), "%s", values[i]);
    }
    memset(evidence[4].value, 'x', AUDIT_EVIDENCE_VALUE_MAX - 1); /* full length */
    struct audit_record record = {.device = "ct", .is_finding = true,
                                  .code = FINDING_FLOW_UNDECLARED, .first_usec = T0,
                                  .last_usec = T0 + SEC, .flows = 1, .packets = 2, .bytes = 3,
                                  .evidence = evidence, .evidence_count = AUDIT_EVIDENCE_MAX};
    snprintf(record.flow.client_text, sizeof(record.flow.client_text), "10.10.1.20");
    snprintf(record.flow.server_text, sizeof(record.flow.server_text), "10.10.9.9");
    record.flow.ip_proto = IP_PROTO_TCP;
    record.flow.port = 8080;
    ck_assert(audit_import(audit, &record));
    audit_finish(audit);

    struct store *store = open_ok(path, false);
    int64_t id = begin_ok(store, &fx, "replay", NULL, 0, T0);
    checkpoint_ok(store, id, audit, NULL, 1, T0);
    struct store_campaign campaign;
    load_ok(store, &fx.rules, &campaign);
    const struct audit_finding *f = finding_of(device0(&campaign), FINDING_FLOW_UNDECLARED, NULL);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->evidence_count, AUDIT_EVIDENCE_MAX);
    for (size_t i = 0; i < AUDIT_EVIDENCE_MAX; i++) {
        ck_assert_str_eq(f->evidence[i].key, evidence[i].key);
        ck_assert_str_eq(f->evidence[i].value, evidence[i].value);
    }
    ck_assert_uint_eq(strlen(f->evidence[4].value), AUDIT_EVIDENCE_VALUE_MAX - 1);
    ck_assert_str_eq(f->flow.client_text, "10.10.1.20");
    ck_assert_uint_eq(f->flow.port, 8080);
    char text[NET_ADDR_TEXT_MAX];
    net_addr_format(&f->flow.server, text, sizeof(text));
    ck_assert_str_eq(text, "10.10.9.9"); /* addresses parsed back */
    store_campaign_free(&campaign);
    store_close(store);
    audit_destroy(audit);
    fx_close(&fx);
}
END_TEST

/* ---- retention ---------------------------------------------------------- */

static uint64_t now_usec(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * SEC + (uint64_t)t.tv_nsec / 1000u;
}

START_TEST(test_purge_by_age)
{
    const char *path = tmp_path("campaign.db");
    struct fx fx;
    fx_open(&fx, M_CT);
    struct flow flows[] = {pacs_flow(T0, 10), stray_flow(T0, 1)};
    struct audit *audit = run_audit(&fx, flows, 2);
    struct store *store = open_ok(path, false);
    uint64_t now = now_usec();
    /* A: ended 200 days ago (its checkpoint is older than its end). */
    int64_t a = begin_ok(store, &fx, "replay", NULL, 0, now - 201 * DAY);
    checkpoint_ok(store, a, audit, NULL, 10, T0);
    end_ok(store, a, now - 200 * DAY);
    /* B: ended 10 days ago. */
    int64_t b = begin_ok(store, &fx, "replay", NULL, 0, now - 11 * DAY);
    checkpoint_ok(store, b, audit, NULL, 10, T0);
    end_ok(store, b, now - 10 * DAY);
    /* C: a live capture started 300 days ago, still checkpointing. */
    int64_t c = begin_ok(store, &fx, "live", NULL, 0, now - 300 * DAY);
    checkpoint_ok(store, c, audit, NULL, 10, T0);
    /* D: started 250 days ago, never checkpointed, never ended. */
    int64_t d = begin_ok(store, &fx, "live", NULL, 0, now - 250 * DAY);
    ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM results"), 15);

    size_t purged = 99;
    char err[512] = "";
    ck_assert_msg(store_purge(store, UINT32_MAX, now, &purged, err, sizeof(err)), "%s", err);
    ck_assert_uint_eq(purged, 0); /* a retention past the epoch purges nothing */
    ck_assert_msg(store_purge(store, STORE_DEFAULT_RETENTION_DAYS, now, &purged, err,
                              sizeof(err)), "%s", err);
    ck_assert_uint_eq(purged, 2);
    char *left = raw_dump(path, "SELECT id FROM sessions ORDER BY id");
    char expected[64];
    snprintf(expected, sizeof(expected), "%lld\n%lld\n", (long long)b, (long long)c);
    ck_assert_str_eq(left, expected);
    free(left);
    ck_assert_int_eq(raw_int(path, "SELECT count(*) FROM results"), 10);
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM results WHERE session_id IN (%lld, %lld)",
             (long long)a, (long long)d);
    ck_assert_int_eq(raw_int(path, sql), 0);
    ck_assert_int_eq(raw_int(path, "PRAGMA freelist_count"), 0); /* given back */
    ck_assert_msg(store_purge(store, STORE_DEFAULT_RETENTION_DAYS, now, &purged, err,
                              sizeof(err)), "%s", err);
    ck_assert_uint_eq(purged, 0);

    struct store_campaign campaign;
    load_ok(store, &fx.rules, &campaign);
    ck_assert_uint_eq(campaign.session_count, 2);
    ck_assert_uint_eq(observed_to(device0(&campaign), "10.10.2.10", 104)->flows, 2);
    store_campaign_free(&campaign);
    /* Ten days later B is 20 days old and C 10: a 15-day retention keeps C. */
    ck_assert(store_purge(store, 15, now + 10 * DAY, &purged, err, sizeof(err)));
    ck_assert_uint_eq(purged, 1);
    ck_assert_int_eq(raw_int(path, "SELECT id FROM sessions"), c);
    store_close(store);
    audit_destroy(audit);
    fx_close(&fx);
}
END_TEST

/* ---- read-only use ------------------------------------------------------ */

START_TEST(test_read_only_cannot_write)
{
    const char *path = tmp_path("campaign.db");
    struct fx fx;
    fx_open(&fx, M_CT);
    struct flow flows[] = {pacs_flow(T0, 10)};
    struct audit *audit = run_audit(&fx, flows, 1);
    struct store *writer = open_ok(path, false);
    int64_t id = begin_ok(writer, &fx, "live", NULL, 0, T0);
    checkpoint_ok(writer, id, audit, NULL, 10, T0);

    /* A reader next to the running writer (serve during a capture). */
    struct store *reader = open_ok(path, true);
    char err[512] = "";
    struct store_session_info info = {.kind = "replay", .matrix_text = fx.matrix_text};
    int64_t other;
    ck_assert(!store_begin_session(reader, &info, &other, err, sizeof(err)));
    ck_assert_str_eq(err, "cannot begin a session: the campaign database is open read-only");
    struct counters_fx c = session_counters(10, T0);
    ck_assert(!checkpoint(reader, id, audit, NULL, &c, err, sizeof(err)));
    ck_assert_str_eq(err, "cannot checkpoint: the campaign database is open read-only");
    ck_assert(!store_end_session(reader, id, T0, err, sizeof(err)));
    ck_assert_str_eq(err, "cannot end the session: the campaign database is open read-only");
    size_t purged = 7;
    ck_assert(!store_purge(reader, 1, now_usec(), &purged, err, sizeof(err)));
    ck_assert_str_eq(err, "cannot purge old sessions: the campaign database is open read-only");
    ck_assert_uint_eq(purged, 0);

    struct store_campaign campaign;
    load_ok(reader, &fx.rules, &campaign);
    ck_assert_uint_eq(observed_to(device0(&campaign), "10.10.2.10", 104)->packets, 10);
    store_campaign_free(&campaign);
    /* The writer goes on; the reader sees the new checkpoint. */
    struct flow more[] = {pacs_flow(T0, 10), pacs_flow(T0 + SEC, 5)};
    struct audit *audit2 = run_audit(&fx, more, 2);
    checkpoint_ok(writer, id, audit2, NULL, 15, T0);
    load_ok(reader, &fx.rules, &campaign);
    ck_assert_uint_eq(observed_to(device0(&campaign), "10.10.2.10", 104)->packets, 15);
    store_campaign_free(&campaign);
    store_close(reader);
    store_close(writer);
    audit_destroy(audit);
    audit_destroy(audit2);
    fx_close(&fx);
}
END_TEST

/* ---- crash safety ------------------------------------------------------- */

#define CRASH_FLOWS 500
#define CRASH_ROUNDS 6

/* The two result sets the crashing capture alternates between: every one
 * of CRASH_FLOWS stray flows with 1 packet (odd states) or 2 (even). Built
 * once, so the child spends its time inside checkpoints. */
static struct audit *crash_audit(const struct fx *fx, uint64_t packets)
{
    static struct flow flows[CRASH_FLOWS];
    for (size_t i = 0; i < CRASH_FLOWS; i++) {
        char server[32];
        snprintf(server, sizeof(server), "10.10.9.%zu", 1 + i % 200);
        flows[i] = make_flow(server, (uint16_t)(1000 + i), IP_PROTO_TCP, T0, packets);
    }
    return run_audit(fx, flows, CRASH_FLOWS);
}

/* The child: checkpoints states first, first + 1... forever (state k has k
 * packets in its counters and the odd or even result set), reporting each
 * completed one on `fd`. Never returns. */
static void crash_child(const char *path, const struct fx *fx, int64_t id, uint64_t first, int fd)
{
    char err[512];
    struct store *store = store_open(path, false, err, sizeof(err));
    struct audit *odd = crash_audit(fx, 1), *even = crash_audit(fx, 2);
    if (store == NULL)
        _exit(2);
    for (uint64_t k = first;; k++) {
        struct counters_fx c = session_counters(k, T0);
        if (!checkpoint(store, id, k % 2 ? odd : even, NULL, &c, err, sizeof(err)))
            _exit(3);
        if (write(fd, &k, sizeof(k)) != (ssize_t)sizeof(k))
            _exit(4);
    }
}

/* Runs a child from state `first`, kills it `delay_usec` after its
 * `count`-th report; returns the last state it reported. */
static uint64_t crash_round(const char *path, const struct fx *fx, int64_t id, uint64_t first,
                            uint64_t count, unsigned delay_usec)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(path, fx, id, first, fds[1]);
    }
    close(fds[1]);
    uint64_t k = 0, reported = 0, reports = 0;
    while (reports < count && read(fds[0], &k, sizeof(k)) == (ssize_t)sizeof(k)) {
        reported = k;
        reports++;
    }
    ck_assert_uint_eq(reports, count);
    usleep(delay_usec); /* land somewhere inside a later checkpoint */
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    while (read(fds[0], &k, sizeof(k)) == (ssize_t)sizeof(k))
        reported = k; /* checkpoints it completed before dying */
    close(fds[0]);
    return reported;
}

/* Restarting on the database finds the last completed checkpoint whole. */
static uint64_t check_crash_state(const char *path, const struct fx *fx, uint64_t reported)
{
    struct store *store = open_ok(path, false);
    struct store_campaign campaign;
    load_ok(store, &fx->rules, &campaign);
    uint64_t state = campaign.counters.packets;
    /* The last reported checkpoint, or the one it committed before it could
     * report it; never an older one, never a mix. */
    ck_assert_msg(state == reported || state == reported + 1, "state %llu, reported %llu",
                  (unsigned long long)state, (unsigned long long)reported);
    const struct audit_device *d = device0(&campaign);
    ck_assert_uint_eq(d->observed_count, CRASH_FLOWS);
    ck_assert_uint_eq(count_code(d, FINDING_FLOW_UNDECLARED), CRASH_FLOWS);
    uint64_t packets = state % 2 ? 1 : 2;
    for (size_t i = 0; i < d->observed_count; i++) {
        ck_assert_uint_eq(d->observed[i].packets, packets);
        ck_assert_uint_eq(d->observed[i].flows, 1);
    }
    for (size_t i = 0; i < d->finding_count; i++) {
        if (d->findings[i].code == FINDING_FLOW_UNDECLARED)
            ck_assert_uint_eq(d->findings[i].packets, packets);
    }
    store_campaign_free(&campaign);
    store_close(store);
    return state;
}

START_TEST(test_sigkill_mid_checkpoint)
{
    const char *path = tmp_path("campaign.db");
    struct fx fx;
    fx_open(&fx, M_CT);
    struct store *store = open_ok(path, false);
    int64_t id = begin_ok(store, &fx, "live", NULL, 0, T0);
    store_close(store);

    uint64_t state = 0;
    for (unsigned round = 0; round < CRASH_ROUNDS; round++) {
        uint64_t reported = crash_round(path, &fx, id, state + 1, 3, round * 1500);
        state = check_crash_state(path, &fx, reported);
    }
    ck_assert_uint_ge(state, 3 * CRASH_ROUNDS);
    store = open_ok(path, false); /* the campaign goes on in a new session */
    ck_assert_int_eq(begin_ok(store, &fx, "live", NULL, 0, T0 + DAY), id + 1);
    store_close(store);
    fx_close(&fx);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *open = tcase_create("open");
    tcase_add_checked_fixture(open, make_tmpdir, remove_tmpdir);
    tcase_add_test(open, test_create_and_reopen);
    tcase_add_test(open, test_refuse_newer_version);
    tcase_add_test(open, test_refuse_foreign_database);
    tcase_add_test(open, test_refuse_corrupt_file);
    tcase_add_test(open, test_read_only_missing_or_empty);
    tcase_add_test(open, test_migrate_from_version_0);
    suite_add_tcase(s, open);
    TCase *sessions = tcase_create("sessions");
    tcase_add_checked_fixture(sessions, make_tmpdir, remove_tmpdir);
    tcase_set_timeout(sessions, 60);
    tcase_add_test(sessions, test_checkpoint_idempotent);
    tcase_add_test(sessions, test_checkpoint_errors_roll_back);
    tcase_add_test(sessions, test_merge_two_replays);
    tcase_add_test(sessions, test_provisional_rows_of_killed_session);
    tcase_add_test(sessions, test_clean_end_replaces_provisional);
    tcase_add_test(sessions, test_older_matrix_results_dropped);
    tcase_add_test(sessions, test_load_errors);
    tcase_add_test(sessions, test_hostile_rows);
    tcase_add_test(sessions, test_evidence_round_trip);
    tcase_add_test(sessions, test_purge_by_age);
    tcase_add_test(sessions, test_read_only_cannot_write);
    suite_add_tcase(s, sessions);
    TCase *crash = tcase_create("crash");
    tcase_add_checked_fixture(crash, make_tmpdir, remove_tmpdir);
    tcase_set_timeout(crash, 120);
    tcase_add_test(crash, test_sigkill_mid_checkpoint);
    suite_add_tcase(s, crash);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(store_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
