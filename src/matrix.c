/* matrix: the `fluxaudit-matrix/1` JSON flow matrix, loaded and validated.
 *
 * The loader checks everything before returning and reports every error it
 * finds at the file:line:column of the offending value (docs/matrix.md lists
 * them). It fills the model as it goes, with every array allocated at its
 * final size and zeroed, so matrix_free can release a half-built model on
 * any error path; the model is handed out only if no error was recorded. */
#include "fluxaudit/matrix.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fluxaudit/window.h"
#include "matrix_build.h"
#include "util/file.h"
#include "util/json_locate.h"

#define MATRIX_NAME_MAX 64  /* bytes of a host/device name or flow id */
#define MATRIX_TEXT_MAX 512 /* bytes of a free text field */
#define MATRIX_MAX_DEVICES 4096
#define MATRIX_MAX_HOSTS 4096
#define MATRIX_MAX_FLOWS 1024    /* per device */
#define MATRIX_MAX_ADDRESSES 256 /* per device or host */
#define MATRIX_MAX_INTERNAL 256
#define MATRIX_MAX_PORT_ITEMS 64 /* ports or ranges in one "port" */
#define MATRIX_ZONEINFO "/usr/share/zoneinfo"
#define DESCRIBE_MAX 64

/* Names of the `from`/`to` keywords; never valid as host or device names. */
static const char *const reserved_names[] = {"device", "internet", "any"};

static const char *const top_keys[] = {"format",   "site",  "timezone",
                                       "internal", "hosts", "devices"};
static const char *const device_keys[] = {"name",     "vendor",    "model",
                                          "location", "addresses", "flows"};
static const char *const flow_keys[] = {"id",  "description", "from",     "to",     "proto", "port",
                                        "app", "encryption",  "internet", "window", "waiver"};

static const char *const proto_names[] = {[MATRIX_PROTO_ANY] = "any",
                                          [MATRIX_PROTO_TCP] = "tcp",
                                          [MATRIX_PROTO_UDP] = "udp",
                                          [MATRIX_PROTO_ICMP] = "icmp"};

static const char *const encryption_names[] = {
    [MATRIX_ENCRYPTION_NONE] = "none",    [MATRIX_ENCRYPTION_TLS12] = "tls1.2+",
    [MATRIX_ENCRYPTION_TLS13] = "tls1.3", [MATRIX_ENCRYPTION_SSH] = "ssh",
    [MATRIX_ENCRYPTION_IPSEC] = "ipsec",  [MATRIX_ENCRYPTION_DTLS12] = "dtls1.2+",
    [MATRIX_ENCRYPTION_SNMPV3] = "snmpv3"};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* A host or device name, for uniqueness and `from`/`to` resolution. */
struct name_entry {
    const char *name;
    bool is_device;
    size_t index;
    const cJSON *node; /* the name's value, for "first defined at" */
};

struct loader {
    struct json_reporter report;
    struct matrix *matrix;
    struct name_entry *names; /* sorted by name */
    size_t name_count;
};

/* ---------------------------------------------------------------- errors */

static void error_oom(struct loader *l, const cJSON *node)
{
    json_report_error(&l->report, node, "out of memory");
}

/* ---------------------------------------------------------------- text */

static char *copy_text(struct loader *l, const cJSON *node, const char *text)
{
    char *copy = strdup(text);
    if (copy == NULL)
        error_oom(l, node);
    return copy;
}

/* True if `text` has no C0/C1 control character nor DEL: such bytes would
 * corrupt the terminal, CSV and syslog outputs the text ends up in. Input
 * is valid UTF-8 already (json_locate checked it). */
static bool text_is_clean(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    for (; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7F)
            return false;
        if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
            return false;
    }
    return true;
}

static bool text_is_blank(const char *text)
{
    for (; *text != '\0'; text++) {
        if (!isspace((unsigned char)*text))
            return false;
    }
    return true;
}

/* Checks a string value of at most `max` bytes, non-blank when
 * `non_empty`. Returns its text, or NULL after reporting. */
static const char *check_string(struct loader *l, const char *key, const cJSON *node, size_t max,
                                bool non_empty, const char *what)
{
    if (!cJSON_IsString(node)) {
        json_report_expected(&l->report, key, node, what);
        return NULL;
    }
    const char *text = node->valuestring;
    size_t len = strlen(text);
    if (len > max) {
        json_report_error(&l->report, node, "\"%s\": too long (%zu bytes, at most %zu)", key, len,
                          max);
        return NULL;
    }
    if (!text_is_clean(text)) {
        json_report_error(&l->report, node, "\"%s\": control characters are not allowed", key);
        return NULL;
    }
    if (non_empty && text_is_blank(text)) {
        json_report_error(&l->report, node, "\"%s\": expected %s, got a blank string", key, what);
        return NULL;
    }
    return text;
}

/* Copies an optional free-text member into *out (left NULL when absent). */
static void optional_text(struct loader *l, const cJSON *object, const char *key, bool non_empty,
                          const char *what, char **out)
{
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(object, key);
    if (node == NULL)
        return;
    const char *text = check_string(l, key, node, MATRIX_TEXT_MAX, non_empty, what);
    if (text != NULL)
        *out = copy_text(l, node, text);
}

static bool keyword_equals(const char *text, const char *keyword)
{
    return strcasecmp(text, keyword) == 0;
}

/* ---------------------------------------------------------------- syntax */

/* A DNS name as written in a matrix: an optional "*." then at least two
 * dot-separated labels of letters, digits, '-' and '_' (1-63 bytes, no '-'
 * at either end), at most 253 bytes, the last label not all digits (so a
 * mistyped IPv4 address is not taken for a name). */
static bool dns_name_valid(const char *text)
{
    if (strncmp(text, "*.", 2) == 0)
        text += 2;
    size_t len = strlen(text);
    if (len == 0 || len > 253)
        return false;
    size_t labels = 0;
    const char *label = text;
    for (;;) {
        const char *dot = strchr(label, '.');
        size_t n = dot ? (size_t)(dot - label) : strlen(label);
        if (n == 0 || n > 63 || label[0] == '-' || label[n - 1] == '-')
            return false;
        bool digits_only = true;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)label[i];
            if (!isalnum(c) && c != '-' && c != '_')
                return false;
            if (!isdigit(c))
                digits_only = false;
        }
        labels++;
        if (dot == NULL)
            return labels >= 2 && !digits_only;
        label = dot + 1;
    }
}

static char *lower_copy(struct loader *l, const cJSON *node, const char *text)
{
    char *copy = copy_text(l, node, text);
    for (char *p = copy; p != NULL && *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    return copy;
}

/* True if `text` looks like an attempt at an address, so a parse failure
 * deserves an address message rather than a name one. */
static bool looks_like_address(const char *text)
{
    if (strchr(text, '/') != NULL || strchr(text, ':') != NULL)
        return true;
    for (const char *p = text; *p != '\0'; p++) {
        if (!isdigit((unsigned char)*p) && *p != '.')
            return false;
    }
    return strchr(text, '.') != NULL;
}

/* Parses one port number of 1-5 digits into 1..65535. */
static bool parse_port_number(const char **cursor, uint16_t *out)
{
    const char *p = *cursor;
    unsigned long value = 0;
    size_t digits = 0;
    while (isdigit((unsigned char)*p) && digits < 6) {
        value = value * 10 + (unsigned long)(*p - '0');
        p++;
        digits++;
    }
    if (digits == 0 || digits > 5 || value < 1 || value > 65535)
        return false;
    *out = (uint16_t)value;
    *cursor = p;
    return true;
}

static void skip_spaces(const char **cursor)
{
    while (**cursor == ' ')
        (*cursor)++;
}

/* Parses "N", "A-B" and comma lists of them (spaces allowed around items)
 * into `out` (room for MATRIX_MAX_PORT_ITEMS). Returns the item count, 0 on
 * a syntax error, or -1 for a reversed range, -2 for too many items. */
static int parse_port_list(const char *text, struct port_range *out)
{
    const char *p = text;
    int count = 0;
    for (;;) {
        skip_spaces(&p);
        struct port_range range;
        if (!parse_port_number(&p, &range.low))
            return 0;
        range.high = range.low;
        skip_spaces(&p);
        if (*p == '-') {
            p++;
            skip_spaces(&p);
            if (!parse_port_number(&p, &range.high))
                return 0;
            if (range.high < range.low)
                return -1;
            skip_spaces(&p);
        }
        if (count == MATRIX_MAX_PORT_ITEMS)
            return -2;
        out[count++] = range;
        if (*p == '\0')
            return count;
        if (*p != ',')
            return 0;
        p++;
    }
}

/* ---------------------------------------------------------------- sections */

static void load_format(struct loader *l, const cJSON *root)
{
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (node == NULL) {
        json_report_error(&l->report, root, "missing \"format\": expected \"format\": \"%s\"",
                          MATRIX_FORMAT);
        return;
    }
    if (!cJSON_IsString(node) || strcmp(node->valuestring, MATRIX_FORMAT) != 0)
        json_report_expected(&l->report, "format", node, "\"" MATRIX_FORMAT "\"");
}

/* The time zone must name a zoneinfo file; checked only where the system
 * has a zoneinfo database, never outside it ("..", absolute paths). */
static void load_timezone(struct loader *l, const cJSON *root)
{
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(root, "timezone");
    if (node == NULL)
        return;
    const char *what = "an IANA time zone name such as \"Europe/Paris\"";
    const char *text = check_string(l, "timezone", node, 64, true, what);
    if (text == NULL)
        return;
    bool shape_ok = text[0] != '/' && strstr(text, "..") == NULL;
    for (const char *p = text; *p != '\0' && shape_ok; p++)
        shape_ok = isalnum((unsigned char)*p) || strchr("/_+-", *p) != NULL;
    struct stat st;
    bool known = shape_ok;
    if (shape_ok && stat(MATRIX_ZONEINFO, &st) == 0 && S_ISDIR(st.st_mode)) {
        char path[sizeof(MATRIX_ZONEINFO) + 80];
        snprintf(path, sizeof(path), "%s/%s", MATRIX_ZONEINFO, text);
        known = stat(path, &st) == 0 && S_ISREG(st.st_mode);
    }
    if (!known) {
        char got[DESCRIBE_MAX];
        json_locate_describe(node, got, sizeof(got));
        json_report_error(&l->report, node, "\"timezone\": unknown time zone %s: expected %s", got,
                          what);
        return;
    }
    l->matrix->timezone = copy_text(l, node, text);
}

static void load_internal(struct loader *l, const cJSON *root)
{
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(root, "internal");
    if (node == NULL)
        return;
    const char *what = "an array of networks such as [\"10.0.0.0/8\"]";
    if (!cJSON_IsArray(node)) {
        json_report_expected(&l->report, "internal", node, what);
        return;
    }
    int n = cJSON_GetArraySize(node);
    if (n == 0) {
        json_report_error(&l->report, node,
                          "\"internal\": expected at least one network (omit \"internal\" to "
                          "use the defaults)");
        return;
    }
    if (n > MATRIX_MAX_INTERNAL) {
        json_report_error(&l->report, node, "\"internal\": too many networks (%d, at most %d)", n,
                          MATRIX_MAX_INTERNAL);
        return;
    }
    struct matrix *m = l->matrix;
    m->internal = calloc((size_t)n, sizeof(*m->internal));
    if (m->internal == NULL) {
        error_oom(l, node);
        return;
    }
    m->has_internal = true;
    const cJSON *item;
    cJSON_ArrayForEach (item, node) {
        const char *expect = "an IPv4 or IPv6 network in CIDR notation (host bits zero), "
                             "e.g. \"10.0.0.0/8\"";
        if (!cJSON_IsString(item) ||
            !net_prefix_parse(item->valuestring, &m->internal[m->internal_count])) {
            json_report_expected(&l->report, "internal", item, expect);
            continue;
        }
        m->internal_count++;
    }
}

/* Checks a host or device name: 1-64 bytes of clean text, no blank at
 * either end, neither a `from`/`to` keyword nor an address (either would
 * make `from`/`to` ambiguous). `node` is the name's value, or for a host
 * the member whose key is the name (then errors point at the key). */
static bool check_name(struct loader *l, const char *key, const char *text, const cJSON *node,
                       bool at_key)
{
    char q[DESCRIBE_MAX];
    const char *problem = NULL;
    size_t len = strlen(text);
    if (len == 0 || text_is_blank(text))
        problem = "a name must not be empty";
    else if (len > MATRIX_NAME_MAX)
        problem = "a name must be at most 64 bytes long";
    else if (!text_is_clean(text))
        problem = "a name must not contain control characters";
    else if (isspace((unsigned char)text[0]) || isspace((unsigned char)text[len - 1]))
        problem = "a name must not start or end with a space";
    for (size_t i = 0; problem == NULL && i < COUNT_OF(reserved_names); i++) {
        if (keyword_equals(text, reserved_names[i]))
            problem = "this word is reserved for \"from\" and \"to\", choose another name";
    }
    struct net_prefix prefix;
    struct mac_addr mac;
    if (problem == NULL && (net_prefix_parse(text, &prefix) || mac_addr_parse(text, &mac)))
        problem = "an address cannot be a name, choose another name";
    if (problem == NULL)
        return true;
    if (at_key)
        json_report_error_at_key(&l->report, node, "\"%s\": invalid name %s: %s", key,
                                 json_locate_quote(text, q, sizeof(q)), problem);
    else
        json_report_error(&l->report, node, "\"%s\": invalid name %s: %s", key,
                          json_locate_quote(text, q, sizeof(q)), problem);
    return false;
}

/* One entry of a host: an address, a CIDR or a DNS name. */
static void load_host_entry(struct loader *l, struct matrix_host *host, const char *key,
                            const cJSON *item)
{
    const char *what = "an IP address, a CIDR or a DNS name";
    const char *text = check_string(l, key, item, MATRIX_TEXT_MAX, true, what);
    if (text == NULL)
        return;
    if (net_prefix_parse(text, &host->prefixes[host->prefix_count])) {
        host->prefix_count++;
        return;
    }
    if (!looks_like_address(text) && dns_name_valid(text)) {
        char *name = lower_copy(l, item, text);
        if (name != NULL)
            host->dns_names[host->dns_name_count++] = name;
        return;
    }
    json_report_expected(&l->report, key, item, what);
}

static void load_host(struct loader *l, struct matrix_host *host, const cJSON *member)
{
    if (check_name(l, "hosts", member->string, member, true))
        host->name = copy_text(l, member, member->string);
    const char *what = "an array of IP addresses, CIDRs or DNS names";
    if (!cJSON_IsArray(member)) {
        json_report_expected(&l->report, member->string, member, what);
        return;
    }
    int n = cJSON_GetArraySize(member);
    if (n == 0 || n > MATRIX_MAX_ADDRESSES) {
        json_report_expected(&l->report, member->string, member,
                             "1 to 256 IP addresses, CIDRs or DNS names");
        return;
    }
    host->prefixes = calloc((size_t)n, sizeof(*host->prefixes));
    host->dns_names = calloc((size_t)n, sizeof(*host->dns_names));
    if (host->prefixes == NULL || host->dns_names == NULL) {
        error_oom(l, member);
        return;
    }
    const cJSON *item;
    cJSON_ArrayForEach (item, member) {
        load_host_entry(l, host, member->string, item);
    }
}

static void load_hosts(struct loader *l, const cJSON *root)
{
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(root, "hosts");
    if (node == NULL)
        return;
    if (!cJSON_IsObject(node)) {
        json_report_expected(&l->report, "hosts", node,
                             "an object mapping host names to address lists");
        return;
    }
    int n = cJSON_GetArraySize(node);
    if (n > MATRIX_MAX_HOSTS) {
        json_report_error(&l->report, node, "\"hosts\": too many hosts (%d, at most %d)", n,
                          MATRIX_MAX_HOSTS);
        return;
    }
    if (n == 0)
        return;
    struct matrix *m = l->matrix;
    m->hosts = calloc((size_t)n, sizeof(*m->hosts));
    if (m->hosts == NULL) {
        error_oom(l, node);
        return;
    }
    m->host_count = (size_t)n;
    size_t i = 0;
    const cJSON *member;
    cJSON_ArrayForEach (member, node) {
        load_host(l, &m->hosts[i++], member);
    }
}

/* One device address: an IP address or CIDR, or a MAC address. */
static void load_device_address(struct loader *l, struct matrix_device *device, const cJSON *item)
{
    const char *what = "an IPv4 or IPv6 address (optionally a CIDR) or a MAC address";
    const char *text = check_string(l, "addresses", item, MATRIX_TEXT_MAX, true, what);
    if (text == NULL)
        return;
    if (mac_addr_parse(text, &device->macs[device->mac_count])) {
        device->mac_count++;
    } else if (net_prefix_parse(text, &device->prefixes[device->prefix_count])) {
        device->prefix_count++;
    } else {
        json_report_expected(&l->report, "addresses", item, what);
        return;
    }
    device->address_texts[device->address_count] = copy_text(l, item, text);
    if (device->address_texts[device->address_count] != NULL)
        device->address_count++;
}

static void load_device_addresses(struct loader *l, struct matrix_device *device,
                                  const cJSON *object)
{
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(object, "addresses");
    if (node == NULL) {
        json_report_error(&l->report, object,
                          "missing required key \"addresses\" in device (expected the "
                          "device's IP and/or MAC addresses)");
        return;
    }
    int n = cJSON_IsArray(node) ? cJSON_GetArraySize(node) : 0;
    if (n == 0 || n > MATRIX_MAX_ADDRESSES) {
        json_report_expected(&l->report, "addresses", node,
                             "an array of 1 to 256 IP, CIDR or MAC addresses");
        return;
    }
    device->prefixes = calloc((size_t)n, sizeof(*device->prefixes));
    device->macs = calloc((size_t)n, sizeof(*device->macs));
    device->address_texts = calloc((size_t)n, sizeof(*device->address_texts));
    if (device->prefixes == NULL || device->macs == NULL || device->address_texts == NULL) {
        error_oom(l, node);
        return;
    }
    const cJSON *item;
    cJSON_ArrayForEach (item, node) {
        load_device_address(l, device, item);
    }
}

/* Everything of a device but its flows, which need every name first. */
static void load_device(struct loader *l, struct matrix_device *device, const cJSON *object)
{
    if (!cJSON_IsObject(object)) {
        json_report_expected(&l->report, "devices", object, "an object describing one device");
        return;
    }
    json_report_unknown_keys(&l->report, object, device_keys, COUNT_OF(device_keys), "device");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(object, "name");
    if (name == NULL) {
        json_report_error(&l->report, object,
                          "missing required key \"name\" in device (expected a unique "
                          "device name)");
    } else if (!cJSON_IsString(name)) {
        json_report_expected(&l->report, "name", name, "a device name");
    } else if (check_name(l, "name", name->valuestring, name, false)) {
        device->name = copy_text(l, name, name->valuestring);
    }
    optional_text(l, object, "vendor", false, "a string", &device->vendor);
    optional_text(l, object, "model", false, "a string", &device->model);
    optional_text(l, object, "location", false, "a string", &device->location);
    load_device_addresses(l, device, object);
    const cJSON *flows = cJSON_GetObjectItemCaseSensitive(object, "flows");
    if (flows == NULL)
        return;
    int n = cJSON_IsArray(flows) ? cJSON_GetArraySize(flows) : -1;
    if (n < 0 || n > MATRIX_MAX_FLOWS) {
        json_report_expected(&l->report, "flows", flows, "an array of at most 1024 flow objects");
        return;
    }
    if (n == 0)
        return;
    device->flows = calloc((size_t)n, sizeof(*device->flows));
    if (device->flows == NULL) {
        error_oom(l, flows);
        return;
    }
    device->flow_count = (size_t)n;
}

/* ---------------------------------------------------------------- names */

static int name_compare(const void *a, const void *b)
{
    const struct name_entry *x = a, *y = b;
    int by_name = strcmp(x->name, y->name);
    if (by_name != 0)
        return by_name;
    /* Hosts before devices, then file order: the first definition wins. */
    if (x->is_device != y->is_device)
        return x->is_device ? 1 : -1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static const cJSON *device_name_node(const cJSON *devices, size_t index)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(devices, (int)index), "name");
}

/* Builds the sorted name table of hosts and devices and reports names
 * defined twice (at the second definition). */
static void index_names(struct loader *l, const cJSON *hosts, const cJSON *devices)
{
    const struct matrix *m = l->matrix;
    size_t total = m->host_count + m->device_count;
    if (total == 0)
        return;
    l->names = calloc(total, sizeof(*l->names));
    if (l->names == NULL) {
        error_oom(l, devices);
        return;
    }
    for (size_t i = 0; i < m->host_count; i++) {
        if (m->hosts[i].name != NULL)
            l->names[l->name_count++] =
                (struct name_entry){m->hosts[i].name, false, i, cJSON_GetArrayItem(hosts, (int)i)};
    }
    for (size_t i = 0; i < m->device_count; i++) {
        if (m->devices[i].name != NULL)
            l->names[l->name_count++] =
                (struct name_entry){m->devices[i].name, true, i, device_name_node(devices, i)};
    }
    qsort(l->names, l->name_count, sizeof(*l->names), name_compare);
    for (size_t i = 1; i < l->name_count; i++) {
        const struct name_entry *first = &l->names[i - 1], *again = &l->names[i];
        if (strcmp(first->name, again->name) != 0)
            continue;
        while (first > l->names && strcmp(first[-1].name, again->name) == 0)
            first--;
        int line, col;
        if (first->is_device)
            json_locate_find(l->report.locations, first->node, &line, &col);
        else
            json_locate_find_key(l->report.locations, first->node, &line, &col);
        char q[DESCRIBE_MAX];
        const char *what = again->is_device ? "device" : "host";
        const char *first_what = first->is_device ? "device" : "host";
        if (again->is_device)
            json_report_error(&l->report, again->node,
                              "\"name\": %s name %s is already used by the %s defined "
                              "at line %d, column %d",
                              what, json_locate_quote(again->name, q, sizeof(q)), first_what, line,
                              col);
        else
            json_report_error_at_key(&l->report, again->node,
                                     "\"hosts\": %s name %s is already used by the %s "
                                     "defined at line %d, column %d",
                                     what, json_locate_quote(again->name, q, sizeof(q)), first_what,
                                     line, col);
    }
}

static const struct name_entry *find_name(const struct loader *l, const char *name)
{
    for (size_t lo = 0, hi = l->name_count; lo < hi;) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(name, l->names[mid].name);
        if (cmp == 0) {
            /* Step back to the first definition of this name. */
            while (mid > 0 && strcmp(l->names[mid - 1].name, name) == 0)
                mid--;
            return &l->names[mid];
        }
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* The closest host or device name, for "did you mean". */
static const char *suggest_name(const struct loader *l, const char *word)
{
    /* Once no more diagnostics are kept, a suggestion would be computed
     * (against every name) for a message nobody sees. */
    if (l->name_count == 0 || l->report.diag->count >= DIAG_MAX)
        return NULL;
    const char **names = calloc(l->name_count, sizeof(*names));
    if (names == NULL)
        return NULL;
    for (size_t i = 0; i < l->name_count; i++)
        names[i] = l->names[i].name;
    const char *best = json_locate_suggest(word, names, l->name_count);
    free(names);
    return best;
}

/* ---------------------------------------------------------------- flows */

/* Resolves a `from`/`to` value. Order: keywords, host names, device names,
 * addresses, DNS names; anything else is an unknown name. */
static bool load_peer(struct loader *l, size_t device_index, const char *key, const cJSON *node,
                      struct matrix_peer *peer)
{
    const char *what = "\"device\", \"internet\", \"any\", a host or device name, an IP "
                       "address or CIDR, or a DNS name";
    const char *text = check_string(l, key, node, MATRIX_TEXT_MAX, true, what);
    if (text == NULL)
        return false;
    peer->text = copy_text(l, node, text);
    const struct name_entry *entry = find_name(l, text);
    char q[DESCRIBE_MAX];
    if (keyword_equals(text, "device")) {
        peer->kind = MATRIX_PEER_DEVICE;
    } else if (keyword_equals(text, "internet")) {
        peer->kind = MATRIX_PEER_INTERNET;
    } else if (keyword_equals(text, "any")) {
        peer->kind = MATRIX_PEER_ANY;
    } else if (entry != NULL && !entry->is_device) {
        peer->kind = MATRIX_PEER_HOST;
        peer->index = entry->index;
    } else if (entry != NULL) {
        /* Naming the flow's own device is the same as "device". */
        peer->kind = entry->index == device_index ? MATRIX_PEER_DEVICE : MATRIX_PEER_OTHER_DEVICE;
        peer->index = entry->index;
    } else if (net_prefix_parse(text, &peer->prefix)) {
        peer->kind = MATRIX_PEER_PREFIX;
    } else if (looks_like_address(text)) {
        json_report_error(&l->report, node,
                          "\"%s\": invalid IP address or CIDR %s (a CIDR must have its host "
                          "bits zero, e.g. \"10.1.0.0/16\")",
                          key, json_locate_quote(text, q, sizeof(q)));
        return false;
    } else if (dns_name_valid(text)) {
        peer->kind = MATRIX_PEER_DNS;
        peer->dns_name = lower_copy(l, node, text);
    } else {
        const char *hint = suggest_name(l, text);
        if (hint != NULL)
            json_report_error(&l->report, node,
                              "\"%s\": unknown host or device %s (did you mean \"%s\"?)", key,
                              json_locate_quote(text, q, sizeof(q)), hint);
        else
            json_report_error(&l->report, node, "\"%s\": unknown host or device %s: expected %s",
                              key, json_locate_quote(text, q, sizeof(q)), what);
        return false;
    }
    return true;
}

static bool parse_keyword(const char *text, const char *const *names, size_t count, int *out)
{
    for (size_t i = 0; i < count; i++) {
        if (keyword_equals(text, names[i])) {
            *out = (int)i;
            return true;
        }
    }
    return false;
}

/* Returns false if `proto` is invalid (then port rules are not checked). */
static bool load_proto(struct loader *l, struct matrix_flow *flow, const cJSON *object,
                       const char *flow_name)
{
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(object, "proto");
    if (node == NULL) {
        json_report_error(&l->report, object,
                          "missing required key \"proto\" in flow %s (expected \"tcp\", "
                          "\"udp\", \"icmp\" or \"any\")",
                          flow_name);
        return false;
    }
    int proto;
    if (!cJSON_IsString(node) ||
        !parse_keyword(node->valuestring, proto_names, COUNT_OF(proto_names), &proto)) {
        json_report_expected(&l->report, "proto", node, "\"tcp\", \"udp\", \"icmp\" or \"any\"");
        return false;
    }
    flow->proto = (enum matrix_proto)proto;
    return true;
}

static void load_port(struct loader *l, struct matrix_flow *flow, const cJSON *object,
                      const char *flow_name)
{
    const char *what = "a port (1-65535), a range \"A-B\", a list \"80,443\" or \"any\"";
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(object, "port");
    if (node == NULL) {
        flow->any_port = true;
        if (flow->proto == MATRIX_PROTO_TCP || flow->proto == MATRIX_PROTO_UDP)
            json_report_error(&l->report, object,
                              "missing required key \"port\" in flow %s (required for tcp "
                              "and udp: %s)",
                              flow_name, what);
        return;
    }
    struct port_range ranges[MATRIX_MAX_PORT_ITEMS];
    int count = 0;
    if (cJSON_IsNumber(node)) {
        double value = node->valuedouble;
        if (value >= 1 && value <= 65535 && value == (double)(long)value) {
            ranges[0].low = ranges[0].high = (uint16_t)value;
            count = 1;
        }
    } else if (cJSON_IsString(node) && keyword_equals(node->valuestring, "any")) {
        flow->any_port = true;
        return;
    } else if (cJSON_IsString(node)) {
        count = parse_port_list(node->valuestring, ranges);
    }
    char got[DESCRIBE_MAX];
    json_locate_describe(node, got, sizeof(got));
    if (count == -1) {
        json_report_error(&l->report, node,
                          "\"port\": invalid range %s: the first port must not be greater "
                          "than the second",
                          got);
        return;
    }
    if (count == -2) {
        json_report_error(&l->report, node,
                          "\"port\": too many items in %s (at most %d ports or ranges)", got,
                          MATRIX_MAX_PORT_ITEMS);
        return;
    }
    if (count <= 0) {
        json_report_expected(&l->report, "port", node, what);
        return;
    }
    if (flow->proto == MATRIX_PROTO_ICMP) {
        json_report_error(&l->report, node,
                          "\"port\": ICMP has no ports: remove \"port\" or write \"any\"");
        return;
    }
    flow->ports = calloc((size_t)count, sizeof(*flow->ports));
    if (flow->ports == NULL) {
        error_oom(l, node);
        return;
    }
    memcpy(flow->ports, ranges, (size_t)count * sizeof(*ranges));
    flow->port_count = (size_t)count;
}

static void load_encryption(struct loader *l, struct matrix_flow *flow, const cJSON *object)
{
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(object, "encryption");
    flow->encryption = MATRIX_ENCRYPTION_NONE;
    if (node == NULL)
        return;
    int value;
    if (!cJSON_IsString(node) ||
        !parse_keyword(node->valuestring, encryption_names, COUNT_OF(encryption_names), &value)) {
        json_report_expected(&l->report, "encryption", node,
                             "one of \"none\", \"tls1.2+\", \"tls1.3\", "
                             "\"ssh\", \"ipsec\", \"dtls1.2+\", \"snmpv3\"");
        return;
    }
    flow->encryption = (enum matrix_encryption)value;
}

/* `internet` must be true when a peer is the Internet itself: the flow is
 * then exposed by definition, and saying otherwise is a contradiction the
 * supplier must resolve. */
static void load_internet(struct loader *l, struct matrix_flow *flow, const cJSON *object,
                          const char *flow_name, bool peers_ok)
{
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(object, "internet");
    if (node != NULL && !cJSON_IsBool(node)) {
        json_report_expected(&l->report, "internet", node, "true or false");
        return;
    }
    flow->internet = node != NULL && cJSON_IsTrue(node);
    bool to_internet =
        flow->from.kind == MATRIX_PEER_INTERNET || flow->to.kind == MATRIX_PEER_INTERNET;
    if (peers_ok && to_internet && !flow->internet)
        json_report_error(&l->report, node != NULL ? node : object,
                          "flow %s has \"internet\" as a peer: it must "
                          "declare \"internet\": true",
                          flow_name);
}

/* Checks that no earlier flow of the device has the same id. */
static void check_flow_id(struct loader *l, const struct matrix_device *device, const cJSON *flows,
                          size_t index, const cJSON *id_node)
{
    const char *id = device->flows[index].id;
    for (size_t i = 0; i < index; i++) {
        if (device->flows[i].id == NULL || strcmp(device->flows[i].id, id) != 0)
            continue;
        const cJSON *first =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(flows, (int)i), "id");
        int line, col;
        json_locate_find(l->report.locations, first, &line, &col);
        char q[DESCRIBE_MAX];
        json_report_error(&l->report, id_node,
                          "\"id\": duplicate flow id %s in this device (first defined at "
                          "line %d, column %d)",
                          json_locate_quote(id, q, sizeof(q)), line, col);
        return;
    }
}

/* A window must parse (docs/matrix.md, "Time windows"); its error points
 * at the offending character inside the string. */
static void check_window(struct loader *l, const cJSON *object, const struct matrix_flow *flow)
{
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(object, "window");
    if (flow->window == NULL || node == NULL)
        return;
    struct window window;
    char err[256];
    if (window_parse(flow->window, &window, err, sizeof(err)))
        return;
    int line, column;
    json_locate_find(l->report.locations, node, &line, &column);
    /* +1: the opening quote (exact for strings without escapes). */
    const char *what = strstr(err, ": "); /* err starts "column N: " */
    diag_error(l->report.diag, l->report.file, line,
               column + (window.error_column > 0 ? window.error_column : 1), "\"window\": %s",
               what != NULL ? what + 2 : err);
}

static void load_flow(struct loader *l, size_t device_index, const cJSON *flows, size_t index,
                      const cJSON *object)
{
    struct matrix_device *device = &l->matrix->devices[device_index];
    struct matrix_flow *flow = &device->flows[index];
    json_locate_find(l->report.locations, object, &flow->line, &flow->column);
    if (!cJSON_IsObject(object)) {
        json_report_expected(&l->report, "flows", object, "an object describing one flow");
        return;
    }
    json_report_unknown_keys(&l->report, object, flow_keys, COUNT_OF(flow_keys), "flow");
    char flow_name[DESCRIBE_MAX + 8];
    snprintf(flow_name, sizeof(flow_name), "#%zu", index + 1);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(object, "id");
    if (id == NULL) {
        json_report_error(&l->report, object,
                          "missing required key \"id\" in flow %s (expected an identifier "
                          "unique in the device, e.g. \"F01\")",
                          flow_name);
    } else if (check_string(l, "id", id, MATRIX_NAME_MAX, true, "a flow identifier") != NULL) {
        flow->id = copy_text(l, id, id->valuestring);
        json_locate_quote(id->valuestring, flow_name, sizeof(flow_name));
        if (flow->id != NULL)
            check_flow_id(l, device, flows, index, id);
    }
    optional_text(l, object, "description", false, "a string", &flow->description);
    bool peers_ok = true;
    const char *ends[2] = {"from", "to"};
    struct matrix_peer *peers[2] = {&flow->from, &flow->to};
    for (int i = 0; i < 2; i++) {
        const cJSON *node = cJSON_GetObjectItemCaseSensitive(object, ends[i]);
        if (node == NULL) {
            json_report_error(&l->report, object, "missing required key \"%s\" in flow %s", ends[i],
                              flow_name);
            peers_ok = false;
        } else if (!load_peer(l, device_index, ends[i], node, peers[i])) {
            peers_ok = false;
        }
    }
    if (peers_ok && flow->from.kind != MATRIX_PEER_DEVICE && flow->to.kind != MATRIX_PEER_DEVICE)
        json_report_error(&l->report, object,
                          "flow %s: \"from\" or \"to\" must be \"device\" (a device's flow "
                          "involves the device itself)",
                          flow_name);
    if (load_proto(l, flow, object, flow_name))
        load_port(l, flow, object, flow_name);
    optional_text(l, object, "app", true, "an application protocol name", &flow->app);
    load_encryption(l, flow, object);
    load_internet(l, flow, object, flow_name, peers_ok);
    optional_text(l, object, "window", true, "a time window such as \"Mon-Fri 08:00-18:00\"",
                  &flow->window);
    check_window(l, object, flow);
    optional_text(l, object, "waiver", true, "a non-empty justification", &flow->waiver);
}

/* ---------------------------------------------------------------- driver */

static void load_devices(struct loader *l, const cJSON *root)
{
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(root, "devices");
    if (node == NULL) {
        json_report_error(&l->report, root,
                          "missing required key \"devices\" (expected an array of devices)");
        return;
    }
    int n = cJSON_IsArray(node) ? cJSON_GetArraySize(node) : 0;
    if (n == 0 || n > MATRIX_MAX_DEVICES) {
        json_report_expected(&l->report, "devices", node, "an array of 1 to 4096 devices");
        return;
    }
    struct matrix *m = l->matrix;
    m->devices = calloc((size_t)n, sizeof(*m->devices));
    if (m->devices == NULL) {
        error_oom(l, node);
        return;
    }
    m->device_count = (size_t)n;
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach (item, node) {
        load_device(l, &m->devices[i++], item);
    }
}

/* Flows last: their `from`/`to` may name any host or device. */
static void load_flows(struct loader *l, const cJSON *root)
{
    const cJSON *devices = cJSON_GetObjectItemCaseSensitive(root, "devices");
    for (size_t d = 0; d < l->matrix->device_count; d++) {
        const cJSON *flows =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(devices, (int)d), "flows");
        size_t i = 0;
        const cJSON *item;
        for (item = flows != NULL ? flows->child : NULL;
             item != NULL && i < l->matrix->devices[d].flow_count; item = item->next)
            load_flow(l, d, flows, i++, item);
    }
}

static void load_root(struct loader *l, const cJSON *root)
{
    if (!cJSON_IsObject(root)) {
        char got[DESCRIBE_MAX];
        json_locate_describe(root, got, sizeof(got));
        json_report_error(&l->report, root,
                          "expected a JSON object with \"format\": \"%s\" at the top level, "
                          "got %s",
                          MATRIX_FORMAT, got);
        return;
    }
    json_report_unknown_keys(&l->report, root, top_keys, COUNT_OF(top_keys), "the matrix");
    load_format(l, root);
    optional_text(l, root, "site", false, "a string", &l->matrix->site);
    load_timezone(l, root);
    load_internal(l, root);
    load_hosts(l, root);
    load_devices(l, root);
    index_names(l, cJSON_GetObjectItemCaseSensitive(root, "hosts"),
                cJSON_GetObjectItemCaseSensitive(root, "devices"));
    load_flows(l, root);
}

/* Parses and validates a matrix held in memory; see matrix.h. */
struct matrix *matrix_build(const char *name, const cJSON *root,
                            const struct json_locations *locations, struct diag *diag)
{
    size_t errors_before = diag->errors;
    size_t entries_before = diag->count;
    struct matrix *m = calloc(1, sizeof(*m));
    struct loader l = {.report = {name, diag, locations}, .matrix = m};
    if (m == NULL) {
        diag_error(diag, name, 0, 0, "out of memory");
    } else {
        m->path = copy_text(&l, root, name != NULL ? name : "<input>");
        load_root(&l, root);
    }
    free(l.names);
    json_locate_sort_diag(diag, entries_before);
    if (diag->errors != errors_before) {
        matrix_free(m);
        return NULL;
    }
    return m;
}

struct matrix *matrix_parse_json(const char *name, const char *text, size_t len, struct diag *diag)
{
    struct json_document doc;
    if (!json_locate_parse(name, text, len, &doc, diag))
        return NULL;
    struct matrix *m = matrix_build(name, doc.root, &doc.locations, diag);
    json_locate_free(&doc);
    return m;
}

/* The extra byte file_read_capped allows lets json_locate refuse a file
 * that is too large. */
static char *read_file(const char *path, size_t *len, struct diag *diag)
{
    return file_read_capped(path, JSON_LOCATE_MAX_BYTES, NULL, len, diag);
}

/* Loads and validates the matrix file at `path`; see matrix.h. */
struct matrix *matrix_load_json(const char *path, struct diag *diag)
{
    size_t len = 0;
    char *text = read_file(path, &len, diag);
    if (text == NULL)
        return NULL;
    struct matrix *m = matrix_parse_json(path, text, len, diag);
    free(text);
    return m;
}

/* ---------------------------------------------------------------- model */

static void free_peer(struct matrix_peer *peer)
{
    free(peer->dns_name);
    free(peer->text);
}

static void free_device(struct matrix_device *device)
{
    free(device->name);
    free(device->vendor);
    free(device->model);
    free(device->location);
    free(device->prefixes);
    free(device->macs);
    for (size_t i = 0; i < device->address_count; i++)
        free(device->address_texts[i]);
    free(device->address_texts);
    for (size_t i = 0; i < device->flow_count; i++) {
        struct matrix_flow *flow = &device->flows[i];
        free(flow->id);
        free(flow->description);
        free_peer(&flow->from);
        free_peer(&flow->to);
        free(flow->ports);
        free(flow->app);
        free(flow->window);
        free(flow->waiver);
    }
    free(device->flows);
}

/* Frees the model and everything it owns; NULL is ignored. */
void matrix_free(struct matrix *matrix)
{
    if (matrix == NULL)
        return;
    free(matrix->path);
    free(matrix->site);
    free(matrix->timezone);
    free(matrix->internal);
    for (size_t i = 0; i < matrix->host_count; i++) {
        struct matrix_host *host = &matrix->hosts[i];
        free(host->name);
        free(host->prefixes);
        for (size_t j = 0; j < host->dns_name_count; j++)
            free(host->dns_names[j]);
        free(host->dns_names);
    }
    free(matrix->hosts);
    for (size_t i = 0; i < matrix->device_count; i++)
        free_device(&matrix->devices[i]);
    free(matrix->devices);
    free(matrix);
}

/* True if addr is in the matrix's "internal" networks, or in the default
 * internal ranges when the matrix lists none (or is NULL). */
bool matrix_is_internal(const struct matrix *matrix, const struct net_addr *addr)
{
    if (addr == NULL)
        return false;
    if (matrix == NULL || !matrix->has_internal)
        return net_addr_is_default_internal(addr);
    for (size_t i = 0; i < matrix->internal_count; i++) {
        if (net_prefix_contains(&matrix->internal[i], addr))
            return true;
    }
    return false;
}

bool matrix_device_owns(const struct matrix_device *device, const struct net_addr *addr,
                        const struct mac_addr *mac)
{
    for (size_t i = 0; addr != NULL && i < device->prefix_count; i++) {
        if (net_prefix_contains(&device->prefixes[i], addr))
            return true;
    }
    for (size_t i = 0; mac != NULL && i < device->mac_count; i++) {
        if (memcmp(device->macs[i].bytes, mac->bytes, sizeof(mac->bytes)) == 0)
            return true;
    }
    return false;
}

/* Index of the first device (file order) owning addr (by prefix) or mac
 * (exactly), or -1. */
long matrix_find_device(const struct matrix *matrix, const struct net_addr *addr,
                        const struct mac_addr *mac)
{
    if (matrix == NULL)
        return -1;
    for (size_t i = 0; i < matrix->device_count; i++) {
        if (matrix_device_owns(&matrix->devices[i], addr, mac))
            return (long)i;
    }
    return -1;
}

/* True if the flow accepts receiver port `port` (always when any_port). */
bool matrix_flow_has_port(const struct matrix_flow *flow, uint16_t port)
{
    if (flow == NULL)
        return false;
    if (flow->any_port)
        return true;
    for (size_t i = 0; i < flow->port_count; i++) {
        if (port >= flow->ports[i].low && port <= flow->ports[i].high)
            return true;
    }
    return false;
}

/* "none", "tls1.2+", ... as written in matrices; "unknown" if out of range. */
const char *matrix_encryption_name(enum matrix_encryption encryption)
{
    if ((unsigned)encryption >= COUNT_OF(encryption_names))
        return "unknown";
    return encryption_names[encryption];
}

/* "any", "tcp", "udp", "icmp"; "unknown" if out of range. */
const char *matrix_proto_name(enum matrix_proto proto)
{
    if ((unsigned)proto >= COUNT_OF(proto_names))
        return "unknown";
    return proto_names[proto];
}
