/* Unit tests of web: a server on 127.0.0.1:0 serving a snapshot of a real
 * audit, spoken to over a plain socket with a tiny HTTP client. Every
 * endpoint and filter, validation errors (400/404/405/414/431), the
 * security headers, the login flow with an accounts file, snapshot swaps
 * under concurrent requests, web_account_set, and the embedded assets
 * (CSP-clean, and src/web_assets.c not stale). */
#include <arpa/inet.h>
#include <check.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fluxaudit/web.h"
#include "web_assets.h"

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
#define CSP                                                                                        \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

/* ---- building an audit (as tests/unit/test_report.c does) -------------- */

struct rx {
    struct matrix *matrix;
    struct rules rules;
    struct audit *audit;
    const char *sources[1];
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
    diag_free(&d);
    free(text);
    ck_assert_ptr_nonnull(matrix);
    return matrix;
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

/* A CT scanner with a waived app mismatch on F01, an obsolete TLS below its
 * declared encryption on F05, an undeclared ICMP flow and F02 never seen; an
 * idle pump whose name needs percent-encoding; one unattributed flow. */
#define M_WEB                                                                                      \
    HDR "'site':'CH Exemple','hosts':{'pacs':['10.10.2.5']},'devices':["                           \
        "{'name':'ct-scanner-3','vendor':'Acme Medical','model':'CT 9000',"                        \
        "'location':'Imagerie','addresses':['10.10.1.20'],'flows':["                               \
        "{'id':'F01','from':'device','to':'pacs','proto':'tcp','port':11112,'app':'DICOM',"        \
        "'waiver':'PACS VLAN isolated'},"                                                          \
        "{'id':'F02','from':'device','to':'pacs','proto':'udp','port':123},"                       \
        "{'id':'F05','from':'device','to':'pacs','proto':'tcp','port':8443,'app':'TLS',"           \
        "'encryption':'tls1.2+'}]},"                                                               \
        "{'name':'pump 7/<b>','addresses':['10.10.1.40']}]}"

static void rx_build(struct rx *rx)
{
    memset(rx, 0, sizeof(*rx));
    rx->matrix = parse_matrix(M_WEB);
    struct diag d;
    diag_init(&d);
    bool ok = rules_load(source_path("rules/findings.json"), &rx->rules, &d);
    diag_free(&d);
    ck_assert_msg(ok, "cannot load %s", source_path("rules/findings.json"));
    rx->audit = audit_create(rx->matrix, &rx->rules, 1000);
    ck_assert_ptr_nonnull(rx->audit);
    struct flow mismatch = make_flow("10.10.1.20", "10.10.2.5", 11112, IP_PROTO_TCP, "HTTP");
    struct flow tls = make_flow("10.10.1.20", "10.10.2.5", 8443, IP_PROTO_TCP, "TLS");
    tls.facts.security = SECURITY_TLS;
    tls.facts.tls.client_hello_seen = true;
    tls.facts.tls.offered_max_version = TLS_VERSION_1_2;
    tls.facts.tls.server_hello_seen = true;
    tls.facts.tls.version = TLS_VERSION_1_0;
    tls.facts.tls.cipher_suite = 0xC02F;
    struct flow icmp = make_flow("10.10.1.20", "10.10.3.3", 0, IP_PROTO_ICMP, "");
    struct flow stray = make_flow("10.50.0.1", "10.50.0.2", 80, IP_PROTO_TCP, "HTTP");
    audit_flow(rx->audit, &mismatch);
    audit_flow(rx->audit, &tls);
    audit_flow(rx->audit, &icmp);
    audit_flow(rx->audit, &stray);
    audit_finish(rx->audit);
    rx->sources[0] = "ward.pcap";
    rx->counters = (struct pipeline_counters){.packets = 1234,
                                              .bytes = 567890,
                                              .ip_packets = 1200,
                                              .first_usec = T0,
                                              .last_usec = T0 + 90 * SEC};
    rx->flow_stats = (struct flow_table_stats){.peak = 4, .created = 10};
    rx->input = (struct report_input){.sources = rx->sources,
                                      .source_count = 1,
                                      .counters = &rx->counters,
                                      .dropped = 7,
                                      .flow_stats = &rx->flow_stats,
                                      .dpi_stats = &rx->dpi_stats,
                                      .matrix = rx->matrix,
                                      .rules = &rx->rules,
                                      .audit = rx->audit};
}

static void rx_close(struct rx *rx)
{
    audit_destroy(rx->audit);
    matrix_free(rx->matrix);
}

static struct web_snapshot *snapshot_of(struct rx *rx, double rate)
{
    char err[256] = "";
    struct web_snapshot *snapshot = web_snapshot_create(&rx->input, rate, err, sizeof(err));
    ck_assert_msg(snapshot != NULL, "web_snapshot_create: %s", err);
    return snapshot;
}

/* ---- a tiny HTTP client ------------------------------------------------ */

struct reply {
    int status;
    char *head; /* status line and headers */
    char *body;
    size_t body_length;
};

static int port_of(const struct web_server *server)
{
    const char *address = web_listen_address(server);
    const char *colon = strrchr(address, ':');
    ck_assert_ptr_nonnull(colon);
    return atoi(colon + 1);
}

/* Sends `request` verbatim and reads the answer until the server closes. */
static struct reply exchange(int port, const char *request, size_t length)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&address, sizeof(address)), 0);
    size_t sent = 0;
    while (sent < length) {
        ssize_t n = send(fd, request + sent, length - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may answer and close before reading it all */
        sent += (size_t)n;
    }
    char *data = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&data, &size);
    char buf[16384];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
        fwrite(buf, 1, (size_t)n, out);
    fclose(out);
    close(fd);
    struct reply reply = {0};
    char *end = strstr(data, "\r\n\r\n");
    ck_assert_msg(end != NULL, "no HTTP answer: [%s]", data);
    *end = '\0';
    reply.head = data;
    reply.body = end + 4;
    reply.body_length = size - (size_t)(reply.body - data);
    ck_assert_int_eq(sscanf(data, "HTTP/1.1 %d", &reply.status), 1);
    return reply;
}

static struct reply request_with(int port, const char *method, const char *target,
                                 const char *extra_headers, const char *body)
{
    char *text = NULL;
    size_t length = 0;
    FILE *out = open_memstream(&text, &length);
    fprintf(out, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s", method, target,
            port, extra_headers != NULL ? extra_headers : "");
    if (body != NULL)
        fprintf(out,
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: %zu\r\n\r\n%s",
                strlen(body), body);
    else
        fputs("\r\n", out);
    fclose(out);
    struct reply reply = exchange(port, text, length);
    free(text);
    return reply;
}

static struct reply http_get(int port, const char *target)
{
    return request_with(port, "GET", target, NULL, NULL);
}

static void reply_free(struct reply *reply)
{
    free(reply->head);
}

/* The value of header `name` (copied into a static buffer), or NULL. */
static const char *header(const struct reply *reply, const char *name)
{
    static char value[1024];
    size_t name_length = strlen(name);
    for (const char *line = strstr(reply->head, "\r\n"); line != NULL;
         line = strstr(line + 2, "\r\n")) {
        const char *start = line + 2;
        if (strncasecmp(start, name, name_length) == 0 && start[name_length] == ':') {
            const char *v = start + name_length + 1;
            while (*v == ' ')
                v++;
            size_t length = strcspn(v, "\r");
            snprintf(value, sizeof(value), "%.*s", (int)length, v);
            return value;
        }
    }
    return NULL;
}

static cJSON *json_body(const struct reply *reply)
{
    ck_assert_str_eq(header(reply, "Content-Type"), "application/json; charset=utf-8");
    cJSON *json = cJSON_ParseWithLength(reply->body, reply->body_length);
    ck_assert_msg(json != NULL, "not JSON: %.*s", (int)reply->body_length, reply->body);
    return json;
}

/* GET `target`, assert the status, return the JSON body. */
static cJSON *get_json(int port, const char *target, int status)
{
    struct reply reply = http_get(port, target);
    ck_assert_msg(reply.status == status, "%s: %d, expected %d (%s)", target, reply.status, status,
                  reply.body);
    cJSON *json = json_body(&reply);
    reply_free(&reply);
    return json;
}

static int get_status(int port, const char *target)
{
    struct reply reply = http_get(port, target);
    int status = reply.status;
    reply_free(&reply);
    return status;
}

static double num(const cJSON *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    ck_assert_msg(cJSON_IsNumber(item), "\"%s\" is not a number", key);
    return item->valuedouble;
}

static const char *str(const cJSON *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    ck_assert_msg(cJSON_IsString(item), "\"%s\" is not a string", key);
    return item->valuestring;
}

static void assert_security_headers(const struct reply *reply)
{
    ck_assert_str_eq(header(reply, "Content-Security-Policy"), CSP);
    ck_assert_str_eq(header(reply, "X-Content-Type-Options"), "nosniff");
    ck_assert_str_eq(header(reply, "X-Frame-Options"), "DENY");
    ck_assert_str_eq(header(reply, "Referrer-Policy"), "no-referrer");
    ck_assert_str_eq(header(reply, "Cache-Control"), "no-store");
    ck_assert_ptr_null(header(reply, "Strict-Transport-Security")); /* plain HTTP */
}

/* ---- fixture: a server with the scenario's snapshot --------------------- */

static struct rx fixture_rx;
static struct web_server *fixture_server;
static int fixture_port;

static void server_setup(void)
{
    rx_build(&fixture_rx);
    struct web_options options = {.listen = "127.0.0.1:0"};
    char err[256] = "";
    fixture_server = web_start(&options, err, sizeof(err));
    ck_assert_msg(fixture_server != NULL, "web_start: %s", err);
    web_publish(fixture_server, snapshot_of(&fixture_rx, 42.5));
    fixture_port = port_of(fixture_server);
}

static void server_teardown(void)
{
    web_stop(fixture_server);
    rx_close(&fixture_rx);
}

/* ---- endpoints ----------------------------------------------------------- */

START_TEST(test_health_and_headers)
{
    struct reply reply = http_get(fixture_port, "/api/health");
    ck_assert_int_eq(reply.status, 200);
    ck_assert_str_eq(header(&reply, "Content-Type"), "text/plain; charset=utf-8");
    ck_assert_uint_eq(reply.body_length, 3);
    ck_assert_int_eq(memcmp(reply.body, "ok\n", 3), 0);
    assert_security_headers(&reply);
    reply_free(&reply);
    /* Errors carry the same headers. */
    reply = http_get(fixture_port, "/nothing-here");
    ck_assert_int_eq(reply.status, 404);
    assert_security_headers(&reply);
    reply_free(&reply);
}
END_TEST

START_TEST(test_listen_address)
{
    const char *address = web_listen_address(fixture_server);
    ck_assert_int_eq(strncmp(address, "127.0.0.1:", 10), 0);
    ck_assert_int_gt(fixture_port, 0);
    ck_assert_int_lt(fixture_port, 65536);
}
END_TEST

START_TEST(test_summary)
{
    cJSON *summary = get_json(fixture_port, "/api/summary", 200);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(summary, "live")));
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(summary, "login_required")));
    ck_assert_double_eq(num(summary, "serial"), 1);
    const cJSON *capture = cJSON_GetObjectItem(summary, "capture");
    ck_assert_double_eq(num(capture, "packets"), 1234);
    ck_assert_double_eq(num(capture, "bytes"), 567890);
    ck_assert_double_eq(num(capture, "dropped"), 7);
    ck_assert_double_eq(num(capture, "rate_pps"), 42.5);
    ck_assert_double_eq(num(capture, "span_seconds"), 90);
    ck_assert_str_eq(str(capture, "first_seen"), "2023-11-14T22:13:20Z");
    ck_assert_str_eq(str(cJSON_GetObjectItem(summary, "matrix"), "site"), "CH Exemple");
    const cJSON *devices = cJSON_GetObjectItem(summary, "devices");
    ck_assert_int_eq(cJSON_GetArraySize(devices), 2);
    const cJSON *ct = cJSON_GetArrayItem(devices, 0);
    ck_assert_str_eq(str(ct, "name"), "ct-scanner-3");
    ck_assert_str_eq(str(ct, "vendor"), "Acme Medical");
    ck_assert_str_eq(str(ct, "verdict"), "deviations");
    ck_assert_double_eq(num(cJSON_GetObjectItem(ct, "counts"), "waived"), 1);
    ck_assert_str_eq(str(cJSON_GetArrayItem(devices, 1), "name"), "pump 7/<b>");
    const cJSON *totals = cJSON_GetObjectItem(summary, "totals");
    ck_assert_double_eq(num(totals, "devices"), 2);
    ck_assert_double_eq(num(totals, "deviations"), 1);
    ck_assert_double_eq(num(totals, "conform"), 1);
    ck_assert_double_eq(num(totals, "waived"), 1);
    ck_assert_double_eq(num(cJSON_GetObjectItem(summary, "unattributed"), "flows"), 1);
    cJSON_Delete(summary);
}
END_TEST

START_TEST(test_devices_and_device)
{
    cJSON *answer = get_json(fixture_port, "/api/devices", 200);
    const cJSON *devices = cJSON_GetObjectItem(answer, "devices");
    ck_assert_int_eq(cJSON_GetArraySize(devices), 2);
    const cJSON *ct = cJSON_GetArrayItem(devices, 0);
    ck_assert_str_eq(str(ct, "model"), "CT 9000");
    ck_assert_double_eq(num(cJSON_GetObjectItem(ct, "coverage"), "declared"), 3);
    ck_assert_double_eq(num(cJSON_GetObjectItem(ct, "coverage"), "observed"), 2);
    int ct_findings = (int)num(ct, "finding_count");
    ck_assert_int_eq((int)num(ct, "flow_count"), 3);
    cJSON_Delete(answer);

    cJSON *device = get_json(fixture_port, "/api/devices/ct-scanner-3", 200);
    ck_assert_str_eq(str(device, "name"), "ct-scanner-3");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(device, "findings")), ct_findings);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(device, "flows")), 3);
    const cJSON *not_observed =
        cJSON_GetObjectItem(cJSON_GetObjectItem(device, "coverage"), "not_observed");
    ck_assert_int_eq(cJSON_GetArraySize(not_observed), 1);
    ck_assert_str_eq(cJSON_GetArrayItem(not_observed, 0)->valuestring, "F02");
    cJSON_Delete(device);

    /* Percent-encoded names, the encoded slash included, are decoded. */
    device = get_json(fixture_port, "/api/devices/ct%2Dscanner%2d3", 200);
    ck_assert_str_eq(str(device, "name"), "ct-scanner-3");
    cJSON_Delete(device);
    device = get_json(fixture_port, "/api/devices/pump%207%2F%3Cb%3E", 200);
    ck_assert_str_eq(str(device, "name"), "pump 7/<b>");
    ck_assert_str_eq(str(device, "verdict"), "conform");
    cJSON_Delete(device);

    cJSON *missing = get_json(fixture_port, "/api/devices/nope", 404);
    ck_assert_str_eq(str(missing, "error"), "no such device");
    cJSON_Delete(missing);
    ck_assert_int_eq(get_status(fixture_port, "/api/devices/pump%207/%3Cb%3E"), 404);
    ck_assert_int_eq(get_status(fixture_port, "/api/devices/%00"), 400);
    ck_assert_int_eq(get_status(fixture_port, "/api/devices/"), 400);
}
END_TEST

/* Count of /api/findings with `query`, checking each finding's members. */
static int findings_count(const char *query, const char *device, const char *severity,
                          const char *code, const char *status)
{
    char target[512];
    snprintf(target, sizeof(target), "/api/findings%s", query);
    cJSON *answer = get_json(fixture_port, target, 200);
    const cJSON *findings = cJSON_GetObjectItem(answer, "findings");
    int count = cJSON_GetArraySize(findings);
    ck_assert_double_eq(num(answer, "count"), count);
    const cJSON *finding;
    cJSON_ArrayForEach (finding, findings) {
        if (device != NULL)
            ck_assert_str_eq(str(finding, "device"), device);
        if (severity != NULL)
            ck_assert_str_eq(str(finding, "severity"), severity);
        if (code != NULL)
            ck_assert_str_eq(str(finding, "code"), code);
        if (status != NULL)
            ck_assert_str_eq(str(finding, "status"), status);
        ck_assert(cJSON_IsArray(cJSON_GetObjectItem(finding, "requirements")));
        ck_assert(cJSON_IsObject(cJSON_GetObjectItem(finding, "evidence")));
    }
    cJSON_Delete(answer);
    return count;
}

START_TEST(test_findings_filters)
{
    int all = findings_count("", NULL, NULL, NULL, NULL);
    cJSON *device = get_json(fixture_port, "/api/devices/ct-scanner-3", 200);
    int ct = cJSON_GetArraySize(cJSON_GetObjectItem(device, "findings"));
    cJSON_Delete(device);
    ck_assert_int_eq(findings_count("?device=ct-scanner-3", "ct-scanner-3", NULL, NULL, NULL), ct);
    ck_assert_int_eq(findings_count("?device=pump+7%2F%3Cb%3E", "pump 7/<b>", NULL, NULL, NULL), 0);
    ck_assert_int_eq(all, ct);
    ck_assert_int_eq(findings_count("?status=waived", NULL, NULL, NULL, "waived"), 1);
    ck_assert_int_eq(findings_count("?code=FLOW_APP_MISMATCH&status=waived", NULL, NULL,
                                    "FLOW_APP_MISMATCH", "waived"),
                     1);
    ck_assert_int_eq(
        findings_count("?code=FLOW_NOT_OBSERVED", NULL, NULL, "FLOW_NOT_OBSERVED", NULL), 1);
    ck_assert_int_eq(findings_count("?code=TLS_OBSOLETE_VERSION&severity=high", NULL, "high",
                                    "TLS_OBSOLETE_VERSION", NULL),
                     1);
    ck_assert_int_eq(findings_count("?code=TLS_WEAK_CIPHER", NULL, NULL, NULL, NULL), 0);
    /* Empty values filter nothing; the four filters together. */
    ck_assert_int_eq(findings_count("?severity=&code=&device=&status=", NULL, NULL, NULL, NULL),
                     all);
    int by_severity = 0;
    const char *severities[] = {"critical", "high", "medium", "low", "info"};
    for (size_t i = 0; i < 5; i++) {
        char query[64];
        snprintf(query, sizeof(query), "?severity=%s&device=ct-scanner-3", severities[i]);
        by_severity += findings_count(query, "ct-scanner-3", severities[i], NULL, NULL);
    }
    ck_assert_int_eq(by_severity, all);
}
END_TEST

START_TEST(test_findings_validation)
{
    static const char *const bad[] = {
        "/api/findings?severity=severe",
        "/api/findings?severity=HIGH",
        "/api/findings?code=NOPE",
        "/api/findings?device=nope",
        "/api/findings?status=closed",
        "/api/findings?colour=red",
        "/api/findings?severity",
        "/api/findings?severity=high&",
        "/api/findings?&severity=high",
        "/api/findings?severity=high&severity=low",
        "/api/findings?severity=hi%00gh",
        "/api/findings?severity=%zz",
        "/api/findings?severity=%4",
        "/api/findings?device=ct%0ascanner",
        "/api/flows?severity=high",
        "/api/flows?device=nope",
        "/api/summary?x=1",
        "/api/devices?device=ct-scanner-3",
        "/api/report.json?download=1",
        "/api/health?x=",
        "/?a=b",
        "/assets/app.js?v=1",
        "/login?error=other",
        "/api/findings?=x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct reply reply = http_get(fixture_port, bad[i]);
        ck_assert_msg(reply.status == 400, "%s: %d", bad[i], reply.status);
        assert_security_headers(&reply);
        reply_free(&reply);
    }
    cJSON *error = get_json(fixture_port, "/api/findings?colour=red", 400);
    ck_assert_str_eq(str(error, "error"), "bad or unknown query parameter");
    cJSON_Delete(error);
}
END_TEST

START_TEST(test_flows)
{
    cJSON *answer = get_json(fixture_port, "/api/flows", 200);
    ck_assert_double_eq(num(answer, "count"), 3);
    cJSON_Delete(answer);
    answer = get_json(fixture_port, "/api/flows?device=ct-scanner-3", 200);
    const cJSON *flows = cJSON_GetObjectItem(answer, "flows");
    ck_assert_int_eq(cJSON_GetArraySize(flows), 3);
    int undeclared = 0;
    const cJSON *flow;
    cJSON_ArrayForEach (flow, flows) {
        ck_assert_str_eq(str(flow, "device"), "ct-scanner-3");
        ck_assert_str_eq(str(flow, "client"), "10.10.1.20");
        undeclared += cJSON_IsNull(cJSON_GetObjectItem(flow, "matrix_flow"));
    }
    ck_assert_int_eq(undeclared, 1); /* the ICMP flow */
    cJSON_Delete(answer);
    answer = get_json(fixture_port, "/api/flows?device=pump%207%2F%3Cb%3E", 200);
    ck_assert_double_eq(num(answer, "count"), 0);
    cJSON_Delete(answer);
}
END_TEST

/* The text report_write_* gives for the fixture's input. */
static char *render(int format)
{
    char *text = NULL;
    size_t length = 0;
    FILE *out = open_memstream(&text, &length);
    char err[256];
    bool ok = format == 0   ? report_write_json(out, &fixture_rx.input, err, sizeof(err))
              : format == 1 ? report_write_html(out, &fixture_rx.input, err, sizeof(err))
              : format == 2 ? report_write_csv(out, &fixture_rx.input, err, sizeof(err))
                            : report_write_syslog(out, &fixture_rx.input, NULL, err, sizeof(err));
    fclose(out);
    ck_assert(ok);
    return text;
}

START_TEST(test_reports)
{
    static const char *const names[] = {"json", "html", "csv", "syslog"};
    static const char *const types[] = {"application/json; charset=utf-8",
                                        "text/html; charset=utf-8", "text/csv; charset=utf-8",
                                        "text/plain; charset=utf-8"};
    for (int i = 0; i < 4; i++) {
        char target[64];
        snprintf(target, sizeof(target), "/api/report.%s", names[i]);
        struct reply reply = http_get(fixture_port, target);
        ck_assert_int_eq(reply.status, 200);
        ck_assert_str_eq(header(&reply, "Content-Type"), types[i]);
        char disposition[96];
        snprintf(disposition, sizeof(disposition), "attachment; filename=\"fluxaudit-report.%s\"",
                 names[i]);
        ck_assert_str_eq(header(&reply, "Content-Disposition"), disposition);
        assert_security_headers(&reply);
        char *expected = render(i);
        if (i == 3) {
            /* Syslog lines carry their own timestamp: compare line counts. */
            size_t lines = 0;
            for (size_t k = 0; k < reply.body_length; k++)
                lines += reply.body[k] == '\n';
            size_t expected_lines = 0;
            for (const char *p = expected; *p; p++)
                expected_lines += *p == '\n';
            ck_assert_uint_eq(lines, expected_lines);
            ck_assert_uint_gt(lines, 0);
        } else {
            ck_assert_uint_eq(reply.body_length, strlen(expected));
            ck_assert_int_eq(memcmp(reply.body, expected, reply.body_length), 0);
        }
        free(expected);
        reply_free(&reply);
    }
    ck_assert_int_eq(get_status(fixture_port, "/api/report.pdf"), 404);
    ck_assert_int_eq(get_status(fixture_port, "/api/report."), 404);
}
END_TEST

START_TEST(test_head)
{
    struct reply reply = request_with(fixture_port, "HEAD", "/api/report.json", NULL, NULL);
    ck_assert_int_eq(reply.status, 200);
    ck_assert_uint_eq(reply.body_length, 0);
    ck_assert_ptr_nonnull(header(&reply, "Content-Length"));
    ck_assert_int_gt(atoi(header(&reply, "Content-Length")), 100);
    reply_free(&reply);
}
END_TEST

START_TEST(test_methods)
{
    static const char *const methods[] = {"PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"};
    for (size_t i = 0; i < 5; i++) {
        struct reply reply = request_with(fixture_port, methods[i], "/api/summary", NULL, NULL);
        ck_assert_msg(reply.status == 405, "%s: %d", methods[i], reply.status);
        ck_assert_str_eq(header(&reply, "Allow"), "GET, HEAD");
        assert_security_headers(&reply);
        reply_free(&reply);
    }
    /* POST exists only for /login. */
    struct reply reply = request_with(fixture_port, "POST", "/api/summary", NULL, "a=b");
    ck_assert_int_eq(reply.status, 405);
    ck_assert_str_eq(header(&reply, "Allow"), "GET, HEAD");
    reply_free(&reply);
    /* A body on a GET is refused. */
    reply = request_with(fixture_port, "GET", "/api/summary", NULL, "a=b");
    ck_assert_int_eq(reply.status, 400);
    reply_free(&reply);
}
END_TEST

START_TEST(test_paths)
{
    static const struct {
        const char *target;
        int status;
    } cases[] = {
        {"/", 200},
        {"/index.html", 200},
        {"/assets/app.js", 200},
        {"/assets/app.css", 200},
        {"/assets/README.md", 404},
        {"/assets/", 400},
        {"/assets/../web.c", 400},
        {"/../../etc/passwd", 400},
        {"/%2e%2e/etc/passwd", 400},
        {"/assets/%2E%2e", 400},
        {"/assets/.", 400},
        {"//api/summary", 400},
        {"/api//summary", 400},
        {"/api/summary/", 400},
        {"/api/summary%00", 400},
        {"/api%2fsummary", 404},
        {"/api\\summary", 400},
        {"/api/Summary", 404},
        {"/api", 404},
        {"/api/", 400},
        {"/index.htm", 404},
        {"/a/b/c/d/e", 404},
        {"*", 400},
        {"http://x/api/summary", 400},
        {"/login", 200},
        {"/api/%zz", 400},
        {"/api/devices/a/b", 404},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int status = get_status(fixture_port, cases[i].target);
        ck_assert_msg(status == cases[i].status, "%s: %d, expected %d", cases[i].target, status,
                      cases[i].status);
    }
}
END_TEST

START_TEST(test_lengths)
{
    char target[2200];
    /* A 256-byte path is served (404: no such asset); 257 bytes is too long. */
    snprintf(target, sizeof(target), "/assets/%0248d", 0);
    ck_assert_uint_eq(strlen(target), 256);
    ck_assert_int_eq(get_status(fixture_port, target), 404);
    snprintf(target, sizeof(target), "/assets/%0249d", 0);
    ck_assert_int_eq(get_status(fixture_port, target), 414);
    /* Queries: 1 KiB at most. */
    snprintf(target, sizeof(target), "/api/findings?device=%01017d", 0);
    ck_assert_uint_eq(strlen(target) - strlen("/api/findings?"), 1024);
    ck_assert_int_eq(get_status(fixture_port, target), 400); /* value longer than 256 */
    snprintf(target, sizeof(target), "/api/findings?device=%01018d", 0);
    ck_assert_int_eq(get_status(fixture_port, target), 414);
    snprintf(target, sizeof(target), "/api/findings?device=%02100d", 0);
    ck_assert_int_eq(get_status(fixture_port, target), 414);
    /* A 64 KiB header: refused by MHD's memory limit, and the server goes on. */
    size_t big = 64 * 1024;
    char *headers = malloc(big + 32);
    memcpy(headers, "X-Big: ", 7);
    memset(headers + 7, 'a', big);
    memcpy(headers + 7 + big, "\r\n", 3);
    struct reply reply = request_with(fixture_port, "GET", "/api/health", headers, NULL);
    ck_assert_msg(reply.status == 431 || reply.status == 413, "status %d", reply.status);
    reply_free(&reply);
    free(headers);
    ck_assert_int_eq(get_status(fixture_port, "/api/health"), 200);
}
END_TEST

START_TEST(test_host_header)
{
    const char *evil = "GET /api/summary HTTP/1.1\r\nHost: evil.example\r\n"
                       "Connection: close\r\n\r\n";
    struct reply reply = exchange(fixture_port, evil, strlen(evil));
    ck_assert_int_eq(reply.status, 421);
    reply_free(&reply);
    static const char *const good[] = {"localhost:8080", "127.0.0.1", "[::1]:80", "127.1.2.3:9"};
    for (size_t i = 0; i < 4; i++) {
        char request[256];
        int length =
            snprintf(request, sizeof(request),
                     "GET /api/health HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", good[i]);
        reply = exchange(fixture_port, request, (size_t)length);
        ck_assert_msg(reply.status == 200, "%s: %d", good[i], reply.status);
        reply_free(&reply);
    }
}
END_TEST

START_TEST(test_assets)
{
    for (size_t i = 0; i < web_asset_count; i++) {
        char target[128];
        snprintf(target, sizeof(target), "/assets/%s", web_assets[i].name);
        struct reply reply = http_get(fixture_port, target);
        ck_assert_int_eq(reply.status, 200);
        ck_assert_str_eq(header(&reply, "Content-Type"), web_assets[i].content_type);
        ck_assert_uint_eq(reply.body_length, web_assets[i].size);
        ck_assert_int_eq(memcmp(reply.body, web_assets[i].data, web_assets[i].size), 0);
        reply_free(&reply);
    }
    struct reply reply = http_get(fixture_port, "/");
    ck_assert_str_eq(header(&reply, "Content-Type"), "text/html; charset=utf-8");
    ck_assert_ptr_nonnull(strstr(reply.body, "<script src=\"/assets/app.js\" defer></script>"));
    reply_free(&reply);
}
END_TEST

/* The CSP forbids inline script and style: no asset may rely on them, and
 * the script never inserts HTML. */
START_TEST(test_assets_csp_clean)
{
    size_t pages = 0;
    for (size_t i = 0; i < web_asset_count; i++) {
        const struct web_asset *asset = &web_assets[i];
        /* The embedded bytes carry no NUL: copy them into a string. */
        char *text = malloc(asset->size + 1);
        ck_assert_ptr_nonnull(text);
        memcpy(text, asset->data, asset->size);
        text[asset->size] = '\0';
        if (strstr(asset->name, ".html") != NULL) {
            pages++;
            for (const char *p = strstr(text, "<script"); p != NULL; p = strstr(p + 1, "<script"))
                ck_assert_msg(strncmp(p, "<script src=\"/assets/", 21) == 0, "%s: inline script",
                              asset->name);
            ck_assert_msg(strstr(text, "<style") == NULL, "%s: inline style", asset->name);
            ck_assert_msg(strstr(text, " style=") == NULL, "%s: style attribute", asset->name);
            ck_assert_msg(strstr(text, " onclick=") == NULL && strstr(text, " onload=") == NULL,
                          "%s: inline handler", asset->name);
            ck_assert_msg(strstr(text, "http://") == NULL && strstr(text, "https://") == NULL,
                          "%s: external resource", asset->name);
        }
        if (strstr(asset->name, ".js") != NULL) {
            ck_assert_msg(strstr(text, "innerHTML") == NULL, "%s uses innerHTML", asset->name);
            ck_assert_msg(strstr(text, "eval(") == NULL, "%s uses eval", asset->name);
            ck_assert_msg(strstr(text, "document.write") == NULL, "%s writes HTML", asset->name);
        }
        if (strstr(asset->name, ".css") != NULL)
            ck_assert_msg(strstr(text, "@import") == NULL && strstr(text, "url(") == NULL,
                          "%s loads a resource", asset->name);
        free(text);
    }
    ck_assert_uint_eq(pages, 2);
}
END_TEST

START_TEST(test_assets_not_stale)
{
    if (system("python3 -c 'pass' >/dev/null 2>&1") != 0) {
        fprintf(stderr, "test_assets_not_stale: python3 missing, skipped\n");
        return;
    }
    char tmp[] = "/tmp/web_assets_XXXXXX";
    int fd = mkstemp(tmp);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char command[4096];
    char script[1024];
    snprintf(script, sizeof(script), "%s", source_path("scripts/embed-assets.py"));
    snprintf(command, sizeof(command), "python3 '%s' --output '%s'", script, tmp);
    ck_assert_int_eq(system(command), 0);
    snprintf(command, sizeof(command), "cmp -s '%s' '%s'", tmp, source_path("src/web_assets.c"));
    int same = system(command);
    unlink(tmp);
    ck_assert_msg(same == 0, "src/web_assets.c is stale: run python3 scripts/embed-assets.py");
}
END_TEST

/* ---- snapshots ------------------------------------------------------------ */

START_TEST(test_no_snapshot_yet)
{
    struct web_options options = {.listen = "127.0.0.1:0", .live = true};
    char err[256];
    struct web_server *server = web_start(&options, err, sizeof(err));
    ck_assert_ptr_nonnull(server);
    int port = port_of(server);
    struct reply reply = http_get(port, "/api/summary");
    ck_assert_int_eq(reply.status, 503);
    reply_free(&reply);
    ck_assert_int_eq(get_status(port, "/api/report.csv"), 503);
    ck_assert_int_eq(get_status(port, "/api/health"), 200);
    ck_assert_int_eq(get_status(port, "/"), 200);
    struct rx rx;
    rx_build(&rx);
    web_publish(server, snapshot_of(&rx, 1));
    struct reply live = http_get(port, "/api/summary");
    cJSON *summary = json_body(&live);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(summary, "live")));
    ck_assert_double_eq(num(summary, "serial"), 1);
    cJSON_Delete(summary);
    reply_free(&live);
    web_stop(server);
    rx_close(&rx);
}
END_TEST

struct reader_args {
    int port;
    int rounds;
    int failures;
};

static void *reader_thread(void *opaque)
{
    struct reader_args *args = opaque;
    double last_serial = 0;
    for (int i = 0; i < args->rounds; i++) {
        const char *target = i % 2 == 0 ? "/api/summary" : "/api/report.json";
        struct reply reply = http_get(args->port, target);
        cJSON *json =
            reply.status == 200 ? cJSON_ParseWithLength(reply.body, reply.body_length) : NULL;
        if (json == NULL) {
            args->failures++;
        } else if (i % 2 == 0) {
            double serial = cJSON_GetObjectItem(json, "serial")->valuedouble;
            double rate =
                cJSON_GetObjectItem(cJSON_GetObjectItem(json, "capture"), "rate_pps")->valuedouble;
            /* Serials never go back, and each snapshot carries its own rate. */
            if (serial < last_serial || rate != serial * 10)
                args->failures++;
            last_serial = serial;
        }
        cJSON_Delete(json);
        reply_free(&reply);
    }
    return NULL;
}

START_TEST(test_snapshot_swap_under_load)
{
    struct rx rx;
    rx_build(&rx);
    struct web_options options = {.listen = "127.0.0.1:0", .live = true};
    char err[256];
    struct web_server *server = web_start(&options, err, sizeof(err));
    ck_assert_ptr_nonnull(server);
    web_publish(server, snapshot_of(&rx, 10));
    enum { READERS = 6 };
    pthread_t threads[READERS];
    struct reader_args args[READERS];
    for (int i = 0; i < READERS; i++) {
        args[i] = (struct reader_args){.port = port_of(server), .rounds = 40};
        ck_assert_int_eq(pthread_create(&threads[i], NULL, reader_thread, &args[i]), 0);
    }
    for (int serial = 2; serial <= 60; serial++) {
        web_publish(server, snapshot_of(&rx, serial * 10.0));
        usleep(2000);
    }
    for (int i = 0; i < READERS; i++) {
        pthread_join(threads[i], NULL);
        ck_assert_int_eq(args[i].failures, 0);
    }
    web_stop(server);
    rx_close(&rx);
}
END_TEST

START_TEST(test_publish_without_server)
{
    struct rx rx;
    rx_build(&rx);
    web_publish(NULL, snapshot_of(&rx, 0)); /* frees it: the sanitizer checks */
    rx_close(&rx);
}
END_TEST

/* ---- options ------------------------------------------------------------- */

START_TEST(test_bad_options)
{
    static const char *const bad[] = {
        "localhost:8080",
        "127.0.0.1",
        "127.0.0.1:",
        "127.0.0.1:65536",
        "127.0.0.1:+80",
        "127.0.0.1:80x",
        "127.0.0.1: 80",
        "1.2.3:80",
        "[::1:80",
        "[::1]80",
        "::1:80",
        "[fe80::1%eth0]:80",
        "",
        ":80",
        "127.0.0.1:123456",
        "[127.0.0.1]:80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct web_options options = {.listen = bad[i]};
        char err[256] = "";
        struct web_server *server = web_start(&options, err, sizeof(err));
        ck_assert_msg(server == NULL, "\"%s\" accepted", bad[i]);
        ck_assert_msg(strstr(err, "bad listen address") != NULL, "%s: %s", bad[i], err);
    }
    char err[256] = "";
    struct web_options half = {.listen = "127.0.0.1:0", .tls_cert = "/nonexistent.pem"};
    ck_assert_ptr_null(web_start(&half, err, sizeof(err)));
    ck_assert_str_eq(err, "HTTPS needs both a certificate and a key");
    struct web_options missing = {
        .listen = "127.0.0.1:0", .tls_cert = "/nonexistent/c.pem", .tls_key = "/nonexistent/k.pem"};
    ck_assert_ptr_null(web_start(&missing, err, sizeof(err)));
    ck_assert_str_eq(err, "/nonexistent/c.pem: No such file or directory");
    struct web_options not_pem = {
        .listen = "127.0.0.1:0", .tls_cert = "/etc/hostname", .tls_key = "/etc/hostname"};
    ck_assert_ptr_null(web_start(&not_pem, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "not a PEM file"));
    struct web_options no_accounts = {.listen = "127.0.0.1:0", .accounts = "/nonexistent/acc"};
    ck_assert_ptr_null(web_start(&no_accounts, err, sizeof(err)));
    ck_assert_str_eq(err, "/nonexistent/acc: No such file or directory");
}
END_TEST

START_TEST(test_ipv6_and_port_in_use)
{
    struct web_options options = {.listen = "[::1]:0"};
    char err[256] = "";
    struct web_server *server = web_start(&options, err, sizeof(err));
    ck_assert_msg(server != NULL, "web_start [::1]:0: %s", err);
    ck_assert_int_eq(strncmp(web_listen_address(server), "[::1]:", 6), 0);
    web_stop(server);
    /* The fixture's port is taken. */
    char listen[64];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", fixture_port);
    struct web_options taken = {.listen = listen};
    ck_assert_ptr_null(web_start(&taken, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "cannot serve on"));
}
END_TEST

/* ---- accounts and login ---------------------------------------------------- */

static char account_dir[64];

static const char *account_file(const char *name)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/%s", account_dir, name);
    return path;
}

static void accounts_setup(void)
{
    snprintf(account_dir, sizeof(account_dir), "/tmp/test_web_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(account_dir));
}

static void accounts_teardown(void)
{
    char command[128];
    snprintf(command, sizeof(command), "rm -rf '%s'", account_dir);
    ck_assert_int_eq(system(command), 0);
}

static char *slurp(const char *path)
{
    FILE *in = fopen(path, "r");
    ck_assert_ptr_nonnull(in);
    char *text = calloc(1, 65536);
    size_t n = fread(text, 1, 65535, in);
    text[n] = '\0';
    fclose(in);
    return text;
}

START_TEST(test_account_set)
{
    const char *path = account_file("accounts");
    char err[256] = "";
    ck_assert_msg(web_account_set(path, "alice", "correct horse", err, sizeof(err)), "%s", err);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    char *text = slurp(path);
    ck_assert_int_eq(strncmp(text, "alice:$y$", 9), 0);
    ck_assert_ptr_null(strstr(text, "correct horse"));
    ck_assert_int_eq(text[strlen(text) - 1], '\n');
    char *first_hash = strdup(text + 6);
    free(text);
    /* A second account is appended, a comment kept; replacing re-salts. */
    FILE *append = fopen(path, "a");
    fputs("# ward 4\n", append);
    fclose(append);
    ck_assert(web_account_set(path, "bob", "hunter2", err, sizeof(err)));
    ck_assert(web_account_set(path, "alice", "correct horse", err, sizeof(err)));
    text = slurp(path);
    ck_assert_int_eq(strncmp(text, "alice:$y$", 9), 0);
    ck_assert_int_ne(strcmp(text + 6, first_hash), 0);
    ck_assert_ptr_nonnull(strstr(text, "\n# ward 4\nbob:$y$"));
    int lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 3);
    free(text);
    free(first_hash);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    /* Refusals. */
    ck_assert(!web_account_set(path, "bad user", "x", err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "bad user name"));
    ck_assert(!web_account_set(path, "a:b", "x", err, sizeof(err)));
    ck_assert(!web_account_set(path, "", "x", err, sizeof(err)));
    ck_assert(!web_account_set(path, "carol", "", err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "password"));
    char long_password[300];
    memset(long_password, 'p', sizeof(long_password) - 1);
    long_password[sizeof(long_password) - 1] = '\0';
    ck_assert(!web_account_set(path, "carol", long_password, err, sizeof(err)));
    ck_assert(!web_account_set(account_file("no/such/dir"), "carol", "x", err, sizeof(err)));
    /* A malformed file is refused, not rewritten. */
    const char *broken = account_file("broken");
    FILE *out = fopen(broken, "w");
    fputs("alice:$y$ok\nnot an account line\n", out);
    fclose(out);
    ck_assert(!web_account_set(broken, "carol", "x", err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, ":2:20: malformed line"));
}
END_TEST

START_TEST(test_bad_accounts_files)
{
    static const char *const files[] = {
        "alice:$1$md5$hash\n",              /* not yescrypt */
        "alice\n",                          /* no hash */
        "al ice:$y$j9T$abc$def\n",          /* bad user */
        "alice:$y$j9T$a\nalice:$y$j9T$b\n", /* twice */
        "alice:$y$j9T$abc$d f\n",           /* bad hash characters */
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        const char *path = account_file("bad");
        FILE *out = fopen(path, "w");
        fputs(files[i], out);
        fclose(out);
        struct web_options options = {.listen = "127.0.0.1:0", .accounts = path};
        char err[256] = "";
        ck_assert_msg(web_start(&options, err, sizeof(err)) == NULL, "file %zu accepted", i);
        ck_assert_msg(strstr(err, path) != NULL, "%zu: %s", i, err);
    }
    /* Every bad line is reported, each at its line and column. */
    const char *several = account_file("several");
    FILE *bad = fopen(several, "w");
    fputs("# accounts\nal ice:$y$j9T$abc$def\nbob:$1$md5$x\nbob\n", bad);
    fclose(bad);
    struct web_options bad_options = {.listen = "127.0.0.1:0", .accounts = several};
    char errors[1024] = "";
    ck_assert_ptr_null(web_start(&bad_options, errors, sizeof(errors)));
    char expected[1024];
    snprintf(expected, sizeof(expected),
             "%s:2:1: expected USER:HASH (user of [A-Za-z0-9._@-], yescrypt hash \"$y$...\")\n"
             "%s:3:5: expected USER:HASH (user of [A-Za-z0-9._@-], yescrypt hash \"$y$...\")\n"
             "%s:4:4: expected USER:HASH (user of [A-Za-z0-9._@-], yescrypt hash \"$y$...\")",
             several, several, several);
    ck_assert_str_eq(errors, expected);
    /* An accounts file with comments only: no login required. */
    const char *path = account_file("empty");
    FILE *out = fopen(path, "w");
    fputs("# nobody yet\n\n", out);
    fclose(out);
    struct web_options options = {.listen = "127.0.0.1:0", .accounts = path};
    char err[256] = "";
    struct web_server *server = web_start(&options, err, sizeof(err));
    ck_assert_msg(server != NULL, "%s", err);
    ck_assert_int_eq(get_status(port_of(server), "/api/summary"), 503);
    web_stop(server);
}
END_TEST

static struct reply login(int port, const char *body, const char *extra_headers)
{
    return request_with(port, "POST", "/login", extra_headers, body);
}

/* The session cookie of a Set-Cookie header, as "fluxaudit_session=ID". */
static char *session_of(const struct reply *reply)
{
    const char *cookie = header(reply, "Set-Cookie");
    ck_assert_ptr_nonnull(cookie);
    ck_assert_int_eq(strncmp(cookie, "fluxaudit_session=", 18), 0);
    size_t length = strcspn(cookie, ";");
    ck_assert_uint_eq(length, 18 + 64);
    return strndup(cookie, length);
}

static int get_with_cookie(int port, const char *target, const char *cookie)
{
    char headers[256];
    snprintf(headers, sizeof(headers), "Cookie: theme=dark; %s\r\n", cookie);
    struct reply reply = request_with(port, "GET", target, headers, NULL);
    int status = reply.status;
    reply_free(&reply);
    return status;
}

START_TEST(test_login_flow)
{
    const char *path = account_file("accounts");
    char err[256] = "";
    ck_assert(web_account_set(path, "alice", "s3cret&=+%", err, sizeof(err)));
    struct rx rx;
    rx_build(&rx);
    struct web_options options = {.listen = "127.0.0.1:0", .accounts = path};
    struct web_server *server = web_start(&options, err, sizeof(err));
    ck_assert_msg(server != NULL, "%s", err);
    web_publish(server, snapshot_of(&rx, 0));
    int port = port_of(server);

    /* Unauthenticated: the API says 401, pages redirect to the login page. */
    cJSON *error = get_json(port, "/api/summary", 401);
    ck_assert_str_eq(str(error, "error"), "login required");
    cJSON_Delete(error);
    ck_assert_int_eq(get_status(port, "/api/report.csv"), 401);
    ck_assert_int_eq(get_status(port, "/api/devices/ct-scanner-3"), 401);
    struct reply reply = http_get(port, "/");
    ck_assert_int_eq(reply.status, 303);
    ck_assert_str_eq(header(&reply, "Location"), "/login");
    reply_free(&reply);
    /* What the login page needs stays reachable, and health. */
    ck_assert_int_eq(get_status(port, "/login"), 200);
    ck_assert_int_eq(get_status(port, "/login?error=refused"), 200);
    ck_assert_int_eq(get_status(port, "/assets/app.css"), 200);
    ck_assert_int_eq(get_status(port, "/api/health"), 200);
    ck_assert_int_eq(get_with_cookie(port, "/api/summary", "fluxaudit_session=forged"), 401);

    /* A wrong password and an unknown user look the same. */
    reply = login(port, "user=alice&password=wrong", NULL);
    ck_assert_int_eq(reply.status, 303);
    ck_assert_str_eq(header(&reply, "Location"), "/login?error=refused");
    ck_assert_ptr_null(header(&reply, "Set-Cookie"));
    reply_free(&reply);
    reply = login(port, "user=mallory&password=s3cret%26%3D%2B%25", NULL);
    ck_assert_str_eq(header(&reply, "Location"), "/login?error=refused");
    reply_free(&reply);
    /* A foreign Origin cannot log in. */
    reply =
        login(port, "user=alice&password=s3cret%26%3D%2B%25", "Origin: http://evil.example\r\n");
    ck_assert_int_eq(reply.status, 403);
    reply_free(&reply);
    /* Malformed forms. */
    reply = login(port, "user=alice", NULL);
    ck_assert_str_eq(header(&reply, "Location"), "/login?error=refused");
    reply_free(&reply);
    char big_form[1200];
    memset(big_form, 'a', sizeof(big_form) - 1);
    big_form[sizeof(big_form) - 1] = '\0';
    reply = login(port, big_form, NULL);
    ck_assert_int_eq(reply.status, 413);
    reply_free(&reply);

    /* The right password (percent-encoded in the form), same origin. */
    char origin[128];
    snprintf(origin, sizeof(origin), "Origin: http://127.0.0.1:%d\r\n", port);
    reply = login(port, "user=alice&password=s3cret%26%3D%2B%25", origin);
    ck_assert_int_eq(reply.status, 303);
    ck_assert_str_eq(header(&reply, "Location"), "/");
    const char *set_cookie = header(&reply, "Set-Cookie");
    ck_assert_ptr_nonnull(strstr(set_cookie, "; HttpOnly"));
    ck_assert_ptr_nonnull(strstr(set_cookie, "; SameSite=Strict"));
    ck_assert_ptr_nonnull(strstr(set_cookie, "; Max-Age=28800"));
    ck_assert_ptr_null(strstr(set_cookie, "Secure")); /* plain HTTP */
    char *cookie = session_of(&reply);
    reply_free(&reply);
    ck_assert_int_eq(get_with_cookie(port, "/api/summary", cookie), 200);
    ck_assert_int_eq(get_with_cookie(port, "/", cookie), 200);
    ck_assert_int_eq(get_with_cookie(port, "/api/report.html", cookie), 200);
    char headers[256];
    snprintf(headers, sizeof(headers), "Cookie: %s\r\n", cookie);
    reply = request_with(port, "GET", "/api/summary", headers, NULL);
    cJSON *summary = json_body(&reply);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(summary, "login_required")));
    cJSON_Delete(summary);
    reply_free(&reply);

    /* Logout ends the session and clears the cookie. */
    reply = request_with(port, "GET", "/logout", headers, NULL);
    ck_assert_int_eq(reply.status, 303);
    ck_assert_str_eq(header(&reply, "Location"), "/login");
    ck_assert_ptr_nonnull(strstr(header(&reply, "Set-Cookie"), "fluxaudit_session=; "));
    ck_assert_ptr_nonnull(strstr(header(&reply, "Set-Cookie"), "Max-Age=0"));
    reply_free(&reply);
    ck_assert_int_eq(get_with_cookie(port, "/api/summary", cookie), 401);
    free(cookie);
    web_stop(server);
    rx_close(&rx);
}
END_TEST

START_TEST(test_login_rate_limit)
{
    const char *path = account_file("accounts");
    char err[256] = "";
    ck_assert(web_account_set(path, "alice", "right", err, sizeof(err)));
    struct web_options options = {.listen = "127.0.0.1:0", .accounts = path};
    struct web_server *server = web_start(&options, err, sizeof(err));
    ck_assert_msg(server != NULL, "%s", err);
    int port = port_of(server);
    for (int i = 0; i < 5; i++) {
        struct reply reply = login(port, "user=alice&password=wrong", NULL);
        ck_assert_int_eq(reply.status, 303);
        reply_free(&reply);
    }
    /* The sixth attempt in the minute is not even checked. */
    struct reply reply = login(port, "user=alice&password=right", NULL);
    ck_assert_int_eq(reply.status, 429);
    ck_assert_str_eq(header(&reply, "Retry-After"), "60");
    ck_assert_ptr_null(header(&reply, "Set-Cookie"));
    reply_free(&reply);
    web_stop(server);
}
END_TEST

START_TEST(test_login_without_accounts)
{
    struct reply reply = login(fixture_port, "user=a&password=b", NULL);
    ck_assert_int_eq(reply.status, 303);
    ck_assert_str_eq(header(&reply, "Location"), "/");
    ck_assert_ptr_null(header(&reply, "Set-Cookie"));
    reply_free(&reply);
    reply = request_with(fixture_port, "PUT", "/login", NULL, NULL);
    ck_assert_int_eq(reply.status, 405);
    reply_free(&reply);
}
END_TEST

static Suite *web_suite(void)
{
    Suite *s = suite_create("web");
    TCase *api = tcase_create("api");
    tcase_add_checked_fixture(api, server_setup, server_teardown);
    tcase_add_test(api, test_health_and_headers);
    tcase_add_test(api, test_listen_address);
    tcase_add_test(api, test_summary);
    tcase_add_test(api, test_devices_and_device);
    tcase_add_test(api, test_findings_filters);
    tcase_add_test(api, test_findings_validation);
    tcase_add_test(api, test_flows);
    tcase_add_test(api, test_reports);
    tcase_add_test(api, test_head);
    tcase_add_test(api, test_methods);
    tcase_add_test(api, test_paths);
    tcase_add_test(api, test_lengths);
    tcase_add_test(api, test_host_header);
    tcase_add_test(api, test_assets);
    tcase_add_test(api, test_ipv6_and_port_in_use);
    tcase_add_test(api, test_login_without_accounts);
    suite_add_tcase(s, api);

    TCase *assets = tcase_create("assets");
    tcase_add_test(assets, test_assets_csp_clean);
    tcase_add_test(assets, test_assets_not_stale);
    suite_add_tcase(s, assets);

    TCase *snapshots = tcase_create("snapshots");
    tcase_set_timeout(snapshots, 60);
    tcase_add_test(snapshots, test_no_snapshot_yet);
    tcase_add_test(snapshots, test_snapshot_swap_under_load);
    tcase_add_test(snapshots, test_publish_without_server);
    tcase_add_test(snapshots, test_bad_options);
    suite_add_tcase(s, snapshots);

    TCase *auth = tcase_create("auth");
    tcase_set_timeout(auth, 60);
    tcase_add_checked_fixture(auth, accounts_setup, accounts_teardown);
    tcase_add_test(auth, test_account_set);
    tcase_add_test(auth, test_bad_accounts_files);
    tcase_add_test(auth, test_login_flow);
    tcase_add_test(auth, test_login_rate_limit);
    suite_add_tcase(s, auth);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(web_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
