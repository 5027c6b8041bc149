/* Unit tests of window: the compiled form of every kind of expression, the
 * exact error and column of bad ones, and evaluation in Europe/Paris across
 * both 2026 DST changes, midnight crossings and week wrap-around.
 * Instants are UTC seconds, each commented with its Paris wall-clock time
 * (computed independently with Python's zoneinfo). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/window.h"

#define MON 0x01
#define TUE 0x02
#define WED 0x04
#define THU 0x08
#define FRI 0x10
#define SAT 0x20
#define SUN 0x40

static struct window parse_ok(const char *text)
{
    struct window w;
    char err[256];
    ck_assert_msg(window_parse(text, &w, err, sizeof(err)), "%s: %s", text, err);
    ck_assert_int_eq(w.error_column, 0);
    ck_assert_str_eq(err, "");
    return w;
}

static void assert_span(const struct window *w, size_t i, unsigned days, unsigned start,
                        unsigned end)
{
    ck_assert_uint_gt(w->count, i);
    ck_assert_uint_eq(w->spans[i].days, days);
    ck_assert_uint_eq(w->spans[i].start, start);
    ck_assert_uint_eq(w->spans[i].end, end);
}

static void assert_error(const char *text, int column, const char *message)
{
    struct window w;
    char err[256];
    ck_assert_msg(!window_parse(text, &w, err, sizeof(err)), "accepted: %s", text);
    ck_assert_int_eq(w.error_column, column);
    ck_assert_uint_eq(w.count, 0);
    ck_assert(!w.always);
    ck_assert_str_eq(err, message);
}

START_TEST(test_parse_simple)
{
    struct window w = parse_ok("Mon-Fri 08:00-18:00");
    ck_assert(!w.always);
    ck_assert_uint_eq(w.count, 1);
    assert_span(&w, 0, MON | TUE | WED | THU | FRI, 480, 1080);
}
END_TEST

START_TEST(test_parse_several)
{
    struct window w = parse_ok("Sat 09:00-12:00; Sun 10:00-11:00");
    ck_assert_uint_eq(w.count, 2);
    assert_span(&w, 0, SAT, 540, 720);
    assert_span(&w, 1, SUN, 600, 660);

    w = parse_ok("Mon,Wed,Fri 22:00-02:00");
    ck_assert_uint_eq(w.count, 1);
    assert_span(&w, 0, MON | WED | FRI, 1320, 120);

    w = parse_ok("daily 00:00-06:00");
    assert_span(&w, 0, 0x7F, 0, 360);

    w = parse_ok("  mon-FRI 08:00-12:00, 14:00 - 18:00 ;sat 9:30-12:00  ");
    ck_assert_uint_eq(w.count, 3);
    assert_span(&w, 0, 0x1F, 480, 720);
    assert_span(&w, 1, 0x1F, 840, 1080);
    assert_span(&w, 2, SAT, 570, 720);
}
END_TEST

START_TEST(test_parse_words)
{
    struct window w = parse_ok("Fri-Mon 20:00-24:00");
    assert_span(&w, 0, FRI | SAT | SUN | MON, 1200, 1440);
    w = parse_ok("lun-ven 08:00-18:00; samedi 09:00-12:00");
    assert_span(&w, 0, 0x1F, 480, 1080);
    assert_span(&w, 1, SAT, 540, 720);
    w = parse_ok("weekdays 07:00-19:00;weekend 10:00-12:00");
    assert_span(&w, 0, 0x1F, 420, 1140);
    assert_span(&w, 1, SAT | SUN, 600, 720);
    w = parse_ok("Tuesday,Thursday 00:00-24:00");
    assert_span(&w, 0, TUE | THU, 0, 1440);
    w = parse_ok("Wed-Wed 23:00-00:00");
    assert_span(&w, 0, WED, 1380, 0);
    w = parse_ok(" Always ");
    ck_assert(w.always);
    ck_assert_uint_eq(w.count, 0);
}
END_TEST

START_TEST(test_parse_errors)
{
    assert_error("", 1,
                 "column 1: empty window: expected e.g. \"Mon-Fri 08:00-18:00\" or \"always\"");
    assert_error("   ", 4,
                 "column 4: empty window: expected e.g. \"Mon-Fri 08:00-18:00\" or \"always\"");
    assert_error("Mon-Fro 08:00-18:00", 5,
                 "column 5: unknown day \"Fro\": expected Mon, Tue, Wed, Thu, Fri, Sat, Sun (or "
                 "lun..dim), \"daily\", \"weekdays\" or \"weekend\"");
    assert_error("08:00-18:00", 1,
                 "column 1: expected days before the hours, e.g. \"daily HH:MM-HH:MM\" or "
                 "\"Mon-Fri ...\"");
    assert_error("Mon-Fri 8h00-18:00", 10, "column 10: expected a time HH:MM, got 'h'");
    assert_error("Mon-Fri 25:00-18:00", 9,
                 "column 9: invalid time \"25:00\": hours 00-23, minutes 00-59 (24:00 only as an "
                 "end)");
    assert_error("Mon 24:00-02:00", 5,
                 "column 5: invalid time \"24:00\": hours 00-23, minutes 00-59 (24:00 only as an "
                 "end)");
    assert_error("Mon 08:60-09:00", 5,
                 "column 5: invalid time \"08:60\": hours 00-23, minutes 00-59 (24:00 only as an "
                 "end)");
    assert_error("Mon 08:0-09:00", 9, "column 9: expected two digits of minutes, got '-'");
    assert_error("Mon 08:00 18:00", 11,
                 "column 11: expected '-' between the start and end times, got '1'");
    assert_error("Mon 08:00-", 11,
                 "column 11: expected a time HH:MM, got the end of the expression");
    assert_error("Mon 10:00-10:00", 5,
                 "column 5: start and end are the same time: write 00:00-24:00 for a whole day");
    assert_error("Mon 08:00-18:00 Tue 08:00-09:00", 17,
                 "column 17: expected ';' between windows or the end, got 'T'");
    assert_error("Mon 08:00-18:00;", 17,
                 "column 17: expected a day (Mon..Sun, lun..dim), \"daily\", \"weekdays\" or "
                 "\"weekend\", got the end of the expression");
    assert_error("Mon-daily 08:00-09:00", 5,
                 "column 5: a day range joins two single days, e.g. \"Mon-Fri\"");
    assert_error("Mon 123:00-13:00", 5, "column 5: expected a time HH:MM, got \"123\"");
    assert_error("Mon 08:00-09:00\x01", 16,
                 "column 16: expected ';' between windows or the end, got byte 0x01");
    assert_error("Mon always", 5, "column 5: expected a time HH:MM, got 'a'");
}
END_TEST

START_TEST(test_parse_limits)
{
    /* Past 512 bytes the expression is refused before parsing. */
    char text[1024];
    memset(text, ' ', 600);
    text[600] = '\0';
    memcpy(text, "daily 08:00-09:00", 17);
    struct window w;
    char err[128];
    ck_assert(!window_parse(text, &w, err, sizeof(err)));
    ck_assert_str_eq(err, "column 513: expression too long (at most 512 bytes)");
    ck_assert_int_eq(w.error_column, 513);

    /* 32 spans are accepted, the 33rd is refused where it starts. */
    strcpy(text, "daily 0:00-0:01");
    for (int i = 1; i < WINDOW_MAX_SPANS; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), ",%d:00-%d:01", i % 24, i % 24);
    ck_assert(strlen(text) <= 512);
    w = parse_ok(text);
    ck_assert_uint_eq(w.count, 32);
    assert_span(&w, 31, 0x7F, 7 * 60, 7 * 60 + 1);
    strcat(text, "; Sun 1:00-2:00");
    size_t at = strlen(text) - strlen("1:00-2:00") + 1;
    ck_assert(!window_parse(text, &w, err, sizeof(err)));
    ck_assert_int_eq(w.error_column, (int)at);
    ck_assert_uint_eq(w.count, 0);
    char expected[128];
    snprintf(expected, sizeof(expected), "column %zu: too many windows (at most 32 day/time pairs)",
             at);
    ck_assert_str_eq(err, expected);

    /* A tiny or absent message buffer still gives the column. */
    ck_assert(!window_parse("Mox 08:00-09:00", &w, err, 4));
    ck_assert_str_eq(err, "col");
    ck_assert_int_eq(w.error_column, 1);
    ck_assert(!window_parse("Mox 08:00-09:00", &w, NULL, 0));
    ck_assert_int_eq(w.error_column, 1);
    ck_assert(!window_parse(NULL, &w, NULL, 0));
    ck_assert_int_eq(w.error_column, 1);
}
END_TEST

static const char *const paris = "Europe/Paris";

START_TEST(test_contains_office_hours)
{
    struct window w = parse_ok("Mon-Fri 08:00-18:00");
    ck_assert(window_contains(&w, paris, 1767596400));  /* Mon 2026-01-05 08:00 CET */
    ck_assert(!window_contains(&w, paris, 1767596340)); /* Mon 07:59 CET */
    ck_assert(window_contains(&w, paris, 1774594800));  /* Fri 2026-03-27 08:00 CET */
    ck_assert(window_contains(&w, paris, 1774630740));  /* Fri 17:59 CET */
    ck_assert(!window_contains(&w, paris, 1774630800)); /* Fri 18:00 CET: end exclusive */
    ck_assert(!window_contains(&w, paris, 1774681200)); /* Sat 2026-03-28 08:00 CET */
    ck_assert(window_contains(&w, paris, 1774850400));  /* Mon 2026-03-30 08:00 CEST */
    ck_assert(window_contains(&w, paris, 1774886399));  /* Mon 17:59:59 CEST */
    ck_assert(!window_contains(&w, paris, 1774888200)); /* Mon 18:30 CEST */
    ck_assert(window_contains(&w, paris, 1783317600));  /* Mon 2026-07-06 08:00 CEST */
    /* The same instant in UTC is 06:00: outside. */
    ck_assert(!window_contains(&w, "UTC", 1783317600));
    ck_assert(!window_contains(&w, NULL, 1783317600));
    ck_assert(!window_contains(&w, "../../etc/passwd", 1783317600));
    ck_assert(window_contains(&w, "America/New_York", 1783346400)); /* 2026-07-06 14:00 UTC */
    ck_assert(!window_contains(NULL, paris, 1783317600));
}
END_TEST

START_TEST(test_contains_spring_forward)
{
    /* 2026-03-29 in Paris: 02:00 CET jumps to 03:00 CEST (01:00 UTC), so
     * no instant is in a Sunday 02:00-03:00 window. */
    struct window w = parse_ok("Sun 02:00-03:00");
    ck_assert(!window_contains(&w, paris, 1774744200)); /* 01:30 CET */
    ck_assert(!window_contains(&w, paris, 1774745999)); /* 01:59:59 CET */
    ck_assert(!window_contains(&w, paris, 1774746000)); /* 03:00 CEST */
    ck_assert(!window_contains(&w, paris, 1774747800)); /* 03:30 CEST */
    struct window after = parse_ok("Sun 03:00-04:00");
    ck_assert(window_contains(&after, paris, 1774746000)); /* 03:00 CEST */
    ck_assert(!window_contains(&after, paris, 1774745999));
    struct window before = parse_ok("Sun 01:00-02:00");
    ck_assert(window_contains(&before, paris, 1774745999)); /* 01:59:59 CET */
}
END_TEST

START_TEST(test_contains_fall_back)
{
    /* 2026-10-25 in Paris: 03:00 CEST goes back to 02:00 CET (01:00 UTC),
     * so 02:00-03:00 local happens twice: 00:00-01:00 and 01:00-02:00 UTC. */
    struct window w = parse_ok("Sun 02:00-03:00");
    ck_assert(!window_contains(&w, paris, 1792884600)); /* 01:30 CEST */
    ck_assert(window_contains(&w, paris, 1792886400));  /* 02:00 CEST */
    ck_assert(window_contains(&w, paris, 1792888200));  /* 02:30 CEST */
    ck_assert(window_contains(&w, paris, 1792891800));  /* 02:30 CET (01:30 UTC) */
    ck_assert(window_contains(&w, paris, 1792893599));  /* 02:59:59 CET */
    ck_assert(!window_contains(&w, paris, 1792893600)); /* 03:00 CET */
}
END_TEST

START_TEST(test_contains_midnight)
{
    struct window w = parse_ok("Mon,Wed,Fri 22:00-02:00");
    ck_assert(window_contains(&w, paris, 1774902600));             /* Mon 2026-03-30 22:30 CEST */
    ck_assert(window_contains(&w, paris, 1774913400));             /* Tue 01:30: Monday's night */
    ck_assert(!window_contains(&w, paris, 1774917000));            /* Tue 02:30 */
    ck_assert(!window_contains(&w, paris, 1774902600 + 86400));    /* Tue 22:30 */
    ck_assert(!window_contains(&w, paris, 1774913400 + 86400));    /* Wed 01:30: Tuesday's */
    ck_assert(window_contains(&w, paris, 1774913400 + 2 * 86400)); /* Thu 01:30 */
    /* Sunday night into Monday wraps around the week. */
    struct window sunday = parse_ok("Sun 22:00-02:00");
    ck_assert(window_contains(&sunday, paris, 1775431800)); /* Mon 2026-04-06 01:30 CEST */
    struct window monday = parse_ok("Mon 22:00-02:00");
    ck_assert(!window_contains(&monday, paris, 1775431800));
    /* "always" is always. */
    struct window always = parse_ok("always");
    ck_assert(window_contains(&always, paris, 0));
    ck_assert(window_contains(&always, NULL, -1));
}
END_TEST

START_TEST(test_contains_restores_zone_choice)
{
    /* Alternating zones gives each its own answer (TZ switches each time). */
    struct window w = parse_ok("daily 08:00-09:00");
    for (int i = 0; i < 3; i++) {
        ck_assert(window_contains(&w, paris, 1783317600));        /* 08:00 CEST */
        ck_assert(!window_contains(&w, "UTC", 1783317600));       /* 06:00 UTC */
        ck_assert(window_contains(&w, "Asia/Tokyo", 1783292400)); /* 2026-07-05 23:00 UTC */
    }
}
END_TEST

static Suite *window_suite(void)
{
    Suite *s = suite_create("window");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_simple);
    tcase_add_test(tc, test_parse_several);
    tcase_add_test(tc, test_parse_words);
    tcase_add_test(tc, test_parse_errors);
    tcase_add_test(tc, test_parse_limits);
    tcase_add_test(tc, test_contains_office_hours);
    tcase_add_test(tc, test_contains_spring_forward);
    tcase_add_test(tc, test_contains_fall_back);
    tcase_add_test(tc, test_contains_midnight);
    tcase_add_test(tc, test_contains_restores_zone_choice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(window_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
