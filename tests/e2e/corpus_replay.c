/* corpus_replay: replays every capture of a directory tree through the
 * whole pipeline (decode, flow table, nDPI, inspectors, audit, report), one
 * pipeline per file, so the sanitizers see every third-party capture.
 *
 *   corpus_replay MATRIX DIR...
 *
 * Exits 0 when every file was processed (files libpcap cannot open are
 * counted and skipped), 77 (skip) when no DIR exists. Crashes, hangs and
 * sanitizer reports are the failures this test exists to catch. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fluxaudit/capture.h"
#include "fluxaudit/matrix.h"
#include "fluxaudit/pipeline.h"
#include "fluxaudit/report.h"
#include "fluxaudit/rules.h"

struct totals {
    unsigned long files;
    unsigned long unreadable;
    unsigned long long packets;
    unsigned long long malformed;
};

static void replay_file(const char *path, const struct matrix *matrix, const struct rules *rules,
                        struct totals *totals)
{
    char err[512];
    struct capture *capture = capture_open_file(path, err, sizeof(err));
    if (capture == NULL) {
        totals->unreadable++;
        return;
    }
    struct pipeline_config config;
    pipeline_default_config(&config);
    config.flows.max_flows = 512; /* small, so eviction runs on the larger files */
    struct pipeline *pipeline = pipeline_create(&config, matrix, rules, err, sizeof(err));
    if (pipeline == NULL) {
        fprintf(stderr, "%s: %s\n", path, err);
        exit(1);
    }
    int dlt = capture_link_type(capture);
    struct capture_frame frame;
    enum capture_status status;
    while ((status = capture_next(capture, &frame, err, sizeof(err))) == CAPTURE_FRAME)
        pipeline_process(pipeline, dlt, frame.ts_usec, frame.data, frame.caplen, frame.wire_len);
    pipeline_finish(pipeline);
    /* Write the report too: serialisation sees whatever the audit made. */
    struct flow_table_stats flow_stats;
    struct dpi_stats dpi_stats;
    pipeline_get_flow_stats(pipeline, &flow_stats);
    pipeline_get_dpi_stats(pipeline, &dpi_stats);
    const char *sources[] = {path};
    struct report_input input = {.sources = sources, .source_count = 1,
                                 .counters = pipeline_get_counters(pipeline),
                                 .flow_stats = &flow_stats, .dpi_stats = &dpi_stats,
                                 .matrix = matrix, .rules = rules,
                                 .audit = pipeline_get_audit(pipeline)};
    FILE *sink = fopen("/dev/null", "w");
    if (sink != NULL) {
        report_write_json(sink, &input, err, sizeof(err));
        report_print_summary(sink, &input, false);
        fclose(sink);
    }
    totals->files++;
    totals->packets += input.counters->packets;
    totals->malformed += input.counters->malformed;
    pipeline_destroy(pipeline);
    capture_close(capture);
}

/* Replays the regular files under `dir`, in name order, recursively. */
static bool replay_tree(const char *dir, const struct matrix *matrix, const struct rules *rules,
                        struct totals *totals)
{
    struct dirent **entries;
    int count = scandir(dir, &entries, NULL, alphasort);
    if (count < 0)
        return false;
    for (int i = 0; i < count; i++) {
        const char *name = entries[i]->d_name;
        if (name[0] != '.' && strcmp(name, "README.md") != 0) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", dir, name);
            struct stat st;
            if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                replay_tree(path, matrix, rules, totals);
            else if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                replay_file(path, matrix, rules, totals);
        }
        free(entries[i]);
    }
    free(entries);
    return true;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: corpus_replay MATRIX DIR...\n");
        return 2;
    }
    struct diag diag;
    diag_init(&diag);
    struct rules rules;
    struct matrix *matrix = matrix_load_json(argv[1], &diag);
    bool ok = matrix != NULL && rules_load(rules_default_path(), &rules, &diag);
    for (size_t i = 0; i < diag.count; i++) {
        char line[1024];
        diag_format(&diag, i, line, sizeof(line));
        fprintf(stderr, "%s\n", line);
    }
    diag_free(&diag);
    if (!ok) {
        matrix_free(matrix);
        return 2;
    }
    struct totals totals = {0};
    int found = 0;
    for (int i = 2; i < argc; i++) {
        if (replay_tree(argv[i], matrix, &rules, &totals))
            found++;
        else
            fprintf(stderr, "corpus_replay: %s: not found, skipped\n", argv[i]);
    }
    matrix_free(matrix);
    if (found == 0) {
        printf("SKIP: no corpus directory found (the third-party corpus lives in ../shared/corpus)\n");
        return 77;
    }
    printf("%lu files replayed, %lu not readable as pcap/pcapng, %llu packets, %llu malformed\n",
           totals.files, totals.unreadable, totals.packets, totals.malformed);
    return 0;
}
