/* Unit tests for netaddr: parsing, formatting, prefixes, internal ranges. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/netaddr.h"

static void assert_roundtrip(const char *in, const char *expected)
{
    struct net_addr a;
    char buf[NET_ADDR_TEXT_MAX];
    ck_assert_msg(net_addr_parse(in, &a), "parse %s", in);
    net_addr_format(&a, buf, sizeof(buf));
    ck_assert_str_eq(buf, expected);
}

START_TEST(test_parse_format)
{
    assert_roundtrip("10.10.1.20", "10.10.1.20");
    assert_roundtrip("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
    assert_roundtrip("::1", "::1");
    struct net_addr a;
    ck_assert(!net_addr_parse("10.10.1", &a));
    ck_assert(!net_addr_parse("10.10.1.256", &a));
    ck_assert(!net_addr_parse("", &a));
    ck_assert(!net_addr_parse(NULL, &a));
    ck_assert(!net_addr_parse("pacs", &a));
    ck_assert_int_eq(a.family, 0);
}
END_TEST

START_TEST(test_prefix)
{
    struct net_prefix p;
    struct net_addr a;
    char buf[64];
    ck_assert(net_prefix_parse("10.0.0.0/8", &p));
    ck_assert_int_eq(p.bits, 8);
    ck_assert(net_addr_parse("10.255.1.2", &a));
    ck_assert(net_prefix_contains(&p, &a));
    ck_assert(net_addr_parse("11.0.0.1", &a));
    ck_assert(!net_prefix_contains(&p, &a));
    ck_assert(!net_prefix_parse("10.0.0.1/8", &p)); /* host bits set */
    ck_assert(!net_prefix_parse("10.0.0.0/33", &p));
    ck_assert(!net_prefix_parse("10.0.0.0/", &p));
    ck_assert(!net_prefix_parse("10.0.0.0/-1", &p));
    ck_assert(!net_prefix_parse("/8", &p));
    ck_assert(net_prefix_parse("172.16.0.0/12", &p));
    ck_assert(net_addr_parse("172.31.255.255", &a));
    ck_assert(net_prefix_contains(&p, &a));
    ck_assert(net_addr_parse("172.32.0.0", &a));
    ck_assert(!net_prefix_contains(&p, &a));
    ck_assert(net_prefix_parse("2001:db8::/32", &p));
    ck_assert(net_addr_parse("2001:db8:1::5", &a));
    ck_assert(net_prefix_contains(&p, &a));
    ck_assert(net_addr_parse("10.0.0.1", &a));
    ck_assert(!net_prefix_contains(&p, &a)); /* family mismatch */
    net_prefix_format(&p, buf, sizeof(buf));
    ck_assert_str_eq(buf, "2001:db8::/32");
    ck_assert(net_prefix_parse("198.51.100.7", &p));
    ck_assert_int_eq(p.bits, 32);
    net_prefix_format(&p, buf, sizeof(buf));
    ck_assert_str_eq(buf, "198.51.100.7");
    ck_assert(net_prefix_parse("0.0.0.0/0", &p));
    ck_assert(net_addr_parse("8.8.8.8", &a));
    ck_assert(net_prefix_contains(&p, &a));
}
END_TEST

START_TEST(test_mac)
{
    struct mac_addr m;
    char buf[MAC_TEXT_MAX];
    ck_assert(mac_addr_parse("02:00:0A:0a:01:14", &m));
    mac_addr_format(&m, buf, sizeof(buf));
    ck_assert_str_eq(buf, "02:00:0a:0a:01:14");
    ck_assert(mac_addr_parse("02-00-0a-0a-01-14", &m));
    ck_assert(!mac_addr_parse("02:00:0a:0a:01", &m));
    ck_assert(!mac_addr_parse("02:00:0a:0a:01:1g", &m));
    ck_assert(!mac_addr_parse("02:00-0a:0a:01:14", &m));
    ck_assert(!mac_addr_parse("10.10.1.20", &m));
}
END_TEST

static bool internal(const char *text)
{
    struct net_addr a;
    ck_assert(net_addr_parse(text, &a));
    return net_addr_is_default_internal(&a);
}

START_TEST(test_default_internal)
{
    ck_assert(internal("10.1.2.3"));
    ck_assert(internal("172.16.0.1"));
    ck_assert(!internal("172.32.0.1"));
    ck_assert(internal("192.168.1.1"));
    ck_assert(internal("100.64.0.1"));
    ck_assert(!internal("100.128.0.1"));
    ck_assert(internal("169.254.1.1"));
    ck_assert(internal("127.0.0.1"));
    ck_assert(internal("fd12::1"));
    ck_assert(internal("fe80::1"));
    ck_assert(internal("::1"));
    ck_assert(!internal("203.0.113.50")); /* documentation ranges count as Internet */
    ck_assert(!internal("198.51.100.10"));
    ck_assert(!internal("2001:db8::1"));
    ck_assert(!internal("8.8.8.8"));
}
END_TEST

START_TEST(test_compare_hash)
{
    struct net_addr a, b, c;
    ck_assert(net_addr_parse("10.0.0.1", &a));
    ck_assert(net_addr_parse("10.0.0.2", &b));
    ck_assert(net_addr_parse("::1", &c));
    ck_assert_int_lt(net_addr_compare(&a, &b), 0);
    ck_assert_int_gt(net_addr_compare(&b, &a), 0);
    ck_assert_int_eq(net_addr_compare(&a, &a), 0);
    ck_assert_int_lt(net_addr_compare(&a, &c), 0); /* IPv4 before IPv6 */
    ck_assert_uint_eq(net_addr_hash(&a, 7), net_addr_hash(&a, 7));
    ck_assert_uint_ne(net_addr_hash(&a, 7), net_addr_hash(&b, 7));
    ck_assert_uint_ne(net_addr_hash(&a, 7), net_addr_hash(&a, 8));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("netaddr");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_format);
    tcase_add_test(tc, test_prefix);
    tcase_add_test(tc, test_mac);
    tcase_add_test(tc, test_default_internal);
    tcase_add_test(tc, test_compare_hash);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
