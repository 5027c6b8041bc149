/* Unit tests of matrix_csv: CSV matrices with their inventory and site
 * files (French Excel exports, separators, BOM, CRLF, quoting), the exact
 * file:line:column of every kind of error in each of the three files, the
 * JSON and CSV writers, and the round trips JSON -> CSV -> JSON. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fluxaudit/matrix.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

#define LINES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define DATA(name) TEST_DATA_DIR "/matrix_csv/" name

/* Asserts that diag holds exactly the lines of `expected` (NULL-ended). */
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

/* Parses inline files named m.csv, m.inventory.csv, m.site.csv (`site`
 * NULL: absent); lengths are explicit so that NUL bytes can be tested. */
static struct matrix *parse_n(const char *matrix, size_t matrix_len, const char *inventory,
                              const char *site, struct diag *d)
{
    struct matrix_csv_input m = {"m.csv", matrix, matrix_len};
    struct matrix_csv_input inv = {"m.inventory.csv", inventory,
                                   inventory != NULL ? strlen(inventory) : 0};
    struct matrix_csv_input s = {"m.site.csv", site, site != NULL ? strlen(site) : 0};
    diag_init(d);
    return matrix_parse_csv(&m, &inv, site != NULL ? &s : NULL, d);
}

static struct matrix *parse(const char *matrix, const char *inventory, const char *site,
                            struct diag *d)
{
    return parse_n(matrix, strlen(matrix), inventory, site, d);
}

static void assert_refused(const char *matrix, const char *inventory, const char *site,
                           const char *const *expected)
{
    struct diag d;
    struct matrix *m = parse(matrix, inventory, site, &d);
    ck_assert_ptr_null(m);
    assert_lines(&d, expected);
    ck_assert_uint_eq(d.errors, d.count);
    diag_free(&d);
}

static struct matrix *parse_ok(const char *matrix, const char *inventory, const char *site)
{
    struct diag d;
    struct matrix *m = parse(matrix, inventory, site, &d);
    char buf[1024] = "";
    if (d.count > 0)
        diag_format(&d, 0, buf, sizeof(buf));
    ck_assert_msg(m != NULL, "refused: %s", buf);
    ck_assert_uint_eq(d.count, 0);
    diag_free(&d);
    return m;
}

#define INV "device,addresses\npump,10.1.1.1\nsrv,10.1.1.2\n"
#define HEAD "device,id,from,to,proto,port\n"

/* ---------------------------------------------------------------- loading */

START_TEST(french_excel_export)
{
    /* BOM, ';', CRLF, French headers, oui/non, quoted cells with ';', a
     * doubled quote and a line break, a blank ";;;" row, a site file. */
    struct diag d;
    diag_init(&d);
    struct matrix *m = matrix_load_csv(DATA("french.csv"), NULL, &d);
    ck_assert_uint_eq(d.count, 0);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->path, DATA("french.csv"));
    ck_assert_str_eq(m->site, "CH Exemple");
    ck_assert_str_eq(m->timezone, "Europe/Paris");
    ck_assert(m->has_internal);
    ck_assert_uint_eq(m->internal_count, 2);
    ck_assert_uint_eq(m->host_count, 4);
    ck_assert_str_eq(m->hosts[0].name, "pacs");
    ck_assert_str_eq(m->hosts[1].dns_names[0], "portail.fournisseur.example");
    ck_assert_uint_eq(m->hosts[3].prefix_count, 2);
    ck_assert_uint_eq(m->device_count, 2);
    const struct matrix_device *irm = &m->devices[0];
    ck_assert_str_eq(irm->name, "irm-1");
    ck_assert_str_eq(irm->vendor, "Acme Médical");
    ck_assert_str_eq(irm->model, "IRM 3T");
    ck_assert_str_eq(irm->location, "Imagerie; salle 2");
    ck_assert_uint_eq(irm->prefix_count, 1);
    ck_assert_uint_eq(irm->mac_count, 1);
    ck_assert_uint_eq(irm->flow_count, 3);
    const struct matrix_flow *f = &irm->flows[0];
    ck_assert_str_eq(f->id, "F01");
    ck_assert_int_eq(f->line, 2); /* the BOM is not counted */
    ck_assert_int_eq(f->column, 1);
    ck_assert_int_eq(f->proto, MATRIX_PROTO_TCP); /* "TCP" */
    ck_assert_str_eq(f->app, "DICOM");
    ck_assert(!f->internet); /* "non" */
    ck_assert_str_eq(f->waiver, "VLAN isolé; TLS prévu");
    f = &irm->flows[1];
    ck_assert_int_eq(f->line, 3);
    ck_assert_str_eq(f->description, "Console \"web\" du fabricant");
    ck_assert_int_eq(f->to.kind, MATRIX_PEER_HOST);
    ck_assert_uint_eq(f->port_count, 2); /* "80;443" */
    ck_assert_uint_eq(f->ports[0].low, 80);
    ck_assert_uint_eq(f->ports[1].low, 443);
    ck_assert(f->internet); /* "Oui" */
    ck_assert_int_eq(f->encryption, MATRIX_ENCRYPTION_TLS12);
    f = &irm->flows[2];
    ck_assert_int_eq(f->line, 5); /* after the blank ";;;" row */
    ck_assert_str_eq(f->description, "Télémaintenance par le fournisseur");
    ck_assert_int_eq(f->from.kind, MATRIX_PEER_HOST);
    ck_assert_str_eq(f->window, "lun-ven 08:00-18:00");
    ck_assert(f->internet); /* "OUI" */
    const struct matrix_device *pump = &m->devices[1];
    ck_assert_str_eq(pump->location, "Réanimation");
    ck_assert_uint_eq(pump->flow_count, 1);
    ck_assert_int_eq(pump->flows[0].line, 7); /* the quoted line break counted */
    ck_assert(!pump->flows[0].internet);      /* "faux" */
    ck_assert_int_eq(pump->flows[0].encryption, MATRIX_ENCRYPTION_NONE); /* blank */
    matrix_free(m);
    diag_free(&d);
}
END_TEST

START_TEST(plain_comma_lf_any_header_order)
{
    struct diag d;
    diag_init(&d);
    struct matrix *m = matrix_load(DATA("plain.csv"), NULL, &d);
    ck_assert_uint_eq(d.count, 0);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_null(m->site); /* no plain.site.csv */
    ck_assert(!m->has_internal);
    ck_assert_uint_eq(m->host_count, 0);
    ck_assert_uint_eq(m->device_count, 2);
    ck_assert_uint_eq(m->devices[1].flow_count, 0);
    const struct matrix_flow *f = m->devices[0].flows;
    ck_assert_int_eq(f[0].to.kind, MATRIX_PEER_OTHER_DEVICE);
    ck_assert_uint_eq(f[0].port_count, 2); /* "80, 443" */
    ck_assert(!f[0].internet);             /* "0" */
    ck_assert(!f[1].internet);             /* blank */
    ck_assert_int_eq(f[1].proto, MATRIX_PROTO_UDP);
    ck_assert(f[2].internet); /* "yes" */
    ck_assert_int_eq(f[2].encryption, MATRIX_ENCRYPTION_TLS13);
    ck_assert_int_eq(f[2].line, 4);
    matrix_free(m);
    diag_free(&d);
}
END_TEST

START_TEST(explicit_inventory_path)
{
    struct diag d;
    diag_init(&d);
    struct matrix *m = matrix_load_csv(DATA("errors.csv"), DATA("plain.inventory.csv"), &d);
    ck_assert_ptr_null(m);
    /* errors.csv's devices are not in plain's inventory. */
    ck_assert_uint_ge(d.count, 1);
    char buf[512];
    diag_format(&d, 0, buf, sizeof(buf));
    ck_assert_str_eq(buf, DATA("errors.csv") ":2:1: error: \"device\": \"scanner\" is not a device "
                                             "of the inventory " DATA("plain.inventory.csv"));
    diag_free(&d);
}
END_TEST

START_TEST(errors_in_three_files)
{
    struct diag d;
    diag_init(&d);
    struct matrix *m = matrix_load_csv(DATA("errors.csv"), NULL, &d);
    ck_assert_ptr_null(m);
#define E DATA("errors.csv")
#define I DATA("errors.inventory.csv")
#define S DATA("errors.site.csv")
    assert_lines(
        &d,
        LINES(E ":2:33: error: \"internet\": expected a boolean (true/false, oui/non, vrai/faux, "
                "yes/no, 1/0), got \"maybe\"",
              E ":3:9: error: \"id\": duplicate flow id \"F01\" in this device (first defined at "
                "line 2, column 9)",
              E ":3:20: error: \"to\": unknown host or device \"pacs2\" (did you mean \"pacs\"?)",
              E ":4:1: error: \"device\": \"scaner\" is not a device of the inventory " I
                " (did you mean \"scanner\"?)",
              E ":5:1: error: \"device\": \"pacs\" is a host of the inventory (kind \"host\"), "
                "not a device: only devices have flows",
              E ":6:29: error: \"port\": expected a port (1-65535), a range \"A-B\", a list "
                "\"80,443\" or \"any\", got \"\"",
              I ":2:16: error: \"addresses\": expected an IPv4 or IPv6 address (optionally a "
                "CIDR) or a MAC address, got \"10.0.0.300\"",
              I ":3:21: error: a host has no \"vendor\": leave the cell empty, or write "
                "\"device\" in \"kind\"",
              I ":4:1: error: \"device\": name \"scanner\" is already used by the row at line 2",
              I ":5:1: error: \"name\": invalid name \"any\": this word is reserved for \"from\" "
                "and \"to\", choose another name",
              I ":6:8: error: \"kind\": expected \"device\" or \"host\", got \"machine\"",
              S ":2:10: error: \"timezone\": unknown time zone \"Europe/Pariss\": expected an "
                "IANA time zone name such as \"Europe/Paris\"",
              S ":3:10: error: \"internal\": expected an IPv4 or IPv6 network in CIDR notation "
                "(host bits zero), e.g. \"10.0.0.0/8\", got \"10.0.0.1/8\"",
              S ":4:1: error: unknown key \"sites\" (did you mean \"site\"?)"));
#undef E
#undef I
#undef S
    diag_free(&d);
}
END_TEST

START_TEST(missing_inventory_file)
{
    char dir[] = "/tmp/test_matrix_csv_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/lonely.csv", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(HEAD, f);
    fclose(f);
    struct diag d;
    diag_init(&d);
    ck_assert_ptr_null(matrix_load_csv(path, NULL, &d));
    ck_assert_uint_eq(d.count, 1);
    char buf[512], expected[512];
    diag_format(&d, 0, buf, sizeof(buf));
    snprintf(expected, sizeof(expected),
             "%s/lonely.inventory.csv: error: cannot open the inventory (a CSV matrix needs "
             "one: --inventory FILE): No such file or directory",
             dir);
    ck_assert_str_eq(buf, expected);
    diag_free(&d);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(load_by_extension)
{
    struct diag d;
    diag_init(&d);
    struct matrix *m = matrix_load(TEST_DATA_DIR "/matrix/valid.json", NULL, &d);
    ck_assert_ptr_nonnull(m);
    matrix_free(m);
    ck_assert_ptr_null(matrix_load("x.mud.json", NULL, &d));
    /* With an inventory, matrix_load_mud reads both (here: no MUD file). */
    ck_assert_ptr_null(
        matrix_load("/nonexistent/x.MUD.json", TEST_DATA_DIR "/matrix/valid.json", &d));
    ck_assert_ptr_null(matrix_load("x.txt", NULL, &d));
    ck_assert_ptr_null(matrix_load(TEST_DATA_DIR "/matrix/valid.json", "inv.csv", &d));
    assert_lines(
        &d, LINES("x.mud.json: error: a MUD file needs an inventory: --inventory FILE (a "
                  "fluxaudit-matrix/1 JSON matrix whose devices give their \"model\")",
                  "/nonexistent/x.MUD.json: error: cannot open: No such file or directory",
                  "x.txt: error: unknown matrix format: expected a .json (fluxaudit-matrix/1) or "
                  ".csv file",
                  "inv.csv: error: an inventory goes with a CSV matrix; " TEST_DATA_DIR
                  "/matrix/valid.json is JSON (its devices carry their addresses)"));
    diag_free(&d);
}
END_TEST

/* ---------------------------------------------------------------- syntax */

START_TEST(unterminated_quote)
{
    assert_refused(HEAD "pump,F01,device,srv,tcp,80\n"
                        "pump,\"F02,device,srv,tcp,80\n"
                        "pump,F03,device,srv,tcp,80\n",
                   INV, NULL,
                   LINES("m.csv:3:6: error: unterminated quoted cell: the closing '\"' is "
                         "missing"));
}
END_TEST

START_TEST(quote_inside_unquoted_cell)
{
    assert_refused(HEAD "pump,F\"01,device,srv,tcp,80\n", INV, NULL,
                   LINES("m.csv:2:7: error: '\"' inside a cell that does not start with a "
                         "quote: quote the whole cell and double the quote (\"a \"\"b\"\" c\")"));
}
END_TEST

START_TEST(text_after_closing_quote)
{
    assert_refused(HEAD "pump,\"F01\"x,device,srv,tcp,80\n", INV, NULL,
                   LINES("m.csv:2:11: error: unexpected 'x' after the closing quote of a quoted "
                         "cell (inside quotes, write a quote as \"\")"));
    assert_refused(HEAD "pump,\"F01\" \"\",device,srv,tcp,80\n", INV, NULL,
                   LINES("m.csv:2:12: error: unexpected '\"' after the closing quote of a "
                         "quoted cell (inside quotes, write a quote as \"\")"));
}
END_TEST

START_TEST(more_cells_than_header)
{
    /* Empty trailing cells (Excel's ";;;") are fine; a value is not. */
    assert_refused(HEAD "pump,F01,device,srv,tcp,80,,,\n"
                        "pump,F02,device,srv,tcp,80,,oops,more\n",
                   INV, NULL,
                   LINES("m.csv:3:29: error: extra cell: this row has more cells than the "
                         "header (6)"));
}
END_TEST

START_TEST(header_errors)
{
    assert_refused("device,id,from,to,proto,prot,colour\n", INV, NULL,
                   LINES("m.csv:1:25: error: unknown column \"prot\" (did you mean \"proto\"?)",
                         "m.csv:1:30: error: unknown column \"colour\": expected device, id, "
                         "description, from, to, proto, port, app, encryption, internet, window, "
                         "waiver"));
    assert_refused("device,ID,id,from,Protocole\n", INV, NULL,
                   LINES("m.csv:1:1: error: missing required column \"to\" (the header must "
                         "name device, id, from, to, proto)",
                         "m.csv:1:11: error: duplicate column \"id\" (first at line 1, column "
                         "8)"));
    /* A header row after blank lines: errors point at it. */
    assert_refused("\n\n  device,id,from,proto\n", INV, NULL,
                   LINES("m.csv:3:3: error: missing required column \"to\" (the header must "
                         "name device, id, from, to, proto)"));
    assert_refused("device,id,from,to,proto,,port\npump,F01,device,srv,tcp,x,80\n", INV, NULL,
                   LINES("m.csv:2:25: error: cell in a column without a header name"));
    char wide[512] = "device,id,from,to,proto";
    for (int i = 0; i < 30; i++)
        strcat(wide, ",port");
    strcat(wide, "\n");
    /* The 33rd cell: 23 bytes, then 27 times ",port", then its comma. */
    assert_refused(wide, INV, NULL,
                   LINES("m.csv:1:160: error: too many columns in the header (at most 32)"));
}
END_TEST

START_TEST(empty_files)
{
    assert_refused("", INV, NULL, LINES("m.csv: error: empty file: expected a header row"));
    assert_refused("\xef\xbb\xbf\r\n \r\n", INV, NULL,
                   LINES("m.csv: error: empty file: expected a header row"));
    assert_refused(HEAD, "", NULL,
                   LINES("m.inventory.csv: error: empty file: expected a header row"));
    assert_refused(HEAD, NULL, NULL,
                   LINES("m.csv: error: a CSV matrix needs its inventory (device,addresses,... "
                         "rows)"));
}
END_TEST

START_TEST(encoding_errors)
{
    /* Latin-1 "é" (Windows Excel's "CSV (séparateur: point-virgule)"). */
    assert_refused(HEAD "pump,F01,device,srv,tcp,80\npump,F02,d\xe9vice,srv,tcp,80\n", INV, NULL,
                   LINES("m.csv:3:11: error: invalid UTF-8 byte 0xE9: the file must be encoded "
                         "in UTF-8 (in Excel: save as \"CSV UTF-8\")"));
    /* Columns count bytes: "é" is two. */
    assert_refused("\xef\xbb\xbf"
                   "device,id,from,to,proto\n\"é\xc3\",F01\n",
                   INV, NULL,
                   LINES("m.csv:2:4: error: invalid UTF-8 byte 0xC3: the file must be encoded "
                         "in UTF-8 (in Excel: save as \"CSV UTF-8\")"));
    /* Overlong form and surrogate. */
    assert_refused(HEAD "\xc0\xaf\n", INV, NULL,
                   LINES("m.csv:2:1: error: invalid UTF-8 byte 0xC0: the file must be encoded "
                         "in UTF-8 (in Excel: save as \"CSV UTF-8\")"));
    assert_refused(HEAD "\xed\xa0\x80\n", INV, NULL,
                   LINES("m.csv:2:1: error: invalid UTF-8 byte 0xED: the file must be encoded "
                         "in UTF-8 (in Excel: save as \"CSV UTF-8\")"));
    assert_refused("\xff\xfe"
                   "d",
                   INV, NULL,
                   LINES("m.csv: error: the file is UTF-16 (Excel \"Unicode text\"): save it as "
                         "\"CSV UTF-8\""));
    static const char nul[] = HEAD "pump,F01,de\0vice,srv,tcp,80\n";
    struct diag d;
    ck_assert_ptr_null(parse_n(nul, sizeof(nul) - 1, INV, NULL, &d));
    assert_lines(&d, LINES("m.csv:2:12: error: NUL byte: a CSV file is text"));
    diag_free(&d);
}
END_TEST

/* ---------------------------------------------------------------- cells */

START_TEST(empty_required_cells)
{
    assert_refused(HEAD "pump,,device,srv,tcp,80\n"
                        "pump,F02,,srv,tcp,80\n"
                        "pump,F03,device,srv,,80\n"
                        "pump,F04,device,srv,tcp,\n"
                        ",F05,device,srv,tcp,80\n"
                        "pump,F06,device\n",
                   INV, NULL,
                   LINES("m.csv:2:6: error: \"id\": expected a flow identifier, got a blank "
                         "string",
                         "m.csv:3:10: error: \"from\": expected \"device\", \"internet\", "
                         "\"any\", a host or device name, an IP address or CIDR, or a DNS name, "
                         "got a blank string",
                         "m.csv:4:21: error: \"proto\": expected \"tcp\", \"udp\", \"icmp\" or "
                         "\"any\", got \"\"",
                         "m.csv:5:25: error: \"port\": expected a port (1-65535), a range "
                         "\"A-B\", a list \"80,443\" or \"any\", got \"\"",
                         "m.csv:6:1: error: empty \"device\" cell: expected the name of a device "
                         "of the inventory",
                         /* a short row: the missing cells are at the end of its line */
                         "m.csv:7:16: error: \"to\": expected \"device\", \"internet\", \"any\", "
                         "a host or device name, an IP address or CIDR, or a DNS name, got a "
                         "blank string",
                         "m.csv:7:16: error: \"proto\": expected \"tcp\", \"udp\", \"icmp\" or "
                         "\"any\", got \"\""));
}
END_TEST

START_TEST(booleans)
{
    static const char *const yes[] = {"true", "TRUE", "oui", "Oui", "vrai", "yes", "1", " 1 "};
    static const char *const no[] = {"false", "non", "NON", "faux", "Faux", "no", "0"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]) + sizeof(no) / sizeof(no[0]); i++) {
        bool expect = i < sizeof(yes) / sizeof(yes[0]);
        const char *word = expect ? yes[i] : no[i - sizeof(yes) / sizeof(yes[0])];
        char text[256];
        snprintf(text, sizeof(text),
                 "device,id,from,to,proto,port,internet\npump,F01,device,srv,tcp,80,%s\n", word);
        struct matrix *m = parse_ok(text, INV, NULL);
        ck_assert_msg(m->devices[0].flows[0].internet == expect, "%s", word);
        matrix_free(m);
    }
    assert_refused("device,id,from,to,proto,internet\npump,F01,device,internet,any,peut-être\n",
                   INV, NULL,
                   LINES("m.csv:2:30: error: \"internet\": expected a boolean (true/false, "
                         "oui/non, vrai/faux, yes/no, 1/0), got \"peut-être\""));
}
END_TEST

START_TEST(ports_in_cells)
{
    struct matrix *m = parse_ok("device;id;from;to;proto;port\r\n"
                                "pump;F01;device;srv;tcp;80 443\r\n"
                                "pump;F02;device;srv;tcp;\"80;443\"\r\n"
                                "pump;F03;device;srv;tcp;1000 - 2000\r\n"
                                "pump;F04;device;srv;tcp;\"80,\n443\"\r\n"
                                "pump;F05;device;srv;tcp;ANY\r\n"
                                "pump;F06;device;srv;icmp;\r\n",
                                INV, NULL);
    const struct matrix_flow *f = m->devices[0].flows;
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(f[i].port_count, 2);
        ck_assert_uint_eq(f[i].ports[0].low, 80);
        ck_assert_uint_eq(f[i].ports[1].low, 443);
    }
    ck_assert_uint_eq(f[2].port_count, 1);
    ck_assert_uint_eq(f[2].ports[0].low, 1000);
    ck_assert_uint_eq(f[2].ports[0].high, 2000);
    ck_assert_uint_eq(f[3].port_count, 2);
    ck_assert_int_eq(f[3].line, 5);
    ck_assert_int_eq(f[4].line, 7);
    ck_assert(f[4].any_port);
    ck_assert(f[5].any_port);
    matrix_free(m);
    assert_refused(HEAD "pump,F01,device,srv,tcp,\"80,http\"\n", INV, NULL,
                   LINES("m.csv:2:25: error: \"port\": expected a port (1-65535), a range "
                         "\"A-B\", a list \"80,443\" or \"any\", got \"80,http\""));
}
END_TEST

START_TEST(text_cells)
{
    /* Quoted blanks are kept; a line break typed in a free-text cell
     * becomes one space; a ',' inside an unquoted ';' cell is text. */
    struct matrix *m =
        parse_ok("device;id;description;from;to;proto;port;window\n"
                 "pump;F01;\" lead, trail \";device;srv;tcp;80;\"Mon 08:00-12:00; \r\n"
                 "  Tue 14:00-16:00\"\n"
                 "pump;F02;a, b;device;srv;tcp;80;\n",
                 INV, NULL);
    const struct matrix_flow *f = m->devices[0].flows;
    ck_assert_str_eq(f[0].description, " lead, trail ");
    ck_assert_str_eq(f[0].window, "Mon 08:00-12:00; Tue 14:00-16:00");
    ck_assert_str_eq(f[1].description, "a, b");
    ck_assert_ptr_null(f[1].window);
    ck_assert_int_eq(f[1].line, 4);
    matrix_free(m);
    /* A line break in an id is no free text: it stays and is refused. */
    assert_refused(HEAD "pump,\"F\n01\",device,srv,tcp,80\n", INV, NULL,
                   LINES("m.csv:2:6: error: \"id\": control characters are not allowed"));
}
END_TEST

START_TEST(window_cells)
{
    /* The column inside the window text, with or without quotes. */
    assert_refused("device;id;from;to;proto;port;window\n"
                   "pump;F01;srv;device;tcp;22;Mon-Fro 08:00-18:00\n"
                   "pump;F02;srv;device;tcp;23;\"Mon 08:00-18:00; Tue 25:00-26:00\"\n"
                   "pump;F03;srv;device;tcp;24;  lun-ven 08:00-12:00, 14:00-18:00\n",
                   INV, NULL,
                   LINES("m.csv:2:32: error: \"window\": unknown day \"Fro\": expected Mon, Tue, "
                         "Wed, Thu, Fri, Sat, Sun (or lun..dim), \"daily\", \"weekdays\" or "
                         "\"weekend\"",
                         "m.csv:3:50: error: \"window\": invalid time \"25:00\": hours 00-23, "
                         "minutes 00-59 (24:00 only as an end)"));
}
END_TEST

START_TEST(line_endings_and_blank_rows)
{
    /* CR only (old Mac Excel), then CRLF with blank and ";;" rows. */
    assert_refused(HEAD "pump,F01,device,srv,tcp,80\rpump,F01,device,srv,tcp,80\r", INV, NULL,
                   LINES("m.csv:3:6: error: \"id\": duplicate flow id \"F01\" in this device "
                         "(first defined at line 2, column 6)"));
    assert_refused("device,id,from,to,proto,port\r\n\r\n,,,,,\r\n   \r\n"
                   "pump,F01,device,srv,tcp,80\r\n\r\n"
                   "pump, F01,device,srv,tcp,80\r\n",
                   INV, NULL,
                   LINES("m.csv:7:7: error: \"id\": duplicate flow id \"F01\" in this device "
                         "(first defined at line 5, column 6)"));
}
END_TEST

START_TEST(inventory_cells)
{
    assert_refused(HEAD "pump,F01,device,srv,tcp,80\n",
                   "device,addresses\n,10.1.1.1\npump,\nsrv,10.1.1.2\n", NULL,
                   LINES("m.inventory.csv:2:1: error: empty \"device\" cell: expected the name "
                         "of the device or host",
                         "m.inventory.csv:3:6: error: \"addresses\": expected an IPv4 or IPv6 "
                         "address (optionally a CIDR) or a MAC address, got a blank string"));
    assert_refused(HEAD, "device,kind,addresses\nsrv,host,10.1.1.2\n", NULL,
                   LINES("m.inventory.csv:1:1: error: the inventory lists no device (rows whose "
                         "\"kind\" is \"device\" or blank): a matrix describes at least one "
                         "device"));
    /* Addresses split on blanks, line breaks, commas and semicolons. */
    struct matrix *m = parse_ok(HEAD "pump,F01,device,dns,udp,53\n",
                                "nom,type,adresse\n"
                                "pump,,\"10.1.1.1,  aa:bb:cc:dd:ee:ff;\n10.2.0.0/16\"\n"
                                "dns,HÔTE,10.0.0.53 resolver.example\n",
                                NULL);
    ck_assert_uint_eq(m->devices[0].address_count, 3);
    ck_assert_str_eq(m->devices[0].address_texts[2], "10.2.0.0/16");
    ck_assert_uint_eq(m->hosts[0].prefix_count, 1);
    ck_assert_str_eq(m->hosts[0].dns_names[0], "resolver.example");
    matrix_free(m);
    /* Host names collide with device names too; the name error of an
     * inventory host points at its name cell. */
    assert_refused(HEAD "pump,F01,device,srv,tcp,80\n",
                   "device,kind,addresses\npump,device,10.1.1.1\nsrv,host,10.1.1.2\n"
                   "pump,host,10.1.1.3\n10.1.1.9,host,10.1.1.9\n",
                   NULL,
                   LINES("m.inventory.csv:4:1: error: \"device\": name \"pump\" is already used "
                         "by the row at line 2",
                         "m.inventory.csv:5:1: error: \"hosts\": invalid name \"10.1.1.9\": an "
                         "address cannot be a name, choose another name"));
}
END_TEST

START_TEST(site_cells)
{
    assert_refused(HEAD "pump,F01,device,srv,tcp,80\n", INV,
                   "key,value\nsite,A\nSite,B\n,x\ntimezone,\n",
                   LINES("m.site.csv:3:1: error: duplicate key \"site\" (first at line 2, column "
                         "1)",
                         "m.site.csv:4:1: error: empty key: expected site, timezone or "
                         "internal"));
    assert_refused(HEAD "pump,F01,device,srv,tcp,80\n", INV, "site,A\n",
                   LINES("m.site.csv:1:1: error: unknown column \"site\": expected key, value",
                         "m.site.csv:1:1: error: missing required column \"key\" (the header "
                         "must name key, value)",
                         "m.site.csv:1:1: error: missing required column \"value\" (the header "
                         "must name key, value)",
                         "m.site.csv:1:6: error: unknown column \"A\": expected key, value"));
    struct matrix *m = parse_ok(HEAD "pump,F01,device,srv,tcp,80\n", INV,
                                "Clé;Valeur\nSITE;\"CH, site nord\"\ntimezone;\ninternal;\n");
    ck_assert_str_eq(m->site, "CH, site nord");
    ck_assert_ptr_null(m->timezone); /* blank: the default */
    ck_assert(!m->has_internal);
    matrix_free(m);
}
END_TEST

START_TEST(unknown_devices_reported_once)
{
    assert_refused(HEAD "pmp,F01,device,srv,tcp,80\npmp,F02,device,srv,tcp,80\n"
                        "other,F03,device,srv,tcp,80\n",
                   INV, NULL,
                   LINES("m.csv:2:1: error: \"device\": \"pmp\" is not a device of the inventory "
                         "m.inventory.csv (did you mean \"pump\"?)",
                         "m.csv:4:1: error: \"device\": \"other\" is not a device of the "
                         "inventory m.inventory.csv"));
}
END_TEST

START_TEST(too_many_rows)
{
    size_t rows = 100002, len = 0;
    char *text = malloc(rows * 8 + 64);
    ck_assert_ptr_nonnull(text);
    len += (size_t)sprintf(text, "device,id,from,to,proto\n");
    for (size_t i = 0; i < rows; i++)
        len += (size_t)sprintf(text + len, "p,F,d,d\n");
    struct diag d;
    ck_assert_ptr_null(parse_n(text, len, INV, NULL, &d));
    assert_lines(&d, LINES("m.csv:100002:1: error: too many rows (at most 100000)"));
    diag_free(&d);
    free(text);
}
END_TEST

/* ---------------------------------------------------------------- writers */

/* Writes `m` as JSON into a new string. */
static char *to_json(const struct matrix *m)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(out);
    char err[128];
    ck_assert(matrix_write_json(m, out, err, sizeof(err)));
    fclose(out);
    return buf;
}

struct csv_texts {
    char *text[3];
    size_t len[3];
};

static void to_csv(const struct matrix *m, struct csv_texts *t)
{
    FILE *out[3];
    for (int i = 0; i < 3; i++) {
        out[i] = open_memstream(&t->text[i], &t->len[i]);
        ck_assert_ptr_nonnull(out[i]);
    }
    char err[128];
    ck_assert(matrix_write_csv_streams(m, out[0], out[1], out[2], err, sizeof(err)));
    for (int i = 0; i < 3; i++)
        fclose(out[i]);
}

static void free_csv(struct csv_texts *t)
{
    for (int i = 0; i < 3; i++)
        free(t->text[i]);
}

START_TEST(csv_writer_exact)
{
    struct diag d;
    diag_init(&d);
    const char *json = "{\"format\": \"fluxaudit-matrix/1\", \"site\": \"CH \\\"Nord\\\"\",\n"
                       " \"hosts\": {\"srv\": [\"srv.example\", \"10.0.0.0/24\"]},\n"
                       " \"devices\": [{\"name\": \"pump\", \"location\": \" Bloc, 2 \",\n"
                       "   \"addresses\": [\"10.1.1.1\", \"AA-BB-CC-DD-EE-FF\"],\n"
                       "   \"flows\": [{\"id\": \"F1\", \"description\": \"a;b\", \"from\": "
                       "\"device\",\n"
                       "   \"to\": \"srv\", \"proto\": \"TCP\", \"port\": \"443, 80-81\"}]}]}";
    struct matrix *m = matrix_parse_json("m.json", json, strlen(json), &d);
    ck_assert_ptr_nonnull(m);
    struct csv_texts t;
    to_csv(m, &t);
    ck_assert_str_eq(t.text[0],
                     "device,id,description,from,to,proto,port,app,encryption,internet,window,"
                     "waiver\r\n"
                     "pump,F1,\"a;b\",device,srv,tcp,\"443,80-81\",,none,false,,\r\n");
    ck_assert_str_eq(t.text[1], "device,kind,addresses,vendor,model,location\r\n"
                                "srv,host,10.0.0.0/24 srv.example,,,\r\n"
                                "pump,device,10.1.1.1 AA-BB-CC-DD-EE-FF,,,\" Bloc, 2 \"\r\n");
    ck_assert_str_eq(t.text[2], "key,value\r\nsite,\"CH \"\"Nord\"\"\"\r\n");
    /* And back. */
    struct matrix_csv_input in[3] = {{"m.csv", t.text[0], t.len[0]},
                                     {"m.inventory.csv", t.text[1], t.len[1]},
                                     {"m.site.csv", t.text[2], t.len[2]}};
    struct matrix *back = matrix_parse_csv(&in[0], &in[1], &in[2], &d);
    ck_assert_ptr_nonnull(back);
    ck_assert_str_eq(back->site, "CH \"Nord\"");
    ck_assert_str_eq(back->devices[0].location, " Bloc, 2 ");
    ck_assert_str_eq(back->devices[0].flows[0].description, "a;b");
    char *a = to_json(m), *b = to_json(back);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    free_csv(&t);
    matrix_free(back);
    matrix_free(m);
    diag_free(&d);
}
END_TEST

START_TEST(json_writer_exact)
{
    struct diag d;
    diag_init(&d);
    const char *json = "{\"format\": \"fluxaudit-matrix/1\", \"internal\": [\"10.0.0.0/8\"],\n"
                       " \"devices\": [{\"name\": \"pump\", \"vendor\": \"\", "
                       "\"addresses\": [\"10.1.1.1\"],\n"
                       "   \"flows\": [{\"id\": \"F1\", \"from\": \"any\", \"to\": \"device\", "
                       "\"proto\": \"icmp\", \"port\": \"any\",\n"
                       "   \"waiver\": \"ok \\\\ \\\"x\\\"\"}]},\n"
                       "  {\"name\": \"cam\", \"addresses\": [\"10.1.1.2\"]}]}";
    struct matrix *m = matrix_parse_json("m.json", json, strlen(json), &d);
    ck_assert_ptr_nonnull(m);
    char *out = to_json(m);
    ck_assert_str_eq(out, "{\n"
                          "  \"format\": \"fluxaudit-matrix/1\",\n"
                          "  \"internal\": [\"10.0.0.0/8\"],\n"
                          "  \"devices\": [\n"
                          "    {\n"
                          "      \"name\": \"pump\",\n"
                          "      \"addresses\": [\"10.1.1.1\"],\n"
                          "      \"flows\": [\n"
                          "        {\n"
                          "          \"id\": \"F1\",\n"
                          "          \"from\": \"any\",\n"
                          "          \"to\": \"device\",\n"
                          "          \"proto\": \"icmp\",\n"
                          "          \"encryption\": \"none\",\n"
                          "          \"internet\": false,\n"
                          "          \"waiver\": \"ok \\\\ \\\"x\\\"\"\n"
                          "        }\n"
                          "      ]\n"
                          "    },\n"
                          "    {\n"
                          "      \"name\": \"cam\",\n"
                          "      \"addresses\": [\"10.1.1.2\"],\n"
                          "      \"flows\": []\n"
                          "    }\n"
                          "  ]\n"
                          "}\n");
    free(out);
    matrix_free(m);
    diag_free(&d);
}
END_TEST

/* JSON file -> model -> JSON (A); A -> model -> JSON must be A (stable);
 * A's model -> CSV -> model -> JSON must be A (nothing lost); and the same
 * through real files with matrix_write_csv and matrix_load_csv. */
static void assert_round_trip(const char *path)
{
    struct diag d;
    diag_init(&d);
    struct matrix *m = matrix_load_json(path, &d);
    ck_assert_msg(m != NULL, "cannot load %s", path);
    char *a = to_json(m);
    struct matrix *again = matrix_parse_json("a.json", a, strlen(a), &d);
    ck_assert_ptr_nonnull(again);
    char *a2 = to_json(again);
    ck_assert_str_eq(a, a2);
    struct csv_texts t;
    to_csv(m, &t);
    struct matrix_csv_input in[3] = {{"m.csv", t.text[0], t.len[0]},
                                     {"m.inventory.csv", t.text[1], t.len[1]},
                                     {"m.site.csv", t.text[2], t.len[2]}};
    struct matrix *from_csv = matrix_parse_csv(&in[0], &in[1], &in[2], &d);
    ck_assert_uint_eq(d.count, 0);
    ck_assert_ptr_nonnull(from_csv);
    char *b = to_json(from_csv);
    ck_assert_str_eq(a, b);

    char dir[] = "/tmp/test_matrix_csv_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char csv[256], inv[256], site[256], err[256];
    snprintf(csv, sizeof(csv), "%s/out.csv", dir);
    snprintf(inv, sizeof(inv), "%s/out.inventory.csv", dir);
    snprintf(site, sizeof(site), "%s/out.site.csv", dir);
    ck_assert_msg(matrix_write_csv(m, csv, err, sizeof(err)), "%s", err);
    struct matrix *from_files = matrix_load(csv, NULL, &d);
    ck_assert_uint_eq(d.count, 0);
    ck_assert_ptr_nonnull(from_files);
    char *c = to_json(from_files);
    ck_assert_str_eq(a, c);
    unlink(csv);
    unlink(inv);
    unlink(site);
    ck_assert_int_eq(rmdir(dir), 0); /* no temporary file left behind */

    free(a);
    free(a2);
    free(b);
    free(c);
    free_csv(&t);
    matrix_free(m);
    matrix_free(again);
    matrix_free(from_csv);
    matrix_free(from_files);
    diag_free(&d);
}

START_TEST(round_trip_valid)
{
    assert_round_trip(TEST_DATA_DIR "/matrix/valid.json");
}
END_TEST

START_TEST(round_trip_pcaps_matrices)
{
    assert_round_trip(TEST_DATA_DIR "/../../pcaps/reference-matrix.json");
    assert_round_trip(TEST_DATA_DIR "/../../pcaps/crypto-matrix.json");
}
END_TEST

START_TEST(round_trip_french_csv)
{
    /* CSV (French) -> JSON -> CSV -> JSON: the second JSON is the first. */
    struct diag d;
    diag_init(&d);
    struct matrix *m = matrix_load_csv(DATA("french.csv"), NULL, &d);
    ck_assert_ptr_nonnull(m);
    char *a = to_json(m);
    struct csv_texts t;
    to_csv(m, &t);
    struct matrix_csv_input in[3] = {{"m.csv", t.text[0], t.len[0]},
                                     {"m.inventory.csv", t.text[1], t.len[1]},
                                     {"m.site.csv", t.text[2], t.len[2]}};
    struct matrix *back = matrix_parse_csv(&in[0], &in[1], &in[2], &d);
    ck_assert_ptr_nonnull(back);
    char *b = to_json(back);
    ck_assert_str_eq(a, b);
    ck_assert_ptr_null(strstr(t.text[0], "\xef\xbb\xbf")); /* no BOM written */
    free(a);
    free(b);
    free_csv(&t);
    matrix_free(m);
    matrix_free(back);
    diag_free(&d);
}
END_TEST

START_TEST(write_csv_error)
{
    struct diag d;
    diag_init(&d);
    struct matrix *m = matrix_load_json(TEST_DATA_DIR "/matrix/valid.json", &d);
    ck_assert_ptr_nonnull(m);
    char err[256];
    ck_assert(!matrix_write_csv(m, "/nonexistent-dir/x.csv", err, sizeof(err)));
    ck_assert_str_eq(err, "cannot create /nonexistent-dir/x.csv.tmp: No such file or directory");
    matrix_free(m);
    diag_free(&d);
}
END_TEST

static Suite *matrix_csv_suite(void)
{
    Suite *s = suite_create("matrix_csv");
    TCase *load = tcase_create("load");
    tcase_add_test(load, french_excel_export);
    tcase_add_test(load, plain_comma_lf_any_header_order);
    tcase_add_test(load, explicit_inventory_path);
    tcase_add_test(load, errors_in_three_files);
    tcase_add_test(load, missing_inventory_file);
    tcase_add_test(load, load_by_extension);
    suite_add_tcase(s, load);
    TCase *syntax = tcase_create("syntax");
    tcase_add_test(syntax, unterminated_quote);
    tcase_add_test(syntax, quote_inside_unquoted_cell);
    tcase_add_test(syntax, text_after_closing_quote);
    tcase_add_test(syntax, more_cells_than_header);
    tcase_add_test(syntax, header_errors);
    tcase_add_test(syntax, empty_files);
    tcase_add_test(syntax, encoding_errors);
    suite_add_tcase(s, syntax);
    TCase *cells = tcase_create("cells");
    tcase_set_timeout(cells, 30);
    tcase_add_test(cells, empty_required_cells);
    tcase_add_test(cells, booleans);
    tcase_add_test(cells, ports_in_cells);
    tcase_add_test(cells, text_cells);
    tcase_add_test(cells, window_cells);
    tcase_add_test(cells, line_endings_and_blank_rows);
    tcase_add_test(cells, inventory_cells);
    tcase_add_test(cells, site_cells);
    tcase_add_test(cells, unknown_devices_reported_once);
    tcase_add_test(cells, too_many_rows);
    suite_add_tcase(s, cells);
    TCase *write = tcase_create("write");
    tcase_add_test(write, csv_writer_exact);
    tcase_add_test(write, json_writer_exact);
    tcase_add_test(write, round_trip_valid);
    tcase_add_test(write, round_trip_pcaps_matrices);
    tcase_add_test(write, round_trip_french_csv);
    tcase_add_test(write, write_csv_error);
    suite_add_tcase(s, write);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(matrix_csv_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
