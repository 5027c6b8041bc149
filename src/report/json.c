/* report/json: the fluxaudit-report/1 document (docs/report.md,
 * docs/report.schema.json). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fluxaudit/report.h"

void report_format_time(uint64_t usec, char *buf, size_t len)
{
    time_t seconds = (time_t)(usec / 1000000u);
    struct tm tm;
    if (gmtime_r(&seconds, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "1970-01-01T00:00:00Z");
}

const char *report_proto_name(uint8_t proto, char *buf, size_t len)
{
    switch (proto) {
    case IP_PROTO_TCP:
        return "tcp";
    case IP_PROTO_UDP:
        return "udp";
    case IP_PROTO_ICMP:
        return "icmp";
    case IP_PROTO_ICMPV6:
        return "icmpv6";
    case 0:
        return "any";
    default:
        snprintf(buf, len, "ip-%u", proto);
        return buf;
    }
}

/* Adds a timestamp that always exists (an observed flow has packets, even
 * ones stamped at the epoch). */
static void add_time_value(cJSON *object, const char *key, uint64_t usec)
{
    char text[32];
    report_format_time(usec, text, sizeof(text));
    cJSON_AddStringToObject(object, key, text);
}

/* Adds a timestamp, or null when there is none (0). */
static void add_time(cJSON *object, const char *key, uint64_t usec)
{
    if (usec == 0) {
        cJSON_AddNullToObject(object, key);
        return;
    }
    add_time_value(object, key, usec);
}

static void add_count(cJSON *object, const char *key, uint64_t value)
{
    cJSON_AddNumberToObject(object, key, (double)value);
}

static cJSON *flow_ref_json(const struct audit_flow_ref *ref)
{
    char proto[16];
    cJSON *flow = cJSON_CreateObject();
    cJSON_AddStringToObject(flow, "client", ref->client_text);
    cJSON_AddStringToObject(flow, "server", ref->server_text);
    cJSON_AddStringToObject(flow, "proto", report_proto_name(ref->ip_proto, proto, sizeof(proto)));
    if (ref->port != 0)
        add_count(flow, "port", ref->port);
    else
        cJSON_AddNullToObject(flow, "port");
    if (ref->app[0] != '\0')
        cJSON_AddStringToObject(flow, "app", ref->app);
    else
        cJSON_AddNullToObject(flow, "app");
    return flow;
}

static void add_matrix_flow(cJSON *object, const struct matrix_flow *declared)
{
    if (declared != NULL)
        cJSON_AddStringToObject(object, "matrix_flow", declared->id);
    else
        cJSON_AddNullToObject(object, "matrix_flow");
}

static cJSON *finding_json(const struct audit_finding *finding, const struct rules *rules)
{
    const struct rule *rule = &rules->by_code[finding->code];
    cJSON *object = cJSON_CreateObject();
    cJSON_AddStringToObject(object, "code", finding_code_name(finding->code));
    cJSON_AddStringToObject(object, "severity", severity_name(finding->severity));
    cJSON_AddStringToObject(object, "status", finding->waived ? "waived" : "open");
    if (finding->variant != NULL)
        cJSON_AddStringToObject(object, "variant", finding->variant->name);
    const char *title = finding->variant != NULL && finding->variant->title[0] != '\0'
                            ? finding->variant->title
                            : rule->title;
    cJSON_AddStringToObject(object, "title", title);
    cJSON *requirements = cJSON_AddArrayToObject(object, "requirements");
    for (size_t i = 0; i < rule->requirement_count; i++)
        cJSON_AddItemToArray(requirements, cJSON_CreateString(rule->requirements[i]));
    cJSON_AddItemToObject(object, "flow", flow_ref_json(&finding->flow));
    add_matrix_flow(object, finding->matrix_flow);
    if (finding->waived && finding->matrix_flow != NULL)
        cJSON_AddStringToObject(object, "waiver", finding->matrix_flow->waiver);
    add_time(object, "first_seen", finding->first_usec);
    add_time(object, "last_seen", finding->last_usec);
    add_count(object, "connections", finding->flows);
    add_count(object, "packets", finding->packets);
    add_count(object, "bytes", finding->bytes);
    cJSON *evidence = cJSON_AddObjectToObject(object, "evidence");
    for (size_t i = 0; i < finding->evidence_count; i++)
        cJSON_AddStringToObject(evidence, finding->evidence[i].key, finding->evidence[i].value);
    return object;
}

static cJSON *observed_json(const struct audit_observed_flow *observed)
{
    cJSON *object = flow_ref_json(&observed->flow);
    add_matrix_flow(object, observed->matrix_flow);
    add_time_value(object, "first_seen", observed->first_usec);
    add_time_value(object, "last_seen", observed->last_usec);
    add_count(object, "connections", observed->flows);
    add_count(object, "packets", observed->packets);
    add_count(object, "bytes", observed->bytes);
    return object;
}

static void add_optional_string(cJSON *object, const char *key, const char *value)
{
    if (value != NULL)
        cJSON_AddStringToObject(object, key, value);
    else
        cJSON_AddNullToObject(object, key);
}

static cJSON *coverage_json(const struct audit_device *result)
{
    const struct matrix_device *device = result->device;
    cJSON *coverage = cJSON_CreateObject();
    size_t observed = 0;
    cJSON *missing = cJSON_CreateArray();
    for (size_t i = 0; i < device->flow_count; i++) {
        if (result->matrix_flow_seen[i])
            observed++;
        else
            cJSON_AddItemToArray(missing, cJSON_CreateString(device->flows[i].id));
    }
    add_count(coverage, "declared", device->flow_count);
    add_count(coverage, "observed", observed);
    cJSON_AddItemToObject(coverage, "not_observed", missing);
    return coverage;
}

static cJSON *device_json(const struct audit_device *result, const struct rules *rules)
{
    const struct matrix_device *device = result->device;
    cJSON *object = cJSON_CreateObject();
    cJSON_AddStringToObject(object, "name", device->name);
    add_optional_string(object, "vendor", device->vendor);
    add_optional_string(object, "model", device->model);
    add_optional_string(object, "location", device->location);
    cJSON *addresses = cJSON_AddArrayToObject(object, "addresses");
    for (size_t i = 0; i < device->address_count; i++)
        cJSON_AddItemToArray(addresses, cJSON_CreateString(device->address_texts[i]));
    cJSON_AddStringToObject(object, "verdict", audit_device_verdict(result));
    cJSON *counts = cJSON_AddObjectToObject(object, "counts");
    for (int s = 0; s < SEVERITY_COUNT; s++)
        add_count(counts, severity_name((enum severity)s), result->counts[s]);
    add_count(counts, "waived", result->waived_count);
    cJSON *findings = cJSON_AddArrayToObject(object, "findings");
    for (size_t i = 0; i < result->finding_count; i++)
        cJSON_AddItemToArray(findings, finding_json(&result->findings[i], rules));
    cJSON *flows = cJSON_AddArrayToObject(object, "flows");
    for (size_t i = 0; i < result->observed_count; i++)
        cJSON_AddItemToArray(flows, observed_json(&result->observed[i]));
    cJSON_AddItemToObject(object, "coverage", coverage_json(result));
    return object;
}

static cJSON *capture_json(const struct report_input *input)
{
    const struct pipeline_counters *counters = input->counters;
    cJSON *capture = cJSON_CreateObject();
    cJSON *sources = cJSON_AddArrayToObject(capture, "sources");
    for (size_t i = 0; i < input->source_count; i++)
        cJSON_AddItemToArray(sources, cJSON_CreateString(input->sources[i]));
    add_count(capture, "packets", counters->packets);
    add_count(capture, "bytes", counters->bytes);
    add_count(capture, "dropped", input->dropped);
    add_count(capture, "malformed", counters->malformed);
    add_count(capture, "not_ip", counters->not_ip);
    add_count(capture, "not_decoded", counters->not_decoded);
    add_count(capture, "fragments", counters->fragments);
    add_time(capture, "first_seen", counters->first_usec);
    add_time(capture, "last_seen", counters->last_usec);
    cJSON *flows = cJSON_AddObjectToObject(capture, "flows");
    add_count(flows, "created", input->flow_stats->created);
    add_count(flows, "peak", input->flow_stats->peak);
    add_count(flows, "ended_idle", input->flow_stats->ended_idle);
    add_count(flows, "evicted", input->flow_stats->ended_evicted);
    cJSON *dpi = cJSON_AddObjectToObject(capture, "classification");
    add_count(dpi, "classified", input->dpi_stats->flows_classified);
    add_count(dpi, "guessed", input->dpi_stats->flows_guessed);
    add_count(dpi, "unknown", input->dpi_stats->flows_unknown);
    return capture;
}

static const char *pmf_text(const struct wifi_network *network)
{
    return network->pmf_required ? "required" : network->pmf_capable ? "capable" : "no";
}

static bool wifi_security_weak(enum wifi_security security)
{
    return security == WIFI_SECURITY_OPEN || security == WIFI_SECURITY_WEP ||
           security == WIFI_SECURITY_WPA_TKIP;
}

/* Names of the inventory devices among the stations associated to `bssid`,
 * as a JSON array. */
static cJSON *network_devices_json(const struct report_input *input, const struct mac_addr *bssid)
{
    cJSON *names = cJSON_CreateArray();
    for (size_t i = 0; i < access_station_count(input->access); i++) {
        const struct access_station *station = access_get_station(input->access, i);
        if (station->source != ACCESS_SOURCE_WIFI || !station->associated ||
            memcmp(station->bssid.bytes, bssid->bytes, sizeof(bssid->bytes)) != 0)
            continue;
        long device = matrix_find_device(input->matrix, NULL, &station->mac);
        if (device >= 0)
            cJSON_AddItemToArray(names, cJSON_CreateString(input->matrix->devices[device].name));
    }
    return names;
}

static cJSON *network_json(const struct report_input *input, const struct wifi_network *network)
{
    char bssid[MAC_TEXT_MAX];
    cJSON *object = cJSON_CreateObject();
    mac_addr_format(&network->bssid, bssid, sizeof(bssid));
    cJSON_AddStringToObject(object, "bssid", bssid);
    cJSON_AddStringToObject(object, "ssid", network->ssid);
    add_count(object, "channel", network->channel);
    cJSON_AddStringToObject(object, "security", wifi_security_name(network->security));
    cJSON_AddBoolToObject(object, "weak", wifi_security_weak(network->security));
    cJSON_AddStringToObject(object, "pmf", pmf_text(network));
    add_time(object, "first_seen", network->first_usec);
    add_time(object, "last_seen", network->last_usec);
    add_count(object, "beacons", network->beacons);
    cJSON_AddItemToObject(object, "inventory_devices", network_devices_json(input, &network->bssid));
    return object;
}

/* Networks seen over the air (with or without an inventory device) and how
 * many stations authenticated; the findings themselves sit with devices. */
static cJSON *wifi_json(const struct report_input *input)
{
    cJSON *wifi = cJSON_CreateObject();
    cJSON *networks = cJSON_AddArrayToObject(wifi, "networks");
    size_t count = input->access != NULL ? access_network_count(input->access) : 0;
    for (size_t i = 0; i < count; i++)
        cJSON_AddItemToArray(networks, network_json(input, access_get_network(input->access, i)));
    add_count(wifi, "stations",
              input->access != NULL ? access_station_count(input->access) : 0);
    return wifi;
}

bool report_write_json(FILE *out, const struct report_input *input, char *err, size_t err_len)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", REPORT_FORMAT);
    if (input->generated_at != NULL)
        cJSON_AddStringToObject(root, "generated_at", input->generated_at);
    cJSON *matrix = cJSON_AddObjectToObject(root, "matrix");
    add_optional_string(matrix, "path", input->matrix->path);
    add_optional_string(matrix, "site", input->matrix->site);
    cJSON_AddItemToObject(root, "capture", capture_json(input));
    cJSON *devices = cJSON_AddArrayToObject(root, "devices");
    for (size_t i = 0; i < audit_device_count(input->audit); i++)
        cJSON_AddItemToArray(devices, device_json(audit_get_device(input->audit, i), input->rules));
    struct audit_stats stats;
    audit_get_stats(input->audit, &stats);
    cJSON_AddItemToObject(root, "wifi", wifi_json(input));
    cJSON *unattributed = cJSON_AddObjectToObject(root, "unattributed");
    add_count(unattributed, "flows", stats.flows_unattributed);
    add_count(root, "dropped_results", stats.dropped);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (text == NULL) {
        snprintf(err, err_len, "out of memory while writing the report");
        return false;
    }
    bool ok = fputs(text, out) >= 0 && fputc('\n', out) != EOF;
    free(text);
    if (!ok)
        snprintf(err, err_len, "write error: %m");
    return ok;
}
