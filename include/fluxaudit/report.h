/* report: the audit's results as files and terminal output. Reads, never
 * decides. */
#ifndef FLUXAUDIT_REPORT_H
#define FLUXAUDIT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "fluxaudit/audit.h"
#include "fluxaudit/flow.h"
#include "fluxaudit/dpi.h"
#include "fluxaudit/matrix.h"
#include "fluxaudit/pipeline.h"
#include "fluxaudit/rules.h"

#define REPORT_FORMAT "fluxaudit-report/1"

/* Everything a report shows, borrowed from the stages that own it. */
struct report_input {
    const char *const *sources;  /* capture files or "live:IFACE" */
    size_t source_count;
    const struct pipeline_counters *counters;
    uint64_t dropped;            /* kernel + interface drops (live), 0 for files */
    const struct flow_table_stats *flow_stats;
    const struct dpi_stats *dpi_stats;
    const struct matrix *matrix;
    const struct rules *rules;
    const struct audit *audit;
    const struct access_table *access; /* 802.11 networks and 802.1X stations, may be NULL */
    const char *generated_at;    /* RFC 3339 UTC; NULL to omit (golden tests) */
};

/* Writes the fluxaudit-report/1 JSON document to `out`. Returns false and a
 * message in `err` on failure. */
bool report_write_json(FILE *out, const struct report_input *input, char *err, size_t err_len);

/* Writes the per-device summary table for the terminal. `color` adds ANSI
 * colours for a tty. */
void report_print_summary(FILE *out, const struct report_input *input, bool color);

/* The report's name for an IP protocol: "tcp", "udp", "icmp", "icmpv6",
 * "any" for 0, else "ip-N" written into buf. */
const char *report_proto_name(uint8_t proto, char *buf, size_t len);

/* Formats a microsecond timestamp as RFC 3339 UTC with seconds ("…Z"). */
void report_format_time(uint64_t usec, char *buf, size_t len);

/* ---- HTML, CSV and syslog (docs/report-formats.md) ----------------------
 * The same report_input as the JSON report, read and never judged. Every
 * string from the input is treated as hostile: escaped for its format, and
 * bytes that are not well-formed UTF-8 (or are control characters where the
 * format cannot carry them) become U+FFFD, so the output is always UTF-8. */

/* Writes one self-contained printable HTML document (inline print CSS, no
 * script, no external resource) for a device's acceptance file. Returns
 * false and a message in `err` on a write error. */
bool report_write_html(FILE *out, const struct report_input *input, char *err, size_t err_len);

/* Writes an RFC 4180 CSV file (CRLF, UTF-8 without BOM, a header row), one
 * row per finding. A field a spreadsheet would read as a formula is
 * prefixed with a single quote. Returns false and a message in `err` on a
 * write error. */
bool report_write_csv(FILE *out, const struct report_input *input, char *err, size_t err_len);

/* The private enterprise number in the SD-IDs of the syslog events. 32473
 * is the number IANA reserves for documentation (RFC 5612); a deployment
 * with its own number may build with -DREPORT_SYSLOG_ENTERPRISE='"NNNN"'. */
#ifndef REPORT_SYSLOG_ENTERPRISE
#define REPORT_SYSLOG_ENTERPRISE "32473"
#endif
#define REPORT_SYSLOG_SD_ID "fluxaudit@" REPORT_SYSLOG_ENTERPRISE
#define REPORT_SYSLOG_EVIDENCE_SD_ID "evidence@" REPORT_SYSLOG_ENTERPRISE
#define REPORT_SYSLOG_DEFAULT_FACILITY 13 /* "log audit" (RFC 5424 table 1) */
#define REPORT_SYSLOG_EVENT_MAX 8192      /* bytes per event, newline excluded */

struct report_syslog_options {
    const char *hostname; /* NULL: this host's name (gethostname) */
    const char *app_name; /* NULL: "fluxaudit" */
    const char *procid;   /* NULL: the NILVALUE "-" */
    int facility;         /* 1-23; 0 for REPORT_SYSLOG_DEFAULT_FACILITY */
};

/* Writes one RFC 5424 event per finding to `out`, one per line ("\n").
 * `options` may be NULL for the defaults. Returns false and a message in
 * `err` on bad options or a write error. */
bool report_write_syslog(FILE *out, const struct report_input *input,
                         const struct report_syslog_options *options, char *err, size_t err_len);

/* Sends the same events, one datagram each, to the local AF_UNIX datagram
 * socket at `socket_path` (e.g. /dev/log). Returns false and a message in
 * `err` on bad options or when the socket cannot be reached or refuses an
 * event (events before it were sent). */
bool report_send_syslog(const char *socket_path, const struct report_input *input,
                        const struct report_syslog_options *options, char *err, size_t err_len);

/* The length (1-4) of the well-formed UTF-8 character at the start of the
 * `len` bytes at `text`, or 0 when they do not start with one (stray
 * continuation, overlong form, surrogate, beyond U+10FFFF, cut short). */
size_t report_utf8_char_length(const char *text, size_t len);

#endif
