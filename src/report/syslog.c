/* report/syslog: one RFC 5424 event per finding, for SIEMs
 * (docs/report-formats.md, CLAUSIER-2025 O-6.4).
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [fluxaudit@32473 ...]
 *       [evidence@32473 ...] BOM MSG
 *
 * PRI is facility * 8 + the syslog severity of the finding, MSGID its code,
 * the structured data carries every field a SIEM filters on, and MSG (UTF-8
 * with the BOM of RFC 5424 §6.4) a sentence for people. The same event text
 * goes to a file (one per line) or to a local datagram socket.
 *
 * An event never exceeds REPORT_SYSLOG_EVENT_MAX bytes: every PARAM-VALUE is
 * capped (cut on a character boundary, "..." appended) so the header and
 * structured data always fit, and only MSG is cut to the room left. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fluxaudit/report.h"

#define SYSLOG_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */
#define SYSLOG_BOM "\xEF\xBB\xBF"
#define SYSLOG_DEFAULT_APP_NAME "fluxaudit"
#define SYSLOG_HOSTNAME_MAX 255 /* RFC 5424 §6.2.4 */
#define SYSLOG_APP_NAME_MAX 48
#define SYSLOG_PROCID_MAX 128
#define SYSLOG_MSGID_MAX 32
#define SYSLOG_SD_NAME_MAX 32
/* With these caps the header and both SD-ELEMENTs stay under about 5.5 KiB
 * whatever the input, which leaves MSG at least 2.5 KiB. */
#define SYSLOG_VALUE_MAX 256
#define SYSLOG_REQUIREMENTS_MAX 1024

struct syslog_event {
    char data[REPORT_SYSLOG_EVENT_MAX];
    size_t len;
    bool overflow; /* something did not fit (only MSG may be cut) */
};

/* The resolved header fields shared by every event. */
struct syslog_header {
    int facility;
    char hostname[SYSLOG_HOSTNAME_MAX + 1];
    char app_name[SYSLOG_APP_NAME_MAX + 1];
    char procid[SYSLOG_PROCID_MAX + 1];
    const char *fallback_time; /* a valid RFC 5424 TIMESTAMP, or NULL */
};

static void event_append(struct syslog_event *event, const char *bytes, size_t len)
{
    if (len > sizeof(event->data) - event->len) {
        event->overflow = true;
        return;
    }
    memcpy(event->data + event->len, bytes, len);
    event->len += len;
}

static void event_puts(struct syslog_event *event, const char *text)
{
    event_append(event, text, strlen(text));
}

/* Copies `text` as a header field: PRINTUSASCII only (others become '_'),
 * at most `max` characters, the NILVALUE "-" when empty. */
static void header_field(char *dst, size_t max, const char *text)
{
    size_t len = 0;
    for (; text != NULL && text[len] != '\0' && len < max; len++) {
        unsigned char c = (unsigned char)text[len];
        dst[len] = c >= 33 && c <= 126 ? (char)c : '_';
    }
    if (len == 0)
        dst[len++] = '-';
    dst[len] = '\0';
}

static bool is_digits(const char *text, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
    }
    return true;
}

/* True when `text` is an RFC 5424 TIMESTAMP: YYYY-MM-DDTHH:MM:SS[.1-6
 * digits](Z|+HH:MM|-HH:MM). */
static bool is_timestamp(const char *text)
{
    size_t len = strlen(text);
    if (len < 20 || !is_digits(text, 4) || text[4] != '-' || !is_digits(text + 5, 2) ||
        text[7] != '-' || !is_digits(text + 8, 2) || text[10] != 'T' ||
        !is_digits(text + 11, 2) || text[13] != ':' || !is_digits(text + 14, 2) ||
        text[16] != ':' || !is_digits(text + 17, 2))
        return false;
    const char *p = text + 19;
    if (*p == '.') {
        size_t digits = 0;
        while (p[1 + digits] >= '0' && p[1 + digits] <= '9')
            digits++;
        if (digits < 1 || digits > 6)
            return false;
        p += 1 + digits;
    }
    if (strcmp(p, "Z") == 0)
        return true;
    return (p[0] == '+' || p[0] == '-') && strlen(p) == 6 && is_digits(p + 1, 2) && p[3] == ':' &&
           is_digits(p + 4, 2);
}

static bool header_init(struct syslog_header *header, const struct report_input *input,
                        const struct report_syslog_options *options, char *err, size_t err_len)
{
    struct report_syslog_options defaults = {0};
    if (options == NULL)
        options = &defaults;
    if (options->facility < 0 || options->facility > 23) {
        snprintf(err, err_len, "syslog facility %d is not 1-23 (0 for the default, %d)",
                 options->facility, REPORT_SYSLOG_DEFAULT_FACILITY);
        return false;
    }
    header->facility = options->facility != 0 ? options->facility : REPORT_SYSLOG_DEFAULT_FACILITY;
    const char *hostname = options->hostname;
    char own[SYSLOG_HOSTNAME_MAX + 1] = "";
    if (hostname == NULL) {
        if (gethostname(own, sizeof(own)) != 0)
            own[0] = '\0';
        own[sizeof(own) - 1] = '\0';
        hostname = own;
    }
    header_field(header->hostname, SYSLOG_HOSTNAME_MAX, hostname);
    header_field(header->app_name, SYSLOG_APP_NAME_MAX,
                 options->app_name != NULL ? options->app_name : SYSLOG_DEFAULT_APP_NAME);
    header_field(header->procid, SYSLOG_PROCID_MAX, options->procid);
    header->fallback_time = input->generated_at != NULL && is_timestamp(input->generated_at)
                                ? input->generated_at
                                : NULL;
    return true;
}

/* RFC 5424 severities: critical 2 (crit), high 3 (err), medium 4
 * (warning), low 5 (notice), info 6 (informational). */
static int syslog_severity(enum severity severity)
{
    switch (severity) {
    case SEVERITY_CRITICAL:
        return 2;
    case SEVERITY_HIGH:
        return 3;
    case SEVERITY_MEDIUM:
        return 4;
    case SEVERITY_LOW:
        return 5;
    default:
        return 6;
    }
}

/* The bytes one character of a PARAM-VALUE or MSG becomes: `*piece`
 * points at them and the return value is their length; `*used` is how
 * many input bytes were read. RFC 5424 §6.3.3 escapes '"', '\' and ']' in
 * PARAM-VALUE; control characters and bytes that are not UTF-8 become
 * U+FFFD so an event stays one line of valid UTF-8. */
static size_t event_piece(const char *text, size_t len, bool in_value, const char **piece,
                          char escaped[2], size_t *used)
{
    size_t n = report_utf8_char_length(text, len);
    unsigned char c = (unsigned char)text[0];
    *used = n == 0 ? 1 : n;
    if (n == 0 || c < 0x20 || c == 0x7F) {
        *piece = SYSLOG_REPLACEMENT;
        return 3;
    }
    if (in_value && (c == '"' || c == '\\' || c == ']')) {
        escaped[0] = '\\';
        escaped[1] = (char)c;
        *piece = escaped;
        return 2;
    }
    *piece = text;
    return n;
}

/* Appends `text` escaped, in at most `cap` bytes (cut on a character
 * boundary, then "...", when longer). */
static void event_text(struct syslog_event *event, const char *text, bool in_value, size_t cap)
{
    size_t len = strlen(text), total = 0, used;
    const char *piece;
    char escaped[2];
    for (size_t i = 0; i < len; i += used)
        total += event_piece(text + i, len - i, in_value, &piece, escaped, &used);
    bool cut = total > cap;
    size_t limit = !cut ? cap : cap >= 3 ? cap - 3 : 0;
    size_t written = 0;
    for (size_t i = 0; i < len; i += used) {
        size_t n = event_piece(text + i, len - i, in_value, &piece, escaped, &used);
        if (written + n > limit)
            break;
        event_append(event, piece, n);
        written += n;
    }
    if (cut && cap >= 3)
        event_puts(event, "...");
}

/* Appends ` name="value"` with the value escaped and capped. */
static void event_param_capped(struct syslog_event *event, const char *name, const char *value,
                               size_t cap)
{
    event_puts(event, " ");
    event_puts(event, name);
    event_puts(event, "=\"");
    event_text(event, value != NULL ? value : "", true, cap);
    event_puts(event, "\"");
}

static void event_param(struct syslog_event *event, const char *name, const char *value)
{
    event_param_capped(event, name, value, SYSLOG_VALUE_MAX);
}

static void event_param_count(struct syslog_event *event, const char *name, uint64_t value)
{
    char text[24];
    snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
    event_param(event, name, text);
}

static void event_param_time(struct syslog_event *event, const char *name, uint64_t usec)
{
    if (usec == 0)
        return;
    char text[32];
    report_format_time(usec, text, sizeof(text));
    event_param(event, name, text);
}

/* An evidence key as a PARAM-NAME: 1-32 PRINTUSASCII except '=', ' ', ']'
 * and '"' (others become '_'). */
static void event_param_name(struct syslog_event *event, const char *key)
{
    char name[SYSLOG_SD_NAME_MAX + 1];
    size_t len = 0;
    for (; len < SYSLOG_SD_NAME_MAX && key[len] != '\0'; len++) {
        unsigned char c = (unsigned char)key[len];
        bool allowed = c >= 33 && c <= 126 && c != '=' && c != ']' && c != '"';
        name[len] = allowed ? (char)c : '_';
    }
    if (len == 0)
        name[len++] = '_';
    name[len] = '\0';
    event_puts(event, " ");
    event_puts(event, name);
}

static void event_header(struct syslog_event *event, const struct syslog_header *header,
                         const struct audit_finding *finding)
{
    char text[64];
    int pri = header->facility * 8 + syslog_severity(finding->severity);
    snprintf(text, sizeof(text), "<%d>1 ", pri);
    event_puts(event, text);
    uint64_t usec = finding->last_usec != 0 ? finding->last_usec : finding->first_usec;
    if (usec != 0)
        report_format_time(usec, text, sizeof(text));
    else
        snprintf(text, sizeof(text), "%s",
                 header->fallback_time != NULL ? header->fallback_time : "-");
    char msgid[SYSLOG_MSGID_MAX + 1];
    header_field(msgid, SYSLOG_MSGID_MAX, finding_code_name(finding->code));
    const char *fields[] = {text, header->hostname, header->app_name, header->procid, msgid};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        event_puts(event, fields[i]);
        event_puts(event, " ");
    }
}

/* The rule's requirements joined with "; " into `buf`. */
static void join_requirements(const struct rule *rule, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < rule->requirement_count && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i > 0 ? "; " : "",
                         rule->requirements[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static void event_structured_data(struct syslog_event *event, const struct report_input *input,
                                  const struct audit_device *device,
                                  const struct audit_finding *finding)
{
    const struct rule *rule = &input->rules->by_code[finding->code];
    char proto[16];
    char requirements[RULE_MAX_REQUIREMENTS * (RULE_TEXT_MAX + 2)];
    join_requirements(rule, requirements, sizeof(requirements));
    event_puts(event, "[" REPORT_SYSLOG_SD_ID);
    if (input->matrix->site != NULL)
        event_param(event, "site", input->matrix->site);
    event_param(event, "device", device->device->name);
    event_param(event, "verdict", audit_device_verdict(device));
    event_param(event, "code", finding_code_name(finding->code));
    if (finding->variant != NULL)
        event_param(event, "variant", finding->variant->name);
    event_param(event, "severity", severity_name(finding->severity));
    event_param(event, "status", finding->waived ? "waived" : "open");
    if (finding->matrix_flow != NULL)
        event_param(event, "matrix_flow", finding->matrix_flow->id);
    event_param(event, "client", finding->flow.client_text);
    event_param(event, "server", finding->flow.server_text);
    event_param(event, "proto", report_proto_name(finding->flow.ip_proto, proto, sizeof(proto)));
    if (finding->flow.port != 0)
        event_param_count(event, "port", finding->flow.port);
    if (finding->flow.app[0] != '\0')
        event_param(event, "app", finding->flow.app);
    event_param_time(event, "first_seen", finding->first_usec);
    event_param_time(event, "last_seen", finding->last_usec);
    event_param_count(event, "connections", finding->flows);
    event_param_count(event, "packets", finding->packets);
    event_param_count(event, "bytes", finding->bytes);
    event_param_capped(event, "requirements", requirements, SYSLOG_REQUIREMENTS_MAX);
    if (finding->waived && finding->matrix_flow != NULL && finding->matrix_flow->waiver != NULL)
        event_param(event, "waiver", finding->matrix_flow->waiver);
    event_puts(event, "]");
    if (finding->evidence_count == 0)
        return;
    event_puts(event, "[" REPORT_SYSLOG_EVIDENCE_SD_ID);
    for (size_t i = 0; i < finding->evidence_count; i++) {
        event_param_name(event, finding->evidence[i].key);
        event_puts(event, "=\"");
        event_text(event, finding->evidence[i].value, true, SYSLOG_VALUE_MAX);
        event_puts(event, "\"");
    }
    event_puts(event, "]");
}

/* MSG: the BOM, the title and a sentence, cut to the room left. */
static bool event_message(struct syslog_event *event, const struct report_input *input,
                          const struct audit_device *device,
                          const struct audit_finding *finding)
{
    const struct rule *rule = &input->rules->by_code[finding->code];
    const char *title = finding->variant != NULL && finding->variant->title[0] != '\0'
                            ? finding->variant->title
                            : rule->title;
    char *text = NULL;
    size_t len = 0;
    FILE *msg = open_memstream(&text, &len);
    if (msg == NULL)
        return false;
    char proto[16];
    fprintf(msg, "%s: device %s, %s -> %s %s", title, device->device->name,
            finding->flow.client_text, finding->flow.server_text,
            report_proto_name(finding->flow.ip_proto, proto, sizeof(proto)));
    if (finding->flow.port != 0)
        fprintf(msg, "/%u", finding->flow.port);
    if (finding->flow.app[0] != '\0')
        fprintf(msg, " %s", finding->flow.app);
    fprintf(msg, ", %llu connection(s)", (unsigned long long)finding->flows);
    if (finding->waived && finding->matrix_flow != NULL && finding->matrix_flow->waiver != NULL)
        fprintf(msg, ", waived: %s", finding->matrix_flow->waiver);
    fputc('.', msg);
    if (fclose(msg) != 0) {
        free(text);
        return false;
    }
    event_puts(event, " " SYSLOG_BOM);
    size_t room = sizeof(event->data) - event->len;
    event_text(event, text, false, room);
    free(text);
    return true;
}

typedef bool (*syslog_emit_fn)(const struct syslog_event *event, void *context, char *err,
                               size_t err_len);

/* Builds every event in report order and hands each to `emit`. */
static bool syslog_each(const struct report_input *input,
                        const struct report_syslog_options *options, syslog_emit_fn emit,
                        void *context, char *err, size_t err_len)
{
    struct syslog_header header;
    if (!header_init(&header, input, options, err, err_len))
        return false;
    struct syslog_event *event = malloc(sizeof(*event));
    if (event == NULL) {
        snprintf(err, err_len, "out of memory while writing syslog events");
        return false;
    }
    bool ok = true;
    for (size_t d = 0; ok && d < audit_device_count(input->audit); d++) {
        const struct audit_device *device = audit_get_device(input->audit, d);
        for (size_t f = 0; ok && f < device->finding_count; f++) {
            const struct audit_finding *finding = &device->findings[f];
            event->len = 0;
            event->overflow = false;
            event_header(event, &header, finding);
            event_structured_data(event, input, device, finding);
            if (event->overflow) { /* cannot happen with the caps above */
                snprintf(err, err_len, "syslog event larger than %d bytes",
                         REPORT_SYSLOG_EVENT_MAX);
                ok = false;
            } else if (!event_message(event, input, device, finding)) {
                snprintf(err, err_len, "out of memory while writing syslog events");
                ok = false;
            } else {
                ok = emit(event, context, err, err_len);
            }
        }
    }
    free(event);
    return ok;
}

static bool emit_line(const struct syslog_event *event, void *context, char *err, size_t err_len)
{
    FILE *out = context;
    if (fwrite(event->data, 1, event->len, out) != event->len || fputc('\n', out) == EOF) {
        snprintf(err, err_len, "write error: %s", strerror(errno != 0 ? errno : EIO));
        return false;
    }
    return true;
}

bool report_write_syslog(FILE *out, const struct report_input *input,
                         const struct report_syslog_options *options, char *err, size_t err_len)
{
    if (!syslog_each(input, options, emit_line, out, err, err_len))
        return false;
    if (fflush(out) != 0 || ferror(out)) {
        snprintf(err, err_len, "write error: %s", strerror(errno != 0 ? errno : EIO));
        return false;
    }
    return true;
}

struct socket_target {
    int fd;
    const char *path;
};

static bool emit_datagram(const struct syslog_event *event, void *context, char *err,
                          size_t err_len)
{
    const struct socket_target *target = context;
    ssize_t sent = send(target->fd, event->data, event->len, MSG_NOSIGNAL);
    if (sent < 0 || (size_t)sent != event->len) {
        snprintf(err, err_len, "cannot send a syslog event to %s: %s", target->path,
                 sent < 0 ? strerror(errno) : "short send");
        return false;
    }
    return true;
}

bool report_send_syslog(const char *socket_path, const struct report_input *input,
                        const struct report_syslog_options *options, char *err, size_t err_len)
{
    struct sockaddr_un address;
    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    if (strlen(socket_path) >= sizeof(address.sun_path)) {
        snprintf(err, err_len, "syslog socket path too long: %.64s...", socket_path);
        return false;
    }
    memcpy(address.sun_path, socket_path, strlen(socket_path) + 1);
    struct syslog_header check;
    if (!header_init(&check, input, options, err, err_len))
        return false; /* bad options: say so before touching the socket */
    struct socket_target target = {.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0),
                                   .path = socket_path};
    if (target.fd < 0) {
        snprintf(err, err_len, "cannot create a datagram socket: %s", strerror(errno));
        return false;
    }
    if (connect(target.fd, (const struct sockaddr *)&address, sizeof(address)) != 0) {
        snprintf(err, err_len, "cannot connect to the syslog socket %s: %s", socket_path,
                 strerror(errno));
        close(target.fd);
        return false;
    }
    bool ok = syslog_each(input, options, emit_datagram, &target, err, err_len);
    close(target.fd);
    return ok;
}
