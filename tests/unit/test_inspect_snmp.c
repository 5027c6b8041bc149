/* Unit tests for inspect_snmp: the SNMP version of a message header. */
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

int main(void)
{
    Suite *s = suite_create("inspect_snmp");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_versions);
    tcase_add_test(tc, test_long_form_length);
    tcase_add_test(tc, test_not_snmp);
    tcase_add_test(tc, test_every_truncation);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
