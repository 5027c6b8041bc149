/* Unit tests of rules: the shipped rules file, every kind of error with
 * its exact position, and the default path. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/rules.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

static void assert_lines(const struct diag *d, const char *const *expected)
{
    size_t n = 0;
    char buf[1024];
    while (expected[n] != NULL) {
        ck_assert_msg(n < d->count, "missing diagnostic %zu: %s", n, expected[n]);
        diag_format(d, n, buf, sizeof(buf));
        ck_assert_str_eq(buf, expected[n]);
        n++;
    }
    if (d->count > n) {
        diag_format(d, n, buf, sizeof(buf));
        ck_abort_msg("unexpected diagnostic: %s", buf);
    }
}

#define LINES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Loads tests/data/rules/NAME into a struct pre-filled with 0x5A and
 * asserts it is refused with `expected` and left untouched. */
static void assert_file_refused(const char *name, const char *const *expected)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/rules/%s", TEST_DATA_DIR, name);
    struct rules rules, before;
    memset(&rules, 0x5A, sizeof(rules));
    memcpy(&before, &rules, sizeof(rules));
    struct diag d;
    diag_init(&d);
    ck_assert(!rules_load(path, &rules, &d));
    ck_assert(memcmp(&rules, &before, sizeof(rules)) == 0);
    /* Positions are checked against the short name. */
    for (size_t i = 0; i < d.count; i++) {
        free(d.entries[i].file);
        d.entries[i].file = strdup(name);
    }
    assert_lines(&d, expected);
    diag_free(&d);
}

START_TEST(test_shipped_rules)
{
    struct rules rules;
    struct diag d;
    diag_init(&d);
    ck_assert(rules_load(TEST_DATA_DIR "/../../rules/findings.json", &rules, &d));
    ck_assert_uint_eq(d.count, 0);
    const struct rule *r = &rules.by_code[FINDING_TLS_OBSOLETE_VERSION];
    ck_assert(r->enabled);
    ck_assert_int_eq(r->severity, SEVERITY_HIGH);
    ck_assert_uint_eq(r->requirement_count, 3);
    ck_assert_str_eq(r->requirements[0], "CLAUSIER-2025 O-8.1");
    ck_assert_str_eq(r->requirements[1], "CHM 7.1");
    ck_assert_int_eq(rules.by_code[FINDING_DEFAULT_CREDENTIALS].severity, SEVERITY_CRITICAL);
    ck_assert_str_eq(rules.by_code[FINDING_DEFAULT_CREDENTIALS].requirements[0], "CHM 8.3");
    ck_assert_int_eq(rules.by_code[FINDING_FLOW_INBOUND_INTERNET].severity, SEVERITY_CRITICAL);
    ck_assert_int_eq(rules.by_code[FINDING_FLOW_NOT_OBSERVED].severity, SEVERITY_INFO);
    ck_assert_int_eq(rules.by_code[FINDING_FLOW_UNDECLARED].severity, SEVERITY_HIGH);
    ck_assert_int_eq(rules.by_code[FINDING_FLOW_INTERNET_UNDECLARED].severity, SEVERITY_HIGH);
    for (int i = 0; i < FINDING_CODE_COUNT; i++) {
        ck_assert(rules.by_code[i].enabled);
        ck_assert(rules.by_code[i].requirement_count >= 1);
        ck_assert(strlen(rules.by_code[i].title) > 0);
    }
    diag_free(&d);
}
END_TEST

START_TEST(test_bad_files)
{
    assert_file_refused("duplicate.json",
                        LINES("duplicate.json:5:5: error: duplicate key \"FLOW_UNDECLARED\" "
                              "(first defined at line 4, column 5)"));
    assert_file_refused("wrong_format.json",
                        LINES("wrong_format.json:1:1: error: missing required key \"findings\" "
                              "(expected an object mapping finding codes to rules)",
                              "wrong_format.json:1:13: error: \"format\": expected "
                              "\"fluxaudit-rules/1\", got \"fluxaudit-matrix/1\"",
                              "wrong_format.json:1:35: error: unknown key \"findngs\" in the "
                              "rules file (did you mean \"findings\"?)"));
    assert_file_refused(
        "many_errors.json",
        LINES("many_errors.json:3:15: error: \"findings\": missing rule for FLOW_NOT_OBSERVED "
              "(every finding code must have one)",
              "many_errors.json:3:15: error: \"findings\": missing rule for WIFI_WEAK_EAP "
              "(every finding code must have one)",
              "many_errors.json:20:19: error: \"severity\": expected \"critical\", \"high\", "
              "\"medium\", \"low\" or \"info\", got \"severe\"",
              "many_errors.json:29:5: error: unknown finding code \"FLOW_NOT_OBSERVD\" (did you "
              "mean \"FLOW_NOT_OBSERVED\"?)",
              "many_errors.json:61:23: error: \"requirements\": too many references (7, at "
              "most 6)",
              "many_errors.json:62:16: error: \"title\": too long (100 bytes, at most 95)",
              "many_errors.json:76:18: error: \"enabled\": expected true or false, got \"yes\"",
              "many_errors.json:77:23: error: \"requirements\": expected an array of 1 to 6 "
              "requirement references such as \"CLAUSIER-2025 O-8.1\", got an empty array",
              "many_errors.json:91:7: error: unknown key \"sevrity\" in a rule (did you mean "
              "\"severity\"?)"));
}
END_TEST

START_TEST(test_inline_errors)
{
    struct rules rules;
    struct diag d;
    diag_init(&d);
    const char *text = "{\"format\": \"fluxaudit-rules/1\", \"findings\": {\n"
                       "\"FLOW_UNDECLARED\": 3,\n"
                       "\"TLS_WEAK_CIPHER\": {\"requirements\": [\"\", 5, \"a\\tb\"]},\n"
                       "\"XYZ\": {}}}";
    ck_assert(!rules_parse("r.json", text, strlen(text), &rules, &d));
    ck_assert_uint_eq(d.count, 24);
    char buf[512];
    diag_format(&d, 0, buf, sizeof(buf));
    ck_assert_str_eq(buf, "r.json:1:45: error: \"findings\": missing rule for "
                          "FLOW_INTERNET_UNDECLARED (every finding code must have one)");
    diag_format(&d, 17, buf, sizeof(buf));
    ck_assert_str_eq(buf, "r.json:2:20: error: \"FLOW_UNDECLARED\": expected an object with "
                          "\"severity\", \"requirements\" and \"title\", got 3");
    diag_format(&d, 18, buf, sizeof(buf));
    ck_assert_str_eq(buf, "r.json:3:20: error: missing required key \"severity\" (expected "
                          "\"critical\", \"high\", \"medium\", \"low\" or \"info\")");
    diag_format(&d, 19, buf, sizeof(buf));
    ck_assert_str_eq(buf, "r.json:3:20: error: missing required key \"title\" (expected a "
                          "one-line title)");
    diag_format(&d, 20, buf, sizeof(buf));
    ck_assert_str_eq(buf, "r.json:3:38: error: \"requirements\": expected a requirement "
                          "reference such as \"CLAUSIER-2025 O-8.1\", got a blank string");
    diag_format(&d, 21, buf, sizeof(buf));
    ck_assert_str_eq(buf, "r.json:3:42: error: \"requirements\": expected a requirement "
                          "reference such as \"CLAUSIER-2025 O-8.1\", got 5");
    diag_format(&d, 22, buf, sizeof(buf));
    ck_assert_str_eq(buf, "r.json:3:45: error: \"requirements\": control characters are not "
                          "allowed");
    diag_format(&d, 23, buf, sizeof(buf));
    ck_assert_str_eq(buf, "r.json:4:1: error: unknown finding code \"XYZ\"");
    diag_free(&d);

    diag_init(&d);
    ck_assert(!rules_parse("r.json", "[]", 2, &rules, &d));
    assert_lines(&d, LINES("r.json:1:1: error: expected a JSON object with \"format\": "
                           "\"fluxaudit-rules/1\" at the top level, got an empty array"));
    diag_free(&d);
    diag_init(&d);
    ck_assert(!rules_parse("r.json", "{\"findings\": []}", 16, &rules, &d));
    assert_lines(&d, LINES("r.json:1:1: error: missing \"format\": expected \"format\": "
                           "\"fluxaudit-rules/1\"",
                           "r.json:1:14: error: \"findings\": expected an object mapping finding "
                           "codes to rules, got an empty array"));
    diag_free(&d);
    diag_init(&d);
    ck_assert(!rules_load(TEST_DATA_DIR "/rules/none.json", &rules, &d));
    assert_lines(&d, LINES(TEST_DATA_DIR "/rules/none.json: error: cannot open: No such file "
                           "or directory"));
    diag_free(&d);
}
END_TEST

START_TEST(test_disabled_rule)
{
    /* Build a valid file from the shipped one with one rule disabled. */
    FILE *f = fopen(TEST_DATA_DIR "/rules/valid.json", "rb");
    ck_assert_ptr_nonnull(f);
    char text[16384];
    size_t len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[len] = '\0';
    const char *anchor = "\"FLOW_NOT_OBSERVED\": {";
    char *at = strstr(text, anchor);
    ck_assert_ptr_nonnull(at);
    at += strlen(anchor);
    char edited[16384 + 32];
    size_t head = (size_t)(at - text);
    memcpy(edited, text, head);
    strcpy(edited + head, " \"enabled\": false,");
    strcat(edited, at);
    struct rules rules;
    struct diag d;
    diag_init(&d);
    ck_assert(rules_parse("v.json", edited, strlen(edited), &rules, &d));
    ck_assert_uint_eq(d.count, 0);
    ck_assert(!rules.by_code[FINDING_FLOW_NOT_OBSERVED].enabled);
    ck_assert(rules.by_code[FINDING_FLOW_UNDECLARED].enabled);
    diag_free(&d);
}
END_TEST

START_TEST(test_default_path)
{
    setenv("FLUXAUDIT_RULES", "/tmp/custom-rules.json", 1);
    ck_assert_str_eq(rules_default_path(), "/tmp/custom-rules.json");
    setenv("FLUXAUDIT_RULES", "", 1);
    const char *path = rules_default_path();
    ck_assert_ptr_nonnull(path);
    ck_assert(strstr(path, "findings.json") != NULL);
    unsetenv("FLUXAUDIT_RULES");
    ck_assert_str_eq(rules_default_path(), path);
}
END_TEST

static Suite *rules_suite(void)
{
    Suite *s = suite_create("rules");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_shipped_rules);
    tcase_add_test(tc, test_bad_files);
    tcase_add_test(tc, test_inline_errors);
    tcase_add_test(tc, test_disabled_rule);
    tcase_add_test(tc, test_default_path);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(rules_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
