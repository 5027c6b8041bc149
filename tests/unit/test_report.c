/* Unit tests of report: the fluxaudit-report/1 JSON document (field names
 * and values of DESIGN.md, nulls, waivers, escaping, the JSON Schema) and
 * the terminal summary, both written to memory streams from real audits. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fluxaudit/report.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

#ifdef FLUXAUDIT_SOURCE_ROOT
#define SOURCE_ROOT FLUXAUDIT_SOURCE_ROOT
#else
#define SOURCE_ROOT TEST_DATA_DIR "/../.."
#endif

#define HDR "{'format':'fluxaudit-matrix/1',"
#define T0 1700000000000000ull /* 2023-11-14T22:13:20Z */
#define SEC 1000000ull

/* ---- building an audit ------------------------------------------------- */

struct rx {
    struct matrix *matrix;
    struct rules rules;
    struct audit *audit;
    const char *sources[2];
    struct pipeline_counters counters;
    struct flow_table_stats flow_stats;
    struct dpi_stats dpi_stats;
    struct report_input input;
};

static const char *source_path(const char *relative)
{
    static char path[1024];
    const char *root = getenv("FLUXAUDIT_SOURCE_ROOT");
    snprintf(path, sizeof(path), "%s/%s", root != NULL && root[0] != '\0' ? root : SOURCE_ROOT,
             relative);
    return path;
}

static struct matrix *check_matrix(struct matrix *matrix, struct diag *d)
{
    char first[512] = "";
    if (d->count > 0)
        diag_format(d, 0, first, sizeof(first));
    diag_free(d);
    ck_assert_msg(matrix != NULL, "matrix refused: %s", first);
    return matrix;
}

/* Parses a matrix written with single quotes for double quotes. */
static struct matrix *parse_matrix(const char *squoted)
{
    char *text = strdup(squoted);
    ck_assert_ptr_nonnull(text);
    for (char *p = text; *p; p++) {
        if (*p == '\'')
            *p = '"';
    }
    struct diag d;
    diag_init(&d);
    struct matrix *matrix = matrix_parse_json("test-matrix.json", text, strlen(text), &d);
    free(text);
    return check_matrix(matrix, &d);
}

static void rx_init(struct rx *rx, struct matrix *matrix, size_t max_entries)
{
    memset(rx, 0, sizeof(*rx));
    rx->matrix = matrix;
    struct diag d;
    diag_init(&d);
    bool ok = rules_load(source_path("rules/findings.json"), &rx->rules, &d);
    diag_free(&d);
    ck_assert_msg(ok, "cannot load %s", source_path("rules/findings.json"));
    rx->audit = audit_create(rx->matrix, &rx->rules, max_entries);
    ck_assert_ptr_nonnull(rx->audit);
    rx->sources[0] = "ward.pcap";
    rx->sources[1] = "live:eth0";
    rx->counters = (struct pipeline_counters){.packets = 1234, .bytes = 567890, .ip_packets = 1200,
                                              .malformed = 2, .not_ip = 3, .not_decoded = 4,
                                              .fragments = 5, .first_usec = T0,
                                              .last_usec = T0 + 3600 * SEC + 999999};
    rx->flow_stats = (struct flow_table_stats){.active = 0, .peak = 4, .created = 10,
                                               .ended_idle = 6, .ended_evicted = 1,
                                               .ended_flush = 3};
    rx->dpi_stats = (struct dpi_stats){.flows_classified = 8, .flows_guessed = 1,
                                       .flows_unknown = 1, .state_bytes = 4096};
    rx->input = (struct report_input){.sources = rx->sources, .source_count = 2,
                                      .counters = &rx->counters, .dropped = 7,
                                      .flow_stats = &rx->flow_stats,
                                      .dpi_stats = &rx->dpi_stats, .matrix = rx->matrix,
                                      .rules = &rx->rules, .audit = rx->audit,
                                      .generated_at = NULL};
}

static void rx_close(struct rx *rx)
{
    audit_destroy(rx->audit);
    matrix_free(rx->matrix);
    memset(rx, 0, sizeof(*rx));
}

static struct flow make_flow(const char *client, const char *server, uint16_t server_port,
                             uint8_t ip_proto, const char *app)
{
    struct flow f;
    memset(&f, 0, sizeof(f));
    ck_assert(net_addr_parse(client, &f.client));
    ck_assert(net_addr_parse(server, &f.server));
    f.client_port = server_port != 0 ? 40000 : 0;
    f.server_port = server_port;
    f.ip_proto = ip_proto;
    f.packets[FLOW_TO_SERVER] = 3;
    f.packets[FLOW_TO_CLIENT] = 2;
    f.bytes[FLOW_TO_SERVER] = 300;
    f.bytes[FLOW_TO_CLIENT] = 200;
    f.first_usec = T0;
    f.last_usec = T0 + 5 * SEC;
    snprintf(f.facts.app, sizeof(f.facts.app), "%s", app);
    return f;
}

/* The scenario most tests share: a CT scanner with a waived app mismatch
 * on F01, an obsolete TLS below its declared encryption on F05, an
 * undeclared ICMP flow and F02 never seen; an idle pump; one flow that
 * touches no inventory device. */
#define M_REPORT                                                                                  \
    HDR "'site':'CH Exemple','hosts':{'pacs':['10.10.2.5']},'devices':["                          \
        "{'name':'ct-scanner-3','vendor':'Acme Medical','model':'CT 9000',"                       \
        "'location':'Imagerie','addresses':['10.10.1.20','02:00:0a:0a:01:14'],'flows':["          \
        "{'id':'F01','from':'device','to':'pacs','proto':'tcp','port':11112,'app':'DICOM',"       \
        "'waiver':'PACS VLAN isolated'},"                                                         \
        "{'id':'F02','from':'device','to':'pacs','proto':'udp','port':123},"                     \
        "{'id':'F05','from':'device','to':'pacs','proto':'tcp','port':8443,'app':'TLS',"          \
        "'encryption':'tls1.2+'}]},"                                                              \
        "{'name':'pump-7','addresses':['10.10.1.40']}]}"

static void rx_scenario(struct rx *rx, size_t max_entries)
{
    rx_init(rx, parse_matrix(M_REPORT), max_entries);
    struct flow mismatch = make_flow("10.10.1.20", "10.10.2.5", 11112, IP_PROTO_TCP, "HTTP");
    struct flow tls = make_flow("10.10.1.20", "10.10.2.5", 8443, IP_PROTO_TCP, "TLS");
    tls.first_usec = T0 + 60 * SEC;
    tls.last_usec = T0 + 61 * SEC + 500000;
    tls.facts.security = SECURITY_TLS;
    tls.facts.tls.client_hello_seen = true;
    tls.facts.tls.offered_max_version = TLS_VERSION_1_2;
    tls.facts.tls.server_hello_seen = true;
    tls.facts.tls.version = TLS_VERSION_1_0;
    tls.facts.tls.cipher_suite = 0xC02F; /* strong: the finding under test is the version */
    struct flow icmp = make_flow("10.10.1.20", "10.10.3.3", 0, IP_PROTO_ICMP, "");
    struct flow stray = make_flow("10.50.0.1", "10.50.0.2", 80, IP_PROTO_TCP, "HTTP");
    audit_flow(rx->audit, &mismatch);
    audit_flow(rx->audit, &tls);
    audit_flow(rx->audit, &icmp);
    audit_flow(rx->audit, &stray);
    audit_finish(rx->audit);
}

/* ---- reading the output ------------------------------------------------ */

static char *write_json(const struct report_input *input)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    char err[256] = "";
    bool ok = report_write_json(out, input, err, sizeof(err));
    ck_assert_int_eq(fclose(out), 0);
    ck_assert_msg(ok, "report_write_json: %s", err);
    ck_assert_uint_gt(len, 0);
    ck_assert_uint_eq(strlen(text), len);
    ck_assert_int_eq(text[len - 1], '\n');
    return text;
}

static cJSON *report_json(const struct report_input *input)
{
    char *text = write_json(input);
    cJSON *root = cJSON_Parse(text);
    ck_assert_msg(root != NULL, "report is not JSON: %s", text);
    free(text);
    return root;
}

static char *summary_text(const struct report_input *input, bool color)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    report_print_summary(out, input, color);
    ck_assert_int_eq(fclose(out), 0);
    return text;
}

static const cJSON *get(const cJSON *object, const char *key)
{
    ck_assert_msg(cJSON_IsObject(object), "not an object looking up \"%s\"", key);
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    ck_assert_msg(item != NULL, "missing key \"%s\"", key);
    return item;
}

static const char *str(const cJSON *object, const char *key)
{
    const cJSON *item = get(object, key);
    ck_assert_msg(cJSON_IsString(item), "\"%s\" is not a string", key);
    return item->valuestring;
}

static double num(const cJSON *object, const char *key)
{
    const cJSON *item = get(object, key);
    ck_assert_msg(cJSON_IsNumber(item), "\"%s\" is not a number", key);
    return item->valuedouble;
}

static bool is_null(const cJSON *object, const char *key)
{
    return cJSON_IsNull(get(object, key));
}

static bool has(const cJSON *object, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(object, key) != NULL;
}

static const cJSON *at(const cJSON *array, int index)
{
    ck_assert(cJSON_IsArray(array));
    const cJSON *item = cJSON_GetArrayItem(array, index);
    ck_assert_msg(item != NULL, "no item %d", index);
    return item;
}

/* Asserts that `array` is exactly the strings of the NULL-ended list. */
static void assert_strings(const cJSON *array, const char *const *expected)
{
    ck_assert(cJSON_IsArray(array));
    int n = 0;
    for (; expected[n] != NULL; n++) {
        const cJSON *item = at(array, n);
        ck_assert(cJSON_IsString(item));
        ck_assert_str_eq(item->valuestring, expected[n]);
    }
    ck_assert_int_eq(cJSON_GetArraySize(array), n);
}

#define STRINGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_STRINGS ((const char *const[]){NULL})

static void assert_flow(const cJSON *flow, const char *client, const char *server,
                        const char *proto, int port, const char *app)
{
    ck_assert_str_eq(str(flow, "client"), client);
    ck_assert_str_eq(str(flow, "server"), server);
    ck_assert_str_eq(str(flow, "proto"), proto);
    if (port == 0)
        ck_assert(is_null(flow, "port"));
    else
        ck_assert_int_eq((int)num(flow, "port"), port);
    if (app == NULL)
        ck_assert(is_null(flow, "app"));
    else
        ck_assert_str_eq(str(flow, "app"), app);
}

/* ---- report_format_time ------------------------------------------------ */

START_TEST(test_format_time)
{
    static const struct {
        uint64_t usec;
        const char *text;
    } cases[] = {
        {0, "1970-01-01T00:00:00Z"},
        {999999, "1970-01-01T00:00:00Z"}, /* truncated, never rounded up */
        {1000000, "1970-01-01T00:00:01Z"},
        {T0, "2023-11-14T22:13:20Z"},
        {T0 + 123456, "2023-11-14T22:13:20Z"},
        {951825600ull * 1000000, "2000-02-29T12:00:00Z"},
        {1709251199ull * 1000000 + 999999, "2024-02-29T23:59:59Z"},
        {1709251200ull * 1000000, "2024-03-01T00:00:00Z"},
        {4102444799ull * 1000000, "2099-12-31T23:59:59Z"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32];
        memset(buf, 'x', sizeof(buf));
        report_format_time(cases[i].usec, buf, sizeof(buf));
        ck_assert_str_eq(buf, cases[i].text);
    }
    /* Exactly big enough, and too small: never past `len`, always ended. */
    char exact[21];
    report_format_time(T0, exact, sizeof(exact));
    ck_assert_str_eq(exact, "2023-11-14T22:13:20Z");
    char small[12];
    memset(small, 'x', sizeof(small));
    report_format_time(T0, small, 8);
    ck_assert_uint_lt(strlen(small), 8);
    ck_assert_int_eq(small[8], 'x');
    ck_assert_int_eq(small[11], 'x');
    report_format_time(T0, small, 0);
    ck_assert_int_eq(small[8], 'x');
}
END_TEST

/* ---- the JSON document ------------------------------------------------- */

START_TEST(test_json_top_level_and_capture)
{
    struct rx rx;
    rx_scenario(&rx, AUDIT_DEFAULT_MAX_ENTRIES);
    cJSON *root = report_json(&rx.input);
    ck_assert_str_eq(str(root, "format"), "fluxaudit-report/1");
    ck_assert(!has(root, "generated_at"));
    const cJSON *matrix = get(root, "matrix");
    ck_assert_str_eq(str(matrix, "path"), "test-matrix.json");
    ck_assert_str_eq(str(matrix, "site"), "CH Exemple");
    const cJSON *capture = get(root, "capture");
    assert_strings(get(capture, "sources"), STRINGS("ward.pcap", "live:eth0"));
    ck_assert_int_eq((int)num(capture, "packets"), 1234);
    ck_assert_int_eq((int)num(capture, "bytes"), 567890);
    ck_assert_int_eq((int)num(capture, "dropped"), 7);
    ck_assert_int_eq((int)num(capture, "malformed"), 2);
    ck_assert_int_eq((int)num(capture, "not_ip"), 3);
    ck_assert_int_eq((int)num(capture, "not_decoded"), 4);
    ck_assert_int_eq((int)num(capture, "fragments"), 5);
    ck_assert_str_eq(str(capture, "first_seen"), "2023-11-14T22:13:20Z");
    ck_assert_str_eq(str(capture, "last_seen"), "2023-11-14T23:13:20Z");
    const cJSON *flows = get(capture, "flows");
    ck_assert_int_eq((int)num(flows, "created"), 10);
    ck_assert_int_eq((int)num(flows, "peak"), 4);
    ck_assert_int_eq((int)num(flows, "ended_idle"), 6);
    ck_assert_int_eq((int)num(flows, "evicted"), 1);
    const cJSON *dpi = get(capture, "classification");
    ck_assert_int_eq((int)num(dpi, "classified"), 8);
    ck_assert_int_eq((int)num(dpi, "guessed"), 1);
    ck_assert_int_eq((int)num(dpi, "unknown"), 1);
    ck_assert_int_eq((int)num(get(root, "unattributed"), "flows"), 1);
    ck_assert_int_eq((int)num(root, "dropped_results"), 0);
    ck_assert_int_eq(cJSON_GetArraySize(get(root, "devices")), 2);
    cJSON_Delete(root);

    /* generated_at when given; an empty capture has null first/last. */
    rx.input.generated_at = "2026-11-24T05:02:11Z";
    rx.counters.first_usec = 0;
    rx.counters.last_usec = 0;
    rx.input.source_count = 0;
    root = report_json(&rx.input);
    ck_assert_str_eq(str(root, "generated_at"), "2026-11-24T05:02:11Z");
    ck_assert(is_null(get(root, "capture"), "first_seen"));
    ck_assert(is_null(get(root, "capture"), "last_seen"));
    assert_strings(get(get(root, "capture"), "sources"), NO_STRINGS);
    cJSON_Delete(root);
    rx_close(&rx);
}
END_TEST

START_TEST(test_json_device)
{
    struct rx rx;
    rx_scenario(&rx, AUDIT_DEFAULT_MAX_ENTRIES);
    cJSON *root = report_json(&rx.input);
    const cJSON *ct = at(get(root, "devices"), 0);
    ck_assert_str_eq(str(ct, "name"), "ct-scanner-3");
    ck_assert_str_eq(str(ct, "vendor"), "Acme Medical");
    ck_assert_str_eq(str(ct, "model"), "CT 9000");
    ck_assert_str_eq(str(ct, "location"), "Imagerie");
    assert_strings(get(ct, "addresses"), STRINGS("10.10.1.20", "02:00:0a:0a:01:14"));
    ck_assert_str_eq(str(ct, "verdict"), "deviations");
    const cJSON *counts = get(ct, "counts");
    ck_assert_int_eq((int)num(counts, "critical"), 0);
    ck_assert_int_eq((int)num(counts, "high"), 3);
    ck_assert_int_eq((int)num(counts, "medium"), 0);
    ck_assert_int_eq((int)num(counts, "low"), 0);
    ck_assert_int_eq((int)num(counts, "info"), 1);
    ck_assert_int_eq((int)num(counts, "waived"), 1);
    ck_assert_int_eq(cJSON_GetArraySize(counts), 6);
    const cJSON *coverage = get(ct, "coverage");
    ck_assert_int_eq((int)num(coverage, "declared"), 3);
    ck_assert_int_eq((int)num(coverage, "observed"), 2);
    assert_strings(get(coverage, "not_observed"), STRINGS("F02"));

    const cJSON *flows = get(ct, "flows");
    ck_assert_int_eq(cJSON_GetArraySize(flows), 3);
    const cJSON *f = at(flows, 0);
    assert_flow(f, "10.10.1.20", "10.10.2.5", "tcp", 8443, "TLS");
    ck_assert_str_eq(str(f, "matrix_flow"), "F05");
    ck_assert_str_eq(str(f, "first_seen"), "2023-11-14T22:14:20Z");
    ck_assert_str_eq(str(f, "last_seen"), "2023-11-14T22:14:21Z");
    ck_assert_int_eq((int)num(f, "connections"), 1);
    ck_assert_int_eq((int)num(f, "packets"), 5);
    ck_assert_int_eq((int)num(f, "bytes"), 500);
    f = at(flows, 1);
    assert_flow(f, "10.10.1.20", "10.10.2.5", "tcp", 11112, "HTTP");
    ck_assert_str_eq(str(f, "matrix_flow"), "F01");
    f = at(flows, 2);
    assert_flow(f, "10.10.1.20", "10.10.3.3", "icmp", 0, NULL);
    ck_assert(is_null(f, "matrix_flow"));

    const cJSON *pump = at(get(root, "devices"), 1);
    ck_assert_str_eq(str(pump, "name"), "pump-7");
    ck_assert(is_null(pump, "vendor"));
    ck_assert(is_null(pump, "model"));
    ck_assert(is_null(pump, "location"));
    assert_strings(get(pump, "addresses"), STRINGS("10.10.1.40"));
    ck_assert_str_eq(str(pump, "verdict"), "conform");
    ck_assert_int_eq((int)num(get(pump, "counts"), "high"), 0);
    ck_assert_int_eq(cJSON_GetArraySize(get(pump, "findings")), 0);
    ck_assert_int_eq(cJSON_GetArraySize(get(pump, "flows")), 0);
    ck_assert_int_eq((int)num(get(pump, "coverage"), "declared"), 0);
    ck_assert_int_eq((int)num(get(pump, "coverage"), "observed"), 0);
    assert_strings(get(get(pump, "coverage"), "not_observed"), NO_STRINGS);
    cJSON_Delete(root);
    rx_close(&rx);
}
END_TEST

START_TEST(test_json_findings)
{
    struct rx rx;
    rx_scenario(&rx, AUDIT_DEFAULT_MAX_ENTRIES);
    cJSON *root = report_json(&rx.input);
    const cJSON *findings = get(at(get(root, "devices"), 0), "findings");
    ck_assert_int_eq(cJSON_GetArraySize(findings), 5);

    const cJSON *u = at(findings, 0);
    ck_assert_str_eq(str(u, "code"), "FLOW_UNDECLARED");
    ck_assert_str_eq(str(u, "severity"), "high");
    ck_assert_str_eq(str(u, "status"), "open");
    ck_assert_str_eq(str(u, "title"), "Flow not declared in the supplier's flow matrix");
    assert_strings(get(u, "requirements"),
                   STRINGS("CLAUSIER-2025 O-12.2.3.2", "DM-ANNEX Matrice de flux réseaux"));
    assert_flow(get(u, "flow"), "10.10.1.20", "10.10.3.3", "icmp", 0, NULL);
    ck_assert(is_null(u, "matrix_flow"));
    ck_assert(!has(u, "waiver"));
    ck_assert_str_eq(str(u, "first_seen"), "2023-11-14T22:13:20Z");
    ck_assert_str_eq(str(u, "last_seen"), "2023-11-14T22:13:25Z");
    ck_assert_int_eq((int)num(u, "connections"), 1);
    ck_assert_int_eq((int)num(u, "packets"), 5);
    ck_assert_int_eq((int)num(u, "bytes"), 500);
    ck_assert_int_eq(cJSON_GetArraySize(get(u, "evidence")), 1);
    ck_assert_str_eq(str(get(u, "evidence"), "direction"), "outbound");

    const cJSON *t = at(findings, 1);
    ck_assert_str_eq(str(t, "code"), "TLS_OBSOLETE_VERSION");
    ck_assert_str_eq(str(t, "severity"), "high");
    assert_strings(get(t, "requirements"), STRINGS("CLAUSIER-2025 O-8.1", "CHM 7.1", "RGS B1"));
    assert_flow(get(t, "flow"), "10.10.1.20", "10.10.2.5", "tcp", 8443, "TLS");
    ck_assert_str_eq(str(t, "matrix_flow"), "F05");
    ck_assert_str_eq(str(t, "first_seen"), "2023-11-14T22:14:20Z");
    ck_assert_str_eq(str(t, "last_seen"), "2023-11-14T22:14:21Z");
    ck_assert_str_eq(str(get(t, "evidence"), "tls_version"), "TLSv1.0");
    ck_assert_str_eq(str(get(t, "evidence"), "offered_max_version"), "TLSv1.2");

    const cJSON *e = at(findings, 2);
    ck_assert_str_eq(str(e, "code"), "ENCRYPTION_BELOW_DECLARED");
    ck_assert_str_eq(str(get(e, "evidence"), "declared"), "tls1.2+");
    ck_assert_str_eq(str(get(e, "evidence"), "observed"), "TLSv1.0");

    const cJSON *m = at(findings, 3);
    ck_assert_str_eq(str(m, "code"), "FLOW_APP_MISMATCH");
    ck_assert_str_eq(str(m, "severity"), "medium");
    ck_assert_str_eq(str(m, "status"), "waived");
    ck_assert_str_eq(str(m, "waiver"), "PACS VLAN isolated");
    ck_assert_str_eq(str(m, "matrix_flow"), "F01");

    const cJSON *n = at(findings, 4);
    ck_assert_str_eq(str(n, "code"), "FLOW_NOT_OBSERVED");
    ck_assert_str_eq(str(n, "severity"), "info");
    ck_assert_str_eq(str(n, "status"), "open");
    assert_flow(get(n, "flow"), "device", "pacs", "udp", 123, NULL);
    ck_assert_str_eq(str(n, "matrix_flow"), "F02");
    ck_assert(is_null(n, "first_seen"));
    ck_assert(is_null(n, "last_seen"));
    ck_assert_int_eq((int)num(n, "connections"), 0);
    ck_assert_int_eq((int)num(n, "packets"), 0);
    ck_assert_int_eq((int)num(n, "bytes"), 0);
    ck_assert_str_eq(str(get(n, "evidence"), "declared_proto"), "udp");
    ck_assert_str_eq(str(get(n, "evidence"), "declared_port"), "123");

    /* Only waived findings carry a waiver. */
    for (int i = 0; i < 5; i++) {
        const cJSON *finding = at(findings, i);
        bool waived = strcmp(str(finding, "status"), "waived") == 0;
        ck_assert_msg(has(finding, "waiver") == waived, "finding %d: waiver vs status", i);
    }
    cJSON_Delete(root);
    rx_close(&rx);
}
END_TEST

START_TEST(test_json_protocol_names_and_nulls)
{
    struct rx rx;
    rx_init(&rx,
            parse_matrix(HDR "'devices':[{'name':'ct','addresses':['10.10.1.20','fd00::20'],"
                             "'flows':[{'id':'A1','from':'device','to':'any','proto':'any',"
                             "'waiver':'lab device'}]}]}"),
            AUDIT_DEFAULT_MAX_ENTRIES);
    struct flow v6 = make_flow("fd00::20", "fd00::30", 0, IP_PROTO_ICMPV6, "");
    struct flow gre = make_flow("10.10.1.20", "10.10.3.3", 0, 47, "GRE");
    audit_flow(rx.audit, &v6);
    audit_flow(rx.audit, &gre);
    audit_finish(rx.audit);
    cJSON *root = report_json(&rx.input);
    ck_assert(is_null(get(root, "matrix"), "site"));
    const cJSON *ct = at(get(root, "devices"), 0);
    const cJSON *flows = get(ct, "flows");
    ck_assert_int_eq(cJSON_GetArraySize(flows), 2);
    assert_flow(at(flows, 0), "10.10.1.20", "10.10.3.3", "ip-47", 0, "GRE");
    ck_assert_str_eq(str(at(flows, 0), "matrix_flow"), "A1");
    assert_flow(at(flows, 1), "fd00::20", "fd00::30", "icmpv6", 0, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(get(ct, "findings")), 0);
    ck_assert_str_eq(str(ct, "verdict"), "conform");
    cJSON_Delete(root);
    rx_close(&rx);

    /* A declared flow never seen: proto "any", no port, no app. */
    rx_init(&rx,
            parse_matrix(HDR "'devices':[{'name':'ct','addresses':['10.10.1.20'],"
                             "'flows':[{'id':'A1','from':'device','to':'any','proto':'any',"
                             "'waiver':'lab device'}]}]}"),
            AUDIT_DEFAULT_MAX_ENTRIES);
    audit_finish(rx.audit);
    root = report_json(&rx.input);
    const cJSON *n = at(get(at(get(root, "devices"), 0), "findings"), 0);
    assert_flow(get(n, "flow"), "device", "any", "any", 0, NULL);
    ck_assert_str_eq(str(n, "status"), "waived");
    ck_assert_str_eq(str(n, "waiver"), "lab device");
    ck_assert_int_eq((int)num(get(at(get(root, "devices"), 0), "counts"), "waived"), 1);
    ck_assert_int_eq((int)num(get(at(get(root, "devices"), 0), "counts"), "info"), 0);
    cJSON_Delete(root);
    rx_close(&rx);
}
END_TEST

START_TEST(test_json_escaping_round_trip)
{
    struct diag d;
    diag_init(&d);
    struct rx rx;
    rx_init(&rx, check_matrix(matrix_load_json(TEST_DATA_DIR "/report/escapes.json", &d), &d),
            AUDIT_DEFAULT_MAX_ENTRIES);
    /* nDPI names are not ours either: control characters must be escaped. */
    const char *app = "a\"b\\c\td\x01\x1f é";
    struct flow f = make_flow("10.10.1.20", "10.10.2.5", 11112, IP_PROTO_TCP, app);
    audit_flow(rx.audit, &f);
    audit_finish(rx.audit);
    char *text = write_json(&rx.input);
    /* Escaped as JSON requires; UTF-8 is kept as is. */
    ck_assert_ptr_nonnull(strstr(text, "\"ct \\\"3\\\" \\\\ é 東\""));
    ck_assert_ptr_nonnull(strstr(text, "a\\\"b\\\\c\\td\\u0001\\u001f é"));
    for (const char *p = text; *p; p++)
        ck_assert_msg((unsigned char)*p >= 0x20 || *p == '\n' || *p == '\t',
                      "raw control character 0x%02x in the report", (unsigned char)*p);
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    free(text);
    ck_assert_str_eq(str(get(root, "matrix"), "site"), "CH \"Saint-Éloi\" \\ site");
    const cJSON *ct = at(get(root, "devices"), 0);
    ck_assert_str_eq(str(ct, "name"), "ct \"3\" \\ é 東");
    ck_assert_str_eq(str(ct, "vendor"), "Acme\\Medical");
    ck_assert_str_eq(str(ct, "model"), "CT \"9000\"");
    ck_assert_str_eq(str(ct, "location"), "Imagerie, salle 3 — étage 2");
    const cJSON *m = at(get(ct, "findings"), 0);
    ck_assert_str_eq(str(m, "code"), "FLOW_APP_MISMATCH");
    ck_assert_str_eq(str(m, "status"), "waived");
    ck_assert_str_eq(str(m, "waiver"), "RSSI said \"ok\" \\ ticket #12 — accepté 東");
    ck_assert_str_eq(str(m, "matrix_flow"), "F\"1\"");
    ck_assert_str_eq(str(get(m, "flow"), "app"), app);
    ck_assert_str_eq(str(get(m, "evidence"), "observed_app"), app);
    ck_assert_str_eq(str(at(get(ct, "flows"), 0), "app"), app);
    cJSON_Delete(root);
    rx_close(&rx);
}
END_TEST

START_TEST(test_json_zero_timestamp_flow)
{
    /* A capture may hold frames stamped at the epoch: an observed flow
     * always has a time, which the schema requires. */
    struct rx rx;
    rx_init(&rx, parse_matrix(M_REPORT), AUDIT_DEFAULT_MAX_ENTRIES);
    struct flow f = make_flow("10.10.1.20", "10.10.3.3", 80, IP_PROTO_TCP, "");
    f.first_usec = 0;
    f.last_usec = 0;
    audit_flow(rx.audit, &f);
    audit_finish(rx.audit);
    cJSON *root = report_json(&rx.input);
    const cJSON *o = at(get(at(get(root, "devices"), 0), "flows"), 0);
    ck_assert_str_eq(str(o, "first_seen"), "1970-01-01T00:00:00Z");
    ck_assert_str_eq(str(o, "last_seen"), "1970-01-01T00:00:00Z");
    cJSON_Delete(root);
    rx_close(&rx);
}
END_TEST

START_TEST(test_json_dropped_results)
{
    struct rx rx;
    rx_scenario(&rx, 2);
    cJSON *root = report_json(&rx.input);
    struct audit_stats stats;
    audit_get_stats(rx.audit, &stats);
    ck_assert_uint_gt(stats.dropped, 0);
    ck_assert_int_eq((int)num(root, "dropped_results"), (int)stats.dropped);
    cJSON_Delete(root);
    rx_close(&rx);
}
END_TEST

START_TEST(test_json_write_error)
{
    struct rx rx;
    rx_scenario(&rx, AUDIT_DEFAULT_MAX_ENTRIES);
    FILE *out = fopen("/dev/null", "r");
    ck_assert_ptr_nonnull(out);
    char err[256] = "";
    ck_assert(!report_write_json(out, &rx.input, err, sizeof(err)));
    ck_assert_msg(strncmp(err, "write error: ", 13) == 0, "err: %s", err);
    fclose(out);
    rx_close(&rx);
}
END_TEST

/* Writes the report of `input` to a temporary file and validates it against
 * docs/report.schema.json with python3-jsonschema; skipped without it. */
static void assert_schema_valid(const struct report_input *input)
{
    if (system("/usr/bin/python3 -c 'import jsonschema' >/dev/null 2>&1") != 0) {
        fprintf(stderr, "test_report: python3-jsonschema missing, schema check skipped\n");
        return;
    }
    char path[] = "/tmp/fluxaudit-report-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *out = fdopen(fd, "w");
    ck_assert_ptr_nonnull(out);
    char err[256] = "";
    ck_assert(report_write_json(out, input, err, sizeof(err)));
    ck_assert_int_eq(fclose(out), 0);
    char command[4096];
    snprintf(command, sizeof(command),
             "/usr/bin/python3 -c 'import json, sys, jsonschema\n"
             "schema = json.load(open(sys.argv[1]))\n"
             "report = json.load(open(sys.argv[2]))\n"
             "jsonschema.Draft202012Validator.check_schema(schema)\n"
             "errors = list(jsonschema.Draft202012Validator(schema, "
             "format_checker=jsonschema.FormatChecker()).iter_errors(report))\n"
             "[print(\"schema:\", list(e.absolute_path), e.message, file=sys.stderr) "
             "for e in errors]\n"
             "sys.exit(1 if errors else 0)' '%s' '%s'",
             source_path("docs/report.schema.json"), path);
    int status = system(command);
    unlink(path);
    ck_assert_msg(status == 0, "the report does not follow docs/report.schema.json");
}

START_TEST(test_json_schema)
{
    struct rx rx;
    rx_scenario(&rx, AUDIT_DEFAULT_MAX_ENTRIES);
    rx.input.generated_at = "2026-11-24T05:02:11Z";
    assert_schema_valid(&rx.input);
    rx.counters.first_usec = 0;
    rx.counters.last_usec = 0;
    rx.input.generated_at = NULL;
    assert_schema_valid(&rx.input);
    rx_close(&rx);

    struct diag d;
    diag_init(&d);
    rx_init(&rx, check_matrix(matrix_load_json(TEST_DATA_DIR "/report/escapes.json", &d), &d),
            AUDIT_DEFAULT_MAX_ENTRIES);
    struct flow f = make_flow("10.10.1.20", "10.10.2.5", 11112, IP_PROTO_TCP, "x\"\x01");
    f.first_usec = 0; /* observed flow at the epoch */
    audit_flow(rx.audit, &f);
    struct flow gre = make_flow("10.10.1.20", "10.10.3.3", 0, 47, "");
    audit_flow(rx.audit, &gre);
    audit_finish(rx.audit);
    assert_schema_valid(&rx.input);
    rx_close(&rx);
}
END_TEST

/* ---- the terminal summary ---------------------------------------------- */

START_TEST(test_summary_plain)
{
    struct rx rx;
    rx_scenario(&rx, AUDIT_DEFAULT_MAX_ENTRIES);
    char *text = summary_text(&rx.input, false);
    const char *expected =
        "DEVICE                   VERDICT     CRIT  HIGH   MED   LOW  INFO WAIVED  FLOWS\n"
        "ct-scanner-3             deviations     0     3     0     0     1      1      3\n"
        "    HIGH     FLOW_UNDECLARED            10.10.1.20 -> 10.10.3.3 icmp"
        " direction=outbound\n"
        "    HIGH     TLS_OBSOLETE_VERSION       10.10.1.20 -> 10.10.2.5 tcp/8443 TLS [F05]"
        " tls_version=TLSv1.0 offered_max_version=TLSv1.2\n"
        "    HIGH     ENCRYPTION_BELOW_DECLARED  10.10.1.20 -> 10.10.2.5 tcp/8443 TLS [F05]"
        " declared=tls1.2+ observed=TLSv1.0\n"
        "    MEDIUM   FLOW_APP_MISMATCH          10.10.1.20 -> 10.10.2.5 tcp/11112 HTTP [F01]"
        " declared_app=DICOM observed_app=HTTP (waived)\n"
        "pump-7                   conform        0     0     0     0     0      0      0\n"
        "\n"
        "1234 packets, 567890 bytes, 2 malformed, 4 not decoded, 7 dropped; 4 flows,"
        " 1 not attributed to an inventory device\n";
    ck_assert_str_eq(text, expected);
    /* Info findings are counted, not listed. */
    ck_assert_ptr_null(strstr(text, "FLOW_NOT_OBSERVED"));
    ck_assert_ptr_null(strchr(text, '\033'));
    free(text);
    rx_close(&rx);
}
END_TEST

START_TEST(test_summary_color)
{
    struct rx rx;
    rx_scenario(&rx, AUDIT_DEFAULT_MAX_ENTRIES);
    char *text = summary_text(&rx.input, true);
    ck_assert_ptr_nonnull(strstr(text, "\033[1mDEVICE "));
    ck_assert_ptr_nonnull(strstr(text, "\033[31mdeviations\033[0m"));
    ck_assert_ptr_nonnull(strstr(text, "\033[32mconform   \033[0m"));
    ck_assert_ptr_nonnull(strstr(text, "    \033[31mHIGH    \033[0m FLOW_UNDECLARED "));
    ck_assert_ptr_nonnull(strstr(text, "    \033[33mMEDIUM  \033[0m FLOW_APP_MISMATCH "));
    ck_assert_ptr_null(strstr(text, "FLOW_NOT_OBSERVED"));
    free(text);
    rx_close(&rx);
}
END_TEST

START_TEST(test_summary_dropped_warning)
{
    struct rx rx;
    rx_scenario(&rx, 2);
    struct audit_stats stats;
    audit_get_stats(rx.audit, &stats);
    char *text = summary_text(&rx.input, false);
    char warning[128];
    snprintf(warning, sizeof(warning),
             "not attributed to an inventory device\n"
             "warning: %llu results dropped past the audit cap\n",
             (unsigned long long)stats.dropped);
    ck_assert_uint_gt(stats.dropped, 0);
    size_t len = strlen(text), wlen = strlen(warning);
    ck_assert_uint_ge(len, wlen);
    ck_assert_str_eq(text + len - wlen, warning);
    free(text);
    rx_close(&rx);
}
END_TEST

static Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *json = tcase_create("json");
    tcase_add_test(json, test_format_time);
    tcase_add_test(json, test_json_top_level_and_capture);
    tcase_add_test(json, test_json_device);
    tcase_add_test(json, test_json_findings);
    tcase_add_test(json, test_json_protocol_names_and_nulls);
    tcase_add_test(json, test_json_escaping_round_trip);
    tcase_add_test(json, test_json_zero_timestamp_flow);
    tcase_add_test(json, test_json_dropped_results);
    tcase_add_test(json, test_json_write_error);
    tcase_add_test(json, test_json_schema);
    suite_add_tcase(s, json);
    TCase *summary = tcase_create("summary");
    tcase_add_test(summary, test_summary_plain);
    tcase_add_test(summary, test_summary_color);
    tcase_add_test(summary, test_summary_dropped_warning);
    suite_add_tcase(s, summary);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(report_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
