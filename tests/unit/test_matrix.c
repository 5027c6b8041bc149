/* Unit tests of matrix: the model of a valid matrix, and the exact
 * "file:line:column" diagnostics of every kind of bad matrix. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/matrix.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

static char *read_data(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/matrix/%s", TEST_DATA_DIR, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *buf = malloc(1 << 20);
    ck_assert_ptr_nonnull(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

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

/* Parses tests/data/matrix/NAME under the name NAME and checks it is
 * refused with exactly `expected`. */
static void assert_file_refused(const char *name, const char *const *expected)
{
    size_t len;
    char *text = read_data(name, &len);
    struct diag d;
    diag_init(&d);
    struct matrix *m = matrix_parse_json(name, text, len, &d);
    free(text);
    ck_assert_ptr_null(m);
    assert_lines(&d, expected);
    ck_assert_uint_eq(d.errors, d.count);
    diag_free(&d);
}

/* Parses an inline matrix named "m.json"; returns the model or NULL. */
static struct matrix *parse_text(const char *text, struct diag *d)
{
    diag_init(d);
    return matrix_parse_json("m.json", text, strlen(text), d);
}

static void assert_text_refused(const char *text, const char *const *expected)
{
    struct diag d;
    struct matrix *m = parse_text(text, &d);
    ck_assert_ptr_null(m);
    assert_lines(&d, expected);
    diag_free(&d);
}

#define LINES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* A one-device matrix around one flow written on line 4. */
#define FLOW_DOC(flow)                                                                      \
    "{\"format\": \"fluxaudit-matrix/1\",\n"                                                 \
    "\"hosts\": {\"pacs\": [\"10.10.2.5\"]},\n"                                              \
    "\"devices\": [{\"name\": \"pump\", \"addresses\": [\"10.1.1.1\"], \"flows\": [\n"      \
    flow "\n]}]}\n"

static const char *const expect_array[] = {
    "array.json:1:1: error: expected a JSON object with \"format\": \"fluxaudit-matri"
    "x/1\" at the top level, got an array",
    NULL,
};

static const char *const expect_bad_port[] = {
    "bad_port.json:8:87: error: \"port\": expected a port (1-65535), a range \"A-B\","
    " a list \"80,443\" or \"any\", got \"http\"",
    NULL,
};

static const char *const expect_duplicate_key[] = {
    "duplicate_key.json:5:7: error: duplicate key \"name\" (first defined at line 4, "
    "column 7)",
    NULL,
};

static const char *const expect_empty[] = {
    "empty.json: error: empty file: expected a JSON document",
    NULL,
};

static const char *const expect_many_errors[] = {
    "many_errors.json:2:13: error: \"format\": expected \"fluxaudit-matrix/1\", got "
    "\"fluxaudit-matrix/2\"",
    "many_errors.json:3:15: error: \"timezone\": unknown time zone \"Europe/Pariss\":"
    " expected an IANA time zone name such as \"Europe/Paris\"",
    "many_errors.json:4:16: error: \"internal\": expected an IPv4 or IPv6 network in "
    "CIDR notation (host bits zero), e.g. \"10.0.0.0/8\", got \"10.0.0.1/8\"",
    "many_errors.json:7:5: error: \"hosts\": invalid name \"any\": this word is reser"
    "ved for \"from\" and \"to\", choose another name",
    "many_errors.json:8:13: error: \"ntp\": expected an IP address, a CIDR or a DNS n"
    "ame, got \"10.0.0.300\"",
    "many_errors.json:10:3: error: unknown key \"devics\" in the matrix (did you mean"
    " \"devices\"?)",
    "many_errors.json:13:15: error: \"name\": device name \"pacs\" is already used by"
    " the host defined at line 6, column 5",
    "many_errors.json:14:33: error: \"addresses\": expected an IPv4 or IPv6 address ("
    "optionally a CIDR) or a MAC address, got \"not-an-address\"",
    "many_errors.json:16:48: error: \"to\": unknown host or device \"pacs2\" (did you"
    " mean \"pacs\"?)",
    "many_errors.json:16:66: error: \"proto\": expected \"tcp\", \"udp\", \"icmp\" or"
    " \"any\", got \"tcpp\"",
    "many_errors.json:17:9: error: flow \"F01\": \"from\" or \"to\" must be \"device"
    "\" (a device's flow involves the device itself)",
    "many_errors.json:17:17: error: \"id\": duplicate flow id \"F01\" in this device "
    "(first defined at line 16, column 17)",
    "many_errors.json:18:9: error: missing required key \"id\" in flow #3 (expected a"
    "n identifier unique in the device, e.g. \"F01\")",
    "many_errors.json:18:9: error: missing required key \"port\" in flow #3 (required"
    " for tcp and udp: a port (1-65535), a range \"A-B\", a list \"80,443\" or \"any"
    "\")",
    "many_errors.json:19:81: error: \"port\": ICMP has no ports: remove \"port\" or w"
    "rite \"any\"",
    "many_errors.json:20:80: error: \"port\": invalid range \"2000-1000\": the first "
    "port must not be greater than the second",
    "many_errors.json:21:9: error: flow \"F06\" has \"internet\" as a peer: it must d"
    "eclare \"internet\": true",
    "many_errors.json:22:25: error: \"encryption\": expected one of \"none\", \"tls1."
    "2+\", \"tls1.3\", \"ssh\", \"ipsec\", \"dtls1.2+\", \"snmpv3\", got \"tls\"",
    "many_errors.json:22:42: error: \"waiver\": expected a non-empty justification, g"
    "ot a blank string",
    "many_errors.json:22:47: error: unknown key \"internt\" in flow (did you mean \"i"
    "nternet\"?)",
    NULL,
};

static const char *const expect_not_utf8[] = {
    "not_utf8.json:3:13: error: invalid UTF-8 byte 0xE9: the file must be encoded in "
    "UTF-8",
    NULL,
};

static const char *const expect_syntax[] = {
    "syntax.json:4:24: error: expected ',' or '}' after an object member, got '\"'",
    NULL,
};

START_TEST(test_valid_model)
{
    struct diag d;
    diag_init(&d);
    struct matrix *m = matrix_load_json(TEST_DATA_DIR "/matrix/valid.json", &d);
    ck_assert_uint_eq(d.count, 0);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->path, TEST_DATA_DIR "/matrix/valid.json");
    ck_assert_str_eq(m->site, "CH Exemple");
    ck_assert_str_eq(m->timezone, "Europe/Paris");
    ck_assert(m->has_internal);
    ck_assert_uint_eq(m->internal_count, 2);
    ck_assert_uint_eq(m->internal[0].bits, 8);
    ck_assert_uint_eq(m->host_count, 4);
    ck_assert_str_eq(m->hosts[2].name, "vendor-support");
    ck_assert_uint_eq(m->hosts[2].prefix_count, 1);
    ck_assert_uint_eq(m->hosts[2].prefixes[0].bits, 24);
    ck_assert_uint_eq(m->hosts[2].dns_name_count, 1);
    ck_assert_str_eq(m->hosts[2].dns_names[0], "support.acme-medical.example");
    ck_assert_uint_eq(m->hosts[3].prefix_count, 2);
    ck_assert_uint_eq(m->hosts[3].prefixes[1].addr.family, 6);

    ck_assert_uint_eq(m->device_count, 2);
    const struct matrix_device *ct = &m->devices[0];
    ck_assert_str_eq(ct->name, "ct-scanner-3");
    ck_assert_str_eq(ct->vendor, "Acme Medical");
    ck_assert_str_eq(ct->model, "CT 9000");
    ck_assert_str_eq(ct->location, "Imagerie, salle 3");
    ck_assert_uint_eq(ct->address_count, 3);
    ck_assert_str_eq(ct->address_texts[1], "02:00:0a:0a:01:14");
    ck_assert_uint_eq(ct->prefix_count, 2);
    ck_assert_uint_eq(ct->mac_count, 1);
    ck_assert_uint_eq(ct->macs[0].bytes[5], 0x14);
    ck_assert_ptr_null(m->devices[1].vendor);
    ck_assert_uint_eq(m->devices[1].flow_count, 0);

    ck_assert_uint_eq(ct->flow_count, 8);
    const struct matrix_flow *f = &ct->flows[0];
    ck_assert_str_eq(f->id, "F01");
    ck_assert_str_eq(f->description, "Images to PACS");
    ck_assert_int_eq(f->from.kind, MATRIX_PEER_DEVICE);
    ck_assert_str_eq(f->from.text, "device");
    ck_assert_int_eq(f->to.kind, MATRIX_PEER_HOST);
    ck_assert_uint_eq(f->to.index, 0);
    ck_assert_int_eq(f->proto, MATRIX_PROTO_TCP);
    ck_assert(!f->any_port);
    ck_assert_uint_eq(f->port_count, 1);
    ck_assert_uint_eq(f->ports[0].low, 11112);
    ck_assert_uint_eq(f->ports[0].high, 11112);
    ck_assert_str_eq(f->app, "DICOM");
    ck_assert_int_eq(f->encryption, MATRIX_ENCRYPTION_NONE);
    ck_assert(!f->internet);
    ck_assert_ptr_null(f->window);
    ck_assert_str_eq(f->waiver, "PACS VLAN isolated; DICOM TLS planned (RSSI ticket 1234)");
    ck_assert_int_eq(f->line, 18);
    ck_assert_int_eq(f->column, 9);

    f = &ct->flows[1]; /* numeric port */
    ck_assert_int_eq(f->proto, MATRIX_PROTO_UDP);
    ck_assert_uint_eq(f->ports[0].low, 123);
    ck_assert_ptr_null(f->app);
    ck_assert_int_eq(f->line, 22);

    f = &ct->flows[2]; /* DNS peer, port list with a range */
    ck_assert_int_eq(f->to.kind, MATRIX_PEER_DNS);
    ck_assert_str_eq(f->to.dns_name, "*.acme-medical.example");
    ck_assert_uint_eq(f->port_count, 2);
    ck_assert_uint_eq(f->ports[1].low, 8443);
    ck_assert_uint_eq(f->ports[1].high, 8444);
    ck_assert(matrix_flow_has_port(f, 443));
    ck_assert(matrix_flow_has_port(f, 8444));
    ck_assert(!matrix_flow_has_port(f, 8445));
    ck_assert(!matrix_flow_has_port(f, 80));
    ck_assert_int_eq(f->encryption, MATRIX_ENCRYPTION_TLS12);
    ck_assert(f->internet);

    f = &ct->flows[3]; /* other device, icmp without port */
    ck_assert_int_eq(f->to.kind, MATRIX_PEER_OTHER_DEVICE);
    ck_assert_uint_eq(f->to.index, 1);
    ck_assert_int_eq(f->proto, MATRIX_PROTO_ICMP);
    ck_assert(f->any_port);
    ck_assert(matrix_flow_has_port(f, 1));

    f = &ct->flows[4];
    ck_assert_int_eq(f->from.kind, MATRIX_PEER_ANY);
    ck_assert_int_eq(f->proto, MATRIX_PROTO_ANY);
    ck_assert(f->any_port);

    f = &ct->flows[5];
    ck_assert_int_eq(f->from.kind, MATRIX_PEER_PREFIX);
    ck_assert_uint_eq(f->from.prefix.bits, 16);
    ck_assert(f->any_port);

    f = &ct->flows[6];
    ck_assert_int_eq(f->from.kind, MATRIX_PEER_HOST);
    ck_assert_uint_eq(f->from.index, 2);
    ck_assert_str_eq(f->window, "Mon-Fri 08:00-18:00");
    ck_assert_int_eq(f->encryption, MATRIX_ENCRYPTION_SSH);

    f = &ct->flows[7];
    ck_assert_int_eq(f->to.kind, MATRIX_PEER_INTERNET);
    ck_assert_int_eq(f->encryption, MATRIX_ENCRYPTION_IPSEC);
    matrix_free(m);
    diag_free(&d);
}
END_TEST

START_TEST(test_lookups)
{
    struct diag d;
    diag_init(&d);
    struct matrix *m = matrix_load_json(TEST_DATA_DIR "/matrix/valid.json", &d);
    ck_assert_ptr_nonnull(m);
    struct net_addr a;
    struct mac_addr mac;
    ck_assert(net_addr_parse("10.10.1.20", &a));
    ck_assert_int_eq(matrix_find_device(m, &a, NULL), 0);
    ck_assert(net_addr_parse("fd00::20", &a));
    ck_assert_int_eq(matrix_find_device(m, &a, NULL), 0);
    ck_assert(net_addr_parse("10.10.1.30", &a));
    ck_assert_int_eq(matrix_find_device(m, &a, NULL), 1);
    ck_assert(net_addr_parse("10.10.1.31", &a));
    ck_assert_int_eq(matrix_find_device(m, &a, NULL), -1);
    ck_assert(mac_addr_parse("02:00:0A:0A:01:14", &mac));
    ck_assert_int_eq(matrix_find_device(m, &a, &mac), 0);
    ck_assert(mac_addr_parse("02:00:0a:0a:01:15", &mac));
    ck_assert_int_eq(matrix_find_device(m, NULL, &mac), -1);
    ck_assert_int_eq(matrix_find_device(m, NULL, NULL), -1);
    ck_assert_int_eq(matrix_find_device(NULL, &a, NULL), -1);

    /* "internal" replaces the defaults: 192.168/16 is Internet here. */
    ck_assert(net_addr_parse("10.200.0.1", &a));
    ck_assert(matrix_is_internal(m, &a));
    ck_assert(net_addr_parse("192.168.1.1", &a));
    ck_assert(!matrix_is_internal(m, &a));
    ck_assert(matrix_is_internal(NULL, &a));
    ck_assert(net_addr_parse("fd12::1", &a));
    ck_assert(matrix_is_internal(m, &a));
    ck_assert(net_addr_parse("8.8.8.8", &a));
    ck_assert(!matrix_is_internal(NULL, &a));
    ck_assert(!matrix_is_internal(m, NULL));
    matrix_free(m);
    diag_free(&d);
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(matrix_proto_name(MATRIX_PROTO_TCP), "tcp");
    ck_assert_str_eq(matrix_proto_name(MATRIX_PROTO_ANY), "any");
    ck_assert_str_eq(matrix_proto_name(MATRIX_PROTO_ICMP), "icmp");
    ck_assert_str_eq(matrix_proto_name((enum matrix_proto)9), "unknown");
    ck_assert_str_eq(matrix_encryption_name(MATRIX_ENCRYPTION_TLS12), "tls1.2+");
    ck_assert_str_eq(matrix_encryption_name(MATRIX_ENCRYPTION_DTLS12), "dtls1.2+");
    ck_assert_str_eq(matrix_encryption_name(MATRIX_ENCRYPTION_SNMPV3), "snmpv3");
    ck_assert_str_eq(matrix_encryption_name((enum matrix_encryption)42), "unknown");
    matrix_free(NULL);
}
END_TEST

START_TEST(test_bad_files)
{
    assert_file_refused("empty.json", expect_empty);
    assert_file_refused("array.json", expect_array);
    assert_file_refused("syntax.json", expect_syntax);
    assert_file_refused("duplicate_key.json", expect_duplicate_key);
    assert_file_refused("not_utf8.json", expect_not_utf8);
    assert_file_refused("bad_port.json", expect_bad_port);
    assert_file_refused("many_errors.json", expect_many_errors);
}
END_TEST

START_TEST(test_load_errors)
{
    struct diag d;
    diag_init(&d);
    ck_assert_ptr_null(matrix_load_json(TEST_DATA_DIR "/matrix/missing.json", &d));
    ck_assert_ptr_null(matrix_load_json(TEST_DATA_DIR "/matrix", &d));
    assert_lines(&d, LINES(TEST_DATA_DIR "/matrix/missing.json: error: cannot open: No such "
                           "file or directory",
                           TEST_DATA_DIR "/matrix: error: cannot read: is a directory"));
    diag_free(&d);
}
END_TEST

START_TEST(test_top_level_errors)
{
    assert_text_refused("{\"site\": 3, \"devices\": {}}",
                        LINES("m.json:1:1: error: missing \"format\": expected \"format\": "
                              "\"fluxaudit-matrix/1\"",
                              "m.json:1:10: error: \"site\": expected a string, got 3",
                              "m.json:1:24: error: \"devices\": expected an array of 1 to 4096 "
                              "devices, got an empty object"));
    assert_text_refused("{\"format\": \"fluxaudit-matrix/1\", \"internal\": [],\n"
                        "\"hosts\": [], \"timezone\": \"../etc/passwd\"}",
                        LINES("m.json:1:1: error: missing required key \"devices\" (expected an "
                              "array of devices)",
                              "m.json:1:46: error: \"internal\": expected at least one network "
                              "(omit \"internal\" to use the defaults)",
                              "m.json:2:10: error: \"hosts\": expected an object mapping host "
                              "names to address lists, got an empty array",
                              "m.json:2:26: error: \"timezone\": unknown time zone "
                              "\"../etc/passwd\": expected an IANA time zone name such as "
                              "\"Europe/Paris\""));
    assert_text_refused("\"fluxaudit-matrix/1\"",
                        LINES("m.json:1:1: error: expected a JSON object with \"format\": "
                              "\"fluxaudit-matrix/1\" at the top level, got "
                              "\"fluxaudit-matrix/1\""));
}
END_TEST

START_TEST(test_device_errors)
{
    assert_text_refused(
        "{\"format\": \"fluxaudit-matrix/1\", \"devices\": [\n"
        "  3,\n"
        "  {\"vendor\": \"A\\u0007\"},\n"
        "  {\"name\": \"10.1.1.1\", \"addresses\": []},\n"
        "  {\"name\": \" pump\", \"addresses\": [\"aa:bb:cc:dd:ee:ff\"], \"flows\": {}},\n"
        "  {\"name\": \"Internet\", \"addresses\": \"10.1.1.1\"},\n"
        "  {\"name\": \"pump\", \"addresses\": [\"10.1.1.1\"], \"flow\": []},\n"
        "  {\"name\": \"pump\", \"addresses\": [\"10.1.1.0/24\"]}\n"
        "]}",
        LINES("m.json:2:3: error: \"devices\": expected an object describing one device, got 3",
              "m.json:3:3: error: missing required key \"name\" in device (expected a unique "
              "device name)",
              "m.json:3:3: error: missing required key \"addresses\" in device (expected the "
              "device's IP and/or MAC addresses)",
              "m.json:3:14: error: \"vendor\": control characters are not allowed",
              "m.json:4:12: error: \"name\": invalid name \"10.1.1.1\": an address cannot be a "
              "name, choose another name",
              "m.json:4:37: error: \"addresses\": expected an array of 1 to 256 IP, CIDR or "
              "MAC addresses, got an empty array",
              "m.json:5:12: error: \"name\": invalid name \" pump\": a name must not start or "
              "end with a space",
              "m.json:5:66: error: \"flows\": expected an array of at most 1024 flow objects, "
              "got an empty object",
              "m.json:6:12: error: \"name\": invalid name \"Internet\": this word is reserved "
              "for \"from\" and \"to\", choose another name",
              "m.json:6:37: error: \"addresses\": expected an array of 1 to 256 IP, CIDR or "
              "MAC addresses, got \"10.1.1.1\"",
              "m.json:7:47: error: unknown key \"flow\" in device (did you mean \"flows\"?)",
              "m.json:8:12: error: \"name\": device name \"pump\" is already used by the device "
              "defined at line 7, column 12"));
}
END_TEST

START_TEST(test_flow_errors)
{
    assert_text_refused(FLOW_DOC("{\"id\": \"F1\", \"from\": \"device\", \"to\": \"pacs\", "
                                 "\"proto\": \"tcp\", \"port\": 0}"),
                        LINES("m.json:4:70: error: \"port\": expected a port (1-65535), a range "
                              "\"A-B\", a list \"80,443\" or \"any\", got 0"));
    assert_text_refused(FLOW_DOC("{\"id\": \"F1\", \"from\": \"device\", \"to\": \"pacs\", "
                                 "\"proto\": \"udp\", \"port\": \"80,,443\"}"),
                        LINES("m.json:4:70: error: \"port\": expected a port (1-65535), a range "
                              "\"A-B\", a list \"80,443\" or \"any\", got \"80,,443\""));
    assert_text_refused(FLOW_DOC("{\"id\": \"F1\", \"from\": \"device\", \"to\": \"pacs\", "
                                 "\"proto\": \"udp\", \"port\": 80.5}"),
                        LINES("m.json:4:70: error: \"port\": expected a port (1-65535), a range "
                              "\"A-B\", a list \"80,443\" or \"any\", got 80.5"));
    assert_text_refused(FLOW_DOC("{\"id\": \"F1\", \"from\": \"device\", \"to\": \"pacs\", "
                                 "\"proto\": \"udp\", \"port\": \"65536\"}"),
                        LINES("m.json:4:70: error: \"port\": expected a port (1-65535), a range "
                              "\"A-B\", a list \"80,443\" or \"any\", got \"65536\""));
    assert_text_refused(FLOW_DOC("{\"id\": \"F1\", \"from\": \"device\", \"to\": \"10.0.0.1/8\", "
                                 "\"proto\": \"any\"}"),
                        LINES("m.json:4:38: error: \"to\": invalid IP address or CIDR "
                              "\"10.0.0.1/8\" (a CIDR must have its host bits zero, e.g. "
                              "\"10.1.0.0/16\")"));
    assert_text_refused(FLOW_DOC("{\"id\": \"F1\", \"from\": \"device\", \"to\": \"server\", "
                                 "\"proto\": \"any\"}"),
                        LINES("m.json:4:38: error: \"to\": unknown host or device \"server\": "
                              "expected \"device\", \"internet\", \"any\", a host or device name, "
                              "an IP address or CIDR, or a DNS name"));
    assert_text_refused(FLOW_DOC("{\"id\": 1, \"from\": [\"device\"], \"to\": \"pacs\", "
                                 "\"proto\": \"any\", \"app\": \"\", \"internet\": \"no\", "
                                 "\"window\": 5}"),
                        LINES("m.json:4:8: error: \"id\": expected a flow identifier, got 1",
                              "m.json:4:19: error: \"from\": expected \"device\", \"internet\", "
                              "\"any\", a host or device name, an IP address or CIDR, or a DNS "
                              "name, got an array",
                              "m.json:4:68: error: \"app\": expected an application protocol "
                              "name, got a blank string",
                              "m.json:4:84: error: \"internet\": expected true or false, got "
                              "\"no\"",
                              "m.json:4:100: error: \"window\": expected a time window such as "
                              "\"Mon-Fri 08:00-18:00\", got 5"));
    assert_text_refused(FLOW_DOC("3, {\"to\": \"device\"}"),
                        LINES("m.json:4:1: error: \"flows\": expected an object describing one "
                              "flow, got 3",
                              "m.json:4:4: error: missing required key \"id\" in flow #2 "
                              "(expected an identifier unique in the device, e.g. \"F01\")",
                              "m.json:4:4: error: missing required key \"from\" in flow #2",
                              "m.json:4:4: error: missing required key \"proto\" in flow #2 "
                              "(expected \"tcp\", \"udp\", \"icmp\" or \"any\")"));
    assert_text_refused(FLOW_DOC("{\"id\": \"F1\", \"from\": \"device\", \"to\": \"pacs\", "
                                 "\"proto\": \"tcp\", \"port\": \"1,2,3,4,5,6,7,8,9,10,11,12,13,"
                                 "14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,"
                                 "34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,"
                                 "54,55,56,57,58,59,60,61,62,63,64,65\"}"),
                        LINES("m.json:4:70: error: \"port\": too many items in \"1,2,3,4,5,6,7,"
                              "8,9,10,11,12,13,14,15,16,1...\" (at most 64 ports or ranges)"));
}
END_TEST

START_TEST(test_flow_variants)
{
    struct diag d;
    struct matrix *m = parse_text(
        FLOW_DOC("{\"id\": \"F1\", \"from\": \"PUMP\", \"to\": \"Update.Example.COM\", "
                 "\"proto\": \"TCP\", \"port\": \" 80 , 443-443 \", \"encryption\": \"TLS1.3\"},\n"
                 "{\"id\": \"F2\", \"from\": \"pump\", \"to\": \"2001:db8::/32\", "
                 "\"proto\": \"icmp\", \"port\": \"any\", \"encryption\": \"dtls1.2+\"},\n"
                 "{\"id\": \"F3\", \"from\": \"Internet\", \"to\": \"device\", \"proto\": \"udp\", "
                 "\"port\": 161, \"internet\": true, \"encryption\": \"snmpv3\"}"),
        &d);
    ck_assert_uint_eq(d.count, 1);
    char buf[256];
    diag_format(&d, 0, buf, sizeof(buf));
    /* Names are case-sensitive: "PUMP" is not "pump" and has no dot. */
    ck_assert_str_eq(buf, "m.json:4:22: error: \"from\": unknown host or device \"PUMP\" (did you "
                          "mean \"pump\"?)");
    ck_assert_ptr_null(m);
    diag_free(&d);

    m = parse_text(
        FLOW_DOC("{\"id\": \"F1\", \"from\": \"device\", \"to\": \"Update.Example.COM\", "
                 "\"proto\": \"TCP\", \"port\": \" 80 , 443-443 \", \"encryption\": \"TLS1.3\"},\n"
                 "{\"id\": \"F2\", \"from\": \"pump\", \"to\": \"2001:db8::/32\", "
                 "\"proto\": \"icmp\", \"port\": \"any\", \"encryption\": \"dtls1.2+\"},\n"
                 "{\"id\": \"F3\", \"from\": \"Internet\", \"to\": \"device\", \"proto\": \"udp\", "
                 "\"port\": 161, \"internet\": true, \"encryption\": \"snmpv3\"}"),
        &d);
    ck_assert_uint_eq(d.count, 0);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_null(m->site);
    ck_assert(!m->has_internal);
    const struct matrix_flow *f = m->devices[0].flows;
    ck_assert_int_eq(f[0].to.kind, MATRIX_PEER_DNS);
    ck_assert_str_eq(f[0].to.dns_name, "update.example.com");
    ck_assert_str_eq(f[0].to.text, "Update.Example.COM");
    ck_assert_int_eq(f[0].proto, MATRIX_PROTO_TCP);
    ck_assert_uint_eq(f[0].port_count, 2);
    ck_assert_uint_eq(f[0].ports[0].low, 80);
    ck_assert_uint_eq(f[0].ports[1].high, 443);
    ck_assert_int_eq(f[0].encryption, MATRIX_ENCRYPTION_TLS13);
    ck_assert_int_eq(f[1].from.kind, MATRIX_PEER_DEVICE); /* its own name */
    ck_assert_int_eq(f[1].to.kind, MATRIX_PEER_PREFIX);
    ck_assert_uint_eq(f[1].to.prefix.bits, 32);
    ck_assert(f[1].any_port);
    ck_assert_int_eq(f[1].encryption, MATRIX_ENCRYPTION_DTLS12);
    ck_assert_int_eq(f[2].from.kind, MATRIX_PEER_INTERNET);
    ck_assert(f[2].internet);
    ck_assert_int_eq(f[2].line, 6);
    ck_assert_int_eq(f[2].column, 1);
    matrix_free(m);
    diag_free(&d);
}
END_TEST

START_TEST(test_errors_after_others)
{
    /* A diag that already holds another file's error: the matrix is still
     * judged on its own errors only, and earlier entries stay first. */
    struct diag d;
    diag_init(&d);
    diag_error(&d, "other", 9, 9, "earlier");
    size_t len;
    char *text = read_data("valid.json", &len);
    struct matrix *m = matrix_parse_json("valid.json", text, len, &d);
    free(text);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(d.count, 1);
    matrix_free(m);
    diag_free(&d);
}
END_TEST

static Suite *matrix_suite(void)
{
    Suite *s = suite_create("matrix");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_valid_model);
    tcase_add_test(tc, test_lookups);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_bad_files);
    tcase_add_test(tc, test_load_errors);
    tcase_add_test(tc, test_top_level_errors);
    tcase_add_test(tc, test_device_errors);
    tcase_add_test(tc, test_flow_errors);
    tcase_add_test(tc, test_flow_variants);
    tcase_add_test(tc, test_errors_after_others);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(matrix_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
