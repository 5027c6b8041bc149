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

#endif
