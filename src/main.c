/* fluxaudit: command line, wiring, privilege drop. The only file that
 * prints to the user and the only exit(). */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fluxaudit/capture.h"
#include "fluxaudit/default_credentials.h"
#include "fluxaudit/learn.h"
#include "fluxaudit/diag.h"
#include "fluxaudit/matrix.h"
#include "fluxaudit/pipeline.h"
#include "fluxaudit/report.h"
#include "fluxaudit/rules.h"
#include "fluxaudit/store.h"
#include "fluxaudit/web.h"

#define EXIT_CONFORM 0
#define EXIT_FINDINGS 1
#define EXIT_USAGE 2

#ifndef FLUXAUDIT_VERSION
#define FLUXAUDIT_VERSION "0.1.0"
#endif

/* Set from signal handlers; the capture loop polls it. */
static volatile sig_atomic_t stop_requested;
static struct capture *volatile active_capture;

static void on_stop_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
    struct capture *capture = active_capture;
    if (capture != NULL)
        capture_interrupt(capture);
}

static void install_signal_handlers(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    signal(SIGPIPE, SIG_IGN);
}

struct options {
    const char *command;
    const char *matrix_path;
    const char *rules_path;
    const char *default_credentials_path;
    const char *report_path;
    const char *html_path;
    const char *csv_path;
    const char *syslog_target; /* a file, or "unix:PATH" for a local datagram socket */
    const char *interface;
    const char *filter;
    const char *user;
    int snaplen;
    bool promiscuous;
    bool quiet;
    bool color;
    bool fail_never;
    enum severity fail_on;
    size_t max_flows;
    const char *db_path; /* campaign database */
    size_t retention_days;
    size_t checkpoint_seconds;
    const char *web_listen; /* --web ADDR:PORT */
    const char *tls_cert;
    const char *tls_key;
    const char *accounts_path;
    const char *format;         /* report --format */
    const char *output_path;    /* report -o, learn -o */
    const char *device;         /* learn --device ADDR[,ADDR...] */
    const char *inventory_path; /* CSV matrix inventory (default NAME.inventory.csv) */
    const char *mud_path;       /* RFC 8520 MUD file imported over the --matrix inventory */
    char **files;
    int file_count;
};

static void print_usage(FILE *out)
{
    fputs("usage:\n"
          "  fluxaudit replay FILE... --matrix M [--report R.json] [--fail-on SEV|none]\n"
          "  fluxaudit capture -i IFACE --matrix M [-f FILTER] [-s SNAPLEN] [-Z USER]\n"
          "                    [--report R.json] [--fail-on SEV|none]\n"
          "  fluxaudit matrix check FILE [--inventory INV.csv] [--mud MUD.json]\n"
          "  fluxaudit matrix convert FILE -o OUT.json|OUT.csv\n"
          "  fluxaudit serve --db FILE [--web ADDR:PORT] [--tls-cert C --tls-key K]\n"
          "                  [--accounts FILE]\n"
          "  fluxaudit report --db FILE --format json|html|csv|syslog [-o OUT]\n"
          "  fluxaudit account add USER --accounts FILE   (password read from stdin)\n"
          "  fluxaudit learn FILE... --device ADDR[,ADDR...] -o draft.json\n"
          "\n"
          "options:\n"
          "  -m, --matrix FILE     the supplier's flow matrix: fluxaudit-matrix/1 JSON, or CSV\n"
          "                        (with NAME.inventory.csv beside it); with --mud, the inventory\n"
          "      --inventory FILE  the CSV matrix's inventory, when not NAME.inventory.csv\n"
          "      --mud FILE        an RFC 8520 MUD file: the matrix of the inventory's devices\n"
          "                        of that model\n"
          "      --rules FILE      finding rules (default: the installed rules/findings.json)\n"
          "      --default-credentials FILE\n"
          "                        well-known default logins (default: rules/default-credentials)\n"
          "  -r, --report FILE     write the fluxaudit-report/1 JSON report (- for stdout)\n"
          "      --html FILE       write the printable HTML report\n"
          "      --csv FILE        write the findings as CSV\n"
          "      --syslog TARGET   RFC 5424 events, one per finding, to a file, or to a\n"
          "                        local syslog socket as unix:/dev/log\n"
          "      --fail-on SEV     exit 1 on an open finding at or above SEV\n"
          "                        (critical, high, medium, low, info; none: never; default high)\n"
          "      --max-flows N     flows held at once (default 131072); the least recently\n"
          "                        active flow is audited and dropped beyond it\n"
          "  -i, --interface IFACE live capture interface (capture)\n"
          "  -f, --filter EXPR     BPF capture filter (capture)\n"
          "  -s, --snaplen N       bytes captured per packet (capture, default 262144)\n"
          "      --no-promisc      do not put the interface in promiscuous mode\n"
          "  -Z, --user USER       drop root privileges to USER after opening the interface\n"
          "      --db FILE         keep the audit campaign in this SQLite database (merged\n"
          "                        across runs; a live capture checkpoints into it)\n"
          "      --retention-days N  purge campaign sessions older than N days (default 180)\n"
          "      --checkpoint-seconds N  live checkpoint interval (default 5)\n"
          "      --web ADDR:PORT   serve the web UI (capture, serve; default 127.0.0.1:8080)\n"
          "      --tls-cert FILE, --tls-key FILE  HTTPS (TLS 1.2+) for the web UI\n"
          "      --accounts FILE   web UI accounts (login required when it has any)\n"
          "  -q, --quiet           no summary table, no progress line\n"
          "      --no-color        no colours in the summary table\n"
          "  -h, --help, -V, --version\n"
          "\n"
          "exit status: 0 no open finding at or above --fail-on, 1 findings, 2 usage or input "
          "error\n",
          out);
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("fluxaudit: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'fluxaudit --help'.\n", stderr);
    return EXIT_USAGE;
}

static bool parse_size(const char *text, size_t min, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value < min || value > max)
        return false;
    *out = (size_t)value;
    return true;
}

enum {
    OPT_RULES = 256,
    OPT_FAIL_ON,
    OPT_MAX_FLOWS,
    OPT_NO_PROMISC,
    OPT_NO_COLOR,
    OPT_HTML,
    OPT_CSV,
    OPT_SYSLOG,
    OPT_DEFAULT_CREDENTIALS,
    OPT_DB,
    OPT_RETENTION_DAYS,
    OPT_CHECKPOINT_SECONDS,
    OPT_WEB,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_ACCOUNTS,
    OPT_FORMAT,
    OPT_DEVICE,
    OPT_INVENTORY,
    OPT_MUD,
};

/* The field an option that only stores its argument fills, or NULL. */
static const char **text_option(struct options *options, int c)
{
    switch (c) {
    case 'm':
        return &options->matrix_path;
    case OPT_RULES:
        return &options->rules_path;
    case 'r':
        return &options->report_path;
    case OPT_HTML:
        return &options->html_path;
    case OPT_CSV:
        return &options->csv_path;
    case OPT_SYSLOG:
        return &options->syslog_target;
    case OPT_DEFAULT_CREDENTIALS:
        return &options->default_credentials_path;
    case OPT_DB:
        return &options->db_path;
    case OPT_WEB:
        return &options->web_listen;
    case OPT_TLS_CERT:
        return &options->tls_cert;
    case OPT_TLS_KEY:
        return &options->tls_key;
    case OPT_ACCOUNTS:
        return &options->accounts_path;
    case OPT_FORMAT:
        return &options->format;
    case OPT_DEVICE:
        return &options->device;
    case OPT_INVENTORY:
        return &options->inventory_path;
    case OPT_MUD:
        return &options->mud_path;
    case 'o':
        return &options->output_path;
    case 'i':
        return &options->interface;
    case 'f':
        return &options->filter;
    case 'Z':
        return &options->user;
    default:
        return NULL;
    }
}

static int parse_options(int argc, char **argv, struct options *options)
{
    static const struct option long_options[] = {
        {"matrix", required_argument, NULL, 'm'},
        {"rules", required_argument, NULL, OPT_RULES},
        {"report", required_argument, NULL, 'r'},
        {"fail-on", required_argument, NULL, OPT_FAIL_ON},
        {"html", required_argument, NULL, OPT_HTML},
        {"csv", required_argument, NULL, OPT_CSV},
        {"syslog", required_argument, NULL, OPT_SYSLOG},
        {"default-credentials", required_argument, NULL, OPT_DEFAULT_CREDENTIALS},
        {"db", required_argument, NULL, OPT_DB},
        {"retention-days", required_argument, NULL, OPT_RETENTION_DAYS},
        {"checkpoint-seconds", required_argument, NULL, OPT_CHECKPOINT_SECONDS},
        {"web", required_argument, NULL, OPT_WEB},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
        {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"accounts", required_argument, NULL, OPT_ACCOUNTS},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"device", required_argument, NULL, OPT_DEVICE},
        {"inventory", required_argument, NULL, OPT_INVENTORY},
        {"mud", required_argument, NULL, OPT_MUD},
        {"output", required_argument, NULL, 'o'},
        {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
        {"interface", required_argument, NULL, 'i'},
        {"filter", required_argument, NULL, 'f'},
        {"snaplen", required_argument, NULL, 's'},
        {"user", required_argument, NULL, 'Z'},
        {"no-promisc", no_argument, NULL, OPT_NO_PROMISC},
        {"quiet", no_argument, NULL, 'q'},
        {"no-color", no_argument, NULL, OPT_NO_COLOR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    size_t value;
    while ((c = getopt_long(argc, argv, "m:r:i:f:s:Z:o:qh", long_options, NULL)) != -1) {
        const char **text = text_option(options, c);
        if (text != NULL) {
            *text = optarg;
            continue;
        }
        switch (c) {
        case OPT_RETENTION_DAYS:
            if (!parse_size(optarg, 1, 36500, &value))
                return usage_error("--retention-days: expected a number of days from 1 to 36500, "
                                   "got \"%s\"",
                                   optarg);
            options->retention_days = value;
            break;
        case OPT_CHECKPOINT_SECONDS:
            if (!parse_size(optarg, 1, 3600, &value))
                return usage_error("--checkpoint-seconds: expected 1 to 3600, got \"%s\"", optarg);
            options->checkpoint_seconds = value;
            break;
        case OPT_FAIL_ON:
            if (strcmp(optarg, "none") == 0)
                options->fail_never = true;
            else if (!severity_parse(optarg, &options->fail_on))
                return usage_error("--fail-on: unknown severity \"%s\" (critical, high, medium, "
                                   "low, info or none)",
                                   optarg);
            break;
        case OPT_MAX_FLOWS:
            if (!parse_size(optarg, 1, 100000000, &value))
                return usage_error("--max-flows: expected a number from 1 to 100000000, got \"%s\"",
                                   optarg);
            options->max_flows = value;
            break;
        case 's':
            if (!parse_size(optarg, 64, 262144, &value))
                return usage_error("--snaplen: expected a number from 64 to 262144, got \"%s\"",
                                   optarg);
            options->snaplen = (int)value;
            break;
        case OPT_NO_PROMISC:
            options->promiscuous = false;
            break;
        case 'q':
            options->quiet = true;
            break;
        case OPT_NO_COLOR:
            options->color = false;
            break;
        case 'h':
            print_usage(stdout);
            exit(EXIT_CONFORM);
        default:
            fputs("Try 'fluxaudit --help'.\n", stderr);
            return EXIT_USAGE;
        }
    }
    options->files = argv + optind;
    options->file_count = argc - optind;
    return 0;
}

static void print_diagnostics(const struct diag *diag)
{
    char line[1024];
    for (size_t i = 0; i < diag->count; i++) {
        diag_format(diag, i, line, sizeof(line));
        fprintf(stderr, "%s\n", line);
    }
    if (diag->dropped > 0)
        fprintf(stderr, "fluxaudit: %zu more errors not shown\n", diag->dropped);
}

/* Loads and validates every input file before any packet is read. */
static struct matrix *load_matrix(const struct options *options, const char *path,
                                  struct diag *diag);

/* Everything a run reads before its first packet. */
struct inputs {
    struct matrix *matrix;
    struct rules rules;
    struct default_credentials *default_credentials;
};

static void free_inputs(struct inputs *inputs)
{
    matrix_free(inputs->matrix);
    default_credentials_free(inputs->default_credentials);
    memset(inputs, 0, sizeof(*inputs));
}

/* Loads and validates every input file before any packet is read; all
 * their errors are printed, and nothing is kept unless all are sound. */
static bool load_inputs(const struct options *options, struct inputs *inputs)
{
    memset(inputs, 0, sizeof(*inputs));
    struct diag diag;
    diag_init(&diag);
    const char *rules_path = options->rules_path ? options->rules_path : rules_default_path();
    const char *defaults_path = options->default_credentials_path
                                    ? options->default_credentials_path
                                    : default_credentials_default_path();
    inputs->matrix = load_matrix(options, options->matrix_path, &diag);
    bool rules_ok = rules_load(rules_path, &inputs->rules, &diag);
    inputs->default_credentials = default_credentials_load(defaults_path, &diag);
    print_diagnostics(&diag);
    bool ok = inputs->matrix != NULL && rules_ok && inputs->default_credentials != NULL &&
              diag.errors == 0;
    diag_free(&diag);
    if (!ok)
        free_inputs(inputs);
    return ok;
}

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Progress of a replay, shown on a terminal only, after the first second. */
struct progress {
    bool enabled;
    double started;
    double last_shown;
    uint64_t done_bytes;  /* sizes of the files already read */
    uint64_t total_bytes; /* sizes of all files */
    bool shown;
};

static void progress_update(struct progress *progress, const struct capture *capture,
                            const struct pipeline_counters *counters)
{
    double now = monotonic_seconds();
    if (now - progress->started < 1.0 || now - progress->last_shown < 0.25)
        return;
    progress->last_shown = now;
    uint64_t offset, size;
    capture_file_progress(capture, &offset, &size);
    double rate = (double)counters->packets / (now - progress->started);
    double percent = progress->total_bytes ? 100.0 * (double)(progress->done_bytes + offset) /
                                                 (double)progress->total_bytes
                                           : 0.0;
    fprintf(stderr, "\r%llu packets, %.0f packets/s, %.1f%% done ",
            (unsigned long long)counters->packets, rate, percent > 100.0 ? 100.0 : percent);
    progress->shown = true;
}

static void progress_end(struct progress *progress)
{
    if (progress->shown)
        fputs("\r\033[K", stderr);
}

struct run;
static void run_tick(struct run *run);

/* Reads every frame of `capture` into the pipeline, ticking `run` (its
 * checkpoints and web snapshots) as it goes. Returns false on a read error
 * (already reported). */
static bool run_capture(struct capture *capture, struct pipeline *pipeline, struct run *run,
                        struct progress *progress)
{
    char err[512];
    int dlt = capture_link_type(capture);
    struct capture_frame frame;
    uint64_t frames = 0;
    active_capture = capture;
    for (;;) {
        enum capture_status status = capture_next(capture, &frame, err, sizeof(err));
        if (status == CAPTURE_END || stop_requested)
            break;
        if (status == CAPTURE_ERROR) {
            active_capture = NULL;
            fprintf(stderr, "fluxaudit: %s\n", err);
            return false;
        }
        if (status == CAPTURE_TIMEOUT) {
            struct timeval now;
            gettimeofday(&now, NULL);
            pipeline_tick(pipeline, (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_usec);
            run_tick(run);
            continue;
        }
        pipeline_process(pipeline, dlt, frame.ts_usec, frame.data, frame.caplen, frame.wire_len);
        if ((++frames & 0xFFF) == 0) {
            if (progress->enabled)
                progress_update(progress, capture, pipeline_get_counters(pipeline));
            run_tick(run);
        }
    }
    active_capture = NULL;
    return true;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* The report files of a run, opened before the first packet is read (and
 * before privileges are dropped) so that a bad path fails at once. */
struct outputs {
    FILE *json;
    FILE *html;
    FILE *csv;
    FILE *syslog;              /* NULL when syslog goes to a socket */
    const char *syslog_socket; /* "unix:PATH" target, or NULL */
};

#define SYSLOG_SOCKET_PREFIX "unix:"

static bool open_output(const char *path, FILE **out)
{
    if (path == NULL)
        return true;
    *out = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (*out == NULL)
        fprintf(stderr, "fluxaudit: %s: cannot write the report: %s\n", path, strerror(errno));
    return *out != NULL;
}

static void close_output(FILE **out)
{
    if (*out != NULL && *out != stdout)
        fclose(*out);
    *out = NULL;
}

static void close_outputs(struct outputs *outputs)
{
    close_output(&outputs->json);
    close_output(&outputs->html);
    close_output(&outputs->csv);
    close_output(&outputs->syslog);
}

static bool open_outputs(const struct options *options, struct outputs *outputs)
{
    memset(outputs, 0, sizeof(*outputs));
    const char *syslog_file = options->syslog_target;
    if (syslog_file != NULL &&
        strncmp(syslog_file, SYSLOG_SOCKET_PREFIX, strlen(SYSLOG_SOCKET_PREFIX)) == 0) {
        outputs->syslog_socket = syslog_file + strlen(SYSLOG_SOCKET_PREFIX);
        syslog_file = NULL;
    }
    bool ok = open_output(options->report_path, &outputs->json) &&
              open_output(options->html_path, &outputs->html) &&
              open_output(options->csv_path, &outputs->csv) &&
              open_output(syslog_file, &outputs->syslog);
    if (!ok)
        close_outputs(outputs);
    return ok;
}

/* Writes one report with `write` and closes its file; false after telling
 * the user what went wrong. */
static bool finish_output(FILE **out, const char *path, const struct report_input *input,
                          bool (*write)(FILE *, const struct report_input *, char *, size_t))
{
    if (*out == NULL)
        return true;
    char err[256] = "write error";
    bool ok = write(*out, input, err, sizeof(err));
    if (*out != stdout)
        ok = fclose(*out) == 0 && ok;
    else
        ok = fflush(stdout) == 0 && ok;
    *out = NULL;
    if (!ok)
        fprintf(stderr, "fluxaudit: %s: %s\n", path, err);
    return ok;
}

static bool write_syslog_file(FILE *out, const struct report_input *input, char *err,
                              size_t err_len)
{
    return report_write_syslog(out, input, NULL, err, err_len);
}

/* Writes every requested report; false if one of them failed. */
static bool write_outputs(const struct options *options, struct outputs *outputs,
                          const struct report_input *input)
{
    bool ok = finish_output(&outputs->json, options->report_path, input, report_write_json);
    ok = finish_output(&outputs->html, options->html_path, input, report_write_html) && ok;
    ok = finish_output(&outputs->csv, options->csv_path, input, report_write_csv) && ok;
    ok = finish_output(&outputs->syslog, options->syslog_target, input, write_syslog_file) && ok;
    if (outputs->syslog_socket != NULL) {
        char err[256];
        if (!report_send_syslog(outputs->syslog_socket, input, NULL, err, sizeof(err))) {
            fprintf(stderr, "fluxaudit: %s: %s\n", options->syslog_target, err);
            ok = false;
        }
    }
    return ok;
}

#define DEFAULT_CHECKPOINT_SECONDS 5
#define SNAPSHOT_SECONDS 3.0 /* the UI polls every 3 s; each snapshot renders every format */

/* A replay or a live capture in progress, and where it reports as it
 * goes: the campaign database, the web UI. */
struct run {
    const struct options *options;
    const struct inputs *inputs;
    struct pipeline *pipeline;
    struct capture *live; /* the live source, for drop counters; NULL for replays */
    const char *const *sources;
    size_t source_count;
    struct store *store; /* NULL without --db */
    int64_t session_id;
    struct web_server *web; /* NULL without --web */
    double last_checkpoint;
    double last_purge;
    double last_snapshot;
    double rate_since;
    uint64_t rate_packets;
    double rate_pps;
};

static uint64_t run_dropped(const struct run *run)
{
    uint64_t received, dropped, if_dropped;
    if (run->live == NULL || !capture_live_stats(run->live, &received, &dropped, &if_dropped))
        return 0;
    return dropped + if_dropped;
}

/* The figures every report of this run shows, around `audit`. */
struct run_view {
    struct report_input input;
    struct flow_table_stats flow_stats;
    struct dpi_stats dpi_stats;
    char generated_at[32];
};

static void run_view_fill(const struct run *run, const struct audit *audit, struct run_view *view)
{
    pipeline_get_flow_stats(run->pipeline, &view->flow_stats);
    pipeline_get_dpi_stats(run->pipeline, &view->dpi_stats);
    struct timeval now;
    gettimeofday(&now, NULL);
    report_format_time((uint64_t)now.tv_sec * 1000000u, view->generated_at,
                       sizeof(view->generated_at));
    view->input = (struct report_input){
        .sources = run->sources,
        .source_count = run->source_count,
        .counters = pipeline_get_counters(run->pipeline),
        .dropped = run_dropped(run),
        .flow_stats = &view->flow_stats,
        .dpi_stats = &view->dpi_stats,
        .matrix = run->inputs->matrix,
        .rules = &run->inputs->rules,
        .audit = audit,
        .access = pipeline_get_access(run->pipeline),
        .generated_at = view->generated_at,
    };
}

/* Writes the session's results to the campaign database: the ended flows'
 * results, and (unless final) the active flows' provisional ones. */
static bool run_checkpoint(struct run *run, bool final)
{
    if (run->store == NULL)
        return true;
    struct audit *provisional = NULL;
    if (!final) {
        provisional =
            audit_create(run->inputs->matrix, &run->inputs->rules, AUDIT_DEFAULT_MAX_ENTRIES);
        if (provisional != NULL) {
            pipeline_audit_active(run->pipeline, provisional);
            audit_access(provisional, pipeline_get_access(run->pipeline));
        }
    }
    struct run_view view;
    run_view_fill(run, pipeline_get_audit(run->pipeline), &view);
    char err[512];
    bool ok =
        store_checkpoint(run->store, run->session_id, &view.input, provisional, err, sizeof(err));
    audit_destroy(provisional);
    if (!ok)
        fprintf(stderr, "fluxaudit: %s: checkpoint failed: %s\n", run->options->db_path, err);
    return ok;
}

/* Publishes what the run has seen so far to the web UI. */
static void run_publish(struct run *run)
{
    if (run->web == NULL)
        return;
    struct audit *audit = pipeline_snapshot_audit(run->pipeline, run->inputs->matrix,
                                                  &run->inputs->rules, AUDIT_DEFAULT_MAX_ENTRIES);
    if (audit == NULL)
        return;
    struct run_view view;
    run_view_fill(run, audit, &view);
    char err[256];
    struct web_snapshot *snapshot =
        web_snapshot_create(&view.input, run->rate_pps, err, sizeof(err));
    if (snapshot != NULL)
        web_publish(run->web, snapshot);
    else
        fprintf(stderr, "fluxaudit: web snapshot: %s\n", err);
    audit_destroy(audit);
}

#define PURGE_SECONDS 3600.0

/* Deletes the campaign sessions past the retention (at start, then hourly
 * during a long live capture). */
static bool run_purge(struct run *run)
{
    const struct options *options = run->options;
    struct timeval now;
    gettimeofday(&now, NULL);
    uint64_t now_usec = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_usec;
    size_t purged = 0;
    unsigned retention =
        options->retention_days ? (unsigned)options->retention_days : STORE_DEFAULT_RETENTION_DAYS;
    char err[512];
    run->last_purge = monotonic_seconds();
    if (!store_purge(run->store, retention, now_usec, &purged, err, sizeof(err))) {
        fprintf(stderr, "fluxaudit: %s: %s\n", options->db_path, err);
        return false;
    }
    if (purged > 0 && !options->quiet)
        fprintf(stderr, "fluxaudit: %s: %zu sessions older than %u days purged\n", options->db_path,
                purged, retention);
    return true;
}

/* Called between packets and on read timeouts: checkpoints and web
 * snapshots when their time has come. */
static void run_tick(struct run *run)
{
    if (run == NULL || (run->store == NULL && run->web == NULL))
        return;
    double now = monotonic_seconds();
    uint64_t packets = pipeline_get_counters(run->pipeline)->packets;
    if (now - run->rate_since >= 1.0) {
        run->rate_pps = (double)(packets - run->rate_packets) / (now - run->rate_since);
        run->rate_since = now;
        run->rate_packets = packets;
    }
    size_t interval = run->options->checkpoint_seconds ? run->options->checkpoint_seconds
                                                       : DEFAULT_CHECKPOINT_SECONDS;
    if (run->store != NULL && now - run->last_checkpoint >= (double)interval) {
        run->last_checkpoint = now;
        run_checkpoint(run, false);
    }
    if (run->store != NULL && now - run->last_purge >= PURGE_SECONDS)
        run_purge(run);
    if (run->web != NULL && now - run->last_snapshot >= SNAPSHOT_SECONDS) {
        run->last_snapshot = now;
        run_publish(run);
    }
}

/* Reads up to 16 MiB of a text file (the matrix, kept with the campaign). */
static char *read_text_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return NULL;
    size_t cap = (size_t)16 << 20;
    char *text = malloc(cap + 1);
    size_t len = text != NULL ? fread(text, 1, cap, file) : 0;
    fclose(file);
    if (text != NULL)
        text[len] = '\0';
    return text;
}

/* Opens the campaign database, purges what is past retention, and starts
 * this run's session. */
static bool run_open_store(struct run *run, const char *kind)
{
    const struct options *options = run->options;
    if (options->db_path == NULL)
        return true;
    char err[512];
    run->store = store_open(options->db_path, false, err, sizeof(err));
    if (run->store == NULL) {
        fprintf(stderr, "fluxaudit: %s: %s\n", options->db_path, err);
        return false;
    }
    if (!run_purge(run))
        return false;
    struct timeval now;
    gettimeofday(&now, NULL);
    uint64_t now_usec = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_usec;
    char *matrix_text = read_text_file(options->matrix_path);
    struct store_session_info info = {.kind = kind,
                                      .sources = run->sources,
                                      .source_count = run->source_count,
                                      .matrix_text = matrix_text,
                                      .matrix_path = options->matrix_path,
                                      .started_usec = now_usec};
    bool ok = matrix_text != NULL &&
              store_begin_session(run->store, &info, &run->session_id, err, sizeof(err));
    free(matrix_text);
    if (!ok)
        fprintf(stderr, "fluxaudit: %s: %s\n", options->db_path,
                matrix_text == NULL ? "cannot read the matrix" : err);
    return ok;
}

static bool run_start_web(struct run *run, bool live)
{
    const struct options *options = run->options;
    if (options->web_listen == NULL)
        return true;
    struct web_options web = {.listen = options->web_listen,
                              .tls_cert = options->tls_cert,
                              .tls_key = options->tls_key,
                              .accounts = options->accounts_path,
                              .live = live};
    char err[512];
    run->web = web_start(&web, err, sizeof(err));
    if (run->web == NULL) {
        fprintf(stderr, "fluxaudit: --web %s: %s\n", options->web_listen, err);
        return false;
    }
    if (!options->quiet)
        fprintf(stderr, "fluxaudit: web UI on %s://%s/\n", options->tls_cert ? "https" : "http",
                web_listen_address(run->web));
    return true;
}

static void run_close(struct run *run)
{
    web_stop(run->web);
    run->web = NULL;
    if (run->store != NULL) {
        struct timeval now;
        gettimeofday(&now, NULL);
        char err[256];
        if (!store_end_session(run->store, run->session_id,
                               (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_usec, err,
                               sizeof(err)))
            fprintf(stderr, "fluxaudit: %s: %s\n", run->options->db_path, err);
        store_close(run->store);
        run->store = NULL;
    }
}

/* Ends the run: the final audit, its last checkpoint and snapshot, the
 * reports. Returns the exit status the findings call for. */
static int finish_run(struct run *run, struct outputs *outputs)
{
    const struct options *options = run->options;
    pipeline_finish(run->pipeline);
    struct run_view view;
    run_view_fill(run, pipeline_get_audit(run->pipeline), &view);
    bool ok = run_checkpoint(run, true);
    run_publish(run);
    /* A report on stdout leaves the terminal summary to stderr. */
    bool stdout_taken = outputs->json == stdout || outputs->html == stdout ||
                        outputs->csv == stdout || outputs->syslog == stdout;
    ok = write_outputs(options, outputs, &view.input) && ok;
    int status = ok ? EXIT_CONFORM : EXIT_USAGE;
    if (!options->quiet) {
        FILE *out = stdout_taken ? stderr : stdout;
        report_print_summary(out, &view.input, options->color && isatty(fileno(out)));
    }
    if (status == EXIT_CONFORM && !options->fail_never &&
        audit_has_open_at_or_above(view.input.audit, options->fail_on))
        status = EXIT_FINDINGS;
    return status;
}

static struct pipeline *make_pipeline(const struct options *options, const struct inputs *inputs)
{
    struct pipeline_config config;
    pipeline_default_config(&config);
    config.default_credentials = inputs->default_credentials;
    if (options->max_flows > 0)
        config.flows.max_flows = options->max_flows;
    FILE *urandom = fopen("/dev/urandom", "rb");
    if (urandom != NULL) {
        if (fread(&config.flows.hash_seed, sizeof(config.flows.hash_seed), 1, urandom) != 1)
            config.flows.hash_seed = (uint32_t)time(NULL);
        fclose(urandom);
    }
    char err[256];
    struct pipeline *pipeline =
        pipeline_create(&config, inputs->matrix, &inputs->rules, err, sizeof(err));
    if (pipeline == NULL)
        fprintf(stderr, "fluxaudit: %s\n", err);
    return pipeline;
}

static int command_replay(const struct options *options)
{
    if (options->file_count == 0)
        return usage_error("replay: no capture file given%s", "");
    if (options->matrix_path == NULL)
        return usage_error("replay: --matrix is required%s", "");
    struct inputs inputs;
    if (!load_inputs(options, &inputs))
        return EXIT_USAGE;
    /* Every file is checked before the first packet, like the matrix. */
    struct capture **captures = calloc((size_t)options->file_count, sizeof(*captures));
    int status = captures == NULL ? EXIT_USAGE : EXIT_CONFORM;
    struct progress progress = {.enabled = !options->quiet && isatty(STDERR_FILENO),
                                .started = monotonic_seconds()};
    for (int i = 0; captures != NULL && i < options->file_count; i++) {
        char err[512];
        captures[i] = capture_open_file(options->files[i], err, sizeof(err));
        if (captures[i] == NULL) {
            fprintf(stderr, "fluxaudit: %s\n", err);
            status = EXIT_USAGE;
        }
        progress.total_bytes += file_size(options->files[i]);
    }
    struct outputs outputs = {0};
    if (status == EXIT_CONFORM && !open_outputs(options, &outputs))
        status = EXIT_USAGE;
    struct pipeline *pipeline = status == EXIT_CONFORM ? make_pipeline(options, &inputs) : NULL;
    if (status == EXIT_CONFORM && pipeline == NULL)
        status = EXIT_USAGE;
    struct run run = {.options = options,
                      .inputs = &inputs,
                      .pipeline = pipeline,
                      .sources = (const char *const *)options->files,
                      .source_count = (size_t)options->file_count};
    run.rate_since = run.last_checkpoint = run.last_snapshot = monotonic_seconds();
    if (status == EXIT_CONFORM && !run_open_store(&run, "replay"))
        status = EXIT_USAGE;
    for (int i = 0; status == EXIT_CONFORM && i < options->file_count && !stop_requested; i++) {
        if (!run_capture(captures[i], pipeline, &run, &progress))
            status = EXIT_USAGE;
        progress.done_bytes += file_size(options->files[i]);
    }
    progress_end(&progress);
    if (status == EXIT_CONFORM)
        status = finish_run(&run, &outputs);
    run_close(&run);
    close_outputs(&outputs);
    pipeline_destroy(pipeline);
    for (int i = 0; captures != NULL && i < options->file_count; i++)
        capture_close(captures[i]);
    free(captures);
    free_inputs(&inputs);
    return status;
}

/* Gives up root for good: groups, then gid, then uid, and checks that
 * root cannot be regained. */
static bool drop_privileges(const char *user)
{
    struct passwd *pw = getpwnam(user);
    if (pw == NULL) {
        fprintf(stderr, "fluxaudit: -Z %s: no such user\n", user);
        return false;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        fprintf(stderr, "fluxaudit: -Z %s: cannot drop privileges: %s\n", user, strerror(errno));
        return false;
    }
    if (pw->pw_uid != 0 && setuid(0) == 0) {
        fprintf(stderr, "fluxaudit: -Z %s: root privileges could be regained\n", user);
        return false;
    }
    return true;
}

static int command_capture(const struct options *options)
{
    if (options->interface == NULL)
        return usage_error("capture: -i IFACE is required%s", "");
    if (options->matrix_path == NULL)
        return usage_error("capture: --matrix is required%s", "");
    if (options->file_count > 0)
        return usage_error("capture: unexpected argument \"%s\"", options->files[0]);
    struct inputs inputs;
    if (!load_inputs(options, &inputs))
        return EXIT_USAGE;
    char err[512];
    struct capture_live_options live = {.interface = options->interface,
                                        .filter = options->filter,
                                        .snaplen = options->snaplen,
                                        .promiscuous = options->promiscuous};
    struct capture *capture = capture_open_live(&live, err, sizeof(err));
    if (capture == NULL) {
        fprintf(stderr, "fluxaudit: %s\n", err);
        free_inputs(&inputs);
        return EXIT_USAGE;
    }
    char source[300];
    snprintf(source, sizeof(source), "live:%s", options->interface);
    const char *sources[] = {source};
    struct run run = {.options = options,
                      .inputs = &inputs,
                      .live = capture,
                      .sources = sources,
                      .source_count = 1};
    struct outputs outputs;
    int status = open_outputs(options, &outputs) ? EXIT_CONFORM : EXIT_USAGE;
    /* Files, the database, the web port and the TLS key are opened while
     * still privileged; packets are read only after the drop. */
    if (status == EXIT_CONFORM && (!run_open_store(&run, "live") || !run_start_web(&run, true)))
        status = EXIT_USAGE;
    if (status == EXIT_CONFORM && options->user != NULL && !drop_privileges(options->user))
        status = EXIT_USAGE;
    struct pipeline *pipeline = status == EXIT_CONFORM ? make_pipeline(options, &inputs) : NULL;
    if (status == EXIT_CONFORM && pipeline == NULL)
        status = EXIT_USAGE;
    run.pipeline = pipeline;
    run.rate_since = run.last_checkpoint = run.last_snapshot = monotonic_seconds();
    if (status == EXIT_CONFORM) {
        if (!options->quiet)
            fprintf(stderr, "fluxaudit: capturing on %s (link type %d); Ctrl-C to stop\n",
                    options->interface, capture_link_type(capture));
        run_publish(&run);
        struct progress no_progress = {.enabled = false};
        if (!run_capture(capture, pipeline, &run, &no_progress))
            status = EXIT_USAGE;
    }
    if (status == EXIT_CONFORM) {
        status = finish_run(&run, &outputs);
        uint64_t dropped = run_dropped(&run);
        if (!options->quiet && dropped > 0)
            fprintf(stderr, "fluxaudit: warning: %llu packets dropped by the kernel or interface\n",
                    (unsigned long long)dropped);
    }
    run_close(&run);
    close_outputs(&outputs);
    pipeline_destroy(pipeline);
    capture_close(capture);
    free_inputs(&inputs);
    return status;
}

/* Loads the campaign of --db with the current rules. */
static bool load_campaign(const struct options *options, struct store **store, struct rules *rules,
                          struct store_campaign *campaign)
{
    struct diag diag;
    diag_init(&diag);
    const char *rules_path = options->rules_path ? options->rules_path : rules_default_path();
    bool ok = rules_load(rules_path, rules, &diag);
    print_diagnostics(&diag);
    diag_free(&diag);
    if (!ok)
        return false;
    char err[512];
    *store = store_open(options->db_path, true, err, sizeof(err));
    if (*store == NULL) {
        fprintf(stderr, "fluxaudit: %s: %s\n", options->db_path, err);
        return false;
    }
    if (!store_load_campaign(*store, rules, campaign, err, sizeof(err))) {
        fprintf(stderr, "fluxaudit: %s: %s\n", options->db_path, err);
        store_close(*store);
        *store = NULL;
        return false;
    }
    return true;
}

static bool write_syslog_to(FILE *out, const struct report_input *input, char *err, size_t err_len)
{
    return report_write_syslog(out, input, NULL, err, err_len);
}

/* fluxaudit report --db FILE --format json|html|csv|syslog [-o OUT] */
static int command_report(const struct options *options)
{
    static const struct {
        const char *name;
        bool (*write)(FILE *, const struct report_input *, char *, size_t);
    } formats[] = {{"json", report_write_json},
                   {"html", report_write_html},
                   {"csv", report_write_csv},
                   {"syslog", write_syslog_to}};
    if (options->db_path == NULL)
        return usage_error("report: --db is required%s", "");
    const char *format = options->format ? options->format : "json";
    size_t chosen = sizeof(formats) / sizeof(formats[0]);
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (strcmp(formats[i].name, format) == 0)
            chosen = i;
    }
    if (chosen == sizeof(formats) / sizeof(formats[0]))
        return usage_error("report: unknown --format \"%s\" (json, html, csv, syslog)", format);
    struct store *store;
    struct rules rules;
    struct store_campaign campaign;
    if (!load_campaign(options, &store, &rules, &campaign))
        return EXIT_USAGE;
    FILE *out = stdout;
    int status = EXIT_CONFORM;
    if (options->output_path != NULL && !open_output(options->output_path, &out))
        status = EXIT_USAGE;
    if (status == EXIT_CONFORM &&
        !finish_output(&out, options->output_path ? options->output_path : "stdout",
                       &campaign.report, formats[chosen].write))
        status = EXIT_USAGE;
    if (status == EXIT_CONFORM && !options->fail_never &&
        audit_has_open_at_or_above(campaign.audit, options->fail_on))
        status = EXIT_FINDINGS;
    store_campaign_free(&campaign);
    store_close(store);
    return status;
}

#define SERVE_RELOAD_SECONDS 10

/* Renders the campaign of --db and publishes it to `web`. */
static bool serve_publish(const struct options *options, struct web_server *web)
{
    struct store *store;
    struct rules rules;
    struct store_campaign campaign;
    if (!load_campaign(options, &store, &rules, &campaign))
        return false;
    char err[256];
    struct web_snapshot *snapshot = web_snapshot_create(&campaign.report, 0.0, err, sizeof(err));
    if (snapshot != NULL)
        web_publish(web, snapshot);
    else
        fprintf(stderr, "fluxaudit: web snapshot: %s\n", err);
    store_campaign_free(&campaign);
    store_close(store);
    return snapshot != NULL;
}

/* fluxaudit serve --db FILE [--web ADDR:PORT] ...: the stored campaign in
 * the web UI, reloaded every few seconds, until SIGINT/SIGTERM. */
static int command_serve(const struct options *options)
{
    if (options->db_path == NULL)
        return usage_error("serve: --db is required%s", "");
    struct web_options web_options = {.listen = options->web_listen,
                                      .tls_cert = options->tls_cert,
                                      .tls_key = options->tls_key,
                                      .accounts = options->accounts_path};
    char err[512];
    struct web_server *web = web_start(&web_options, err, sizeof(err));
    if (web == NULL) {
        fprintf(stderr, "fluxaudit: --web %s: %s\n",
                options->web_listen ? options->web_listen : "127.0.0.1:8080", err);
        return EXIT_USAGE;
    }
    if (!serve_publish(options, web)) {
        web_stop(web);
        return EXIT_USAGE;
    }
    if (!options->quiet)
        fprintf(stderr, "fluxaudit: serving %s on %s://%s/; Ctrl-C to stop\n", options->db_path,
                options->tls_cert ? "https" : "http", web_listen_address(web));
    for (unsigned seconds = 0; !stop_requested; seconds++) {
        sleep(1);
        if (seconds % SERVE_RELOAD_SECONDS == SERVE_RELOAD_SECONDS - 1)
            serve_publish(options, web);
    }
    web_stop(web);
    return EXIT_CONFORM;
}

/* Reads one line (a password) from stdin, without echo on a terminal. */
static bool read_password(char *buf, size_t len)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios saved, quiet;
    if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        fputs("password: ", stderr);
    }
    bool ok = fgets(buf, (int)len, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        fputc('\n', stderr);
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    return ok && buf[0] != '\0';
}

/* fluxaudit account add USER --accounts FILE */
static int command_account(const struct options *options)
{
    if (options->file_count != 2 || strcmp(options->files[0], "add") != 0)
        return usage_error("account: expected 'add USER'%s", "");
    if (options->accounts_path == NULL)
        return usage_error("account add: --accounts FILE is required%s", "");
    char password[256];
    if (!read_password(password, sizeof(password))) {
        fprintf(stderr, "fluxaudit: account add: no password given on standard input\n");
        return EXIT_USAGE;
    }
    char err[512];
    bool ok =
        web_account_set(options->accounts_path, options->files[1], password, err, sizeof(err));
    explicit_bzero(password, sizeof(password));
    if (!ok) {
        fprintf(stderr, "fluxaudit: %s: %s\n", options->accounts_path, err);
        return EXIT_USAGE;
    }
    if (!options->quiet)
        fprintf(stderr, "fluxaudit: account %s saved in %s\n", options->files[1],
                options->accounts_path);
    return EXIT_CONFORM;
}

/* What learn needs while the captures are replayed. */
struct learn_run {
    struct learner *learner;
    const struct matrix_device *device;
};

/* Each ended flow of the device becomes one observation. */
static void learn_flow(const struct flow *flow, void *user)
{
    struct learn_run *run = user;
    bool client =
        matrix_device_owns(run->device, &flow->client, flow->has_mac ? &flow->client_mac : NULL);
    bool server =
        matrix_device_owns(run->device, &flow->server, flow->has_mac ? &flow->server_mac : NULL);
    if (!client && !server)
        return;
    struct learn_observation observation = {
        .device_is_client = client,
        .security = flow->facts.security,
        .tls_version = flow->facts.tls.server_hello_seen ? flow->facts.tls.version : 0,
        .connections = 1,
        .packets = flow->packets[0] + flow->packets[1],
        .bytes = flow->bytes[0] + flow->bytes[1],
        .first_usec = flow->first_usec,
        .last_usec = flow->last_usec,
    };
    observation.flow.client = flow->client;
    observation.flow.server = flow->server;
    net_addr_format(&flow->client, observation.flow.client_text,
                    sizeof(observation.flow.client_text));
    net_addr_format(&flow->server, observation.flow.server_text,
                    sizeof(observation.flow.server_text));
    observation.flow.ip_proto = flow->ip_proto;
    observation.flow.port =
        flow->ip_proto == IP_PROTO_TCP || flow->ip_proto == IP_PROTO_UDP ? flow->server_port : 0;
    snprintf(observation.flow.app, sizeof(observation.flow.app), "%s", flow->facts.app);
    learner_add(run->learner, &observation);
}

/* A one-device matrix for the addresses of --device, so that the pipeline
 * attributes the device's flows (it declares none). */
static struct matrix *learn_matrix(const char *devices)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", MATRIX_FORMAT);
    cJSON *list = cJSON_AddArrayToObject(root, "devices");
    cJSON *device = cJSON_CreateObject();
    cJSON_AddItemToArray(list, device);
    cJSON_AddStringToObject(device, "name", LEARN_DEFAULT_DEVICE_NAME);
    cJSON *addresses = cJSON_AddArrayToObject(device, "addresses");
    char *copy = strdup(devices);
    char *saveptr = NULL;
    for (char *item = copy ? strtok_r(copy, ",", &saveptr) : NULL; item != NULL;
         item = strtok_r(NULL, ",", &saveptr))
        cJSON_AddItemToArray(addresses, cJSON_CreateString(item));
    free(copy);
    cJSON_AddArrayToObject(device, "flows");
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    struct diag diag;
    diag_init(&diag);
    struct matrix *matrix =
        text != NULL ? matrix_parse_json("--device", text, strlen(text), &diag) : NULL;
    print_diagnostics(&diag);
    diag_free(&diag);
    free(text);
    return matrix;
}

/* fluxaudit learn FILE... --device ADDR -o draft.json */
static int command_learn(const struct options *options)
{
    if (options->file_count == 0)
        return usage_error("learn: no capture file given%s", "");
    if (options->device == NULL)
        return usage_error("learn: --device ADDR is required%s", "");
    struct inputs inputs;
    memset(&inputs, 0, sizeof(inputs));
    struct diag diag;
    diag_init(&diag);
    bool ok = rules_load(options->rules_path ? options->rules_path : rules_default_path(),
                         &inputs.rules, &diag);
    print_diagnostics(&diag);
    diag_free(&diag);
    inputs.matrix = ok ? learn_matrix(options->device) : NULL;
    if (inputs.matrix == NULL)
        return EXIT_USAGE;
    const struct matrix_device *device = &inputs.matrix->devices[0];
    struct learn_options learn_options = {.device_macs = device->macs,
                                          .device_mac_count = device->mac_count};
    struct learn_run learn = {.device = device};
    learn.learner = learner_create(&learn_options, device->prefixes, device->prefix_count);
    FILE *out = NULL;
    int status = learn.learner != NULL &&
                         open_output(options->output_path ? options->output_path : "-", &out)
                     ? EXIT_CONFORM
                     : EXIT_USAGE;
    struct pipeline_config config;
    pipeline_default_config(&config);
    config.on_flow_audited = learn_flow;
    config.on_flow_audited_user = &learn;
    char err[512];
    struct pipeline *pipeline =
        status == EXIT_CONFORM
            ? pipeline_create(&config, inputs.matrix, &inputs.rules, err, sizeof(err))
            : NULL;
    for (int i = 0; pipeline != NULL && i < options->file_count && !stop_requested; i++) {
        struct capture *capture = capture_open_file(options->files[i], err, sizeof(err));
        if (capture == NULL) {
            fprintf(stderr, "fluxaudit: %s\n", err);
            status = EXIT_USAGE;
            break;
        }
        struct progress no_progress = {.enabled = false};
        if (!run_capture(capture, pipeline, NULL, &no_progress))
            status = EXIT_USAGE;
        capture_close(capture);
    }
    if (pipeline != NULL && status == EXIT_CONFORM) {
        pipeline_finish(pipeline);
        if (!learner_write_json(learn.learner, out, err, sizeof(err))) {
            fprintf(stderr, "fluxaudit: learn: %s\n", err);
            status = EXIT_USAGE;
        }
    }
    pipeline_destroy(pipeline);
    close_output(&out);
    learner_destroy(learn.learner);
    matrix_free(inputs.matrix);
    return status;
}

/* Loads the matrix the options name: --mud FILE over the --matrix
 * inventory, else --matrix by its extension (.json, .csv with its
 * companions or --inventory). */
static struct matrix *load_matrix(const struct options *options, const char *path,
                                  struct diag *diag)
{
    if (options->mud_path != NULL)
        return matrix_load_mud(options->mud_path, path, diag);
    return matrix_load(path, options->inventory_path, diag);
}

/* fluxaudit matrix check FILE: validation, then the smells as warnings. */
static int matrix_check(const struct options *options, const char *path)
{
    struct diag diag;
    diag_init(&diag);
    struct matrix *matrix = load_matrix(options, path, &diag);
    if (matrix != NULL)
        matrix_lint(matrix, &diag);
    print_diagnostics(&diag);
    size_t warnings = diag.count - diag.errors;
    diag_free(&diag);
    if (matrix == NULL)
        return EXIT_USAGE;
    size_t flows = 0;
    for (size_t i = 0; i < matrix->device_count; i++)
        flows += matrix->devices[i].flow_count;
    printf("%s: ok (%zu devices, %zu hosts, %zu flows",
           options->mud_path ? options->mud_path : path, matrix->device_count, matrix->host_count,
           flows);
    if (warnings > 0)
        printf(", %zu warnings", warnings);
    printf(")\n");
    matrix_free(matrix);
    return EXIT_CONFORM;
}

static bool has_suffix(const char *text, const char *suffix)
{
    size_t len = strlen(text), suffix_len = strlen(suffix);
    return len >= suffix_len && strcmp(text + len - suffix_len, suffix) == 0;
}

/* fluxaudit matrix convert IN -o OUT: JSON <-> CSV, by OUT's extension. */
static int matrix_convert(const struct options *options, const char *path)
{
    const char *out_path = options->output_path;
    if (out_path == NULL || (!has_suffix(out_path, ".json") && !has_suffix(out_path, ".csv")))
        return usage_error("matrix convert: -o OUT.json or -o OUT.csv is required%s", "");
    struct diag diag;
    diag_init(&diag);
    struct matrix *matrix = load_matrix(options, path, &diag);
    print_diagnostics(&diag);
    diag_free(&diag);
    if (matrix == NULL)
        return EXIT_USAGE;
    char err[512] = "";
    bool ok;
    if (has_suffix(out_path, ".csv")) {
        ok = matrix_write_csv(matrix, out_path, err, sizeof(err));
    } else {
        FILE *out = NULL;
        ok = open_output(out_path, &out) && matrix_write_json(matrix, out, err, sizeof(err));
        if (out != NULL && out != stdout)
            ok = fclose(out) == 0 && ok;
    }
    matrix_free(matrix);
    if (!ok) {
        fprintf(stderr, "fluxaudit: %s: %s\n", out_path, err[0] ? err : "write error");
        return EXIT_USAGE;
    }
    return EXIT_CONFORM;
}

static int command_matrix(const struct options *options)
{
    if (options->file_count != 2)
        return usage_error("matrix: expected 'check FILE' or 'convert FILE -o OUT'%s", "");
    const char *verb = options->files[0];
    if (strcmp(verb, "check") == 0)
        return matrix_check(options, options->files[1]);
    if (strcmp(verb, "convert") == 0)
        return matrix_convert(options, options->files[1]);
    return usage_error("matrix: unknown subcommand \"%s\" (check, convert)", verb);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_usage(stdout);
        return EXIT_CONFORM;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("fluxaudit %s\n", FLUXAUDIT_VERSION);
        return EXIT_CONFORM;
    }
    struct options options = {
        .command = argv[1], .promiscuous = true, .color = true, .fail_on = SEVERITY_HIGH};
    /* The command is argv[1]; getopt sees the rest. */
    int status = parse_options(argc - 1, argv + 1, &options);
    if (status != 0)
        return status;
    install_signal_handlers();
    if (strcmp(options.command, "replay") == 0)
        return command_replay(&options);
    if (strcmp(options.command, "capture") == 0)
        return command_capture(&options);
    if (strcmp(options.command, "matrix") == 0)
        return command_matrix(&options);
    if (strcmp(options.command, "report") == 0)
        return command_report(&options);
    if (strcmp(options.command, "serve") == 0)
        return command_serve(&options);
    if (strcmp(options.command, "account") == 0)
        return command_account(&options);
    if (strcmp(options.command, "learn") == 0)
        return command_learn(&options);
    return usage_error(
        "unknown command \"%s\" (replay, capture, learn, matrix, report, serve, account)",
        options.command);
}
