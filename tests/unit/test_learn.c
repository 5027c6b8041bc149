/* Unit tests of learn: the draft matrix written from observations. Every
 * draft is loaded back with matrix_parse_json and the same observations,
 * made into struct flow, are audited against it: no FLOW_UNDECLARED,
 * FLOW_INTERNET_UNDECLARED or SERVICE_UNDECLARED, and none of the findings
 * a draft declaring more than was seen would raise (ENCRYPTION_BELOW_DECLARED,
 * FLOW_APP_MISMATCH). Then grouping thresholds, ephemeral and dynamic ports,
 * directions, public peers, protection, ICMP, IPv6, stable output (a
 * reviewed golden file), caps and errors. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/audit.h"
#include "fluxaudit/decode.h"
#include "fluxaudit/learn.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

#ifdef FLUXAUDIT_SOURCE_ROOT
#define SOURCE_ROOT FLUXAUDIT_SOURCE_ROOT
#else
#define SOURCE_ROOT TEST_DATA_DIR "/../.."
#endif

#define T0 1795496520000000ull /* 2026-11-24T05:02:00Z */
#define SEC 1000000ull
#define MAX_OBS 2048

/* ---- fixture: a learner and the observations given to it -------------- */

struct fx {
    struct learner *learner;
    struct learn_observation obs[MAX_OBS];
    uint16_t client_ports[MAX_OBS]; /* what the audit's struct flow gets */
    size_t count;
    long time_rank;        /* >= 0: the next observation's time slot, else `count` */
    struct matrix *matrix; /* the draft, loaded */
    char *text;            /* the draft, as written */
};

static struct net_prefix prefix_of(const char *text)
{
    struct net_prefix prefix;
    ck_assert_msg(net_prefix_parse(text, &prefix), "bad prefix %s", text);
    return prefix;
}

static void fx_open_with(struct fx *fx, const char *device, const struct learn_options *options)
{
    memset(fx, 0, sizeof(*fx));
    fx->time_rank = -1;
    struct net_prefix prefix = prefix_of(device);
    fx->learner = learner_create(options, &prefix, 1);
    ck_assert_ptr_nonnull(fx->learner);
}

static void fx_open(struct fx *fx, const char *device)
{
    struct learn_options options = {0};
    fx_open_with(fx, device, &options);
}

static void fx_close(struct fx *fx)
{
    learner_destroy(fx->learner);
    matrix_free(fx->matrix);
    free(fx->text);
}

/* Observes one connection: `client`:`client_port` -> `server`:`port`. */
static struct learn_observation *observe_full(struct fx *fx, bool device_is_client,
                                              const char *client, uint16_t client_port,
                                              const char *server, uint8_t ip_proto, uint16_t port,
                                              const char *app, enum transport_security security,
                                              uint16_t tls_version)
{
    ck_assert_uint_lt(fx->count, MAX_OBS);
    struct learn_observation *o = &fx->obs[fx->count];
    memset(o, 0, sizeof(*o));
    ck_assert_msg(net_addr_parse(client, &o->flow.client), "bad client %s", client);
    ck_assert_msg(net_addr_parse(server, &o->flow.server), "bad server %s", server);
    net_addr_format(&o->flow.client, o->flow.client_text, sizeof(o->flow.client_text));
    net_addr_format(&o->flow.server, o->flow.server_text, sizeof(o->flow.server_text));
    o->flow.ip_proto = ip_proto;
    o->flow.port = port;
    snprintf(o->flow.app, sizeof(o->flow.app), "%s", app);
    o->device_is_client = device_is_client;
    o->security = security;
    o->tls_version = tls_version;
    o->connections = 1;
    o->packets = 10;
    o->bytes = 1000;
    size_t rank = fx->time_rank >= 0 ? (size_t)fx->time_rank : fx->count;
    o->first_usec = T0 + rank * 60 * SEC;
    o->last_usec = o->first_usec + 30 * SEC;
    fx->client_ports[fx->count] = client_port;
    fx->count++;
    learner_add(fx->learner, o);
    return o;
}

/* The device opens a connection (client port 40000 + rank). */
static void out_conn(struct fx *fx, const char *device, const char *server, uint8_t ip_proto,
                     uint16_t port, const char *app, enum transport_security security,
                     uint16_t tls_version)
{
    observe_full(fx, true, device, (uint16_t)(40000 + fx->count), server, ip_proto, port, app,
                 security, tls_version);
}

/* A peer opens a connection to the device. */
static void in_conn(struct fx *fx, const char *client, const char *device, uint8_t ip_proto,
                    uint16_t port, const char *app, enum transport_security security,
                    uint16_t tls_version)
{
    observe_full(fx, false, client, (uint16_t)(50000 + fx->count), device, ip_proto, port, app,
                 security, tls_version);
}

/* Writes the draft into a string (NULL and the reason in `err` on failure). */
static char *write_draft(const struct learner *learner, char *err, size_t err_len)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    bool ok = learner_write_json(learner, out, err, err_len);
    fclose(out);
    if (!ok) {
        free(text);
        return NULL;
    }
    return text;
}

/* Writes the draft and loads it with the project's matrix loader. */
static void fx_learn(struct fx *fx)
{
    char err[512] = "";
    fx->text = write_draft(fx->learner, err, sizeof(err));
    ck_assert_msg(fx->text != NULL, "draft refused: %s", err);
    struct diag d;
    diag_init(&d);
    fx->matrix = matrix_parse_json("draft.json", fx->text, strlen(fx->text), &d);
    char first[512] = "";
    if (d.count > 0)
        diag_format(&d, 0, first, sizeof(first));
    diag_free(&d);
    ck_assert_msg(fx->matrix != NULL, "draft does not load: %s\n%s", first, fx->text);
    ck_assert_uint_eq(fx->matrix->device_count, 1);
}

static const struct matrix_device *device(const struct fx *fx)
{
    return &fx->matrix->devices[0];
}

/* The learned flow `id` ("L001"). */
static const struct matrix_flow *flow_by_id(const struct fx *fx, const char *id)
{
    for (size_t i = 0; i < device(fx)->flow_count; i++) {
        if (strcmp(device(fx)->flows[i].id, id) == 0)
            return &device(fx)->flows[i];
    }
    ck_abort_msg("no flow %s in\n%s", id, fx->text);
    return NULL;
}

static const struct matrix_host *host_by_name(const struct fx *fx, const char *name)
{
    for (size_t i = 0; i < fx->matrix->host_count; i++) {
        if (strcmp(fx->matrix->hosts[i].name, name) == 0)
            return &fx->matrix->hosts[i];
    }
    ck_abort_msg("no host %s in\n%s", name, fx->text);
    return NULL;
}

/* Asserts host `name` holds exactly the one address or network `prefix`. */
static void assert_host(const struct fx *fx, const char *name, const char *prefix)
{
    const struct matrix_host *host = host_by_name(fx, name);
    ck_assert_uint_eq(host->prefix_count, 1);
    ck_assert_uint_eq(host->dns_name_count, 0);
    char text[64];
    net_prefix_format(&host->prefixes[0], text, sizeof(text));
    ck_assert_str_eq(text, prefix);
}

/* Asserts a learned flow's peers, protocol, ports ("" for none), app
 * (NULL for none), encryption and internet flag. */
static void assert_flow(const struct fx *fx, const char *id, const char *from, const char *to,
                        enum matrix_proto proto, const char *ports, const char *app,
                        enum matrix_encryption encryption, bool internet)
{
    const struct matrix_flow *f = flow_by_id(fx, id);
    ck_assert_str_eq(f->from.text, from);
    ck_assert_str_eq(f->to.text, to);
    ck_assert_int_eq(f->proto, proto);
    char text[128] = "";
    size_t used = 0;
    for (size_t i = 0; !f->any_port && i < f->port_count; i++) {
        if (f->ports[i].low == f->ports[i].high)
            used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%u", i ? "," : "",
                                     f->ports[i].low);
        else
            used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%u-%u", i ? "," : "",
                                     f->ports[i].low, f->ports[i].high);
    }
    if (f->any_port)
        snprintf(text, sizeof(text), "any");
    ck_assert_str_eq(text, ports);
    if (app == NULL)
        ck_assert_ptr_null(f->app);
    else
        ck_assert_str_eq(f->app, app);
    ck_assert_msg(f->encryption == encryption, "flow %s: encryption %s, expected %s", id,
                  matrix_encryption_name(f->encryption), matrix_encryption_name(encryption));
    ck_assert_int_eq(f->internet, internet);
    ck_assert_ptr_nonnull(f->description);
    ck_assert_msg(strncmp(f->description, "learned: ", 9) == 0, "%s", f->description);
    ck_assert_msg(strstr(f->description, "review before use") != NULL, "%s", f->description);
}

static void assert_flow_count(const struct fx *fx, size_t count)
{
    ck_assert_msg(device(fx)->flow_count == count, "%zu flows, expected %zu:\n%s",
                  device(fx)->flow_count, count, fx->text);
}

static void assert_description_has(const struct fx *fx, const char *id, const char *part)
{
    const struct matrix_flow *f = flow_by_id(fx, id);
    ck_assert_msg(strstr(f->description, part) != NULL, "flow %s: \"%s\" not in \"%s\"", id, part,
                  f->description);
}

/* ---- the audit round trip --------------------------------------------- */

static void load_rules(struct rules *rules)
{
    char path[1024];
    const char *root = getenv("FLUXAUDIT_SOURCE_ROOT");
    snprintf(path, sizeof(path), "%s/rules/findings.json",
             root != NULL && root[0] != '\0' ? root : SOURCE_ROOT);
    struct diag d;
    diag_init(&d);
    bool ok = rules_load(path, rules, &d);
    diag_free(&d);
    ck_assert_msg(ok, "cannot load %s", path);
}

/* The flow the pipeline would have ended for observation `i`. */
static struct flow flow_of(const struct fx *fx, size_t i)
{
    const struct learn_observation *o = &fx->obs[i];
    struct flow f;
    memset(&f, 0, sizeof(f));
    f.client = o->flow.client;
    f.server = o->flow.server;
    bool ports = o->flow.ip_proto == IP_PROTO_TCP || o->flow.ip_proto == IP_PROTO_UDP;
    f.client_port = ports ? fx->client_ports[i] : 0;
    f.server_port = ports ? o->flow.port : 0;
    f.ip_proto = o->flow.ip_proto;
    f.oriented_by_syn = o->flow.ip_proto == IP_PROTO_TCP;
    f.first_usec = o->first_usec;
    f.last_usec = o->last_usec;
    f.packets[FLOW_TO_SERVER] = 6;
    f.packets[FLOW_TO_CLIENT] = 4;
    f.bytes[FLOW_TO_SERVER] = 600;
    f.bytes[FLOW_TO_CLIENT] = 400;
    f.tcp_flags[FLOW_TO_SERVER] = TCP_SYN | TCP_ACK;
    f.tcp_flags[FLOW_TO_CLIENT] = TCP_SYN | TCP_ACK; /* the server answered */
    snprintf(f.facts.app, sizeof(f.facts.app), "%s", o->flow.app);
    f.facts.dpi_done = true;
    f.facts.security = o->security;
    if (o->tls_version != 0) {
        f.facts.tls.client_hello_seen = true;
        f.facts.tls.server_hello_seen = true;
        f.facts.tls.version = o->tls_version;
        f.facts.tls.offered_max_version = o->tls_version;
        f.facts.tls.cipher_suite = 0x1301;
    }
    return f;
}

static size_t count_code(const struct audit_device *d, enum finding_code code)
{
    size_t n = 0;
    for (size_t i = 0; i < d->finding_count; i++)
        n += d->findings[i].code == code;
    return n;
}

/* Audits every observation against the learned matrix: each is declared,
 * and the declared protection and application are what was seen. */
static void assert_round_trip(const struct fx *fx)
{
    struct rules rules;
    load_rules(&rules);
    struct audit *audit = audit_create(fx->matrix, &rules, AUDIT_DEFAULT_MAX_ENTRIES);
    ck_assert_ptr_nonnull(audit);
    for (size_t i = 0; i < fx->count; i++) {
        struct flow f = flow_of(fx, i);
        audit_flow(audit, &f);
    }
    audit_finish(audit);
    ck_assert_uint_eq(audit_device_count(audit), 1);
    const struct audit_device *d = audit_get_device(audit, 0);
    static const enum finding_code never[] = {
        FINDING_FLOW_UNDECLARED,    FINDING_FLOW_INTERNET_UNDECLARED,
        FINDING_SERVICE_UNDECLARED, FINDING_ENCRYPTION_BELOW_DECLARED,
        FINDING_FLOW_APP_MISMATCH,  FINDING_FLOW_NOT_OBSERVED,
    };
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
        ck_assert_msg(count_code(d, never[i]) == 0, "%zu %s findings against\n%s",
                      count_code(d, never[i]), finding_code_name(never[i]), fx->text);
    for (size_t i = 0; i < d->observed_count; i++)
        ck_assert_msg(d->observed[i].matrix_flow != NULL, "observed flow %s -> %s/%u undeclared",
                      d->observed[i].flow.client_text, d->observed[i].flow.server_text,
                      d->observed[i].flow.port);
    audit_destroy(audit);
}

/* Learns, loads and audits back. */
static void fx_learn_and_check(struct fx *fx)
{
    fx_learn(fx);
    assert_round_trip(fx);
}

#define DEV "10.10.1.20"

/* ---- basics ------------------------------------------------------------ */

START_TEST(test_outbound_single_host)
{
    struct fx fx;
    fx_open(&fx, DEV);
    out_conn(&fx, DEV, "10.10.2.5", IP_PROTO_TCP, 11112, "DICOM", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, DEV, "10.10.2.5", IP_PROTO_TCP, 11112, "DICOM", SECURITY_CLEARTEXT, 0);
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 1);
    assert_flow(&fx, "L001", "device", "dicom-10-10-2-5", MATRIX_PROTO_TCP, "11112", "DICOM",
                MATRIX_ENCRYPTION_NONE, false);
    assert_host(&fx, "dicom-10-10-2-5", "10.10.2.5");
    ck_assert_uint_eq(fx.matrix->host_count, 1);
    ck_assert_str_eq(flow_by_id(&fx, "L001")->description,
                     "learned: 2 connections, DICOM, 2026-11-24T05:02Z..2026-11-24T05:03Z, "
                     "seen: cleartext, review before use");
    ck_assert_str_eq(fx.matrix->site, "DRAFT (learned from captures, review every flow)");
    ck_assert_ptr_null(fx.matrix->timezone);
    ck_assert_str_eq(device(&fx)->name, "learned-device");
    ck_assert_uint_eq(device(&fx)->prefix_count, 1);
    ck_assert_str_eq(device(&fx)->address_texts[0], DEV);
    struct learn_stats stats;
    learner_get_stats(fx.learner, &stats);
    ck_assert_uint_eq(stats.observations, 2);
    ck_assert_uint_eq(stats.entries, 1);
    ck_assert_uint_eq(stats.ignored, 0);
    ck_assert_uint_eq(stats.dropped, 0);
    fx_close(&fx);
}
END_TEST

START_TEST(test_options_site_timezone_name_macs)
{
    struct mac_addr mac;
    ck_assert(mac_addr_parse("02:00:0A:0A:01:14", &mac));
    struct learn_options options = {.device_name = "ct-scanner-3",
                                    .site = "CH Exemple",
                                    .timezone = "Europe/Paris",
                                    .device_macs = &mac,
                                    .device_mac_count = 1};
    struct fx fx;
    fx_open_with(&fx, DEV, &options);
    out_conn(&fx, DEV, "10.10.2.5", IP_PROTO_TCP, 104, "", SECURITY_UNKNOWN, 0);
    fx_learn_and_check(&fx);
    ck_assert_str_eq(fx.matrix->site,
                     "DRAFT (learned from captures, review every flow): CH Exemple");
    ck_assert_str_eq(fx.matrix->timezone, "Europe/Paris");
    ck_assert_str_eq(device(&fx)->name, "ct-scanner-3");
    ck_assert_uint_eq(device(&fx)->mac_count, 1);
    ck_assert_uint_eq(device(&fx)->address_count, 2);
    ck_assert_str_eq(device(&fx)->address_texts[1], "02:00:0a:0a:01:14");
    /* No application identified: none declared, the host is named "host". */
    assert_flow(&fx, "L001", "device", "host-10-10-2-5", MATRIX_PROTO_TCP, "104", NULL,
                MATRIX_ENCRYPTION_NONE, false);
    assert_description_has(&fx, "L001", "1 connection, application not identified");
    fx_close(&fx);
}
END_TEST

START_TEST(test_empty_learner_loads)
{
    struct fx fx;
    fx_open(&fx, DEV);
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 0);
    ck_assert_uint_eq(fx.matrix->host_count, 0);
    ck_assert_ptr_nonnull(strstr(fx.text, "\"flows\": []"));
    fx_close(&fx);
}
END_TEST

/* ---- ports ------------------------------------------------------------- */

START_TEST(test_ephemeral_client_ports_never_declared)
{
    struct fx fx;
    fx_open(&fx, DEV);
    /* Inbound SSH from many client ports, outbound DNS from many. */
    for (int i = 0; i < 20; i++) {
        in_conn(&fx, "10.10.9.9", DEV, IP_PROTO_TCP, 22, "SSH", SECURITY_SSH, 0);
        out_conn(&fx, DEV, "10.0.0.53", IP_PROTO_UDP, 53, "DNS", SECURITY_CLEARTEXT, 0);
    }
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 2);
    assert_flow(&fx, "L001", "device", "dns-10-0-0-53", MATRIX_PROTO_UDP, "53", "DNS",
                MATRIX_ENCRYPTION_NONE, false);
    assert_flow(&fx, "L002", "host-10-10-9-9", "device", MATRIX_PROTO_TCP, "22", "SSH",
                MATRIX_ENCRYPTION_SSH, false);
    assert_description_has(&fx, "L001", "learned: 20 connections, DNS");
    /* No client port appears anywhere in the draft. */
    ck_assert_ptr_null(strstr(fx.text, "4000"));
    ck_assert_ptr_null(strstr(fx.text, "5000"));
    fx_close(&fx);
}
END_TEST

START_TEST(test_dynamic_server_ports_become_a_range)
{
    struct fx fx;
    fx_open(&fx, DEV);
    out_conn(&fx, DEV, "10.10.2.9", IP_PROTO_TCP, 21, "FTP_CONTROL", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, DEV, "10.10.2.9", IP_PROTO_TCP, 40100, "FTP_DATA", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, DEV, "10.10.2.9", IP_PROTO_TCP, 40001, "FTP_DATA", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, DEV, "10.10.2.9", IP_PROTO_TCP, 40007, "FTP_DATA", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, DEV, "10.10.2.9", IP_PROTO_TCP, 40007, "FTP_DATA", SECURITY_CLEARTEXT, 0);
    /* A port below 32768 is never part of the range. */
    out_conn(&fx, DEV, "10.10.2.9", IP_PROTO_TCP, 30000, "", SECURITY_UNKNOWN, 0);
    /* Another peer with one high port: declared as is, not a range. */
    out_conn(&fx, DEV, "10.10.2.10", IP_PROTO_TCP, 50000, "", SECURITY_UNKNOWN, 0);
    /* Same high ports over UDP to the first peer: a protocol of its own. */
    out_conn(&fx, DEV, "10.10.2.9", IP_PROTO_UDP, 33000, "", SECURITY_UNKNOWN, 0);
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 5);
    assert_flow(&fx, "L001", "device", "ftp-control-10-10-2-9", MATRIX_PROTO_TCP, "21",
                "FTP_CONTROL", MATRIX_ENCRYPTION_NONE, false);
    assert_flow(&fx, "L002", "device", "ftp-control-10-10-2-9", MATRIX_PROTO_TCP, "30000", NULL,
                MATRIX_ENCRYPTION_NONE, false);
    assert_flow(&fx, "L003", "device", "ftp-control-10-10-2-9", MATRIX_PROTO_TCP, "40001-40100",
                "FTP_DATA", MATRIX_ENCRYPTION_NONE, false);
    assert_description_has(&fx, "L003", "learned: 4 connections, FTP_DATA");
    assert_description_has(&fx, "L003", "dynamic server ports (3 seen, e.g. FTP passive or RPC)");
    assert_flow(&fx, "L004", "device", "host-10-10-2-10", MATRIX_PROTO_TCP, "50000", NULL,
                MATRIX_ENCRYPTION_NONE, false);
    ck_assert_ptr_null(strstr(flow_by_id(&fx, "L004")->description, "dynamic"));
    assert_flow(&fx, "L005", "device", "ftp-control-10-10-2-9", MATRIX_PROTO_UDP, "33000", NULL,
                MATRIX_ENCRYPTION_NONE, false);
    ck_assert_ptr_nonnull(strstr(fx.text, "\"port\": \"40001-40100\""));
    fx_close(&fx);
}
END_TEST

START_TEST(test_inbound_dynamic_range)
{
    struct fx fx;
    fx_open(&fx, DEV);
    in_conn(&fx, "10.10.4.4", DEV, IP_PROTO_TCP, 135, "DCE_RPC", SECURITY_CLEARTEXT, 0);
    in_conn(&fx, "10.10.4.4", DEV, IP_PROTO_TCP, 49670, "DCE_RPC", SECURITY_CLEARTEXT, 0);
    in_conn(&fx, "10.10.4.4", DEV, IP_PROTO_TCP, 49668, "DCE_RPC", SECURITY_CLEARTEXT, 0);
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 2);
    assert_flow(&fx, "L001", "host-10-10-4-4", "device", MATRIX_PROTO_TCP, "135", "DCE_RPC",
                MATRIX_ENCRYPTION_NONE, false);
    assert_flow(&fx, "L002", "host-10-10-4-4", "device", MATRIX_PROTO_TCP, "49668-49670", "DCE_RPC",
                MATRIX_ENCRYPTION_NONE, false);
    assert_description_has(&fx, "L002", "dynamic server ports (2 seen");
    fx_close(&fx);
}
END_TEST

/* ---- directions -------------------------------------------------------- */

START_TEST(test_inbound_and_outbound_are_distinct_flows)
{
    struct fx fx;
    fx_open(&fx, DEV);
    in_conn(&fx, "10.10.2.5", DEV, IP_PROTO_TCP, 104, "DICOM", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, DEV, "10.10.2.5", IP_PROTO_TCP, 104, "DICOM", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, DEV, "10.10.2.5", IP_PROTO_TCP, 11112, "DICOM", SECURITY_CLEARTEXT, 0);
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 3);
    /* Outbound first, then by port. */
    assert_flow(&fx, "L001", "device", "dicom-10-10-2-5", MATRIX_PROTO_TCP, "104", "DICOM",
                MATRIX_ENCRYPTION_NONE, false);
    assert_flow(&fx, "L002", "device", "dicom-10-10-2-5", MATRIX_PROTO_TCP, "11112", "DICOM",
                MATRIX_ENCRYPTION_NONE, false);
    assert_flow(&fx, "L003", "dicom-10-10-2-5", "device", MATRIX_PROTO_TCP, "104", "DICOM",
                MATRIX_ENCRYPTION_NONE, false);
    ck_assert_uint_eq(fx.matrix->host_count, 1);
    fx_close(&fx);
}
END_TEST

START_TEST(test_peer_inside_device_subnet)
{
    struct fx fx;
    fx_open(&fx, "10.10.1.0/24");
    out_conn(&fx, "10.10.1.20", "10.10.1.30", IP_PROTO_TCP, 8080, "HTTP", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, "10.10.1.20", "10.10.7.7", IP_PROTO_TCP, 8080, "HTTP", SECURITY_CLEARTEXT, 0);
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 2);
    assert_flow(&fx, "L001", "device", "device", MATRIX_PROTO_TCP, "8080", "HTTP",
                MATRIX_ENCRYPTION_NONE, false);
    assert_flow(&fx, "L002", "device", "http-10-10-7-7", MATRIX_PROTO_TCP, "8080", "HTTP",
                MATRIX_ENCRYPTION_NONE, false);
    ck_assert_str_eq(device(&fx)->address_texts[0], "10.10.1.0/24");
    fx_close(&fx);
}
END_TEST

/* ---- grouping ---------------------------------------------------------- */

START_TEST(test_grouping_threshold)
{
    struct fx fx;
    fx_open(&fx, DEV);
    /* Three hosts of 10.10.3.0/24 on HTTPS: one flow to the /24. */
    out_conn(&fx, DEV, "10.10.3.1", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_2);
    out_conn(&fx, DEV, "10.10.3.2", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_3);
    out_conn(&fx, DEV, "10.10.3.200", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_2);
    out_conn(&fx, DEV, "10.10.3.2", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_2);
    /* Two hosts of 10.10.4.0/24: below the threshold, one flow each. */
    out_conn(&fx, DEV, "10.10.4.1", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_2);
    out_conn(&fx, DEV, "10.10.4.2", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_2);
    /* A third in 10.10.4.0/24, but another application: not the same service. */
    out_conn(&fx, DEV, "10.10.4.3", IP_PROTO_TCP, 443, "HTTP", SECURITY_CLEARTEXT, 0);
    /* A host of 10.10.3.0/24 on another port: not grouped. */
    out_conn(&fx, DEV, "10.10.3.1", IP_PROTO_TCP, 8443, "TLS", SECURITY_TLS, TLS_VERSION_1_2);
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 5);
    assert_flow(&fx, "L001", "device", "net-10-10-3-0-24", MATRIX_PROTO_TCP, "443", "TLS",
                MATRIX_ENCRYPTION_TLS12, false);
    assert_description_has(&fx, "L001", "learned: 4 connections, TLS");
    assert_description_has(&fx, "L001", ", 3 hosts of 10.10.3.0/24");
    assert_flow(&fx, "L002", "device", "tls-10-10-4-1", MATRIX_PROTO_TCP, "443", "TLS",
                MATRIX_ENCRYPTION_TLS12, false);
    assert_flow(&fx, "L003", "device", "tls-10-10-4-2", MATRIX_PROTO_TCP, "443", "TLS",
                MATRIX_ENCRYPTION_TLS12, false);
    assert_flow(&fx, "L004", "device", "http-10-10-4-3", MATRIX_PROTO_TCP, "443", "HTTP",
                MATRIX_ENCRYPTION_NONE, false);
    assert_flow(&fx, "L005", "device", "tls-10-10-3-1", MATRIX_PROTO_TCP, "8443", "TLS",
                MATRIX_ENCRYPTION_TLS12, false);
    assert_host(&fx, "net-10-10-3-0-24", "10.10.3.0/24");
    ck_assert_uint_eq(fx.matrix->host_count, 5);
    fx_close(&fx);
}
END_TEST

START_TEST(test_grouping_threshold_option)
{
    struct learn_options options = {.subnet_group_min = 2};
    struct fx fx;
    fx_open_with(&fx, DEV, &options);
    out_conn(&fx, DEV, "10.10.4.1", IP_PROTO_UDP, 123, "NTP", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, DEV, "10.10.4.2", IP_PROTO_UDP, 123, "NTP", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, DEV, "10.10.5.1", IP_PROTO_UDP, 123, "NTP", SECURITY_CLEARTEXT, 0);
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 2);
    assert_flow(&fx, "L001", "device", "net-10-10-4-0-24", MATRIX_PROTO_UDP, "123", "NTP",
                MATRIX_ENCRYPTION_NONE, false);
    assert_flow(&fx, "L002", "device", "ntp-10-10-5-1", MATRIX_PROTO_UDP, "123", "NTP",
                MATRIX_ENCRYPTION_NONE, false);
    fx_close(&fx);

    /* 1 is taken as 2: a single host never becomes a network. */
    options.subnet_group_min = 1;
    fx_open_with(&fx, DEV, &options);
    out_conn(&fx, DEV, "10.10.5.1", IP_PROTO_UDP, 123, "NTP", SECURITY_CLEARTEXT, 0);
    fx_learn_and_check(&fx);
    assert_flow(&fx, "L001", "device", "ntp-10-10-5-1", MATRIX_PROTO_UDP, "123", "NTP",
                MATRIX_ENCRYPTION_NONE, false);
    fx_close(&fx);

    /* A huge threshold disables grouping. */
    options.subnet_group_min = 1000;
    fx_open_with(&fx, DEV, &options);
    for (int i = 1; i <= 10; i++) {
        char server[32];
        snprintf(server, sizeof(server), "10.10.6.%d", i);
        out_conn(&fx, DEV, server, IP_PROTO_UDP, 514, "Syslog", SECURITY_CLEARTEXT, 0);
    }
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 10);
    assert_flow(&fx, "L010", "device", "syslog-10-10-6-10", MATRIX_PROTO_UDP, "514", "Syslog",
                MATRIX_ENCRYPTION_NONE, false);
    fx_close(&fx);
}
END_TEST

START_TEST(test_grouping_inbound_clients)
{
    struct fx fx;
    fx_open(&fx, DEV);
    for (int i = 1; i <= 4; i++) {
        char client[32];
        snprintf(client, sizeof(client), "10.20.0.%d", i * 10);
        in_conn(&fx, client, DEV, IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_3);
    }
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 1);
    assert_flow(&fx, "L001", "net-10-20-0-0-24", "device", MATRIX_PROTO_TCP, "443", "TLS",
                MATRIX_ENCRYPTION_TLS13, false);
    assert_description_has(&fx, "L001", "4 hosts of 10.20.0.0/24");
    fx_close(&fx);
}
END_TEST

/* ---- public peers ------------------------------------------------------ */

START_TEST(test_public_peers_not_grouped_by_default)
{
    struct fx fx;
    fx_open(&fx, DEV);
    out_conn(&fx, DEV, "198.51.100.1", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_3);
    out_conn(&fx, DEV, "198.51.100.2", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_3);
    out_conn(&fx, DEV, "198.51.100.3", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_3);
    in_conn(&fx, "203.0.113.9", DEV, IP_PROTO_TCP, 22, "SSH", SECURITY_SSH, 0);
    /* Broadcast and multicast are outside the internal ranges: the audit
     * calls them public, so does the draft. */
    out_conn(&fx, DEV, "255.255.255.255", IP_PROTO_UDP, 67, "DHCP", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, DEV, "224.0.0.251", IP_PROTO_UDP, 5353, "MDNS", SECURITY_CLEARTEXT, 0);
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 6);
    assert_flow(&fx, "L001", "device", "tls-198-51-100-1", MATRIX_PROTO_TCP, "443", "TLS",
                MATRIX_ENCRYPTION_TLS13, true);
    assert_flow(&fx, "L003", "device", "tls-198-51-100-3", MATRIX_PROTO_TCP, "443", "TLS",
                MATRIX_ENCRYPTION_TLS13, true);
    assert_flow(&fx, "L004", "device", "dhcp-255-255-255-255", MATRIX_PROTO_UDP, "67", "DHCP",
                MATRIX_ENCRYPTION_NONE, true);
    assert_flow(&fx, "L005", "device", "mdns-224-0-0-251", MATRIX_PROTO_UDP, "5353", "MDNS",
                MATRIX_ENCRYPTION_NONE, true);
    assert_flow(&fx, "L006", "host-203-0-113-9", "device", MATRIX_PROTO_TCP, "22", "SSH",
                MATRIX_ENCRYPTION_SSH, true);
    fx_close(&fx);
}
END_TEST

START_TEST(test_public_peers_grouped_at_most_24)
{
    struct learn_options options = {.group_internet = true};
    struct fx fx;
    fx_open_with(&fx, DEV, &options);
    out_conn(&fx, DEV, "198.51.100.1", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_3);
    out_conn(&fx, DEV, "198.51.100.2", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_3);
    out_conn(&fx, DEV, "198.51.100.3", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_3);
    /* Same service in the next /24: never merged into a wider network. */
    out_conn(&fx, DEV, "198.51.101.1", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_3);
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 2);
    assert_flow(&fx, "L001", "device", "net-198-51-100-0-24", MATRIX_PROTO_TCP, "443", "TLS",
                MATRIX_ENCRYPTION_TLS13, true);
    assert_flow(&fx, "L002", "device", "tls-198-51-101-1", MATRIX_PROTO_TCP, "443", "TLS",
                MATRIX_ENCRYPTION_TLS13, true);
    assert_host(&fx, "net-198-51-100-0-24", "198.51.100.0/24");
    fx_close(&fx);
}
END_TEST

/* ---- protection -------------------------------------------------------- */

/* Learns outbound connections to one peer and port with the given
 * protections and returns the declared encryption. */
struct seen {
    enum transport_security security;
    uint16_t version;
};

static enum matrix_encryption learned_encryption(const struct seen *seen, size_t count)
{
    struct fx fx;
    fx_open(&fx, DEV);
    for (size_t i = 0; i < count; i++)
        out_conn(&fx, DEV, "10.10.2.5", IP_PROTO_TCP, 443, "", seen[i].security, seen[i].version);
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 1);
    enum matrix_encryption encryption = device(&fx)->flows[0].encryption;
    fx_close(&fx);
    return encryption;
}

#define ENC(expected, ...)                                                                         \
    do {                                                                                           \
        const struct seen list[] = {__VA_ARGS__};                                                  \
        ck_assert_msg(learned_encryption(list, sizeof(list) / sizeof(list[0])) == (expected),      \
                      "line %d: expected %s", __LINE__, matrix_encryption_name(expected));         \
    } while (0)

START_TEST(test_encryption_weakest_seen)
{
    ENC(MATRIX_ENCRYPTION_TLS13, {SECURITY_TLS, TLS_VERSION_1_3}, {SECURITY_TLS, TLS_VERSION_1_3});
    ENC(MATRIX_ENCRYPTION_TLS12, {SECURITY_TLS, TLS_VERSION_1_3}, {SECURITY_TLS, TLS_VERSION_1_2});
    ENC(MATRIX_ENCRYPTION_TLS12, {SECURITY_TLS, TLS_VERSION_1_2});
    ENC(MATRIX_ENCRYPTION_NONE, {SECURITY_TLS, TLS_VERSION_1_3}, {SECURITY_TLS, TLS_VERSION_1_1});
    ENC(MATRIX_ENCRYPTION_NONE, {SECURITY_TLS, TLS_VERSION_1_0});
    ENC(MATRIX_ENCRYPTION_NONE, {SECURITY_TLS, TLS_VERSION_SSL3});
    ENC(MATRIX_ENCRYPTION_NONE, {SECURITY_TLS, TLS_VERSION_1_3}, {SECURITY_CLEARTEXT, 0});
    /* TLS without a ServerHello proves no version... */
    ENC(MATRIX_ENCRYPTION_NONE, {SECURITY_TLS, 0});
    /* ...but does not lower the version other connections proved. */
    ENC(MATRIX_ENCRYPTION_TLS12, {SECURITY_TLS, 0}, {SECURITY_TLS, TLS_VERSION_1_2});
    /* Connections without payload tell nothing. */
    ENC(MATRIX_ENCRYPTION_TLS13, {SECURITY_UNKNOWN, 0}, {SECURITY_TLS, TLS_VERSION_1_3});
    ENC(MATRIX_ENCRYPTION_NONE, {SECURITY_UNKNOWN, 0});
    ENC(MATRIX_ENCRYPTION_SSH, {SECURITY_SSH, 0});
    ENC(MATRIX_ENCRYPTION_NONE, {SECURITY_SSH, 0}, {SECURITY_TLS, TLS_VERSION_1_3});
    ENC(MATRIX_ENCRYPTION_IPSEC, {SECURITY_IPSEC, 0});
    ENC(MATRIX_ENCRYPTION_SNMPV3, {SECURITY_SNMPV3, 0});
    ENC(MATRIX_ENCRYPTION_NONE, {SECURITY_SNMPV3, 0}, {SECURITY_CLEARTEXT, 0});
    ENC(MATRIX_ENCRYPTION_NONE, {SECURITY_OTHER_ENCRYPTED, 0});
}
END_TEST

START_TEST(test_encryption_dtls)
{
    ENC(MATRIX_ENCRYPTION_DTLS12, {SECURITY_DTLS, 0xfefd});
    ENC(MATRIX_ENCRYPTION_DTLS12, {SECURITY_DTLS, 0xfefc}, {SECURITY_DTLS, 0xfefd});
    ENC(MATRIX_ENCRYPTION_NONE, {SECURITY_DTLS, 0xfefd}, {SECURITY_DTLS, 0xfeff});
    ENC(MATRIX_ENCRYPTION_NONE, {SECURITY_DTLS, 0});
    ENC(MATRIX_ENCRYPTION_DTLS12, {SECURITY_DTLS, 0}, {SECURITY_DTLS, 0xfefd});
    /* A DTLS flow reporting a TLS-style number is not trusted. */
    ENC(MATRIX_ENCRYPTION_NONE, {SECURITY_DTLS, TLS_VERSION_1_2});
}
END_TEST

START_TEST(test_encryption_seen_in_description)
{
    struct fx fx;
    fx_open(&fx, DEV);
    out_conn(&fx, DEV, "10.10.2.5", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_3);
    out_conn(&fx, DEV, "10.10.2.5", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_1);
    fx_learn_and_check(&fx);
    assert_flow(&fx, "L001", "device", "tls-10-10-2-5", MATRIX_PROTO_TCP, "443", "TLS",
                MATRIX_ENCRYPTION_NONE, false);
    assert_description_has(&fx, "L001", ", seen: TLS below 1.2 + TLSv1.3, review before use");
    fx_close(&fx);
}
END_TEST

/* ---- applications ------------------------------------------------------ */

START_TEST(test_several_applications_declare_none)
{
    struct fx fx;
    fx_open(&fx, DEV);
    out_conn(&fx, DEV, "10.10.2.5", IP_PROTO_TCP, 8080, "HTTP", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, DEV, "10.10.2.5", IP_PROTO_TCP, 8080, "TLS", SECURITY_TLS, TLS_VERSION_1_2);
    /* An unidentified connection does not hide the one application seen. */
    out_conn(&fx, DEV, "10.10.2.6", IP_PROTO_TCP, 8080, "HTTP", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, DEV, "10.10.2.6", IP_PROTO_TCP, 8080, "", SECURITY_UNKNOWN, 0);
    /* nDPI's "Unknown" is no application, nor is a name with control
     * characters; a quote is escaped. */
    out_conn(&fx, DEV, "10.10.2.7", IP_PROTO_TCP, 8080, "Unknown", SECURITY_UNKNOWN, 0);
    out_conn(&fx, DEV, "10.10.2.8", IP_PROTO_TCP, 9000, "My\"App", SECURITY_UNKNOWN, 0);
    out_conn(&fx, DEV, "10.10.2.8", IP_PROTO_TCP, 9001, "Bad\x01App", SECURITY_UNKNOWN, 0);
    out_conn(&fx, DEV, "10.10.2.8", IP_PROTO_TCP, 9002, "Bad\x7f", SECURITY_UNKNOWN, 0);
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 6);
    assert_flow(&fx, "L001", "device", "host-10-10-2-5", MATRIX_PROTO_TCP, "8080", NULL,
                MATRIX_ENCRYPTION_NONE, false);
    assert_description_has(&fx, "L001", "learned: 2 connections, HTTP/TLS, ");
    assert_flow(&fx, "L002", "device", "http-10-10-2-6", MATRIX_PROTO_TCP, "8080", "HTTP",
                MATRIX_ENCRYPTION_NONE, false);
    assert_flow(&fx, "L003", "device", "host-10-10-2-7", MATRIX_PROTO_TCP, "8080", NULL,
                MATRIX_ENCRYPTION_NONE, false);
    assert_flow(&fx, "L004", "device", "my-app-10-10-2-8", MATRIX_PROTO_TCP, "9000", "My\"App",
                MATRIX_ENCRYPTION_NONE, false);
    assert_flow(&fx, "L005", "device", "my-app-10-10-2-8", MATRIX_PROTO_TCP, "9001", NULL,
                MATRIX_ENCRYPTION_NONE, false);
    assert_flow(&fx, "L006", "device", "my-app-10-10-2-8", MATRIX_PROTO_TCP, "9002", NULL,
                MATRIX_ENCRYPTION_NONE, false);
    ck_assert_ptr_nonnull(strstr(fx.text, "\"app\": \"My\\\"App\""));
    fx_close(&fx);
}
END_TEST

/* ---- ICMP, other protocols, IPv6 --------------------------------------- */

START_TEST(test_icmp_and_other_protocols)
{
    struct fx fx;
    fx_open(&fx, DEV);
    out_conn(&fx, DEV, "10.10.2.5", IP_PROTO_ICMP, 0, "ICMP", SECURITY_UNKNOWN, 0);
    /* A port on an ICMP observation is ignored. */
    out_conn(&fx, DEV, "10.10.2.5", IP_PROTO_ICMP, 8, "ICMP", SECURITY_UNKNOWN, 0);
    in_conn(&fx, "10.10.2.6", DEV, IP_PROTO_ICMP, 0, "ICMP", SECURITY_UNKNOWN, 0);
    out_conn(&fx, DEV, "10.10.2.7", 47, 0, "GRE", SECURITY_UNKNOWN, 0);
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 3);
    assert_flow(&fx, "L001", "device", "icmp-10-10-2-5", MATRIX_PROTO_ICMP, "any", "ICMP",
                MATRIX_ENCRYPTION_NONE, false);
    assert_description_has(&fx, "L001", "learned: 2 connections, ICMP");
    assert_flow(&fx, "L002", "device", "gre-10-10-2-7", MATRIX_PROTO_ANY, "any", "GRE",
                MATRIX_ENCRYPTION_NONE, false);
    assert_description_has(&fx, "L002", "IP protocol 47 (\"any\" covers every protocol)");
    assert_flow(&fx, "L003", "host-10-10-2-6", "device", MATRIX_PROTO_ICMP, "any", "ICMP",
                MATRIX_ENCRYPTION_NONE, false);
    ck_assert_ptr_null(strstr(fx.text, "\"port\""));
    fx_close(&fx);
}
END_TEST

#define DEV6 "2001:db8:1::20"

START_TEST(test_ipv6)
{
    struct fx fx;
    fx_open(&fx, DEV6);
    out_conn(&fx, DEV6, "fd00:1:2:3::5", IP_PROTO_TCP, 104, "DICOM", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, DEV6, "fd00:1:2:3::6", IP_PROTO_TCP, 104, "DICOM", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, DEV6, "fd00:1:2:3:ffff::7", IP_PROTO_TCP, 104, "DICOM", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, DEV6, "fd00:1:2:4::5", IP_PROTO_TCP, 104, "DICOM", SECURITY_CLEARTEXT, 0);
    out_conn(&fx, DEV6, "2001:db8:ff::1", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, 0x0304);
    out_conn(&fx, DEV6, "fe80::1", IP_PROTO_ICMPV6, 0, "ICMPV6", SECURITY_UNKNOWN, 0);
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 4);
    assert_flow(&fx, "L001", "device", "net-fd00-1-2-3-64", MATRIX_PROTO_TCP, "104", "DICOM",
                MATRIX_ENCRYPTION_NONE, false);
    assert_description_has(&fx, "L001", "3 hosts of fd00:1:2:3::/64");
    assert_flow(&fx, "L002", "device", "dicom-fd00-1-2-4--5", MATRIX_PROTO_TCP, "104", "DICOM",
                MATRIX_ENCRYPTION_NONE, false);
    assert_flow(&fx, "L003", "device", "tls-2001-db8-ff--1", MATRIX_PROTO_TCP, "443", "TLS",
                MATRIX_ENCRYPTION_TLS13, true);
    assert_flow(&fx, "L004", "device", "icmpv6-fe80--1", MATRIX_PROTO_ICMP, "any", "ICMPV6",
                MATRIX_ENCRYPTION_NONE, false);
    assert_host(&fx, "net-fd00-1-2-3-64", "fd00:1:2:3::/64");
    fx_close(&fx);
}
END_TEST

/* ---- stable output ----------------------------------------------------- */

/* A mixed capture's observations, in the order given by `step` (1: as
 * listed, else visiting them with a stride that permutes them). */
static void add_mixed(struct fx *fx, size_t step)
{
    struct obs_spec {
        bool out;
        const char *peer;
        uint8_t proto;
        uint16_t port;
        const char *app;
        enum transport_security security;
        uint16_t version;
    };
    static const struct obs_spec specs[] = {
        {true, "10.10.2.5", IP_PROTO_TCP, 11112, "DICOM", SECURITY_CLEARTEXT, 0},
        {true, "10.10.2.5", IP_PROTO_TCP, 11112, "DICOM", SECURITY_CLEARTEXT, 0},
        {true, "10.10.3.1", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_2},
        {true, "10.10.3.2", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_3},
        {true, "10.10.3.3", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_3},
        {true, "10.0.0.53", IP_PROTO_UDP, 53, "DNS", SECURITY_CLEARTEXT, 0},
        {true, "10.0.0.53", IP_PROTO_UDP, 53, "DNS", SECURITY_CLEARTEXT, 0},
        {true, "10.0.0.123", IP_PROTO_UDP, 123, "NTP", SECURITY_CLEARTEXT, 0},
        {true, "10.10.2.9", IP_PROTO_TCP, 21, "FTP_CONTROL", SECURITY_CLEARTEXT, 0},
        {true, "10.10.2.9", IP_PROTO_TCP, 40001, "FTP_DATA", SECURITY_CLEARTEXT, 0},
        {true, "10.10.2.9", IP_PROTO_TCP, 40210, "FTP_DATA", SECURITY_CLEARTEXT, 0},
        {true, "198.51.100.7", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_3},
        {true, "10.10.2.5", IP_PROTO_ICMP, 0, "ICMP", SECURITY_UNKNOWN, 0},
        {false, "10.10.9.9", IP_PROTO_TCP, 22, "SSH", SECURITY_SSH, 0},
        {false, "10.10.9.10", IP_PROTO_TCP, 22, "SSH", SECURITY_SSH, 0},
        {false, "10.10.2.5", IP_PROTO_TCP, 104, "DICOM", SECURITY_CLEARTEXT, 0},
        {false, "10.10.9.9", IP_PROTO_UDP, 161, "SNMP", SECURITY_SNMPV3, 0},
        {false, "203.0.113.9", IP_PROTO_TCP, 443, "TLS", SECURITY_TLS, TLS_VERSION_1_2},
    };
    const size_t n = sizeof(specs) / sizeof(specs[0]); /* 18: stride 5 is coprime */
    for (size_t k = 0; k < n; k++) {
        const struct obs_spec *s = &specs[(k * step) % n];
        fx->time_rank = (long)((k * step) % n); /* the same times whatever the order */
        if (s->out)
            out_conn(fx, DEV, s->peer, s->proto, s->port, s->app, s->security, s->version);
        else
            in_conn(fx, s->peer, DEV, s->proto, s->port, s->app, s->security, s->version);
    }
}

static char *read_golden(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/learn/%s", TEST_DATA_DIR, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *buf = calloc(1, 1 << 16);
    ck_assert_ptr_nonnull(buf);
    size_t len = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

START_TEST(test_stable_output_matches_golden)
{
    struct learn_options options = {
        .device_name = "ct-scanner-3", .site = "CH Exemple", .timezone = "Europe/Paris"};
    struct fx a;
    fx_open_with(&a, DEV, &options);
    add_mixed(&a, 1);
    fx_learn_and_check(&a);
    /* Same observations, another order, another learner: byte-identical. */
    struct fx b;
    fx_open_with(&b, DEV, &options);
    add_mixed(&b, 5);
    fx_learn_and_check(&b);
    ck_assert_msg(strcmp(a.text, b.text) == 0, "the order of observations changed the draft");
    /* Writing twice gives the same bytes. */
    char err[256];
    char *again = write_draft(a.learner, err, sizeof(err));
    ck_assert_ptr_nonnull(again);
    ck_assert_msg(strcmp(again, a.text) == 0, "a second write differs");
    free(again);
    const char *rewrite = getenv("LEARN_WRITE_GOLDEN"); /* a path: rewrite the golden file */
    if (rewrite != NULL && rewrite[0] != '\0') {
        FILE *f = fopen(rewrite, "wb");
        ck_assert_msg(f != NULL, "cannot write %s", rewrite);
        fputs(a.text, f);
        fclose(f);
    }
    char *golden = read_golden("mixed.json");
    if (strcmp(golden, a.text) != 0)
        fprintf(stderr, "draft:\n%s", a.text);
    ck_assert_msg(strcmp(golden, a.text) == 0, "draft differs from tests/data/learn/mixed.json");
    free(golden);
    assert_flow_count(&a, 13);
    fx_close(&a);
    fx_close(&b);
}
END_TEST

/* ---- errors and caps --------------------------------------------------- */

START_TEST(test_create_refuses_bad_arguments)
{
    struct learn_options options = {0};
    ck_assert_ptr_null(learner_create(&options, NULL, 0));
    struct net_prefix prefixes[257];
    for (size_t i = 0; i < 257; i++) {
        char text[32];
        snprintf(text, sizeof(text), "10.1.%zu.%zu", i / 250, i % 250 + 1);
        prefixes[i] = prefix_of(text);
    }
    ck_assert_ptr_null(learner_create(&options, prefixes, 257));
    ck_assert_ptr_null(learner_create(&options, NULL, 3));
    struct learner *ok = learner_create(&options, prefixes, 256);
    ck_assert_ptr_nonnull(ok);
    learner_destroy(ok);
    /* 256 addresses and one MAC is one too many. */
    struct mac_addr mac = {{2, 0, 0, 0, 0, 1}};
    options.device_macs = &mac;
    options.device_mac_count = 1;
    ck_assert_ptr_null(learner_create(&options, prefixes, 256));
    /* A MAC alone is a device. */
    ok = learner_create(&options, NULL, 0);
    ck_assert_ptr_nonnull(ok);
    char err[256];
    char *text = write_draft(ok, err, sizeof(err));
    ck_assert_msg(text != NULL, "%s", err);
    ck_assert_ptr_nonnull(strstr(text, "\"addresses\": [\"02:00:00:00:00:01\"]"));
    free(text);
    learner_destroy(ok);
    /* NULL options are the defaults. */
    ok = learner_create(NULL, prefixes, 1);
    ck_assert_ptr_nonnull(ok);
    learner_destroy(ok);
    learner_destroy(NULL);
}
END_TEST

START_TEST(test_reserved_device_name_refused)
{
    struct learn_options options = {.device_name = "device"};
    struct fx fx;
    fx_open_with(&fx, DEV, &options);
    char err[512] = "";
    char *text = write_draft(fx.learner, err, sizeof(err));
    ck_assert_ptr_null(text);
    ck_assert_msg(strncmp(err, "the draft matrix would not load: draft:", 39) == 0, "%s", err);
    ck_assert_msg(strstr(err, "reserved") != NULL, "%s", err);
    fx_close(&fx);

    options.device_name = "ct";
    options.timezone = "Europe/Pariss";
    fx_open_with(&fx, DEV, &options);
    text = write_draft(fx.learner, err, sizeof(err));
    ck_assert_ptr_null(text);
    ck_assert_msg(strstr(err, "unknown time zone \"Europe/Pariss\"") != NULL, "%s", err);
    fx_close(&fx);
}
END_TEST

START_TEST(test_host_name_clash_with_device_name)
{
    struct learn_options options = {.device_name = "dicom-10-10-2-5"};
    struct fx fx;
    fx_open_with(&fx, DEV, &options);
    out_conn(&fx, DEV, "10.10.2.5", IP_PROTO_TCP, 104, "DICOM", SECURITY_CLEARTEXT, 0);
    fx_learn_and_check(&fx);
    assert_flow(&fx, "L001", "device", "dicom-10-10-2-5-1", MATRIX_PROTO_TCP, "104", "DICOM",
                MATRIX_ENCRYPTION_NONE, false);
    fx_close(&fx);
}
END_TEST

START_TEST(test_peerless_observation_ignored)
{
    struct fx fx;
    fx_open(&fx, DEV);
    struct learn_observation o;
    memset(&o, 0, sizeof(o));
    ck_assert(net_addr_parse(DEV, &o.flow.client));
    o.device_is_client = true; /* the server has no address */
    o.flow.ip_proto = IP_PROTO_TCP;
    o.flow.port = 80;
    learner_add(fx.learner, &o);
    struct learn_stats stats;
    learner_get_stats(fx.learner, &stats);
    ck_assert_uint_eq(stats.observations, 1);
    ck_assert_uint_eq(stats.ignored, 1);
    ck_assert_uint_eq(stats.entries, 0);
    fx_learn(&fx);
    assert_flow_count(&fx, 0);
    fx_close(&fx);
}
END_TEST

START_TEST(test_too_many_flows_refused)
{
    struct fx fx;
    fx_open(&fx, DEV);
    for (uint16_t port = 1; port <= 1025; port++)
        out_conn(&fx, DEV, "10.10.2.5", IP_PROTO_TCP, port, "", SECURITY_UNKNOWN, 0);
    char err[512] = "";
    char *text = write_draft(fx.learner, err, sizeof(err));
    ck_assert_ptr_null(text);
    ck_assert_str_eq(err, "1025 flows learned, a matrix device has at most 1024: group more "
                          "peers (a lower subnet_group_min) or learn from fewer captures");
    fx_close(&fx);

    /* 1024 load, and the last id has four digits. */
    fx_open(&fx, DEV);
    for (uint16_t port = 1; port <= 1024; port++)
        out_conn(&fx, DEV, "10.10.2.5", IP_PROTO_TCP, port, "", SECURITY_UNKNOWN, 0);
    fx_learn_and_check(&fx);
    assert_flow_count(&fx, 1024);
    assert_flow(&fx, "L1024", "device", "host-10-10-2-5", MATRIX_PROTO_TCP, "1024", NULL,
                MATRIX_ENCRYPTION_NONE, false);
    assert_flow(&fx, "L999", "device", "host-10-10-2-5", MATRIX_PROTO_TCP, "999", NULL,
                MATRIX_ENCRYPTION_NONE, false);
    fx_close(&fx);
}
END_TEST

START_TEST(test_entry_cap_refuses_to_write)
{
    struct net_prefix prefix = prefix_of(DEV);
    struct learner *learner = learner_create(NULL, &prefix, 1);
    ck_assert_ptr_nonnull(learner);
    struct learn_observation o;
    memset(&o, 0, sizeof(o));
    ck_assert(net_addr_parse(DEV, &o.flow.client));
    ck_assert(net_addr_parse("10.200.0.0", &o.flow.server));
    o.device_is_client = true;
    o.flow.ip_proto = IP_PROTO_TCP;
    o.flow.port = 443;
    for (uint32_t i = 0; i <= LEARN_MAX_ENTRIES; i++) {
        o.flow.server.bytes[2] = (uint8_t)(i >> 8);
        o.flow.server.bytes[3] = (uint8_t)i;
        o.flow.server.bytes[1] = (uint8_t)(200 + (i >> 16));
        learner_add(learner, &o);
    }
    /* An existing entry is still counted in, a new one is not. */
    ck_assert(net_addr_parse("10.200.0.0", &o.flow.server));
    learner_add(learner, &o);
    ck_assert(net_addr_parse("10.250.0.0", &o.flow.server));
    learner_add(learner, &o);
    struct learn_stats stats;
    learner_get_stats(learner, &stats);
    ck_assert_uint_eq(stats.observations, LEARN_MAX_ENTRIES + 3);
    ck_assert_uint_eq(stats.entries, LEARN_MAX_ENTRIES);
    ck_assert_uint_eq(stats.dropped, 2);
    char err[256];
    char *text = write_draft(learner, err, sizeof(err));
    ck_assert_ptr_null(text);
    ck_assert_str_eq(err, "2 observations were dropped past 100000 distinct flows: the draft "
                          "would miss them");
    learner_destroy(learner);
}
END_TEST

START_TEST(test_write_error_reported)
{
    struct fx fx;
    fx_open(&fx, DEV);
    out_conn(&fx, DEV, "10.10.2.5", IP_PROTO_TCP, 104, "DICOM", SECURITY_CLEARTEXT, 0);
    FILE *readonly = fopen("/dev/null", "r");
    ck_assert_ptr_nonnull(readonly);
    char err[256] = "";
    ck_assert(!learner_write_json(fx.learner, readonly, err, sizeof(err)));
    ck_assert_str_eq(err, "cannot write the draft matrix");
    fclose(readonly);
    fx_close(&fx);
}
END_TEST

static Suite *learn_suite(void)
{
    Suite *s = suite_create("learn");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_outbound_single_host);
    tcase_add_test(tc, test_options_site_timezone_name_macs);
    tcase_add_test(tc, test_empty_learner_loads);
    tcase_add_test(tc, test_ephemeral_client_ports_never_declared);
    tcase_add_test(tc, test_dynamic_server_ports_become_a_range);
    tcase_add_test(tc, test_inbound_dynamic_range);
    tcase_add_test(tc, test_inbound_and_outbound_are_distinct_flows);
    tcase_add_test(tc, test_peer_inside_device_subnet);
    tcase_add_test(tc, test_grouping_threshold);
    tcase_add_test(tc, test_grouping_threshold_option);
    tcase_add_test(tc, test_grouping_inbound_clients);
    tcase_add_test(tc, test_public_peers_not_grouped_by_default);
    tcase_add_test(tc, test_public_peers_grouped_at_most_24);
    tcase_add_test(tc, test_encryption_weakest_seen);
    tcase_add_test(tc, test_encryption_dtls);
    tcase_add_test(tc, test_encryption_seen_in_description);
    tcase_add_test(tc, test_several_applications_declare_none);
    tcase_add_test(tc, test_icmp_and_other_protocols);
    tcase_add_test(tc, test_ipv6);
    tcase_add_test(tc, test_stable_output_matches_golden);
    tcase_add_test(tc, test_create_refuses_bad_arguments);
    tcase_add_test(tc, test_reserved_device_name_refused);
    tcase_add_test(tc, test_host_name_clash_with_device_name);
    tcase_add_test(tc, test_peerless_observation_ignored);
    tcase_add_test(tc, test_too_many_flows_refused);
    tcase_add_test(tc, test_entry_cap_refuses_to_write);
    tcase_add_test(tc, test_write_error_reported);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(learn_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
