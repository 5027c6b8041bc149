/* report/html: the printable report for a device's acceptance file
 * (docs/report-formats.md, CLAUSIER-2025 O-3.11).
 *
 * One self-contained document: an inline style sheet, no script, no image,
 * no font or link to anything outside the file, so it opens the same way
 * offline in ten years and meets the strictest Content-Security-Policy.
 * Printing is the main use: A4 pages, each device on a new page, table
 * headers repeated across pages, and nothing said by colour alone.
 *
 * Every string of the input (matrix names, waivers, evidence, nDPI names)
 * goes through html_text, which escapes the five HTML specials and turns
 * bytes that are not well-formed UTF-8, and control characters, into
 * U+FFFD. No input string is ever written inside a tag or an attribute. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fluxaudit/report.h"

#define HTML_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

static const char html_style[] =
    "@page { size: A4; margin: 15mm 12mm 18mm 12mm; }\n"
    "html { color: #000; background: #fff; }\n"
    "body { max-width: 1366px; margin: 0 auto; padding: 0 16px;\n"
    "       font: 14px/1.35 \"DejaVu Sans\", \"Liberation Sans\", Arial, sans-serif; }\n"
    "h1 { font-size: 1.6em; margin: 0.6em 0 0.2em; }\n"
    "h2 { font-size: 1.3em; margin: 1.2em 0 0.4em; border-bottom: 2px solid #000; }\n"
    "h3 { font-size: 1.05em; margin: 1em 0 0.3em; }\n"
    "table { border-collapse: collapse; width: 100%; margin: 0.3em 0 0.8em; }\n"
    "th, td { border: 1px solid #000; padding: 2px 5px; text-align: left;\n"
    "         vertical-align: top; overflow-wrap: break-word; }\n"
    ".nw { white-space: nowrap; }\n"
    "table.findings { table-layout: fixed; }\n"
    "th.what { width: 30%; } th.status { width: 11%; } th.flow { width: 17%; }\n"
    "th.seen { width: 21%; } th.evidence { width: 21%; }\n"
    "th { font-weight: bold; }\n"
    "thead { display: table-header-group; }\n"
    "tr { break-inside: avoid; page-break-inside: avoid; }\n"
    "td.n, th.n { text-align: right; white-space: nowrap; }\n"
    "table.kv th { width: 14em; }\n"
    "ul { margin: 0; padding-left: 1.2em; }\n"
    ".verdict { font-weight: bold; border: 2px solid #000; padding: 0 4px; }\n"
    ".deviations { text-decoration: underline; }\n"
    ".waiver { font-style: italic; }\n"
    "table.signature td { height: 3.5em; }\n"
    "footer { margin-top: 2em; font-size: 0.85em; }\n"
    "a { color: inherit; }\n"
    "@media print {\n"
    "  body { max-width: none; padding: 0; font-size: 8.5pt; }\n"
    "  section.device { break-before: page; page-break-before: always; }\n"
    "  h2, h3 { break-after: avoid; page-break-after: avoid; }\n"
    "  a { text-decoration: none; }\n"
    "}\n";

/* Writes `text` as HTML character data or attribute value content. */
static void html_text(FILE *out, const char *text)
{
    if (text == NULL)
        return;
    size_t len = strlen(text);
    for (size_t i = 0; i < len;) {
        size_t n = report_utf8_char_length(text + i, len - i);
        unsigned char c = (unsigned char)text[i];
        if (n == 0 || c == 0x7F || (c < 0x20 && c != '\t' && c != '\n')) {
            fputs(HTML_REPLACEMENT, out);
            i += n == 0 ? 1 : n;
            continue;
        }
        switch (c) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fwrite(text + i, 1, n, out);
        }
        i += n;
    }
}

/* Writes a table cell holding `text`, or an em dash when it is NULL or "". */
static void html_cell(FILE *out, const char *text)
{
    fputs("<td>", out);
    if (text == NULL || text[0] == '\0')
        fputs("\xE2\x80\x94", out);
    else
        html_text(out, text);
    fputs("</td>", out);
}

static void html_count_cell(FILE *out, uint64_t value)
{
    fprintf(out, "<td class=\"n\">%llu</td>", (unsigned long long)value);
}

/* A timestamp, or an em dash when there is none (0). */
static void html_time(FILE *out, uint64_t usec)
{
    char text[32] = "";
    if (usec == 0) {
        fputs("\xE2\x80\x94", out);
        return;
    }
    report_format_time(usec, text, sizeof(text));
    html_text(out, text);
}

static void html_kv_count(FILE *out, const char *label, uint64_t value)
{
    fprintf(out, "<tr><th scope=\"row\">%s</th><td>%llu</td></tr>\n", label,
            (unsigned long long)value);
}

/* "tcp/8443 TLS", "icmp", "udp/123". */
static void html_service(FILE *out, const struct audit_flow_ref *flow)
{
    char proto[16];
    html_text(out, report_proto_name(flow->ip_proto, proto, sizeof(proto)));
    if (flow->port != 0)
        fprintf(out, "/%u", flow->port);
    if (flow->app[0] != '\0') {
        fputc(' ', out);
        html_text(out, flow->app);
    }
}

static void html_head(FILE *out, const struct report_input *input)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"fluxaudit " REPORT_FORMAT "\">\n<title>",
          out);
    fputs("Network flow audit", out);
    if (input->matrix->site != NULL) {
        fputs(" \xE2\x80\x94 ", out);
        html_text(out, input->matrix->site);
    }
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", html_style);
}

static void html_title(FILE *out, const struct report_input *input)
{
    fputs("<header>\n<h1>Network flow audit", out);
    if (input->matrix->site != NULL) {
        fputs(" \xE2\x80\x94 ", out);
        html_text(out, input->matrix->site);
    }
    fputs("</h1>\n<p>", out);
    if (input->generated_at != NULL) {
        fputs("Generated ", out);
        html_text(out, input->generated_at);
        fputs(" by fluxaudit", out);
    } else {
        fputs("Generated by fluxaudit", out);
    }
    fputs(" (" REPORT_FORMAT "), a passive audit of the devices&#39; network flows"
          " against their declared flow matrix.</p>\n</header>\n",
          out);
}

static void html_capture(FILE *out, const struct report_input *input)
{
    const struct pipeline_counters *counters = input->counters;
    struct audit_stats stats;
    audit_get_stats(input->audit, &stats);
    fputs("<section id=\"capture\">\n<h2>Capture</h2>\n<table class=\"kv\">\n<tbody>\n", out);
    fputs("<tr><th scope=\"row\">Flow matrix</th>", out);
    html_cell(out, input->matrix->path);
    fputs("</tr>\n<tr><th scope=\"row\">Sources</th><td>", out);
    for (size_t i = 0; i < input->source_count; i++) {
        fputs(i > 0 ? "<br>" : "", out);
        html_text(out, input->sources[i]);
    }
    fputs("</td></tr>\n<tr><th scope=\"row\">Period</th><td>", out);
    if (counters->first_usec == 0 && counters->last_usec == 0) {
        fputs("no frame", out);
    } else {
        html_time(out, counters->first_usec);
        fputs(" to ", out);
        html_time(out, counters->last_usec);
    }
    fputs("</td></tr>\n", out);
    html_kv_count(out, "Packets", counters->packets);
    html_kv_count(out, "Bytes", counters->bytes);
    html_kv_count(out, "Dropped (kernel, interface)", input->dropped);
    html_kv_count(out, "Malformed", counters->malformed);
    html_kv_count(out, "Not IP", counters->not_ip);
    html_kv_count(out, "Not decoded", counters->not_decoded);
    html_kv_count(out, "IP fragments", counters->fragments);
    fprintf(out,
            "<tr><th scope=\"row\">Flows</th><td>%llu created, %llu at most at once, "
            "%llu ended idle, %llu evicted</td></tr>\n",
            (unsigned long long)input->flow_stats->created,
            (unsigned long long)input->flow_stats->peak,
            (unsigned long long)input->flow_stats->ended_idle,
            (unsigned long long)input->flow_stats->ended_evicted);
    fprintf(out,
            "<tr><th scope=\"row\">Classification</th><td>%llu classified, %llu guessed, "
            "%llu unknown</td></tr>\n",
            (unsigned long long)input->dpi_stats->flows_classified,
            (unsigned long long)input->dpi_stats->flows_guessed,
            (unsigned long long)input->dpi_stats->flows_unknown);
    html_kv_count(out, "Flows of no inventory device", stats.flows_unattributed);
    html_kv_count(out, "Results dropped past the audit cap", stats.dropped);
    fputs("</tbody>\n</table>\n</section>\n", out);
}

static void html_verdict(FILE *out, const struct audit_device *device)
{
    const char *verdict = audit_device_verdict(device);
    bool conform = strcmp(verdict, "conform") == 0;
    fprintf(out, "<span class=\"verdict%s\">%s</span>", conform ? "" : " deviations",
            conform ? "CONFORM" : "DEVIATIONS");
}

/* "Vendor / model" then the location on its own line; an em dash when
 * the matrix gives none of them. */
static void html_identity_line(FILE *out, const struct matrix_device *declared)
{
    if (declared->vendor == NULL && declared->model == NULL && declared->location == NULL) {
        fputs("\xE2\x80\x94", out);
        return;
    }
    html_text(out, declared->vendor);
    if (declared->vendor != NULL && declared->model != NULL)
        fputs(" / ", out);
    html_text(out, declared->model);
    if (declared->location != NULL) {
        if (declared->vendor != NULL || declared->model != NULL)
            fputs("<br>", out);
        html_text(out, declared->location);
    }
}

static void html_summary(FILE *out, const struct report_input *input)
{
    fputs("<section id=\"summary\">\n<h2>Summary</h2>\n<table>\n<thead><tr><th>Device</th>"
          "<th>Vendor, model, location</th><th>Verdict</th>",
          out);
    for (int s = 0; s < SEVERITY_COUNT; s++)
        fprintf(out, "<th class=\"n\">%s</th>", severity_name((enum severity)s));
    fputs("<th class=\"n\">waived</th></tr></thead>\n<tbody>\n", out);
    for (size_t i = 0; i < audit_device_count(input->audit); i++) {
        const struct audit_device *device = audit_get_device(input->audit, i);
        const struct matrix_device *declared = device->device;
        fprintf(out, "<tr><td><a href=\"#device-%zu\">", i + 1);
        html_text(out, declared->name);
        fputs("</a></td><td>", out);
        html_identity_line(out, declared);
        fputs("</td>", out);
        fputs("<td>", out);
        html_verdict(out, device);
        fputs("</td>", out);
        for (int s = 0; s < SEVERITY_COUNT; s++)
            html_count_cell(out, device->counts[s]);
        html_count_cell(out, device->waived_count);
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table>\n<p>Counts are open findings by severity; waived findings are "
          "counted apart. A device is CONFORM when it has no open finding above info.</p>\n"
          "</section>\n",
          out);
}

static void html_identity(FILE *out, const struct audit_device *device)
{
    const struct matrix_device *declared = device->device;
    fputs("<table class=\"kv\">\n<tbody>\n<tr><th scope=\"row\">Vendor</th>", out);
    html_cell(out, declared->vendor);
    fputs("</tr>\n<tr><th scope=\"row\">Model</th>", out);
    html_cell(out, declared->model);
    fputs("</tr>\n<tr><th scope=\"row\">Location</th>", out);
    html_cell(out, declared->location);
    fputs("</tr>\n<tr><th scope=\"row\">Addresses</th><td>", out);
    for (size_t i = 0; i < declared->address_count; i++) {
        fputs(i > 0 ? ", " : "", out);
        html_text(out, declared->address_texts[i]);
    }
    fputs("</td></tr>\n<tr><th scope=\"row\">Verdict</th><td>", out);
    html_verdict(out, device);
    fputs(" \xE2\x80\x94 open findings:", out);
    for (int s = 0; s < SEVERITY_COUNT; s++)
        fprintf(out, "%s %llu %s", s > 0 ? "," : "", (unsigned long long)device->counts[s],
                severity_name((enum severity)s));
    fprintf(out, "; waived: %llu</td></tr>\n</tbody>\n</table>\n",
            (unsigned long long)device->waived_count);
}

/* "tcp/80,443,8000-8080", "udp/any", "any". */
static void html_declared_service(FILE *out, const struct matrix_flow *flow)
{
    html_text(out, matrix_proto_name(flow->proto));
    if (flow->proto == MATRIX_PROTO_ANY || flow->proto == MATRIX_PROTO_ICMP)
        return;
    if (flow->any_port) {
        fputs("/any", out);
        return;
    }
    for (size_t i = 0; i < flow->port_count; i++) {
        fprintf(out, "%s%u", i > 0 ? "," : "/", flow->ports[i].low);
        if (flow->ports[i].high != flow->ports[i].low)
            fprintf(out, "-%u", flow->ports[i].high);
    }
}

static void html_coverage(FILE *out, const struct audit_device *device)
{
    const struct matrix_device *declared = device->device;
    size_t observed = 0;
    for (size_t i = 0; i < declared->flow_count; i++)
        observed += device->matrix_flow_seen[i] ? 1 : 0;
    fprintf(out, "<h3>Coverage of the flow matrix</h3>\n<p>%zu declared, %zu observed, "
                 "%zu not observed.</p>\n",
            declared->flow_count, observed, declared->flow_count - observed);
    if (declared->flow_count == 0)
        return;
    fputs("<table>\n<thead><tr><th>Matrix flow</th><th>From</th><th>To</th><th>Service</th>"
          "<th>Application</th><th>Description</th><th>Observed</th></tr></thead>\n<tbody>\n",
          out);
    for (size_t i = 0; i < declared->flow_count; i++) {
        const struct matrix_flow *flow = &declared->flows[i];
        fputs("<tr>", out);
        html_cell(out, flow->id);
        html_cell(out, flow->from.text);
        html_cell(out, flow->to.text);
        fputs("<td>", out);
        html_declared_service(out, flow);
        fputs("</td>", out);
        html_cell(out, flow->app);
        html_cell(out, flow->description);
        fprintf(out, "<td>%s</td></tr>\n", device->matrix_flow_seen[i] ? "observed"
                                                                       : "not observed");
    }
    fputs("</tbody>\n</table>\n", out);
}

/* The finding cell: severity, code and variant, then title and the
 * requirements it enforces. */
static void html_finding_what(FILE *out, const struct report_input *input,
                              const struct audit_finding *finding)
{
    const struct rule *rule = &input->rules->by_code[finding->code];
    const char *title = finding->variant != NULL && finding->variant->title[0] != '\0'
                            ? finding->variant->title
                            : rule->title;
    char severity[16];
    snprintf(severity, sizeof(severity), "%s", severity_name(finding->severity));
    for (char *p = severity; *p; p++)
        *p = (char)(*p - ('a' <= *p && *p <= 'z' ? 32 : 0));
    fprintf(out, "<td><strong>%s</strong><br><span class=\"nw\">%s</span>", severity,
            finding_code_name(finding->code));
    if (finding->variant != NULL) {
        fputs(" (variant ", out);
        html_text(out, finding->variant->name);
        fputc(')', out);
    }
    fputs("<br>", out);
    html_text(out, title);
    fputs("<ul>", out);
    for (size_t i = 0; i < rule->requirement_count; i++) {
        fputs("<li>", out);
        html_text(out, rule->requirements[i]);
        fputs("</li>", out);
    }
    fputs("</ul></td>", out);
}

static void html_finding_status(FILE *out, const struct audit_finding *finding)
{
    if (!finding->waived) {
        fputs("<td>open</td>", out);
        return;
    }
    fputs("<td>waived", out);
    if (finding->matrix_flow != NULL && finding->matrix_flow->waiver != NULL) {
        fputs("<br><span class=\"waiver\">Waiver: ", out);
        html_text(out, finding->matrix_flow->waiver);
        fputs("</span>", out);
    }
    fputs("</td>", out);
}

static void html_finding(FILE *out, const struct report_input *input,
                         const struct audit_finding *finding)
{
    fputs("<tr>", out);
    html_finding_what(out, input, finding);
    html_finding_status(out, finding);
    fputs("<td>", out);
    html_text(out, finding->flow.client_text);
    fputs(" \xE2\x86\x92 ", out);
    html_text(out, finding->flow.server_text);
    fputs("<br>", out);
    html_service(out, &finding->flow);
    fputs("<br>matrix flow: ", out);
    html_text(out, finding->matrix_flow != NULL ? finding->matrix_flow->id : "none");
    fputs("</td><td class=\"nw\">", out);
    html_time(out, finding->first_usec);
    fputs("<br>", out);
    html_time(out, finding->last_usec);
    fprintf(out, "<br>%llu connection(s)</td><td>",
            (unsigned long long)finding->flows);
    for (size_t i = 0; i < finding->evidence_count; i++) {
        fputs(i > 0 ? "<br>" : "", out);
        html_text(out, finding->evidence[i].key);
        fputc('=', out);
        html_text(out, finding->evidence[i].value);
    }
    fputs("</td></tr>\n", out);
}

static void html_findings(FILE *out, const struct report_input *input,
                          const struct audit_device *device)
{
    fputs("<h3>Findings</h3>\n", out);
    if (device->finding_count == 0) {
        fputs("<p>No finding.</p>\n", out);
        return;
    }
    fputs("<table class=\"findings\">\n<thead><tr><th class=\"what\">Finding and "
          "requirements</th><th class=\"status\">Status</th><th class=\"flow\">Flow (client "
          "\xE2\x86\x92 server)</th><th class=\"seen\">First / last seen</th>"
          "<th class=\"evidence\">Evidence</th></tr></thead>\n<tbody>\n",
          out);
    for (size_t i = 0; i < device->finding_count; i++)
        html_finding(out, input, &device->findings[i]);
    fputs("</tbody>\n</table>\n", out);
}

static void html_observed(FILE *out, const struct audit_device *device)
{
    fputs("<h3>Observed flows</h3>\n", out);
    if (device->observed_count == 0) {
        fputs("<p>No flow observed.</p>\n", out);
        return;
    }
    fputs("<table>\n<thead><tr><th>Client</th><th>Server</th><th>Service</th>"
          "<th>Matrix flow</th><th>First / last seen</th>"
          "<th class=\"n\">Connections</th><th class=\"n\">Packets</th>"
          "<th class=\"n\">Bytes</th></tr></thead>\n<tbody>\n",
          out);
    for (size_t i = 0; i < device->observed_count; i++) {
        const struct audit_observed_flow *flow = &device->observed[i];
        fputs("<tr>", out);
        html_cell(out, flow->flow.client_text);
        html_cell(out, flow->flow.server_text);
        fputs("<td>", out);
        html_service(out, &flow->flow);
        fputs("</td>", out);
        html_cell(out, flow->matrix_flow != NULL ? flow->matrix_flow->id : "undeclared");
        fputs("<td class=\"nw\">", out);
        html_time(out, flow->first_usec);
        fputs("<br>", out);
        html_time(out, flow->last_usec);
        fputs("</td>", out);
        html_count_cell(out, flow->flows);
        html_count_cell(out, flow->packets);
        html_count_cell(out, flow->bytes);
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table>\n", out);
}

/* Empty cells to sign on paper: the report is evidence, the decision is
 * people's. */
static void html_signature(FILE *out)
{
    fputs("<h3>Review</h3>\n<table class=\"signature\">\n<thead><tr><th>Reviewed by</th>"
          "<th>Date</th><th>Signature</th></tr></thead>\n<tbody>\n"
          "<tr><td></td><td></td><td></td></tr>\n<tr><td></td><td></td><td></td></tr>\n"
          "</tbody>\n</table>\n",
          out);
}

static void html_device(FILE *out, const struct report_input *input,
                        const struct audit_device *device, size_t index)
{
    fprintf(out, "<section class=\"device\" id=\"device-%zu\">\n<h2>Device %zu: ", index + 1,
            index + 1);
    html_text(out, device->device->name);
    fputs("</h2>\n", out);
    html_identity(out, device);
    html_coverage(out, device);
    html_findings(out, input, device);
    html_observed(out, device);
    html_signature(out);
    fputs("</section>\n", out);
}

bool report_write_html(FILE *out, const struct report_input *input, char *err, size_t err_len)
{
    html_head(out, input);
    html_title(out, input);
    html_capture(out, input);
    html_summary(out, input);
    for (size_t i = 0; i < audit_device_count(input->audit); i++)
        html_device(out, input, audit_get_device(input->audit, i), i);
    fputs("<footer><p>fluxaudit " REPORT_FORMAT ". This report holds no password, community "
          "string, token or health data: findings say that such data crossed the network, "
          "never what it was.</p></footer>\n</body>\n</html>\n",
          out);
    if (fflush(out) != 0 || ferror(out)) {
        snprintf(err, err_len, "write error: %s", strerror(errno != 0 ? errno : EIO));
        return false;
    }
    return true;
}
