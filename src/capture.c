/* capture: libpcap sources, files or a live interface. */
#include "fluxaudit/capture.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#define CAPTURE_DEFAULT_SNAPLEN 262144
/* Live reads return at least this often, so idle flows expire and a stop
 * request is seen even on a silent link. */
#define CAPTURE_READ_TIMEOUT_MS 250

struct capture {
    pcap_t *pcap;
    bool live;
    int fd;                          /* live: the selectable descriptor, polled by us */
    FILE *file;                      /* the file pcap reads, for progress */
    uint64_t file_size;
    volatile sig_atomic_t interrupted;
};

static struct capture *capture_new(void)
{
    return calloc(1, sizeof(struct capture));
}

struct capture *capture_open_file(const char *path, char *err, size_t err_len)
{
    struct capture *capture = capture_new();
    if (capture == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    capture->file = fopen(path, "rb");
    if (capture->file == NULL) {
        snprintf(err, err_len, "%s: cannot open: %m", path);
        free(capture);
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(capture->file), &st) == 0 && S_ISREG(st.st_mode))
        capture->file_size = (uint64_t)st.st_size;
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    /* pcap reads from our FILE (and closes it), so ftell gives progress. */
    capture->pcap = pcap_fopen_offline_with_tstamp_precision(capture->file,
                                                             PCAP_TSTAMP_PRECISION_MICRO, pcap_err);
    if (capture->pcap == NULL) {
        snprintf(err, err_len, "%s: not a pcap or pcapng file (%s)", path, pcap_err);
        fclose(capture->file);
        free(capture);
        return NULL;
    }
    return capture;
}

static bool set_filter(pcap_t *pcap, const char *filter, char *err, size_t err_len)
{
    struct bpf_program program;
    if (pcap_compile(pcap, &program, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, err_len, "bad capture filter \"%s\": %s", filter, pcap_geterr(pcap));
        return false;
    }
    int status = pcap_setfilter(pcap, &program);
    pcap_freecode(&program);
    if (status != 0) {
        snprintf(err, err_len, "cannot set capture filter: %s", pcap_geterr(pcap));
        return false;
    }
    return true;
}

struct capture *capture_open_live(const struct capture_live_options *options, char *err,
                                  size_t err_len)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    struct capture *capture = capture_new();
    if (capture == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    capture->live = true;
    pcap_t *pcap = pcap_create(options->interface, pcap_err);
    if (pcap == NULL) {
        snprintf(err, err_len, "%s: %s", options->interface, pcap_err);
        free(capture);
        return NULL;
    }
    pcap_set_snaplen(pcap, options->snaplen > 0 ? options->snaplen : CAPTURE_DEFAULT_SNAPLEN);
    pcap_set_promisc(pcap, options->promiscuous ? 1 : 0);
    pcap_set_timeout(pcap, CAPTURE_READ_TIMEOUT_MS);
    pcap_set_tstamp_precision(pcap, PCAP_TSTAMP_PRECISION_MICRO);
    if (options->buffer_mb > 0)
        pcap_set_buffer_size(pcap, options->buffer_mb * 1024 * 1024);
    int status = pcap_activate(pcap);
    if (status < 0) {
        snprintf(err, err_len, "%s: cannot capture: %s", options->interface,
                 status == PCAP_ERROR ? pcap_geterr(pcap) : pcap_statustostr(status));
        pcap_close(pcap);
        free(capture);
        return NULL;
    }
    capture->pcap = pcap;
    if (options->filter != NULL && !set_filter(pcap, options->filter, err, err_len)) {
        capture_close(capture);
        return NULL;
    }
    /* Non-blocking reads and our own poll: libpcap 1.10 on Linux (TPACKET_V3)
     * keeps waiting past the read timeout when no packet comes, and the
     * capture loop must wake up to expire flows and checkpoint. */
    capture->fd = pcap_get_selectable_fd(pcap);
    if (capture->fd < 0 || pcap_setnonblock(pcap, 1, pcap_err) != 0) {
        snprintf(err, err_len, "%s: cannot read without blocking: %s", options->interface,
                 capture->fd < 0 ? "no selectable descriptor" : pcap_err);
        capture_close(capture);
        return NULL;
    }
    return capture;
}

void capture_close(struct capture *capture)
{
    if (capture == NULL)
        return;
    if (capture->pcap != NULL)
        pcap_close(capture->pcap); /* also closes capture->file */
    free(capture);
}

int capture_link_type(const struct capture *capture)
{
    return pcap_datalink(capture->pcap);
}

enum capture_status capture_next(struct capture *capture, struct capture_frame *frame, char *err,
                                 size_t err_len)
{
    if (capture->interrupted)
        return CAPTURE_END;
    struct pcap_pkthdr *header;
    const u_char *data;
    int status = pcap_next_ex(capture->pcap, &header, &data);
    if (status == 0 && capture->live) {
        /* Nothing ready: wait for the descriptor, at most the read timeout
         * (a signal ends the wait early, and the loop sees its flag). */
        struct pollfd fds = {.fd = capture->fd, .events = POLLIN};
        if (poll(&fds, 1, CAPTURE_READ_TIMEOUT_MS) > 0 && !capture->interrupted)
            status = pcap_next_ex(capture->pcap, &header, &data);
    }
    switch (status) {
    case 1:
        break;
    case 0:
        return CAPTURE_TIMEOUT;
    case PCAP_ERROR_BREAK:
        return CAPTURE_END;
    default:
        snprintf(err, err_len, "read error: %s", pcap_geterr(capture->pcap));
        return CAPTURE_ERROR;
    }
    frame->ts_usec = (uint64_t)header->ts.tv_sec * 1000000u + (uint64_t)header->ts.tv_usec;
    frame->caplen = header->caplen;
    frame->wire_len = header->len;
    frame->data = data;
    return CAPTURE_FRAME;
}

void capture_interrupt(struct capture *capture)
{
    capture->interrupted = 1;
    pcap_breakloop(capture->pcap);
}

void capture_file_progress(const struct capture *capture, uint64_t *offset, uint64_t *size)
{
    *offset = 0;
    *size = capture->file_size;
    if (capture->file != NULL && !capture->live) {
        long position = ftell(capture->file);
        if (position > 0)
            *offset = (uint64_t)position;
    }
}

bool capture_live_stats(struct capture *capture, uint64_t *received, uint64_t *dropped,
                        uint64_t *if_dropped)
{
    struct pcap_stat stats;
    *received = *dropped = *if_dropped = 0;
    if (!capture->live || pcap_stats(capture->pcap, &stats) != 0)
        return false;
    *received = stats.ps_recv;
    *dropped = stats.ps_drop;
    *if_dropped = stats.ps_ifdrop;
    return true;
}
