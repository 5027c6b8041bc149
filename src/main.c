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
#include <time.h>
#include <unistd.h>

#include "fluxaudit/capture.h"
#include "fluxaudit/default_credentials.h"
#include "fluxaudit/diag.h"
#include "fluxaudit/matrix.h"
#include "fluxaudit/pipeline.h"
#include "fluxaudit/report.h"
#include "fluxaudit/rules.h"

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
    char **files;
    int file_count;
};

static void print_usage(FILE *out)
{
    fputs("usage:\n"
          "  fluxaudit replay FILE... --matrix M [--report R.json] [--fail-on SEV|none]\n"
          "  fluxaudit capture -i IFACE --matrix M [-f FILTER] [-s SNAPLEN] [-Z USER]\n"
          "                    [--report R.json] [--fail-on SEV|none]\n"
          "  fluxaudit matrix check FILE\n"
          "\n"
          "options:\n"
          "  -m, --matrix FILE     the supplier's flow matrix (fluxaudit-matrix/1 JSON)\n"
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
          "      --max-flows N     flows held at once (default 262144); the least recently\n"
          "                        active flow is audited and dropped beyond it\n"
          "  -i, --interface IFACE live capture interface (capture)\n"
          "  -f, --filter EXPR     BPF capture filter (capture)\n"
          "  -s, --snaplen N       bytes captured per packet (capture, default 262144)\n"
          "      --no-promisc      do not put the interface in promiscuous mode\n"
          "  -Z, --user USER       drop root privileges to USER after opening the interface\n"
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
};

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
    while ((c = getopt_long(argc, argv, "m:r:i:f:s:Z:qh", long_options, NULL)) != -1) {
        switch (c) {
        case 'm':
            options->matrix_path = optarg;
            break;
        case OPT_RULES:
            options->rules_path = optarg;
            break;
        case 'r':
            options->report_path = optarg;
            break;
        case OPT_HTML:
            options->html_path = optarg;
            break;
        case OPT_CSV:
            options->csv_path = optarg;
            break;
        case OPT_SYSLOG:
            options->syslog_target = optarg;
            break;
        case OPT_DEFAULT_CREDENTIALS:
            options->default_credentials_path = optarg;
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
        case 'i':
            options->interface = optarg;
            break;
        case 'f':
            options->filter = optarg;
            break;
        case 's':
            if (!parse_size(optarg, 64, 262144, &value))
                return usage_error("--snaplen: expected a number from 64 to 262144, got \"%s\"",
                                   optarg);
            options->snaplen = (int)value;
            break;
        case 'Z':
            options->user = optarg;
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
    inputs->matrix = matrix_load_json(options->matrix_path, &diag);
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

/* Reads every frame of `capture` into the pipeline. Returns false on a read
 * error (already reported). */
static bool run_capture(struct capture *capture, struct pipeline *pipeline,
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
            continue;
        }
        pipeline_process(pipeline, dlt, frame.ts_usec, frame.data, frame.caplen, frame.wire_len);
        if (progress->enabled && (++frames & 0xFFF) == 0)
            progress_update(progress, capture, pipeline_get_counters(pipeline));
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

/* Writes the outputs and returns the exit status the findings call for. */
static int finish_run(const struct options *options, struct pipeline *pipeline,
                      const struct inputs *inputs, const char *const *sources, size_t source_count,
                      uint64_t dropped, struct outputs *outputs)
{
    pipeline_finish(pipeline);
    struct flow_table_stats flow_stats;
    struct dpi_stats dpi_stats;
    pipeline_get_flow_stats(pipeline, &flow_stats);
    pipeline_get_dpi_stats(pipeline, &dpi_stats);
    char generated_at[32];
    struct timeval now;
    gettimeofday(&now, NULL);
    report_format_time((uint64_t)now.tv_sec * 1000000u, generated_at, sizeof(generated_at));
    struct report_input input = {
        .sources = sources,
        .source_count = source_count,
        .counters = pipeline_get_counters(pipeline),
        .dropped = dropped,
        .flow_stats = &flow_stats,
        .dpi_stats = &dpi_stats,
        .matrix = inputs->matrix,
        .rules = &inputs->rules,
        .audit = pipeline_get_audit(pipeline),
        .access = pipeline_get_access(pipeline),
        .generated_at = generated_at,
    };
    /* A report on stdout leaves the terminal summary to stderr. */
    bool stdout_taken = outputs->json == stdout || outputs->html == stdout ||
                        outputs->csv == stdout || outputs->syslog == stdout;
    int status = write_outputs(options, outputs, &input) ? EXIT_CONFORM : EXIT_USAGE;
    if (!options->quiet) {
        FILE *out = stdout_taken ? stderr : stdout;
        report_print_summary(out, &input, options->color && isatty(fileno(out)));
    }
    if (status == EXIT_CONFORM && !options->fail_never &&
        audit_has_open_at_or_above(input.audit, options->fail_on))
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
    for (int i = 0; status == EXIT_CONFORM && i < options->file_count && !stop_requested; i++) {
        if (!run_capture(captures[i], pipeline, &progress))
            status = EXIT_USAGE;
        progress.done_bytes += file_size(options->files[i]);
    }
    progress_end(&progress);
    if (status == EXIT_CONFORM)
        status = finish_run(options, pipeline, &inputs, (const char *const *)options->files,
                            (size_t)options->file_count, 0, &outputs);
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
    struct outputs outputs;
    int status = open_outputs(options, &outputs) ? EXIT_CONFORM : EXIT_USAGE;
    if (status == EXIT_CONFORM && options->user != NULL && !drop_privileges(options->user))
        status = EXIT_USAGE;
    struct pipeline *pipeline = status == EXIT_CONFORM ? make_pipeline(options, &inputs) : NULL;
    if (status == EXIT_CONFORM && pipeline == NULL)
        status = EXIT_USAGE;
    if (status == EXIT_CONFORM) {
        if (!options->quiet)
            fprintf(stderr, "fluxaudit: capturing on %s (link type %d); Ctrl-C to stop\n",
                    options->interface, capture_link_type(capture));
        struct progress no_progress = {.enabled = false};
        if (!run_capture(capture, pipeline, &no_progress))
            status = EXIT_USAGE;
    }
    if (status == EXIT_CONFORM) {
        uint64_t received, dropped, if_dropped;
        capture_live_stats(capture, &received, &dropped, &if_dropped);
        char source[300];
        snprintf(source, sizeof(source), "live:%s", options->interface);
        const char *sources[] = {source};
        status = finish_run(options, pipeline, &inputs, sources, 1, dropped + if_dropped, &outputs);
        if (!options->quiet && dropped + if_dropped > 0)
            fprintf(stderr, "fluxaudit: warning: %llu packets dropped by the kernel or interface\n",
                    (unsigned long long)(dropped + if_dropped));
    }
    close_outputs(&outputs);
    pipeline_destroy(pipeline);
    capture_close(capture);
    free_inputs(&inputs);
    return status;
}

static int command_matrix(const struct options *options)
{
    if (options->file_count < 1)
        return usage_error("matrix: expected 'check FILE'%s", "");
    const char *verb = options->files[0];
    if (strcmp(verb, "check") != 0)
        return usage_error("matrix: unknown subcommand \"%s\" (this version has: check)", verb);
    if (options->file_count != 2)
        return usage_error("matrix check: expected exactly one FILE%s", "");
    struct diag diag;
    diag_init(&diag);
    struct matrix *matrix = matrix_load_json(options->files[1], &diag);
    print_diagnostics(&diag);
    diag_free(&diag);
    if (matrix == NULL)
        return EXIT_USAGE;
    size_t flows = 0;
    for (size_t i = 0; i < matrix->device_count; i++)
        flows += matrix->devices[i].flow_count;
    printf("%s: ok (%zu devices, %zu hosts, %zu flows)\n", options->files[1], matrix->device_count,
           matrix->host_count, flows);
    matrix_free(matrix);
    return EXIT_CONFORM;
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
    return usage_error("unknown command \"%s\" (replay, capture, matrix)", options.command);
}
