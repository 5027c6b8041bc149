/* Unit tests of diag: formatting, ownership and the DIAG_MAX bound. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/diag.h"

static void format(const struct diag *d, size_t i, char *buf, size_t len)
{
    diag_format(d, i, buf, len);
}

START_TEST(test_format_positions)
{
    struct diag d;
    diag_init(&d);
    diag_error(&d, "m.json", 12, 19, "\"port\": got %s", "\"http\"");
    diag_error(&d, "m.json", 0, 7, "empty file");
    diag_warning(&d, "m.json", 3, 0, "odd %d", 42);
    char buf[256];
    format(&d, 0, buf, sizeof(buf));
    ck_assert_str_eq(buf, "m.json:12:19: error: \"port\": got \"http\"");
    format(&d, 1, buf, sizeof(buf));
    ck_assert_str_eq(buf, "m.json: error: empty file");
    format(&d, 2, buf, sizeof(buf));
    ck_assert_str_eq(buf, "m.json:3: warning: odd 42");
    format(&d, 3, buf, sizeof(buf));
    ck_assert_str_eq(buf, "");
    ck_assert_uint_eq(d.count, 3);
    ck_assert_uint_eq(d.errors, 2);
    ck_assert_int_eq(d.entries[1].line, 0);
    ck_assert_int_eq(d.entries[1].column, 0);
    diag_free(&d);
    ck_assert_uint_eq(d.count, 0);
    ck_assert_uint_eq(d.errors, 0);
}
END_TEST

START_TEST(test_owned_copies)
{
    struct diag d;
    diag_init(&d);
    char file[16] = "a.json";
    char arg[16] = "x";
    diag_error(&d, file, 1, 2, "bad %s", arg);
    strcpy(file, "zzzzzz");
    strcpy(arg, "y");
    char buf[64];
    diag_format(&d, 0, buf, sizeof(buf));
    ck_assert_str_eq(buf, "a.json:1:2: error: bad x");
    diag_error(&d, NULL, 1, 1, "no file");
    diag_format(&d, 1, buf, sizeof(buf));
    ck_assert_str_eq(buf, "<input>:1:1: error: no file");
    diag_free(&d);
}
END_TEST

START_TEST(test_truncated_buffer)
{
    struct diag d;
    diag_init(&d);
    diag_error(&d, "f", 1, 1, "a long message");
    char buf[8];
    diag_format(&d, 0, buf, sizeof(buf));
    ck_assert_str_eq(buf, "f:1:1: ");
    diag_format(&d, 0, buf, 0); /* must not write */
    diag_free(&d);
}
END_TEST

START_TEST(test_bounded)
{
    struct diag d;
    diag_init(&d);
    for (int i = 0; i < DIAG_MAX + 50; i++)
        diag_error(&d, "f", i + 1, 1, "error %d", i);
    diag_warning(&d, "f", 1, 1, "late warning");
    ck_assert_uint_eq(d.count, DIAG_MAX);
    ck_assert_uint_eq(d.dropped, 51);
    ck_assert_uint_eq(d.errors, DIAG_MAX + 50);
    char buf[64];
    diag_format(&d, DIAG_MAX - 1, buf, sizeof(buf));
    ck_assert_str_eq(buf, "f:200:1: error: error 199");
    diag_free(&d);
}
END_TEST

static Suite *diag_suite(void)
{
    Suite *s = suite_create("diag");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_format_positions);
    tcase_add_test(tc, test_owned_copies);
    tcase_add_test(tc, test_truncated_buffer);
    tcase_add_test(tc, test_bounded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(diag_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
