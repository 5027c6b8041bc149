/* Unit tests for the pipeline: the reference captures fed frame by frame
 * and audited against the reference matrix and the shipped rules (exact
 * counters and exact findings with evidence); malformed, 802.11 and
 * fragment frames counted; idle expiry through pipeline_tick; a tiny flow
 * cap that evicts flows without losing their findings. */
#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/decode.h"
#include "fluxaudit/pipeline.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

#define ERR_MAX 256
#define TEXT_MAX 4096
#define FRAME_MAX 256
#define SEC 1000000ULL

/* The source tree: meson's environment first, then the build's macro. */
static const char *source_root(void)
{
    const char *root = getenv("FLUXAUDIT_SOURCE_ROOT");
    if (root != NULL && root[0] != '\0')
        return root;
#ifdef FLUXAUDIT_SOURCE_ROOT
    return FLUXAUDIT_SOURCE_ROOT;
#else
    return ".";
#endif
}

/* Matrix and rules shared by every test of a case (loaded in a fixture). */
static struct matrix *reference_matrix;
static struct rules shipped_rules;

static void report_diag(const struct diag *d)
{
    for (size_t i = 0; i < d->count; i++) {
        char line[512];
        diag_format(d, i, line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
}

static struct matrix *load_matrix(const char *path)
{
    struct diag d;
    diag_init(&d);
    struct matrix *matrix = matrix_load_json(path, &d);
    report_diag(&d);
    diag_free(&d);
    ck_assert_msg(matrix != NULL, "cannot load %s", path);
    return matrix;
}

static void setup(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/pcaps/reference-matrix.json", source_root());
    reference_matrix = load_matrix(path);
    snprintf(path, sizeof path, "%s/rules/findings.json", source_root());
    struct diag d;
    diag_init(&d);
    const bool loaded = rules_load(path, &shipped_rules, &d);
    report_diag(&d);
    diag_free(&d);
    ck_assert_msg(loaded, "cannot load %s", path);
}

static void teardown(void)
{
    matrix_free(reference_matrix);
    reference_matrix = NULL;
}

static struct pipeline *create_with(const struct pipeline_config *config,
                                    const struct matrix *matrix)
{
    char err[ERR_MAX] = "";
    struct pipeline *pipeline = pipeline_create(config, matrix, &shipped_rules, err, sizeof err);
    ck_assert_msg(pipeline != NULL, "pipeline_create: %s", err);
    return pipeline;
}

static void test_config(struct pipeline_config *config)
{
    pipeline_default_config(config);
    config->flows.hash_seed = 7;
}

/* Feeds every frame of pcaps/<name>; returns the number of frames. */
static size_t feed_pcap(struct pipeline *pipeline, const char *name)
{
    char path[1024];
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    snprintf(path, sizeof path, "%s/pcaps/%s", source_root(), name);
    pcap_t *pcap = pcap_open_offline(path, pcap_err);
    ck_assert_msg(pcap != NULL, "%s: %s", path, pcap_err);
    const int dlt = pcap_datalink(pcap);
    struct pcap_pkthdr *header;
    const u_char *data;
    size_t frames = 0;
    while (pcap_next_ex(pcap, &header, &data) == 1) {
        const uint64_t ts = (uint64_t)header->ts.tv_sec * SEC + (uint64_t)header->ts.tv_usec;
        pipeline_process(pipeline, dlt, ts, data, header->caplen, header->len);
        frames++;
    }
    pcap_close(pcap);
    return frames;
}

static struct pipeline *run_capture(const char *name)
{
    struct pipeline_config config;
    test_config(&config);
    struct pipeline *pipeline = create_with(&config, reference_matrix);
    feed_pcap(pipeline, name);
    pipeline_finish(pipeline);
    return pipeline;
}

/* Every finding of every device, in report order, one per line:
 * "CODE F02 open 10.10.1.20>10.10.2.7:8443". */
static void findings_text(const struct pipeline *pipeline, char *buf, size_t len)
{
    buf[0] = '\0';
    const struct audit *audit = pipeline_get_audit(pipeline);
    for (size_t i = 0; i < audit_device_count(audit); i++) {
        const struct audit_device *device = audit_get_device(audit, i);
        for (size_t j = 0; j < device->finding_count; j++) {
            const struct audit_finding *f = &device->findings[j];
            const char *id = f->matrix_flow != NULL ? f->matrix_flow->id : "-";
            const size_t used = strlen(buf);
            snprintf(buf + used, len - used, "%s %s %s %s>%s:%u\n", finding_code_name(f->code),
                     id, f->waived ? "waived" : "open", f->flow.client_text,
                     f->flow.server_text, (unsigned)f->flow.port);
        }
    }
}

/* The one finding of `code` for the reference device. */
static const struct audit_finding *find_finding(const struct pipeline *pipeline,
                                                enum finding_code code)
{
    const struct audit *audit = pipeline_get_audit(pipeline);
    const struct audit_finding *found = NULL;
    for (size_t i = 0; i < audit_device_count(audit); i++) {
        const struct audit_device *device = audit_get_device(audit, i);
        for (size_t j = 0; j < device->finding_count; j++) {
            if (device->findings[j].code != code)
                continue;
            ck_assert_msg(found == NULL, "%s raised twice", finding_code_name(code));
            found = &device->findings[j];
        }
    }
    ck_assert_msg(found != NULL, "%s not raised", finding_code_name(code));
    return found;
}

static void check_evidence(const struct audit_finding *f, size_t index, const char *key,
                           const char *value)
{
    ck_assert_uint_gt(f->evidence_count, index);
    ck_assert_str_eq(f->evidence[index].key, key);
    ck_assert_str_eq(f->evidence[index].value, value);
}

static void check_counters(const struct pipeline *pipeline, uint64_t packets, uint64_t bytes,
                           uint64_t ip_packets, uint64_t not_ip)
{
    const struct pipeline_counters *c = pipeline_get_counters(pipeline);
    ck_assert_uint_eq(c->packets, packets);
    ck_assert_uint_eq(c->bytes, bytes);
    ck_assert_uint_eq(c->ip_packets, ip_packets);
    ck_assert_uint_eq(c->not_ip, not_ip);
    ck_assert_uint_eq(c->malformed, 0);
    ck_assert_uint_eq(c->not_decoded, 0);
    ck_assert_uint_eq(c->fragments, 0);
}

/* FLOW_NOT_OBSERVED lines of the declared flows a one-flow capture lacks. */
#define NOT_OBSERVED_F01 "FLOW_NOT_OBSERVED F01 open device>dns:53\n"
#define NOT_OBSERVED_F02 "FLOW_NOT_OBSERVED F02 open device>intranet-web:8443\n"
#define NOT_OBSERVED_F03 "FLOW_NOT_OBSERVED F03 waived device>intranet-web:80\n"
#define NOT_OBSERVED_F04 "FLOW_NOT_OBSERVED F04 open device>vendor-cloud:443\n"
#define NOT_OBSERVED_F05 "FLOW_NOT_OBSERVED F05 open device>pacs:11112\n"

static void check_findings(const struct pipeline *pipeline, const char *expected)
{
    char text[TEXT_MAX];
    findings_text(pipeline, text, sizeof text);
    ck_assert_str_eq(text, expected);
}

START_TEST(test_dns)
{
    struct pipeline *pipeline = run_capture("dns.pcap");
    check_counters(pipeline, 4, 294, 2, 2);
    const struct pipeline_counters *c = pipeline_get_counters(pipeline);
    ck_assert_uint_eq(c->first_usec, 1795633959577698ULL);
    ck_assert_uint_eq(c->last_usec, 1795633959578014ULL);
    check_findings(pipeline, NOT_OBSERVED_F02 NOT_OBSERVED_F03 NOT_OBSERVED_F04 NOT_OBSERVED_F05);
    /* The DNS exchange is an observed flow matched to F01. */
    const struct audit_device *device = audit_get_device(pipeline_get_audit(pipeline), 0);
    ck_assert_uint_eq(device->observed_count, 1);
    ck_assert_ptr_nonnull(device->observed[0].matrix_flow);
    ck_assert_str_eq(device->observed[0].matrix_flow->id, "F01");
    ck_assert_str_eq(device->observed[0].flow.app, "DNS");
    ck_assert_uint_eq(device->observed[0].flow.port, 53);
    ck_assert_uint_eq(device->observed[0].packets, 2);
    ck_assert_uint_eq(device->observed[0].flows, 1);
    struct flow_table_stats flows;
    pipeline_get_flow_stats(pipeline, &flows);
    ck_assert_uint_eq(flows.created, 1);
    ck_assert_uint_eq(flows.ended_flush, 1);
    ck_assert_uint_eq(flows.ended_idle, 0);
    ck_assert_uint_eq(flows.active, 0);
    struct dpi_stats dpi;
    pipeline_get_dpi_stats(pipeline, &dpi);
    ck_assert_uint_eq(dpi.flows_classified, 1);
    ck_assert_uint_eq(dpi.state_bytes, 0);
    pipeline_destroy(pipeline);
}
END_TEST

/* A live snapshot audits the flows still active as if they ended now,
 * without ending them; the final audit then agrees with it. */
START_TEST(test_snapshot_of_active_flows)
{
    struct pipeline_config config;
    test_config(&config);
    struct pipeline *pipeline = create_with(&config, reference_matrix);
    feed_pcap(pipeline, "tls10.pcap");
    struct flow_table_stats stats;
    pipeline_get_flow_stats(pipeline, &stats);
    ck_assert_uint_eq(stats.active, 1); /* not ended: the capture goes on */
    struct audit *live = pipeline_snapshot_audit(pipeline, reference_matrix, &shipped_rules,
                                                 AUDIT_DEFAULT_MAX_ENTRIES);
    ck_assert_ptr_nonnull(live);
    const struct audit_device *device = audit_get_device(live, 0);
    size_t obsolete = 0;
    for (size_t i = 0; i < device->finding_count; i++)
        obsolete += device->findings[i].code == FINDING_TLS_OBSOLETE_VERSION;
    ck_assert_uint_eq(obsolete, 1);
    ck_assert_uint_eq(device->observed_count, 1);
    audit_destroy(live);
    pipeline_get_flow_stats(pipeline, &stats);
    ck_assert_uint_eq(stats.active, 1);
    pipeline_finish(pipeline);
    ck_assert_int_eq(find_finding(pipeline, FINDING_TLS_OBSOLETE_VERSION)->severity, SEVERITY_HIGH);
    pipeline_destroy(pipeline);
}
END_TEST

START_TEST(test_tls10)
{
    struct pipeline *pipeline = run_capture("tls10.pcap");
    check_counters(pipeline, 20, 3427, 18, 2);
    check_findings(pipeline,
                   "TLS_OBSOLETE_VERSION F02 open 10.10.1.20>10.10.2.7:8443\n"
                   "ENCRYPTION_BELOW_DECLARED F02 open 10.10.1.20>10.10.2.7:8443\n"
                   "TLS_WEAK_CIPHER F02 open 10.10.1.20>10.10.2.7:8443\n" NOT_OBSERVED_F01
                       NOT_OBSERVED_F03 NOT_OBSERVED_F04 NOT_OBSERVED_F05);
    const struct audit_finding *obsolete = find_finding(pipeline, FINDING_TLS_OBSOLETE_VERSION);
    ck_assert_int_eq(obsolete->severity, SEVERITY_HIGH);
    ck_assert_str_eq(obsolete->flow.app, "TLS");
    ck_assert_uint_eq(obsolete->flows, 1);
    ck_assert_uint_eq(obsolete->evidence_count, 2);
    check_evidence(obsolete, 0, "tls_version", "TLSv1.0");
    check_evidence(obsolete, 1, "offered_max_version", "TLSv1.0");
    const struct audit_finding *below = find_finding(pipeline, FINDING_ENCRYPTION_BELOW_DECLARED);
    ck_assert_int_eq(below->severity, SEVERITY_HIGH);
    ck_assert_uint_eq(below->evidence_count, 2);
    check_evidence(below, 0, "declared", "tls1.2+");
    check_evidence(below, 1, "observed", "TLSv1.0");
    pipeline_destroy(pipeline);
}
END_TEST

/* The client offers 1.3, the server negotiates 1.0: the finding is about
 * the negotiated version (nDPI 4.2 alone keeps the offer and misses it). */
START_TEST(test_tls_downgrade)
{
    struct pipeline *pipeline = run_capture("tls-client13-server10.pcap");
    check_counters(pipeline, 20, 3626, 18, 2);
    check_findings(pipeline,
                   "TLS_OBSOLETE_VERSION F02 open 10.10.1.20>10.10.2.7:8443\n"
                   "ENCRYPTION_BELOW_DECLARED F02 open 10.10.1.20>10.10.2.7:8443\n"
                   "TLS_WEAK_CIPHER F02 open 10.10.1.20>10.10.2.7:8443\n" NOT_OBSERVED_F01
                       NOT_OBSERVED_F03 NOT_OBSERVED_F04 NOT_OBSERVED_F05);
    const struct audit_finding *obsolete = find_finding(pipeline, FINDING_TLS_OBSOLETE_VERSION);
    ck_assert_uint_eq(obsolete->evidence_count, 2);
    check_evidence(obsolete, 0, "tls_version", "TLSv1.0");
    check_evidence(obsolete, 1, "offered_max_version", "TLSv1.3");
    const struct audit_finding *below = find_finding(pipeline, FINDING_ENCRYPTION_BELOW_DECLARED);
    check_evidence(below, 1, "observed", "TLSv1.0");
    pipeline_destroy(pipeline);
}
END_TEST

START_TEST(test_tls13)
{
    struct pipeline *pipeline = run_capture("tls13.pcap");
    check_counters(pipeline, 24, 4122, 22, 2);
    check_findings(pipeline, NOT_OBSERVED_F01 NOT_OBSERVED_F03 NOT_OBSERVED_F04 NOT_OBSERVED_F05);
    const struct audit_device *device = audit_get_device(pipeline_get_audit(pipeline), 0);
    ck_assert_uint_eq(device->observed_count, 1);
    ck_assert_str_eq(device->observed[0].matrix_flow->id, "F02");
    ck_assert_str_eq(device->observed[0].flow.app, "TLS");
    pipeline_destroy(pipeline);
}
END_TEST

/* Against a matrix demanding TLS 1.3, TLS 1.2 falls short with "observed:
 * TLSv1.2" and TLS 1.3 passes: the audit compares versions only for flows
 * whose security is TLS, so the pipeline set SECURITY_TLS (dpi alone says
 * "other encrypted") with the version negotiated. */
START_TEST(test_flow_security_is_tls)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/pipeline/tls13-matrix.json", TEST_DATA_DIR);
    struct matrix *matrix = load_matrix(path);
    struct pipeline_config config;
    test_config(&config);
    struct pipeline *pipeline = create_with(&config, matrix);
    feed_pcap(pipeline, "tls12.pcap");
    pipeline_finish(pipeline);
    check_findings(pipeline, "ENCRYPTION_BELOW_DECLARED F02 open 10.10.1.20>10.10.2.7:8443\n");
    const struct audit_finding *below = find_finding(pipeline, FINDING_ENCRYPTION_BELOW_DECLARED);
    check_evidence(below, 0, "declared", "tls1.3");
    check_evidence(below, 1, "observed", "TLSv1.2");
    pipeline_destroy(pipeline);

    pipeline = create_with(&config, matrix);
    feed_pcap(pipeline, "tls13.pcap");
    pipeline_finish(pipeline);
    check_findings(pipeline, "");
    pipeline_destroy(pipeline);
    matrix_free(matrix);
}
END_TEST

START_TEST(test_undeclared)
{
    struct pipeline *pipeline = run_capture("undeclared.pcap");
    check_counters(pipeline, 14, 1178, 12, 2);
    check_findings(pipeline, "FLOW_UNDECLARED - open 10.10.1.20>10.10.2.9:8080\n" NOT_OBSERVED_F01
                                 NOT_OBSERVED_F02 NOT_OBSERVED_F03 NOT_OBSERVED_F04
                                     NOT_OBSERVED_F05);
    const struct audit_finding *f = find_finding(pipeline, FINDING_FLOW_UNDECLARED);
    ck_assert_int_eq(f->severity, SEVERITY_HIGH);
    ck_assert_ptr_null(f->matrix_flow);
    ck_assert_uint_eq(f->flow.ip_proto, IP_PROTO_TCP);
    ck_assert_str_eq(f->flow.app, "HTTP");
    check_evidence(f, 0, "direction", "outbound");
    pipeline_destroy(pipeline);
}
END_TEST

START_TEST(test_finish_twice)
{
    struct pipeline *pipeline = run_capture("dns.pcap");
    char before[TEXT_MAX];
    findings_text(pipeline, before, sizeof before);
    pipeline_finish(pipeline);
    check_findings(pipeline, before);
    pipeline_destroy(pipeline);
    pipeline_destroy(NULL);
}
END_TEST

/* ---- hand-built frames ---- */

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Ethernet + IPv4 + UDP carrying `payload_len` zero bytes, with the given
 * fragment field (flags and offset); returns the frame length. */
static size_t build_udp(uint8_t *buf, uint16_t frag, size_t payload_len)
{
    const size_t len = 14 + 20 + 8 + payload_len;
    ck_assert_uint_le(len, FRAME_MAX);
    memset(buf, 0, len);
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
    memcpy(buf, macs, sizeof macs);
    put_be16(buf + 12, 0x0800);
    uint8_t *ip = buf + 14;
    ip[0] = 0x45;
    put_be16(ip + 2, (uint16_t)(20 + 8 + payload_len));
    put_be16(ip + 6, frag);
    ip[8] = 64;
    ip[9] = IP_PROTO_UDP;
    ip[12] = 10, ip[13] = 99, ip[15] = 1;
    ip[16] = 10, ip[17] = 99, ip[19] = 2;
    put_be16(ip + 20, 40000);
    put_be16(ip + 22, 40001);
    put_be16(ip + 24, (uint16_t)(8 + payload_len));
    return len;
}

static struct pipeline *create_empty(void)
{
    struct pipeline_config config;
    test_config(&config);
    return create_with(&config, reference_matrix);
}

START_TEST(test_malformed_counted)
{
    struct pipeline *pipeline = create_empty();
    uint8_t frame[FRAME_MAX];
    const size_t len = build_udp(frame, 0, 16);
    /* Ethernet complete, IPv4 header cut after 10 of its 20 bytes. */
    pipeline_process(pipeline, DLT_EN10MB, 1 * SEC, frame, 14 + 10, (uint32_t)len);
    /* Ethernet header itself cut. */
    pipeline_process(pipeline, DLT_EN10MB, 2 * SEC, frame, 9, (uint32_t)len);
    /* IPv4 header whole, UDP header cut. */
    pipeline_process(pipeline, DLT_EN10MB, 3 * SEC, frame, 14 + 20 + 4, (uint32_t)len);
    /* An IPv4 header length below 20. */
    frame[14] = 0x44;
    pipeline_process(pipeline, DLT_EN10MB, 4 * SEC, frame, (uint32_t)len, (uint32_t)len);
    const struct pipeline_counters *c = pipeline_get_counters(pipeline);
    ck_assert_uint_eq(c->packets, 4);
    ck_assert_uint_eq(c->bytes, 4 * len);
    ck_assert_uint_eq(c->malformed, 4);
    ck_assert_uint_eq(c->ip_packets, 0);
    ck_assert_uint_eq(c->not_ip, 0);
    ck_assert_uint_eq(c->first_usec, 1 * SEC);
    ck_assert_uint_eq(c->last_usec, 4 * SEC);
    pipeline_finish(pipeline);
    struct flow_table_stats flows;
    pipeline_get_flow_stats(pipeline, &flows);
    ck_assert_uint_eq(flows.created, 0);
    pipeline_destroy(pipeline);
}
END_TEST

START_TEST(test_wifi_not_decoded)
{
    struct pipeline *pipeline = create_empty();
    /* An 802.11 beacon header: frame control 0x80 0x00, then addresses; the
     * same behind an empty radiotap header (version 0, length 8). */
    uint8_t frame[36] = {0x80, 0x00};
    uint8_t radio[8 + sizeof frame] = {0x00, 0x00, 0x08, 0x00};
    memcpy(radio + 8, frame, sizeof frame);
    pipeline_process(pipeline, DLT_IEEE802_11, 10 * SEC, frame, sizeof frame, sizeof frame);
    pipeline_process(pipeline, DLT_IEEE802_11_RADIO, 11 * SEC, radio, sizeof radio,
                     sizeof radio);
    const struct pipeline_counters *c = pipeline_get_counters(pipeline);
    ck_assert_uint_eq(c->packets, 2);
    ck_assert_uint_eq(c->bytes, sizeof frame + sizeof radio);
    ck_assert_uint_eq(c->not_decoded, 2);
    ck_assert_uint_eq(c->malformed, 0);
    ck_assert_uint_eq(c->ip_packets, 0);
    pipeline_destroy(pipeline);
}
END_TEST

START_TEST(test_fragments_counted)
{
    struct pipeline *pipeline = create_empty();
    uint8_t frame[FRAME_MAX];
    /* First fragment (MF, offset 0): carries the UDP header, makes a flow. */
    size_t len = build_udp(frame, 0x2000, 32);
    pipeline_process(pipeline, DLT_EN10MB, 1 * SEC, frame, (uint32_t)len, (uint32_t)len);
    /* Middle (MF, offset 40 bytes) and last (offset 80 bytes) fragments. */
    len = build_udp(frame, 0x2000 | 5, 32);
    pipeline_process(pipeline, DLT_EN10MB, 1 * SEC + 1, frame, (uint32_t)len, (uint32_t)len);
    len = build_udp(frame, 10, 32);
    pipeline_process(pipeline, DLT_EN10MB, 1 * SEC + 2, frame, (uint32_t)len, (uint32_t)len);
    const struct pipeline_counters *c = pipeline_get_counters(pipeline);
    ck_assert_uint_eq(c->packets, 3);
    ck_assert_uint_eq(c->fragments, 2);
    ck_assert_uint_eq(c->ip_packets, 1);
    ck_assert_uint_eq(c->malformed, 0);
    pipeline_finish(pipeline);
    struct flow_table_stats flows;
    pipeline_get_flow_stats(pipeline, &flows);
    ck_assert_uint_eq(flows.created, 1);
    pipeline_destroy(pipeline);
}
END_TEST

/* Timestamps out of order: first/last are the minimum and maximum. */
START_TEST(test_first_last_usec)
{
    struct pipeline *pipeline = create_empty();
    const struct pipeline_counters *c = pipeline_get_counters(pipeline);
    ck_assert_uint_eq(c->first_usec, 0);
    ck_assert_uint_eq(c->last_usec, 0);
    const uint8_t arp[42] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06};
    pipeline_process(pipeline, DLT_EN10MB, 50 * SEC, arp, sizeof arp, 60);
    pipeline_process(pipeline, DLT_EN10MB, 30 * SEC, arp, sizeof arp, 60);
    pipeline_process(pipeline, DLT_EN10MB, 90 * SEC, arp, sizeof arp, 60);
    pipeline_process(pipeline, DLT_EN10MB, 70 * SEC, arp, sizeof arp, 60);
    ck_assert_uint_eq(c->first_usec, 30 * SEC);
    ck_assert_uint_eq(c->last_usec, 90 * SEC);
    ck_assert_uint_eq(c->not_ip, 4);
    ck_assert_uint_eq(c->bytes, 240); /* wire length, not captured length */
    pipeline_destroy(pipeline);
}
END_TEST

/* A frame stamped at the epoch is the first one, not "no frame yet". */
START_TEST(test_first_usec_zero_timestamp)
{
    struct pipeline *pipeline = create_empty();
    const uint8_t arp[42] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06};
    pipeline_process(pipeline, DLT_EN10MB, 0, arp, sizeof arp, sizeof arp);
    pipeline_process(pipeline, DLT_EN10MB, 5 * SEC, arp, sizeof arp, sizeof arp);
    const struct pipeline_counters *c = pipeline_get_counters(pipeline);
    ck_assert_uint_eq(c->first_usec, 0);
    ck_assert_uint_eq(c->last_usec, 5 * SEC);
    pipeline_destroy(pipeline);
}
END_TEST

/* With a one-second UDP timeout, a tick well after the DNS answer ends the
 * flow as idle and audits it before pipeline_finish. */
START_TEST(test_tick_expires_idle_flows)
{
    struct pipeline_config config;
    test_config(&config);
    config.flows.udp_idle_sec = 1;
    struct pipeline *pipeline = create_with(&config, reference_matrix);
    feed_pcap(pipeline, "dns.pcap");
    struct flow_table_stats flows;
    struct audit_stats audit;
    pipeline_get_flow_stats(pipeline, &flows);
    ck_assert_uint_eq(flows.active, 1);
    ck_assert_uint_eq(flows.ended_idle, 0);
    audit_get_stats(pipeline_get_audit(pipeline), &audit);
    ck_assert_uint_eq(audit.flows_audited, 0);

    const uint64_t last = pipeline_get_counters(pipeline)->last_usec;
    pipeline_tick(pipeline, last + SEC / 2); /* not idle for long enough yet */
    pipeline_get_flow_stats(pipeline, &flows);
    ck_assert_uint_eq(flows.active, 1);

    pipeline_tick(pipeline, last + 3600 * SEC);
    pipeline_get_flow_stats(pipeline, &flows);
    ck_assert_uint_eq(flows.active, 0);
    ck_assert_uint_eq(flows.ended_idle, 1);
    audit_get_stats(pipeline_get_audit(pipeline), &audit);
    ck_assert_uint_eq(audit.flows_audited, 1);
    const struct audit_device *device = audit_get_device(pipeline_get_audit(pipeline), 0);
    ck_assert_uint_eq(device->observed_count, 1);
    ck_assert_str_eq(device->observed[0].matrix_flow->id, "F01");

    pipeline_finish(pipeline);
    pipeline_get_flow_stats(pipeline, &flows);
    ck_assert_uint_eq(flows.ended_flush, 0);
    ck_assert_uint_eq(flows.created, 1);
    audit_get_stats(pipeline_get_audit(pipeline), &audit);
    ck_assert_uint_eq(audit.flows_audited, 1);
    check_findings(pipeline, NOT_OBSERVED_F02 NOT_OBSERVED_F03 NOT_OBSERVED_F04 NOT_OBSERVED_F05);
    pipeline_destroy(pipeline);
}
END_TEST

/* Frames themselves expire idle flows as capture time passes (at most once
 * a second), with no tick at all. */
START_TEST(test_packets_expire_idle_flows)
{
    struct pipeline_config config;
    test_config(&config);
    config.flows.udp_idle_sec = 1;
    struct pipeline *pipeline = create_with(&config, reference_matrix);
    uint8_t frame[FRAME_MAX];
    const size_t len = build_udp(frame, 0, 8);
    pipeline_process(pipeline, DLT_EN10MB, 100 * SEC, frame, (uint32_t)len, (uint32_t)len);
    pipeline_process(pipeline, DLT_EN10MB, 110 * SEC, frame, (uint32_t)len, (uint32_t)len);
    struct flow_table_stats flows;
    pipeline_get_flow_stats(pipeline, &flows);
    ck_assert_uint_eq(flows.created, 2);
    ck_assert_uint_eq(flows.ended_idle, 1);
    ck_assert_uint_eq(flows.active, 1);
    pipeline_destroy(pipeline);
}
END_TEST

/* The reference capture: exact counters and the union of the findings. */
static const char reference_findings[] =
    "FLOW_INBOUND_INTERNET - open 203.0.113.50>10.10.1.20:8080\n"
    "FLOW_UNDECLARED - open 10.10.1.20>10.10.2.9:8080\n"
    "FLOW_INTERNET_UNDECLARED - open 10.10.1.20>203.0.113.80:443\n"
    "FLOW_INTERNET_UNDECLARED - open 203.0.113.50>10.10.1.20:8080\n"
    "TLS_OBSOLETE_VERSION F02 open 10.10.1.20>10.10.2.7:8443\n"
    "ENCRYPTION_BELOW_DECLARED F02 open 10.10.1.20>10.10.2.7:8443\n"
    "CLEARTEXT_CREDENTIALS F03 waived 10.10.1.20>10.10.2.7:80\n"
    "SERVICE_UNDECLARED - open any>10.10.1.20:8080\n"
    "TLS_WEAK_CIPHER F02 open 10.10.1.20>10.10.2.7:8443\n" NOT_OBSERVED_F05;

START_TEST(test_reference)
{
    struct pipeline *pipeline = run_capture("reference.pcap");
    check_counters(pipeline, 188, 27398, 166, 22);
    check_findings(pipeline, reference_findings);
    /* Two connections (tls10 and the downgrade) aggregate into one finding. */
    ck_assert_uint_eq(find_finding(pipeline, FINDING_TLS_OBSOLETE_VERSION)->flows, 2);
    struct flow_table_stats flows;
    pipeline_get_flow_stats(pipeline, &flows);
    ck_assert_uint_eq(flows.created, 11);
    ck_assert_uint_eq(flows.peak, 8);
    ck_assert_uint_eq(flows.ended_evicted, 0);
    ck_assert_uint_eq(flows.ended_idle, 4);
    ck_assert_uint_eq(flows.ended_flush, 7);
    struct dpi_stats dpi;
    pipeline_get_dpi_stats(pipeline, &dpi);
    ck_assert_uint_eq(dpi.flows_classified, 11);
    ck_assert_uint_eq(dpi.flows_guessed, 0);
    ck_assert_uint_eq(dpi.flows_unknown, 0);
    ck_assert_uint_eq(dpi.state_bytes, 0);
    ck_assert(audit_has_open_at_or_above(pipeline_get_audit(pipeline), SEVERITY_HIGH));
    pipeline_destroy(pipeline);
}
END_TEST

/* Two flows at most: every other flow is evicted while it is still active,
 * and each is still audited, so the findings are those of the uncapped run. */
START_TEST(test_eviction_keeps_findings)
{
    struct pipeline_config config;
    test_config(&config);
    config.flows.max_flows = 2;
    struct pipeline *pipeline = create_with(&config, reference_matrix);
    feed_pcap(pipeline, "reference.pcap");
    pipeline_finish(pipeline);
    struct flow_table_stats flows;
    pipeline_get_flow_stats(pipeline, &flows);
    /* The scenarios of the capture follow one another, so the flows that
     * lingered in the uncapped run (closed TCP waits, UDP idle) are the
     * ones evicted: nine of eleven, none recreated. */
    ck_assert_uint_eq(flows.peak, 2);
    ck_assert_uint_eq(flows.created, 11);
    ck_assert_uint_eq(flows.ended_evicted, 9);
    ck_assert_uint_eq(flows.ended_idle, 0);
    ck_assert_uint_eq(flows.ended_flush, 2);
    check_findings(pipeline, reference_findings);
    struct audit_stats audit;
    audit_get_stats(pipeline_get_audit(pipeline), &audit);
    ck_assert_uint_eq(audit.flows_audited, flows.created);
    pipeline_destroy(pipeline);
}
END_TEST

/* One flow at most: each new connection evicts the previous one (the
 * scenarios do not overlap in time, so no connection is cut in two). */
START_TEST(test_eviction_single_flow)
{
    struct pipeline_config config;
    test_config(&config);
    config.flows.max_flows = 1;
    struct pipeline *pipeline = create_with(&config, reference_matrix);
    feed_pcap(pipeline, "reference.pcap");
    pipeline_finish(pipeline);
    struct flow_table_stats flows;
    pipeline_get_flow_stats(pipeline, &flows);
    ck_assert_uint_eq(flows.peak, 1);
    ck_assert_uint_eq(flows.created, 11);
    ck_assert_uint_eq(flows.ended_evicted, 10);
    ck_assert_uint_eq(flows.ended_flush, 1);
    check_findings(pipeline, reference_findings);
    pipeline_destroy(pipeline);
}
END_TEST

static Suite *pipeline_suite(void)
{
    Suite *suite = suite_create("pipeline");
    TCase *captures = tcase_create("captures");
    tcase_add_checked_fixture(captures, setup, teardown);
    tcase_set_timeout(captures, 120);
    tcase_add_test(captures, test_dns);
    tcase_add_test(captures, test_tls10);
    tcase_add_test(captures, test_tls_downgrade);
    tcase_add_test(captures, test_tls13);
    tcase_add_test(captures, test_flow_security_is_tls);
    tcase_add_test(captures, test_undeclared);
    tcase_add_test(captures, test_finish_twice);
    tcase_add_test(captures, test_reference);
    tcase_add_test(captures, test_snapshot_of_active_flows);
    tcase_add_test(captures, test_eviction_keeps_findings);
    tcase_add_test(captures, test_eviction_single_flow);
    suite_add_tcase(suite, captures);
    TCase *frames = tcase_create("frames");
    tcase_add_checked_fixture(frames, setup, teardown);
    tcase_set_timeout(frames, 60);
    tcase_add_test(frames, test_malformed_counted);
    tcase_add_test(frames, test_wifi_not_decoded);
    tcase_add_test(frames, test_fragments_counted);
    tcase_add_test(frames, test_first_last_usec);
    tcase_add_test(frames, test_first_usec_zero_timestamp);
    tcase_add_test(frames, test_tick_expires_idle_flows);
    tcase_add_test(frames, test_packets_expire_idle_flows);
    suite_add_tcase(suite, frames);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(pipeline_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
