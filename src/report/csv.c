/* report/csv: one RFC 4180 row per finding, for spreadsheets and SIEM
 * imports (docs/report-formats.md).
 *
 * CRLF line ends, UTF-8 without BOM, a header row. A field is quoted when
 * it holds a comma, a double quote, CR or LF, its quotes doubled. The file
 * is meant to be opened in a spreadsheet, which runs a cell starting with
 * '=', '+', '-' or '@' (or TAB/CR before one) as a formula: a device name
 * or a waiver from a supplier's matrix must never become one, so such a
 * field gets a leading single quote, which spreadsheets show as text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/report.h"

#define CSV_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

size_t report_utf8_char_length(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    if (len == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    size_t need;
    unsigned char low = 0x80, high = 0xBF; /* allowed range of the second byte */
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        need = 2;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        need = 3;
        if (s[0] == 0xE0)
            low = 0xA0; /* overlong */
        else if (s[0] == 0xED)
            high = 0x9F; /* surrogates */
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        need = 4;
        if (s[0] == 0xF0)
            low = 0x90; /* overlong */
        else if (s[0] == 0xF4)
            high = 0x8F; /* beyond U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 overlong lead or F5-FF */
    }
    if (len < need || s[1] < low || s[1] > high)
        return 0;
    for (size_t i = 2; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    }
    return need;
}

/* True when a spreadsheet could read the field as a formula. */
static bool csv_needs_formula_guard(const char *text)
{
    return text[0] != '\0' && strchr("=+-@\t\r", text[0]) != NULL;
}

static bool csv_needs_quotes(const char *text)
{
    return strpbrk(text, ",\"\r\n") != NULL;
}

/* Writes one field: guarded, quoted when needed, well-formed UTF-8. */
static void csv_field(FILE *out, const char *text, bool first)
{
    if (text == NULL)
        text = "";
    if (!first)
        fputc(',', out);
    bool quoted = csv_needs_quotes(text);
    if (quoted)
        fputc('"', out);
    if (csv_needs_formula_guard(text))
        fputc('\'', out);
    size_t len = strlen(text);
    for (size_t i = 0; i < len;) {
        size_t n = report_utf8_char_length(text + i, len - i);
        if (n == 0) {
            fputs(CSV_REPLACEMENT, out);
            i++;
            continue;
        }
        if (text[i] == '"')
            fputc('"', out);
        fwrite(text + i, 1, n, out);
        i += n;
    }
    if (quoted)
        fputc('"', out);
}

static void csv_count(FILE *out, uint64_t value)
{
    char text[24];
    snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
    csv_field(out, text, false);
}

/* A timestamp, or an empty field when there is none (0). */
static void csv_time(FILE *out, uint64_t usec)
{
    char text[32] = "";
    if (usec != 0)
        report_format_time(usec, text, sizeof(text));
    csv_field(out, text, false);
}

/* The rule's requirements joined with "; " (to free), or NULL when out of
 * memory. */
static char *csv_join_requirements(const struct rule *rule)
{
    char *text = NULL;
    size_t len = 0;
    FILE *joined = open_memstream(&text, &len);
    if (joined == NULL)
        return NULL;
    for (size_t i = 0; i < rule->requirement_count; i++)
        fprintf(joined, "%s%s", i > 0 ? "; " : "", rule->requirements[i]);
    if (fclose(joined) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* The evidence as key=value joined with "; " (to free), or NULL. */
static char *csv_join_evidence(const struct audit_finding *finding)
{
    char *text = NULL;
    size_t len = 0;
    FILE *joined = open_memstream(&text, &len);
    if (joined == NULL)
        return NULL;
    for (size_t i = 0; i < finding->evidence_count; i++)
        fprintf(joined, "%s%s=%s", i > 0 ? "; " : "", finding->evidence[i].key,
                finding->evidence[i].value);
    if (fclose(joined) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static const char *const csv_columns[] = {
    "site", "device", "verdict", "code", "variant", "severity", "status", "title",
    "requirements", "client", "server", "proto", "port", "app", "matrix_flow", "waiver",
    "first_seen", "last_seen", "connections", "packets", "bytes", "evidence",
};

/* Writes the row of one finding; false when out of memory. */
static bool csv_finding_row(FILE *out, const struct report_input *input,
                            const struct audit_device *device, const struct audit_finding *finding)
{
    const struct rule *rule = &input->rules->by_code[finding->code];
    char *requirements = csv_join_requirements(rule);
    char *evidence = csv_join_evidence(finding);
    if (requirements == NULL || evidence == NULL) {
        free(requirements);
        free(evidence);
        return false;
    }
    const char *title = finding->variant != NULL && finding->variant->title[0] != '\0'
                            ? finding->variant->title
                            : rule->title;
    char proto[16];
    csv_field(out, input->matrix->site, true);
    csv_field(out, device->device->name, false);
    csv_field(out, audit_device_verdict(device), false);
    csv_field(out, finding_code_name(finding->code), false);
    csv_field(out, finding->variant != NULL ? finding->variant->name : "", false);
    csv_field(out, severity_name(finding->severity), false);
    csv_field(out, finding->waived ? "waived" : "open", false);
    csv_field(out, title, false);
    csv_field(out, requirements, false);
    csv_field(out, finding->flow.client_text, false);
    csv_field(out, finding->flow.server_text, false);
    csv_field(out, report_proto_name(finding->flow.ip_proto, proto, sizeof(proto)), false);
    if (finding->flow.port != 0)
        csv_count(out, finding->flow.port);
    else
        csv_field(out, "", false);
    csv_field(out, finding->flow.app, false);
    csv_field(out, finding->matrix_flow != NULL ? finding->matrix_flow->id : "", false);
    csv_field(out, finding->waived && finding->matrix_flow != NULL ? finding->matrix_flow->waiver
                                                                   : "",
              false);
    csv_time(out, finding->first_usec);
    csv_time(out, finding->last_usec);
    csv_count(out, finding->flows);
    csv_count(out, finding->packets);
    csv_count(out, finding->bytes);
    csv_field(out, evidence, false);
    fputs("\r\n", out);
    free(requirements);
    free(evidence);
    return true;
}

bool report_write_csv(FILE *out, const struct report_input *input, char *err, size_t err_len)
{
    for (size_t i = 0; i < sizeof(csv_columns) / sizeof(csv_columns[0]); i++)
        csv_field(out, csv_columns[i], i == 0);
    fputs("\r\n", out);
    for (size_t d = 0; d < audit_device_count(input->audit); d++) {
        const struct audit_device *device = audit_get_device(input->audit, d);
        for (size_t f = 0; f < device->finding_count; f++) {
            if (!csv_finding_row(out, input, device, &device->findings[f])) {
                snprintf(err, err_len, "out of memory while writing the CSV report");
                return false;
            }
        }
    }
    if (fflush(out) != 0 || ferror(out)) {
        snprintf(err, err_len, "write error: %s", strerror(errno != 0 ? errno : EIO));
        return false;
    }
    return true;
}
