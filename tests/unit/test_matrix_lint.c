/* Unit tests of matrix_lint: each smell with its exact warning at the
 * flow's line and column, flows that must stay quiet, and warnings of a CSV
 * matrix at its rows, in row order. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/matrix.h"

#define LINES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Asserts that diag holds exactly the lines of `expected` (NULL-ended),
 * all warnings. */
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
    ck_assert_uint_eq(d->errors, 0);
}

/* A matrix whose device "ct" has the flows of `flows`, one per line from
 * line 4, each starting at column 3. */
#define DOC(flows)                                                                                 \
    "{\"format\": \"fluxaudit-matrix/1\",\n"                                                       \
    " \"hosts\": {\"pacs\": [\"10.10.2.5\"], \"lan\": [\"10.10.0.0/16\"], "                        \
    "\"vendor\": [\"198.51.100.0/24\"], \"cloud\": [\"*.acme.example\", \"10.10.9.9\"]},\n"        \
    " \"devices\": [{\"name\": \"ct\", \"addresses\": [\"10.10.1.20\"], \"flows\": [\n" flows      \
    "]},\n"                                                                                        \
    "  {\"name\": \"ws\", \"addresses\": [\"10.10.1.30\"]}]}\n"

static void assert_lint(const char *json, const char *const *expected)
{
    struct diag d;
    diag_init(&d);
    struct matrix *m = matrix_parse_json("m.json", json, strlen(json), &d);
    char buf[1024] = "";
    if (d.count > 0)
        diag_format(&d, 0, buf, sizeof(buf));
    ck_assert_msg(m != NULL, "refused: %s", buf);
    matrix_lint(m, &d);
    assert_lines(&d, expected);
    matrix_free(m);
    diag_free(&d);
}

#define OVERLAP(flow, first, line, more)                                                           \
    "m.json:" line ":3: warning: flow \"" flow "\" of \"ct\" overlaps flow \"" first               \
    "\" (line " more ": one connection can match both, and the audit applies the first "           \
    "whose app agrees, so the other's encryption, window and waiver may never apply"

START_TEST(quiet_matrix)
{
    assert_lint(
        DOC("  {\"id\": \"C1\", \"from\": \"device\", \"to\": \"pacs\", \"proto\": \"tcp\", "
            "\"port\": \"104\", \"app\": \"DICOM\", \"encryption\": \"tls1.2+\"},\n"
            "  {\"id\": \"C2\", \"from\": \"device\", \"to\": \"pacs\", \"proto\": \"udp\", "
            "\"port\": \"104\"},\n"
            "  {\"id\": \"C3\", \"from\": \"vendor\", \"to\": \"device\", \"proto\": \"tcp\", "
            "\"port\": \"22\", \"app\": \"SSH\", \"encryption\": \"ssh\", \"internet\": true, "
            "\"window\": \"Mon-Fri 08:00-18:00\"},\n"
            "  {\"id\": \"C4\", \"from\": \"device\", \"to\": \"cloud\", \"proto\": \"tcp\", "
            "\"port\": \"443\", \"encryption\": \"tls1.2+\", \"internet\": true},\n"
            "  {\"id\": \"C5\", \"from\": \"device\", \"to\": \"ws\", \"proto\": \"icmp\"},\n"
            "  {\"id\": \"C6\", \"from\": \"device\", \"to\": \"pacs\", \"proto\": \"tcp\", "
            "\"port\": \"105-110\"},\n"
            "  {\"id\": \"C7\", \"from\": \"device\", \"to\": \"pacs\", \"proto\": \"tcp\", "
            "\"port\": \"2575\", \"app\": \"hl7\", \"waiver\": \"isolated VLAN\"},\n"
            "  {\"id\": \"C8\", \"from\": \"device\", \"to\": \"vendor\", \"proto\": \"tcp\", "
            "\"port\": \"22\", \"encryption\": \"ssh\", \"internet\": true}\n"),
        LINES(NULL));
}
END_TEST

START_TEST(overlapping_flows)
{
    assert_lint(
        DOC("  {\"id\": \"O1\", \"from\": \"device\", \"to\": \"pacs\", \"proto\": \"tcp\", "
            "\"port\": \"100-200\"},\n"
            /* pacs lies in lan, 150 in 100-200 */
            "  {\"id\": \"O2\", \"from\": \"device\", \"to\": \"lan\", \"proto\": \"tcp\", "
            "\"port\": \"150\"},\n"
            /* any protocol on any port towards a subnet holding pacs */
            "  {\"id\": \"O3\", \"from\": \"device\", \"to\": \"10.10.2.0/24\", "
            "\"proto\": \"any\"},\n"
            "  {\"id\": \"O4\", \"from\": \"device\", \"to\": \"api.acme.example\", "
            "\"proto\": \"tcp\", \"port\": \"443\", \"encryption\": \"tls1.2+\", "
            "\"internet\": true},\n"
            /* cloud's *.acme.example covers api.acme.example */
            "  {\"id\": \"O5\", \"from\": \"device\", \"to\": \"cloud\", \"proto\": \"tcp\", "
            "\"port\": \"443\", \"encryption\": \"tls1.2+\", \"internet\": true},\n"
            /* internal addresses and DNS names are not "internet" */
            "  {\"id\": \"O6\", \"from\": \"device\", \"to\": \"internet\", \"proto\": \"tcp\", "
            "\"port\": \"443\", \"encryption\": \"tls1.3\", \"internet\": true},\n"
            /* a public address is */
            "  {\"id\": \"O7\", \"from\": \"device\", \"to\": \"198.51.100.7\", \"proto\": "
            "\"tcp\", \"port\": \"443, 8443\", \"encryption\": \"tls1.3\", \"internet\": true},\n"
            /* different receiver ports: no overlap */
            "  {\"id\": \"O8\", \"from\": \"device\", \"to\": \"198.51.100.7\", \"proto\": "
            "\"tcp\", \"port\": \"8080\", \"encryption\": \"tls1.3\", \"internet\": true}\n"),
        LINES(OVERLAP("O2", "O1", "5", "4)"), OVERLAP("O3", "O1", "6", "4) (and 1 more)"),
              "m.json:6:3: warning: flow \"O3\" of \"ct\" allows any value of \"proto\": a "
              "matrix should name the peers, protocol and ports the device needs",
              OVERLAP("O5", "O4", "8", "7)"), OVERLAP("O7", "O6", "10", "9)")));
}
END_TEST

START_TEST(any_values)
{
    assert_lint(
        DOC("  {\"id\": \"Y1\", \"from\": \"any\", \"to\": \"device\", \"proto\": \"tcp\", "
            "\"port\": \"any\"},\n"
            "  {\"id\": \"Y2\", \"from\": \"device\", \"to\": \"any\", \"proto\": \"udp\", "
            "\"port\": \"53\"},\n"
            "  {\"id\": \"Y3\", \"from\": \"device\", \"to\": \"ANY\", \"proto\": \"any\"}\n"),
        LINES("m.json:4:3: warning: flow \"Y1\" of \"ct\" allows any value of \"from\" and "
              "\"port\": a matrix should name the peers, protocol and ports the device needs",
              "m.json:5:3: warning: flow \"Y2\" of \"ct\" allows any value of \"to\": a matrix "
              "should name the peers, protocol and ports the device needs",
              /* Y1 is inbound, Y3 outbound: only Y2 is shared */
              OVERLAP("Y3", "Y2", "6", "5)"),
              "m.json:6:3: warning: flow \"Y3\" of \"ct\" allows any value of \"to\" and "
              "\"proto\": a matrix should name the peers, protocol and ports the device "
              "needs"));
    assert_lint(DOC("  {\"id\": \"Y4\", \"from\": \"any\", \"to\": \"device\", \"proto\": "
                    "\"udp\", \"port\": \"any\"},\n"
                    "  {\"id\": \"Y5\", \"from\": \"device\", \"to\": \"any\", \"proto\": "
                    "\"any\"}\n"),
                LINES("m.json:4:3: warning: flow \"Y4\" of \"ct\" allows any value of \"from\" "
                      "and \"port\": a matrix should name the peers, protocol and ports the "
                      "device needs",
                      "m.json:5:3: warning: flow \"Y5\" of \"ct\" allows any value of \"to\" and "
                      "\"proto\": a matrix should name the peers, protocol and ports the device "
                      "needs"));
}
END_TEST

START_TEST(internet_without_encryption)
{
    assert_lint(
        DOC("  {\"id\": \"I1\", \"from\": \"device\", \"to\": \"internet\", \"proto\": \"udp\", "
            "\"port\": \"123\", \"internet\": true},\n"
            "  {\"id\": \"I2\", \"from\": \"device\", \"to\": \"vendor\", \"proto\": \"tcp\", "
            "\"port\": \"443\", \"encryption\": \"tls1.2+\", \"internet\": true},\n"
            "  {\"id\": \"I3\", \"from\": \"device\", \"to\": \"vendor\", \"proto\": \"tcp\", "
            "\"port\": \"80\", \"encryption\": \"none\", \"internet\": true, "
            "\"waiver\": \"firmware 2\"}\n"),
        LINES("m.json:4:3: warning: flow \"I1\" of \"ct\" is exposed to the Internet "
              "(\"internet\": true) without encryption (\"encryption\": \"none\")",
              "m.json:6:3: warning: flow \"I3\" of \"ct\" is exposed to the Internet "
              "(\"internet\": true) without encryption (\"encryption\": \"none\")"));
}
END_TEST

START_TEST(maintenance_and_remote_tools)
{
    assert_lint(
        DOC("  {\"id\": \"M1\", \"from\": \"vendor\", \"to\": \"device\", \"proto\": \"tcp\", "
            "\"port\": \"3389\", \"app\": \"RDP\", \"encryption\": \"tls1.2+\", "
            "\"internet\": true},\n"
            "  {\"id\": \"M2\", \"from\": \"lan\", \"to\": \"device\", \"proto\": \"tcp\", "
            "\"port\": \"5900-5901\"},\n"
            /* outbound SSH is no maintenance of this device */
            "  {\"id\": \"M3\", \"from\": \"device\", \"to\": \"pacs\", \"proto\": \"tcp\", "
            "\"port\": \"22\", \"encryption\": \"ssh\"},\n"
            "  {\"id\": \"M4\", \"from\": \"pacs\", \"to\": \"device\", \"proto\": \"tcp\", "
            "\"port\": \"22\", \"encryption\": \"ssh\", \"window\": \"Mon 08:00-09:00\"},\n"
            "  {\"id\": \"M5\", \"from\": \"pacs\", \"to\": \"device\", \"proto\": \"tcp\", "
            "\"port\": \"8080\", \"app\": \"teamviewer\", \"window\": \"Tue 08:00-09:00\"},\n"
            "  {\"id\": \"M6\", \"from\": \"ws\", \"to\": \"device\", \"proto\": \"udp\", "
            "\"port\": \"7000-7100\"}\n"),
        LINES("m.json:4:3: warning: flow \"M1\" of \"ct\" looks like remote maintenance "
              "(inbound, app RDP) but has no \"window\": declare when the supplier may connect",
              "m.json:4:3: warning: flow \"M1\" of \"ct\" declares the remote-access tool "
              "\"RDP\": CLAUSIER-2025 O-9.3 allows no remote-control tool but the hospital's "
              "own; check that the hospital approved it",
              "m.json:5:3: warning: flow \"M2\" of \"ct\" looks like remote maintenance "
              "(inbound, port 5900) but has no \"window\": declare when the supplier may "
              "connect",
              "m.json:8:3: warning: flow \"M5\" of \"ct\" declares the remote-access tool "
              "\"teamviewer\": CLAUSIER-2025 O-9.3 allows no remote-control tool but the "
              "hospital's own; check that the hospital approved it",
              "m.json:9:3: warning: flow \"M6\" of \"ct\" looks like remote maintenance "
              "(inbound, port 7070) but has no \"window\": declare when the supplier may "
              "connect"));
}
END_TEST

START_TEST(health_in_clear)
{
    assert_lint(
        DOC("  {\"id\": \"H1\", \"from\": \"device\", \"to\": \"pacs\", \"proto\": \"tcp\", "
            "\"port\": \"104\", \"app\": \"DICOM\"},\n"
            "  {\"id\": \"H2\", \"from\": \"device\", \"to\": \"pacs\", \"proto\": \"tcp\", "
            "\"port\": \"2575\", \"app\": \"HL7\", \"waiver\": \"MLLP on the lab VLAN\"},\n"
            "  {\"id\": \"H3\", \"from\": \"device\", \"to\": \"pacs\", \"proto\": \"tcp\", "
            "\"port\": \"443\", \"app\": \"FHIR\", \"encryption\": \"tls1.2+\"},\n"
            "  {\"id\": \"H4\", \"from\": \"device\", \"to\": \"pacs\", \"proto\": \"tcp\", "
            "\"port\": \"8080\", \"app\": \"fhir\"}\n"),
        LINES("m.json:4:3: warning: flow \"H1\" of \"ct\" carries DICOM without encryption and "
              "without a \"waiver\": health data must be encrypted (TLS), or the hospital's "
              "acceptance written in \"waiver\"",
              "m.json:7:3: warning: flow \"H4\" of \"ct\" carries fhir without encryption and "
              "without a \"waiver\": health data must be encrypted (TLS), or the hospital's "
              "acceptance written in \"waiver\""));
}
END_TEST

START_TEST(csv_rows_in_order)
{
    /* Flows of two devices interleaved in the rows: the model groups them
     * by device (inventory order), the warnings follow the rows. */
    const char *rows = "device,id,from,to,proto,port,app\n"
                       "srv,S1,device,pump,tcp,104,DICOM\n"
                       "pump,P1,any,device,udp,514,\n"
                       "\n"
                       "srv,S2,pump,device,tcp,23,\n";
    const char *inventory = "device,addresses\npump,10.1.1.1\nsrv,10.1.1.2\n";
    struct matrix_csv_input m = {"m.csv", rows, strlen(rows)};
    struct matrix_csv_input inv = {"m.inventory.csv", inventory, strlen(inventory)};
    struct diag d;
    diag_init(&d);
    struct matrix *matrix = matrix_parse_csv(&m, &inv, NULL, &d);
    ck_assert_ptr_nonnull(matrix);
    matrix_lint(matrix, &d);
    assert_lines(&d, LINES("m.csv:2:1: warning: flow \"S1\" of \"srv\" carries DICOM without "
                           "encryption and without a \"waiver\": health data must be encrypted "
                           "(TLS), or the hospital's acceptance written in \"waiver\"",
                           "m.csv:3:1: warning: flow \"P1\" of \"pump\" allows any value of "
                           "\"from\": a matrix should name the peers, protocol and ports the "
                           "device needs",
                           "m.csv:5:1: warning: flow \"S2\" of \"srv\" looks like remote "
                           "maintenance (inbound, port 23) but has no \"window\": declare when "
                           "the supplier may connect"));
    matrix_free(matrix);
    diag_free(&d);
}
END_TEST

START_TEST(null_matrix)
{
    struct diag d;
    diag_init(&d);
    matrix_lint(NULL, &d);
    ck_assert_uint_eq(d.count, 0);
}
END_TEST

static Suite *matrix_lint_suite(void)
{
    Suite *s = suite_create("matrix_lint");
    TCase *tc = tcase_create("lint");
    tcase_add_test(tc, quiet_matrix);
    tcase_add_test(tc, overlapping_flows);
    tcase_add_test(tc, any_values);
    tcase_add_test(tc, internet_without_encryption);
    tcase_add_test(tc, maintenance_and_remote_tools);
    tcase_add_test(tc, health_in_clear);
    tcase_add_test(tc, csv_rows_in_order);
    tcase_add_test(tc, null_matrix);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(matrix_lint_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
