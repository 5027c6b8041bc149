/* learn: a draft flow matrix from the flows one device was seen doing.
 *
 * Three steps. learner_add folds observations into entries keyed by
 * (direction, protocol, server port, peer, application) in a hash table.
 * learner_write_json then turns entries into services (one per direction,
 * protocol, port or dynamic port range and peer, applications merged) and
 * groups services of many hosts of one /24 or /64 into one flow to that
 * network. Last it names hosts, numbers flows in a sorted order, renders
 * the JSON and loads it back with the project's matrix loader before
 * writing it: a draft that would not load is never written. docs/learn.md
 * states every rule. */
#include "fluxaudit/learn.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fluxaudit/decode.h"
#include "fluxaudit/diag.h"
#include "fluxaudit/matrix.h"

#define LEARN_MAX_ADDRESSES 256 /* the matrix format's limit per device */
#define LEARN_MAX_FLOWS 1024    /* the matrix format's limit per device */
#define LEARN_DYNAMIC_PORT_MIN 32768
#define LEARN_APPS_MAX 4         /* application names kept per service for its description */
#define LEARN_HOST_PREFIX_MAX 16 /* bytes of the application part of a host name */
#define LEARN_NAME_MAX 65        /* a matrix name is at most 64 bytes */
#define LEARN_TEXT_MAX 512       /* a matrix free text is at most 512 bytes */

/* Protection seen on at least one connection, one bit per kind. */
enum {
    PROTECTION_CLEARTEXT = 1u << 0,
    PROTECTION_OTHER = 1u << 1,   /* encrypted, but no matrix class (QUIC, WireGuard...) */
    PROTECTION_TLS_OLD = 1u << 2, /* SSL, TLS 1.0/1.1 or an unknown version number */
    PROTECTION_TLS12 = 1u << 3,
    PROTECTION_TLS13 = 1u << 4,
    PROTECTION_TLS_ANY = 1u << 5, /* TLS without a ServerHello: version unknown */
    PROTECTION_DTLS_OLD = 1u << 6,
    PROTECTION_DTLS12 = 1u << 7, /* DTLS 1.2 or 1.3 */
    PROTECTION_DTLS_ANY = 1u << 8,
    PROTECTION_SSH = 1u << 9,
    PROTECTION_IPSEC = 1u << 10,
    PROTECTION_SNMPV3 = 1u << 11,
    PROTECTION_KIND_COUNT = 12,
};

#define PROTECTION_WEAK                                                                            \
    (PROTECTION_CLEARTEXT | PROTECTION_OTHER | PROTECTION_TLS_OLD | PROTECTION_DTLS_OLD)
#define PROTECTION_TLS_FAMILY (PROTECTION_TLS12 | PROTECTION_TLS13 | PROTECTION_TLS_ANY)
#define PROTECTION_DTLS_FAMILY (PROTECTION_DTLS12 | PROTECTION_DTLS_ANY)

struct learn_totals {
    uint64_t connections;
    uint64_t packets;
    uint64_t bytes;
    uint64_t first_usec;
    uint64_t last_usec;
    unsigned protection; /* PROTECTION_* bits */
};

/* One aggregate of observations. */
struct learn_entry {
    bool outbound; /* the device initiated */
    uint8_t ip_proto;
    uint16_t port;        /* server port, 0 without ports */
    bool peer_is_device;  /* the peer is one of the device's own addresses */
    struct net_addr peer; /* zero when peer_is_device */
    char app[FACT_NAME_MAX];
    struct learn_totals totals;
};

struct learner {
    char *device_name;
    char *site;
    char *timezone;
    unsigned group_min;
    bool group_internet;
    struct net_prefix *prefixes;
    size_t prefix_count;
    struct mac_addr *macs;
    size_t mac_count;
    struct learn_entry *entries;
    size_t entry_count;
    size_t entry_capacity;
    size_t *slots;     /* open addressing: entry index + 1, 0 when empty */
    size_t slot_count; /* a power of two, at least twice entry_count */
    struct learn_stats stats;
};

/* A declared flow in the making: one peer (or one network of peers). */
struct learn_service {
    bool outbound;
    uint8_t ip_proto;
    uint16_t port_low;
    uint16_t port_high;
    bool dynamic;         /* a range of dynamic server ports */
    size_t dynamic_ports; /* distinct ports folded in the range */
    bool peer_is_device;
    bool peer_public;
    struct net_prefix peer;                   /* a host prefix, or the network of a group */
    size_t hosts;                             /* peers folded in (1 unless grouped) */
    char apps[LEARN_APPS_MAX][FACT_NAME_MAX]; /* distinct non-empty applications, sorted */
    size_t app_count;
    bool apps_more; /* more than LEARN_APPS_MAX distinct applications */
    struct learn_totals totals;
};

struct learn_host {
    struct net_prefix prefix;
    char name[LEARN_NAME_MAX];
};

/* A growable text buffer; `failed` is sticky on allocation failure. */
struct text {
    char *data;
    size_t len;
    size_t capacity;
    bool failed;
};

/* ---- small helpers ------------------------------------------------------ */

static char *copy_string(const char *text)
{
    if (text == NULL)
        return NULL;
    size_t len = strlen(text) + 1;
    char *copy = malloc(len);
    if (copy != NULL)
        memcpy(copy, text, len);
    return copy;
}

static bool has_ports(uint8_t ip_proto)
{
    return ip_proto == IP_PROTO_TCP || ip_proto == IP_PROTO_UDP;
}

static bool is_icmp(uint8_t ip_proto)
{
    return ip_proto == IP_PROTO_ICMP || ip_proto == IP_PROTO_ICMPV6;
}

/* The order protocols appear in: tcp, udp, icmp, then the others by number. */
static int proto_rank(uint8_t ip_proto)
{
    if (ip_proto == IP_PROTO_TCP)
        return 0;
    if (ip_proto == IP_PROTO_UDP)
        return 1;
    if (is_icmp(ip_proto))
        return 2;
    return 3 + ip_proto;
}

static int compare_u64(uint64_t a, uint64_t b)
{
    return (a > b) - (a < b);
}

static int compare_prefix(const struct net_prefix *a, const struct net_prefix *b)
{
    int c = net_addr_compare(&a->addr, &b->addr);
    return c != 0 ? c : compare_u64(a->bits, b->bits);
}

static uint8_t family_bits(uint8_t family)
{
    return family == 4 ? 32 : 128;
}

static struct net_prefix host_prefix(const struct net_addr *addr)
{
    struct net_prefix prefix = {.addr = *addr, .bits = family_bits(addr->family)};
    return prefix;
}

/* The /24 (IPv4) or /64 (IPv6) holding `addr`: the widest a group gets. */
static struct net_prefix group_prefix(const struct net_addr *addr)
{
    struct net_prefix prefix = {.addr = *addr};
    if (addr->family == 4) {
        prefix.bits = 24;
        memset(prefix.addr.bytes + 3, 0, sizeof(prefix.addr.bytes) - 3);
    } else {
        prefix.bits = 64;
        memset(prefix.addr.bytes + 8, 0, sizeof(prefix.addr.bytes) - 8);
    }
    return prefix;
}

static void totals_merge(struct learn_totals *into, const struct learn_totals *from)
{
    if (into->connections == 0 || from->first_usec < into->first_usec)
        into->first_usec = from->first_usec;
    if (from->last_usec > into->last_usec)
        into->last_usec = from->last_usec;
    into->connections += from->connections;
    into->packets += from->packets;
    into->bytes += from->bytes;
    into->protection |= from->protection;
}

/* Copies an application name, or "" when it is not printable ASCII: nDPI's
 * names always are, the matrix refuses control characters, and declaring a
 * cleaned-up name would declare what was not seen. */
static void copy_app(char *out, size_t len, const char *app)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < FACT_NAME_MAX && app[i] != '\0'; i++) {
        unsigned char c = (unsigned char)app[i];
        if (c < 0x20 || c >= 0x7f || n + 1 >= len) {
            out[0] = '\0';
            return;
        }
        out[n++] = (char)c;
        out[n] = '\0';
    }
    if (strcmp(out, "Unknown") == 0) /* nDPI's name for nothing recognised */
        out[0] = '\0';
}

/* ---- protection --------------------------------------------------------- */

/* The protection bit of one observation; 0 when it tells nothing (no
 * payload: the audit never judges those either). */
static unsigned protection_bit(enum transport_security security, uint16_t version)
{
    switch (security) {
    case SECURITY_UNKNOWN:
        return 0;
    case SECURITY_CLEARTEXT:
        return PROTECTION_CLEARTEXT;
    case SECURITY_OTHER_ENCRYPTED:
        return PROTECTION_OTHER;
    case SECURITY_TLS:
        if (version == 0)
            return PROTECTION_TLS_ANY;
        if (version == TLS_VERSION_1_3)
            return PROTECTION_TLS13;
        return version == TLS_VERSION_1_2 ? PROTECTION_TLS12 : PROTECTION_TLS_OLD;
    case SECURITY_DTLS:
        if (version == 0)
            return PROTECTION_DTLS_ANY;
        /* DTLS counts down: 0xfeff is 1.0, 0xfefd 1.2, 0xfefc 1.3. */
        return (version >> 8) == 0xfe && version <= 0xfefd ? PROTECTION_DTLS12
                                                           : PROTECTION_DTLS_OLD;
    case SECURITY_SSH:
        return PROTECTION_SSH;
    case SECURITY_IPSEC:
        return PROTECTION_IPSEC;
    case SECURITY_SNMPV3:
        return PROTECTION_SNMPV3;
    }
    return PROTECTION_OTHER;
}

/* The matrix "encryption" the connections all showed: the weakest seen,
 * and "none" as soon as one was weaker or two kinds were mixed. */
static const char *protection_encryption(unsigned bits)
{
    if ((bits & PROTECTION_WEAK) != 0)
        return "none";
    unsigned families = 0;
    families += (bits & PROTECTION_TLS_FAMILY) != 0;
    families += (bits & PROTECTION_DTLS_FAMILY) != 0;
    families += (bits & PROTECTION_SSH) != 0;
    families += (bits & PROTECTION_IPSEC) != 0;
    families += (bits & PROTECTION_SNMPV3) != 0;
    if (families != 1)
        return "none";
    if ((bits & PROTECTION_TLS12) != 0)
        return "tls1.2+";
    if ((bits & PROTECTION_TLS13) != 0)
        return "tls1.3";
    if ((bits & PROTECTION_DTLS12) != 0)
        return "dtls1.2+";
    if ((bits & PROTECTION_SSH) != 0)
        return "ssh";
    if ((bits & PROTECTION_IPSEC) != 0)
        return "ipsec";
    if ((bits & PROTECTION_SNMPV3) != 0)
        return "snmpv3";
    return "none"; /* only TLS/DTLS of unknown version: nothing proves 1.2 */
}

static const char *protection_name(unsigned bit)
{
    switch (bit) {
    case PROTECTION_CLEARTEXT:
        return "cleartext";
    case PROTECTION_OTHER:
        return "other encryption";
    case PROTECTION_TLS_OLD:
        return "TLS below 1.2";
    case PROTECTION_TLS12:
        return "TLSv1.2";
    case PROTECTION_TLS13:
        return "TLSv1.3";
    case PROTECTION_TLS_ANY:
        return "TLS of unknown version";
    case PROTECTION_DTLS_OLD:
        return "DTLS below 1.2";
    case PROTECTION_DTLS12:
        return "DTLS 1.2+";
    case PROTECTION_DTLS_ANY:
        return "DTLS of unknown version";
    case PROTECTION_SSH:
        return "SSH";
    case PROTECTION_IPSEC:
        return "IPsec";
    default:
        return "SNMPv3";
    }
}

/* ---- creation and aggregation ------------------------------------------- */

struct learner *learner_create(const struct learn_options *options,
                               const struct net_prefix *device_prefixes, size_t count)
{
    static const struct learn_options defaults = {0};
    if (options == NULL)
        options = &defaults;
    size_t mac_count = options->device_macs != NULL ? options->device_mac_count : 0;
    if ((count == 0 && mac_count == 0) || (count > 0 && device_prefixes == NULL) ||
        count > LEARN_MAX_ADDRESSES || mac_count > LEARN_MAX_ADDRESSES - count)
        return NULL;
    struct learner *learner = calloc(1, sizeof(*learner));
    if (learner == NULL)
        return NULL;
    learner->device_name = copy_string(options->device_name != NULL ? options->device_name
                                                                    : LEARN_DEFAULT_DEVICE_NAME);
    learner->site = copy_string(options->site);
    learner->timezone = copy_string(options->timezone);
    learner->group_min = options->subnet_group_min == 0  ? LEARN_DEFAULT_SUBNET_GROUP_MIN
                         : options->subnet_group_min < 2 ? 2
                                                         : options->subnet_group_min;
    learner->group_internet = options->group_internet;
    learner->prefixes = calloc(count + 1, sizeof(*learner->prefixes));
    learner->macs = calloc(mac_count + 1, sizeof(*learner->macs));
    learner->slot_count = 64;
    learner->slots = calloc(learner->slot_count, sizeof(*learner->slots));
    if (learner->device_name == NULL || (options->site != NULL && learner->site == NULL) ||
        (options->timezone != NULL && learner->timezone == NULL) || learner->prefixes == NULL ||
        learner->macs == NULL || learner->slots == NULL) {
        learner_destroy(learner);
        return NULL;
    }
    if (count > 0)
        memcpy(learner->prefixes, device_prefixes, count * sizeof(*device_prefixes));
    learner->prefix_count = count;
    if (mac_count > 0)
        memcpy(learner->macs, options->device_macs, mac_count * sizeof(*learner->macs));
    learner->mac_count = mac_count;
    return learner;
}

void learner_destroy(struct learner *learner)
{
    if (learner == NULL)
        return;
    free(learner->device_name);
    free(learner->site);
    free(learner->timezone);
    free(learner->prefixes);
    free(learner->macs);
    free(learner->entries);
    free(learner->slots);
    free(learner);
}

void learner_get_stats(const struct learner *learner, struct learn_stats *stats)
{
    *stats = learner->stats;
    stats->entries = learner->entry_count;
}

static bool is_device_address(const struct learner *learner, const struct net_addr *addr)
{
    for (size_t i = 0; i < learner->prefix_count; i++) {
        if (net_prefix_contains(&learner->prefixes[i], addr))
            return true;
    }
    return false;
}

static uint32_t entry_hash(const struct learn_entry *key)
{
    uint32_t h = net_addr_hash(&key->peer, 0x9e3779b9u);
    const uint32_t parts[] = {key->outbound, key->ip_proto, key->port, key->peer_is_device};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        h = (h ^ parts[i]) * 16777619u;
    for (const char *p = key->app; *p != '\0'; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h;
}

static bool entry_same_key(const struct learn_entry *a, const struct learn_entry *b)
{
    return a->outbound == b->outbound && a->ip_proto == b->ip_proto && a->port == b->port &&
           a->peer_is_device == b->peer_is_device && net_addr_compare(&a->peer, &b->peer) == 0 &&
           strcmp(a->app, b->app) == 0;
}

/* The slot holding `key`, or the empty slot where it belongs. */
static size_t find_slot(const struct learner *learner, const struct learn_entry *key)
{
    size_t mask = learner->slot_count - 1;
    size_t slot = entry_hash(key) & mask;
    while (learner->slots[slot] != 0 &&
           !entry_same_key(&learner->entries[learner->slots[slot] - 1], key))
        slot = (slot + 1) & mask;
    return slot;
}

/* Makes room for one more entry (entries array and a half-empty table). */
static bool reserve_entry(struct learner *learner)
{
    if (learner->entry_count == learner->entry_capacity) {
        size_t capacity = learner->entry_capacity == 0 ? 32 : learner->entry_capacity * 2;
        struct learn_entry *entries = realloc(learner->entries, capacity * sizeof(*entries));
        if (entries == NULL)
            return false;
        learner->entries = entries;
        learner->entry_capacity = capacity;
    }
    if ((learner->entry_count + 1) * 2 <= learner->slot_count)
        return true;
    size_t slot_count = learner->slot_count * 2;
    size_t *slots = calloc(slot_count, sizeof(*slots));
    if (slots == NULL)
        return false;
    free(learner->slots);
    learner->slots = slots;
    learner->slot_count = slot_count;
    for (size_t i = 0; i < learner->entry_count; i++)
        learner->slots[find_slot(learner, &learner->entries[i])] = i + 1;
    return true;
}

void learner_add(struct learner *learner, const struct learn_observation *observation)
{
    learner->stats.observations++;
    const struct net_addr *peer =
        observation->device_is_client ? &observation->flow.server : &observation->flow.client;
    if (peer->family != 4 && peer->family != 6) {
        learner->stats.ignored++;
        return;
    }
    struct learn_entry key;
    memset(&key, 0, sizeof(key));
    key.outbound = observation->device_is_client;
    key.ip_proto = observation->flow.ip_proto;
    /* Only the server's port is ever a declared port; the client's is ephemeral. */
    key.port = has_ports(key.ip_proto) ? observation->flow.port : 0;
    key.peer_is_device = is_device_address(learner, peer);
    if (!key.peer_is_device)
        key.peer = *peer;
    copy_app(key.app, sizeof(key.app), observation->flow.app);
    size_t slot = find_slot(learner, &key);
    if (learner->slots[slot] == 0) {
        if (learner->entry_count >= LEARN_MAX_ENTRIES || !reserve_entry(learner)) {
            learner->stats.dropped++;
            return;
        }
        slot = find_slot(learner, &key); /* the table may have grown */
        learner->entries[learner->entry_count++] = key;
        learner->slots[slot] = learner->entry_count;
    }
    struct learn_totals totals = {
        .connections = observation->connections != 0 ? observation->connections : 1,
        .packets = observation->packets,
        .bytes = observation->bytes,
        .first_usec = observation->first_usec,
        .last_usec = observation->last_usec,
        .protection = protection_bit(observation->security, observation->tls_version),
    };
    totals_merge(&learner->entries[learner->slots[slot] - 1].totals, &totals);
}

/* ---- services ----------------------------------------------------------- */

/* Entries by (direction, protocol, peer, port, application): one peer's
 * ports are adjacent, so dynamic ranges are found in one pass. */
static int compare_entries(const void *pa, const void *pb)
{
    const struct learn_entry *a = pa;
    const struct learn_entry *b = pb;
    if (a->outbound != b->outbound)
        return a->outbound ? -1 : 1;
    if (a->ip_proto != b->ip_proto)
        return proto_rank(a->ip_proto) - proto_rank(b->ip_proto);
    if (a->peer_is_device != b->peer_is_device)
        return a->peer_is_device ? -1 : 1;
    int c = net_addr_compare(&a->peer, &b->peer);
    if (c != 0)
        return c;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    return strcmp(a->app, b->app);
}

static bool same_peer(const struct learn_entry *a, const struct learn_entry *b)
{
    return a->outbound == b->outbound && a->ip_proto == b->ip_proto &&
           a->peer_is_device == b->peer_is_device && net_addr_compare(&a->peer, &b->peer) == 0;
}

static void service_add_app(struct learn_service *service, const char *app)
{
    if (app[0] == '\0')
        return;
    size_t at = 0;
    while (at < service->app_count && strcmp(service->apps[at], app) < 0)
        at++;
    if (at < service->app_count && strcmp(service->apps[at], app) == 0)
        return;
    if (service->app_count == LEARN_APPS_MAX) {
        service->apps_more = true;
        if (at == LEARN_APPS_MAX)
            return;
        service->app_count--; /* keep the first names in sorted order */
    }
    memmove(service->apps[at + 1], service->apps[at],
            (service->app_count - at) * sizeof(service->apps[0]));
    snprintf(service->apps[at], sizeof(service->apps[at]), "%s", app);
    service->app_count++;
}

static void service_add_entry(struct learn_service *service, const struct learn_entry *entry)
{
    service_add_app(service, entry->app);
    totals_merge(&service->totals, &entry->totals);
}

static void service_start(struct learn_service *service, const struct learn_entry *entry)
{
    memset(service, 0, sizeof(*service));
    service->outbound = entry->outbound;
    service->ip_proto = entry->ip_proto;
    service->port_low = entry->port;
    service->port_high = entry->port;
    service->peer_is_device = entry->peer_is_device;
    if (!entry->peer_is_device) {
        service->peer = host_prefix(&entry->peer);
        service->peer_public = !net_addr_is_default_internal(&entry->peer);
    }
    service->hosts = 1;
}

/* Folds the entries [begin, end) of one peer into services: one per
 * server port, and one range for its dynamic ports when there are >= 2. */
static size_t peer_services(const struct learn_entry *entries, size_t begin, size_t end,
                            struct learn_service *out)
{
    size_t dynamic_ports = 0;
    uint16_t low = 0;
    uint16_t high = 0;
    for (size_t i = begin; has_ports(entries[begin].ip_proto) && i < end; i++) {
        if (entries[i].port < LEARN_DYNAMIC_PORT_MIN)
            continue;
        if (dynamic_ports == 0 || entries[i].port != high)
            dynamic_ports++;
        if (dynamic_ports == 1)
            low = entries[i].port;
        high = entries[i].port;
    }
    bool dynamic = dynamic_ports >= 2;
    size_t count = 0;
    struct learn_service *range = NULL;
    for (size_t i = begin; i < end; i++) {
        const struct learn_entry *entry = &entries[i];
        if (dynamic && entry->port >= LEARN_DYNAMIC_PORT_MIN) {
            if (range == NULL) {
                range = &out[count++];
                service_start(range, entry);
                range->port_low = low;
                range->port_high = high;
                range->dynamic = true;
                range->dynamic_ports = dynamic_ports;
            }
            service_add_entry(range, entry);
            continue;
        }
        struct learn_service *last = count > 0 ? &out[count - 1] : NULL;
        if (last == NULL || last->dynamic || last->port_low != entry->port) {
            last = &out[count++];
            service_start(last, entry);
        }
        service_add_entry(last, entry);
    }
    return count;
}

/* The one application to declare: "" when none was identified or several
 * were (declaring one would be more than was seen). */
static const char *service_app(const struct learn_service *service)
{
    return service->app_count == 1 && !service->apps_more ? service->apps[0] : "";
}

/* Services by what makes a group: everything but the peer, then the
 * network a group would cover, then the peer. */
static int compare_group_key(const struct learn_service *a, const struct learn_service *b)
{
    if (a->outbound != b->outbound)
        return a->outbound ? -1 : 1;
    if (a->ip_proto != b->ip_proto)
        return proto_rank(a->ip_proto) - proto_rank(b->ip_proto);
    if (a->port_low != b->port_low)
        return a->port_low < b->port_low ? -1 : 1;
    if (a->port_high != b->port_high)
        return a->port_high < b->port_high ? -1 : 1;
    int c = strcmp(service_app(a), service_app(b));
    if (c != 0)
        return c;
    if (a->peer_is_device != b->peer_is_device)
        return a->peer_is_device ? -1 : 1;
    if (a->peer_public != b->peer_public)
        return a->peer_public ? 1 : -1;
    struct net_prefix na = group_prefix(&a->peer.addr);
    struct net_prefix nb = group_prefix(&b->peer.addr);
    return compare_prefix(&na, &nb);
}

static int compare_services_for_grouping(const void *pa, const void *pb)
{
    const struct learn_service *a = pa;
    const struct learn_service *b = pb;
    int c = compare_group_key(a, b);
    return c != 0 ? c : compare_prefix(&a->peer, &b->peer);
}

/* The final flow order: direction, protocol, port, peer (the device
 * first), application. Every key is distinct, so the order is total. */
static int compare_services_for_output(const void *pa, const void *pb)
{
    const struct learn_service *a = pa;
    const struct learn_service *b = pb;
    if (a->outbound != b->outbound)
        return a->outbound ? -1 : 1;
    if (a->ip_proto != b->ip_proto)
        return proto_rank(a->ip_proto) - proto_rank(b->ip_proto);
    if (a->port_low != b->port_low)
        return a->port_low < b->port_low ? -1 : 1;
    if (a->port_high != b->port_high)
        return a->port_high < b->port_high ? -1 : 1;
    if (a->peer_is_device != b->peer_is_device)
        return a->peer_is_device ? -1 : 1;
    int c = compare_prefix(&a->peer, &b->peer);
    return c != 0 ? c : strcmp(service_app(a), service_app(b));
}

static bool may_group(const struct learner *learner, const struct learn_service *service)
{
    return !service->peer_is_device && (!service->peer_public || learner->group_internet);
}

/* Merges the services [begin, end) (one group key) into services[begin]. */
static void merge_group(struct learn_service *services, size_t begin, size_t end)
{
    struct learn_service *group = &services[begin];
    for (size_t i = begin + 1; i < end; i++) {
        for (size_t a = 0; a < services[i].app_count; a++)
            service_add_app(group, services[i].apps[a]);
        group->apps_more = group->apps_more || services[i].apps_more;
        if (services[i].dynamic_ports > group->dynamic_ports)
            group->dynamic_ports = services[i].dynamic_ports;
        totals_merge(&group->totals, &services[i].totals);
    }
    group->peer = group_prefix(&group->peer.addr);
    group->hosts = end - begin;
}

/* Groups services in place; returns the new count. */
static size_t group_services(const struct learner *learner, struct learn_service *services,
                             size_t count)
{
    qsort(services, count, sizeof(*services), compare_services_for_grouping);
    size_t kept = 0;
    size_t begin = 0;
    while (begin < count) {
        size_t end = begin + 1;
        while (end < count && compare_group_key(&services[begin], &services[end]) == 0)
            end++;
        if (may_group(learner, &services[begin]) && end - begin >= learner->group_min) {
            merge_group(services, begin, end);
            services[kept++] = services[begin];
        } else {
            for (size_t i = begin; i < end; i++)
                services[kept++] = services[i];
        }
        begin = end;
    }
    qsort(services, kept, sizeof(*services), compare_services_for_output);
    return kept;
}

/* Builds the final services of the learner; NULL on allocation failure
 * (an empty learner gives a valid pointer and *count 0). */
static struct learn_service *build_services(const struct learner *learner, size_t *count)
{
    size_t n = learner->entry_count;
    struct learn_entry *entries = malloc((n + 1) * sizeof(*entries));
    struct learn_service *services = malloc((n + 1) * sizeof(*services));
    if (entries == NULL || services == NULL) {
        free(entries);
        free(services);
        return NULL;
    }
    if (n > 0)
        memcpy(entries, learner->entries, n * sizeof(*entries));
    qsort(entries, n, sizeof(*entries), compare_entries);
    size_t made = 0;
    size_t begin = 0;
    while (begin < n) {
        size_t end = begin + 1;
        while (end < n && same_peer(&entries[begin], &entries[end]))
            end++;
        made += peer_services(entries, begin, end, services + made);
        begin = end;
    }
    free(entries);
    *count = group_services(learner, services, made);
    return services;
}

/* ---- hosts -------------------------------------------------------------- */

static int compare_hosts(const void *pa, const void *pb)
{
    const struct learn_host *a = pa;
    const struct learn_host *b = pb;
    return compare_prefix(&a->prefix, &b->prefix);
}

static int compare_host_names(const void *pa, const void *pb)
{
    struct learn_host *const *a = pa;
    struct learn_host *const *b = pb;
    int c = strcmp((*a)->name, (*b)->name);
    return c != 0 ? c : compare_hosts(*a, *b);
}

static const struct learn_host *find_host(const struct learn_host *hosts, size_t count,
                                          const struct net_prefix *prefix)
{
    struct learn_host key = {.prefix = *prefix};
    return bsearch(&key, hosts, count, sizeof(*hosts), compare_hosts);
}

/* "10.10.2.5" -> "10-10-2-5", "fd00::5" -> "fd00--5"; trailing dashes
 * dropped ("2001:db8:1:2::" -> "2001-db8-1-2"). */
static void address_label(const struct net_addr *addr, char *out, size_t len)
{
    net_addr_format(addr, out, len);
    for (char *p = out; *p != '\0'; p++) {
        if (*p == '.' || *p == ':')
            *p = '-';
    }
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '-')
        out[--n] = '\0';
}

/* A lower-case label from the application the host serves, "host" when
 * the device never used a named service on it. */
static void role_label(const char *app, char *out, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; app[i] != '\0' && n + 1 < len && n < LEARN_HOST_PREFIX_MAX; i++) {
        char c = app[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            out[n++] = c;
        else if (n > 0 && out[n - 1] != '-')
            out[n++] = '-';
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    out[n] = '\0';
    if (n == 0 || (out[0] >= '0' && out[0] <= '9'))
        snprintf(out, len, "host");
}

/* The application the device used on the host as a server, in flow order. */
static const char *host_role_app(const struct learn_service *services, size_t count,
                                 const struct net_prefix *prefix)
{
    for (size_t i = 0; i < count; i++) {
        if (services[i].outbound && !services[i].peer_is_device &&
            compare_prefix(&services[i].peer, prefix) == 0 && service_app(&services[i])[0] != '\0')
            return service_app(&services[i]);
    }
    return "";
}

static void name_host(struct learn_host *host, const struct learn_service *services, size_t count)
{
    char label[NET_ADDR_TEXT_MAX];
    address_label(&host->prefix.addr, label, sizeof(label));
    if (host->prefix.bits != family_bits(host->prefix.addr.family)) {
        snprintf(host->name, sizeof(host->name), "net-%s-%u", label, host->prefix.bits);
        return;
    }
    char role[LEARN_HOST_PREFIX_MAX + 1];
    role_label(host_role_app(services, count, &host->prefix), role, sizeof(role));
    snprintf(host->name, sizeof(host->name), "%s-%s", role, label);
}

/* Makes every name unique (and distinct from the device's) by suffixing
 * "-1", "-2"... to each name of a clash, in address order: the labels rarely
 * collide, but the matrix refuses a name defined twice. */
static bool dedupe_host_names(struct learn_host *hosts, size_t count, const char *device_name)
{
    struct learn_host **order = malloc((count + 1) * sizeof(*order));
    if (order == NULL)
        return false;
    for (size_t i = 0; i < count; i++)
        order[i] = &hosts[i];
    qsort(order, count, sizeof(*order), compare_host_names);
    size_t begin = 0;
    while (begin < count) {
        size_t end = begin + 1;
        while (end < count && strcmp(order[end]->name, order[begin]->name) == 0)
            end++;
        if (end - begin > 1 || strcmp(order[begin]->name, device_name) == 0) {
            for (size_t i = begin; i < end; i++) {
                char base[LEARN_NAME_MAX];
                snprintf(base, sizeof(base), "%.50s", order[i]->name);
                snprintf(order[i]->name, sizeof(order[i]->name), "%.50s-%u", base,
                         (unsigned)(i - begin + 1));
            }
        }
        begin = end;
    }
    free(order);
    return true;
}

/* The hosts the services name, sorted by prefix, each named once. */
static struct learn_host *build_hosts(const struct learner *learner,
                                      const struct learn_service *services, size_t count,
                                      size_t *host_count)
{
    struct learn_host *hosts = calloc(count + 1, sizeof(*hosts));
    if (hosts == NULL)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        if (!services[i].peer_is_device)
            hosts[n++].prefix = services[i].peer;
    }
    qsort(hosts, n, sizeof(*hosts), compare_hosts);
    size_t unique = 0;
    for (size_t i = 0; i < n; i++) {
        if (unique == 0 || compare_prefix(&hosts[unique - 1].prefix, &hosts[i].prefix) != 0)
            hosts[unique++] = hosts[i];
    }
    for (size_t i = 0; i < unique; i++)
        name_host(&hosts[i], services, count);
    if (!dedupe_host_names(hosts, unique, learner->device_name)) {
        free(hosts);
        return NULL;
    }
    *host_count = unique;
    return hosts;
}

/* ---- JSON text ---------------------------------------------------------- */

static bool text_reserve(struct text *text, size_t more)
{
    if (text->failed)
        return false;
    if (text->len + more + 1 <= text->capacity)
        return true;
    size_t capacity = text->capacity == 0 ? 4096 : text->capacity;
    while (capacity < text->len + more + 1)
        capacity *= 2;
    char *data = realloc(text->data, capacity);
    if (data == NULL) {
        text->failed = true;
        return false;
    }
    text->data = data;
    text->capacity = capacity;
    return true;
}

static void text_append(struct text *text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void text_append(struct text *text, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    if (n < 0 || !text_reserve(text, (size_t)n)) {
        text->failed = true;
        return;
    }
    va_start(args, fmt);
    vsnprintf(text->data + text->len, (size_t)n + 1, fmt, args);
    va_end(args);
    text->len += (size_t)n;
}

/* Appends `value` as a JSON string (quotes, backslashes and control
 * characters escaped; other bytes as given, for the loader to judge). */
static void text_string(struct text *text, const char *value)
{
    text_append(text, "\"");
    for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            text_append(text, "\\%c", *p);
        else if (*p < 0x20)
            text_append(text, "\\u%04x", *p);
        else
            text_append(text, "%c", *p);
    }
    text_append(text, "\"");
}

static void format_minute(uint64_t usec, char *out, size_t len)
{
    time_t seconds = (time_t)(usec / 1000000u);
    struct tm tm;
    if (gmtime_r(&seconds, &tm) == NULL || strftime(out, len, "%Y-%m-%dT%H:%MZ", &tm) == 0)
        snprintf(out, len, "unknown");
}

/* Appends to a fixed buffer, never past its end (a cut text stays valid). */
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
    if (*used + 1 >= len)
        return;
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(buf + *used, len - *used, fmt, args);
    va_end(args);
    if (n > 0)
        *used = *used + (size_t)n < len ? *used + (size_t)n : len - 1;
}

/* "learned: 12 connections, HTTP, 2026-11-24T05:02Z..2026-11-24T07:10Z,
 * ..., review before use", with what a reviewer must know. */
static void describe(const struct learn_service *service, char *out, size_t len)
{
    char first[32];
    char last[32];
    format_minute(service->totals.first_usec, first, sizeof(first));
    format_minute(service->totals.last_usec, last, sizeof(last));
    size_t used = 0;
    out[0] = '\0';
    append(out, len, &used, "learned: %llu connection%s, ",
           (unsigned long long)service->totals.connections,
           service->totals.connections == 1 ? "" : "s");
    for (size_t i = 0; i < service->app_count; i++)
        append(out, len, &used, "%s%s", i > 0 ? "/" : "", service->apps[i]);
    if (service->apps_more)
        append(out, len, &used, "/...");
    if (service->app_count == 0)
        append(out, len, &used, "application not identified");
    append(out, len, &used, ", %s..%s", first, last);
    if (service->hosts > 1) {
        char network[NET_ADDR_TEXT_MAX + 4];
        net_prefix_format(&service->peer, network, sizeof(network));
        append(out, len, &used, ", %zu hosts of %s", service->hosts, network);
    }
    if (service->dynamic)
        append(out, len, &used, ", dynamic server ports (%zu seen, e.g. FTP passive or RPC)",
               service->dynamic_ports);
    if (!has_ports(service->ip_proto) && !is_icmp(service->ip_proto))
        append(out, len, &used, ", IP protocol %u (\"any\" covers every protocol)",
               service->ip_proto);
    const char *separator = ", seen: ";
    for (unsigned k = 0; k < PROTECTION_KIND_COUNT; k++) {
        if ((service->totals.protection & (1u << k)) != 0) {
            append(out, len, &used, "%s%s", separator, protection_name(1u << k));
            separator = " + ";
        }
    }
    append(out, len, &used, ", review before use");
}

static void write_port(struct text *text, const struct learn_service *service)
{
    if (!has_ports(service->ip_proto))
        return;
    if (service->port_low == service->port_high)
        text_append(text, ", \"port\": %u", service->port_low);
    else
        text_append(text, ", \"port\": \"%u-%u\"", service->port_low, service->port_high);
}

static const char *proto_keyword(uint8_t ip_proto)
{
    if (ip_proto == IP_PROTO_TCP)
        return "tcp";
    if (ip_proto == IP_PROTO_UDP)
        return "udp";
    return is_icmp(ip_proto) ? "icmp" : "any";
}

static void write_flow(struct text *text, const struct learn_service *service, size_t index,
                       const struct learn_host *hosts, size_t host_count)
{
    const char *peer = "device";
    if (!service->peer_is_device) {
        const struct learn_host *host = find_host(hosts, host_count, &service->peer);
        peer = host != NULL ? host->name : "device"; /* always found: hosts come from services */
    }
    char description[LEARN_TEXT_MAX];
    describe(service, description, sizeof(description));
    text_append(text, "%s\n        { \"id\": \"L%03zu\", \"description\": ", index > 0 ? "," : "",
                index + 1);
    text_string(text, description);
    text_append(text, ",\n          \"from\": ");
    text_string(text, service->outbound ? "device" : peer);
    text_append(text, ", \"to\": ");
    text_string(text, service->outbound ? peer : "device");
    text_append(text, ", \"proto\": \"%s\"", proto_keyword(service->ip_proto));
    write_port(text, service);
    if (service_app(service)[0] != '\0') {
        text_append(text, ", \"app\": ");
        text_string(text, service_app(service));
    }
    text_append(text, ",\n          \"encryption\": \"%s\", \"internet\": %s }",
                protection_encryption(service->totals.protection),
                service->peer_public ? "true" : "false");
}

static void write_hosts(struct text *text, const struct learn_host *hosts, size_t count)
{
    if (count == 0)
        return;
    text_append(text, "  \"hosts\": {");
    for (size_t i = 0; i < count; i++) {
        char prefix[NET_ADDR_TEXT_MAX + 4];
        net_prefix_format(&hosts[i].prefix, prefix, sizeof(prefix));
        text_append(text, "%s\n    ", i > 0 ? "," : "");
        text_string(text, hosts[i].name);
        text_append(text, ": [\"%s\"]", prefix);
    }
    text_append(text, "\n  },\n");
}

static void write_device(struct text *text, const struct learner *learner,
                         const struct learn_service *services, size_t count,
                         const struct learn_host *hosts, size_t host_count)
{
    text_append(text, "  \"devices\": [\n    {\n      \"name\": ");
    text_string(text, learner->device_name);
    text_append(text, ",\n      \"addresses\": [");
    for (size_t i = 0; i < learner->prefix_count; i++) {
        char prefix[NET_ADDR_TEXT_MAX + 4];
        net_prefix_format(&learner->prefixes[i], prefix, sizeof(prefix));
        text_append(text, "%s\"%s\"", i > 0 ? ", " : "", prefix);
    }
    for (size_t i = 0; i < learner->mac_count; i++) {
        char mac[MAC_TEXT_MAX];
        mac_addr_format(&learner->macs[i], mac, sizeof(mac));
        text_append(text, "%s\"%s\"", i + learner->prefix_count > 0 ? ", " : "", mac);
    }
    text_append(text, "],\n      \"flows\": [");
    for (size_t i = 0; i < count; i++)
        write_flow(text, &services[i], i, hosts, host_count);
    text_append(text, "%s]\n    }\n  ]\n}\n", count > 0 ? "\n      " : "");
}

static void write_document(struct text *text, const struct learner *learner,
                           const struct learn_service *services, size_t count,
                           const struct learn_host *hosts, size_t host_count)
{
    text_append(text, "{\n  \"format\": \"%s\",\n  \"site\": ", MATRIX_FORMAT);
    char site[LEARN_TEXT_MAX];
    if (learner->site != NULL)
        snprintf(site, sizeof(site), "DRAFT (learned from captures, review every flow): %s",
                 learner->site);
    else
        snprintf(site, sizeof(site), "DRAFT (learned from captures, review every flow)");
    text_string(text, site);
    text_append(text, ",\n");
    if (learner->timezone != NULL) {
        text_append(text, "  \"timezone\": ");
        text_string(text, learner->timezone);
        text_append(text, ",\n");
    }
    write_hosts(text, hosts, host_count);
    write_device(text, learner, services, count, hosts, host_count);
}

/* ---- writing ------------------------------------------------------------ */

/* Loads the rendered draft with the matrix loader; false with its first
 * error in `err` when it would not load. */
static bool draft_loads(const struct text *text, char *err, size_t err_len)
{
    struct diag diag;
    diag_init(&diag);
    struct matrix *matrix = matrix_parse_json("draft", text->data, text->len, &diag);
    bool ok = matrix != NULL;
    if (!ok) {
        char first[512] = "no diagnostic";
        if (diag.count > 0)
            diag_format(&diag, 0, first, sizeof(first));
        snprintf(err, err_len, "the draft matrix would not load: %s", first);
    }
    matrix_free(matrix);
    diag_free(&diag);
    return ok;
}

/* Renders the draft into `text`; false with the reason in `err`. */
static bool render(const struct learner *learner, struct text *text, char *err, size_t err_len)
{
    size_t count = 0;
    struct learn_service *services = build_services(learner, &count);
    if (services == NULL) {
        snprintf(err, err_len, "out of memory");
        return false;
    }
    /* Checked before naming hosts, which is quadratic in the flows. One
     * flow names one host, so the hosts are within the limit too. */
    if (count > LEARN_MAX_FLOWS) {
        snprintf(err, err_len,
                 "%zu flows learned, a matrix device has at most %d: group more peers "
                 "(a lower subnet_group_min) or learn from fewer captures",
                 count, LEARN_MAX_FLOWS);
        free(services);
        return false;
    }
    size_t host_count = 0;
    struct learn_host *hosts = build_hosts(learner, services, count, &host_count);
    bool ok = hosts != NULL;
    if (ok)
        write_document(text, learner, services, count, hosts, host_count);
    if (!ok || text->failed) {
        snprintf(err, err_len, "out of memory");
        ok = false;
    }
    free(hosts);
    free(services);
    return ok;
}

bool learner_write_json(const struct learner *learner, FILE *out, char *err, size_t err_len)
{
    if (learner->stats.dropped > 0) {
        snprintf(err, err_len,
                 "%llu observations were dropped past %d distinct flows: the draft would "
                 "miss them",
                 (unsigned long long)learner->stats.dropped, LEARN_MAX_ENTRIES);
        return false;
    }
    struct text text = {0};
    bool ok = render(learner, &text, err, err_len) && draft_loads(&text, err, err_len);
    if (ok &&
        (fwrite(text.data, 1, text.len, out) != text.len || fflush(out) != 0 || ferror(out))) {
        snprintf(err, err_len, "cannot write the draft matrix");
        ok = false;
    }
    free(text.data);
    return ok;
}
