/* web_driver: serves the web UI on a replayed capture, for the HTTP tests
 * (tests/e2e/web_http.sh).
 *
 *   web_driver serve --matrix M --pcap P [--rules R] [--listen ADDR:PORT]
 *                    [--tls-cert C --tls-key K] [--accounts F] [--live]
 *       replays P through the whole pipeline, publishes one snapshot,
 *       prints "listening ADDR:PORT" and serves until SIGTERM or SIGINT.
 *   web_driver account FILE USER
 *       adds USER to FILE with the password read from standard input
 *       (one line), as `fluxaudit account add` does.
 *
 * Exits 0 on a clean stop, 1 on a setup error, 2 on bad usage. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/capture.h"
#include "fluxaudit/matrix.h"
#include "fluxaudit/pipeline.h"
#include "fluxaudit/report.h"
#include "fluxaudit/rules.h"
#include "fluxaudit/web.h"

struct args {
    const char *matrix;
    const char *pcap;
    const char *rules;
    struct web_options web;
};

static int usage(void)
{
    fprintf(stderr, "usage: web_driver serve --matrix M --pcap P [--rules R] [--listen A:P]\n"
                    "           [--tls-cert C --tls-key K] [--accounts F] [--live]\n"
                    "       web_driver account FILE USER   (password on stdin)\n");
    return 2;
}

static bool parse_args(int argc, char **argv, struct args *args)
{
    memset(args, 0, sizeof(*args));
    for (int i = 2; i < argc; i++) {
        const char *opt = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(opt, "--live") == 0) {
            args->web.live = true;
            continue;
        }
        if (value == NULL)
            return false;
        i++;
        if (strcmp(opt, "--matrix") == 0)
            args->matrix = value;
        else if (strcmp(opt, "--pcap") == 0)
            args->pcap = value;
        else if (strcmp(opt, "--rules") == 0)
            args->rules = value;
        else if (strcmp(opt, "--listen") == 0)
            args->web.listen = value;
        else if (strcmp(opt, "--tls-cert") == 0)
            args->web.tls_cert = value;
        else if (strcmp(opt, "--tls-key") == 0)
            args->web.tls_key = value;
        else if (strcmp(opt, "--accounts") == 0)
            args->web.accounts = value;
        else
            return false;
    }
    return args->matrix != NULL && args->pcap != NULL;
}

static int account(int argc, char **argv)
{
    if (argc != 4)
        return usage();
    char password[512];
    if (fgets(password, sizeof(password), stdin) == NULL)
        return usage();
    password[strcspn(password, "\r\n")] = '\0';
    char err[512];
    bool ok = web_account_set(argv[2], argv[3], password, err, sizeof(err));
    memset(password, 0, sizeof(password));
    if (!ok) {
        fprintf(stderr, "web_driver: %s\n", err);
        return 1;
    }
    return 0;
}

/* Replays the capture and returns a snapshot of its report, or NULL. */
static struct web_snapshot *replay(const struct args *args, const struct matrix *matrix,
                                   const struct rules *rules)
{
    char err[512];
    struct capture *capture = capture_open_file(args->pcap, err, sizeof(err));
    struct pipeline_config config;
    pipeline_default_config(&config);
    struct pipeline *pipeline =
        capture != NULL ? pipeline_create(&config, matrix, rules, err, sizeof(err)) : NULL;
    struct web_snapshot *snapshot = NULL;
    if (pipeline != NULL) {
        int dlt = capture_link_type(capture);
        struct capture_frame frame;
        while (capture_next(capture, &frame, err, sizeof(err)) == CAPTURE_FRAME)
            pipeline_process(pipeline, dlt, frame.ts_usec, frame.data, frame.caplen,
                             frame.wire_len);
        pipeline_finish(pipeline);
        struct flow_table_stats flow_stats;
        struct dpi_stats dpi_stats;
        pipeline_get_flow_stats(pipeline, &flow_stats);
        pipeline_get_dpi_stats(pipeline, &dpi_stats);
        const char *sources[] = {args->pcap};
        struct report_input input = {.sources = sources,
                                     .source_count = 1,
                                     .counters = pipeline_get_counters(pipeline),
                                     .flow_stats = &flow_stats,
                                     .dpi_stats = &dpi_stats,
                                     .matrix = matrix,
                                     .rules = rules,
                                     .audit = pipeline_get_audit(pipeline),
                                     .access = pipeline_get_access(pipeline)};
        snapshot = web_snapshot_create(&input, 0, err, sizeof(err));
        pipeline_destroy(pipeline);
    }
    if (capture != NULL)
        capture_close(capture);
    if (snapshot == NULL)
        fprintf(stderr, "web_driver: %s\n", err);
    return snapshot;
}

static int serve(int argc, char **argv)
{
    struct args args;
    if (!parse_args(argc, argv, &args))
        return usage();
    struct diag diag;
    diag_init(&diag);
    struct matrix *matrix = matrix_load_json(args.matrix, &diag);
    static struct rules rules;
    bool ok = matrix != NULL &&
              rules_load(args.rules != NULL ? args.rules : rules_default_path(), &rules, &diag);
    diag_free(&diag);
    if (!ok) {
        fprintf(stderr, "web_driver: cannot load the matrix or the rules\n");
        matrix_free(matrix);
        return 1;
    }
    /* Signals are taken synchronously: block them before threads start. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct web_snapshot *snapshot = replay(&args, matrix, &rules);
    char err[512];
    struct web_server *server = snapshot != NULL ? web_start(&args.web, err, sizeof(err)) : NULL;
    if (server == NULL) {
        if (snapshot != NULL)
            fprintf(stderr, "web_driver: %s\n", err);
        web_publish(NULL, snapshot);
        matrix_free(matrix);
        return 1;
    }
    web_publish(server, snapshot);
    printf("listening %s\n", web_listen_address(server));
    fflush(stdout);
    int signal_number;
    sigwait(&signals, &signal_number);
    web_stop(server);
    matrix_free(matrix);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        return serve(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "account") == 0)
        return account(argc, argv);
    return usage();
}
