/* Unit tests of the HTML, CSV and syslog report writers, from real audits
 * written to memory streams: exact content, escaping of hostile matrix and
 * nDPI strings, self-containment of the HTML, RFC 4180 parsed back (by a
 * strict parser here and by python3's csv module when present), RFC 5424
 * checked against its ABNF, and the datagrams of a local syslog socket. */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
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
#define BOM "\xEF\xBB\xBF"
#define FFFD "\xEF\xBF\xBD"
#define CSV_COLUMNS 22

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

static struct matrix *load_hostile(void)
{
    struct diag d;
    diag_init(&d);
    return check_matrix(matrix_load_json(TEST_DATA_DIR "/report_formats/hostile.json", &d), &d);
}

static void rx_init(struct rx *rx, struct matrix *matrix)
{
    memset(rx, 0, sizeof(*rx));
    rx->matrix = matrix;
    struct diag d;
    diag_init(&d);
    bool ok = rules_load(source_path("rules/findings.json"), &rx->rules, &d);
    diag_free(&d);
    ck_assert_msg(ok, "cannot load %s", source_path("rules/findings.json"));
    rx->audit = audit_create(rx->matrix, &rx->rules, AUDIT_DEFAULT_MAX_ENTRIES);
    ck_assert_ptr_nonnull(rx->audit);
    rx->sources[0] = "ward.pcap";
    rx->sources[1] = "live:eth0";
    rx->counters = (struct pipeline_counters){.packets = 1234, .bytes = 567890, .ip_packets = 1200,
                                              .malformed = 2, .not_ip = 3, .not_decoded = 4,
                                              .fragments = 5, .first_usec = T0,
                                              .last_usec = T0 + 3600 * SEC + 999999};
    rx->flow_stats = (struct flow_table_stats){.peak = 4, .created = 10, .ended_idle = 6,
                                               .ended_evicted = 1, .ended_flush = 3};
    rx->dpi_stats = (struct dpi_stats){.flows_classified = 8, .flows_guessed = 1,
                                       .flows_unknown = 1};
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

/* A CT scanner with every severity: a connection from the Internet
 * (critical), an undeclared ICMP flow, obsolete TLS below the declared
 * encryption (high), a waived app mismatch (medium), a legacy CBC cipher
 * (low) and F02 never seen (info); an idle pump; one stray flow. */
#define M_REPORT                                                                                  \
    HDR "'site':'CH Exemple','hosts':{'pacs':['10.10.2.5']},'devices':["                          \
        "{'name':'ct-scanner-3','vendor':'Acme Medical','model':'CT 9000',"                       \
        "'location':'Imagerie','addresses':['10.10.1.20','02:00:0a:0a:01:14'],'flows':["          \
        "{'id':'F01','from':'device','to':'pacs','proto':'tcp','port':11112,'app':'DICOM',"       \
        "'waiver':'PACS VLAN isolated'},"                                                         \
        "{'id':'F02','from':'device','to':'pacs','proto':'udp','port':123,"                      \
        "'description':'NTP'},"                                                                   \
        "{'id':'F05','from':'device','to':'pacs','proto':'tcp','port':8443,'app':'TLS',"          \
        "'encryption':'tls1.2+'}]},"                                                              \
        "{'name':'pump-7','addresses':['10.10.1.40']}]}"

static void rx_scenario(struct rx *rx)
{
    rx_init(rx, parse_matrix(M_REPORT));
    struct flow mismatch = make_flow("10.10.1.20", "10.10.2.5", 11112, IP_PROTO_TCP, "HTTP");
    struct flow tls = make_flow("10.10.1.20", "10.10.2.5", 8443, IP_PROTO_TCP, "TLS");
    tls.first_usec = T0 + 60 * SEC;
    tls.last_usec = T0 + 61 * SEC + 500000;
    tls.facts.security = SECURITY_TLS;
    tls.facts.tls.client_hello_seen = true;
    tls.facts.tls.offered_max_version = TLS_VERSION_1_2;
    tls.facts.tls.server_hello_seen = true;
    tls.facts.tls.version = TLS_VERSION_1_0;
    tls.facts.tls.cipher_suite = 0xC014; /* ECDHE-RSA AES-256-CBC SHA: "legacy" */
    struct flow icmp = make_flow("10.10.1.20", "10.10.3.3", 0, IP_PROTO_ICMP, "");
    struct flow inbound = make_flow("198.51.100.7", "10.10.1.20", 22, IP_PROTO_TCP, "SSH");
    inbound.first_usec = T0 + 120 * SEC;
    inbound.last_usec = T0 + 130 * SEC;
    struct flow stray = make_flow("10.50.0.1", "10.50.0.2", 80, IP_PROTO_TCP, "HTTP");
    audit_flow(rx->audit, &mismatch);
    audit_flow(rx->audit, &tls);
    audit_flow(rx->audit, &icmp);
    audit_flow(rx->audit, &inbound);
    audit_flow(rx->audit, &stray);
    audit_finish(rx->audit);
}

/* The hostile matrix: a waived mismatch on "F]1\", an undeclared flow
 * whose nDPI name holds a quote, a bracket and a control character, and an
 * undeclared flow of the '@' device. */
static void rx_hostile(struct rx *rx)
{
    rx_init(rx, load_hostile());
    struct flow mismatch = make_flow("10.10.1.20", "10.10.2.5", 11112, IP_PROTO_TCP, "HTTP");
    struct flow odd = make_flow("10.10.1.20", "10.10.3.3", 8080, IP_PROTO_TCP, "=x\",\r\n]\x01");
    struct flow pump = make_flow("10.10.1.40", "10.10.3.4", 5000, IP_PROTO_UDP, "");
    audit_flow(rx->audit, &mismatch);
    audit_flow(rx->audit, &odd);
    audit_flow(rx->audit, &pump);
    audit_finish(rx->audit);
}

static const struct audit_device *device_at(const struct rx *rx, size_t index)
{
    ck_assert_uint_lt(index, audit_device_count(rx->audit));
    return audit_get_device(rx->audit, index);
}

static size_t total_findings(const struct rx *rx)
{
    size_t total = 0;
    for (size_t i = 0; i < audit_device_count(rx->audit); i++)
        total += device_at(rx, i)->finding_count;
    return total;
}

/* Plants an evidence item in the first finding of device `index`. The
 * audit never writes such keys; the writers must still cope, so the test
 * writes into the audit's own (non-const) storage. */
static void plant_evidence(struct rx *rx, size_t index, const char *key, const char *value)
{
    const struct audit_device *device = device_at(rx, index);
    ck_assert_uint_gt(device->finding_count, 0);
    struct audit_finding *finding = (struct audit_finding *)&device->findings[0];
    ck_assert_uint_lt(finding->evidence_count, AUDIT_EVIDENCE_MAX);
    struct evidence_item *item = &finding->evidence[finding->evidence_count++];
    snprintf(item->key, sizeof(item->key), "%s", key);
    snprintf(item->value, sizeof(item->value), "%s", value);
}

/* ---- writing to memory ------------------------------------------------- */

enum format { FORMAT_HTML, FORMAT_CSV, FORMAT_SYSLOG };

static char *write_format(enum format format, const struct report_input *input,
                          const struct report_syslog_options *options, size_t *len_out)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    char err[256] = "";
    bool ok = format == FORMAT_HTML  ? report_write_html(out, input, err, sizeof(err))
              : format == FORMAT_CSV ? report_write_csv(out, input, err, sizeof(err))
                                     : report_write_syslog(out, input, options, err, sizeof(err));
    ck_assert_int_eq(fclose(out), 0);
    ck_assert_msg(ok, "writer failed: %s", err);
    ck_assert_uint_eq(strlen(text), len); /* no NUL inside */
    if (len_out != NULL)
        *len_out = len;
    return text;
}

static char *write_html(const struct report_input *input)
{
    return write_format(FORMAT_HTML, input, NULL, NULL);
}

static char *write_csv(const struct report_input *input)
{
    return write_format(FORMAT_CSV, input, NULL, NULL);
}

static const struct report_syslog_options test_options = {.hostname = "audit-host",
                                                           .app_name = "fluxaudit"};

static char *write_syslog(const struct report_input *input,
                          const struct report_syslog_options *options)
{
    return write_format(FORMAT_SYSLOG, input, options, NULL);
}

static size_t count_of(const char *text, const char *needle)
{
    size_t count = 0;
    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
        count++;
    return count;
}

#define ASSERT_HAS(text, needle)                                                                  \
    ck_assert_msg(strstr((text), (needle)) != NULL, "missing: %s", (needle))
#define ASSERT_HAS_NOT(text, needle)                                                              \
    ck_assert_msg(strstr((text), (needle)) == NULL, "unexpected: %s", (needle))

/* Writes `text` to a new temporary file whose path is returned in `path`. */
static void temp_file(char *path, size_t len, const char *text, size_t text_len)
{
    snprintf(path, len, "/tmp/fluxaudit-formats-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, text_len), (ssize_t)text_len);
    close(fd);
}

static bool have_python(void)
{
    return system("/usr/bin/python3 -c 'import csv, html.parser, json' >/dev/null 2>&1") == 0;
}

/* ---- UTF-8 ------------------------------------------------------------- */

START_TEST(test_utf8_char_length)
{
    static const struct {
        const char *bytes;
        size_t len;
        size_t expected;
    } cases[] = {
        {"a", 1, 1},
        {"\x7F", 1, 1},
        {"\xC3\xA9", 2, 2},            /* é */
        {"\xC3", 1, 0},                /* cut short */
        {"\xC3\x28", 2, 0},            /* bad continuation */
        {"\xC0\xAF", 2, 0},            /* overlong '/' */
        {"\xC1\xBF", 2, 0},            /* overlong */
        {"\xE6\x9D\xB1", 3, 3},        /* 東 */
        {"\xE0\x80\xAF", 3, 0},        /* overlong */
        {"\xED\xA0\x80", 3, 0},        /* surrogate U+D800 */
        {"\xED\x9F\xBF", 3, 3},        /* U+D7FF */
        {"\xEF\xBF\xBD", 3, 3},        /* U+FFFD */
        {"\xE6\x9D", 2, 0},            /* cut short */
        {"\xF0\x9F\x98\x80", 4, 4},    /* emoji */
        {"\xF0\x8F\xBF\xBF", 4, 0},    /* overlong */
        {"\xF4\x8F\xBF\xBF", 4, 4},    /* U+10FFFF */
        {"\xF4\x90\x80\x80", 4, 0},    /* beyond U+10FFFF */
        {"\xF0\x9F\x98\x28", 4, 0},    /* bad last byte */
        {"\x80", 1, 0},                /* stray continuation */
        {"\xFF", 1, 0},
        {"\xF5\x80\x80\x80", 4, 0},
        {"", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(report_utf8_char_length(cases[i].bytes, cases[i].len) == cases[i].expected,
                      "case %zu", i);
}
END_TEST

/* ---- HTML -------------------------------------------------------------- */

START_TEST(test_html_document)
{
    struct rx rx;
    rx_scenario(&rx);
    rx.input.generated_at = "2026-11-24T05:02:11Z";
    char *html = write_html(&rx.input);
    static const char start[] = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                                "<meta charset=\"utf-8\">\n";
    ck_assert(strncmp(html, start, strlen(start)) == 0);
    size_t len = strlen(html);
    ck_assert_str_eq(html + len - strlen("</body>\n</html>\n"), "</body>\n</html>\n");
    ASSERT_HAS(html, "<title>Network flow audit \xE2\x80\x94 CH Exemple</title>");
    ASSERT_HAS(html, "<h1>Network flow audit \xE2\x80\x94 CH Exemple</h1>");
    ASSERT_HAS(html, "<p>Generated 2026-11-24T05:02:11Z by fluxaudit (fluxaudit-report/1)");
    /* Capture */
    ASSERT_HAS(html, "<tr><th scope=\"row\">Flow matrix</th><td>test-matrix.json</td></tr>");
    ASSERT_HAS(html, "<tr><th scope=\"row\">Sources</th><td>ward.pcap<br>live:eth0</td></tr>");
    ASSERT_HAS(html, "<tr><th scope=\"row\">Period</th><td>2023-11-14T22:13:20Z to "
                     "2023-11-14T23:13:20Z</td></tr>");
    ASSERT_HAS(html, "<tr><th scope=\"row\">Packets</th><td>1234</td></tr>");
    ASSERT_HAS(html, "<tr><th scope=\"row\">Bytes</th><td>567890</td></tr>");
    ASSERT_HAS(html, "<tr><th scope=\"row\">Dropped (kernel, interface)</th><td>7</td></tr>");
    ASSERT_HAS(html, "<tr><th scope=\"row\">Malformed</th><td>2</td></tr>");
    ASSERT_HAS(html, "<td>10 created, 4 at most at once, 6 ended idle, 1 evicted</td>");
    ASSERT_HAS(html, "<td>8 classified, 1 guessed, 1 unknown</td>");
    ASSERT_HAS(html, "<tr><th scope=\"row\">Flows of no inventory device</th><td>1</td></tr>");
    /* Summary: one row per device, counts of open findings and waived. */
    ASSERT_HAS(html, "<tr><td><a href=\"#device-1\">ct-scanner-3</a></td><td>Acme Medical / "
                     "CT 9000<br>Imagerie</td><td><span class=\"verdict deviations\">"
                     "DEVIATIONS</span></td><td class=\"n\">1</td><td class=\"n\">4</td>"
                     "<td class=\"n\">0</td><td class=\"n\">1</td><td class=\"n\">1</td>"
                     "<td class=\"n\">1</td></tr>");
    ASSERT_HAS(html, "<tr><td><a href=\"#device-2\">pump-7</a></td><td>\xE2\x80\x94</td>"
                     "<td><span class=\"verdict\">CONFORM</span></td>");
    /* Per device: a printed page each, identity, coverage, findings,
     * observed flows, a signature block. */
    ck_assert_uint_eq(count_of(html, "<section class=\"device\""), 2);
    ck_assert_uint_eq(count_of(html, "<th>Reviewed by</th><th>Date</th><th>Signature</th>"), 2);
    ASSERT_HAS(html, "<section class=\"device\" id=\"device-1\">\n<h2>Device 1: ct-scanner-3</h2>");
    ASSERT_HAS(html, "<tr><th scope=\"row\">Addresses</th><td>10.10.1.20, 02:00:0a:0a:01:14"
                     "</td></tr>");
    ASSERT_HAS(html, "<span class=\"verdict deviations\">DEVIATIONS</span> \xE2\x80\x94 open "
                     "findings: 1 critical, 4 high, 0 medium, 1 low, 1 info; waived: 1</td>");
    ASSERT_HAS(html, "<p>3 declared, 2 observed, 1 not observed.</p>");
    ASSERT_HAS(html, "<tr><td>F01</td><td>device</td><td>pacs</td><td>tcp/11112</td>"
                     "<td>DICOM</td><td>\xE2\x80\x94</td><td>observed</td></tr>");
    ASSERT_HAS(html, "<tr><td>F02</td><td>device</td><td>pacs</td><td>udp/123</td>"
                     "<td>\xE2\x80\x94</td><td>NTP</td><td>not observed</td></tr>");
    /* A finding row: severity, code, status, title and requirements, flow
     * with its matrix flow, times, evidence. */
    ASSERT_HAS(html,
               "<tr><td><strong>MEDIUM</strong><br><span class=\"nw\">FLOW_APP_MISMATCH</span>"
               "<br>Declared flow carries another application protocol<ul><li>CLAUSIER-2025 "
               "O-12.2.3.2</li></ul></td><td>waived<br><span class=\"waiver\">Waiver: PACS VLAN "
               "isolated</span></td><td>10.10.1.20 \xE2\x86\x92 10.10.2.5<br>tcp/11112 HTTP<br>"
               "matrix flow: F01</td><td class=\"nw\">2023-11-14T22:13:20Z<br>"
               "2023-11-14T22:13:25Z<br>1 connection(s)</td><td>declared_app=DICOM<br>"
               "observed_app=HTTP</td></tr>");
    ASSERT_HAS(html, "<tr><td><strong>LOW</strong><br><span class=\"nw\">TLS_WEAK_CIPHER</span> "
                     "(variant legacy)<br>TLS suite in CBC mode");
    ASSERT_HAS(html, "<ul><li>CLAUSIER-2025 O-8.3</li><li>CLAUSIER-2025 O-12.2.3.1</li><li>CHM "
                     "7.3</li><li>RGS B1</li></ul></td><td>open</td>");
    ASSERT_HAS(html, "<td class=\"nw\">\xE2\x80\x94<br>\xE2\x80\x94<br>0 connection(s)</td>"
                     "<td>declared_proto=udp<br>declared_port=123</td></tr>");
    ASSERT_HAS(html, "<br>Flow not declared in the supplier&#39;s flow matrix<ul>");
    ASSERT_HAS(html, "<td>10.10.1.20 \xE2\x86\x92 10.10.3.3<br>icmp<br>matrix flow: none</td>");
    /* Every finding and every requirement of its rule is there. */
    for (size_t d = 0; d < audit_device_count(rx.audit); d++) {
        const struct audit_device *device = device_at(&rx, d);
        for (size_t f = 0; f < device->finding_count; f++) {
            const struct audit_finding *finding = &device->findings[f];
            char code[96];
            snprintf(code, sizeof(code), "<span class=\"nw\">%s</span>",
                     finding_code_name(finding->code));
            ASSERT_HAS(html, code);
            const struct rule *rule = &rx.rules.by_code[finding->code];
            for (size_t r = 0; r < rule->requirement_count; r++) {
                char item[RULE_TEXT_MAX + 16];
                snprintf(item, sizeof(item), "<li>%s</li>", rule->requirements[r]);
                ASSERT_HAS(html, item);
            }
        }
    }
    ck_assert_uint_eq(count_of(html, "<tr><td><strong>"), total_findings(&rx));
    ASSERT_HAS(html, "CLAUSIER-2025 O-12.2.3.2</li><li>DM-ANNEX Matrice de flux r\xC3\xA9seaux"
                     "</li>");
    /* Observed flows, declared or not. */
    ASSERT_HAS(html, "<tr><td>10.10.1.20</td><td>10.10.3.3</td><td>icmp</td><td>undeclared</td>"
                     "<td class=\"nw\">2023-11-14T22:13:20Z<br>2023-11-14T22:13:25Z</td>"
                     "<td class=\"n\">1</td><td class=\"n\">5</td><td class=\"n\">500</td></tr>");
    ASSERT_HAS(html, "<td>tcp/8443 TLS</td><td>F05</td>");
    ASSERT_HAS(html, "<h3>Findings</h3>\n<p>No finding.</p>");
    ASSERT_HAS(html, "<h3>Observed flows</h3>\n<p>No flow observed.</p>");
    /* Printing: A4, a page per device, headers repeated, no colour. */
    ASSERT_HAS(html, "@page { size: A4;");
    ASSERT_HAS(html, "section.device { break-before: page; page-break-before: always; }");
    ASSERT_HAS(html, "thead { display: table-header-group; }");
    ASSERT_HAS(html, "max-width: 1366px");
    ASSERT_HAS_NOT(html, "background-color");
    ASSERT_HAS_NOT(html, "background-image");
    free(html);
    rx_close(&rx);
}
END_TEST

/* Nothing that loads, runs or links outside the document: no such element
 * anywhere (the input's markup is escaped), no such attribute in a tag, no
 * import or URL in the style sheet, and links only to the document's own
 * device sections. */
static void assert_self_contained(const char *html)
{
    static const char *const anywhere[] = {"<script", "<img", "<iframe", "<object", "<embed",
                                           "<link", "<base", "<form", "<svg", "<video",
                                           "<audio", "javascript:"};
    for (size_t i = 0; i < sizeof(anywhere) / sizeof(anywhere[0]); i++)
        ck_assert_msg(strstr(html, anywhere[i]) == NULL, "found %s", anywhere[i]);
    static const char *const in_tags[] = {"src=", " on", "//", "style=", "action="};
    for (const char *tag = strchr(html, '<'); tag != NULL; tag = strchr(tag + 1, '<')) {
        const char *end = strchr(tag, '>');
        ck_assert_ptr_nonnull(end);
        char inside[512];
        size_t n = (size_t)(end - tag) < sizeof(inside) - 1 ? (size_t)(end - tag)
                                                            : sizeof(inside) - 1;
        memcpy(inside, tag, n);
        inside[n] = '\0';
        for (size_t i = 0; i < sizeof(in_tags) / sizeof(in_tags[0]); i++)
            ck_assert_msg(strstr(inside, in_tags[i]) == NULL, "tag %s", inside);
    }
    ck_assert_uint_eq(count_of(html, "<style>"), 1);
    const char *style = strstr(html, "<style>");
    const char *style_end = strstr(html, "</style>");
    ck_assert_ptr_nonnull(style_end);
    char *sheet = strndup(style, (size_t)(style_end - style));
    ck_assert_ptr_nonnull(sheet);
    ck_assert_ptr_null(strstr(sheet, "url("));
    ck_assert_ptr_null(strstr(sheet, "@import"));
    ck_assert_ptr_null(strstr(sheet, "//"));
    free(sheet);
    for (const char *href = strstr(html, "href="); href != NULL; href = strstr(href + 1, "href="))
        ck_assert_msg(strncmp(href, "href=\"#device-", 14) == 0, "link %.40s", href);
}

START_TEST(test_html_self_contained)
{
    struct rx rx;
    rx_scenario(&rx);
    char *html = write_html(&rx.input);
    assert_self_contained(html);
    free(html);
    rx_close(&rx);
    rx_hostile(&rx);
    html = write_html(&rx.input);
    assert_self_contained(html);
    free(html);
    rx_close(&rx);
}
END_TEST

START_TEST(test_html_escaping)
{
    struct rx rx;
    rx_hostile(&rx);
    plant_evidence(&rx, 0, "k<&>", "v\"'\x02\xff");
    char *html = write_html(&rx.input);
    /* Escaped, never dropped. */
    ASSERT_HAS(html, "<title>Network flow audit \xE2\x80\x94 =cmd|&#39; /C calc&#39;!A0</title>");
    ASSERT_HAS(html, "<h2>Device 1: &lt;script&gt;alert(1)&lt;/script&gt;</h2>");
    ASSERT_HAS(html, "<a href=\"#device-1\">&lt;script&gt;alert(1)&lt;/script&gt;</a>");
    ASSERT_HAS(html, "<td>&quot;onmouseover=alert(1) x=&quot; / O&#39;Brien &amp; Sons &lt;b&gt;"
                     "<br>-2+3, salle &quot;B&quot;, \xC3\xA9tage 2</td>");
    ASSERT_HAS(html, "<td>-2+3, salle &quot;B&quot;, \xC3\xA9tage 2</td>");
    ASSERT_HAS(html, "<span class=\"waiver\">Waiver: password=Hunter2, &quot;ok&quot; \\ ] "
                     "&lt;/td&gt;&lt;img src=x onerror=alert(1)&gt; @SUM(1+1)</span>");
    ASSERT_HAS(html, "matrix flow: F]1\\</td>");
    ASSERT_HAS(html, "<td>tcp/8080 =x&quot;," FFFD "\n]" FFFD "</td>");
    ASSERT_HAS(html, "<h2>Device 2: @pump token=abcd1234 \xC3\xA9 \xE6\x9D\xB1</h2>");
    ASSERT_HAS(html, "k&lt;&amp;&gt;=v&quot;&#39;" FFFD FFFD "</td>");
    /* No raw markup from the input anywhere. */
    ASSERT_HAS_NOT(html, "<script");
    ASSERT_HAS_NOT(html, "<img");
    ASSERT_HAS_NOT(html, "<b>");
    ASSERT_HAS_NOT(html, "\"onmouseover");
    ASSERT_HAS_NOT(html, "\x01");
    ASSERT_HAS_NOT(html, "\x02");
    ASSERT_HAS_NOT(html, "\r");
    ASSERT_HAS_NOT(html, "\xff");
    /* Outside tags, after the style sheet, no apostrophe or double quote is
     * left raw: the input's are all escaped. */
    const char *p = strstr(html, "</style>");
    ck_assert_ptr_nonnull(p);
    for (; *p; p++) {
        if (*p == '<') {
            p = strchr(p, '>');
            ck_assert_ptr_nonnull(p);
            continue;
        }
        ck_assert_msg(*p != '"' && *p != '\'', "raw quote at %.40s", p);
    }
    free(html);
    rx_close(&rx);
}
END_TEST

/* Checks with python3's HTML parser that every element is closed in order
 * and that no element or attribute could load or run anything. */
static void assert_html_well_formed(const char *html)
{
    if (!have_python()) {
        fprintf(stderr, "test_report_formats: python3 missing, HTML parse check skipped\n");
        return;
    }
    char path[64];
    temp_file(path, sizeof(path), html, strlen(html));
    char command[4096];
    snprintf(command, sizeof(command),
             "/usr/bin/python3 -c '\n"
             "import sys, html.parser\n"
             "VOID = {\"meta\", \"br\"}\n"
             "ALLOWED = {\"html\", \"head\", \"meta\", \"title\", \"style\", \"body\", "
             "\"header\", \"footer\", \"section\", \"h1\", \"h2\", \"h3\", \"p\", \"table\", "
             "\"thead\", \"tbody\", \"tr\", \"th\", \"td\", \"ul\", \"li\", \"a\", \"br\", "
             "\"span\", \"strong\"}\n"
             "class P(html.parser.HTMLParser):\n"
             "    def __init__(self):\n"
             "        super().__init__(convert_charrefs=True)\n"
             "        self.stack, self.errors = [], []\n"
             "    def handle_starttag(self, tag, attrs):\n"
             "        if tag not in ALLOWED: self.errors.append(\"tag \" + tag)\n"
             "        for k, v in attrs:\n"
             "            if k.startswith(\"on\") or k in (\"src\", \"srcset\", \"action\"): "
             "self.errors.append(\"attr \" + k)\n"
             "            if k == \"href\" and not v.startswith(\"#\"): "
             "self.errors.append(\"href \" + v)\n"
             "        if tag not in VOID: self.stack.append(tag)\n"
             "    def handle_endtag(self, tag):\n"
             "        if not self.stack or self.stack[-1] != tag:\n"
             "            self.errors.append(\"close \" + tag + \" in \" + str(self.stack[-3:]))\n"
             "        else: self.stack.pop()\n"
             "p = P()\n"
             "p.feed(open(sys.argv[1], encoding=\"utf-8\", errors=\"strict\").read())\n"
             "p.close()\n"
             "if p.stack: p.errors.append(\"unclosed \" + str(p.stack))\n"
             "[print(\"html:\", e, file=sys.stderr) for e in p.errors]\n"
             "sys.exit(1 if p.errors else 0)' '%s'",
             path);
    int status = system(command);
    unlink(path);
    ck_assert_msg(status == 0, "the HTML report is not well formed");
}

START_TEST(test_html_well_formed)
{
    struct rx rx;
    rx_scenario(&rx);
    char *html = write_html(&rx.input);
    assert_html_well_formed(html);
    free(html);
    rx_close(&rx);
    rx_hostile(&rx);
    plant_evidence(&rx, 0, "k", "\xff\xfe</td>");
    html = write_html(&rx.input);
    assert_html_well_formed(html);
    free(html);
    rx_close(&rx);
}
END_TEST

START_TEST(test_html_no_site_no_time_no_flow)
{
    struct rx rx;
    rx_init(&rx, parse_matrix(HDR "'devices':[{'name':'d','addresses':['10.10.1.20']}]}"));
    audit_finish(rx.audit);
    rx.counters.first_usec = rx.counters.last_usec = 0;
    char *html = write_html(&rx.input);
    ASSERT_HAS(html, "<title>Network flow audit</title>");
    ASSERT_HAS(html, "<h1>Network flow audit</h1>\n<p>Generated by fluxaudit (");
    ASSERT_HAS(html, "<tr><th scope=\"row\">Period</th><td>no frame</td></tr>");
    ASSERT_HAS(html, "<h2>Device 1: d</h2>");
    ASSERT_HAS(html, "<h3>Coverage of the flow matrix</h3>\n<p>0 declared, 0 observed, 0 not "
                     "observed.</p>\n<h3>Findings</h3>");
    ASSERT_HAS(html, "<td><a href=\"#device-1\">d</a></td><td>\xE2\x80\x94</td><td><span");
    assert_html_well_formed(html);
    free(html);
    rx_close(&rx);
}
END_TEST

/* ---- CSV --------------------------------------------------------------- */

#define CSV_MAX_ROWS 32

struct csv_doc {
    size_t row_count;
    size_t field_count[CSV_MAX_ROWS];
    char *fields[CSV_MAX_ROWS][CSV_COLUMNS + 2];
};

static void csv_doc_free(struct csv_doc *doc)
{
    for (size_t r = 0; r < doc->row_count; r++) {
        for (size_t f = 0; f < doc->field_count[r]; f++)
            free(doc->fields[r][f]);
    }
    memset(doc, 0, sizeof(*doc));
}

/* A strict RFC 4180 reader: every record ends with CRLF, quotes only
 * around whole fields, doubled inside; no bare CR or LF outside quotes. */
static bool csv_parse(const char *text, struct csv_doc *doc, const char **why)
{
    memset(doc, 0, sizeof(*doc));
    const char *p = text;
    while (*p != '\0') {
        if (doc->row_count == CSV_MAX_ROWS) {
            *why = "too many rows";
            return false;
        }
        size_t r = doc->row_count++;
        for (;;) {
            if (doc->field_count[r] == CSV_COLUMNS + 2) {
                *why = "too many fields";
                return false;
            }
            char *field = malloc(strlen(p) + 1);
            ck_assert_ptr_nonnull(field);
            doc->fields[r][doc->field_count[r]++] = field;
            size_t n = 0;
            if (*p == '"') {
                for (p++;; p++) {
                    if (*p == '\0') {
                        *why = "unterminated quote";
                        return false;
                    }
                    if (*p == '"' && p[1] == '"') {
                        field[n++] = '"';
                        p++;
                    } else if (*p == '"') {
                        p++;
                        break;
                    } else {
                        field[n++] = *p;
                    }
                }
            } else {
                for (; *p != ',' && *p != '\r' && *p != '\0'; p++) {
                    if (*p == '"' || *p == '\n') {
                        *why = "quote or LF in an unquoted field";
                        return false;
                    }
                    field[n++] = *p;
                }
            }
            field[n] = '\0';
            if (*p == ',') {
                p++;
                continue;
            }
            if (p[0] == '\r' && p[1] == '\n') {
                p += 2;
                break;
            }
            *why = "record not ended by CRLF";
            return false;
        }
    }
    return true;
}

static struct csv_doc *csv_read(const char *text)
{
    struct csv_doc *doc = malloc(sizeof(*doc));
    ck_assert_ptr_nonnull(doc);
    const char *why = "";
    ck_assert_msg(csv_parse(text, doc, &why), "CSV refused: %s", why);
    for (size_t r = 0; r < doc->row_count; r++)
        ck_assert_uint_eq(doc->field_count[r], CSV_COLUMNS);
    return doc;
}

static void csv_free(struct csv_doc *doc)
{
    csv_doc_free(doc);
    free(doc);
}

static const char *cell(const struct csv_doc *doc, size_t row, const char *column)
{
    ck_assert_uint_lt(row, doc->row_count);
    for (size_t f = 0; f < CSV_COLUMNS; f++) {
        if (strcmp(doc->fields[0][f], column) == 0)
            return doc->fields[row][f];
    }
    ck_abort_msg("no column %s", column);
    return NULL;
}

/* The row of `code` on device `device`, or 0 when there is none. */
static size_t row_of(const struct csv_doc *doc, const char *device, const char *code)
{
    for (size_t r = 1; r < doc->row_count; r++) {
        if (strcmp(cell(doc, r, "device"), device) == 0 && strcmp(cell(doc, r, "code"), code) == 0)
            return r;
    }
    return 0;
}

/* Parses the same text with python3's csv module and compares every cell
 * with the strict reader's. */
static void assert_python_csv_agrees(const char *text, const struct csv_doc *doc)
{
    if (!have_python()) {
        fprintf(stderr, "test_report_formats: python3 missing, csv module check skipped\n");
        return;
    }
    char in[64], out[64];
    temp_file(in, sizeof(in), text, strlen(text));
    temp_file(out, sizeof(out), "", 0);
    char command[1024];
    snprintf(command, sizeof(command),
             "/usr/bin/python3 -c 'import csv, json, sys\n"
             "data = open(sys.argv[1], \"rb\").read()\n"
             "assert not data.startswith(b\"\\xef\\xbb\\xbf\"), \"BOM\"\n"
             "rows = list(csv.reader(data.decode(\"utf-8\").splitlines(keepends=True), "
             "strict=True))\n"
             "json.dump(rows, open(sys.argv[2], \"w\"))' '%s' '%s'",
             in, out);
    int status = system(command);
    FILE *file = fopen(out, "r");
    ck_assert_ptr_nonnull(file);
    char *json = NULL;
    size_t json_len = 0;
    ck_assert_int_ne(getdelim(&json, &json_len, '\0', file), -1);
    fclose(file);
    unlink(in);
    unlink(out);
    ck_assert_msg(status == 0, "python3 csv refused the file");
    cJSON *rows = cJSON_Parse(json);
    free(json);
    ck_assert_ptr_nonnull(rows);
    ck_assert_int_eq(cJSON_GetArraySize(rows), (int)doc->row_count);
    for (size_t r = 0; r < doc->row_count; r++) {
        const cJSON *row = cJSON_GetArrayItem(rows, (int)r);
        ck_assert_int_eq(cJSON_GetArraySize(row), (int)doc->field_count[r]);
        for (size_t f = 0; f < doc->field_count[r]; f++)
            ck_assert_str_eq(cJSON_GetArrayItem(row, (int)f)->valuestring, doc->fields[r][f]);
    }
    cJSON_Delete(rows);
}

START_TEST(test_csv_rows)
{
    struct rx rx;
    rx_scenario(&rx);
    char *text = write_csv(&rx.input);
    static const char expected[] =
        "site,device,verdict,code,variant,severity,status,title,requirements,client,server,"
        "proto,port,app,matrix_flow,waiver,first_seen,last_seen,connections,packets,bytes,"
        "evidence\r\n"
        "CH Exemple,ct-scanner-3,deviations,FLOW_INBOUND_INTERNET,,critical,open,Connection "
        "opened from the Internet to the device,MEMENTO Q2; CLAUSIER-2025 O-9.2; CHM 8.1,"
        "198.51.100.7,10.10.1.20,tcp,22,SSH,,,2023-11-14T22:15:20Z,2023-11-14T22:15:30Z,1,5,"
        "500,direction=inbound\r\n";
    ck_assert_msg(strncmp(text, expected, strlen(expected)) == 0, "CSV:\n%s", text);
    ASSERT_HAS(text, "\r\nCH Exemple,ct-scanner-3,deviations,FLOW_APP_MISMATCH,,medium,waived,"
                     "Declared flow carries another application protocol,CLAUSIER-2025 "
                     "O-12.2.3.2,10.10.1.20,10.10.2.5,tcp,11112,HTTP,F01,PACS VLAN isolated,"
                     "2023-11-14T22:13:20Z,2023-11-14T22:13:25Z,1,5,500,declared_app=DICOM; "
                     "observed_app=HTTP\r\n");
    ASSERT_HAS(text, "\r\nCH Exemple,ct-scanner-3,deviations,FLOW_NOT_OBSERVED,,info,open,"
                     "Declared flow never observed during the campaign,CLAUSIER-2025 O-12.2.3.2,"
                     "device,pacs,udp,123,,F02,,,,0,0,0,declared_proto=udp; declared_port=123\r\n");
    /* UTF-8 without BOM; CRLF only. */
    ck_assert_int_ne((unsigned char)text[0], 0xEF);
    ck_assert_uint_eq(count_of(text, "\n"), count_of(text, "\r\n"));
    struct csv_doc *doc = csv_read(text);
    ck_assert_uint_eq(doc->row_count, 1 + total_findings(&rx));
    ck_assert_uint_eq(doc->row_count, 9);
    size_t weak = row_of(doc, "ct-scanner-3", "TLS_WEAK_CIPHER");
    ck_assert_uint_ne(weak, 0);
    ck_assert_str_eq(cell(doc, weak, "variant"), "legacy");
    ck_assert_str_eq(cell(doc, weak, "severity"), "low");
    ck_assert_str_eq(cell(doc, weak, "matrix_flow"), "F05");
    ck_assert_str_eq(cell(doc, weak, "first_seen"), "2023-11-14T22:14:20Z");
    ck_assert_str_eq(cell(doc, weak, "last_seen"), "2023-11-14T22:14:21Z");
    ck_assert_str_eq(cell(doc, weak, "requirements"),
                     "CLAUSIER-2025 O-8.3; CLAUSIER-2025 O-12.2.3.1; CHM 7.3; RGS B1");
    size_t icmp = row_of(doc, "ct-scanner-3", "FLOW_UNDECLARED");
    ck_assert_str_eq(cell(doc, icmp, "proto"), "icmp");
    ck_assert_str_eq(cell(doc, icmp, "port"), "");
    ck_assert_str_eq(cell(doc, icmp, "app"), "");
    ck_assert_str_eq(cell(doc, icmp, "matrix_flow"), "");
    ck_assert_str_eq(cell(doc, icmp, "requirements"),
                     "CLAUSIER-2025 O-12.2.3.2; DM-ANNEX Matrice de flux r\xC3\xA9seaux");
    ck_assert_uint_eq(row_of(doc, "pump-7", "FLOW_NOT_OBSERVED"), 0); /* no finding, no row */
    assert_python_csv_agrees(text, doc);
    csv_free(doc);
    free(text);
    rx_close(&rx);
}
END_TEST

START_TEST(test_csv_quoting_and_formula_guard)
{
    struct rx rx;
    rx_hostile(&rx);
    plant_evidence(&rx, 1, "k", "\xff,\"x\"");
    char *text = write_csv(&rx.input);
    /* Raw: the guard quote goes inside the field's quotes. */
    ASSERT_HAS(text, "\r\n'=cmd|' /C calc'!A0,<script>alert(1)</script>,deviations,"
                     "FLOW_UNDECLARED,");
    ASSERT_HAS(text, ",\"password=Hunter2, \"\"ok\"\" \\ ] </td><img src=x onerror=alert(1)>"
                     " @SUM(1+1)\",");
    ASSERT_HAS(text, ",\"'=x\"\",\r\n]\x01\",");
    ASSERT_HAS(text, "\r\n'=cmd|' /C calc'!A0,'@pump token=abcd1234 \xC3\xA9 \xE6\x9D\xB1,");
    ASSERT_HAS(text, ",\"direction=outbound; k=" FFFD ",\"\"x\"\"\"\r\n");
    ASSERT_HAS_NOT(text, "\xff");
    struct csv_doc *doc = csv_read(text);
    ck_assert_uint_eq(doc->row_count, 1 + total_findings(&rx));
    size_t waived = row_of(doc, "<script>alert(1)</script>", "FLOW_APP_MISMATCH");
    ck_assert_uint_ne(waived, 0);
    ck_assert_str_eq(cell(doc, waived, "site"), "'=cmd|' /C calc'!A0");
    ck_assert_str_eq(cell(doc, waived, "status"), "waived");
    ck_assert_str_eq(cell(doc, waived, "matrix_flow"), "F]1\\");
    ck_assert_str_eq(cell(doc, waived, "waiver"),
                     "password=Hunter2, \"ok\" \\ ] </td><img src=x onerror=alert(1)> "
                     "@SUM(1+1)");
    size_t odd = row_of(doc, "<script>alert(1)</script>", "FLOW_UNDECLARED");
    ck_assert_str_eq(cell(doc, odd, "app"), "'=x\",\r\n]\x01");
    ck_assert_str_eq(cell(doc, odd, "port"), "8080");
    size_t pump = row_of(doc, "'@pump token=abcd1234 \xC3\xA9 \xE6\x9D\xB1", "FLOW_UNDECLARED");
    ck_assert_uint_ne(pump, 0);
    ck_assert_str_eq(cell(doc, pump, "proto"), "udp");
    ck_assert_str_eq(cell(doc, pump, "verdict"), "deviations");
    ck_assert_str_eq(cell(doc, pump, "evidence"), "direction=outbound; k=" FFFD ",\"x\"");
    assert_python_csv_agrees(text, doc);
    csv_free(doc);
    free(text);
    rx_close(&rx);
}
END_TEST

START_TEST(test_csv_formula_guard_leads)
{
    /* Each lead character a spreadsheet reads as a formula, in a device
     * name (a field of every row). */
    static const struct {
        const char *name;
        const char *field;
    } cases[] = {
        {"=1+1", "'=1+1"},   {"+1", "'+1"},      {"-1", "'-1"},
        {"@SUM(A1)", "'@SUM(A1)"}, {"a=1", "a=1"}, {"1-2", "1-2"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char matrix[512];
        snprintf(matrix, sizeof(matrix),
                 HDR "'devices':[{'name':'%s','addresses':['10.10.1.20'],'flows':["
                     "{'id':'F1','from':'device','to':'10.10.2.5','proto':'udp','port':9}]}]}",
                 cases[i].name);
        struct rx rx;
        rx_init(&rx, parse_matrix(matrix));
        audit_finish(rx.audit);
        char *text = write_csv(&rx.input);
        struct csv_doc *doc = csv_read(text);
        ck_assert_uint_eq(doc->row_count, 2);
        ck_assert_str_eq(cell(doc, 1, "device"), cases[i].field);
        ck_assert_str_eq(cell(doc, 1, "site"), "");
        csv_free(doc);
        free(text);
        rx_close(&rx);
    }
    /* TAB and CR leads come from nDPI-like names, not the matrix. */
    struct rx rx;
    rx_init(&rx, parse_matrix(HDR "'devices':[{'name':'d','addresses':['10.10.1.20']}]}"));
    struct flow tab = make_flow("10.10.1.20", "10.10.3.3", 1000, IP_PROTO_TCP, "\tA");
    struct flow cr = make_flow("10.10.1.20", "10.10.3.3", 1001, IP_PROTO_TCP, "\r=B");
    audit_flow(rx.audit, &tab);
    audit_flow(rx.audit, &cr);
    audit_finish(rx.audit);
    char *text = write_csv(&rx.input);
    ASSERT_HAS(text, ",'\tA,");
    ASSERT_HAS(text, ",\"'\r=B\",");
    struct csv_doc *doc = csv_read(text);
    ck_assert_uint_eq(doc->row_count, 3);
    csv_free(doc);
    free(text);
    rx_close(&rx);
}
END_TEST

START_TEST(test_csv_header_only)
{
    struct rx rx;
    rx_init(&rx, parse_matrix(HDR "'devices':[{'name':'d','addresses':['10.10.1.20']}]}"));
    audit_finish(rx.audit);
    char *text = write_csv(&rx.input);
    ck_assert_str_eq(text, "site,device,verdict,code,variant,severity,status,title,requirements,"
                           "client,server,proto,port,app,matrix_flow,waiver,first_seen,"
                           "last_seen,connections,packets,bytes,evidence\r\n");
    free(text);
    rx_close(&rx);
}
END_TEST

START_TEST(test_write_errors)
{
    struct rx rx;
    rx_scenario(&rx);
    for (int format = FORMAT_HTML; format <= FORMAT_SYSLOG; format++) {
        FILE *out = fopen("/dev/null", "r");
        ck_assert_ptr_nonnull(out);
        char err[256] = "";
        bool ok = format == FORMAT_HTML  ? report_write_html(out, &rx.input, err, sizeof(err))
                  : format == FORMAT_CSV ? report_write_csv(out, &rx.input, err, sizeof(err))
                                         : report_write_syslog(out, &rx.input, &test_options, err,
                                                               sizeof(err));
        ck_assert_msg(!ok, "format %d wrote to a read-only stream", format);
        ck_assert_msg(strncmp(err, "write error: ", 13) == 0, "err: %s", err);
        fclose(out);
    }
    rx_close(&rx);
}
END_TEST

/* ---- syslog: an RFC 5424 reader ---------------------------------------- */

#define SL_MAX_ELEMENTS 4
#define SL_MAX_PARAMS 24
#define SL_VALUE_MAX 1100

struct sl_param {
    char name[40];
    char value[SL_VALUE_MAX];
};

struct sl_element {
    char id[40];
    struct sl_param params[SL_MAX_PARAMS];
    size_t param_count;
};

struct sl_event {
    int pri;
    char timestamp[64];
    char hostname[256];
    char app_name[64];
    char procid[160];
    char msgid[40];
    struct sl_element elements[SL_MAX_ELEMENTS];
    size_t element_count;
    bool has_msg;
    char msg[REPORT_SYSLOG_EVENT_MAX]; /* after the BOM */
};

static bool is_print_ascii(char c)
{
    return (unsigned char)c >= 33 && (unsigned char)c <= 126;
}

static bool is_sd_name_char(char c)
{
    return is_print_ascii(c) && c != '=' && c != ']' && c != '"';
}

static bool all_utf8(const char *text, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = report_utf8_char_length(text + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* Reads a header token of 1..max PRINTUSASCII followed by SP. */
static bool sl_token(const char **p, const char *end, char *dst, size_t max)
{
    size_t n = 0;
    while (*p < end && is_print_ascii(**p)) {
        if (n == max)
            return false;
        dst[n++] = *(*p)++;
    }
    dst[n] = '\0';
    if (n == 0 || *p == end || **p != ' ')
        return false;
    (*p)++;
    return true;
}

static bool digits_at(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

/* FULL-DATE "T" FULL-TIME per RFC 5424 §6.2.3 (the subset this writer
 * produces or passes through: fraction and offsets included). */
static bool sl_timestamp_ok(const char *t)
{
    if (strcmp(t, "-") == 0)
        return true;
    size_t len = strlen(t);
    if (len < 20 || !digits_at(t, 4) || t[4] != '-' || !digits_at(t + 5, 2) || t[7] != '-' ||
        !digits_at(t + 8, 2) || t[10] != 'T' || !digits_at(t + 11, 2) || t[13] != ':' ||
        !digits_at(t + 14, 2) || t[16] != ':' || !digits_at(t + 17, 2))
        return false;
    int month = atoi(t + 5), day = atoi(t + 8), hour = atoi(t + 11), minute = atoi(t + 14),
        second = atoi(t + 17);
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
        second > 59)
        return false;
    const char *rest = t + 19;
    if (*rest == '.') {
        size_t digits = 0;
        while (rest[1 + digits] >= '0' && rest[1 + digits] <= '9')
            digits++;
        if (digits < 1 || digits > 6)
            return false;
        rest += 1 + digits;
    }
    return strcmp(rest, "Z") == 0 || ((rest[0] == '+' || rest[0] == '-') && strlen(rest) == 6 &&
                                      digits_at(rest + 1, 2) && rest[3] == ':' &&
                                      digits_at(rest + 4, 2));
}

static bool sl_sd_name(const char **p, const char *end, char *dst)
{
    size_t n = 0;
    while (*p < end && is_sd_name_char(**p)) {
        if (n == 32)
            return false;
        dst[n++] = *(*p)++;
    }
    dst[n] = '\0';
    return n > 0;
}

/* PARAM-VALUE up to the closing quote, unescaped into `dst`: '"', '\' and
 * ']' must be escaped (§6.3.3), a backslash before anything else is kept. */
static bool sl_param_value(const char **p, const char *end, char *dst)
{
    size_t n = 0;
    while (*p < end) {
        char c = **p;
        if (n + 2 >= SL_VALUE_MAX)
            return false;
        if (c == '\\' && *p + 1 < end && strchr("\"\\]", (*p)[1]) != NULL) {
            dst[n++] = (*p)[1];
            *p += 2;
            continue;
        }
        if (c == '"') {
            (*p)++;
            dst[n] = '\0';
            return all_utf8(dst, n);
        }
        if (c == ']')
            return false;
        dst[n++] = c;
        (*p)++;
    }
    return false;
}

static bool sl_element(const char **p, const char *end, struct sl_element *element)
{
    if (*p == end || **p != '[')
        return false;
    (*p)++;
    if (!sl_sd_name(p, end, element->id))
        return false;
    while (*p < end && **p == ' ') {
        (*p)++;
        if (element->param_count == SL_MAX_PARAMS)
            return false;
        struct sl_param *param = &element->params[element->param_count++];
        if (!sl_sd_name(p, end, param->name) || *p + 1 >= end || (*p)[0] != '=' ||
            (*p)[1] != '"')
            return false;
        *p += 2;
        if (!sl_param_value(p, end, param->value))
            return false;
    }
    if (*p == end || **p != ']')
        return false;
    (*p)++;
    return true;
}

/* Parses one event per the RFC 5424 ABNF; `*why` says what failed. */
static bool sl_parse(const char *text, size_t len, struct sl_event *event, const char **why)
{
    memset(event, 0, sizeof(*event));
    const char *p = text, *end = text + len;
    *why = "control character";
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)text[i] < 0x20 || text[i] == 0x7F)
            return false;
    }
    *why = "PRI";
    if (p == end || *p++ != '<')
        return false;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 3) {
        event->pri = event->pri * 10 + (*p++ - '0');
        digits++;
    }
    if (digits == 0 || p == end || *p++ != '>' || event->pri > 191)
        return false;
    *why = "VERSION";
    if (end - p < 2 || p[0] != '1' || p[1] != ' ')
        return false;
    p += 2;
    *why = "TIMESTAMP";
    if (!sl_token(&p, end, event->timestamp, 63) || !sl_timestamp_ok(event->timestamp))
        return false;
    *why = "HOSTNAME, APP-NAME, PROCID or MSGID";
    if (!sl_token(&p, end, event->hostname, 255) || !sl_token(&p, end, event->app_name, 48) ||
        !sl_token(&p, end, event->procid, 128) || !sl_token(&p, end, event->msgid, 32))
        return false;
    *why = "STRUCTURED-DATA";
    if (p < end && *p == '-') {
        p++;
    } else {
        do {
            if (event->element_count == SL_MAX_ELEMENTS ||
                !sl_element(&p, end, &event->elements[event->element_count++]))
                return false;
        } while (p < end && *p == '[');
    }
    if (p == end)
        return true;
    *why = "MSG";
    if (*p++ != ' ')
        return false;
    event->has_msg = true;
    if (end - p >= 3 && memcmp(p, BOM, 3) == 0) {
        p += 3;
        memcpy(event->msg, p, (size_t)(end - p));
        event->msg[end - p] = '\0';
        return all_utf8(p, (size_t)(end - p));
    }
    *why = "MSG without BOM";
    return false;
}

static const struct sl_element *sl_find_element(const struct sl_event *event, const char *id)
{
    for (size_t i = 0; i < event->element_count; i++) {
        if (strcmp(event->elements[i].id, id) == 0)
            return &event->elements[i];
    }
    return NULL;
}

/* The value of `name` in element `id`, or NULL. */
static const char *sl_value(const struct sl_event *event, const char *id, const char *name)
{
    const struct sl_element *element = sl_find_element(event, id);
    if (element == NULL)
        return NULL;
    for (size_t i = 0; i < element->param_count; i++) {
        if (strcmp(element->params[i].name, name) == 0)
            return element->params[i].value;
    }
    return NULL;
}

static const char *sd(const struct sl_event *event, const char *name)
{
    return sl_value(event, REPORT_SYSLOG_SD_ID, name);
}

static int expected_syslog_severity(const char *severity)
{
    static const char *const names[] = {"critical", "high", "medium", "low", "info"};
    for (int i = 0; i < 5; i++) {
        if (strcmp(severity, names[i]) == 0)
            return i + 2;
    }
    ck_abort_msg("severity %s", severity);
    return -1;
}

/* Splits the syslog file into events; checks each against the ABNF and
 * PRI against its severity. Returns the events (to free) and their count. */
static struct sl_event *sl_read_all(const char *text, int facility, size_t *count)
{
    size_t lines = count_of(text, "\n");
    if (text[0] != '\0')
        ck_assert_int_eq(text[strlen(text) - 1], '\n');
    struct sl_event *events = calloc(lines + 1, sizeof(*events));
    ck_assert_ptr_nonnull(events);
    const char *line = text;
    for (size_t i = 0; i < lines; i++) {
        const char *nl = strchr(line, '\n');
        size_t len = (size_t)(nl - line);
        ck_assert_uint_le(len, REPORT_SYSLOG_EVENT_MAX);
        const char *why = "";
        ck_assert_msg(sl_parse(line, len, &events[i], &why), "event %zu: %s: %.*s", i, why,
                      (int)len, line);
        const char *severity = sd(&events[i], "severity");
        ck_assert_ptr_nonnull(severity);
        ck_assert_int_eq(events[i].pri, facility * 8 + expected_syslog_severity(severity));
        ck_assert_str_eq(events[i].msgid, sd(&events[i], "code"));
        line = nl + 1;
    }
    *count = lines;
    return events;
}

/* The event of `code` on `device`, or NULL. */
static const struct sl_event *sl_find(const struct sl_event *events, size_t count,
                                      const char *device, const char *code)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(sd(&events[i], "device"), device) == 0 && strcmp(events[i].msgid, code) == 0)
            return &events[i];
    }
    return NULL;
}

START_TEST(test_syslog_reader_refuses)
{
    /* The checker itself: each of these breaks the ABNF. */
    static const char *const bad[] = {
        "<192>1 - h a - m -",
        "<13>2 - h a - m -",
        "<13>1 2023-13-01T00:00:00Z h a - m -",
        "<13>1 2023-11-14 22:13:20Z h a - m -",
        "<13>1 - h a - m [x a=\"b]\"]",
        "<13>1 - h a - m [x a=\"b\"",
        "<13>1 - h a - m [x a=b]",
        "<13>1 - h a - m [x=y a=\"b\"]",
        "<13>1 - h a - m [x a=\"b\"] no BOM",
        "<13>1 - h a - 0123456789012345678901234567890123 -",
        "<13>1 - h a - m - " BOM "\xff",
    };
    struct sl_event *event = malloc(sizeof(*event));
    ck_assert_ptr_nonnull(event);
    const char *why;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!sl_parse(bad[i], strlen(bad[i]), event, &why), "accepted %s", bad[i]);
    const char *good = "<0>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
                       "[exampleSDID@32473 iut=\"3\" eventSource=\"Appli\\]cation\\\\\" "
                       "eventID=\"1011\"][examplePriority@32473 class=\"high\"] " BOM "An app";
    ck_assert_msg(sl_parse(good, strlen(good), event, &why), "%s", why);
    ck_assert_str_eq(sl_value(event, "exampleSDID@32473", "eventSource"), "Appli]cation\\");
    ck_assert_str_eq(sl_value(event, "examplePriority@32473", "class"), "high");
    ck_assert_str_eq(event->msg, "An app");
    free(event);
}
END_TEST

START_TEST(test_syslog_events)
{
    struct rx rx;
    rx_scenario(&rx);
    char *text = write_syslog(&rx.input, &test_options);
    /* The first event, byte for byte. */
    static const char first[] =
        "<106>1 2023-11-14T22:15:30Z audit-host fluxaudit - FLOW_INBOUND_INTERNET "
        "[fluxaudit@32473 site=\"CH Exemple\" device=\"ct-scanner-3\" verdict=\"deviations\" "
        "code=\"FLOW_INBOUND_INTERNET\" severity=\"critical\" status=\"open\" "
        "client=\"198.51.100.7\" server=\"10.10.1.20\" proto=\"tcp\" port=\"22\" app=\"SSH\" "
        "first_seen=\"2023-11-14T22:15:20Z\" last_seen=\"2023-11-14T22:15:30Z\" "
        "connections=\"1\" packets=\"5\" bytes=\"500\" "
        "requirements=\"MEMENTO Q2; CLAUSIER-2025 O-9.2; CHM 8.1\"]"
        "[evidence@32473 direction=\"inbound\"] " BOM
        "Connection opened from the Internet to the device: device ct-scanner-3, "
        "198.51.100.7 -> 10.10.1.20 tcp/22 SSH, 1 connection(s).\n";
    ck_assert_msg(strncmp(text, first, strlen(first)) == 0, "syslog:\n%s", text);
    size_t count = 0;
    struct sl_event *events = sl_read_all(text, REPORT_SYSLOG_DEFAULT_FACILITY, &count);
    ck_assert_uint_eq(count, total_findings(&rx));
    ck_assert_uint_eq(count, 8);
    /* One PRI per severity: facility 13 (log audit) * 8 + 2..6. */
    const struct sl_event *weak = sl_find(events, count, "ct-scanner-3", "TLS_WEAK_CIPHER");
    ck_assert_ptr_nonnull(weak);
    ck_assert_int_eq(weak->pri, 109);
    ck_assert_str_eq(sd(weak, "variant"), "legacy");
    ck_assert_str_eq(sd(weak, "matrix_flow"), "F05");
    ck_assert_str_eq(sl_value(weak, REPORT_SYSLOG_EVIDENCE_SD_ID, "tls_version"), "TLSv1.0");
    ck_assert_str_eq(weak->timestamp, "2023-11-14T22:14:21Z");
    const struct sl_event *mismatch = sl_find(events, count, "ct-scanner-3", "FLOW_APP_MISMATCH");
    ck_assert_int_eq(mismatch->pri, 108);
    ck_assert_str_eq(sd(mismatch, "status"), "waived");
    ck_assert_str_eq(sd(mismatch, "waiver"), "PACS VLAN isolated");
    ck_assert_str_eq(mismatch->msg, "Declared flow carries another application protocol: device "
                                    "ct-scanner-3, 10.10.1.20 -> 10.10.2.5 tcp/11112 HTTP, 1 "
                                    "connection(s), waived: PACS VLAN isolated.");
    const struct sl_event *obsolete = sl_find(events, count, "ct-scanner-3",
                                              "TLS_OBSOLETE_VERSION");
    ck_assert_int_eq(obsolete->pri, 107);
    ck_assert_str_eq(sd(obsolete, "requirements"), "CLAUSIER-2025 O-8.1; CHM 7.1; RGS B1");
    /* FLOW_NOT_OBSERVED has no traffic: no time params, the declared
     * peers, and the NILVALUE timestamp without generated_at. */
    const struct sl_event *missing = sl_find(events, count, "ct-scanner-3", "FLOW_NOT_OBSERVED");
    ck_assert_int_eq(missing->pri, 110);
    ck_assert_str_eq(missing->timestamp, "-");
    ck_assert_ptr_null(sd(missing, "first_seen"));
    ck_assert_ptr_null(sd(missing, "app"));
    ck_assert_str_eq(sd(missing, "client"), "device");
    ck_assert_str_eq(sd(missing, "port"), "123");
    ck_assert_str_eq(sl_value(missing, REPORT_SYSLOG_EVIDENCE_SD_ID, "declared_port"), "123");
    const struct sl_event *icmp = sl_find(events, count, "ct-scanner-3", "FLOW_UNDECLARED");
    ck_assert_ptr_null(sd(icmp, "port"));
    ck_assert_ptr_null(sd(icmp, "matrix_flow"));
    ck_assert_str_eq(sd(icmp, "requirements"),
                     "CLAUSIER-2025 O-12.2.3.2; DM-ANNEX Matrice de flux r\xC3\xA9seaux");
    free(events);
    free(text);
    /* generated_at stands in when a finding has no time. */
    rx.input.generated_at = "2026-11-24T05:02:11Z";
    text = write_syslog(&rx.input, &test_options);
    events = sl_read_all(text, REPORT_SYSLOG_DEFAULT_FACILITY, &count);
    ck_assert_str_eq(sl_find(events, count, "ct-scanner-3", "FLOW_NOT_OBSERVED")->timestamp,
                     "2026-11-24T05:02:11Z");
    free(events);
    free(text);
    /* ... unless it is not a timestamp. */
    rx.input.generated_at = "yesterday";
    text = write_syslog(&rx.input, &test_options);
    events = sl_read_all(text, REPORT_SYSLOG_DEFAULT_FACILITY, &count);
    ck_assert_str_eq(sl_find(events, count, "ct-scanner-3", "FLOW_NOT_OBSERVED")->timestamp, "-");
    free(events);
    free(text);
    rx_close(&rx);
}
END_TEST

START_TEST(test_syslog_options)
{
    struct rx rx;
    rx_scenario(&rx);
    /* Facility 10 (authpriv), a PROCID, header fields cleaned. */
    struct report_syslog_options options = {.hostname = "ward 3\x01host", .app_name = "",
                                            .procid = "4242", .facility = 10};
    char *text = write_syslog(&rx.input, &options);
    size_t count = 0;
    struct sl_event *events = sl_read_all(text, 10, &count);
    ck_assert_uint_eq(count, 8);
    ck_assert_int_eq(events[0].pri, 82);
    ck_assert_str_eq(events[0].hostname, "ward_3_host");
    ck_assert_str_eq(events[0].app_name, "-");
    ck_assert_str_eq(events[0].procid, "4242");
    free(events);
    free(text);
    /* NULL options: this host's name, "fluxaudit", facility 13. */
    text = write_syslog(&rx.input, NULL);
    events = sl_read_all(text, REPORT_SYSLOG_DEFAULT_FACILITY, &count);
    ck_assert_str_eq(events[0].app_name, "fluxaudit");
    ck_assert_str_eq(events[0].procid, "-");
    ck_assert_uint_gt(strlen(events[0].hostname), 0);
    free(events);
    free(text);
    /* Long header fields are cut to their RFC 5424 lengths. */
    char long_name[400];
    memset(long_name, 'h', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    options = (struct report_syslog_options){.hostname = long_name, .app_name = long_name,
                                             .procid = long_name, .facility = 23};
    text = write_syslog(&rx.input, &options);
    events = sl_read_all(text, 23, &count);
    ck_assert_uint_eq(strlen(events[0].hostname), 255);
    ck_assert_uint_eq(strlen(events[0].app_name), 48);
    ck_assert_uint_eq(strlen(events[0].procid), 128);
    free(events);
    free(text);
    /* Facilities outside 0-23 are refused before anything is written. */
    static const int bad[] = {-1, 24, 1000};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        options = (struct report_syslog_options){.facility = bad[i]};
        char *out_text = NULL;
        size_t out_len = 0;
        FILE *out = open_memstream(&out_text, &out_len);
        char err[256] = "";
        ck_assert(!report_write_syslog(out, &rx.input, &options, err, sizeof(err)));
        fclose(out);
        ck_assert_uint_eq(out_len, 0);
        ck_assert_msg(strstr(err, "syslog facility") == err, "err: %s", err);
        free(out_text);
        ck_assert(!report_send_syslog("/nonexistent/sock", &rx.input, &options, err,
                                      sizeof(err)));
        ck_assert_msg(strstr(err, "syslog facility") == err, "err: %s", err);
    }
    rx_close(&rx);
}
END_TEST

START_TEST(test_syslog_escaping)
{
    struct rx rx;
    rx_hostile(&rx);
    plant_evidence(&rx, 0, "bad key=\"]x", "a\"b\\c]d\n\xff");
    plant_evidence(&rx, 0, "", "v");
    plant_evidence(&rx, 0, "k0123456789012345678901", "w"); /* 23 chars: kept whole */
    char *text = write_syslog(&rx.input, &test_options);
    /* Raw escapes as RFC 5424 §6.3.3 writes them. */
    ASSERT_HAS(text, " device=\"<script>alert(1)</script>\"");
    ASSERT_HAS(text, " matrix_flow=\"F\\]1\\\\\"");
    ASSERT_HAS(text, " waiver=\"password=Hunter2, \\\"ok\\\" \\\\ \\] </td><img src=x "
                     "onerror=alert(1)> @SUM(1+1)\"");
    ASSERT_HAS(text, " app=\"=x\\\"," FFFD FFFD "\\]" FFFD "\"");
    ASSERT_HAS(text, "[evidence@32473 direction=\"outbound\" bad_key___x=\"a\\\"b\\\\c\\]d"
                     FFFD FFFD "\"");
    ASSERT_HAS(text, " _=\"v\"");
    ASSERT_HAS(text, " k0123456789012345678901=\"w\"");
    ASSERT_HAS_NOT(text, "\xff");
    size_t count = 0;
    struct sl_event *events = sl_read_all(text, REPORT_SYSLOG_DEFAULT_FACILITY, &count);
    ck_assert_uint_eq(count, total_findings(&rx));
    const struct sl_event *waived = sl_find(events, count, "<script>alert(1)</script>",
                                            "FLOW_APP_MISMATCH");
    ck_assert_ptr_nonnull(waived);
    ck_assert_str_eq(sd(waived, "site"), "=cmd|' /C calc'!A0");
    ck_assert_str_eq(sd(waived, "matrix_flow"), "F]1\\");
    ck_assert_str_eq(sd(waived, "waiver"), "password=Hunter2, \"ok\" \\ ] </td><img src=x "
                                           "onerror=alert(1)> @SUM(1+1)");
    ck_assert_str_eq(waived->msg, "Declared flow carries another application protocol: device "
                                  "<script>alert(1)</script>, 10.10.1.20 -> 10.10.2.5 tcp/11112 "
                                  "HTTP, 1 connection(s), waived: password=Hunter2, \"ok\" \\ ] "
                                  "</td><img src=x onerror=alert(1)> @SUM(1+1).");
    const struct audit_device *ct = device_at(&rx, 0);
    const struct sl_event *planted = sl_find(events, count, "<script>alert(1)</script>",
                                             finding_code_name(ct->findings[0].code));
    ck_assert_ptr_nonnull(planted);
    ck_assert_str_eq(sl_value(planted, REPORT_SYSLOG_EVIDENCE_SD_ID, "bad_key___x"),
                     "a\"b\\c]d" FFFD FFFD);
    ck_assert_str_eq(sl_value(planted, REPORT_SYSLOG_EVIDENCE_SD_ID, "_"), "v");
    ck_assert_str_eq(sd(sl_find(events, count, "@pump token=abcd1234 \xC3\xA9 \xE6\x9D\xB1",
                                "FLOW_UNDECLARED"),
                        "proto"),
                     "udp");
    free(events);
    free(text);
    rx_close(&rx);
}
END_TEST

struct sink {
    char dir[48];
    char path[64];
    int fd;
};

static void sink_open(struct sink *sink)
{
    snprintf(sink->dir, sizeof(sink->dir), "/tmp/fluxaudit-syslog-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(sink->dir));
    snprintf(sink->path, sizeof(sink->path), "%s/log", sink->dir);
    sink->fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    ck_assert_int_ge(sink->fd, 0);
    struct sockaddr_un address;
    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    snprintf(address.sun_path, sizeof(address.sun_path), "%s", sink->path);
    ck_assert_int_eq(bind(sink->fd, (struct sockaddr *)&address, sizeof(address)), 0);
    int size = 1 << 20; /* room for every test datagram before reading */
    setsockopt(sink->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

static void sink_close(struct sink *sink)
{
    close(sink->fd);
    unlink(sink->path);
    rmdir(sink->dir);
}

/* ---- syslog: sizes ----------------------------------------------------- */

START_TEST(test_syslog_long_values)
{
    /* The matrix loader caps names (64 bytes) and texts (512), but a report
     * may come from elsewhere (a campaign database): the writer must hold
     * without those caps. A 6000-byte device name of 3-byte characters and
     * a waiver of 3000 ']': the SD values are capped ("..."), MSG is cut to
     * the event size, both on character boundaries, and the SD stays whole. */
    struct rx rx;
    rx_init(&rx, parse_matrix(HDR "'devices':[{'name':'d','addresses':['10.10.1.20'],'flows':["
                                  "{'id':'F1','from':'device','to':'10.10.2.5','proto':'tcp',"
                                  "'port':104,'app':'DICOM','waiver':'w'}]}]}"));
    struct matrix_device *device = &rx.matrix->devices[0];
    size_t name_chars = 2000, waiver_len = 3000;
    free(device->name);
    device->name = malloc(name_chars * 3 + 1);
    ck_assert_ptr_nonnull(device->name);
    for (size_t i = 0; i < name_chars; i++)
        memcpy(device->name + i * 3, "\xE6\x9D\xB1", 3);
    device->name[name_chars * 3] = '\0';
    free(device->flows[0].waiver);
    device->flows[0].waiver = malloc(waiver_len + 1);
    ck_assert_ptr_nonnull(device->flows[0].waiver);
    memset(device->flows[0].waiver, ']', waiver_len);
    device->flows[0].waiver[waiver_len] = '\0';
    struct flow f = make_flow("10.10.1.20", "10.10.2.5", 104, IP_PROTO_TCP, "HTTP");
    audit_flow(rx.audit, &f);
    audit_finish(rx.audit);
    size_t len = 0;
    char *text = write_format(FORMAT_SYSLOG, &rx.input, &test_options, &len);
    size_t count = 0;
    struct sl_event *events = sl_read_all(text, REPORT_SYSLOG_DEFAULT_FACILITY, &count);
    ck_assert_uint_eq(count, 1);
    ck_assert_uint_eq(len, REPORT_SYSLOG_EVENT_MAX + 1); /* filled to the byte, plus "\n" */
    const char *name = sd(&events[0], "device");
    ck_assert_uint_eq(strlen(name), 84 * 3 + 3); /* 84 whole characters, 252 of 256 bytes */
    ck_assert_str_eq(name + 84 * 3, "...");
    const char *waiver = sd(&events[0], "waiver");
    ck_assert_uint_eq(strlen(waiver), 126 + 3); /* each "\]" is two bytes of the cap */
    ck_assert_str_eq(waiver + 126, "...");
    ck_assert_str_eq(sd(&events[0], "requirements"), "CLAUSIER-2025 O-12.2.3.2");
    ck_assert_str_eq(events[0].msg + strlen(events[0].msg) - 3, "...");
    ck_assert(strncmp(events[0].msg, "Declared flow carries", 21) == 0);
    free(events);
    free(text);
    /* The same event over the socket: one datagram of exactly the cap. */
    struct sink sink;
    sink_open(&sink);
    char err[256] = "";
    ck_assert_msg(report_send_syslog(sink.path, &rx.input, &test_options, err, sizeof(err)),
                  "send: %s", err);
    static char datagram[REPORT_SYSLOG_EVENT_MAX + 16];
    ck_assert_int_eq(recv(sink.fd, datagram, sizeof(datagram), MSG_DONTWAIT),
                     REPORT_SYSLOG_EVENT_MAX);
    sink_close(&sink);
    rx_close(&rx);
}
END_TEST

/* ---- syslog: the socket ------------------------------------------------ */

START_TEST(test_syslog_socket)
{
    struct rx rx;
    rx_scenario(&rx);
    struct sink sink;
    sink_open(&sink);
    char err[256] = "";
    ck_assert_msg(report_send_syslog(sink.path, &rx.input, &test_options, err, sizeof(err)),
                  "send: %s", err);
    /* The datagrams are the file's lines, in order, without "\n". */
    char *text = write_syslog(&rx.input, &test_options);
    const char *line = text;
    size_t received = 0;
    static char datagram[REPORT_SYSLOG_EVENT_MAX + 16];
    for (;;) {
        ssize_t n = recv(sink.fd, datagram, sizeof(datagram), MSG_DONTWAIT);
        if (n < 0) {
            ck_assert_int_eq(errno, EAGAIN);
            break;
        }
        const char *nl = strchr(line, '\n');
        ck_assert_ptr_nonnull(nl);
        ck_assert_int_eq(n, nl - line);
        ck_assert(memcmp(datagram, line, (size_t)n) == 0);
        line = nl + 1;
        received++;
    }
    ck_assert_uint_eq(received, 8);
    ck_assert_int_eq(*line, '\0');
    free(text);
    /* No finding, no datagram. */
    struct rx quiet;
    rx_init(&quiet, parse_matrix(HDR "'devices':[{'name':'d','addresses':['10.10.1.20']}]}"));
    audit_finish(quiet.audit);
    ck_assert(report_send_syslog(sink.path, &quiet.input, NULL, err, sizeof(err)));
    ck_assert_int_lt(recv(sink.fd, datagram, sizeof(datagram), MSG_DONTWAIT), 0);
    rx_close(&quiet);
    sink_close(&sink);
    rx_close(&rx);
}
END_TEST

START_TEST(test_syslog_socket_errors)
{
    struct rx rx;
    rx_scenario(&rx);
    char err[256] = "";
    ck_assert(!report_send_syslog("/nonexistent/fluxaudit.sock", &rx.input, NULL, err,
                                  sizeof(err)));
    ck_assert_str_eq(err, "cannot connect to the syslog socket /nonexistent/fluxaudit.sock: "
                          "No such file or directory");
    char long_path[200];
    memset(long_path, 'a', sizeof(long_path) - 1);
    long_path[0] = '/';
    long_path[sizeof(long_path) - 1] = '\0';
    ck_assert(!report_send_syslog(long_path, &rx.input, NULL, err, sizeof(err)));
    ck_assert_msg(strncmp(err, "syslog socket path too long: ", 29) == 0, "err: %s", err);
    /* A stream socket at the path is not a syslog datagram socket. */
    struct sink sink;
    snprintf(sink.dir, sizeof(sink.dir), "/tmp/fluxaudit-syslog-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(sink.dir));
    snprintf(sink.path, sizeof(sink.path), "%s/log", sink.dir);
    sink.fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    snprintf(address.sun_path, sizeof(address.sun_path), "%s", sink.path);
    ck_assert_int_eq(bind(sink.fd, (struct sockaddr *)&address, sizeof(address)), 0);
    ck_assert(!report_send_syslog(sink.path, &rx.input, NULL, err, sizeof(err)));
    ck_assert_msg(strncmp(err, "cannot connect to the syslog socket ", 36) == 0, "err: %s", err);
    sink_close(&sink);
    rx_close(&rx);
}
END_TEST

static Suite *report_formats_suite(void)
{
    Suite *s = suite_create("report_formats");
    TCase *text = tcase_create("text");
    tcase_add_test(text, test_utf8_char_length);
    suite_add_tcase(s, text);
    TCase *html = tcase_create("html");
    tcase_add_test(html, test_html_document);
    tcase_add_test(html, test_html_self_contained);
    tcase_add_test(html, test_html_escaping);
    tcase_add_test(html, test_html_well_formed);
    tcase_add_test(html, test_html_no_site_no_time_no_flow);
    suite_add_tcase(s, html);
    TCase *csv = tcase_create("csv");
    tcase_add_test(csv, test_csv_rows);
    tcase_add_test(csv, test_csv_quoting_and_formula_guard);
    tcase_add_test(csv, test_csv_formula_guard_leads);
    tcase_add_test(csv, test_csv_header_only);
    tcase_add_test(csv, test_write_errors);
    suite_add_tcase(s, csv);
    TCase *syslog = tcase_create("syslog");
    tcase_add_test(syslog, test_syslog_reader_refuses);
    tcase_add_test(syslog, test_syslog_events);
    tcase_add_test(syslog, test_syslog_options);
    tcase_add_test(syslog, test_syslog_escaping);
    tcase_add_test(syslog, test_syslog_long_values);
    tcase_add_test(syslog, test_syslog_socket);
    tcase_add_test(syslog, test_syslog_socket_errors);
    suite_add_tcase(s, syslog);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(report_formats_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
