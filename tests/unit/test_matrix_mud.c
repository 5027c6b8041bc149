/* Unit tests of matrix_load_mud: RFC 8520 MUD files (the RFC's lightbulb
 * example, an infusion pump using every MUD abstraction) imported over an
 * inventory, with the exact model, every warning and every error at its
 * file:line:column, and the refusals (nothing half loaded). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fluxaudit/matrix.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

#define MUD_DIR TEST_DATA_DIR "/mud/"

/* Asserts that diag holds exactly the lines of `expected` (NULL-ended),
 * with the file names cut to their base name. */
static void assert_lines(const struct diag *d, const char *const *expected)
{
    size_t n = 0;
    char buf[1200];
    for (; expected[n] != NULL; n++) {
        ck_assert_msg(n < d->count, "missing diagnostic %zu: %s", n, expected[n]);
        diag_format(d, n, buf, sizeof(buf));
        const char *slash = strrchr(d->entries[n].file, '/');
        const char *shown = buf + (slash != NULL ? (size_t)(slash + 1 - d->entries[n].file) : 0);
        ck_assert_str_eq(shown, expected[n]);
    }
    if (d->count > n) {
        diag_format(d, n, buf, sizeof(buf));
        ck_abort_msg("unexpected diagnostic: %s", buf);
    }
}

/* Writes `text` to a new temporary file named after `tag`; returns its path. */
static char *temp_file(const char *tag, const char *text)
{
    char *path = malloc(64);
    ck_assert_ptr_nonnull(path);
    snprintf(path, 64, "/tmp/mud-%s-XXXXXX", tag);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static const struct matrix_device *device_named(const struct matrix *m, const char *name)
{
    for (size_t i = 0; i < m->device_count; i++) {
        if (strcmp(m->devices[i].name, name) == 0)
            return &m->devices[i];
    }
    ck_abort_msg("no device %s", name);
    return NULL;
}

static const struct matrix_host *host_named(const struct matrix *m, const char *name)
{
    for (size_t i = 0; i < m->host_count; i++) {
        if (strcmp(m->hosts[i].name, name) == 0)
            return &m->hosts[i];
    }
    ck_abort_msg("no host %s", name);
    return NULL;
}

static void assert_flow(const struct matrix *m, const struct matrix_flow *f, const char *id,
                        const char *from, const char *to, enum matrix_proto proto, int low,
                        int high, bool internet, int line, int column)
{
    ck_assert_str_eq(f->id, id);
    ck_assert_str_eq(f->from.text, from);
    ck_assert_str_eq(f->to.text, to);
    ck_assert_int_eq(f->proto, proto);
    if (low == 0) {
        ck_assert(f->any_port);
        ck_assert_uint_eq(f->port_count, 0);
    } else {
        ck_assert(!f->any_port);
        ck_assert_uint_eq(f->port_count, 1);
        ck_assert_int_eq(f->ports[0].low, low);
        ck_assert_int_eq(f->ports[0].high, high);
    }
    ck_assert_int_eq(f->internet, internet);
    ck_assert_int_eq(f->line, line);
    ck_assert_int_eq(f->column, column);
    if (strncmp(id, "MUD-", 4) == 0)
        ck_assert_ptr_null(f->app); /* MUD declares no application */
    ck_assert_ptr_null(f->window);
    ck_assert_ptr_null(f->waiver);
    ck_assert_int_eq(f->encryption, MATRIX_ENCRYPTION_NONE);
    (void)m;
}

START_TEST(test_lightbulb)
{
    struct diag d;
    diag_init(&d);
    struct matrix *m =
        matrix_load_mud(MUD_DIR "lightbulb2000.json", MUD_DIR "lightbulb2000.inventory.json", &d);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(d.count, 0);
    ck_assert_uint_eq(m->device_count, 3);
    ck_assert_str_eq(m->timezone, "Europe/Paris");
    ck_assert_uint_eq(m->host_count, 0);
    for (int i = 0; i < 2; i++) {
        const struct matrix_device *bulb = &m->devices[i];
        /* The to-device ACE is the reply half of the same connection. */
        ck_assert_uint_eq(bulb->flow_count, 1);
        const struct matrix_flow *f = &bulb->flows[0];
        assert_flow(m, f, "MUD-mud-76100-v6fr-cl0-frdev", "device", "test.example.com",
                    MATRIX_PROTO_TCP, 443, 443, true, 53, 13);
        ck_assert_int_eq(f->from.kind, MATRIX_PEER_DEVICE);
        ck_assert_int_eq(f->to.kind, MATRIX_PEER_DNS);
        ck_assert_str_eq(f->to.dns_name, "test.example.com");
        ck_assert_str_eq(f->description, "MUD from-device ACL mud-76100-v6fr, ACE cl0-frdev");
    }
    /* A device of another model keeps its flows and their positions. */
    const struct matrix_device *ct = device_named(m, "ct-scanner-3");
    ck_assert_uint_eq(ct->flow_count, 1);
    assert_flow(m, &ct->flows[0], "F01", "device", "10.10.2.5", MATRIX_PROTO_TCP, 11112, 11112,
                false, 12, 18);
    matrix_free(m);
    diag_free(&d);
}
END_TEST

START_TEST(test_infusion_pump)
{
    struct diag d;
    diag_init(&d);
    struct matrix *m =
        matrix_load_mud(MUD_DIR "infusion_pump.json", MUD_DIR "infusion_pump.inventory.json", &d);
    ck_assert_ptr_nonnull(m);
    const char *const expected[] = {
        "infusion_pump.json:41:35: warning: \"controller:mud.acme-medical.example/controllers/"
        "pump-server\" is bound to no address: its flows match nothing until " MUD_DIR
        "infusion_pump.inventory.json defines the host \"controller:mud.acme-medical.example/"
        "controllers/pump-server\" (hosts: {\"controller:mud.acme-medical.example/controllers/"
        "pump-server\": [addresses]})",
        "infusion_pump.json:62:35: warning: \"same-manufacturer\" is bound to no address: its "
        "flows match nothing until " MUD_DIR "infusion_pump.inventory.json defines the host "
        "\"same-manufacturer\" (hosts: {\"same-manufacturer\": [addresses]})",
        "infusion_pump.json:76:17: warning: ICMP type and code are not checked: the imported "
        "flow allows any ICMP message",
        "infusion_pump.json:86:42: warning: ACE \"no-telnet\" drops traffic: not imported (the "
        "matrix lists allowed flows; anything else is already a deviation)",
        "infusion_pump.json:122:35: warning: \"manufacturer:acme-medical.example\" is bound to "
        "no address: its flows match nothing until " MUD_DIR
        "infusion_pump.inventory.json defines the "
        "host \"manufacturer:acme-medical.example\" (hosts: "
        "{\"manufacturer:acme-medical.example\": [addresses]})",
        "infusion_pump.json:134:17: warning: unsupported match \"eth\": ACE not imported",
        NULL};
    assert_lines(&d, expected);
    ck_assert_uint_eq(d.errors, 0);

    const struct matrix_host *local = host_named(m, "local-networks");
    ck_assert_uint_eq(local->prefix_count, 2); /* the inventory's "internal" */
    ck_assert_uint_eq(local->prefixes[0].bits, 8);
    ck_assert_uint_eq(host_named(m, "my-controller")->prefix_count, 1);
    const char *unbound[] = {"same-manufacturer", "manufacturer:acme-medical.example",
                             "controller:mud.acme-medical.example/controllers/pump-server"};
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(host_named(m, unbound[i])->prefix_count, 0);
        ck_assert_uint_eq(host_named(m, unbound[i])->dns_name_count, 0);
    }

    const struct matrix_device *p1 = device_named(m, "pump-icu-01");
    const struct matrix_device *p2 = device_named(m, "pump-icu-02");
    ck_assert_uint_eq(p1->flow_count, 7);
    ck_assert_uint_eq(p2->flow_count, 8); /* its own F01 first */
    assert_flow(m, &p2->flows[0], "F01", "device", "10.20.0.30", MATRIX_PROTO_TCP, 2575, 2575,
                false, 15, 9);
    ck_assert_str_eq(p2->flows[0].app, "HL7");
    for (int i = 0; i < 2; i++) {
        const struct matrix_flow *f = i == 0 ? p1->flows : p2->flows + 1;
        assert_flow(m, &f[0], "MUD-pump-v4-fr-telemetry", "device",
                    "telemetry.acme-medical.example", MATRIX_PROTO_TCP, 443, 443, true, 27, 13);
        assert_flow(m, &f[1], "MUD-pump-v4-fr-hl7-to-server", "device",
                    "controller:mud.acme-medical.example/controllers/pump-server", MATRIX_PROTO_TCP,
                    2575, 2575, false, 38, 13);
        ck_assert_int_eq(f[1].to.kind, MATRIX_PEER_HOST);
        assert_flow(m, &f[2], "MUD-pump-v4-fr-ntp", "device", "local-networks", MATRIX_PROTO_UDP,
                    123, 123, false, 50, 13);
        assert_flow(m, &f[3], "MUD-pump-v4-fr-drug-library-sync", "device", "same-manufacturer",
                    MATRIX_PROTO_TCP, 50000, 50010, false, 59, 13);
        assert_flow(m, &f[4], "MUD-pump-v4-fr-ping", "device", "local-networks", MATRIX_PROTO_ICMP,
                    0, 0, false, 71, 13);
        assert_flow(m, &f[5], "MUD-pump-v4-to-config-push", "my-controller", "device",
                    MATRIX_PROTO_TCP, 8443, 8443, false, 107, 13);
        assert_flow(m, &f[6], "MUD-pump-v4-to-service-tool", "manufacturer:acme-medical.example",
                    "device", MATRIX_PROTO_TCP, 22, 22, false, 119, 13);
        ck_assert_str_eq(f[5].description, "MUD to-device ACL pump-v4-to, ACE config-push");
    }
    ck_assert_uint_eq(device_named(m, "monitor-icu-01")->flow_count, 0);
    matrix_free(m);
    diag_free(&d);
}
END_TEST

START_TEST(test_errors_file)
{
    struct diag d;
    diag_init(&d);
    struct matrix *m =
        matrix_load_mud(MUD_DIR "errors.json", MUD_DIR "infusion_pump.inventory.json", &d);
    ck_assert_ptr_null(m);
    const char *const expected[] = {
        "errors.json:3:20: error: \"mud-version\": expected 1 (RFC 8520), got 2",
        "errors.json:4:16: warning: \"mud-url\": RFC 8520 requires an https URL",
        "errors.json:7:70: error: \"name\": access list \"missing\" is not defined in "
        "\"ietf-access-control-list:acls\"",
        "errors.json:19:83: error: \"port\": expected a port number (0-65535), got 70000",
        "errors.json:22:55: error: \"destination-port\": invalid range 2000-1000 (ports "
        "1-65535, lower first)",
        "errors.json:25:48: error: \"protocol\": 17 contradicts the \"tcp\" match of this ACE",
        "errors.json:27:62: error: \"forwarding\": expected \"accept\", \"drop\" or \"reject\", "
        "got \"allow\"",
        "errors.json:29:67: error: \"ietf-mud:direction-initiated\": expected \"from-device\" "
        "or \"to-device\", got \"both\"",
        "errors.json:34:11: error: ACE \"bad-dns\": missing \"actions\": {\"forwarding\": "
        "\"accept\"}",
        "errors.json:34:21: error: \"name\": duplicate ACE \"bad-dns\" in access list \"fr\" "
        "(first defined at line 31, column 21)",
        "errors.json:37:11: error: ACE \"no-actions\": missing \"actions\": {\"forwarding\": "
        "\"accept\"}",
        "errors.json:38:17: error: \"name\": duplicate access list \"to\" (first defined at line "
        "36, column 17)",
        NULL};
    assert_lines(&d, expected);
    diag_free(&d);
}
END_TEST

/* A MUD document around one from-device ACL "a" holding `aces`. */
static char *mud_text(const char *aces, const char *extra_policy)
{
    char *text = malloc(8192);
    ck_assert_ptr_nonnull(text);
    snprintf(
        text, 8192,
        "{\"ietf-mud:mud\": {\"mud-version\": 1,\n"
        "\"mud-url\": \"https://x.example/m\", \"model-name\": \"M1\",\n"
        "\"from-device-policy\": {\"access-lists\": {\"access-list\": [{\"name\": \"a\"}]}}%s},\n"
        "\"ietf-access-control-list:acls\": {\"acl\": [{\"name\": \"a\",\n"
        "\"aces\": {\"ace\": [\n%s\n]}}]}}\n",
        extra_policy, aces);
    return text;
}

static const char *const inventory_text =
    "{\"format\": \"fluxaudit-matrix/1\",\n"
    "\"devices\": [{\"name\": \"d1\", \"model\": \"m1\", \"addresses\": [\"10.0.0.1\"],\n"
    "  \"flows\": [{\"id\": \"MUD-a-dup\", \"from\": \"device\", \"to\": \"any\", \"proto\": "
    "\"any\"}]}]}\n";

/* Loads a MUD text over the standard inventory; returns the model. */
static struct matrix *load_texts(const char *mud, const char *inventory, struct diag *d)
{
    char *mud_path = temp_file("mud", mud);
    char *inventory_path = temp_file("inv", inventory);
    struct matrix *m = matrix_load_mud(mud_path, inventory_path, d);
    unlink(mud_path);
    unlink(inventory_path);
    free(mud_path);
    free(inventory_path);
    return m;
}

/* The first diagnostic without its file name. */
static const char *first_message(const struct diag *d, size_t i, char *buf, size_t len)
{
    ck_assert_uint_gt(d->count, i);
    char line[1200];
    diag_format(d, i, line, sizeof(line));
    const char *rest = strchr(line, ':');
    snprintf(buf, len, "%s", rest != NULL ? rest + 1 : line);
    return buf;
}

START_TEST(test_directions_and_ports)
{
    const char *aces =
        "{\"name\": \"srv\", \"matches\": {\"tcp\": {\"source-port\": {\"operator\": \"eq\", "
        "\"port\": 8080}}}, \"actions\": {\"forwarding\": \"accept\"}},\n"
        "{\"name\": \"lte\", \"matches\": {\"udp\": {\"destination-port\": {\"operator\": "
        "\"lte\", \"port\": 1023}}}, \"actions\": {\"forwarding\": \"accept\"}},\n"
        "{\"name\": \"gte\", \"matches\": {\"ipv4\": {\"destination-ipv4-network\": "
        "\"192.0.2.0/24\"}, \"tcp\": {\"destination-port\": {\"operator\": \"gte\", \"port\": "
        "49152}}}, \"actions\": {\"forwarding\": \"ietf-access-control-list:accept\"}},\n"
        "{\"name\": \"neq\", \"matches\": {\"ipv4\": {\"destination-ipv4-network\": "
        "\"10.1.0.0/16\", \"protocol\": 6}, \"tcp\": {\"destination-port\": {\"operator\": "
        "\"neq\", \"port\": 23}}}, \"actions\": {\"forwarding\": \"accept\"}},\n"
        "{\"name\": \"both\", \"matches\": {\"udp\": {\"source-port\": {\"operator\": \"eq\", "
        "\"port\": 123}, \"destination-port\": {\"operator\": \"eq\", \"port\": 123}}}, "
        "\"actions\": {\"forwarding\": \"accept\"}},\n"
        "{\"name\": \"all\", \"actions\": {\"forwarding\": \"accept\"}}";
    char *mud = mud_text(aces, "");
    struct diag d;
    diag_init(&d);
    struct matrix *m = load_texts(mud, inventory_text, &d);
    free(mud);
    char buf[1200];
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(d.count, 1);
    ck_assert_str_eq(first_message(&d, 0, buf, sizeof(buf)),
                     "10:38: warning: \"source-port\" is the initiator's port, which the flow "
                     "matrix does not check: ignored");
    const struct matrix_device *dev = &m->devices[0];
    ck_assert_uint_eq(dev->flow_count, 7);
    /* Only the device's own port given: the peer connects to it. */
    assert_flow(m, &dev->flows[1], "MUD-a-srv", "any", "device", MATRIX_PROTO_TCP, 8080, 8080, true,
                6, 1);
    assert_flow(m, &dev->flows[2], "MUD-a-lte", "device", "any", MATRIX_PROTO_UDP, 1, 1023, true, 7,
                1);
    assert_flow(m, &dev->flows[3], "MUD-a-gte", "device", "192.0.2.0/24", MATRIX_PROTO_TCP, 49152,
                65535, true, 8, 1);
    ck_assert_int_eq(dev->flows[3].to.kind, MATRIX_PEER_PREFIX);
    const struct matrix_flow *neq = &dev->flows[4];
    ck_assert_str_eq(neq->to.text, "10.1.0.0/16");
    ck_assert(!neq->internet);
    ck_assert_uint_eq(neq->port_count, 2);
    ck_assert_int_eq(neq->ports[0].high, 22);
    ck_assert_int_eq(neq->ports[1].low, 24);
    ck_assert_int_eq(neq->ports[1].high, 65535);
    assert_flow(m, &dev->flows[5], "MUD-a-both", "device", "any", MATRIX_PROTO_UDP, 123, 123, true,
                10, 1);
    assert_flow(m, &dev->flows[6], "MUD-a-all", "device", "any", MATRIX_PROTO_ANY, 0, 0, true, 11,
                1);
    matrix_free(m);
    diag_free(&d);
}
END_TEST

START_TEST(test_warnings_not_imported)
{
    const char *aces =
        "{\"name\": \"gre\", \"matches\": {\"ipv4\": {\"protocol\": 47}}, \"actions\": "
        "{\"forwarding\": \"accept\"}},\n"
        "{\"name\": \"two\", \"matches\": {\"ipv4\": {\"ietf-acldns:dst-dnsname\": \"a.example\"}, "
        "\"ietf-mud:mud\": {\"local-networks\": [null]}}, \"actions\": {\"forwarding\": "
        "\"accept\"}},\n"
        "{\"name\": \"ttl\", \"matches\": {\"ipv6\": {\"flow-label\": 5, "
        "\"ietf-acldns:src-dnsname\": \"me.example\"}}, \"actions\": {\"forwarding\": "
        "\"accept\"}},\n"
        "{\"name\": \"odd\", \"matches\": {\"ietf-mud:mud\": {\"nearby\": [null]}}, \"actions\": "
        "{\"forwarding\": \"accept\"}}";
    char *mud = mud_text(aces, ", \"extensions\": [\"x\"], \"vendor-x\": 1");
    struct diag d;
    diag_init(&d);
    struct matrix *m = load_texts(mud, inventory_text, &d);
    free(mud);
    ck_assert_ptr_nonnull(m);
    const char *const expected[] = {
        "3:96: warning: unknown key \"vendor-x\" in \"ietf-mud:mud\": ignored",
        "6:50: warning: IP protocol 47 cannot be expressed in the flow matrix (tcp, udp, icmp or "
        "any): ACE not imported",
        "7:1: warning: ACE \"two\" combines 2 peer matches (DNS name, network, MUD abstraction): "
        "the flow matrix cannot express their intersection, ACE not imported",
        "8:38: warning: \"flow-label\" is not supported: ignored, the imported flow is broader "
        "than the ACE",
        "8:55: warning: \"ietf-acldns:src-dnsname\" in a from-device-policy ACE names the device "
        "itself: ignored (the device is known by its inventory addresses)",
        "9:46: warning: unsupported MUD match \"nearby\": ACE not imported",
        NULL};
    char buf[1200];
    for (size_t i = 0; expected[i] != NULL; i++)
        ck_assert_str_eq(first_message(&d, i, buf, sizeof(buf)), expected[i]);
    ck_assert_uint_eq(d.count, 6);
    ck_assert_uint_eq(m->devices[0].flow_count, 2);
    assert_flow(m, &m->devices[0].flows[1], "MUD-a-ttl", "device", "any", MATRIX_PROTO_ANY, 0, 0,
                true, 8, 1);
    matrix_free(m);
    diag_free(&d);
}
END_TEST

START_TEST(test_refusals)
{
    struct diag d;
    char buf[1200];
    struct {
        const char *mud;
        const char *message;
    } cases[] = {
        {"[1]", "1:1: error: expected a JSON object with \"ietf-mud:mud\" at the top level, got "
                "an array"},
        {"{\"a\": 1}", "1:1: error: missing \"ietf-mud:mud\": not an RFC 8520 MUD file"},
        {"{\"ietf-mud:mud\": {\"mud-version\": 1 \"x\": 2}}",
         "1:36: error: expected ',' or '}' after an object member, got '\"'"},
        {"{\"ietf-mud:mud\": {\"mud-version\": 1, \"mud-url\": \"https://a.example/b\", "
         "\"model-name\": \"Other\"}}",
         "1:85: error: no device of INV has \"model\": \"Other\" or the MUD URL "
         "\"https://a.example/b\": there is nothing to apply this MUD file to"},
        {"{\"ietf-mud:mud\": {\"mud-url\": \"https://a.example/b\", \"model-name\": \"m1\", "
         "\"from-device-policy\": {\"access-lists\": {\"access-list\": [{\"name\": \"a\"}]}}}}",
         "1:18: error: missing required key \"mud-version\" in \"ietf-mud:mud\" (expected 1)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        diag_init(&d);
        struct matrix *m = load_texts(cases[i].mud, inventory_text, &d);
        ck_assert_ptr_null(m);
        char expected[600];
        snprintf(expected, sizeof(expected), "%s", cases[i].message);
        char *inv = strstr(expected, "INV");
        const char *got = first_message(&d, 0, buf, sizeof(buf));
        if (inv != NULL) {
            /* The inventory path is random: compare around it. */
            ck_assert_int_eq(strncmp(got, expected, (size_t)(inv - expected)), 0);
            ck_assert_str_eq(got + strlen(got) - strlen(inv + 3), inv + 3);
        } else {
            ck_assert_str_eq(got, expected);
        }
        ck_assert_uint_ge(d.errors, 1);
        diag_free(&d);
    }
}
END_TEST

START_TEST(test_translated_value_errors)
{
    /* Values only the matrix validation checks still point into the MUD. */
    const char *aces =
        "{\"name\": \"dns\", \"matches\": {\"ipv4\": {\"ietf-acldns:dst-dnsname\": \"not a "
        "name\"}}, \"actions\": {\"forwarding\": \"accept\"}},\n"
        "{\"name\": \"net\", \"matches\": {\"ipv4\": {\"destination-ipv4-network\": "
        "\"10.0.0.1/8\"}}, \"actions\": {\"forwarding\": \"accept\"}},\n"
        "{\"name\": \"dup\", \"actions\": {\"forwarding\": \"accept\"}}";
    char *mud = mud_text(aces, "");
    struct diag d;
    diag_init(&d);
    struct matrix *m = load_texts(mud, inventory_text, &d);
    free(mud);
    ck_assert_ptr_null(m);
    char buf[1200];
    ck_assert_uint_eq(d.count, 1);
    /* The collision with the inventory's flow id is found first. */
    const char *got = first_message(&d, 0, buf, sizeof(buf));
    const char *prefix =
        "8:10: error: flow id \"MUD-a-dup\" of this ACE is already used by device \"d1\" in ";
    ck_assert_msg(strncmp(got, prefix, strlen(prefix)) == 0, "%s", got);
    ck_assert_str_eq(got + strlen(got) - strlen("(line 3, column 13)"), "(line 3, column 13)");
    diag_free(&d);

    char *inventory = strdup(inventory_text);
    memcpy(strstr(inventory, "MUD-a-dup"), "F-9-a-dup", 9);
    mud = mud_text(aces, "");
    diag_init(&d);
    m = load_texts(mud, inventory, &d);
    free(mud);
    free(inventory);
    ck_assert_ptr_null(m);
    ck_assert_uint_eq(d.count, 2);
    ck_assert_str_eq(first_message(&d, 0, buf, sizeof(buf)),
                     "6:65: error: \"to\": unknown host or device \"not a name\": expected "
                     "\"device\", \"internet\", \"any\", a host or device name, an IP address or "
                     "CIDR, or a DNS name");
    ck_assert_str_eq(first_message(&d, 1, buf, sizeof(buf)),
                     "7:66: error: \"to\": invalid IP address or CIDR \"10.0.0.1/8\" (a CIDR must "
                     "have its host bits zero, e.g. \"10.1.0.0/16\")");
    diag_free(&d);
}
END_TEST

START_TEST(test_inventory_errors_and_files)
{
    struct diag d;
    diag_init(&d);
    char buf[1200];
    char *mud = mud_text("{\"name\": \"x\", \"actions\": {\"forwarding\": \"accept\"}}", "");
    /* An inventory error is reported in the inventory, and the MUD is not read. */
    struct matrix *m = load_texts(mud, "{\"format\": \"fluxaudit-matrix/1\"}", &d);
    ck_assert_ptr_null(m);
    ck_assert_uint_eq(d.count, 1);
    ck_assert_str_eq(first_message(&d, 0, buf, sizeof(buf)),
                     "1:1: error: missing required key \"devices\" (expected an array of devices)");
    ck_assert_ptr_nonnull(strstr(d.entries[0].file, "/tmp/mud-inv-"));
    diag_free(&d);

    diag_init(&d);
    m = matrix_load_mud("/nonexistent/x.json", MUD_DIR "infusion_pump.inventory.json", &d);
    ck_assert_ptr_null(m);
    ck_assert_uint_eq(d.count, 1);
    ck_assert_str_eq(d.entries[0].file, "/nonexistent/x.json");
    ck_assert_str_eq(d.entries[0].message, "cannot open: No such file or directory");
    diag_free(&d);

    diag_init(&d);
    m = matrix_load_mud(MUD_DIR "lightbulb2000.json", MUD_DIR, &d);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(d.entries[0].message, "cannot read: is a directory");
    diag_free(&d);

    /* The same ACL in both policies is imported once. */
    diag_init(&d);
    char *twice = mud_text("{\"name\": \"x\", \"actions\": {\"forwarding\": \"accept\"}}",
                           ", \"to-device-policy\": {\"access-lists\": {\"access-list\": "
                           "[{\"name\": \"a\"}]}}");
    m = load_texts(twice, inventory_text, &d);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(d.count, 1);
    ck_assert_str_eq(first_message(&d, 0, buf, sizeof(buf)),
                     "3:138: warning: access list \"a\" is already used: imported once");
    ck_assert_uint_eq(m->devices[0].flow_count, 2);
    matrix_free(m);
    diag_free(&d);
    free(twice);
    free(mud);
}
END_TEST

static Suite *matrix_mud_suite(void)
{
    Suite *s = suite_create("matrix_mud");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_lightbulb);
    tcase_add_test(tc, test_infusion_pump);
    tcase_add_test(tc, test_errors_file);
    tcase_add_test(tc, test_directions_and_ports);
    tcase_add_test(tc, test_warnings_not_imported);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_translated_value_errors);
    tcase_add_test(tc, test_inventory_errors_and_files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(matrix_mud_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
