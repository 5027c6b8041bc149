/* Unit tests for default_credentials: the table format, every error at its
 * exact line:column, and the matching rules. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fluxaudit/default_credentials.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

static struct default_credentials *parse(const char *text, struct diag *diag)
{
    diag_init(diag);
    return default_credentials_parse("t", text, strlen(text), diag);
}

/* Parses `len` bytes that must fail with exactly one error, formatted as
 * `expected`. */
static void expect_one_error(const char *text, size_t len, const char *expected)
{
    struct diag diag;
    diag_init(&diag);
    struct default_credentials *table = default_credentials_parse("t", text, len, &diag);
    ck_assert_ptr_null(table);
    ck_assert_uint_eq(diag.errors, 1);
    char line[512];
    diag_format(&diag, 0, line, sizeof(line));
    ck_assert_str_eq(line, expected);
    diag_free(&diag);
}

static bool login(const struct default_credentials *t, const char *user, const char *password)
{
    return default_credentials_match_login(t, user, user ? strlen(user) : 0, password,
                                           strlen(password));
}

static bool community(const struct default_credentials *t, const char *text)
{
    return default_credentials_match_community(t, text, strlen(text));
}

START_TEST(test_valid_file_and_matching)
{
    static const char text[] = "\xef\xbb\xbf# header comment\n"
                               "\n"
                               "login admin admin\n"
                               "login\troot\t  toor   # trailing comment\r\n"
                               "  login Administrator -   # empty password\n"
                               "login - uls\n"
                               "login biomed Change\\sMe\n"
                               "login back\\\\slash p\\#1\\-\n"
                               "login h#sh x#y\n"
                               "login Ärzt pässwort\n"
                               "community public\n"
                               "community -\n"
                               "community Pr1v#te";
    struct diag diag;
    struct default_credentials *t = parse(text, &diag);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(diag.count, 0);
    /* user case-insensitive, password case-sensitive */
    ck_assert(login(t, "admin", "admin"));
    ck_assert(login(t, "ADMIN", "admin"));
    ck_assert(!login(t, "admin", "Admin"));
    ck_assert(!login(t, "admin", "admin "));
    ck_assert(!login(t, "admi", "admin"));
    ck_assert(login(t, "root", "toor"));
    ck_assert(!login(t, "root", "toor   "));
    /* "-": empty password */
    ck_assert(login(t, "administrator", ""));
    ck_assert(!login(t, "administrator", "-"));
    /* escapes */
    ck_assert(login(t, "Biomed", "Change Me"));
    ck_assert(!login(t, "biomed", "Change\\sMe"));
    ck_assert(login(t, "back\\slash", "p#1-"));
    ck_assert(login(t, "h#sh", "x#y"));
    /* non-ASCII bytes compare exactly */
    ck_assert(login(t, "Ärzt", "pässwort"));
    ck_assert(!login(t, "ärzt", "pässwort"));
    /* a password-only entry matches only a login without user... */
    ck_assert(login(t, "", "uls"));
    ck_assert(login(t, NULL, "uls"));
    ck_assert(!login(t, "bob", "uls"));
    /* ...and a login without user matches any entry's password */
    ck_assert(login(t, "", "toor"));
    ck_assert(!login(t, "", "nothing"));
    /* communities: exact */
    ck_assert(community(t, "public"));
    ck_assert(!community(t, "Public"));
    ck_assert(!community(t, "publi"));
    ck_assert(community(t, ""));
    ck_assert(community(t, "Pr1v#te"));
    ck_assert(!default_credentials_match_community(t, NULL, 3));
    ck_assert(!default_credentials_match_login(t, "admin", 5, NULL, 5));
    ck_assert(!default_credentials_match_login(NULL, "admin", 5, "admin", 5));
    ck_assert(!default_credentials_match_community(NULL, "public", 6));
    /* embedded NUL in the query: never equal to a table entry */
    ck_assert(!default_credentials_match_login(t, "admin", 5, "admin\0", 6));
    default_credentials_free(t);
    diag_free(&diag);
}
END_TEST

START_TEST(test_empty_table)
{
    struct diag diag;
    struct default_credentials *t = parse("", &diag);
    ck_assert_ptr_nonnull(t);
    ck_assert(!login(t, "admin", "admin"));
    ck_assert(!community(t, "public"));
    default_credentials_free(t);
    t = parse("# only comments\n\n   \t\n", &diag);
    ck_assert_ptr_nonnull(t);
    default_credentials_free(t);
    default_credentials_free(NULL);
}
END_TEST

START_TEST(test_error_unknown_keyword)
{
    static const char text[] = "login a b\n  logon s3cr3tpw x\n";
    expect_one_error(text, strlen(text),
                     "t:2:3: error: unknown keyword (expected \"login\" or \"community\")");
    expect_one_error("LOGIN a b", 9, "t:1:1: error: unknown keyword (expected \"login\" or "
                                     "\"community\")");
}
END_TEST

START_TEST(test_error_field_count)
{
    expect_one_error("login admin\n", 12,
                     "t:1:1: error: expected \"login USER PASSWORD\", got 1 field after \"login\"");
    expect_one_error("\n\tlogin a b c d\n", 15,
                     "t:2:12: error: expected \"login USER PASSWORD\", got 4 fields after "
                     "\"login\"");
    expect_one_error("community\n", 10,
                     "t:1:1: error: expected \"community STRING\", got 0 fields after "
                     "\"community\"");
    expect_one_error("community a b # c d\n", 20,
                     "t:1:13: error: expected \"community STRING\", got 2 fields after "
                     "\"community\"");
}
END_TEST

START_TEST(test_error_long_field)
{
    char text[400];
    char field[200];
    memset(field, 'x', 129);
    field[129] = '\0';
    snprintf(text, sizeof(text), "login %s p\n", field);
    expect_one_error(text, strlen(text), "t:1:7: error: field longer than 128 bytes");
    /* 128 bytes is fine, escapes count once */
    field[128] = '\0';
    snprintf(text, sizeof(text), "login a %s\ncommunity %.126s\\s\\s\n", field, field);
    struct diag diag;
    struct default_credentials *t = parse(text, &diag);
    ck_assert_ptr_nonnull(t);
    ck_assert(login(t, "a", field));
    default_credentials_free(t);
    snprintf(text, sizeof(text), "community %.127s\\s\\s\n", field);
    expect_one_error(text, strlen(text), "t:1:11: error: field longer than 128 bytes");
}
END_TEST

START_TEST(test_error_bad_escape)
{
    expect_one_error("login a\\qb p\n", 13,
                     "t:1:8: error: bad escape (use \\s, \\t, \\\\, \\# or \\-)");
    expect_one_error("community abc\\\n", 15,
                     "t:1:14: error: bad escape (use \\s, \\t, \\\\, \\# or \\-)");
}
END_TEST

START_TEST(test_error_nul_control_utf8)
{
    expect_one_error("login a\0b p\n", 12, "t:1:8: error: NUL byte");
    expect_one_error("community \x01x\n", 13,
                     "t:1:11: error: control character 0x01 (only tab separates fields)");
    expect_one_error("community \xff\n", 12, "t:1:11: error: invalid UTF-8");
    expect_one_error("community ab\xc0\xaf\n", 15, "t:1:13: error: invalid UTF-8");
    /* a surrogate (U+D800) is one bad sequence, one error */
    expect_one_error("login \xed\xa0\x80 p\n", 12, "t:1:7: error: invalid UTF-8");
    expect_one_error("community \xe2\x82\n", 13, "t:1:11: error: invalid UTF-8");
    expect_one_error("community \xf4\x90\x80\x80\n", 15, "t:1:11: error: invalid UTF-8");
    /* a comment is checked too */
    expect_one_error("login a b # \xfe\n", 14, "t:1:13: error: invalid UTF-8");
}
END_TEST

START_TEST(test_every_error_reported_and_refused)
{
    static const char text[] = "login good one\n"
                               "bogus x\n"
                               "login only\n"
                               "community \\z\n"
                               "community fine\n"
                               "login a\0 b\n";
    struct diag diag;
    diag_init(&diag);
    ck_assert_ptr_null(default_credentials_parse("f", text, sizeof(text) - 1, &diag));
    ck_assert_uint_eq(diag.errors, 4);
    char line[256];
    diag_format(&diag, 0, line, sizeof(line));
    ck_assert_str_eq(line, "f:2:1: error: unknown keyword (expected \"login\" or \"community\")");
    diag_format(&diag, 1, line, sizeof(line));
    ck_assert_str_eq(line,
                     "f:3:1: error: expected \"login USER PASSWORD\", got 1 field after \"login\"");
    diag_format(&diag, 2, line, sizeof(line));
    ck_assert_str_eq(line, "f:4:11: error: bad escape (use \\s, \\t, \\\\, \\# or \\-)");
    diag_format(&diag, 3, line, sizeof(line));
    ck_assert_str_eq(line, "f:6:8: error: NUL byte");
    diag_free(&diag);
}
END_TEST

/* No diagnostic quotes a field: a real password pasted by mistake must
 * not reach the terminal. */
START_TEST(test_errors_never_quote_fields)
{
    static const char text[] = "s3cr3tPW admin\n"
                               "login s3cr3tPW\n"
                               "login a s3cr3tPW\\x\n"
                               "community s3cr3tPW extra\n";
    struct diag diag;
    diag_init(&diag);
    ck_assert_ptr_null(default_credentials_parse("f", text, sizeof(text) - 1, &diag));
    ck_assert_uint_eq(diag.errors, 4);
    for (size_t i = 0; i < diag.count; i++) {
        char line[512];
        diag_format(&diag, i, line, sizeof(line));
        ck_assert_msg(strstr(line, "s3cr3t") == NULL, "%s", line);
        ck_assert_msg(strstr(line, "extra") == NULL, "%s", line);
    }
    diag_free(&diag);
}
END_TEST

START_TEST(test_load_shipped_table)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/../../rules/default-credentials", TEST_DATA_DIR);
    struct diag diag;
    diag_init(&diag);
    struct default_credentials *t = default_credentials_load(path, &diag);
    for (size_t i = 0; i < diag.count; i++) {
        char line[512];
        diag_format(&diag, i, line, sizeof(line));
        fprintf(stderr, "%s\n", line);
    }
    ck_assert_ptr_nonnull(t);
    ck_assert(login(t, "admin", "admin"));
    ck_assert(login(t, "Admin", "password"));
    ck_assert(login(t, "root", "root"));
    ck_assert(login(t, "service", "service"));
    ck_assert(login(t, "Administrator", ""));
    ck_assert(login(t, "biomed", "Change Me"));
    ck_assert(!login(t, "admin", "correct horse battery staple"));
    ck_assert(community(t, "public"));
    ck_assert(community(t, "private"));
    ck_assert(!community(t, "n0t-a-default"));
    default_credentials_free(t);
    diag_free(&diag);
}
END_TEST

START_TEST(test_load_errors)
{
    struct diag diag;
    diag_init(&diag);
    ck_assert_ptr_null(default_credentials_load("/nonexistent/default-credentials", &diag));
    ck_assert_uint_eq(diag.errors, 1);
    char line[512];
    diag_format(&diag, 0, line, sizeof(line));
    ck_assert_str_eq(line,
                     "/nonexistent/default-credentials: error: cannot open: No such file or "
                     "directory");
    diag_free(&diag);
    ck_assert_ptr_null(default_credentials_load(NULL, &diag));
    ck_assert_uint_eq(diag.errors, 1);
    diag_free(&diag);
    /* a file past the size cap */
    char tmp[] = "/tmp/fluxaudit-dc-XXXXXX";
    const int fd = mkstemp(tmp);
    ck_assert_int_ge(fd, 0);
    FILE *file = fdopen(fd, "w");
    for (int i = 0; i < 70000; i++)
        fputs("# padding line\n", file);
    fclose(file);
    ck_assert_ptr_null(default_credentials_load(tmp, &diag));
    diag_format(&diag, 0, line, sizeof(line));
    ck_assert(strstr(line, "file larger than 1048576 bytes") != NULL);
    diag_free(&diag);
    unlink(tmp);
}
END_TEST

START_TEST(test_default_path)
{
    setenv("FLUXAUDIT_DEFAULT_CREDENTIALS", "/some/where/table", 1);
    ck_assert_str_eq(default_credentials_default_path(), "/some/where/table");
    unsetenv("FLUXAUDIT_DEFAULT_CREDENTIALS");
    const char *path = default_credentials_default_path();
    ck_assert_ptr_nonnull(path);
    ck_assert(strstr(path, "default-credentials") != NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("default_credentials");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_valid_file_and_matching);
    tcase_add_test(tc, test_empty_table);
    tcase_add_test(tc, test_error_unknown_keyword);
    tcase_add_test(tc, test_error_field_count);
    tcase_add_test(tc, test_error_long_field);
    tcase_add_test(tc, test_error_bad_escape);
    tcase_add_test(tc, test_error_nul_control_utf8);
    tcase_add_test(tc, test_every_error_reported_and_refused);
    tcase_add_test(tc, test_errors_never_quote_fields);
    tcase_add_test(tc, test_load_shipped_table);
    tcase_add_test(tc, test_load_errors);
    tcase_add_test(tc, test_default_path);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
