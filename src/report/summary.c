/* report/summary: the per-device table printed on the terminal. */
#include <stdio.h>
#include <string.h>

#include "fluxaudit/report.h"

#define ANSI_RED "\033[31m"
#define ANSI_GREEN "\033[32m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_BOLD "\033[1m"
#define ANSI_RESET "\033[0m"

static const char *paint(bool color, const char *code)
{
    return color ? code : "";
}

static const char *severity_color(enum severity severity)
{
    return severity <= SEVERITY_HIGH ? ANSI_RED : severity == SEVERITY_MEDIUM ? ANSI_YELLOW : "";
}

/* Prints `text` in a column of `width` characters: cut on a UTF-8
 * character boundary, padded with spaces. */
static void print_column(FILE *out, const char *text, int width)
{
    const char *end = text;
    int chars = 0;
    while (*end != '\0' && chars < width) {
        end++;
        while (((unsigned char)*end & 0xC0) == 0x80) /* continuation bytes */
            end++;
        chars++;
    }
    fwrite(text, 1, (size_t)(end - text), out);
    for (; chars < width; chars++)
        fputc(' ', out);
}

static void print_finding(FILE *out, const struct audit_finding *finding, bool color)
{
    char severity[16];
    snprintf(severity, sizeof(severity), "%s", severity_name(finding->severity));
    for (char *p = severity; *p; p++)
        *p = (char)(*p - ('a' <= *p && *p <= 'z' ? 32 : 0));
    char proto[16];
    fprintf(out, "    %s%-8s%s %-26s %s -> %s %s", paint(color, severity_color(finding->severity)),
            severity, paint(color, ANSI_RESET), finding_code_name(finding->code),
            finding->flow.client_text, finding->flow.server_text,
            report_proto_name(finding->flow.ip_proto, proto, sizeof(proto)));
    if (finding->flow.port != 0)
        fprintf(out, "/%u", finding->flow.port);
    if (finding->flow.app[0] != '\0')
        fprintf(out, " %s", finding->flow.app);
    if (finding->matrix_flow != NULL)
        fprintf(out, " [%s]", finding->matrix_flow->id);
    for (size_t i = 0; i < finding->evidence_count; i++)
        fprintf(out, " %s=%s", finding->evidence[i].key, finding->evidence[i].value);
    if (finding->waived)
        fprintf(out, " (waived)");
    fputc('\n', out);
}

/* Wi-Fi networks seen over the air, the weak ones named (with or without
 * an inventory device on them). */
static void print_networks(FILE *out, const struct access_table *access, bool color)
{
    size_t count = access != NULL ? access_network_count(access) : 0;
    if (count == 0)
        return;
    size_t weak = 0;
    for (size_t i = 0; i < count; i++) {
        enum wifi_security security = access_get_network(access, i)->security;
        weak += security == WIFI_SECURITY_OPEN || security == WIFI_SECURITY_WEP ||
                security == WIFI_SECURITY_WPA_TKIP;
    }
    fprintf(out, "\n%zu Wi-Fi networks seen, %s%zu with weak security%s\n", count,
            paint(color, weak ? ANSI_RED : ""), weak, paint(color, weak ? ANSI_RESET : ""));
    for (size_t i = 0; i < count; i++) {
        const struct wifi_network *network = access_get_network(access, i);
        char bssid[MAC_TEXT_MAX];
        mac_addr_format(&network->bssid, bssid, sizeof(bssid));
        fprintf(out, "    %-17s %-16s ch %-3u %s\n", bssid,
                network->ssid[0] ? network->ssid : "(hidden)", network->channel,
                wifi_security_name(network->security));
    }
}

void report_print_summary(FILE *out, const struct report_input *input, bool color)
{
    const struct pipeline_counters *counters = input->counters;
    struct audit_stats stats;
    audit_get_stats(input->audit, &stats);
    fprintf(out, "%s%-24s %-10s %5s %5s %5s %5s %5s %6s %6s%s\n", paint(color, ANSI_BOLD), "DEVICE",
            "VERDICT", "CRIT", "HIGH", "MED", "LOW", "INFO", "WAIVED", "FLOWS",
            paint(color, ANSI_RESET));
    for (size_t i = 0; i < audit_device_count(input->audit); i++) {
        const struct audit_device *device = audit_get_device(input->audit, i);
        const char *verdict = audit_device_verdict(device);
        bool conform = strcmp(verdict, "conform") == 0;
        uint64_t connections = 0;
        for (size_t f = 0; f < device->observed_count; f++)
            connections += device->observed[f].flows;
        print_column(out, device->device->name, 24);
        fprintf(out, " %s%-10s%s %5llu %5llu %5llu %5llu %5llu %6llu %6llu\n",
                paint(color, conform ? ANSI_GREEN : ANSI_RED), verdict, paint(color, ANSI_RESET),
                (unsigned long long)device->counts[SEVERITY_CRITICAL],
                (unsigned long long)device->counts[SEVERITY_HIGH],
                (unsigned long long)device->counts[SEVERITY_MEDIUM],
                (unsigned long long)device->counts[SEVERITY_LOW],
                (unsigned long long)device->counts[SEVERITY_INFO],
                (unsigned long long)device->waived_count, (unsigned long long)connections);
        for (size_t f = 0; f < device->finding_count; f++) {
            if (device->findings[f].severity != SEVERITY_INFO)
                print_finding(out, &device->findings[f], color);
        }
    }
    fprintf(out,
            "\n%llu packets, %llu bytes, %llu malformed, %llu not decoded, %llu dropped; "
            "%llu flows, %llu not attributed to an inventory device\n",
            (unsigned long long)counters->packets, (unsigned long long)counters->bytes,
            (unsigned long long)counters->malformed, (unsigned long long)counters->not_decoded,
            (unsigned long long)input->dropped, (unsigned long long)stats.flows_audited,
            (unsigned long long)stats.flows_unattributed);
    if (stats.dropped > 0)
        fprintf(out, "warning: %llu results dropped past the audit cap\n",
                (unsigned long long)stats.dropped);
    print_networks(out, input->access, color);
}
