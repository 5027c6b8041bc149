/* Unit tests of finding: code and severity names round-trip. */
#include <check.h>
#include <stdlib.h>

#include "fluxaudit/finding.h"

START_TEST(test_code_names)
{
    ck_assert_str_eq(finding_code_name(FINDING_FLOW_UNDECLARED), "FLOW_UNDECLARED");
    ck_assert_str_eq(finding_code_name(FINDING_TLS_OBSOLETE_VERSION), "TLS_OBSOLETE_VERSION");
    ck_assert_str_eq(finding_code_name(FINDING_INSECURE_PROTOCOL), "INSECURE_PROTOCOL");
    ck_assert_str_eq(finding_code_name(FINDING_CODE_COUNT), "UNKNOWN");
    for (int i = 0; i < FINDING_CODE_COUNT; i++) {
        enum finding_code code = FINDING_CODE_COUNT;
        ck_assert(finding_code_parse(finding_code_name((enum finding_code)i), &code));
        ck_assert_int_eq(code, i);
    }
    enum finding_code code = FINDING_FLOW_APP_MISMATCH;
    ck_assert(!finding_code_parse("flow_undeclared", &code));
    ck_assert(!finding_code_parse("", &code));
    ck_assert(!finding_code_parse(NULL, &code));
    ck_assert(!finding_code_parse("FLOW_UNDECLARED ", &code));
    ck_assert_int_eq(code, FINDING_FLOW_APP_MISMATCH);
}
END_TEST

START_TEST(test_severity_names)
{
    const char *names[] = {"critical", "high", "medium", "low", "info"};
    for (int i = 0; i < SEVERITY_COUNT; i++) {
        ck_assert_str_eq(severity_name((enum severity)i), names[i]);
        enum severity s = SEVERITY_COUNT;
        ck_assert(severity_parse(names[i], &s));
        ck_assert_int_eq(s, i);
    }
    ck_assert_str_eq(severity_name(SEVERITY_COUNT), "unknown");
    enum severity s = SEVERITY_LOW;
    ck_assert(!severity_parse("High", &s));
    ck_assert(!severity_parse("none", &s));
    ck_assert(!severity_parse(NULL, &s));
    ck_assert_int_eq(s, SEVERITY_LOW);
    ck_assert(SEVERITY_CRITICAL < SEVERITY_INFO);
}
END_TEST

static Suite *finding_suite(void)
{
    Suite *s = suite_create("finding");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_code_names);
    tcase_add_test(tc, test_severity_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(finding_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
