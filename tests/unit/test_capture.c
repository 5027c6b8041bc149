/* Unit tests for capture: reading pcap, nanosecond pcap and pcapng files
 * (frame count, exact timestamps and lengths, link type, progress), every
 * way opening or reading a file can fail (missing, text, empty, truncated
 * header, truncated records), interruption, and live-only calls. */
#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/capture.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

#define ERR_MAX 512

/* dns.pcap (pcaps/README.md): ARP request, ARP reply, DNS query, answer. */
#define DNS_FRAMES 4
#define DNS_FILE_SIZE 382u
#define DNS_FIRST_USEC 1795633959577698ULL
#define DNS_LAST_USEC 1795633959578014ULL
/* pcap file header (24) + record header (16) + first frame (42). */
#define DNS_OFFSET_AFTER_FIRST 82u

static const uint32_t dns_caplen[DNS_FRAMES] = {42, 42, 103, 107};
static const uint64_t dns_ts[DNS_FRAMES] = {
    1795633959577698ULL, 1795633959577772ULL, 1795633959577775ULL, 1795633959578014ULL};

/* The source tree: meson's environment first, then the build's macro. */
static const char *source_root(void)
{
    const char *root = getenv("FLUXAUDIT_SOURCE_ROOT");
    if (root != NULL && root[0] != '\0')
        return root;
#ifdef FLUXAUDIT_SOURCE_ROOT
    return FLUXAUDIT_SOURCE_ROOT;
#else
    return ".";
#endif
}

static void pcap_path(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/pcaps/%s", source_root(), name);
}

static void data_path(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/capture/%s", TEST_DATA_DIR, name);
}

static struct capture *open_ok(const char *path)
{
    char err[ERR_MAX] = "";
    struct capture *capture = capture_open_file(path, err, sizeof err);
    ck_assert_msg(capture != NULL, "cannot open %s: %s", path, err);
    return capture;
}

/* Reads every frame of the four-frame dns capture and checks each one
 * exactly, then the end of file and the progress at the end. */
static void check_dns_frames(struct capture *capture, uint64_t expected_size)
{
    char err[ERR_MAX] = "";
    struct capture_frame frame;
    for (size_t i = 0; i < DNS_FRAMES; i++) {
        memset(&frame, 0, sizeof frame);
        ck_assert_int_eq(capture_next(capture, &frame, err, sizeof err), CAPTURE_FRAME);
        ck_assert_uint_eq(frame.ts_usec, dns_ts[i]);
        ck_assert_uint_eq(frame.caplen, dns_caplen[i]);
        ck_assert_uint_eq(frame.wire_len, dns_caplen[i]);
        ck_assert_ptr_nonnull(frame.data);
    }
    ck_assert_int_eq(capture_next(capture, &frame, err, sizeof err), CAPTURE_END);
    /* End of file is sticky. */
    ck_assert_int_eq(capture_next(capture, &frame, err, sizeof err), CAPTURE_END);
    uint64_t offset = 1, size = 1;
    capture_file_progress(capture, &offset, &size);
    ck_assert_uint_eq(size, expected_size);
    ck_assert_uint_eq(offset, expected_size);
}

START_TEST(test_pcap_frames)
{
    char path[1024];
    pcap_path(path, sizeof path, "dns.pcap");
    struct capture *capture = open_ok(path);
    ck_assert_int_eq(capture_link_type(capture), DLT_EN10MB);
    check_dns_frames(capture, DNS_FILE_SIZE);
    capture_close(capture);
}
END_TEST

START_TEST(test_first_frame_bytes)
{
    char path[1024];
    char err[ERR_MAX] = "";
    pcap_path(path, sizeof path, "dns.pcap");
    struct capture *capture = open_ok(path);
    struct capture_frame frame;
    ck_assert_int_eq(capture_next(capture, &frame, err, sizeof err), CAPTURE_FRAME);
    ck_assert_uint_eq(frame.ts_usec, DNS_FIRST_USEC);
    /* Broadcast ARP request from the device's MAC 02:00:0a:0a:01:14. */
    static const uint8_t head[14] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
                                     0x00, 0x0a, 0x0a, 0x01, 0x14, 0x08, 0x06};
    ck_assert_int_eq(memcmp(frame.data, head, sizeof head), 0);
    capture_close(capture);
}
END_TEST

START_TEST(test_progress_counts_bytes_read)
{
    char path[1024];
    char err[ERR_MAX] = "";
    pcap_path(path, sizeof path, "dns.pcap");
    struct capture *capture = open_ok(path);
    uint64_t offset = 1, size = 0;
    capture_file_progress(capture, &offset, &size);
    ck_assert_uint_eq(size, DNS_FILE_SIZE);
    ck_assert_uint_le(offset, 24); /* at most the file header so far */
    struct capture_frame frame;
    ck_assert_int_eq(capture_next(capture, &frame, err, sizeof err), CAPTURE_FRAME);
    capture_file_progress(capture, &offset, &size);
    ck_assert_uint_eq(offset, DNS_OFFSET_AFTER_FIRST);
    ck_assert_uint_eq(size, DNS_FILE_SIZE);
    capture_close(capture);
}
END_TEST

START_TEST(test_pcapng_frames)
{
    char path[1024];
    data_path(path, sizeof path, "dns.pcapng");
    struct capture *capture = open_ok(path);
    ck_assert_int_eq(capture_link_type(capture), DLT_EN10MB);
    check_dns_frames(capture, 556);
    capture_close(capture);
}
END_TEST

/* A nanosecond pcap is scaled down to microseconds, not misread. */
START_TEST(test_nanosecond_pcap)
{
    char path[1024];
    data_path(path, sizeof path, "dns-nsec.pcap");
    struct capture *capture = open_ok(path);
    check_dns_frames(capture, DNS_FILE_SIZE);
    capture_close(capture);
}
END_TEST

START_TEST(test_missing_file)
{
    char path[1024];
    char err[ERR_MAX] = "";
    data_path(path, sizeof path, "no-such-file.pcap");
    ck_assert_ptr_null(capture_open_file(path, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
}
END_TEST

/* Every unreadable file is refused at open time with a message that names
 * it, and leaks nothing (ASan). */
static void check_refused(const char *name, const char *detail)
{
    char path[1024];
    char err[ERR_MAX] = "";
    data_path(path, sizeof path, name);
    ck_assert_ptr_null(capture_open_file(path, err, sizeof err));
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "message \"%s\" names no path", err);
    ck_assert_msg(strstr(err, "not a pcap or pcapng file") != NULL, "message \"%s\"", err);
    ck_assert_msg(strstr(err, detail) != NULL, "message \"%s\" lacks \"%s\"", err, detail);
}

START_TEST(test_text_file)
{
    check_refused("not-a-capture.txt", "unknown file format");
}
END_TEST

START_TEST(test_empty_file)
{
    check_refused("empty.pcap", "truncated");
}
END_TEST

START_TEST(test_truncated_file_header)
{
    check_refused("truncated-header.pcap", "truncated");
}
END_TEST

START_TEST(test_directory)
{
    char err[ERR_MAX] = "";
    char path[1024];
    snprintf(path, sizeof path, "%s/capture", TEST_DATA_DIR);
    ck_assert_ptr_null(capture_open_file(path, err, sizeof err));
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "message \"%s\" names no path", err);
}
END_TEST

/* A file cut inside a record: the complete frames before come out intact,
 * then a read error that says the file is truncated. */
static void check_cut_record(const char *name, const char *detail)
{
    char path[1024];
    char err[ERR_MAX] = "";
    data_path(path, sizeof path, name);
    struct capture *capture = open_ok(path);
    struct capture_frame frame;
    ck_assert_int_eq(capture_next(capture, &frame, err, sizeof err), CAPTURE_FRAME);
    ck_assert_uint_eq(frame.ts_usec, DNS_FIRST_USEC);
    ck_assert_uint_eq(frame.caplen, 42);
    ck_assert_uint_eq(frame.wire_len, 42);
    ck_assert_int_eq(capture_next(capture, &frame, err, sizeof err), CAPTURE_ERROR);
    ck_assert_msg(strstr(err, "read error") != NULL, "message \"%s\"", err);
    ck_assert_msg(strstr(err, "truncated") != NULL, "message \"%s\"", err);
    ck_assert_msg(strstr(err, detail) != NULL, "message \"%s\" lacks \"%s\"", err, detail);
    /* The partial record was consumed: reading on finds the end of file. */
    ck_assert_int_eq(capture_next(capture, &frame, err, sizeof err), CAPTURE_END);
    capture_close(capture);
}

START_TEST(test_truncated_record_header)
{
    /* 8 of the second record's 16 header bytes. */
    check_cut_record("truncated-record-header.pcap", "only got 8");
}
END_TEST

START_TEST(test_truncated_record_data)
{
    /* 20 of the second frame's 42 bytes. */
    check_cut_record("truncated-record-data.pcap", "only got 20");
}
END_TEST

START_TEST(test_interrupt_after_frame)
{
    char path[1024];
    char err[ERR_MAX] = "";
    pcap_path(path, sizeof path, "dns.pcap");
    struct capture *capture = open_ok(path);
    struct capture_frame frame;
    ck_assert_int_eq(capture_next(capture, &frame, err, sizeof err), CAPTURE_FRAME);
    capture_interrupt(capture);
    ck_assert_int_eq(capture_next(capture, &frame, err, sizeof err), CAPTURE_END);
    ck_assert_int_eq(capture_next(capture, &frame, err, sizeof err), CAPTURE_END);
    capture_close(capture);
}
END_TEST

START_TEST(test_interrupt_before_reading)
{
    char path[1024];
    char err[ERR_MAX] = "";
    pcap_path(path, sizeof path, "dns.pcap");
    struct capture *capture = open_ok(path);
    capture_interrupt(capture);
    struct capture_frame frame;
    ck_assert_int_eq(capture_next(capture, &frame, err, sizeof err), CAPTURE_END);
    capture_close(capture);
}
END_TEST

START_TEST(test_live_stats_false_for_files)
{
    char path[1024];
    pcap_path(path, sizeof path, "dns.pcap");
    struct capture *capture = open_ok(path);
    uint64_t received = 7, dropped = 7, if_dropped = 7;
    ck_assert(!capture_live_stats(capture, &received, &dropped, &if_dropped));
    ck_assert_uint_eq(received, 0);
    ck_assert_uint_eq(dropped, 0);
    ck_assert_uint_eq(if_dropped, 0);
    capture_close(capture);
}
END_TEST

START_TEST(test_live_missing_interface)
{
    const char *name = "fxa-nosuchif9";
    struct capture_live_options options = {
        .interface = name, .filter = NULL, .snaplen = 0, .promiscuous = false, .buffer_mb = 0};
    char err[ERR_MAX] = "";
    ck_assert_ptr_null(capture_open_live(&options, err, sizeof err));
    ck_assert_msg(strncmp(err, name, strlen(name)) == 0, "message \"%s\" names no interface",
                  err);
}
END_TEST

/* Live capture on the loopback needs CAP_NET_RAW: without it the open
 * fails with a message naming the interface, and there is nothing more to
 * check here (the e2e live test covers the privileged path too). */
static struct capture *open_loopback(const char *filter, char *err, size_t err_len)
{
    struct capture_live_options options = {
        .interface = "lo", .filter = filter, .snaplen = 0, .promiscuous = false,
        .buffer_mb = 1};
    return capture_open_live(&options, err, err_len);
}

static bool privileged(void)
{
    char err[ERR_MAX] = "";
    struct capture *capture = open_loopback(NULL, err, sizeof err);
    if (capture == NULL) {
        ck_assert_msg(strncmp(err, "lo: ", 4) == 0, "message \"%s\" names no interface", err);
        return false;
    }
    capture_close(capture);
    return true;
}

START_TEST(test_live_loopback)
{
    if (!privileged())
        return;
    char err[ERR_MAX] = "";
    struct capture *capture = open_loopback("udp port 9", err, sizeof err);
    ck_assert_msg(capture != NULL, "lo: %s", err);
    ck_assert_int_eq(capture_link_type(capture), DLT_EN10MB);
    uint64_t received = 7, dropped = 7, if_dropped = 7;
    ck_assert(capture_live_stats(capture, &received, &dropped, &if_dropped));
    ck_assert_uint_eq(dropped, 0);
    uint64_t offset = 1, size = 1;
    capture_file_progress(capture, &offset, &size);
    ck_assert_uint_eq(offset, 0);
    ck_assert_uint_eq(size, 0);
    capture_interrupt(capture);
    struct capture_frame frame;
    ck_assert_int_eq(capture_next(capture, &frame, err, sizeof err), CAPTURE_END);
    capture_close(capture);
}
END_TEST

START_TEST(test_live_bad_filter)
{
    if (!privileged())
        return;
    char err[ERR_MAX] = "";
    ck_assert_ptr_null(open_loopback("port not-a-number and (", err, sizeof err));
    const char *prefix = "bad capture filter \"port not-a-number and (\": ";
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "message \"%s\"", err);
    ck_assert_uint_gt(strlen(err), strlen(prefix)); /* libpcap's reason follows */
}
END_TEST

START_TEST(test_close_null)
{
    capture_close(NULL);
}
END_TEST

static Suite *capture_suite(void)
{
    Suite *suite = suite_create("capture");
    TCase *files = tcase_create("files");
    tcase_add_test(files, test_pcap_frames);
    tcase_add_test(files, test_first_frame_bytes);
    tcase_add_test(files, test_progress_counts_bytes_read);
    tcase_add_test(files, test_pcapng_frames);
    tcase_add_test(files, test_nanosecond_pcap);
    suite_add_tcase(suite, files);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_missing_file);
    tcase_add_test(errors, test_text_file);
    tcase_add_test(errors, test_empty_file);
    tcase_add_test(errors, test_truncated_file_header);
    tcase_add_test(errors, test_directory);
    tcase_add_test(errors, test_truncated_record_header);
    tcase_add_test(errors, test_truncated_record_data);
    suite_add_tcase(suite, errors);
    TCase *control = tcase_create("control");
    tcase_add_test(control, test_interrupt_after_frame);
    tcase_add_test(control, test_interrupt_before_reading);
    tcase_add_test(control, test_live_stats_false_for_files);
    tcase_add_test(control, test_live_missing_interface);
    tcase_add_test(control, test_live_loopback);
    tcase_add_test(control, test_live_bad_filter);
    tcase_add_test(control, test_close_null);
    suite_add_tcase(suite, control);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(capture_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
