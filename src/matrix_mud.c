/* matrix_mud: an RFC 8520 MUD file imported as the flows of the inventory's
 * devices of its model (docs/mud.md).
 *
 * The inventory is an ordinary fluxaudit-matrix/1 file, validated first
 * with its own name and positions. The MUD file is then checked and each
 * accepted ACE of a referenced access list translated into one flow object
 * of the matrix's JSON shape, every new node recorded with the position of
 * the MUD node it comes from. Those flows (and the hosts standing for the
 * MUD abstractions) are added to the inventory's tree, and matrix_build
 * validates the whole under the MUD file's name: any error of a translated
 * value points into the MUD file. What the matrix cannot express exactly is
 * a warning at its MUD position, never dropped silently. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "fluxaudit/matrix.h"
#include "matrix_build.h"
#include "util/file.h"
#include "util/json_locate.h"

#define MUD_NAME_MAX 64               /* host names and flow ids, as in the matrix */
#define MUD_MAX_FLOWS 1024            /* per device, as in the matrix */
#define MUD_MAX_HOSTS 64              /* distinct MUD abstractions in one file */
#define MUD_UNBOUND "unbound.invalid" /* placeholder entry, removed after the build */
#define MUD_PREFIX "ietf-access-control-list:"

/* The default internal networks of netaddr.c, as text for a host. */
static const char *const default_local_networks[] = {
    "10.0.0.0/8",  "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16",
    "127.0.0.0/8", "fc00::/7",      "fe80::/10",      "::1/128",
};

static const char *const mud_keys[] = {
    "mud-version",  "mud-url",       "last-update", "mud-signature",      "cache-validity",
    "is-supported", "systeminfo",    "mfg-name",    "model-name",         "firmware-rev",
    "software-rev", "documentation", "extensions",  "from-device-policy", "to-device-policy",
};

enum policy { POLICY_FROM_DEVICE, POLICY_TO_DEVICE };

static const char *const policy_names[] = {"from-device-policy", "to-device-policy"};

/* A host standing for a MUD abstraction (controller, local-networks...). */
struct mud_host {
    char name[MUD_NAME_MAX + 1];
    const cJSON *at; /* first MUD node naming it */
    bool bound;      /* defined by the inventory, or local-networks */
    bool from_inventory;
};

struct mud_loader {
    const char *mud_path;
    struct diag *diag;
    struct json_reporter report; /* MUD file errors */
    const struct matrix *inventory;
    struct json_location *positions; /* of every node we create */
    size_t position_count, position_cap;
    bool out_of_memory;
    cJSON *flows; /* template flow objects */
    struct mud_host hosts[MUD_MAX_HOSTS];
    size_t host_count;
    const cJSON *acl_array; /* "acl" of the acls container */
    bool *acl_used;
    const char *model_name;
    const char *mud_url;
    const cJSON *model_node;
    const cJSON *mud_node; /* "ietf-mud:mud" */
};

/* One ACE translated, before it becomes a flow object. */
struct ace_flow {
    char peer[300];
    const cJSON *peer_node;
    const char *proto;
    const cJSON *proto_node;
    char port[40];
    const cJSON *port_node;
    bool device_initiates;
    bool internet;
    bool skip;
};

/* ---------------------------------------------------------------- reporting */

static void mud_warning(struct mud_loader *l, const cJSON *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void mud_warning(struct mud_loader *l, const cJSON *node, const char *fmt, ...)
{
    int line, col;
    if (!json_locate_find(l->report.locations, node, &line, &col))
        json_locate_find_key(l->report.locations, node, &line, &col);
    char message[768];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    diag_warning(l->diag, l->mud_path, line, col, "%s", message);
}

/* Same, at the member's key: for warnings about a member as a whole. */
static void mud_warning_key(struct mud_loader *l, const cJSON *member, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void mud_warning_key(struct mud_loader *l, const cJSON *member, const char *fmt, ...)
{
    int line, col;
    if (!json_locate_find_key(l->report.locations, member, &line, &col))
        json_locate_find(l->report.locations, member, &line, &col);
    char message[768];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    diag_warning(l->diag, l->mud_path, line, col, "%s", message);
}

/* Records that `created` stands at the position of the MUD node `from`. */
static void place(struct mud_loader *l, const cJSON *created, const cJSON *from)
{
    if (created == NULL) {
        l->out_of_memory = true;
        return;
    }
    if (l->position_count == l->position_cap) {
        size_t cap = l->position_cap ? l->position_cap * 2 : 256;
        struct json_location *grown = realloc(l->positions, cap * sizeof(*grown));
        if (grown == NULL) {
            l->out_of_memory = true;
            return;
        }
        l->positions = grown;
        l->position_cap = cap;
    }
    struct json_location *p = &l->positions[l->position_count++];
    memset(p, 0, sizeof(*p));
    p->node = created;
    json_locate_find(l->report.locations, from, &p->line, &p->column);
    p->key_line = p->line;
    p->key_column = p->column;
    if (from != NULL && from->string != NULL)
        json_locate_find_key(l->report.locations, from, &p->key_line, &p->key_column);
}

static void add_string(struct mud_loader *l, cJSON *object, const char *key, const char *value,
                       const cJSON *from)
{
    place(l, cJSON_AddStringToObject(object, key, value), from);
}

/* ---------------------------------------------------------------- file */

/* The extra byte file_read_capped allows lets json_locate refuse a file
 * that is too large. */
static char *read_whole_file(const char *path, size_t *len, struct diag *diag)
{
    return file_read_capped(path, JSON_LOCATE_MAX_BYTES, NULL, len, diag);
}

static bool parse_file(const char *path, struct json_document *doc, struct diag *diag)
{
    size_t len = 0;
    char *text = read_whole_file(path, &len, diag);
    if (text == NULL)
        return false;
    bool ok = json_locate_parse(path, text, len, doc, diag);
    free(text);
    return ok;
}

/* ---------------------------------------------------------------- hosts */

static uint32_t fnv1a(const char *text)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

/* "PREFIX" + "VALUE", cut with a stable hash when longer than a name may be. */
static void abstraction_name(char *out, const char *prefix, const char *value)
{
    int n = snprintf(out, MUD_NAME_MAX + 1, "%s%s", prefix, value);
    if (n >= 0 && n <= MUD_NAME_MAX)
        return;
    char full[1024];
    snprintf(full, sizeof(full), "%s%s", prefix, value);
    snprintf(out, MUD_NAME_MAX + 1, "%.*s~%08x", MUD_NAME_MAX - 9, full, fnv1a(full));
}

/* A URI without its "https://" or "http://", to keep host names short. */
static const char *without_scheme(const char *uri)
{
    if (strncasecmp(uri, "https://", 8) == 0)
        return uri + 8;
    if (strncasecmp(uri, "http://", 7) == 0)
        return uri + 7;
    return uri;
}

static const struct matrix_host *inventory_host(const struct mud_loader *l, const char *name)
{
    for (size_t i = 0; i < l->inventory->host_count; i++) {
        if (strcmp(l->inventory->hosts[i].name, name) == 0)
            return &l->inventory->hosts[i];
    }
    return NULL;
}

/* Registers the abstraction `name` met at `at`; returns false after an
 * error (a device of the inventory already has this name). */
static bool use_host(struct mud_loader *l, const char *name, const cJSON *at)
{
    for (size_t i = 0; i < l->host_count; i++) {
        if (strcmp(l->hosts[i].name, name) == 0)
            return true;
    }
    for (size_t i = 0; i < l->inventory->device_count; i++) {
        if (strcmp(l->inventory->devices[i].name, name) == 0) {
            json_report_error(&l->report, at,
                              "the MUD host \"%s\" has the name of a device of the inventory: "
                              "rename the device",
                              name);
            return false;
        }
    }
    if (l->host_count == MUD_MAX_HOSTS) {
        json_report_error(&l->report, at, "too many distinct MUD hosts (at most %d)",
                          MUD_MAX_HOSTS);
        return false;
    }
    struct mud_host *h = &l->hosts[l->host_count++];
    snprintf(h->name, sizeof(h->name), "%s", name);
    h->at = at;
    h->from_inventory = inventory_host(l, name) != NULL;
    h->bound = h->from_inventory || strcmp(name, "local-networks") == 0;
    return true;
}

/* ---------------------------------------------------------------- ports */

/* A port number leaf: an integer 0..65535. */
static bool port_number(struct mud_loader *l, const cJSON *node, const char *key, long *out)
{
    if (node == NULL) {
        return false;
    }
    double v = cJSON_IsNumber(node) ? node->valuedouble : -1;
    if (v < 0 || v > 65535 || v != (double)(long)v) {
        json_report_expected(&l->report, key, node, "a port number (0-65535)");
        return false;
    }
    *out = (long)v;
    return true;
}

/* Translates an ietf-packet-fields port match ("operator"+"port", or
 * "lower-port"+"upper-port") to the matrix's port text. Returns false after
 * an error. */
static bool port_text(struct mud_loader *l, const cJSON *node, const char *key, char *out,
                      size_t len)
{
    if (!cJSON_IsObject(node)) {
        json_report_expected(&l->report, key, node,
                             "an object with \"operator\" and \"port\", or \"lower-port\" and "
                             "\"upper-port\"");
        return false;
    }
    const cJSON *lower = cJSON_GetObjectItemCaseSensitive(node, "lower-port");
    const cJSON *upper = cJSON_GetObjectItemCaseSensitive(node, "upper-port");
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(node, "port");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(node, "operator");
    long a, b;
    if (lower != NULL || upper != NULL) {
        if (lower == NULL || upper == NULL) {
            json_report_error(&l->report, node,
                              "\"%s\": a range needs both \"lower-port\" and \"upper-port\"", key);
            return false;
        }
        if (!port_number(l, lower, "lower-port", &a) || !port_number(l, upper, "upper-port", &b))
            return false;
        if (a > b || a == 0) {
            json_report_error(&l->report, node,
                              "\"%s\": invalid range %ld-%ld (ports 1-65535, lower first)", key, a,
                              b);
            return false;
        }
        snprintf(out, len, "%ld-%ld", a, b);
        return true;
    }
    if (port == NULL) {
        json_report_error(&l->report, node,
                          "\"%s\": missing \"port\" (or \"lower-port\" and "
                          "\"upper-port\")",
                          key);
        return false;
    }
    if (!port_number(l, port, "port", &a))
        return false;
    const char *opname = "eq";
    if (op != NULL) {
        if (!cJSON_IsString(op)) {
            json_report_expected(&l->report, "operator", op, "\"eq\", \"lte\", \"gte\" or \"neq\"");
            return false;
        }
        opname = op->valuestring;
    }
    bool ok = true;
    if (strcmp(opname, "eq") == 0 && a > 0)
        snprintf(out, len, "%ld", a);
    else if (strcmp(opname, "lte") == 0 && a > 0)
        snprintf(out, len, "1-%ld", a);
    else if (strcmp(opname, "gte") == 0)
        snprintf(out, len, "%ld-65535", a > 0 ? a : 1);
    else if (strcmp(opname, "neq") == 0 && a > 1 && a < 65535)
        snprintf(out, len, "1-%ld,%ld-65535", a - 1, a + 1);
    else if (strcmp(opname, "neq") == 0 && (a <= 1 || a == 65535))
        snprintf(out, len, "%s", a == 65535 ? "1-65534" : "2-65535");
    else
        ok = false;
    if (!ok && (strcmp(opname, "eq") == 0 || strcmp(opname, "lte") == 0)) {
        json_report_error(&l->report, port, "\"port\": port 0 cannot be matched (ports 1-65535)");
        return false;
    }
    if (!ok) {
        json_report_expected(&l->report, "operator", op, "\"eq\", \"lte\", \"gte\" or \"neq\"");
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- matches */

struct ace_matches {
    long protocol; /* -1 when absent */
    const cJSON *protocol_node;
    const cJSON *l4; /* "tcp", "udp" or "icmp" container */
    const char *l4_name;
    const cJSON *remote_port; /* port match of the remote side */
    const cJSON *device_port; /* port match of the device side */
    const cJSON *initiated;   /* "ietf-mud:direction-initiated" */
    int peers;                /* how many peer matches were given */
};

/* Notes one peer match of the ACE; a second one makes the ACE an
 * intersection the matrix cannot express. */
static void set_peer(struct ace_flow *f, struct ace_matches *m, const char *text, const cJSON *node)
{
    m->peers++;
    snprintf(f->peer, sizeof(f->peer), "%s", text);
    f->peer_node = node;
}

/* The ipv4/ipv6 container: protocol, DNS names, networks. */
static void load_l3(struct mud_loader *l, enum policy policy, const cJSON *l3, bool v6,
                    struct ace_flow *f, struct ace_matches *m)
{
    const char *remote_dns =
        policy == POLICY_FROM_DEVICE ? "ietf-acldns:dst-dnsname" : "ietf-acldns:src-dnsname";
    const char *device_dns =
        policy == POLICY_FROM_DEVICE ? "ietf-acldns:src-dnsname" : "ietf-acldns:dst-dnsname";
    char remote_net[40], device_net[40];
    snprintf(remote_net, sizeof(remote_net), "%s-ipv%c-network",
             policy == POLICY_FROM_DEVICE ? "destination" : "source", v6 ? '6' : '4');
    snprintf(device_net, sizeof(device_net), "%s-ipv%c-network",
             policy == POLICY_FROM_DEVICE ? "source" : "destination", v6 ? '6' : '4');
    for (const cJSON *item = l3->child; item != NULL; item = item->next) {
        const char *key = item->string;
        if (strcmp(key, "protocol") == 0) {
            double v = cJSON_IsNumber(item) ? item->valuedouble : -1;
            if (v < 0 || v > 255 || v != (double)(long)v) {
                json_report_expected(&l->report, "protocol", item, "an IP protocol number (0-255)");
                f->skip = true;
                continue;
            }
            m->protocol = (long)v;
            m->protocol_node = item;
        } else if (strcmp(key, remote_dns) == 0 || strcmp(key, remote_net) == 0) {
            if (!cJSON_IsString(item)) {
                json_report_expected(&l->report, key, item,
                                     strcmp(key, remote_dns) == 0 ? "a DNS name" : "a CIDR");
                f->skip = true;
                continue;
            }
            set_peer(f, m, item->valuestring, item);
            f->internet = true;
            if (strcmp(key, remote_net) == 0) {
                struct net_prefix prefix;
                if (net_prefix_parse(item->valuestring, &prefix))
                    f->internet = !matrix_is_internal(l->inventory, &prefix.addr);
            }
        } else if (strcmp(key, device_dns) == 0 || strcmp(key, device_net) == 0) {
            mud_warning_key(l, item,
                            "\"%s\" in a %s ACE names the device itself: ignored (the device is "
                            "known by its inventory addresses)",
                            key, policy_names[policy]);
        } else {
            mud_warning_key(l, item,
                            "\"%s\" is not supported: ignored, the imported flow is broader than "
                            "the ACE",
                            key);
        }
    }
}

/* The tcp/udp container: ports and, for TCP, who initiates. */
static void load_l4(struct mud_loader *l, enum policy policy, const cJSON *l4, bool tcp,
                    struct ace_flow *f, struct ace_matches *m)
{
    const char *remote_key = policy == POLICY_FROM_DEVICE ? "destination-port" : "source-port";
    const char *device_key = policy == POLICY_FROM_DEVICE ? "source-port" : "destination-port";
    for (const cJSON *item = l4->child; item != NULL; item = item->next) {
        const char *key = item->string;
        if (strcmp(key, remote_key) == 0) {
            m->remote_port = item;
        } else if (strcmp(key, device_key) == 0) {
            m->device_port = item;
        } else if (tcp && strcmp(key, "ietf-mud:direction-initiated") == 0) {
            if (!cJSON_IsString(item) || (strcmp(item->valuestring, "from-device") != 0 &&
                                          strcmp(item->valuestring, "to-device") != 0)) {
                json_report_expected(&l->report, key, item, "\"from-device\" or \"to-device\"");
                f->skip = true;
                continue;
            }
            m->initiated = item;
        } else {
            mud_warning_key(l, item,
                            "\"%s\" is not supported: ignored, the imported flow is broader than "
                            "the ACE",
                            key);
        }
    }
}

/* The ietf-mud:mud container: one abstraction becomes a host peer. */
static void load_mud_match(struct mud_loader *l, const cJSON *node, struct ace_flow *f,
                           struct ace_matches *m)
{
    static const char *const uri_keys[] = {"controller", "manufacturer", "model"};
    static const char *const empty_keys[] = {"my-controller", "same-manufacturer",
                                             "local-networks"};
    for (const cJSON *item = node->child; item != NULL; item = item->next) {
        const char *key = item->string;
        char name[MUD_NAME_MAX + 1];
        bool known = false;
        for (size_t i = 0; i < 3 && !known; i++) {
            if (strcmp(key, uri_keys[i]) != 0)
                continue;
            known = true;
            if (!cJSON_IsString(item) || item->valuestring[0] == '\0') {
                json_report_expected(&l->report, key, item, i == 1 ? "a domain name" : "a URI");
                f->skip = true;
                continue;
            }
            char prefix[20];
            snprintf(prefix, sizeof(prefix), "%s:", key);
            abstraction_name(name, prefix, without_scheme(item->valuestring));
        }
        for (size_t i = 0; i < 3 && !known; i++) {
            if (strcmp(key, empty_keys[i]) != 0)
                continue;
            known = true;
            snprintf(name, sizeof(name), "%s", key);
        }
        if (!known) {
            mud_warning_key(l, item, "unsupported MUD match \"%s\": ACE not imported", key);
            f->skip = true;
            continue;
        }
        if (f->skip)
            continue;
        if (!use_host(l, name, item)) {
            f->skip = true;
            continue;
        }
        set_peer(f, m, name, item);
        f->internet = false;
    }
}

/* Fills `m` and `f` from the "matches" of one ACE. */
static void load_matches(struct mud_loader *l, enum policy policy, const cJSON *matches,
                         struct ace_flow *f, struct ace_matches *m)
{
    for (const cJSON *item = matches->child; item != NULL; item = item->next) {
        const char *key = item->string;
        bool is_l3 = strcmp(key, "ipv4") == 0 || strcmp(key, "ipv6") == 0;
        bool is_l4 = strcmp(key, "tcp") == 0 || strcmp(key, "udp") == 0 || strcmp(key, "icmp") == 0;
        bool is_mud = strcmp(key, "ietf-mud:mud") == 0;
        if (!is_l3 && !is_l4 && !is_mud) {
            mud_warning_key(l, item, "unsupported match \"%s\": ACE not imported", key);
            f->skip = true;
            continue;
        }
        if (!cJSON_IsObject(item)) {
            json_report_expected(&l->report, key, item, "an object");
            f->skip = true;
            continue;
        }
        if (is_l3) {
            load_l3(l, policy, item, key[3] == '6', f, m);
        } else if (is_mud) {
            load_mud_match(l, item, f, m);
        } else if (m->l4 != NULL) {
            json_report_error(&l->report, item, "\"%s\": this ACE already matches \"%s\"", key,
                              m->l4_name);
            f->skip = true;
        } else {
            m->l4 = item;
            m->l4_name = key;
            if (strcmp(key, "icmp") == 0 && item->child != NULL)
                mud_warning_key(l, item,
                                "ICMP type and code are not checked: the imported flow "
                                "allows any ICMP message");
            else if (strcmp(key, "icmp") != 0)
                load_l4(l, policy, item, key[0] == 't', f, m);
        }
    }
}

/* Protocol from the IP "protocol" leaf and the L4 container, which must
 * agree. Returns false when the ACE is not imported. */
static bool resolve_proto(struct mud_loader *l, const cJSON *ace, struct ace_flow *f,
                          const struct ace_matches *m)
{
    const char *by_l4 = m->l4_name;
    const char *by_number = NULL;
    if (m->protocol == 6)
        by_number = "tcp";
    else if (m->protocol == 17)
        by_number = "udp";
    else if (m->protocol == 1 || m->protocol == 58)
        by_number = "icmp";
    if (m->protocol >= 0 && by_number == NULL) {
        mud_warning(l, m->protocol_node,
                    "IP protocol %ld cannot be expressed in the flow matrix (tcp, udp, icmp "
                    "or any): ACE not imported",
                    m->protocol);
        return false;
    }
    if (by_number != NULL && by_l4 != NULL && strcmp(by_number, by_l4) != 0) {
        json_report_error(&l->report, m->protocol_node,
                          "\"protocol\": %ld contradicts the \"%s\" match of this ACE", m->protocol,
                          by_l4);
        return false;
    }
    f->proto = by_number != NULL ? by_number : by_l4 != NULL ? by_l4 : "any";
    f->proto_node = m->protocol_node != NULL ? m->protocol_node : m->l4 != NULL ? m->l4 : ace;
    return true;
}

/* Who opens the connection and the receiver's port (docs/mud.md, "Directions"). */
static bool resolve_direction(struct mud_loader *l, enum policy policy, struct ace_flow *f,
                              const struct ace_matches *m)
{
    bool device_initiates = policy == POLICY_FROM_DEVICE;
    if (m->initiated != NULL)
        device_initiates = strcmp(m->initiated->valuestring, "from-device") == 0;
    else if (m->remote_port != NULL && m->device_port == NULL)
        device_initiates = true;
    else if (m->device_port != NULL && m->remote_port == NULL)
        device_initiates = false;
    f->device_initiates = device_initiates;
    /* The receiver's port: the remote side's when the device initiates. */
    const cJSON *receiver = device_initiates ? m->remote_port : m->device_port;
    const cJSON *sender = device_initiates ? m->device_port : m->remote_port;
    snprintf(f->port, sizeof(f->port), "any");
    f->port_node = receiver != NULL ? receiver : f->proto_node;
    if (receiver != NULL && !port_text(l, receiver, receiver->string, f->port, sizeof(f->port)))
        return false;
    char ignored[40];
    if (sender != NULL && !port_text(l, sender, sender->string, ignored, sizeof(ignored)))
        return false;
    if (sender != NULL && strcmp(f->proto, "icmp") != 0)
        mud_warning_key(l, sender,
                        "\"%s\" is the initiator's port, which the flow matrix does not check: "
                        "ignored",
                        sender->string);
    return true;
}

/* ---------------------------------------------------------------- flows */

static bool same_flow(const cJSON *a, const cJSON *b)
{
    static const char *const keys[] = {"from", "to", "proto", "port"};
    for (size_t i = 0; i < 4; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, keys[i]);
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, keys[i]);
        if ((x == NULL) != (y == NULL))
            return false;
        if (x != NULL && strcmp(x->valuestring, y->valuestring) != 0)
            return false;
    }
    return true;
}

/* The flow id "MUD-<acl>-<ace>", cut with a stable hash past 64 bytes. */
static void flow_id(char *out, const char *acl, const char *ace)
{
    char both[1024];
    snprintf(both, sizeof(both), "%s-%s", acl, ace);
    abstraction_name(out, "MUD-", both);
}

/* Builds the flow object of a translated ACE and adds it to the templates
 * unless an identical flow is there already (the two halves of one
 * conversation in from- and to-device policies). */
static void emit_flow(struct mud_loader *l, const cJSON *ace, const cJSON *ace_name,
                      const char *acl, enum policy policy, const struct ace_flow *f)
{
    /* Positions of this flow's nodes start here: a duplicate takes them
     * back with its nodes, or a later node could reuse a freed address and
     * inherit a stale position. */
    size_t positions_before = l->position_count;
    cJSON *flow = cJSON_CreateObject();
    place(l, flow, ace);
    if (flow == NULL)
        return;
    char id[MUD_NAME_MAX + 1];
    flow_id(id, acl, ace_name->valuestring);
    add_string(l, flow, "id", id, ace_name);
    char description[512];
    snprintf(description, sizeof(description), "MUD %s ACL %.200s, ACE %.200s",
             policy == POLICY_FROM_DEVICE ? "from-device" : "to-device", acl,
             ace_name->valuestring);
    add_string(l, flow, "description", description, ace_name);
    const char *peer = f->peer[0] != '\0' ? f->peer : "any";
    const cJSON *peer_node = f->peer_node != NULL ? f->peer_node : ace;
    add_string(l, flow, "from", f->device_initiates ? "device" : peer,
               f->device_initiates ? ace : peer_node);
    add_string(l, flow, "to", f->device_initiates ? peer : "device",
               f->device_initiates ? peer_node : ace);
    add_string(l, flow, "proto", f->proto, f->proto_node);
    if (strcmp(f->proto, "tcp") == 0 || strcmp(f->proto, "udp") == 0)
        add_string(l, flow, "port", f->port, f->port_node);
    place(l, cJSON_AddBoolToObject(flow, "internet", f->internet), ace);
    for (const cJSON *other = l->flows->child; other != NULL; other = other->next) {
        if (same_flow(other, flow)) {
            cJSON_Delete(flow);
            l->position_count = positions_before;
            return;
        }
    }
    cJSON_AddItemToArray(l->flows, flow);
}

/* Translates one ACE of an access list used by `policy`. */
static void load_ace(struct mud_loader *l, const char *acl, enum policy policy, const cJSON *ace)
{
    if (!cJSON_IsObject(ace)) {
        json_report_expected(&l->report, "ace", ace, "an object describing one ACE");
        return;
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(ace, "name");
    if (!cJSON_IsString(name) || name->valuestring[0] == '\0') {
        if (name == NULL)
            json_report_error(&l->report, ace, "missing required key \"name\" in ACE");
        else
            json_report_expected(&l->report, "name", name, "an ACE name");
        return;
    }
    const cJSON *actions = cJSON_GetObjectItemCaseSensitive(ace, "actions");
    const cJSON *forwarding = cJSON_GetObjectItemCaseSensitive(actions, "forwarding");
    if (!cJSON_IsObject(actions) || forwarding == NULL) {
        json_report_error(&l->report, actions != NULL ? actions : ace,
                          "ACE \"%s\": missing \"actions\": {\"forwarding\": \"accept\"}",
                          name->valuestring);
        return;
    }
    const char *action = cJSON_IsString(forwarding) ? forwarding->valuestring : "";
    if (strncmp(action, MUD_PREFIX, strlen(MUD_PREFIX)) == 0)
        action += strlen(MUD_PREFIX);
    if (strcmp(action, "drop") == 0 || strcmp(action, "reject") == 0) {
        mud_warning(l, forwarding,
                    "ACE \"%s\" %ss traffic: not imported (the matrix lists allowed flows; "
                    "anything else is already a deviation)",
                    name->valuestring, action);
        return;
    }
    if (strcmp(action, "accept") != 0) {
        json_report_expected(&l->report, "forwarding", forwarding,
                             "\"accept\", \"drop\" or \"reject\"");
        return;
    }
    struct ace_flow f = {.proto = "any"};
    struct ace_matches m = {.protocol = -1};
    const cJSON *matches = cJSON_GetObjectItemCaseSensitive(ace, "matches");
    if (matches != NULL && !cJSON_IsObject(matches)) {
        json_report_expected(&l->report, "matches", matches, "an object");
        return;
    }
    if (matches != NULL)
        load_matches(l, policy, matches, &f, &m);
    if (f.skip)
        return;
    if (m.peers > 1) {
        mud_warning(l, ace,
                    "ACE \"%s\" combines %d peer matches (DNS name, network, MUD "
                    "abstraction): the flow matrix cannot express their intersection, ACE not "
                    "imported",
                    name->valuestring, m.peers);
        return;
    }
    if (m.peers == 0)
        f.internet = true;
    if (!resolve_proto(l, ace, &f, &m) || !resolve_direction(l, policy, &f, &m))
        return;
    emit_flow(l, ace, name, acl, policy, &f);
}

/* ---------------------------------------------------------------- structure */

static const cJSON *find_acl(const struct mud_loader *l, const char *name, size_t *index)
{
    size_t i = 0;
    for (const cJSON *acl = l->acl_array != NULL ? l->acl_array->child : NULL; acl != NULL;
         acl = acl->next, i++) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(acl, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) {
            *index = i;
            return acl;
        }
    }
    return NULL;
}

/* Checks one "acl" entry (the index-th): name unique, "aces"."ace" an
 * array of ACEs with unique names. Returns false after an error. */
static bool check_acl(struct mud_loader *l, const cJSON *acl, size_t index)
{
    if (!cJSON_IsObject(acl)) {
        json_report_expected(&l->report, "acl", acl, "an object describing one access list");
        return false;
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(acl, "name");
    if (!cJSON_IsString(name) || name->valuestring[0] == '\0') {
        if (name == NULL)
            json_report_error(&l->report, acl, "missing required key \"name\" in access list");
        else
            json_report_expected(&l->report, "name", name, "an access list name");
        return false;
    }
    for (const cJSON *other = l->acl_array->child; other != acl; other = other->next) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(other, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name->valuestring) == 0) {
            int line, col;
            json_locate_find(l->report.locations, n, &line, &col);
            json_report_error(&l->report, name,
                              "\"name\": duplicate access list \"%s\" (first defined at line %d, "
                              "column %d)",
                              name->valuestring, line, col);
            /* Policies name the first of duplicates (find_acl): this one
             * counts as used, so it gets no "unused" warning on top. */
            l->acl_used[index] = true;
            return false;
        }
    }
    const cJSON *aces = cJSON_GetObjectItemCaseSensitive(acl, "aces");
    const cJSON *ace = cJSON_GetObjectItemCaseSensitive(aces, "ace");
    if (!cJSON_IsObject(aces) || !cJSON_IsArray(ace)) {
        json_report_error(&l->report, aces != NULL ? aces : acl,
                          "access list \"%s\": expected \"aces\": {\"ace\": [...]}",
                          name->valuestring);
        return false;
    }
    bool ok = true;
    for (const cJSON *a = ace->child; a != NULL; a = a->next) {
        const cJSON *an = cJSON_GetObjectItemCaseSensitive(a, "name");
        for (const cJSON *b = ace->child; b != a && cJSON_IsString(an); b = b->next) {
            const cJSON *bn = cJSON_GetObjectItemCaseSensitive(b, "name");
            if (cJSON_IsString(bn) && strcmp(an->valuestring, bn->valuestring) == 0) {
                int line, col;
                json_locate_find(l->report.locations, bn, &line, &col);
                json_report_error(&l->report, an,
                                  "\"name\": duplicate ACE \"%s\" in access list \"%s\" (first "
                                  "defined at line %d, column %d)",
                                  an->valuestring, name->valuestring, line, col);
                ok = false;
                break;
            }
        }
    }
    return ok;
}

/* The acls container: "ietf-access-control-list:acls": {"acl": [...]}. */
static void load_acls(struct mud_loader *l, const cJSON *root)
{
    const cJSON *acls = cJSON_GetObjectItemCaseSensitive(root, "ietf-access-control-list:acls");
    if (acls == NULL)
        return;
    const cJSON *acl = cJSON_GetObjectItemCaseSensitive(acls, "acl");
    if (!cJSON_IsObject(acls) || !cJSON_IsArray(acl)) {
        json_report_error(&l->report, acls,
                          "\"ietf-access-control-list:acls\": expected {\"acl\": [...]}");
        return;
    }
    l->acl_array = acl;
    size_t n = (size_t)cJSON_GetArraySize(acl);
    l->acl_used = calloc(n > 0 ? n : 1, sizeof(*l->acl_used));
    if (l->acl_used == NULL) {
        l->out_of_memory = true;
        return;
    }
    size_t i = 0;
    for (const cJSON *item = acl->child; item != NULL; item = item->next, i++)
        check_acl(l, item, i);
}

/* One policy: its access lists, by name, translated in order. */
static void load_policy(struct mud_loader *l, const cJSON *mud, enum policy policy)
{
    const char *key = policy_names[policy];
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(mud, key);
    if (node == NULL)
        return;
    const cJSON *lists = cJSON_GetObjectItemCaseSensitive(node, "access-lists");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(lists, "access-list");
    if (!cJSON_IsObject(node) || !cJSON_IsObject(lists) || !cJSON_IsArray(list)) {
        json_report_error(&l->report, node,
                          "\"%s\": expected {\"access-lists\": {\"access-list\": [{\"name\": "
                          "...}]}}",
                          key);
        return;
    }
    for (const cJSON *ref = list->child; ref != NULL; ref = ref->next) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(ref, "name");
        if (!cJSON_IsString(name)) {
            json_report_error(&l->report, name != NULL ? name : ref,
                              "\"%s\": expected {\"name\": \"ACL name\"}", key);
            continue;
        }
        size_t index = 0;
        const cJSON *acl = find_acl(l, name->valuestring, &index);
        if (acl == NULL) {
            json_report_error(&l->report, name,
                              "\"name\": access list \"%s\" is not defined in "
                              "\"ietf-access-control-list:acls\"",
                              name->valuestring);
            continue;
        }
        if (l->acl_used[index]) {
            mud_warning(l, name, "access list \"%s\" is already used: imported once",
                        name->valuestring);
            continue;
        }
        l->acl_used[index] = true;
        const cJSON *aces =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(acl, "aces"), "ace");
        for (const cJSON *ace = cJSON_IsArray(aces) ? aces->child : NULL; ace != NULL;
             ace = ace->next)
            load_ace(l, name->valuestring, policy, ace);
    }
}

/* A required or optional string member of ietf-mud:mud. */
static const char *mud_string(struct mud_loader *l, const cJSON *mud, const char *key,
                              bool required, const cJSON **node_out)
{
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(mud, key);
    if (node_out != NULL)
        *node_out = node;
    if (node == NULL) {
        if (required)
            json_report_error(&l->report, mud, "missing required key \"%s\" in \"ietf-mud:mud\"",
                              key);
        return NULL;
    }
    if (!cJSON_IsString(node) || node->valuestring[0] == '\0') {
        json_report_expected(&l->report, key, node, "a non-empty string");
        return NULL;
    }
    return node->valuestring;
}

/* The ietf-mud:mud container's own leaves. */
static void load_header(struct mud_loader *l, const cJSON *mud)
{
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(mud, "mud-version");
    if (version == NULL)
        json_report_error(&l->report, mud,
                          "missing required key \"mud-version\" in "
                          "\"ietf-mud:mud\" (expected 1)");
    else if (!cJSON_IsNumber(version) || version->valuedouble != 1)
        json_report_expected(&l->report, "mud-version", version, "1 (RFC 8520)");
    const cJSON *url_node = NULL;
    l->mud_url = mud_string(l, mud, "mud-url", true, &url_node);
    if (l->mud_url != NULL && strncasecmp(l->mud_url, "https://", 8) != 0)
        mud_warning(l, url_node, "\"mud-url\": RFC 8520 requires an https URL");
    l->model_name = mud_string(l, mud, "model-name", false, &l->model_node);
    (void)mud_string(l, mud, "mfg-name", false, NULL);
    (void)mud_string(l, mud, "systeminfo", false, NULL);
    for (const cJSON *item = mud->child; item != NULL; item = item->next) {
        bool known = false;
        for (size_t i = 0; i < sizeof(mud_keys) / sizeof(mud_keys[0]) && !known; i++)
            known = strcmp(item->string, mud_keys[i]) == 0;
        if (!known)
            mud_warning_key(l, item, "unknown key \"%s\" in \"ietf-mud:mud\": ignored",
                            item->string);
    }
}

/* Checks the MUD document and translates its policies into l->flows. */
static void load_mud(struct mud_loader *l, const cJSON *root)
{
    if (!cJSON_IsObject(root)) {
        char got[64];
        json_locate_describe(root, got, sizeof(got));
        json_report_error(&l->report, root,
                          "expected a JSON object with \"ietf-mud:mud\" at the top level, got %s",
                          got);
        return;
    }
    const cJSON *mud = cJSON_GetObjectItemCaseSensitive(root, "ietf-mud:mud");
    if (mud == NULL) {
        json_report_error(&l->report, root, "missing \"ietf-mud:mud\": not an RFC 8520 MUD file");
        return;
    }
    if (!cJSON_IsObject(mud)) {
        json_report_expected(&l->report, "ietf-mud:mud", mud, "an object");
        return;
    }
    for (const cJSON *item = root->child; item != NULL; item = item->next) {
        if (strcmp(item->string, "ietf-mud:mud") != 0 &&
            strcmp(item->string, "ietf-access-control-list:acls") != 0)
            mud_warning_key(l, item, "unknown key \"%s\" at the top level: ignored", item->string);
    }
    l->mud_node = mud;
    load_header(l, mud);
    load_acls(l, root);
    bool any_policy = false;
    for (int p = POLICY_FROM_DEVICE; p <= POLICY_TO_DEVICE; p++) {
        const cJSON *node = cJSON_GetObjectItemCaseSensitive(mud, policy_names[p]);
        any_policy = any_policy || node != NULL;
        if (node != NULL && l->acl_array == NULL) {
            json_report_error(&l->report, node,
                              "\"%s\" references access lists but the file has no "
                              "\"ietf-access-control-list:acls\"",
                              policy_names[p]);
            return;
        }
        if (l->acl_used != NULL)
            load_policy(l, mud, (enum policy)p);
    }
    size_t i = 0;
    for (const cJSON *acl = l->acl_array != NULL ? l->acl_array->child : NULL; acl != NULL;
         acl = acl->next, i++) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(acl, "name");
        if (l->acl_used != NULL && !l->acl_used[i] && cJSON_IsString(name))
            mud_warning(l, name, "access list \"%s\" is used by no policy: not imported",
                        name->valuestring);
    }
}

/* ---------------------------------------------------------------- binding */

static bool device_of_model(const struct mud_loader *l, const struct matrix_device *device)
{
    if (device->model == NULL)
        return false;
    return (l->model_name != NULL && strcasecmp(device->model, l->model_name) == 0) ||
           (l->mud_url != NULL && strcmp(device->model, l->mud_url) == 0);
}

/* Records for `created` the positions `template` has in `templates`. */
static void place_like(struct mud_loader *l, const cJSON *created,
                       const struct json_locations *templates, const cJSON *template)
{
    size_t before = l->position_count;
    place(l, created, NULL);
    if (l->position_count == before)
        return;
    struct json_location *p = &l->positions[before];
    json_locate_find(templates, template, &p->line, &p->column);
    if (!json_locate_find_key(templates, template, &p->key_line, &p->key_column)) {
        p->key_line = p->line;
        p->key_column = p->column;
    }
}

/* Copies a template flow (an object of leaves) with its positions. */
static cJSON *copy_placed(struct mud_loader *l, const struct json_locations *templates,
                          const cJSON *template)
{
    cJSON *copy = cJSON_Duplicate(template, true);
    if (copy == NULL) {
        l->out_of_memory = true;
        return NULL;
    }
    place_like(l, copy, templates, template);
    const cJSON *src = template->child;
    for (const cJSON *dst = copy->child; dst != NULL && src != NULL;
         dst = dst->next, src = src->next)
        place_like(l, dst, templates, src);
    return copy;
}

/* Adds the hosts the flows use to the inventory tree (unless the inventory
 * defines them), with the internal networks for "local-networks" and a
 * placeholder, removed after the build, for the unbound ones. */
static void add_hosts(struct mud_loader *l, cJSON *root)
{
    cJSON *hosts = cJSON_GetObjectItemCaseSensitive(root, "hosts");
    for (size_t i = 0; i < l->host_count; i++) {
        const struct mud_host *h = &l->hosts[i];
        if (h->from_inventory)
            continue;
        if (hosts == NULL) {
            hosts = cJSON_AddObjectToObject(root, "hosts");
            place(l, hosts, h->at);
            if (hosts == NULL)
                return;
        }
        cJSON *list = cJSON_AddArrayToObject(hosts, h->name);
        place(l, list, h->at);
        if (list == NULL)
            return;
        if (!h->bound) {
            cJSON *entry = cJSON_CreateString(MUD_UNBOUND);
            place(l, entry, h->at);
            cJSON_AddItemToArray(list, entry);
            continue;
        }
        const struct matrix *inv = l->inventory;
        size_t count = inv->has_internal
                           ? inv->internal_count
                           : sizeof(default_local_networks) / sizeof(default_local_networks[0]);
        for (size_t j = 0; j < count; j++) {
            char text[64];
            if (inv->has_internal)
                net_prefix_format(&inv->internal[j], text, sizeof(text));
            else
                snprintf(text, sizeof(text), "%s", default_local_networks[j]);
            cJSON *entry = cJSON_CreateString(text);
            place(l, entry, h->at);
            cJSON_AddItemToArray(list, entry);
        }
    }
}

/* Flow ids of the inventory that a MUD flow id would repeat: reported at
 * the ACE, since the inventory is not the MUD file's to change. */
static bool check_ids(struct mud_loader *l, const struct matrix_device *device,
                      const char *inventory_path)
{
    bool ok = true;
    for (const cJSON *flow = l->flows->child; flow != NULL; flow = flow->next) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(flow, "id");
        for (size_t i = 0; i < device->flow_count; i++) {
            if (strcmp(device->flows[i].id, id->valuestring) != 0)
                continue;
            int line = 0, col = 0;
            for (size_t p = 0; p < l->position_count; p++) {
                if (l->positions[p].node == id) {
                    line = l->positions[p].line;
                    col = l->positions[p].column;
                }
            }
            diag_error(l->diag, l->mud_path, line, col,
                       "flow id \"%s\" of this ACE is already used by device \"%s\" in %s "
                       "(line %d, column %d)",
                       id->valuestring, device->name, inventory_path, device->flows[i].line,
                       device->flows[i].column);
            ok = false;
        }
    }
    return ok;
}

/* Appends the MUD flows to every inventory device of the MUD's model.
 * Returns false after an error. */
static bool bind_devices(struct mud_loader *l, cJSON *root, const char *inventory_path)
{
    struct json_locations templates = {0};
    templates.count = l->position_count;
    templates.entries =
        malloc((templates.count ? templates.count : 1) * sizeof(*templates.entries));
    if (templates.entries == NULL) {
        l->out_of_memory = true;
        return false;
    }
    if (templates.count > 0)
        memcpy(templates.entries, l->positions, templates.count * sizeof(*templates.entries));
    json_locations_sort(&templates);
    size_t flow_count = (size_t)cJSON_GetArraySize(l->flows);
    cJSON *devices = cJSON_GetObjectItemCaseSensitive(root, "devices");
    size_t bound = 0, index = 0;
    bool ok = true;
    for (cJSON *device = devices->child; device != NULL; device = device->next, index++) {
        const struct matrix_device *model = &l->inventory->devices[index];
        if (!device_of_model(l, model))
            continue;
        bound++;
        if (model->flow_count + flow_count > MUD_MAX_FLOWS) {
            json_report_error(&l->report, l->acl_array,
                              "device \"%s\" would have %zu flows with this MUD file (at most "
                              "%d)",
                              model->name, model->flow_count + flow_count, MUD_MAX_FLOWS);
            ok = false;
            continue;
        }
        if (!check_ids(l, model, inventory_path)) {
            ok = false;
            continue;
        }
        cJSON *flows = cJSON_GetObjectItemCaseSensitive(device, "flows");
        if (flows == NULL) {
            flows = cJSON_AddArrayToObject(device, "flows");
            place(l, flows, l->acl_array);
            if (flows == NULL)
                break;
        }
        for (const cJSON *t = l->flows->child; t != NULL; t = t->next)
            cJSON_AddItemToArray(flows, copy_placed(l, &templates, t));
    }
    free(templates.entries);
    if (bound == 0) {
        const cJSON *at = l->model_node != NULL ? l->model_node : l->mud_node;
        json_report_error(&l->report, at,
                          "no device of %s has \"model\": \"%s\"%s%s%s: there is nothing to "
                          "apply this MUD file to",
                          inventory_path, l->model_name != NULL ? l->model_name : "",
                          l->model_name != NULL ? " or the MUD URL \"" : "the MUD URL \"",
                          l->mud_url != NULL ? l->mud_url : "", "\"");
        ok = false;
    }
    return ok;
}

/* Warns once per abstraction no address stands for, and after the build
 * empties its placeholder: such a host matches nothing until the
 * inventory binds it. */
static void warn_unbound(struct mud_loader *l, const char *inventory_path)
{
    for (size_t i = 0; i < l->host_count; i++) {
        const struct mud_host *h = &l->hosts[i];
        if (h->bound)
            continue;
        mud_warning_key(l, h->at,
                        "\"%s\" is bound to no address: its flows match nothing until %s defines "
                        "the host \"%s\" (hosts: {\"%s\": [addresses]})",
                        h->name, inventory_path, h->name, h->name);
    }
}

/* The inventory's own flows keep the positions they have in the
 * inventory (the final build only knows the MUD file's). */
static void restore_positions(const struct matrix *inventory, struct matrix *m)
{
    for (size_t i = 0; i < m->device_count && i < inventory->device_count; i++) {
        const struct matrix_device *from = &inventory->devices[i];
        for (size_t j = 0; j < from->flow_count && j < m->devices[i].flow_count; j++) {
            m->devices[i].flows[j].line = from->flows[j].line;
            m->devices[i].flows[j].column = from->flows[j].column;
        }
    }
}

static void clear_unbound(const struct mud_loader *l, struct matrix *m)
{
    for (size_t i = 0; i < l->host_count; i++) {
        if (l->hosts[i].bound)
            continue;
        for (size_t j = 0; j < m->host_count; j++) {
            struct matrix_host *host = &m->hosts[j];
            if (strcmp(host->name, l->hosts[i].name) != 0)
                continue;
            for (size_t k = 0; k < host->dns_name_count; k++)
                free(host->dns_names[k]);
            host->dns_name_count = 0;
            host->prefix_count = 0;
        }
    }
}

/* Imports a MUD file over an inventory; see matrix.h. */
struct matrix *matrix_load_mud(const char *mud_path, const char *inventory_path, struct diag *diag)
{
    struct json_document inventory_doc = {0}, mud_doc = {0};
    if (!parse_file(inventory_path, &inventory_doc, diag))
        return NULL;
    struct matrix *inventory =
        matrix_build(inventory_path, inventory_doc.root, &inventory_doc.locations, diag);
    if (inventory == NULL || !parse_file(mud_path, &mud_doc, diag)) {
        matrix_free(inventory);
        json_locate_free(&inventory_doc);
        return NULL;
    }
    size_t errors_before = diag->errors;
    size_t entries_before = diag->count;
    struct mud_loader l = {.mud_path = mud_path,
                           .diag = diag,
                           .report = {mud_path, diag, &mud_doc.locations},
                           .inventory = inventory,
                           .flows = cJSON_CreateArray()};
    struct matrix *result = NULL;
    if (l.flows == NULL)
        l.out_of_memory = true;
    else
        load_mud(&l, mud_doc.root);
    if (diag->errors == errors_before && !l.out_of_memory &&
        bind_devices(&l, inventory_doc.root, inventory_path))
        add_hosts(&l, inventory_doc.root);
    warn_unbound(&l, inventory_path);
    json_locate_sort_diag(diag, entries_before);
    if (l.out_of_memory)
        diag_error(diag, mud_path, 0, 0, "out of memory");
    if (diag->errors == errors_before) {
        struct json_locations positions = {l.positions, l.position_count};
        json_locations_sort(&positions);
        result = matrix_build(mud_path, inventory_doc.root, &positions, diag);
        if (result != NULL) {
            restore_positions(inventory, result);
            clear_unbound(&l, result);
        }
    }
    free(l.positions);
    free(l.acl_used);
    cJSON_Delete(l.flows);
    matrix_free(inventory);
    json_locate_free(&mud_doc);
    json_locate_free(&inventory_doc);
    return result;
}
