/* Unit tests of audit: attribution, matching of declared flows, every
 * finding rule of docs/audit.md, aggregation, ordering, rules tuning and the
 * result cap. Matrices are small JSON texts written in each test (single
 * quotes stand for double quotes); flows are filled by hand. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/audit.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

/* The source tree: meson sets it in the environment, a direct build may
 * define it, else it is two levels above the test data. */
#ifdef FLUXAUDIT_SOURCE_ROOT
#define SOURCE_ROOT FLUXAUDIT_SOURCE_ROOT
#else
#define SOURCE_ROOT TEST_DATA_DIR "/../.."
#endif

#define HDR "{'format':'fluxaudit-matrix/1',"
#define T0 1700000000000000ull /* 2023-11-14T22:13:20Z */
#define SEC 1000000ull

/* ---- fixtures ---------------------------------------------------------- */

struct fx {
    struct matrix *matrix;
    struct rules rules;
    struct audit *audit;
};

static const char *rules_path(void)
{
    static char path[1024];
    const char *root = getenv("FLUXAUDIT_SOURCE_ROOT");
    snprintf(path, sizeof(path), "%s/rules/findings.json",
             root != NULL && root[0] != '\0' ? root : SOURCE_ROOT);
    return path;
}

static void load_default_rules(struct rules *rules)
{
    struct diag d;
    diag_init(&d);
    bool ok = rules_load(rules_path(), rules, &d);
    char first[512] = "";
    if (d.count > 0)
        diag_format(&d, 0, first, sizeof(first));
    diag_free(&d);
    ck_assert_msg(ok, "cannot load %s: %s", rules_path(), first);
}

/* The shipped rules with one rule changed: `severity` (NULL keeps it) and
 * `enabled` (-1 keeps it). Goes through rules_parse like a hospital's file. */
static void load_rules_with(struct rules *rules, const char *code, const char *severity,
                            int enabled)
{
    FILE *f = fopen(rules_path(), "rb");
    ck_assert_msg(f != NULL, "cannot open %s", rules_path());
    static char text[1 << 16];
    size_t len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[len] = '\0';
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    cJSON *rule = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "findings"), code);
    ck_assert_ptr_nonnull(rule);
    if (severity != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive(rule, "severity", cJSON_CreateString(severity));
    if (enabled >= 0)
        cJSON_AddBoolToObject(rule, "enabled", enabled != 0);
    char *out = cJSON_Print(root);
    cJSON_Delete(root);
    struct diag d;
    diag_init(&d);
    bool ok = rules_parse("custom.json", out, strlen(out), rules, &d);
    char first[512] = "";
    if (d.count > 0)
        diag_format(&d, 0, first, sizeof(first));
    diag_free(&d);
    free(out);
    ck_assert_msg(ok, "custom rules refused: %s", first);
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
    char first[512] = "";
    if (d.count > 0)
        diag_format(&d, 0, first, sizeof(first));
    diag_free(&d);
    free(text);
    ck_assert_msg(matrix != NULL, "matrix refused: %s", first);
    return matrix;
}

static void fx_open_with(struct fx *fx, const char *matrix_text, const struct rules *rules,
                         size_t max_entries)
{
    memset(fx, 0, sizeof(*fx));
    fx->matrix = parse_matrix(matrix_text);
    if (rules != NULL)
        fx->rules = *rules;
    else
        load_default_rules(&fx->rules);
    fx->audit = audit_create(fx->matrix, &fx->rules, max_entries);
    ck_assert_ptr_nonnull(fx->audit);
}

static void fx_open(struct fx *fx, const char *matrix_text)
{
    fx_open_with(fx, matrix_text, NULL, AUDIT_DEFAULT_MAX_ENTRIES);
}

static void fx_close(struct fx *fx)
{
    audit_destroy(fx->audit);
    matrix_free(fx->matrix);
    memset(fx, 0, sizeof(*fx));
}

static const struct audit_device *dev(const struct fx *fx, size_t index)
{
    const struct audit_device *d = audit_get_device(fx->audit, index);
    ck_assert_ptr_nonnull(d);
    return d;
}

static const struct matrix_flow *declared(const struct fx *fx, size_t device, size_t flow)
{
    ck_assert_uint_lt(device, fx->matrix->device_count);
    ck_assert_uint_lt(flow, fx->matrix->devices[device].flow_count);
    return &fx->matrix->devices[device].flows[flow];
}

/* A TCP flow of 5 packets / 500 bytes lasting 5 s from T0. */
static struct flow make_flow(const char *client, uint16_t client_port, const char *server,
                             uint16_t server_port, uint8_t ip_proto)
{
    struct flow f;
    memset(&f, 0, sizeof(f));
    ck_assert_msg(net_addr_parse(client, &f.client), "bad client %s", client);
    ck_assert_msg(net_addr_parse(server, &f.server), "bad server %s", server);
    f.client_port = client_port;
    f.server_port = server_port;
    f.ip_proto = ip_proto;
    f.packets[FLOW_TO_SERVER] = 3;
    f.packets[FLOW_TO_CLIENT] = 2;
    f.bytes[FLOW_TO_SERVER] = 300;
    f.bytes[FLOW_TO_CLIENT] = 200;
    f.first_usec = T0;
    f.last_usec = T0 + 5 * SEC;
    return f;
}

static struct flow tcp_flow(const char *client, uint16_t client_port, const char *server,
                            uint16_t server_port)
{
    return make_flow(client, client_port, server, server_port, IP_PROTO_TCP);
}

static void set_app(struct flow *f, const char *app)
{
    snprintf(f->facts.app, sizeof(f->facts.app), "%s", app);
}

static void set_tls(struct flow *f, bool client_hello, uint16_t offered, bool server_hello,
                    uint16_t version)
{
    f->facts.security = SECURITY_TLS;
    f->facts.tls.client_hello_seen = client_hello;
    f->facts.tls.offered_max_version = offered;
    f->facts.tls.server_hello_seen = server_hello;
    f->facts.tls.version = version;
    f->facts.tls.cipher_suite = 0xC02F; /* ECDHE-RSA-AES128-GCM-SHA256: strong */
}

static void set_mac(struct mac_addr *mac, const char *text)
{
    ck_assert(mac_addr_parse(text, mac));
}

/* ---- result lookup ----------------------------------------------------- */

static size_t count_code(const struct audit_device *d, enum finding_code code)
{
    size_t n = 0;
    for (size_t i = 0; i < d->finding_count; i++)
        n += d->findings[i].code == code;
    return n;
}

/* The only finding of `code` in the device (asserts there is exactly one). */
static const struct audit_finding *only(const struct audit_device *d, enum finding_code code)
{
    ck_assert_msg(count_code(d, code) == 1, "%zu %s findings on %s, expected 1",
                  count_code(d, code), finding_code_name(code), d->device->name);
    for (size_t i = 0; i < d->finding_count; i++) {
        if (d->findings[i].code == code)
            return &d->findings[i];
    }
    return NULL;
}

/* The finding of `code` whose server port is `port`, or NULL. */
static const struct audit_finding *find_port(const struct audit_device *d, enum finding_code code,
                                             uint16_t port)
{
    for (size_t i = 0; i < d->finding_count; i++) {
        if (d->findings[i].code == code && d->findings[i].flow.port == port)
            return &d->findings[i];
    }
    return NULL;
}

static const char *ev(const struct audit_finding *f, const char *key)
{
    for (size_t i = 0; i < f->evidence_count; i++) {
        if (strcmp(f->evidence[i].key, key) == 0)
            return f->evidence[i].value;
    }
    return "(absent)";
}

static const char *flow_id(const struct matrix_flow *mf)
{
    return mf != NULL ? mf->id : "(none)";
}

/* The observed flow to server `server` port `port` with `app`. */
static const struct audit_observed_flow *observed(const struct audit_device *d,
                                                  const char *server, uint16_t port,
                                                  const char *app)
{
    for (size_t i = 0; i < d->observed_count; i++) {
        const struct audit_observed_flow *o = &d->observed[i];
        if (strcmp(o->flow.server_text, server) == 0 && o->flow.port == port &&
            strcmp(o->flow.app, app) == 0)
            return o;
    }
    ck_abort_msg("no observed flow to %s/%u %s on %s", server, port, app, d->device->name);
    return NULL;
}

/* The observed flow from `client` to `server` port `port`. */
static const struct audit_observed_flow *observed_from(const struct audit_device *d,
                                                       const char *client, const char *server,
                                                       uint16_t port)
{
    for (size_t i = 0; i < d->observed_count; i++) {
        const struct audit_observed_flow *o = &d->observed[i];
        if (strcmp(o->flow.client_text, client) == 0 &&
            strcmp(o->flow.server_text, server) == 0 && o->flow.port == port)
            return o;
    }
    ck_abort_msg("no observed flow %s -> %s/%u on %s", client, server, port, d->device->name);
    return NULL;
}

static void assert_counts(const struct audit_device *d, uint64_t critical, uint64_t high,
                          uint64_t medium, uint64_t low, uint64_t info, uint64_t waived)
{
    ck_assert_uint_eq(d->counts[SEVERITY_CRITICAL], critical);
    ck_assert_uint_eq(d->counts[SEVERITY_HIGH], high);
    ck_assert_uint_eq(d->counts[SEVERITY_MEDIUM], medium);
    ck_assert_uint_eq(d->counts[SEVERITY_LOW], low);
    ck_assert_uint_eq(d->counts[SEVERITY_INFO], info);
    ck_assert_uint_eq(d->waived_count, waived);
}

/* Runs one flow through a fresh audit of `matrix_text` and finishes it. */
static void run_one(struct fx *fx, const char *matrix_text, const struct flow *f)
{
    fx_open(fx, matrix_text);
    audit_flow(fx->audit, f);
    audit_finish(fx->audit);
}

/* ---- attribution ------------------------------------------------------- */

#define M_PACS                                                                                    \
    HDR "'hosts':{'pacs':['10.10.2.5']},'devices':[{'name':'ct','addresses':['10.10.1.20'],"      \
        "'flows':[{'id':'F01','from':'device','to':'pacs','proto':'tcp','port':11112,"           \
        "'app':'DICOM'}]}]}"

START_TEST(test_attribution_by_ip)
{
    struct fx fx;
    struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.2.5", 11112);
    set_app(&f, "DICOM");
    run_one(&fx, M_PACS, &f);
    ck_assert_uint_eq(audit_device_count(fx.audit), 1);
    const struct audit_device *d = dev(&fx, 0);
    ck_assert_ptr_eq(d->device, &fx.matrix->devices[0]);
    ck_assert_uint_eq(d->finding_count, 0);
    ck_assert_uint_eq(d->observed_count, 1);
    const struct audit_observed_flow *o = &d->observed[0];
    ck_assert_str_eq(o->flow.client_text, "10.10.1.20");
    ck_assert_str_eq(o->flow.server_text, "10.10.2.5");
    ck_assert_int_eq(net_addr_compare(&o->flow.client, &f.client), 0);
    ck_assert_int_eq(net_addr_compare(&o->flow.server, &f.server), 0);
    ck_assert_uint_eq(o->flow.ip_proto, IP_PROTO_TCP);
    ck_assert_uint_eq(o->flow.port, 11112);
    ck_assert_str_eq(o->flow.app, "DICOM");
    ck_assert_ptr_eq(o->matrix_flow, declared(&fx, 0, 0));
    ck_assert_uint_eq(o->first_usec, T0);
    ck_assert_uint_eq(o->last_usec, T0 + 5 * SEC);
    ck_assert_uint_eq(o->flows, 1);
    ck_assert_uint_eq(o->packets, 5);
    ck_assert_uint_eq(o->bytes, 500);
    ck_assert(d->matrix_flow_seen[0]);
    assert_counts(d, 0, 0, 0, 0, 0, 0);
    ck_assert_str_eq(audit_device_verdict(d), "conform");
    ck_assert(!audit_has_open_at_or_above(fx.audit, SEVERITY_INFO));
    struct audit_stats stats;
    audit_get_stats(fx.audit, &stats);
    ck_assert_uint_eq(stats.flows_audited, 1);
    ck_assert_uint_eq(stats.flows_unattributed, 0);
    ck_assert_uint_eq(stats.dropped, 0);
    ck_assert_ptr_null(audit_get_device(fx.audit, 1));
    fx_close(&fx);
}
END_TEST

START_TEST(test_attribution_by_cidr)
{
    struct fx fx;
    struct flow f = tcp_flow("10.10.5.77", 40000, "10.10.2.5", 11112);
    run_one(&fx,
            HDR "'hosts':{'pacs':['10.10.2.5']},'devices':[{'name':'ward',"
                "'addresses':['10.10.5.0/24'],'flows':[{'id':'F01','from':'device','to':'pacs',"
                "'proto':'tcp','port':11112}]}]}",
            &f);
    const struct audit_device *d = dev(&fx, 0);
    ck_assert_uint_eq(d->finding_count, 0);
    ck_assert_uint_eq(d->observed_count, 1);
    ck_assert_ptr_eq(d->observed[0].matrix_flow, declared(&fx, 0, 0));
    ck_assert_str_eq(d->observed[0].flow.app, "");
    ck_assert(d->matrix_flow_seen[0]);
    fx_close(&fx);
}
END_TEST

START_TEST(test_attribution_by_mac_only)
{
    struct fx fx;
    fx_open(&fx, HDR "'hosts':{'pacs':['10.10.2.5']},'devices':[{'name':'pump',"
                     "'addresses':['02:00:0A:0A:01:14'],'flows':["
                     "{'id':'F01','from':'device','to':'pacs','proto':'tcp','port':11112},"
                     "{'id':'F02','from':'pacs','to':'device','proto':'tcp','port':104}]}]}");
    /* The device as client, known only by its source MAC. */
    struct flow out = tcp_flow("10.99.0.5", 40000, "10.10.2.5", 11112);
    out.has_mac = true;
    set_mac(&out.client_mac, "02:00:0a:0a:01:14");
    set_mac(&out.server_mac, "02:00:00:00:00:01");
    audit_flow(fx.audit, &out);
    /* The device as server, by its destination MAC. */
    struct flow in = tcp_flow("10.10.2.5", 50000, "10.99.0.5", 104);
    in.has_mac = true;
    set_mac(&in.client_mac, "02:00:00:00:00:01");
    set_mac(&in.server_mac, "02:00:0a:0a:01:14");
    audit_flow(fx.audit, &in);
    /* The same MAC bytes without has_mac are not evidence. */
    struct flow nomac = out;
    nomac.has_mac = false;
    audit_flow(fx.audit, &nomac);
    audit_finish(fx.audit);
    const struct audit_device *d = dev(&fx, 0);
    ck_assert_uint_eq(d->finding_count, 0);
    ck_assert_uint_eq(d->observed_count, 2);
    ck_assert_str_eq(flow_id(observed(d, "10.10.2.5", 11112, "")->matrix_flow), "F01");
    ck_assert_uint_eq(observed(d, "10.10.2.5", 11112, "")->flows, 1);
    ck_assert_str_eq(flow_id(observed(d, "10.99.0.5", 104, "")->matrix_flow), "F02");
    ck_assert(d->matrix_flow_seen[0] && d->matrix_flow_seen[1]);
    struct audit_stats stats;
    audit_get_stats(fx.audit, &stats);
    ck_assert_uint_eq(stats.flows_audited, 3);
    ck_assert_uint_eq(stats.flows_unattributed, 1);
    fx_close(&fx);
}
END_TEST

#define M_CT_WS(ct_flows, ws_flows)                                                               \
    HDR "'devices':[{'name':'ct','addresses':['10.10.1.20','fd00::20'],'flows':[" ct_flows "]},"  \
        "{'name':'ws','addresses':['10.10.1.30','fd00::30'],'flows':[" ws_flows "]}]}"

START_TEST(test_flow_between_devices_audited_for_both)
{
    struct fx fx;
    struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.1.30", 104);
    run_one(&fx, M_CT_WS("{'id':'C01','from':'device','to':'ws','proto':'tcp','port':104}", ""),
            &f);
    const struct audit_device *ct = dev(&fx, 0);
    const struct audit_device *ws = dev(&fx, 1);
    ck_assert_uint_eq(ct->finding_count, 0);
    ck_assert_uint_eq(ct->observed_count, 1);
    ck_assert_ptr_eq(ct->observed[0].matrix_flow, declared(&fx, 0, 0));
    ck_assert_str_eq(audit_device_verdict(ct), "conform");
    /* The receiving device's matrix does not declare it. */
    ck_assert_uint_eq(ws->finding_count, 1);
    const struct audit_finding *u = only(ws, FINDING_FLOW_UNDECLARED);
    ck_assert_ptr_null(u->matrix_flow);
    ck_assert_str_eq(u->flow.client_text, "10.10.1.20");
    ck_assert_str_eq(u->flow.server_text, "10.10.1.30");
    ck_assert_uint_eq(u->flow.port, 104);
    ck_assert_uint_eq(u->evidence_count, 1);
    ck_assert_str_eq(ev(u, "direction"), "inbound");
    ck_assert_uint_eq(ws->observed_count, 1);
    ck_assert_ptr_null(ws->observed[0].matrix_flow);
    assert_counts(ws, 0, 1, 0, 0, 0, 0);
    ck_assert_str_eq(audit_device_verdict(ws), "deviations");
    struct audit_stats stats;
    audit_get_stats(fx.audit, &stats);
    ck_assert_uint_eq(stats.flows_audited, 1);
    fx_close(&fx);
}
END_TEST

START_TEST(test_flow_between_devices_declared_by_both)
{
    struct fx fx;
    struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.1.30", 104);
    run_one(&fx,
            M_CT_WS("{'id':'C01','from':'device','to':'ws','proto':'tcp','port':104}",
                    "{'id':'W01','from':'device','to':'ct','proto':'tcp','port':104},"
                    "{'id':'W02','from':'ct','to':'device','proto':'tcp','port':104}"),
            &f);
    const struct audit_device *ct = dev(&fx, 0);
    const struct audit_device *ws = dev(&fx, 1);
    ck_assert_uint_eq(ct->finding_count, 0);
    /* W01 is the reverse direction: only W02 covers it, W01 is not seen. */
    ck_assert_uint_eq(ws->finding_count, 1);
    const struct audit_finding *n = only(ws, FINDING_FLOW_NOT_OBSERVED);
    ck_assert_ptr_eq(n->matrix_flow, declared(&fx, 1, 0));
    ck_assert_str_eq(flow_id(ct->observed[0].matrix_flow), "C01");
    ck_assert_str_eq(flow_id(ws->observed[0].matrix_flow), "W02");
    ck_assert(!ws->matrix_flow_seen[0]);
    ck_assert(ws->matrix_flow_seen[1]);
    ck_assert_str_eq(audit_device_verdict(ws), "conform");
    fx_close(&fx);
}
END_TEST

START_TEST(test_unattributed)
{
    struct fx fx;
    fx_open(&fx, M_CT_WS("", ""));
    struct flow a = tcp_flow("10.50.0.1", 40000, "10.50.0.2", 80);
    struct flow b = tcp_flow("10.50.0.1", 40000, "8.8.8.8", 443);
    audit_flow(fx.audit, &a);
    audit_flow(fx.audit, &b);
    audit_finish(fx.audit);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_uint_eq(dev(&fx, i)->finding_count, 0);
        ck_assert_uint_eq(dev(&fx, i)->observed_count, 0);
    }
    struct audit_stats stats;
    audit_get_stats(fx.audit, &stats);
    ck_assert_uint_eq(stats.flows_audited, 2);
    ck_assert_uint_eq(stats.flows_unattributed, 2);
    ck_assert_uint_eq(stats.dropped, 0);
    ck_assert(!audit_has_open_at_or_above(fx.audit, SEVERITY_INFO));
    fx_close(&fx);
}
END_TEST

/* ---- matching ---------------------------------------------------------- */

START_TEST(test_proto_icmp_covers_icmpv6)
{
    struct fx fx;
    fx_open(&fx, M_CT_WS("{'id':'C01','from':'device','to':'ws','proto':'icmp'}", ""));
    struct flow v4 = make_flow("10.10.1.20", 0, "10.10.1.30", 0, IP_PROTO_ICMP);
    struct flow v6 = make_flow("fd00::20", 0, "fd00::30", 0, IP_PROTO_ICMPV6);
    struct flow tcp = tcp_flow("10.10.1.20", 40000, "10.10.1.30", 80);
    struct flow udp = make_flow("10.10.1.20", 40000, "10.10.1.30", 53, IP_PROTO_UDP);
    audit_flow(fx.audit, &v4);
    audit_flow(fx.audit, &v6);
    audit_flow(fx.audit, &tcp);
    audit_flow(fx.audit, &udp);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->observed_count, 4);
    const struct audit_observed_flow *o4 = observed(ct, "10.10.1.30", 0, "");
    ck_assert_uint_eq(o4->flow.ip_proto, IP_PROTO_ICMP);
    ck_assert_str_eq(flow_id(o4->matrix_flow), "C01");
    const struct audit_observed_flow *o6 = observed(ct, "fd00::30", 0, "");
    ck_assert_uint_eq(o6->flow.ip_proto, IP_PROTO_ICMPV6);
    ck_assert_str_eq(o6->flow.client_text, "fd00::20");
    ck_assert_str_eq(flow_id(o6->matrix_flow), "C01");
    ck_assert_ptr_null(observed(ct, "10.10.1.30", 80, "")->matrix_flow);
    ck_assert_ptr_null(observed(ct, "10.10.1.30", 53, "")->matrix_flow);
    ck_assert_uint_eq(ct->finding_count, 2);
    ck_assert_uint_eq(find_port(ct, FINDING_FLOW_UNDECLARED, 80)->flow.ip_proto, IP_PROTO_TCP);
    ck_assert_uint_eq(find_port(ct, FINDING_FLOW_UNDECLARED, 53)->flow.ip_proto, IP_PROTO_UDP);
    /* ws declares nothing: the pings and the TCP attempt (no SYN-ACK seen)
     * are undeclared flows there; the UDP service it answered on is an
     * undeclared service. */
    ck_assert_uint_eq(count_code(dev(&fx, 1), FINDING_FLOW_UNDECLARED), 3);
    ck_assert_uint_eq(count_code(dev(&fx, 1), FINDING_SERVICE_UNDECLARED), 1);
    fx_close(&fx);
}
END_TEST

START_TEST(test_proto_any_and_any_peer)
{
    struct fx fx;
    fx_open(&fx, M_CT_WS("{'id':'C05','from':'any','to':'device','proto':'any'}", ""));
    struct flow tcp = tcp_flow("10.50.0.1", 40000, "10.10.1.20", 9999);
    struct flow udp = make_flow("10.50.0.1", 40000, "10.10.1.20", 5000, IP_PROTO_UDP);
    struct flow icmp = make_flow("10.50.0.1", 0, "10.10.1.20", 0, IP_PROTO_ICMP);
    /* "any -> device" does not cover the device opening a connection. */
    struct flow out = tcp_flow("10.10.1.20", 40000, "10.50.0.1", 9999);
    audit_flow(fx.audit, &tcp);
    audit_flow(fx.audit, &udp);
    audit_flow(fx.audit, &icmp);
    audit_flow(fx.audit, &out);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->observed_count, 4);
    ck_assert_str_eq(flow_id(observed(ct, "10.10.1.20", 9999, "")->matrix_flow), "C05");
    ck_assert_str_eq(flow_id(observed(ct, "10.10.1.20", 5000, "")->matrix_flow), "C05");
    ck_assert_str_eq(flow_id(observed(ct, "10.10.1.20", 0, "")->matrix_flow), "C05");
    ck_assert_ptr_null(observed(ct, "10.50.0.1", 9999, "")->matrix_flow);
    ck_assert_uint_eq(ct->finding_count, 1);
    const struct audit_finding *u = only(ct, FINDING_FLOW_UNDECLARED);
    ck_assert_str_eq(u->flow.server_text, "10.50.0.1");
    ck_assert_str_eq(ev(u, "direction"), "outbound");
    fx_close(&fx);
}
END_TEST

START_TEST(test_ports_single_range_list_any)
{
    struct fx fx;
    fx_open(&fx, HDR "'hosts':{'pacs':['10.10.2.5']},'devices':[{'name':'ct',"
                     "'addresses':['10.10.1.20'],'flows':["
                     "{'id':'P1','from':'device','to':'pacs','proto':'tcp','port':'11112'},"
                     "{'id':'P2','from':'device','to':'pacs','proto':'tcp','port':'8000-8010'},"
                     "{'id':'P3','from':'device','to':'pacs','proto':'tcp','port':'80, 443'},"
                     "{'id':'P4','from':'device','to':'pacs','proto':'udp','port':'any'}]}]}");
    static const struct {
        uint8_t proto;
        uint16_t port;
        const char *id;
    } cases[] = {
        {IP_PROTO_TCP, 11112, "P1"}, {IP_PROTO_TCP, 11113, NULL}, {IP_PROTO_TCP, 11111, NULL},
        {IP_PROTO_TCP, 8000, "P2"},  {IP_PROTO_TCP, 8005, "P2"},  {IP_PROTO_TCP, 8010, "P2"},
        {IP_PROTO_TCP, 7999, NULL},  {IP_PROTO_TCP, 8011, NULL},  {IP_PROTO_TCP, 80, "P3"},
        {IP_PROTO_TCP, 443, "P3"},   {IP_PROTO_TCP, 81, NULL},    {IP_PROTO_UDP, 1, "P4"},
        {IP_PROTO_UDP, 65535, "P4"},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    for (size_t i = 0; i < n; i++) {
        struct flow f = make_flow("10.10.1.20", 40000, "10.10.2.5", cases[i].port, cases[i].proto);
        audit_flow(fx.audit, &f);
    }
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->observed_count, n);
    size_t undeclared = 0;
    for (size_t i = 0; i < n; i++) {
        const struct audit_observed_flow *o = observed(ct, "10.10.2.5", cases[i].port, "");
        ck_assert_uint_eq(o->flow.ip_proto, cases[i].proto);
        ck_assert_msg(strcmp(flow_id(o->matrix_flow), cases[i].id ? cases[i].id : "(none)") == 0,
                      "port %u: matched %s", cases[i].port, flow_id(o->matrix_flow));
        if (cases[i].id == NULL) {
            undeclared++;
            ck_assert_ptr_nonnull(find_port(ct, FINDING_FLOW_UNDECLARED, cases[i].port));
        }
    }
    ck_assert_uint_eq(undeclared, 5);
    ck_assert_uint_eq(ct->finding_count, 5);
    ck_assert_uint_eq(count_code(ct, FINDING_FLOW_UNDECLARED), 5);
    fx_close(&fx);
}
END_TEST

START_TEST(test_peer_host_by_address_and_cidr)
{
    struct fx fx;
    fx_open(&fx, HDR "'hosts':{'lab':['10.30.0.0/16','fd00:30::/32']},'devices':[{'name':'ct',"
                     "'addresses':['10.10.1.20','fd00::20'],'flows':["
                     "{'id':'H1','from':'lab','to':'device','proto':'tcp','port':22},"
                     "{'id':'C1','from':'10.20.0.0/16','to':'device','proto':'tcp','port':'any'},"
                     "{'id':'C2','from':'device','to':'2001:db8:1::/48','proto':'udp',"
                     "'port':514,'internet':true}]}]}");
    struct flow h_in = tcp_flow("10.30.4.4", 40000, "10.10.1.20", 22);
    struct flow h_v6 = tcp_flow("fd00:30::9", 40000, "fd00::20", 22);
    struct flow h_out = tcp_flow("10.31.0.1", 40000, "10.10.1.20", 22);
    struct flow c_in = tcp_flow("10.20.255.255", 40000, "10.10.1.20", 1);
    struct flow c_out = tcp_flow("10.21.0.0", 40000, "10.10.1.20", 2);
    struct flow v6_in = make_flow("fd00::20", 40000, "2001:db8:1::5", 514, IP_PROTO_UDP);
    struct flow v6_out = make_flow("fd00::20", 40000, "2001:db8:2::5", 514, IP_PROTO_UDP);
    const struct flow *flows[] = {&h_in, &h_v6, &h_out, &c_in, &c_out, &v6_in, &v6_out};
    for (size_t i = 0; i < 7; i++)
        audit_flow(fx.audit, flows[i]);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->observed_count, 7);
    ck_assert_str_eq(flow_id(observed_from(ct, "10.30.4.4", "10.10.1.20", 22)->matrix_flow),
                     "H1");
    ck_assert_ptr_null(observed_from(ct, "10.31.0.1", "10.10.1.20", 22)->matrix_flow);
    ck_assert_str_eq(flow_id(observed(ct, "fd00::20", 22, "")->matrix_flow), "H1");
    ck_assert_str_eq(flow_id(observed(ct, "10.10.1.20", 1, "")->matrix_flow), "C1");
    ck_assert_ptr_null(observed(ct, "10.10.1.20", 2, "")->matrix_flow);
    ck_assert_str_eq(flow_id(observed(ct, "2001:db8:1::5", 514, "")->matrix_flow), "C2");
    ck_assert_ptr_null(observed(ct, "2001:db8:2::5", 514, "")->matrix_flow);
    /* 10.31.0.1:22 is outside "lab": undeclared (and also in no other flow). */
    ck_assert_uint_eq(count_code(ct, FINDING_FLOW_UNDECLARED), 2);
    const struct audit_finding *i = only(ct, FINDING_FLOW_INTERNET_UNDECLARED);
    ck_assert_str_eq(i->flow.server_text, "2001:db8:2::5");
    ck_assert_uint_eq(ct->finding_count, 3);
    fx_close(&fx);
}
END_TEST

START_TEST(test_peer_host_by_dns_name)
{
    struct fx fx;
    fx_open(&fx, HDR "'hosts':{'updates':['update.vendor.example']},'devices':[{'name':'ct',"
                     "'addresses':['10.10.1.20'],'flows':["
                     "{'id':'D1','from':'device','to':'updates','proto':'tcp','port':443,"
                     "'internet':true},"
                     "{'id':'D2','from':'updates','to':'device','proto':'tcp','port':8080}]}]}");
    struct flow sni = tcp_flow("10.10.1.20", 40000, "203.0.113.10", 443);
    snprintf(sni.facts.tls.sni, sizeof(sni.facts.tls.sni), "Update.Vendor.EXAMPLE");
    struct flow host = tcp_flow("10.10.1.20", 40000, "203.0.113.11", 443);
    snprintf(host.facts.server_name, sizeof(host.facts.server_name), "update.vendor.example");
    struct flow unnamed = tcp_flow("10.10.1.20", 40000, "203.0.113.12", 443);
    struct flow other = tcp_flow("10.10.1.20", 40000, "203.0.113.13", 443);
    snprintf(other.facts.tls.sni, sizeof(other.facts.tls.sni), "other.vendor.example");
    /* A name is a server's: it never identifies the client. */
    struct flow inbound = tcp_flow("10.10.9.9", 40000, "10.10.1.20", 8080);
    snprintf(inbound.facts.tls.sni, sizeof(inbound.facts.tls.sni), "update.vendor.example");
    snprintf(inbound.facts.server_name, sizeof(inbound.facts.server_name),
             "update.vendor.example");
    const struct flow *flows[] = {&sni, &host, &unnamed, &other, &inbound};
    for (size_t i = 0; i < 5; i++)
        audit_flow(fx.audit, flows[i]);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_str_eq(flow_id(observed(ct, "203.0.113.10", 443, "")->matrix_flow), "D1");
    ck_assert_str_eq(flow_id(observed(ct, "203.0.113.11", 443, "")->matrix_flow), "D1");
    ck_assert_ptr_null(observed(ct, "203.0.113.12", 443, "")->matrix_flow);
    ck_assert_ptr_null(observed(ct, "203.0.113.13", 443, "")->matrix_flow);
    ck_assert_ptr_null(observed(ct, "10.10.1.20", 8080, "")->matrix_flow);
    ck_assert_uint_eq(count_code(ct, FINDING_FLOW_INTERNET_UNDECLARED), 2);
    ck_assert_uint_eq(count_code(ct, FINDING_FLOW_UNDECLARED), 1);
    /* D2 never matched. */
    ck_assert_uint_eq(count_code(ct, FINDING_FLOW_NOT_OBSERVED), 1);
    ck_assert_ptr_eq(only(ct, FINDING_FLOW_NOT_OBSERVED)->matrix_flow, declared(&fx, 0, 1));
    ck_assert_uint_eq(ct->finding_count, 4);
    fx_close(&fx);
}
END_TEST

START_TEST(test_peer_dns_name_and_wildcard)
{
    struct fx fx;
    fx_open(&fx, HDR "'devices':[{'name':'ct','addresses':['10.10.1.20'],'flows':["
                     "{'id':'W1','from':'device','to':'*.example.org','proto':'tcp','port':443},"
                     "{'id':'N1','from':'device','to':'api.example.net','proto':'tcp',"
                     "'port':8443},"
                     "{'id':'R1','from':'*.example.org','to':'device','proto':'tcp',"
                     "'port':9000}]}]}");
    static const struct {
        const char *server;
        uint16_t port;
        const char *sni;
        const char *host;
        const char *id;
    } cases[] = {
        {"10.40.0.1", 443, "a.example.org", "", "W1"},
        {"10.40.0.2", 443, "", "b.c.EXAMPLE.org", "W1"},
        {"10.40.0.3", 443, "example.org", "", NULL},
        {"10.40.0.4", 443, "badexample.org", "", NULL},
        {"10.40.0.5", 443, ".example.org", "", NULL},
        {"10.40.0.6", 443, "a.example.org.evil", "", NULL},
        {"10.40.0.7", 8443, "API.example.net", "", "N1"},
        {"10.40.0.8", 8443, "x.api.example.net", "", NULL},
        {"10.40.0.9", 8443, "", "", NULL},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    for (size_t i = 0; i < n; i++) {
        struct flow f = tcp_flow("10.10.1.20", 40000, cases[i].server, cases[i].port);
        snprintf(f.facts.tls.sni, sizeof(f.facts.tls.sni), "%s", cases[i].sni);
        snprintf(f.facts.server_name, sizeof(f.facts.server_name), "%s", cases[i].host);
        audit_flow(fx.audit, &f);
    }
    size_t undeclared = 0;
    /* A DNS name only ever names the server: never the client. */
    struct flow in = tcp_flow("10.40.1.1", 40000, "10.10.1.20", 9000);
    snprintf(in.facts.tls.sni, sizeof(in.facts.tls.sni), "a.example.org");
    snprintf(in.facts.server_name, sizeof(in.facts.server_name), "a.example.org");
    audit_flow(fx.audit, &in);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    for (size_t i = 0; i < n; i++) {
        const struct audit_observed_flow *o = observed(ct, cases[i].server, cases[i].port, "");
        ck_assert_msg(strcmp(flow_id(o->matrix_flow), cases[i].id ? cases[i].id : "(none)") == 0,
                      "%s/%s matched %s", cases[i].sni, cases[i].host, flow_id(o->matrix_flow));
        undeclared += cases[i].id == NULL;
    }
    ck_assert_ptr_null(observed(ct, "10.10.1.20", 9000, "")->matrix_flow);
    undeclared++;
    ck_assert_uint_eq(count_code(ct, FINDING_FLOW_UNDECLARED), undeclared);
    ck_assert_uint_eq(count_code(ct, FINDING_FLOW_NOT_OBSERVED), 1);
    ck_assert_uint_eq(ct->finding_count, undeclared + 1);
    fx_close(&fx);
}
END_TEST

START_TEST(test_peer_internet_and_internal_list)
{
    struct fx fx;
    fx_open(&fx, HDR "'internal':['10.0.0.0/8'],'devices':[{'name':'ct',"
                     "'addresses':['10.10.1.20'],'flows':["
                     "{'id':'I1','from':'device','to':'internet','proto':'udp','port':4500,"
                     "'internet':true}]}]}");
    struct flow pub = make_flow("10.10.1.20", 4500, "8.8.8.8", 4500, IP_PROTO_UDP);
    /* Not in this site's "internal": Internet, although RFC 1918. */
    struct flow rfc1918 = make_flow("10.10.1.20", 4500, "192.168.1.1", 4500, IP_PROTO_UDP);
    struct flow internal = make_flow("10.10.1.20", 4500, "10.1.1.1", 4500, IP_PROTO_UDP);
    audit_flow(fx.audit, &pub);
    audit_flow(fx.audit, &rfc1918);
    audit_flow(fx.audit, &internal);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_str_eq(flow_id(observed(ct, "8.8.8.8", 4500, "")->matrix_flow), "I1");
    ck_assert_str_eq(flow_id(observed(ct, "192.168.1.1", 4500, "")->matrix_flow), "I1");
    ck_assert_ptr_null(observed(ct, "10.1.1.1", 4500, "")->matrix_flow);
    ck_assert_uint_eq(ct->finding_count, 1);
    ck_assert_str_eq(only(ct, FINDING_FLOW_UNDECLARED)->flow.server_text, "10.1.1.1");
    fx_close(&fx);
}
END_TEST

START_TEST(test_direction_matters)
{
    struct fx fx;
    struct flow f = tcp_flow("10.10.2.5", 50000, "10.10.1.20", 11112);
    set_app(&f, "DICOM");
    run_one(&fx, M_PACS, &f);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->finding_count, 2);
    const struct audit_finding *u = only(ct, FINDING_FLOW_UNDECLARED);
    ck_assert_str_eq(u->flow.client_text, "10.10.2.5");
    ck_assert_str_eq(u->flow.server_text, "10.10.1.20");
    ck_assert_str_eq(ev(u, "direction"), "inbound");
    ck_assert_ptr_eq(only(ct, FINDING_FLOW_NOT_OBSERVED)->matrix_flow, declared(&fx, 0, 0));
    ck_assert(!ct->matrix_flow_seen[0]);
    ck_assert_ptr_null(ct->observed[0].matrix_flow);
    fx_close(&fx);
}
END_TEST

START_TEST(test_first_match_whose_app_agrees)
{
    struct fx fx;
    fx_open(&fx, HDR "'hosts':{'pacs':['10.10.2.5']},'devices':[{'name':'ct',"
                     "'addresses':['10.10.1.20'],'flows':["
                     "{'id':'A1','from':'device','to':'pacs','proto':'tcp','port':443,"
                     "'app':'HTTP'},"
                     "{'id':'A2','from':'device','to':'pacs','proto':'tcp','port':443,"
                     "'app':'TLS'},"
                     "{'id':'A3','from':'device','to':'pacs','proto':'tcp','port':443,"
                     "'app':'TLS'}]}]}");
    const char *apps[] = {"TLS", "HTTP", "SSH"};
    for (size_t i = 0; i < 3; i++) {
        struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.2.5", 443);
        set_app(&f, apps[i]);
        audit_flow(fx.audit, &f);
    }
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->observed_count, 3);
    ck_assert_str_eq(flow_id(observed(ct, "10.10.2.5", 443, "TLS")->matrix_flow), "A2");
    ck_assert_str_eq(flow_id(observed(ct, "10.10.2.5", 443, "HTTP")->matrix_flow), "A1");
    /* No declared app agrees: the first match, with a mismatch. */
    ck_assert_str_eq(flow_id(observed(ct, "10.10.2.5", 443, "SSH")->matrix_flow), "A1");
    const struct audit_finding *m = only(ct, FINDING_FLOW_APP_MISMATCH);
    ck_assert_ptr_eq(m->matrix_flow, declared(&fx, 0, 0));
    ck_assert_str_eq(ev(m, "declared_app"), "HTTP");
    ck_assert_str_eq(ev(m, "observed_app"), "SSH");
    /* A3 duplicates A2 and is never chosen. */
    ck_assert_uint_eq(ct->finding_count, 2);
    ck_assert_ptr_eq(only(ct, FINDING_FLOW_NOT_OBSERVED)->matrix_flow, declared(&fx, 0, 2));
    fx_close(&fx);
}
END_TEST

/* ---- findings ---------------------------------------------------------- */

START_TEST(test_flow_undeclared_exact)
{
    struct fx fx;
    struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.3.3", 8080);
    run_one(&fx, M_CT_WS("", ""), &f);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->finding_count, 1);
    const struct audit_finding *u = &ct->findings[0];
    ck_assert_int_eq(u->code, FINDING_FLOW_UNDECLARED);
    ck_assert_int_eq(u->severity, SEVERITY_HIGH);
    ck_assert(!u->waived);
    ck_assert_ptr_null(u->matrix_flow);
    ck_assert_str_eq(u->flow.client_text, "10.10.1.20");
    ck_assert_str_eq(u->flow.server_text, "10.10.3.3");
    ck_assert_uint_eq(u->flow.ip_proto, IP_PROTO_TCP);
    ck_assert_uint_eq(u->flow.port, 8080);
    ck_assert_str_eq(u->flow.app, "");
    ck_assert_uint_eq(u->first_usec, T0);
    ck_assert_uint_eq(u->last_usec, T0 + 5 * SEC);
    ck_assert_uint_eq(u->flows, 1);
    ck_assert_uint_eq(u->packets, 5);
    ck_assert_uint_eq(u->bytes, 500);
    ck_assert_uint_eq(u->evidence_count, 1);
    ck_assert_str_eq(u->evidence[0].key, "direction");
    ck_assert_str_eq(u->evidence[0].value, "outbound");
    assert_counts(ct, 0, 1, 0, 0, 0, 0);
    ck_assert_str_eq(audit_device_verdict(ct), "deviations");
    ck_assert_str_eq(audit_device_verdict(dev(&fx, 1)), "conform");
    ck_assert(audit_has_open_at_or_above(fx.audit, SEVERITY_HIGH));
    ck_assert(audit_has_open_at_or_above(fx.audit, SEVERITY_INFO));
    ck_assert(!audit_has_open_at_or_above(fx.audit, SEVERITY_CRITICAL));
    fx_close(&fx);
}
END_TEST

START_TEST(test_internet_undeclared_public_peer)
{
    struct fx fx;
    struct flow f = tcp_flow("10.10.1.20", 40000, "93.184.216.34", 443);
    set_app(&f, "TLS");
    run_one(&fx, M_CT_WS("", ""), &f);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->finding_count, 1);
    const struct audit_finding *i = only(ct, FINDING_FLOW_INTERNET_UNDECLARED);
    ck_assert_int_eq(i->severity, SEVERITY_HIGH);
    ck_assert_ptr_null(i->matrix_flow);
    ck_assert_str_eq(i->flow.server_text, "93.184.216.34");
    ck_assert_str_eq(i->flow.app, "TLS");
    ck_assert_str_eq(ev(i, "direction"), "outbound");
    ck_assert_uint_eq(count_code(ct, FINDING_FLOW_UNDECLARED), 0);
    fx_close(&fx);
}
END_TEST

START_TEST(test_internet_undeclared_declared_without_internet)
{
    struct fx fx;
    fx_open(&fx, HDR "'devices':[{'name':'ct','addresses':['10.10.1.20'],'flows':["
                     "{'id':'X1','from':'device','to':'203.0.113.0/25','proto':'tcp','port':443},"
                     "{'id':'X2','from':'device','to':'203.0.113.128/25','proto':'tcp',"
                     "'port':443,'internet':true}]}]}");
    struct flow no = tcp_flow("10.10.1.20", 40000, "203.0.113.5", 443);
    struct flow yes = tcp_flow("10.10.1.20", 40000, "203.0.113.200", 443);
    audit_flow(fx.audit, &no);
    audit_flow(fx.audit, &yes);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->finding_count, 1);
    const struct audit_finding *i = only(ct, FINDING_FLOW_INTERNET_UNDECLARED);
    ck_assert_ptr_eq(i->matrix_flow, declared(&fx, 0, 0));
    ck_assert_str_eq(i->flow.server_text, "203.0.113.5");
    ck_assert_str_eq(ev(i, "direction"), "outbound");
    ck_assert(ct->matrix_flow_seen[0] && ct->matrix_flow_seen[1]);
    ck_assert_str_eq(flow_id(observed(ct, "203.0.113.5", 443, "")->matrix_flow), "X1");
    fx_close(&fx);
}
END_TEST

#define M_INBOUND(extra)                                                                          \
    HDR "'devices':[{'name':'ct','addresses':['10.10.1.20'],'flows':["                            \
        "{'id':'V1','from':'internet','to':'device','proto':'tcp','port':443,"                    \
        "'internet':true,'app':'TLS'" extra "}]}]}"

START_TEST(test_inbound_internet_declared)
{
    struct fx fx;
    struct flow f = tcp_flow("198.51.100.7", 51000, "10.10.1.20", 443);
    set_app(&f, "TLS");
    run_one(&fx, M_INBOUND(""), &f);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->finding_count, 1);
    const struct audit_finding *b = only(ct, FINDING_FLOW_INBOUND_INTERNET);
    ck_assert_int_eq(b->severity, SEVERITY_CRITICAL);
    ck_assert(!b->waived);
    ck_assert_ptr_eq(b->matrix_flow, declared(&fx, 0, 0));
    ck_assert_str_eq(b->flow.client_text, "198.51.100.7");
    ck_assert_uint_eq(b->evidence_count, 1);
    ck_assert_str_eq(ev(b, "direction"), "inbound");
    assert_counts(ct, 1, 0, 0, 0, 0, 0);
    ck_assert(audit_has_open_at_or_above(fx.audit, SEVERITY_CRITICAL));
    fx_close(&fx);
}
END_TEST

START_TEST(test_inbound_internet_undeclared)
{
    struct fx fx;
    struct flow f = tcp_flow("198.51.100.7", 51000, "10.10.1.20", 22);
    run_one(&fx, M_CT_WS("", ""), &f);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->finding_count, 2);
    /* Sorted: critical first. */
    ck_assert_int_eq(ct->findings[0].code, FINDING_FLOW_INBOUND_INTERNET);
    ck_assert_int_eq(ct->findings[1].code, FINDING_FLOW_INTERNET_UNDECLARED);
    ck_assert_ptr_null(ct->findings[0].matrix_flow);
    ck_assert_ptr_null(ct->findings[1].matrix_flow);
    ck_assert_str_eq(ev(&ct->findings[0], "direction"), "inbound");
    ck_assert_str_eq(ev(&ct->findings[1], "direction"), "inbound");
    ck_assert_uint_eq(count_code(ct, FINDING_FLOW_UNDECLARED), 0);
    assert_counts(ct, 1, 1, 0, 0, 0, 0);
    fx_close(&fx);
}
END_TEST

START_TEST(test_inbound_internet_waived)
{
    struct fx fx;
    struct flow f = tcp_flow("198.51.100.7", 51000, "10.10.1.20", 443);
    set_app(&f, "HTTP");
    run_one(&fx, M_INBOUND(",'waiver':'VPN concentrator ordered, ticket 42'"), &f);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->finding_count, 2);
    const struct audit_finding *b = only(ct, FINDING_FLOW_INBOUND_INTERNET);
    ck_assert(b->waived);
    ck_assert_int_eq(b->severity, SEVERITY_CRITICAL);
    ck_assert_str_eq(b->matrix_flow->waiver, "VPN concentrator ordered, ticket 42");
    /* Every finding on a waived flow is waived. */
    ck_assert(only(ct, FINDING_FLOW_APP_MISMATCH)->waived);
    assert_counts(ct, 0, 0, 0, 0, 0, 2);
    ck_assert_str_eq(audit_device_verdict(ct), "conform");
    ck_assert(!audit_has_open_at_or_above(fx.audit, SEVERITY_INFO));
    fx_close(&fx);
}
END_TEST

#define M_APP(app)                                                                                \
    HDR "'hosts':{'pacs':['10.10.2.5']},'devices':[{'name':'ct','addresses':['10.10.1.20'],"      \
        "'flows':[{'id':'F01','from':'device','to':'pacs','proto':'tcp','port':11112,"           \
        "'app':'" app "'}]}]}"

START_TEST(test_app_mismatch_raised)
{
    struct fx fx;
    struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.2.5", 11112);
    set_app(&f, "HTTP");
    run_one(&fx, M_APP("DICOM"), &f);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->finding_count, 1);
    const struct audit_finding *m = only(ct, FINDING_FLOW_APP_MISMATCH);
    ck_assert_int_eq(m->severity, SEVERITY_MEDIUM);
    ck_assert_ptr_eq(m->matrix_flow, declared(&fx, 0, 0));
    ck_assert_str_eq(m->flow.app, "HTTP");
    ck_assert_uint_eq(m->evidence_count, 2);
    ck_assert_str_eq(m->evidence[0].key, "declared_app");
    ck_assert_str_eq(m->evidence[0].value, "DICOM");
    ck_assert_str_eq(m->evidence[1].key, "observed_app");
    ck_assert_str_eq(m->evidence[1].value, "HTTP");
    ck_assert_ptr_eq(ct->observed[0].matrix_flow, declared(&fx, 0, 0));
    ck_assert(ct->matrix_flow_seen[0]);
    assert_counts(ct, 0, 0, 1, 0, 0, 0);
    fx_close(&fx);
}
END_TEST

START_TEST(test_app_mismatch_not_raised)
{
    static const struct {
        const char *declared;
        const char *app;
        const char *service;
        bool guessed;
    } cases[] = {
        {"DICOM", "HTTP", "", true}, /* a port-based guess is no evidence */
        {"DICOM", "", "", false},    /* nothing identified */
        {"Google", "TLS", "Google", false},
        {"DICOM", "dicom", "", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[1024];
        snprintf(text, sizeof(text),
                 HDR "'hosts':{'pacs':['10.10.2.5']},'devices':[{'name':'ct',"
                     "'addresses':['10.10.1.20'],'flows':[{'id':'F01','from':'device',"
                     "'to':'pacs','proto':'tcp','port':11112,'app':'%s'}]}]}",
                 cases[i].declared);
        struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.2.5", 11112);
        set_app(&f, cases[i].app);
        snprintf(f.facts.service, sizeof(f.facts.service), "%s", cases[i].service);
        f.facts.dpi_guessed = cases[i].guessed;
        struct fx fx;
        run_one(&fx, text, &f);
        ck_assert_msg(dev(&fx, 0)->finding_count == 0, "case %zu raised %s", i,
                      finding_code_name(dev(&fx, 0)->findings[0].code));
        ck_assert_ptr_eq(dev(&fx, 0)->observed[0].matrix_flow, declared(&fx, 0, 0));
        fx_close(&fx);
    }
}
END_TEST

START_TEST(test_tls_obsolete_version)
{
    static const struct {
        bool client_hello;
        uint16_t offered;
        bool server_hello;
        uint16_t version;
        const char *expected; /* tls_version evidence, NULL: no finding */
        const char *offered_text;
    } cases[] = {
        /* The client's offer is not what was negotiated. */
        {true, TLS_VERSION_1_0, false, 0, NULL, NULL},
        {true, TLS_VERSION_1_0, false, TLS_VERSION_1_0, NULL, NULL},
        {true, TLS_VERSION_1_2, true, TLS_VERSION_1_0, "TLSv1.0", "TLSv1.2"},
        {true, TLS_VERSION_1_0, true, TLS_VERSION_1_0, "TLSv1.0", "TLSv1.0"},
        {false, 0, true, TLS_VERSION_1_1, "TLSv1.1", NULL},
        {true, TLS_VERSION_1_2, true, TLS_VERSION_SSL3, "SSLv3", "TLSv1.2"},
        {true, TLS_VERSION_1_0, true, TLS_VERSION_1_2, NULL, NULL},
        {true, TLS_VERSION_1_3, true, TLS_VERSION_1_3, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.2.5", 11112);
        set_app(&f, "TLS");
        set_tls(&f, cases[i].client_hello, cases[i].offered, cases[i].server_hello,
                cases[i].version);
        struct fx fx;
        run_one(&fx, M_APP("TLS"), &f);
        const struct audit_device *ct = dev(&fx, 0);
        if (cases[i].expected == NULL) {
            ck_assert_msg(ct->finding_count == 0, "case %zu: %zu findings", i,
                          ct->finding_count);
            fx_close(&fx);
            continue;
        }
        ck_assert_msg(ct->finding_count == 1, "case %zu: %zu findings", i, ct->finding_count);
        const struct audit_finding *t = only(ct, FINDING_TLS_OBSOLETE_VERSION);
        ck_assert_int_eq(t->severity, SEVERITY_HIGH);
        ck_assert_ptr_eq(t->matrix_flow, declared(&fx, 0, 0));
        ck_assert_str_eq(t->evidence[0].key, "tls_version");
        ck_assert_str_eq(t->evidence[0].value, cases[i].expected);
        if (cases[i].offered_text != NULL) {
            ck_assert_uint_eq(t->evidence_count, 2);
            ck_assert_str_eq(t->evidence[1].key, "offered_max_version");
            ck_assert_str_eq(t->evidence[1].value, cases[i].offered_text);
        } else {
            ck_assert_uint_eq(t->evidence_count, 1);
        }
        fx_close(&fx);
    }
}
END_TEST

START_TEST(test_tls_obsolete_on_undeclared_flow)
{
    struct fx fx;
    struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.3.3", 443);
    set_tls(&f, true, TLS_VERSION_1_2, true, TLS_VERSION_1_0);
    run_one(&fx, M_CT_WS("", ""), &f);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->finding_count, 2);
    ck_assert_ptr_null(only(ct, FINDING_TLS_OBSOLETE_VERSION)->matrix_flow);
    ck_assert_uint_eq(count_code(ct, FINDING_FLOW_UNDECLARED), 1);
    fx_close(&fx);
}
END_TEST

START_TEST(test_encryption_below_declared)
{
    static const struct {
        const char *encryption;
        enum transport_security security;
        bool server_hello;
        uint16_t version;
        const char *observed; /* NULL: not raised */
        bool obsolete;        /* TLS_OBSOLETE_VERSION too */
    } cases[] = {
        {"tls1.2+", SECURITY_CLEARTEXT, false, 0, "none", false},
        {"tls1.2+", SECURITY_TLS, true, TLS_VERSION_1_1, "TLSv1.1", true},
        {"tls1.3", SECURITY_TLS, true, TLS_VERSION_1_2, "TLSv1.2", false},
        {"ssh", SECURITY_CLEARTEXT, false, 0, "none", false},
        {"tls1.3", SECURITY_TLS, true, TLS_VERSION_1_3, NULL, false},
        {"tls1.2+", SECURITY_TLS, true, TLS_VERSION_1_2, NULL, false},
        {"tls1.2+", SECURITY_TLS, true, TLS_VERSION_1_3, NULL, false},
        {"tls1.2+", SECURITY_UNKNOWN, false, 0, NULL, false},
        {"tls1.3", SECURITY_TLS, false, 0, NULL, false}, /* version unknown */
        {"none", SECURITY_CLEARTEXT, false, 0, NULL, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[1024];
        snprintf(text, sizeof(text),
                 HDR "'hosts':{'pacs':['10.10.2.5']},'devices':[{'name':'ct',"
                     "'addresses':['10.10.1.20'],'flows':[{'id':'E1','from':'device',"
                     "'to':'pacs','proto':'tcp','port':443,'encryption':'%s'}]}]}",
                 cases[i].encryption);
        struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.2.5", 443);
        f.facts.security = cases[i].security;
        f.facts.tls.server_hello_seen = cases[i].server_hello;
        f.facts.tls.version = cases[i].version;
        f.facts.tls.cipher_suite = 0xC02F; /* strong: only the version is under test */
        struct fx fx;
        run_one(&fx, text, &f);
        const struct audit_device *ct = dev(&fx, 0);
        size_t expected = (cases[i].observed != NULL) + cases[i].obsolete;
        ck_assert_msg(ct->finding_count == expected, "case %zu: %zu findings, expected %zu", i,
                      ct->finding_count, expected);
        ck_assert_uint_eq(count_code(ct, FINDING_TLS_OBSOLETE_VERSION), cases[i].obsolete);
        if (cases[i].observed != NULL) {
            const struct audit_finding *e = only(ct, FINDING_ENCRYPTION_BELOW_DECLARED);
            ck_assert_int_eq(e->severity, SEVERITY_HIGH);
            ck_assert_ptr_eq(e->matrix_flow, declared(&fx, 0, 0));
            ck_assert_uint_eq(e->evidence_count, 2);
            ck_assert_str_eq(e->evidence[0].key, "declared");
            ck_assert_str_eq(e->evidence[0].value, cases[i].encryption);
            ck_assert_str_eq(e->evidence[1].key, "observed");
            ck_assert_str_eq(e->evidence[1].value, cases[i].observed);
        }
        fx_close(&fx);
    }
}
END_TEST

START_TEST(test_flow_not_observed)
{
    struct fx fx;
    fx_open(&fx, HDR "'hosts':{'pacs':['10.10.2.5']},'devices':[{'name':'ct',"
                     "'addresses':['10.10.1.20'],'flows':["
                     "{'id':'N1','from':'device','to':'pacs','proto':'tcp','port':11112,"
                     "'app':'DICOM'},"
                     "{'id':'N2','from':'pacs','to':'device','proto':'udp',"
                     "'port':'80, 8000-8010'},"
                     "{'id':'N3','from':'device','to':'10.0.0.0/8','proto':'icmp'},"
                     "{'id':'N4','from':'any','to':'device','proto':'any',"
                     "'waiver':'seen yearly only'},"
                     "{'id':'N5','from':'device','to':'pacs','proto':'tcp','port':'104'}]}]}");
    struct flow seen = tcp_flow("10.10.1.20", 40000, "10.10.2.5", 104);
    audit_flow(fx.audit, &seen);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->finding_count, 4);
    ck_assert(ct->matrix_flow_seen[4]);
    static const struct {
        const char *id;
        const char *client;
        const char *server;
        uint8_t proto;
        uint16_t port;
        const char *app;
        const char *declared_proto;
        const char *declared_port;
        bool waived;
    } expected[] = {
        {"N1", "device", "pacs", IP_PROTO_TCP, 11112, "DICOM", "tcp", "11112", false},
        {"N2", "pacs", "device", IP_PROTO_UDP, 0, "", "udp", "80,8000-8010", false},
        {"N3", "device", "10.0.0.0/8", IP_PROTO_ICMP, 0, "", "icmp", "any", false},
        {"N4", "any", "device", 0, 0, "", "any", "any", true},
    };
    for (size_t i = 0; i < 4; i++) {
        const struct audit_finding *n = NULL;
        for (size_t j = 0; j < ct->finding_count; j++) {
            if (strcmp(flow_id(ct->findings[j].matrix_flow), expected[i].id) == 0)
                n = &ct->findings[j];
        }
        ck_assert_msg(n != NULL, "no finding for %s", expected[i].id);
        ck_assert_int_eq(n->code, FINDING_FLOW_NOT_OBSERVED);
        ck_assert_int_eq(n->severity, SEVERITY_INFO);
        ck_assert_str_eq(flow_id(n->matrix_flow), expected[i].id);
        ck_assert_str_eq(n->flow.client_text, expected[i].client);
        ck_assert_str_eq(n->flow.server_text, expected[i].server);
        ck_assert_uint_eq(n->flow.client.family, 0);
        ck_assert_uint_eq(n->flow.server.family, 0);
        ck_assert_uint_eq(n->flow.ip_proto, expected[i].proto);
        ck_assert_uint_eq(n->flow.port, expected[i].port);
        ck_assert_str_eq(n->flow.app, expected[i].app);
        ck_assert_uint_eq(n->flows, 0);
        ck_assert_uint_eq(n->packets, 0);
        ck_assert_uint_eq(n->bytes, 0);
        ck_assert_uint_eq(n->first_usec, 0);
        ck_assert_uint_eq(n->last_usec, 0);
        ck_assert(n->waived == expected[i].waived);
        ck_assert_uint_eq(n->evidence_count, 2);
        ck_assert_str_eq(ev(n, "declared_proto"), expected[i].declared_proto);
        ck_assert_str_eq(ev(n, "declared_port"), expected[i].declared_port);
    }
    /* Same severity and code: in the matrix's declaration order. */
    ck_assert_str_eq(flow_id(ct->findings[0].matrix_flow), "N1");
    ck_assert_str_eq(flow_id(ct->findings[1].matrix_flow), "N2");
    ck_assert_str_eq(flow_id(ct->findings[2].matrix_flow), "N3");
    ck_assert_str_eq(flow_id(ct->findings[3].matrix_flow), "N4");
    assert_counts(ct, 0, 0, 0, 0, 3, 1);
    ck_assert_str_eq(audit_device_verdict(ct), "conform");
    ck_assert(audit_has_open_at_or_above(fx.audit, SEVERITY_INFO));
    ck_assert(!audit_has_open_at_or_above(fx.audit, SEVERITY_LOW));
    fx_close(&fx);
}
END_TEST

/* ---- aggregation, order, rules, cap ------------------------------------ */

START_TEST(test_aggregation)
{
    struct fx fx;
    fx_open(&fx, M_CT_WS("", ""));
    struct flow a = tcp_flow("10.10.1.20", 40000, "10.10.3.3", 8080);
    a.first_usec = T0 + 5 * SEC;
    a.last_usec = T0 + 6 * SEC;
    struct flow b = tcp_flow("10.10.1.20", 40001, "10.10.3.3", 8080);
    b.first_usec = T0 + 3 * SEC;
    b.last_usec = T0 + 4 * SEC;
    b.packets[0] = 10;
    b.packets[1] = 1;
    b.bytes[0] = 1000;
    b.bytes[1] = 60;
    /* Another server port is another finding. */
    struct flow c = tcp_flow("10.10.1.20", 40002, "10.10.3.3", 8081);
    audit_flow(fx.audit, &a);
    audit_flow(fx.audit, &b);
    audit_flow(fx.audit, &c);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->finding_count, 2);
    const struct audit_finding *u = find_port(ct, FINDING_FLOW_UNDECLARED, 8080);
    ck_assert_ptr_nonnull(u);
    ck_assert_uint_eq(u->flows, 2);
    ck_assert_uint_eq(u->packets, 16);
    ck_assert_uint_eq(u->bytes, 1560);
    ck_assert_uint_eq(u->first_usec, T0 + 3 * SEC);
    ck_assert_uint_eq(u->last_usec, T0 + 6 * SEC);
    ck_assert_uint_eq(u->evidence_count, 1);
    ck_assert_uint_eq(find_port(ct, FINDING_FLOW_UNDECLARED, 8081)->flows, 1);
    ck_assert_uint_eq(ct->observed_count, 2);
    const struct audit_observed_flow *o = observed(ct, "10.10.3.3", 8080, "");
    ck_assert_uint_eq(o->flows, 2);
    ck_assert_uint_eq(o->packets, 16);
    ck_assert_uint_eq(o->bytes, 1560);
    ck_assert_uint_eq(o->first_usec, T0 + 3 * SEC);
    ck_assert_uint_eq(o->last_usec, T0 + 6 * SEC);
    assert_counts(ct, 0, 2, 0, 0, 0, 0);
    fx_close(&fx);
}
END_TEST

START_TEST(test_observed_split_by_app)
{
    struct fx fx;
    fx_open(&fx, M_CT_WS("", ""));
    struct flow a = tcp_flow("10.10.1.20", 40000, "10.10.3.3", 8080);
    set_app(&a, "HTTP");
    struct flow b = tcp_flow("10.10.1.20", 40001, "10.10.3.3", 8080);
    set_app(&b, "TLS");
    audit_flow(fx.audit, &a);
    audit_flow(fx.audit, &b);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    /* Findings are keyed without the application, observed flows with it. */
    ck_assert_uint_eq(ct->finding_count, 1);
    ck_assert_uint_eq(ct->findings[0].flows, 2);
    ck_assert_str_eq(ct->findings[0].flow.app, "HTTP");
    ck_assert_uint_eq(ct->observed_count, 2);
    ck_assert_str_eq(ct->observed[0].flow.app, "HTTP");
    ck_assert_str_eq(ct->observed[1].flow.app, "TLS");
    ck_assert_uint_eq(ct->observed[0].flows, 1);
    ck_assert_uint_eq(ct->observed[1].flows, 1);
    fx_close(&fx);
}
END_TEST

START_TEST(test_sort_order)
{
    struct fx fx;
    fx_open(&fx, HDR "'hosts':{'pacs':['10.10.2.5']},'devices':[{'name':'ct',"
                     "'addresses':['10.10.1.20'],'flows':["
                     "{'id':'S2','from':'device','to':'pacs','proto':'tcp','port':11112,"
                     "'app':'DICOM'},"
                     "{'id':'S1','from':'device','to':'pacs','proto':'udp','port':123}]}]}");
    /* Raised in the reverse of the expected order. */
    struct flow mismatch = tcp_flow("10.10.1.20", 40000, "10.10.2.5", 11112);
    set_app(&mismatch, "HTTP");
    struct flow u2 = tcp_flow("10.10.1.20", 40000, "10.10.9.2", 80);
    struct flow u1b = tcp_flow("10.10.1.20", 40000, "10.10.9.1", 443);
    struct flow u1a = tcp_flow("10.10.1.20", 40000, "10.10.9.1", 80);
    struct flow inbound = tcp_flow("198.51.100.7", 51000, "10.10.1.20", 22);
    const struct flow *flows[] = {&mismatch, &u2, &u1b, &u1a, &inbound};
    for (size_t i = 0; i < 5; i++)
        audit_flow(fx.audit, flows[i]);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    static const struct {
        enum finding_code code;
        enum severity severity;
        const char *server;
        uint16_t port;
    } expected[] = {
        {FINDING_FLOW_INBOUND_INTERNET, SEVERITY_CRITICAL, "10.10.1.20", 22},
        {FINDING_FLOW_UNDECLARED, SEVERITY_HIGH, "10.10.9.1", 80},
        {FINDING_FLOW_UNDECLARED, SEVERITY_HIGH, "10.10.9.1", 443},
        {FINDING_FLOW_UNDECLARED, SEVERITY_HIGH, "10.10.9.2", 80},
        {FINDING_FLOW_INTERNET_UNDECLARED, SEVERITY_HIGH, "10.10.1.20", 22},
        {FINDING_FLOW_APP_MISMATCH, SEVERITY_MEDIUM, "10.10.2.5", 11112},
        {FINDING_FLOW_NOT_OBSERVED, SEVERITY_INFO, "pacs", 123},
    };
    ck_assert_uint_eq(ct->finding_count, 7);
    for (size_t i = 0; i < 7; i++) {
        const struct audit_finding *f = &ct->findings[i];
        ck_assert_msg(f->code == expected[i].code, "finding %zu is %s", i,
                      finding_code_name(f->code));
        ck_assert_int_eq(f->severity, expected[i].severity);
        ck_assert_str_eq(f->flow.server_text, expected[i].server);
        ck_assert_uint_eq(f->flow.port, expected[i].port);
    }
    assert_counts(ct, 1, 4, 1, 0, 1, 0);
    /* Observed flows: by client, then server, protocol, port. */
    ck_assert_uint_eq(ct->observed_count, 5);
    ck_assert_str_eq(ct->observed[0].flow.client_text, "10.10.1.20");
    ck_assert_str_eq(ct->observed[0].flow.server_text, "10.10.2.5");
    ck_assert_str_eq(ct->observed[1].flow.server_text, "10.10.9.1");
    ck_assert_uint_eq(ct->observed[1].flow.port, 80);
    ck_assert_uint_eq(ct->observed[2].flow.port, 443);
    ck_assert_str_eq(ct->observed[3].flow.server_text, "10.10.9.2");
    ck_assert_str_eq(ct->observed[4].flow.client_text, "198.51.100.7");
    fx_close(&fx);
}
END_TEST

START_TEST(test_rule_disabled)
{
    struct rules rules;
    load_rules_with(&rules, "FLOW_UNDECLARED", NULL, 0);
    ck_assert(!rules.by_code[FINDING_FLOW_UNDECLARED].enabled);
    struct fx fx;
    fx_open_with(&fx, M_PACS, &rules, AUDIT_DEFAULT_MAX_ENTRIES);
    struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.3.3", 8080);
    audit_flow(fx.audit, &f);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    /* Only F01's FLOW_NOT_OBSERVED; the flow is still shown as observed. */
    ck_assert_uint_eq(ct->finding_count, 1);
    ck_assert_int_eq(ct->findings[0].code, FINDING_FLOW_NOT_OBSERVED);
    ck_assert_uint_eq(ct->observed_count, 1);
    ck_assert_str_eq(audit_device_verdict(ct), "conform");
    fx_close(&fx);

    load_rules_with(&rules, "FLOW_NOT_OBSERVED", NULL, 0);
    fx_open_with(&fx, M_PACS, &rules, AUDIT_DEFAULT_MAX_ENTRIES);
    audit_finish(fx.audit);
    ck_assert_uint_eq(dev(&fx, 0)->finding_count, 0);
    fx_close(&fx);
}
END_TEST

START_TEST(test_custom_severity)
{
    struct rules rules;
    load_rules_with(&rules, "FLOW_UNDECLARED", "low", -1);
    struct fx fx;
    fx_open_with(&fx, M_CT_WS("", ""), &rules, AUDIT_DEFAULT_MAX_ENTRIES);
    struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.3.3", 8080);
    audit_flow(fx.audit, &f);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_int_eq(only(ct, FINDING_FLOW_UNDECLARED)->severity, SEVERITY_LOW);
    assert_counts(ct, 0, 0, 0, 1, 0, 0);
    ck_assert_str_eq(audit_device_verdict(ct), "deviations");
    ck_assert(!audit_has_open_at_or_above(fx.audit, SEVERITY_HIGH));
    ck_assert(!audit_has_open_at_or_above(fx.audit, SEVERITY_MEDIUM));
    ck_assert(audit_has_open_at_or_above(fx.audit, SEVERITY_LOW));
    fx_close(&fx);

    /* An info finding does not make a deviation. */
    load_rules_with(&rules, "FLOW_UNDECLARED", "info", -1);
    fx_open_with(&fx, M_CT_WS("", ""), &rules, AUDIT_DEFAULT_MAX_ENTRIES);
    audit_flow(fx.audit, &f);
    audit_finish(fx.audit);
    assert_counts(dev(&fx, 0), 0, 0, 0, 0, 1, 0);
    ck_assert_str_eq(audit_device_verdict(dev(&fx, 0)), "conform");
    ck_assert(!audit_has_open_at_or_above(fx.audit, SEVERITY_LOW));
    ck_assert(audit_has_open_at_or_above(fx.audit, SEVERITY_INFO));
    fx_close(&fx);
}
END_TEST

START_TEST(test_cap_counts_dropped)
{
    struct fx fx;
    fx_open_with(&fx, M_CT_WS("", ""), NULL, 3);
    struct flow flows[5];
    for (size_t i = 0; i < 5; i++) {
        char server[32];
        snprintf(server, sizeof(server), "10.10.3.%zu", i + 1);
        flows[i] = tcp_flow("10.10.1.20", 40000, server, 80);
        audit_flow(fx.audit, &flows[i]);
    }
    /* Existing entries keep aggregating past the cap. */
    audit_flow(fx.audit, &flows[0]);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    /* flow 1: observed + finding; flow 2: observed, finding dropped;
     * flows 3-5: both dropped. */
    ck_assert_uint_eq(ct->observed_count, 2);
    ck_assert_uint_eq(ct->finding_count, 1);
    ck_assert_uint_eq(ct->findings[0].flows, 2);
    ck_assert_uint_eq(observed(ct, "10.10.3.1", 80, "")->flows, 2);
    ck_assert_uint_eq(observed(ct, "10.10.3.2", 80, "")->flows, 1);
    struct audit_stats stats;
    audit_get_stats(fx.audit, &stats);
    ck_assert_uint_eq(stats.dropped, 7);
    ck_assert_uint_eq(stats.flows_audited, 6);
    fx_close(&fx);
}
END_TEST

START_TEST(test_cap_zero)
{
    struct fx fx;
    fx_open_with(&fx, M_PACS, NULL, 0);
    struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.3.3", 80);
    audit_flow(fx.audit, &f);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->observed_count, 0);
    ck_assert_uint_eq(ct->finding_count, 0);
    struct audit_stats stats;
    audit_get_stats(fx.audit, &stats);
    /* observed, FLOW_UNDECLARED, FLOW_NOT_OBSERVED of F01 */
    ck_assert_uint_eq(stats.dropped, 3);
    fx_close(&fx);
}
END_TEST

START_TEST(test_finish_twice)
{
    struct fx fx;
    fx_open(&fx, M_PACS);
    struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.3.3", 80);
    audit_flow(fx.audit, &f);
    audit_finish(fx.audit);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(ct->finding_count, 2);
    ck_assert_uint_eq(count_code(ct, FINDING_FLOW_NOT_OBSERVED), 1);
    assert_counts(ct, 0, 1, 0, 0, 1, 0);
    ck_assert_int_eq(ct->findings[0].code, FINDING_FLOW_UNDECLARED);
    fx_close(&fx);
}
END_TEST

START_TEST(test_empty_audit)
{
    struct fx fx;
    fx_open(&fx, M_CT_WS("", ""));
    audit_finish(fx.audit);
    ck_assert_uint_eq(audit_device_count(fx.audit), 2);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_uint_eq(dev(&fx, i)->finding_count, 0);
        ck_assert_uint_eq(dev(&fx, i)->observed_count, 0);
        ck_assert_str_eq(audit_device_verdict(dev(&fx, i)), "conform");
    }
    ck_assert_ptr_null(audit_get_device(fx.audit, 2));
    ck_assert_ptr_null(audit_get_device(fx.audit, (size_t)-1));
    struct audit_stats stats;
    memset(&stats, 0xff, sizeof(stats));
    audit_get_stats(fx.audit, &stats);
    ck_assert_uint_eq(stats.flows_audited, 0);
    ck_assert_uint_eq(stats.flows_unattributed, 0);
    ck_assert_uint_eq(stats.dropped, 0);
    fx_close(&fx);
    audit_destroy(NULL);
}
END_TEST


/* ---- crypto and authentication facts (issue 3) --------------------------- */

#define M_TLS                                                                                     \
    HDR "'hosts':{'web':['10.10.2.7']},'devices':[{'name':'ct','addresses':['10.10.1.20'],"       \
        "'flows':[{'id':'T1','from':'device','to':'web','proto':'tcp','port':443,"                \
        "'app':'TLS','encryption':'tls1.2+'}]}]}"

static struct flow tls_flow(uint16_t version, uint16_t cipher)
{
    struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.2.7", 443);
    set_app(&f, "TLS");
    set_tls(&f, true, version, true, version);
    f.facts.tls.cipher_suite = cipher;
    return f;
}

START_TEST(test_weak_cipher)
{
    static const struct {
        uint16_t cipher;
        bool raised;
        const char *variant; /* NULL: the rule itself */
        enum severity severity;
        const char *name;
    } cases[] = {
        {0x000A, true, NULL, SEVERITY_HIGH, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
        {0x0005, true, NULL, SEVERITY_HIGH, "TLS_RSA_WITH_RC4_128_SHA"},
        {0x0002, true, NULL, SEVERITY_HIGH, "TLS_RSA_WITH_NULL_SHA"},
        {0x006C, true, NULL, SEVERITY_HIGH, "TLS_DH_anon_WITH_AES_128_CBC_SHA256"},
        {0x0003, true, NULL, SEVERITY_HIGH, "TLS_RSA_EXPORT_WITH_RC4_40_MD5"},
        {0xC014, true, "legacy", SEVERITY_LOW, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
        {0x009C, true, "legacy", SEVERITY_LOW, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
        {0xC02F, false, NULL, SEVERITY_INFO, NULL},
        {0x1301, false, NULL, SEVERITY_INFO, NULL},
        {0xFAFA, false, NULL, SEVERITY_INFO, NULL}, /* not in the table: nothing to judge */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct flow f = tls_flow(TLS_VERSION_1_2, cases[i].cipher);
        struct fx fx;
        run_one(&fx, M_TLS, &f);
        const struct audit_device *ct = dev(&fx, 0);
        ck_assert_msg(count_code(ct, FINDING_TLS_WEAK_CIPHER) == (cases[i].raised ? 1u : 0u),
                      "case %zu (0x%04x)", i, cases[i].cipher);
        if (cases[i].raised) {
            const struct audit_finding *weak = only(ct, FINDING_TLS_WEAK_CIPHER);
            ck_assert_int_eq(weak->severity, cases[i].severity);
            if (cases[i].variant == NULL)
                ck_assert_ptr_null(weak->variant);
            else
                ck_assert_str_eq(weak->variant->name, cases[i].variant);
            ck_assert_str_eq(ev(weak, "cipher"), cases[i].name);
            ck_assert_str_eq(ev(weak, "tls_version"), "TLSv1.2");
            ck_assert_str_eq(flow_id(weak->matrix_flow), "T1");
        }
        fx_close(&fx);
    }
}
END_TEST

START_TEST(test_weak_cipher_needs_server_hello)
{
    struct flow f = tls_flow(TLS_VERSION_1_2, 0x0005);
    f.facts.tls.server_hello_seen = false;
    struct fx fx;
    run_one(&fx, M_TLS, &f);
    ck_assert_uint_eq(count_code(dev(&fx, 0), FINDING_TLS_WEAK_CIPHER), 0);
    fx_close(&fx);
}
END_TEST

static void set_certificate(struct flow *f, const char *key_type, uint16_t bits, bool weak_hash,
                            bool self_signed, int64_t not_before, int64_t not_after)
{
    struct certificate_facts *cert = &f->facts.tls.certificate;
    cert->seen = cert->parsed = true;
    snprintf(cert->key_type, sizeof(cert->key_type), "%s", key_type);
    cert->key_bits = bits;
    snprintf(cert->signature, sizeof(cert->signature), "%s", weak_hash ? "RSA-SHA1" : "RSA-SHA256");
    cert->weak_signature_hash = weak_hash;
    cert->self_signed = self_signed;
    cert->not_before = not_before;
    cert->not_after = not_after;
    snprintf(cert->subject_cn, sizeof(cert->subject_cn), "pump.example.test");
    snprintf(cert->issuer_cn, sizeof(cert->issuer_cn), "Test CA");
    cert->chain_length = 1;
}

START_TEST(test_weak_certificate_variants)
{
    const int64_t now = (int64_t)(T0 / SEC);
    struct flow f = tls_flow(TLS_VERSION_1_2, 0xC02F);
    set_certificate(&f, "RSA", 1024, true, true, now - 86400 * 400, now - 86400);
    struct fx fx;
    run_one(&fx, M_TLS, &f);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(count_code(ct, FINDING_TLS_WEAK_CERTIFICATE), 4);
    const char *expected[] = {"short-key", "weak-signature", "expired", "self-signed"};
    const enum severity severities[] = {SEVERITY_HIGH, SEVERITY_MEDIUM, SEVERITY_MEDIUM,
                                        SEVERITY_MEDIUM};
    for (size_t v = 0; v < 4; v++) {
        const struct audit_finding *found = NULL;
        for (size_t i = 0; i < ct->finding_count; i++) {
            const struct audit_finding *x = &ct->findings[i];
            if (x->code == FINDING_TLS_WEAK_CERTIFICATE && x->variant != NULL &&
                strcmp(x->variant->name, expected[v]) == 0)
                found = x;
        }
        ck_assert_msg(found != NULL, "no %s finding", expected[v]);
        ck_assert_int_eq(found->severity, severities[v]);
        ck_assert_str_eq(ev(found, "key"), "RSA-1024");
        ck_assert_str_eq(ev(found, "signature"), "RSA-SHA1");
        ck_assert_str_eq(ev(found, "subject_cn"), "pump.example.test");
        ck_assert_str_eq(ev(found, "issuer_cn"), "Test CA");
        ck_assert_str_eq(ev(found, "not_after"), "2023-11-13");
    }
    fx_close(&fx);
}
END_TEST

START_TEST(test_sound_certificate)
{
    const int64_t now = (int64_t)(T0 / SEC);
    struct flow f = tls_flow(TLS_VERSION_1_2, 0xC02F);
    set_certificate(&f, "RSA", 2048, false, false, now - 86400, now + 86400 * 300);
    struct fx fx;
    run_one(&fx, M_TLS, &f);
    ck_assert_uint_eq(count_code(dev(&fx, 0), FINDING_TLS_WEAK_CERTIFICATE), 0);
    fx_close(&fx);
    /* An EC key is not judged by RSA's 2048-bit bar; "not yet valid" is its own case. */
    set_certificate(&f, "EC", 256, false, false, now + 86400, now + 86400 * 300);
    run_one(&fx, M_TLS, &f);
    const struct audit_finding *early = only(dev(&fx, 0), FINDING_TLS_WEAK_CERTIFICATE);
    ck_assert_str_eq(early->variant->name, "not-yet-valid");
    ck_assert_int_eq(early->severity, SEVERITY_LOW);
    fx_close(&fx);
}
END_TEST

static void add_credential(struct flow *f, const char *protocol, const char *method,
                           enum credential_kind kind, const char *masked, int8_t accepted,
                           bool is_default)
{
    struct credential_fact *item = &f->facts.credentials.items[f->facts.credentials.count++];
    snprintf(item->protocol, sizeof(item->protocol), "%s", protocol);
    snprintf(item->method, sizeof(item->method), "%s", method);
    item->kind = kind;
    snprintf(item->masked_user, sizeof(item->masked_user), "%s", masked);
    item->accepted = accepted;
    item->default_credential = is_default;
    item->count = 1;
}

#define M_FTP                                                                                     \
    HDR "'hosts':{'srv':['10.10.2.7']},'devices':[{'name':'ct','addresses':['10.10.1.20'],"       \
        "'flows':[{'id':'P1','from':'device','to':'srv','proto':'tcp','port':21,'app':'FTP'}]}]}"

START_TEST(test_cleartext_and_default_credentials)
{
    struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.2.7", 21);
    set_app(&f, "FTP");
    f.facts.security = SECURITY_CLEARTEXT;
    add_credential(&f, "FTP", "USER/PASS", CREDENTIAL_PASSWORD, "ad***", 1, true);
    add_credential(&f, "FTP", "USER/PASS", CREDENTIAL_PASSWORD, "bi***", 0, false);
    struct fx fx;
    run_one(&fx, M_FTP, &f);
    const struct audit_device *ct = dev(&fx, 0);
    const struct audit_finding *clear = only(ct, FINDING_CLEARTEXT_CREDENTIALS);
    ck_assert_ptr_null(clear->variant);
    ck_assert_int_eq(clear->severity, SEVERITY_HIGH);
    ck_assert_uint_eq(clear->flows, 1); /* one connection, however many logins */
    ck_assert_str_eq(ev(clear, "protocol"), "FTP");
    ck_assert_str_eq(ev(clear, "method"), "USER/PASS");
    ck_assert_str_eq(ev(clear, "user"), "ad***");
    ck_assert_str_eq(ev(clear, "accepted"), "yes");
    const struct audit_finding *def = only(ct, FINDING_DEFAULT_CREDENTIALS);
    ck_assert_int_eq(def->severity, SEVERITY_CRITICAL);
    ck_assert_str_eq(ev(def, "user"), "ad***");
    ck_assert_str_eq(flow_id(def->matrix_flow), "P1");
    ck_assert_str_eq(audit_device_verdict(ct), "deviations");
    fx_close(&fx);
}
END_TEST

START_TEST(test_credential_kinds)
{
    struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.2.7", 21);
    add_credential(&f, "HTTP", "Digest", CREDENTIAL_CHALLENGE, "bi***", -1, false);
    add_credential(&f, "HTTP", "Bearer", CREDENTIAL_TOKEN, "", -1, false);
    add_credential(&f, "SNMP", "community", CREDENTIAL_COMMUNITY, "", -1, false);
    struct fx fx;
    run_one(&fx, M_FTP, &f);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(count_code(ct, FINDING_CLEARTEXT_CREDENTIALS), 3);
    ck_assert_uint_eq(count_code(ct, FINDING_DEFAULT_CREDENTIALS), 0);
    size_t seen = 0;
    for (size_t i = 0; i < ct->finding_count; i++) {
        const struct audit_finding *x = &ct->findings[i];
        if (x->code != FINDING_CLEARTEXT_CREDENTIALS)
            continue;
        ck_assert_ptr_nonnull(x->variant);
        if (strcmp(x->variant->name, "challenge") == 0) {
            ck_assert_int_eq(x->severity, SEVERITY_MEDIUM);
            ck_assert_str_eq(ev(x, "method"), "Digest");
            ck_assert_str_eq(ev(x, "accepted"), "unknown");
            seen |= 1;
        } else if (strcmp(x->variant->name, "token") == 0) {
            ck_assert_str_eq(ev(x, "user"), "(absent)");
            seen |= 2;
        } else if (strcmp(x->variant->name, "community") == 0) {
            ck_assert_int_eq(x->severity, SEVERITY_HIGH);
            seen |= 4;
        }
    }
    ck_assert_uint_eq(seen, 7);
    fx_close(&fx);
}
END_TEST

/* nDPI's cleartext-credential risk counts only when the project's own
 * inspector saw nothing; unmapped risks (noise) raise nothing. */
START_TEST(test_ndpi_risks)
{
    struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.2.7", 21);
    f.facts.ndpi_risks = (UINT64_C(1) << 36) /* clear-text credentials */ |
                         (UINT64_C(1) << 20) /* SMB insecure version */ |
                         (UINT64_C(1) << 5) /* known protocol on non-standard port */ |
                         (UINT64_C(1) << 24) /* missing SNI */;
    struct fx fx;
    run_one(&fx, M_FTP, &f);
    const struct audit_device *ct = dev(&fx, 0);
    const struct audit_finding *clear = only(ct, FINDING_CLEARTEXT_CREDENTIALS);
    ck_assert_str_eq(ev(clear, "ndpi_risk"), "NDPI_CLEAR_TEXT_CREDENTIALS");
    const struct audit_finding *smb = only(ct, FINDING_INSECURE_PROTOCOL);
    ck_assert_int_eq(smb->severity, SEVERITY_HIGH);
    ck_assert_str_eq(ev(smb, "ndpi_risk"), "NDPI_SMB_INSECURE_VERSION");
    fx_close(&fx);

    add_credential(&f, "FTP", "USER/PASS", CREDENTIAL_PASSWORD, "ad***", 1, false);
    run_one(&fx, M_FTP, &f);
    clear = only(dev(&fx, 0), FINDING_CLEARTEXT_CREDENTIALS);
    ck_assert_str_eq(ev(clear, "ndpi_risk"), "(absent)");
    ck_assert_str_eq(ev(clear, "method"), "USER/PASS");
    fx_close(&fx);
}
END_TEST

#define M_RDP(app)                                                                                \
    HDR "'hosts':{'ws':['10.10.3.3']},'devices':[{'name':'ct','addresses':['10.10.1.20'],"        \
        "'flows':[{'id':'R1','from':'ws','to':'device','proto':'tcp','port':3389" app "}]}]}"

START_TEST(test_remote_access_tool)
{
    struct flow f = tcp_flow("10.10.3.3", 50000, "10.10.1.20", 3389);
    set_app(&f, "RDP");
    struct fx fx;
    run_one(&fx, M_RDP(""), &f);
    const struct audit_finding *tool = only(dev(&fx, 0), FINDING_REMOTE_ACCESS_TOOL);
    ck_assert_str_eq(ev(tool, "tool"), "RDP");
    ck_assert_str_eq(ev(tool, "initiator"), "peer");
    ck_assert_str_eq(flow_id(tool->matrix_flow), "R1");
    fx_close(&fx);
    /* Declared as that very tool: the hospital's own remote access. */
    run_one(&fx, M_RDP(",'app':'RDP'"), &f);
    ck_assert_uint_eq(count_code(dev(&fx, 0), FINDING_REMOTE_ACCESS_TOOL), 0);
    fx_close(&fx);
    /* nDPI's service name counts too (TeamViewer over TLS, say). */
    struct flow tv = tcp_flow("10.10.1.20", 40000, "203.0.113.9", 5938);
    set_app(&tv, "TLS");
    snprintf(tv.facts.service, sizeof(tv.facts.service), "TeamViewer");
    run_one(&fx, M_RDP(""), &tv);
    tool = only(dev(&fx, 0), FINDING_REMOTE_ACCESS_TOOL);
    ck_assert_str_eq(ev(tool, "tool"), "TeamViewer");
    ck_assert_str_eq(ev(tool, "initiator"), "device");
    fx_close(&fx);
    /* SSH is remote access in nDPI's categories, but not a remote-control tool. */
    struct flow ssh = tcp_flow("10.10.3.3", 50000, "10.10.1.20", 22);
    set_app(&ssh, "SSH");
    run_one(&fx, M_RDP(""), &ssh);
    ck_assert_uint_eq(count_code(dev(&fx, 0), FINDING_REMOTE_ACCESS_TOOL), 0);
    fx_close(&fx);
}
END_TEST

START_TEST(test_dtls_versions)
{
    struct flow f = make_flow("10.10.1.20", 40000, "10.10.2.7", 4433, IP_PROTO_UDP);
    f.facts.security = SECURITY_DTLS;
    f.facts.tls.is_dtls = true;
    f.facts.tls.server_hello_seen = true;
    f.facts.tls.version = 0xfeff; /* DTLS 1.0 */
    f.facts.tls.cipher_suite = 0xC02F;
    const char *matrix = HDR "'hosts':{'web':['10.10.2.7']},'devices':[{'name':'ct',"
                             "'addresses':['10.10.1.20'],'flows':[{'id':'D1','from':'device',"
                             "'to':'web','proto':'udp','port':4433,'encryption':'dtls1.2+'}]}]}";
    struct fx fx;
    run_one(&fx, matrix, &f);
    ck_assert_uint_eq(count_code(dev(&fx, 0), FINDING_TLS_OBSOLETE_VERSION), 1);
    ck_assert_uint_eq(count_code(dev(&fx, 0), FINDING_ENCRYPTION_BELOW_DECLARED), 1);
    fx_close(&fx);
    f.facts.tls.version = 0xfefd; /* DTLS 1.2 */
    run_one(&fx, matrix, &f);
    ck_assert_uint_eq(count_code(dev(&fx, 0), FINDING_TLS_OBSOLETE_VERSION), 0);
    ck_assert_uint_eq(count_code(dev(&fx, 0), FINDING_ENCRYPTION_BELOW_DECLARED), 0);
    fx_close(&fx);
}
END_TEST

#define M_SERVICE                                                                                 \
    HDR "'hosts':{'ws':['10.10.3.3'],'nms':['10.10.3.4']},'devices':[{'name':'ct',"              \
        "'addresses':['10.10.1.20'],'flows':[{'id':'S1','from':'ws','to':'device',"               \
        "'proto':'tcp','port':443}]}]}"

/* The device answering on a port no declared flow names is an undeclared
 * service, aggregated per service whoever the clients; a declared port
 * used by another peer is an undeclared flow; an unanswered attempt too. */
START_TEST(test_service_undeclared)
{
    struct fx fx;
    fx_open(&fx, M_SERVICE);
    struct flow web1 = tcp_flow("10.10.3.3", 50000, "10.10.1.20", 8080);
    struct flow web2 = tcp_flow("10.10.3.4", 50001, "10.10.1.20", 8080);
    struct flow other_peer = tcp_flow("10.10.3.4", 50002, "10.10.1.20", 443);
    struct flow refused = tcp_flow("10.10.3.3", 50003, "10.10.1.20", 23);
    web1.tcp_flags[FLOW_TO_CLIENT] = web2.tcp_flags[FLOW_TO_CLIENT] = TCP_SYN | TCP_ACK;
    other_peer.tcp_flags[FLOW_TO_CLIENT] = TCP_SYN | TCP_ACK;
    refused.tcp_flags[FLOW_TO_CLIENT] = TCP_RST | TCP_ACK;
    struct flow snmp = make_flow("10.10.3.4", 40000, "10.10.1.20", 161, IP_PROTO_UDP);
    audit_flow(fx.audit, &web1);
    audit_flow(fx.audit, &web2);
    audit_flow(fx.audit, &other_peer);
    audit_flow(fx.audit, &refused);
    audit_flow(fx.audit, &snmp);
    audit_finish(fx.audit);
    const struct audit_device *ct = dev(&fx, 0);
    ck_assert_uint_eq(count_code(ct, FINDING_SERVICE_UNDECLARED), 2);
    const struct audit_finding *web = find_port(ct, FINDING_SERVICE_UNDECLARED, 8080);
    ck_assert_uint_eq(web->flows, 2);
    ck_assert_str_eq(web->flow.client_text, "any");
    ck_assert_str_eq(ev(web, "service"), "tcp/8080");
    ck_assert_str_eq(ev(web, "first_client"), "10.10.3.3");
    ck_assert_ptr_nonnull(find_port(ct, FINDING_SERVICE_UNDECLARED, 161));
    ck_assert_uint_eq(count_code(ct, FINDING_FLOW_UNDECLARED), 2);
    ck_assert_ptr_nonnull(find_port(ct, FINDING_FLOW_UNDECLARED, 443));
    ck_assert_ptr_nonnull(find_port(ct, FINDING_FLOW_UNDECLARED, 23));
    fx_close(&fx);
}
END_TEST

/* A DNS-name peer matches the addresses DNS answers gave that name, even
 * without SNI or Host (a plain TCP service). */
START_TEST(test_dns_peer_by_resolved_name)
{
    const char *matrix = HDR "'devices':[{'name':'ct','addresses':['10.10.1.20'],"
                             "'flows':[{'id':'N1','from':'device','to':'pacs.hopital.example',"
                             "'proto':'tcp','port':11112}]}]}";
    struct flow f = tcp_flow("10.10.1.20", 40000, "10.10.2.5", 11112);
    snprintf(f.facts.resolved_names[1], FACT_HOST_MAX, "pacs.hopital.example");
    struct fx fx;
    run_one(&fx, matrix, &f);
    ck_assert_uint_eq(count_code(dev(&fx, 0), FINDING_FLOW_UNDECLARED), 0);
    ck_assert(dev(&fx, 0)->matrix_flow_seen[0]);
    fx_close(&fx);
    struct flow other = tcp_flow("10.10.1.20", 40000, "10.10.2.6", 11112);
    snprintf(other.facts.resolved_names[0], FACT_HOST_MAX, "evil.example");
    run_one(&fx, matrix, &other);
    ck_assert_uint_eq(count_code(dev(&fx, 0), FINDING_FLOW_UNDECLARED), 1);
    fx_close(&fx);
}
END_TEST

/* A maintenance flow outside its window, read in the matrix's time zone:
 * T0 is Tuesday 2023-11-14 22:13:20 UTC, 23:13 in Paris. */
START_TEST(test_outside_window)
{
    const char *matrix = "{'format':'fluxaudit-matrix/1','timezone':'Europe/Paris',"
                         "'hosts':{'vendor':['198.51.100.0/24']},'devices':[{'name':'ct',"
                         "'addresses':['10.10.1.20'],'flows':[{'id':'M1','from':'vendor',"
                         "'to':'device','proto':'tcp','port':22,'internet':true,"
                         "'window':'Mon-Fri 08:00-18:00'}]}]}";
    struct flow late = tcp_flow("198.51.100.7", 50000, "10.10.1.20", 22);
    struct fx fx;
    run_one(&fx, matrix, &late);
    const struct audit_finding *outside = only(dev(&fx, 0), FINDING_FLOW_OUTSIDE_WINDOW);
    ck_assert_str_eq(flow_id(outside->matrix_flow), "M1");
    ck_assert_str_eq(ev(outside, "window"), "Mon-Fri 08:00-18:00");
    ck_assert_str_eq(ev(outside, "timezone"), "Europe/Paris");
    ck_assert_int_eq(outside->severity, SEVERITY_HIGH);
    fx_close(&fx);
    struct flow office = late;
    office.first_usec = 1699956000ull * SEC; /* 2023-11-14 10:00 UTC, 11:00 in Paris */
    office.last_usec = office.first_usec + 5 * SEC;
    run_one(&fx, matrix, &office);
    ck_assert_uint_eq(count_code(dev(&fx, 0), FINDING_FLOW_OUTSIDE_WINDOW), 0);
    fx_close(&fx);
}
END_TEST

/* Export every result of one audit, import it twice into another (two
 * sessions of one campaign): counts double, identities and evidence stay. */
START_TEST(test_export_import_round_trip)
{
    struct fx a;
    fx_open(&a, M_TLS);
    struct flow weak = tls_flow(TLS_VERSION_1_0, 0x000A);
    weak.packets[0] = 7;
    weak.bytes[0] = 700;
    audit_flow(a.audit, &weak);
    struct flow stray = tcp_flow("10.10.1.20", 40001, "10.10.9.9", 8080);
    audit_flow(a.audit, &stray);
    audit_finish(a.audit);
    const struct audit_device *src = dev(&a, 0);

    struct fx b;
    fx_open(&b, M_TLS);
    for (int session = 0; session < 2; session++) {
        for (size_t i = 0; i < src->finding_count; i++) {
            struct audit_record record;
            audit_export_finding(src, i, &record);
            ck_assert(audit_import(b.audit, &record));
        }
        for (size_t i = 0; i < src->observed_count; i++) {
            struct audit_record record;
            audit_export_observed(src, i, &record);
            ck_assert(audit_import(b.audit, &record));
        }
    }
    audit_finish(b.audit);
    const struct audit_device *dst = dev(&b, 0);
    ck_assert_uint_eq(dst->finding_count, src->finding_count);
    ck_assert_uint_eq(dst->observed_count, src->observed_count);
    for (size_t i = 0; i < src->finding_count; i++) {
        const struct audit_finding *x = &src->findings[i], *y = &dst->findings[i];
        ck_assert_int_eq(x->code, y->code);
        ck_assert_int_eq(x->severity, y->severity);
        ck_assert_ptr_eq(x->variant == NULL ? NULL : "v", y->variant == NULL ? NULL : "v");
        ck_assert_str_eq(flow_id(x->matrix_flow), flow_id(y->matrix_flow));
        ck_assert_str_eq(x->flow.server_text, y->flow.server_text);
        ck_assert_uint_eq(y->flows, x->code == FINDING_FLOW_NOT_OBSERVED ? 0 : 2 * x->flows);
        ck_assert_uint_eq(y->packets, 2 * x->packets);
        ck_assert_uint_eq(y->evidence_count, x->evidence_count);
        for (size_t e = 0; e < x->evidence_count; e++)
            ck_assert_str_eq(x->evidence[e].value, y->evidence[e].value);
    }
    ck_assert(dst->matrix_flow_seen[0]);
    struct audit_stats stats;
    audit_get_stats(b.audit, &stats);
    ck_assert_uint_eq(stats.dropped, 0);
    fx_close(&a);
    fx_close(&b);
}
END_TEST

START_TEST(test_import_unknown_names)
{
    struct fx fx;
    fx_open(&fx, M_TLS);
    struct audit_record record = {.device = "gone", .is_finding = true,
                                  .code = FINDING_FLOW_UNDECLARED, .flows = 1};
    ck_assert(!audit_import(fx.audit, &record));
    record.device = "ct";
    record.matrix_flow = "T9"; /* no longer declared */
    ck_assert(!audit_import(fx.audit, &record));
    record.matrix_flow = NULL;
    record.code = FINDING_TLS_WEAK_CIPHER;
    record.variant = "no-such-variant";
    ck_assert(!audit_import(fx.audit, &record));
    struct audit_stats stats;
    audit_get_stats(fx.audit, &stats);
    ck_assert_uint_eq(stats.dropped, 3);
    fx_close(&fx);
}
END_TEST

static Suite *audit_suite(void)
{
    Suite *s = suite_create("audit");
    TCase *attribution = tcase_create("attribution");
    tcase_add_test(attribution, test_attribution_by_ip);
    tcase_add_test(attribution, test_attribution_by_cidr);
    tcase_add_test(attribution, test_attribution_by_mac_only);
    tcase_add_test(attribution, test_flow_between_devices_audited_for_both);
    tcase_add_test(attribution, test_flow_between_devices_declared_by_both);
    tcase_add_test(attribution, test_unattributed);
    suite_add_tcase(s, attribution);
    TCase *matching = tcase_create("matching");
    tcase_add_test(matching, test_proto_icmp_covers_icmpv6);
    tcase_add_test(matching, test_proto_any_and_any_peer);
    tcase_add_test(matching, test_ports_single_range_list_any);
    tcase_add_test(matching, test_peer_host_by_address_and_cidr);
    tcase_add_test(matching, test_peer_host_by_dns_name);
    tcase_add_test(matching, test_peer_dns_name_and_wildcard);
    tcase_add_test(matching, test_peer_internet_and_internal_list);
    tcase_add_test(matching, test_direction_matters);
    tcase_add_test(matching, test_first_match_whose_app_agrees);
    suite_add_tcase(s, matching);
    TCase *findings = tcase_create("findings");
    tcase_add_test(findings, test_flow_undeclared_exact);
    tcase_add_test(findings, test_internet_undeclared_public_peer);
    tcase_add_test(findings, test_internet_undeclared_declared_without_internet);
    tcase_add_test(findings, test_inbound_internet_declared);
    tcase_add_test(findings, test_inbound_internet_undeclared);
    tcase_add_test(findings, test_inbound_internet_waived);
    tcase_add_test(findings, test_app_mismatch_raised);
    tcase_add_test(findings, test_app_mismatch_not_raised);
    tcase_add_test(findings, test_tls_obsolete_version);
    tcase_add_test(findings, test_tls_obsolete_on_undeclared_flow);
    tcase_add_test(findings, test_encryption_below_declared);
    tcase_add_test(findings, test_flow_not_observed);
    suite_add_tcase(s, findings);
    TCase *results = tcase_create("results");
    tcase_add_test(results, test_aggregation);
    tcase_add_test(results, test_observed_split_by_app);
    tcase_add_test(results, test_sort_order);
    tcase_add_test(results, test_rule_disabled);
    tcase_add_test(results, test_custom_severity);
    tcase_add_test(results, test_cap_counts_dropped);
    tcase_add_test(results, test_cap_zero);
    tcase_add_test(results, test_finish_twice);
    tcase_add_test(results, test_empty_audit);
    suite_add_tcase(s, results);
    TCase *crypto = tcase_create("crypto");
    tcase_add_test(crypto, test_weak_cipher);
    tcase_add_test(crypto, test_weak_cipher_needs_server_hello);
    tcase_add_test(crypto, test_weak_certificate_variants);
    tcase_add_test(crypto, test_sound_certificate);
    tcase_add_test(crypto, test_cleartext_and_default_credentials);
    tcase_add_test(crypto, test_credential_kinds);
    tcase_add_test(crypto, test_ndpi_risks);
    tcase_add_test(crypto, test_remote_access_tool);
    tcase_add_test(crypto, test_dtls_versions);
    tcase_add_test(crypto, test_export_import_round_trip);
    tcase_add_test(crypto, test_service_undeclared);
    tcase_add_test(crypto, test_dns_peer_by_resolved_name);
    tcase_add_test(crypto, test_outside_window);
    tcase_add_test(crypto, test_import_unknown_names);
    suite_add_tcase(s, crypto);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(audit_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
