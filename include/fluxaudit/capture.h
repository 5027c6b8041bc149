/* capture: packets from capture files (pcap, pcapng) or a live interface.
 *
 * Opening is separate from reading, so main.c can drop privileges between
 * the two. Frames are handed out one at a time and are valid until the
 * next call. */
#ifndef FLUXAUDIT_CAPTURE_H
#define FLUXAUDIT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct capture_frame {
    uint64_t ts_usec;
    uint32_t caplen;
    uint32_t wire_len;
    const uint8_t *data;
};

struct capture_live_options {
    const char *interface;
    const char *filter;   /* BPF expression or NULL */
    int snaplen;          /* 0: default (262144) */
    bool promiscuous;
    int buffer_mb;        /* kernel ring size, 0: default */
};

enum capture_status {
    CAPTURE_FRAME = 1,    /* a frame was returned */
    CAPTURE_TIMEOUT = 0,  /* live only: nothing within the read timeout */
    CAPTURE_END = -1,     /* end of file, or capture_interrupt was called */
    CAPTURE_ERROR = -2,   /* read error; message in err */
};

struct capture;

/* Opens a pcap or pcapng file. Returns NULL and a message on failure. */
struct capture *capture_open_file(const char *path, char *err, size_t err_len);

/* Opens and activates a live interface (needs privileges). */
struct capture *capture_open_live(const struct capture_live_options *options, char *err, size_t err_len);

void capture_close(struct capture *capture);

/* The pcap link type (DLT_*) of the source. */
int capture_link_type(const struct capture *capture);

/* Reads the next frame. */
enum capture_status capture_next(struct capture *capture, struct capture_frame *frame, char *err,
                                 size_t err_len);

/* Makes capture_next return CAPTURE_END soon. Async-signal-safe. */
void capture_interrupt(struct capture *capture);

/* For files: bytes read so far and file size (0 when unknown), for progress. */
void capture_file_progress(const struct capture *capture, uint64_t *offset, uint64_t *size);

/* For live captures: frames received and dropped by the kernel and the
 * interface. Returns false when the platform cannot tell. */
bool capture_live_stats(struct capture *capture, uint64_t *received, uint64_t *dropped,
                        uint64_t *if_dropped);

#endif
