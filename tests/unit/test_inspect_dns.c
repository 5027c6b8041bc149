/* Unit tests for inspect_dns: DNS answers -> names of addresses. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/inspect_dns.h"

/* A response for pacs.hopital.example: a CNAME to srv1.hopital.example
 * (compressed against the question), then its A record (owner compressed
 * against the CNAME's target) and an AAAA record. */
static const uint8_t cname_response[] = {
    0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
    /* question at 12: pacs.hopital.example A IN */
    0x04, 'p', 'a', 'c', 's', 0x07, 'h', 'o', 'p', 'i', 't', 'a', 'l', 0x07, 'e', 'x', 'a', 'm',
    'p', 'l', 'e', 0x00, 0x00, 0x01, 0x00, 0x01,
    /* answer 1 at 38: pacs... CNAME srv1.<hopital.example at 17> */
    0xC0, 0x0C, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x0E, 0x10, 0x00, 0x07, 0x04, 'S', 'R', 'V',
    '1', 0xC0, 0x11,
    /* answer 2 at 57: <srv1 at 50> A 10.10.2.5 */
    0xC0, 0x32, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0E, 0x10, 0x00, 0x04, 10, 10, 2, 5,
    /* answer 3: <srv1 at 50> AAAA fd00::5 */
    0xC0, 0x32, 0x00, 0x1C, 0x00, 0x01, 0x00, 0x00, 0x0E, 0x10, 0x00, 0x10, 0xfd, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 5,
};

static struct net_addr addr(const char *text)
{
    struct net_addr a;
    ck_assert(net_addr_parse(text, &a));
    return a;
}

START_TEST(test_cname_chain)
{
    struct dns_names *table = dns_names_create(64);
    ck_assert_uint_eq(dns_names_inspect(table, cname_response, sizeof(cname_response)), 2);
    char names[DNS_NAMES_PER_ADDRESS][FACT_HOST_MAX];
    struct net_addr v4 = addr("10.10.2.5");
    ck_assert_uint_eq(dns_names_lookup(table, &v4, names, DNS_NAMES_PER_ADDRESS), 2);
    ck_assert_str_eq(names[0], "pacs.hopital.example");
    ck_assert_str_eq(names[1], "srv1.hopital.example"); /* lower-cased */
    struct net_addr v6 = addr("fd00::5");
    ck_assert_uint_eq(dns_names_lookup(table, &v6, names, 1), 1);
    ck_assert_str_eq(names[0], "pacs.hopital.example");
    struct net_addr other = addr("10.10.2.6");
    ck_assert_uint_eq(dns_names_lookup(table, &other, names, DNS_NAMES_PER_ADDRESS), 0);
    dns_names_destroy(table);
}
END_TEST

START_TEST(test_queries_and_errors_ignored)
{
    struct dns_names *table = dns_names_create(64);
    uint8_t message[sizeof(cname_response)];
    memcpy(message, cname_response, sizeof(message));
    message[2] = 0x01; /* a query, not a response */
    ck_assert_uint_eq(dns_names_inspect(table, message, sizeof(message)), 0);
    memcpy(message, cname_response, sizeof(message));
    message[3] = 0x83; /* NXDOMAIN */
    ck_assert_uint_eq(dns_names_inspect(table, message, sizeof(message)), 0);
    dns_names_destroy(table);
}
END_TEST

START_TEST(test_every_truncation)
{
    struct dns_names *table = dns_names_create(64);
    for (size_t len = 0; len < sizeof(cname_response); len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, cname_response, len);
        size_t n = dns_names_inspect(table, copy, (uint32_t)len);
        ck_assert_msg(n <= 2, "length %zu", len);
        free(copy);
    }
    /* The A record is complete at 73 bytes: from there on it is recorded. */
    struct dns_names *fresh = dns_names_create(64);
    ck_assert_uint_eq(dns_names_inspect(fresh, cname_response, 72), 0);
    ck_assert_uint_eq(dns_names_inspect(fresh, cname_response, 73), 1);
    dns_names_destroy(fresh);
    dns_names_destroy(table);
}
END_TEST

START_TEST(test_compression_loop)
{
    /* The answer's owner points at itself: the bounded pointer walk ends. */
    uint8_t message[sizeof(cname_response)];
    memcpy(message, cname_response, sizeof(message));
    message[57] = 0xC0;
    message[58] = 57;
    struct dns_names *table = dns_names_create(64);
    ck_assert_uint_eq(dns_names_inspect(table, message, sizeof(message)), 0);
    /* A pointer past the end of the message. */
    message[58] = 0xFF;
    message[57] = 0xFF;
    ck_assert_uint_eq(dns_names_inspect(table, message, sizeof(message)), 0);
    dns_names_destroy(table);
}
END_TEST

START_TEST(test_bounded_table)
{
    struct dns_names *table = dns_names_create(16);
    uint8_t message[sizeof(cname_response)];
    memcpy(message, cname_response, sizeof(message));
    for (unsigned i = 0; i < 100000; i++) {
        message[69] = (uint8_t)(i >> 16);
        message[70] = (uint8_t)(i >> 8);
        message[71] = (uint8_t)i;
        dns_names_inspect(table, message, 73);
    }
    /* The most recent address is there; the table held its size. */
    char names[DNS_NAMES_PER_ADDRESS][FACT_HOST_MAX];
    struct net_addr last = addr("1.134.159.5"); /* 99999 = 0x01869f in the first bytes */
    ck_assert_uint_eq(dns_names_lookup(table, &last, names, 1), 1);
    ck_assert_str_eq(names[0], "pacs.hopital.example");
    dns_names_destroy(table);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("inspect_dns");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_cname_chain);
    tcase_add_test(tc, test_queries_and_errors_ignored);
    tcase_add_test(tc, test_every_truncation);
    tcase_add_test(tc, test_compression_loop);
    tcase_add_test(tc, test_bounded_table);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
