/* Unit tests for inspect_snmp: the SNMP version of a message header and
 * the community as a credential fact. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/inspect_snmp.h"

/* An SNMPv2c GetRequest for sysDescr.0 with community "c0mmun1ty" as
 * snmpget sends it (the community is test data, never a real secret). */
static const uint8_t v2c_get[] = {
    0x30, 0x2c, 0x02, 0x01, 0x01, 0x04, 0x09, 'c', '0', 'm', 'm', 'u', 'n', '1', 't', 'y',
    0xa0, 0x1c, 0x02, 0x04, 0x12, 0x34, 0x56, 0x78, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00,
    0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00,
    0x05, 0x00,
};

/* The start of an SNMPv3 message (msgVersion 3, then msgGlobalData). */
static const uint8_t v3_head[] = {
    0x30, 0x3e, 0x02, 0x01, 0x03, 0x30, 0x11, 0x02, 0x04, 0x00, 0x00, 0x00, 0x01,
    0x02, 0x03, 0x00, 0xff, 0xe3, 0x04, 0x01, 0x04, 0x02, 0x01, 0x03,
};

/* Returns a heap copy of exactly len bytes, so ASan sees any overread. */
static uint8_t *exact_copy(const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, data, len);
    return copy;
}

START_TEST(test_versions)
{
    ck_assert_uint_eq(snmp_message_version(v2c_get, sizeof(v2c_get)), 2);
    /* The message header claims more than the UDP payload holds: not SNMP. */
    ck_assert_uint_eq(snmp_message_version(v3_head, sizeof(v3_head)), 0);
    uint8_t v3[64] = {0};
    memcpy(v3, v3_head, sizeof(v3_head));
    ck_assert_uint_eq(snmp_message_version(v3, 0x40), 3);
    uint8_t v1[sizeof(v2c_get)];
    memcpy(v1, v2c_get, sizeof(v1));
    v1[4] = 0x00;
    ck_assert_uint_eq(snmp_message_version(v1, sizeof(v1)), 1);
}
END_TEST

START_TEST(test_long_form_length)
{
    uint8_t message[300] = {0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x01};
    ck_assert_uint_eq(snmp_message_version(message, 4 + 0x100), 2);
    message[1] = 0x81;
    message[2] = 0x80;
    message[3] = 0x02;
    message[4] = 0x01;
    message[5] = 0x03;
    ck_assert_uint_eq(snmp_message_version(message, 3 + 0x80), 3);
    message[1] = 0x83; /* three length bytes: more than an SNMP datagram needs */
    ck_assert_uint_eq(snmp_message_version(message, sizeof(message)), 0);
}
END_TEST

START_TEST(test_not_snmp)
{
    static const uint8_t dns[] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00};
    ck_assert_uint_eq(snmp_message_version(dns, sizeof(dns)), 0);
    uint8_t bad[sizeof(v2c_get)];
    memcpy(bad, v2c_get, sizeof(bad));
    bad[2] = 0x04; /* version is not an INTEGER */
    ck_assert_uint_eq(snmp_message_version(bad, sizeof(bad)), 0);
    memcpy(bad, v2c_get, sizeof(bad));
    bad[3] = 0x02; /* two-byte version */
    ck_assert_uint_eq(snmp_message_version(bad, sizeof(bad)), 0);
    memcpy(bad, v2c_get, sizeof(bad));
    bad[4] = 0x02; /* version 2 is not defined (v2c is 1) */
    ck_assert_uint_eq(snmp_message_version(bad, sizeof(bad)), 0);
    ck_assert_uint_eq(snmp_message_version(NULL, 0), 0);
}
END_TEST

START_TEST(test_every_truncation)
{
    for (size_t len = 0; len < sizeof(v2c_get); len++) {
        uint8_t *copy = exact_copy(v2c_get, len);
        ck_assert_msg(snmp_message_version(copy, (uint32_t)len) == 0, "length %zu", len);
        free(copy);
    }
    uint8_t *copy = exact_copy(v2c_get, sizeof(v2c_get));
    ck_assert_uint_eq(snmp_message_version(copy, sizeof(v2c_get)), 2);
    free(copy);
}
END_TEST


static struct default_credentials *load_defaults(void)
{
    static const char text[] = "community public\ncommunity private\n";
    struct diag diag;
    diag_init(&diag);
    struct default_credentials *table = default_credentials_parse("t", text, sizeof(text) - 1,
                                                                  &diag);
    diag_free(&diag);
    ck_assert_ptr_nonnull(table);
    return table;
}

/* v2c_get with another community and PDU tag; `community` is 9 bytes. */
static void make_message(uint8_t *out, const char *community, uint8_t pdu_tag, uint8_t error)
{
    memcpy(out, v2c_get, sizeof(v2c_get));
    memcpy(out + 7, community, 9);
    out[16] = pdu_tag;
    out[26] = error;
}

START_TEST(test_community_fact)
{
    struct default_credentials *defaults = load_defaults();
    struct credential_facts facts;
    memset(&facts, 0, sizeof(facts));
    /* "c0mmun1ty" is not a default */
    snmp_inspect_message(v2c_get, sizeof(v2c_get), 0, defaults, &facts);
    ck_assert_uint_eq(facts.count, 1);
    ck_assert_str_eq(facts.items[0].protocol, "SNMP");
    ck_assert_str_eq(facts.items[0].method, "community");
    ck_assert_int_eq(facts.items[0].kind, CREDENTIAL_COMMUNITY);
    ck_assert_str_eq(facts.items[0].masked_user, "");
    ck_assert_int_eq(facts.items[0].accepted, -1);
    ck_assert(!facts.items[0].default_credential);
    ck_assert_uint_eq(facts.items[0].count, 1);
    /* a GetResponse from the agent with error-status 0: accepted */
    uint8_t message[sizeof(v2c_get)];
    make_message(message, "c0mmun1ty", 0xa2, 0);
    snmp_inspect_message(message, sizeof(message), 1, defaults, &facts);
    ck_assert_uint_eq(facts.count, 1);
    ck_assert_int_eq(facts.items[0].accepted, 1);
    ck_assert_uint_eq(facts.items[0].count, 2);
    /* the community itself is nowhere in the facts */
    ck_assert(memmem(&facts, sizeof(facts), "c0mmun1ty", 9) == NULL);
    default_credentials_free(defaults);
}
END_TEST

START_TEST(test_community_default_and_outcomes)
{
    static const char text[] = "community public\ncommunity pr1vate99\n";
    struct diag diag;
    diag_init(&diag);
    struct default_credentials *defaults = default_credentials_parse("t", text, sizeof(text) - 1,
                                                                     &diag);
    ck_assert_ptr_nonnull(defaults);
    struct credential_facts facts;
    memset(&facts, 0, sizeof(facts));
    uint8_t message[sizeof(v2c_get)];
    /* a response with an error, or one from the manager's side: not shown */
    make_message(message, "pr1vate99", 0xa2, 2);
    snmp_inspect_message(message, sizeof(message), 1, defaults, &facts);
    make_message(message, "pr1vate99", 0xa2, 0);
    snmp_inspect_message(message, sizeof(message), 0, defaults, &facts);
    ck_assert_uint_eq(facts.count, 1);
    ck_assert_int_eq(facts.items[0].accepted, -1);
    ck_assert(facts.items[0].default_credential);
    ck_assert_uint_eq(facts.items[0].count, 2);
    /* SetRequest (0xa3), v2 Trap (0xa7) count too */
    make_message(message, "pr1vate99", 0xa3, 0);
    snmp_inspect_message(message, sizeof(message), 0, NULL, &facts);
    make_message(message, "pr1vate99", 0xa7, 0);
    snmp_inspect_message(message, sizeof(message), 0, NULL, &facts);
    ck_assert_uint_eq(facts.items[0].count, 4);
    ck_assert(memmem(&facts, sizeof(facts), "pr1vate99", 9) == NULL);
    /* v1 Trap-PDU (0xa4) has no request-id: still a community */
    static const uint8_t v1_trap[] = {0x30, 0x1e, 0x02, 0x01, 0x00, 0x04, 0x06, 'p', 'u', 'b', 'l',
                                      'i', 'c', 0xa4, 0x11, 0x06, 0x03, 0x2b, 0x06, 0x01, 0x40,
                                      0x04, 0x0a, 0x00, 0x00, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01,
                                      0x00};
    memset(&facts, 0, sizeof(facts));
    snmp_inspect_message(v1_trap, sizeof(v1_trap), 0, defaults, &facts);
    ck_assert_uint_eq(facts.count, 1);
    ck_assert(facts.items[0].default_credential);
    /* the table full: counted as dropped */
    facts.count = FACT_CREDENTIALS_MAX;
    for (int i = 0; i < FACT_CREDENTIALS_MAX; i++)
        strcpy(facts.items[i].protocol, "FTP");
    snmp_inspect_message(v1_trap, sizeof(v1_trap), 0, defaults, &facts);
    ck_assert_uint_eq(facts.dropped, 1);
    default_credentials_free(defaults);
    diag_free(&diag);
}
END_TEST

START_TEST(test_community_not_recorded)
{
    struct credential_facts facts;
    memset(&facts, 0, sizeof(facts));
    uint8_t v3[64] = {0};
    memcpy(v3, v3_head, sizeof(v3_head));
    snmp_inspect_message(v3, 0x40, 0, NULL, &facts);
    uint8_t bad[sizeof(v2c_get)];
    make_message(bad, "c0mmun1ty", 0x30, 0); /* not a PDU tag */
    snmp_inspect_message(bad, sizeof(bad), 0, NULL, &facts);
    make_message(bad, "c0mmun1ty", 0xa9, 0);
    snmp_inspect_message(bad, sizeof(bad), 0, NULL, &facts);
    snmp_inspect_message(NULL, 0, 0, NULL, &facts);
    snmp_inspect_message(v2c_get, sizeof(v2c_get), 0, NULL, NULL);
    for (size_t len = 0; len < sizeof(v2c_get); len++) {
        uint8_t *copy = exact_copy(v2c_get, len);
        snmp_inspect_message(copy, (uint32_t)len, 0, NULL, &facts);
        free(copy);
    }
    ck_assert_uint_eq(facts.count, 0);
    ck_assert_uint_eq(facts.dropped, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("inspect_snmp");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_versions);
    tcase_add_test(tc, test_long_form_length);
    tcase_add_test(tc, test_not_snmp);
    tcase_add_test(tc, test_every_truncation);
    tcase_add_test(tc, test_community_fact);
    tcase_add_test(tc, test_community_default_and_outcomes);
    tcase_add_test(tc, test_community_not_recorded);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
