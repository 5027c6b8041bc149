/* matrix_lint: smells of a valid flow matrix, as warnings.
 *
 * A matrix can be valid and still declare more than a device needs, or
 * declare weaknesses as if they were normal. These checks point the
 * reviewer (the hospital's CISO, the biomedical engineer) at such flows
 * before the audit runs; they never refuse a matrix. Each warning is at the
 * flow's position in the file it was loaded from, names the flow and says
 * why. docs/matrix.md "Lint" lists them. */
#include "fluxaudit/matrix.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))
#define LINT_MESSAGE_MAX 640
#define LINT_NAME_MAX 80

/* Ports of remote shells and desktops (SSH, Telnet, RDP, VNC, TeamViewer,
 * AnyDesk) that an inbound flow opens for maintenance. */
static const uint16_t maintenance_ports[] = {22, 23, 3389, 5900, 5938, 7070};
static const char *const maintenance_apps[] = {"SSH", "Telnet",     "RDP",
                                               "VNC", "TeamViewer", "AnyDesk"};

/* Remote-control tools of CLAUSIER-2025 O-9.3 (rules/findings.json's
 * remote_access_apps). */
static const char *const remote_access_apps[] = {
    "TeamViewer", "AnyDesk",   "RDP",      "VNC",      "XDMCP",  "LogMeIn",      "RustDesk",
    "Ammyy",      "Splashtop", "RemotePC", "GoToMyPC", "Radmin", "ScreenConnect"};

static const char *const health_apps[] = {"DICOM", "HL7", "FHIR"};

/* Names one flow in messages: flow "F01" of "ct-scanner-3". */
struct lint_context {
    const struct matrix *matrix;
    const struct matrix_device *device;
    struct diag *diag;
};

static bool app_in(const char *app, const char *const *list, size_t count)
{
    for (size_t i = 0; app != NULL && i < count; i++) {
        if (strcasecmp(app, list[i]) == 0)
            return true;
    }
    return false;
}

static void flow_name(const struct lint_context *c, const struct matrix_flow *flow, char *buf,
                      size_t len)
{
    snprintf(buf, len, "flow \"%.24s\" of \"%.40s\"", flow->id != NULL ? flow->id : "?",
             c->device->name != NULL ? c->device->name : "?");
}

static void warn(const struct lint_context *c, const struct matrix_flow *flow, const char *why)
{
    char name[LINT_NAME_MAX];
    flow_name(c, flow, name, sizeof(name));
    diag_warning(c->diag, c->matrix->path, flow->line, flow->column, "%s %s", name, why);
}

/* ---------------------------------------------------------------- overlap */

static bool prefixes_intersect(const struct net_prefix *a, const struct net_prefix *b)
{
    return net_prefix_contains(a, &b->addr) || net_prefix_contains(b, &a->addr);
}

/* The addresses a peer stands for, when it is a set of prefixes. */
static bool peer_prefixes(const struct lint_context *c, const struct matrix_peer *peer,
                          const struct net_prefix **out, size_t *count)
{
    const struct matrix *m = c->matrix;
    switch (peer->kind) {
    case MATRIX_PEER_DEVICE:
        *out = c->device->prefixes;
        *count = c->device->prefix_count;
        return true;
    case MATRIX_PEER_HOST:
        if (peer->index >= m->host_count)
            return false;
        *out = m->hosts[peer->index].prefixes;
        *count = m->hosts[peer->index].prefix_count;
        return true;
    case MATRIX_PEER_OTHER_DEVICE:
        if (peer->index >= m->device_count)
            return false;
        *out = m->devices[peer->index].prefixes;
        *count = m->devices[peer->index].prefix_count;
        return true;
    case MATRIX_PEER_PREFIX:
        *out = &peer->prefix;
        *count = 1;
        return true;
    default:
        return false;
    }
}

/* True if `name` (maybe "*.x") and `other` can name the same host. */
static bool dns_overlap(const char *name, const char *other)
{
    if (strcasecmp(name, other) == 0)
        return true;
    const char *pairs[2][2] = {{name, other}, {other, name}};
    for (int i = 0; i < 2; i++) {
        const char *wild = pairs[i][0], *plain = pairs[i][1];
        if (strncmp(wild, "*.", 2) != 0)
            continue;
        size_t suffix = strlen(wild + 1), len = strlen(plain);
        if (len > suffix && strcasecmp(plain + len - suffix, wild + 1) == 0)
            return true;
    }
    return false;
}

static bool host_has_dns(const struct matrix *m, const struct matrix_peer *host, const char *name)
{
    if (host->kind != MATRIX_PEER_HOST || host->index >= m->host_count)
        return false;
    const struct matrix_host *h = &m->hosts[host->index];
    for (size_t i = 0; i < h->dns_name_count; i++) {
        if (dns_overlap(h->dns_names[i], name))
            return true;
    }
    return false;
}

/* True if some address of the prefix set is outside the internal networks
 * (the network address stands for the prefix: a coarse but quiet test). */
static bool any_public(const struct matrix *m, const struct net_prefix *prefixes, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (!matrix_is_internal(m, &prefixes[i].addr))
            return true;
    }
    return false;
}

/* True if one connection end can match both peers. Only what the matrix
 * says is compared: a DNS name against an address is not guessed at. */
static bool peers_overlap(const struct lint_context *c, const struct matrix_peer *a,
                          const struct matrix_peer *b)
{
    if (a->kind == MATRIX_PEER_ANY || b->kind == MATRIX_PEER_ANY)
        return true;
    if (a->kind == b->kind && (a->kind == MATRIX_PEER_DEVICE || a->kind == MATRIX_PEER_INTERNET))
        return true;
    if (a->kind == b->kind &&
        (a->kind == MATRIX_PEER_HOST || a->kind == MATRIX_PEER_OTHER_DEVICE) &&
        a->index == b->index)
        return true;
    if (a->kind == MATRIX_PEER_DNS && b->kind == MATRIX_PEER_DNS)
        return dns_overlap(a->dns_name, b->dns_name);
    if (a->kind == MATRIX_PEER_DNS || b->kind == MATRIX_PEER_DNS) {
        const struct matrix_peer *dns = a->kind == MATRIX_PEER_DNS ? a : b;
        return host_has_dns(c->matrix, dns == a ? b : a, dns->dns_name);
    }
    const struct net_prefix *pa, *pb;
    size_t na, nb;
    bool has_a = peer_prefixes(c, a, &pa, &na), has_b = peer_prefixes(c, b, &pb, &nb);
    if (a->kind == MATRIX_PEER_INTERNET && has_b)
        return any_public(c->matrix, pb, nb);
    if (b->kind == MATRIX_PEER_INTERNET && has_a)
        return any_public(c->matrix, pa, na);
    if (!has_a || !has_b)
        return false;
    for (size_t i = 0; i < na; i++) {
        for (size_t j = 0; j < nb; j++) {
            if (prefixes_intersect(&pa[i], &pb[j]))
                return true;
        }
    }
    return false;
}

static bool ports_overlap(const struct matrix_flow *a, const struct matrix_flow *b)
{
    if (a->any_port || b->any_port)
        return true;
    for (size_t i = 0; i < a->port_count; i++) {
        for (size_t j = 0; j < b->port_count; j++) {
            if (a->ports[i].low <= b->ports[j].high && b->ports[j].low <= a->ports[i].high)
                return true;
        }
    }
    return false;
}

/* True if the flow is opened by the device and not towards it. */
static bool outbound_only(const struct matrix_flow *flow)
{
    return flow->from.kind == MATRIX_PEER_DEVICE && flow->to.kind != MATRIX_PEER_DEVICE;
}

static bool inbound_only(const struct matrix_flow *flow)
{
    return flow->to.kind == MATRIX_PEER_DEVICE && flow->from.kind != MATRIX_PEER_DEVICE;
}

static bool flows_overlap(const struct lint_context *c, const struct matrix_flow *a,
                          const struct matrix_flow *b)
{
    /* An outbound and an inbound flow share only the device talking to
     * itself, even when their other ends are "any". */
    if ((outbound_only(a) && inbound_only(b)) || (inbound_only(a) && outbound_only(b)))
        return false;
    bool protos =
        a->proto == b->proto || a->proto == MATRIX_PROTO_ANY || b->proto == MATRIX_PROTO_ANY;
    return protos && ports_overlap(a, b) && peers_overlap(c, &a->from, &b->from) &&
           peers_overlap(c, &a->to, &b->to);
}

/* Warns once per flow that overlaps an earlier flow of the device, naming
 * the first such flow. */
static void lint_overlap(const struct lint_context *c, size_t index)
{
    const struct matrix_flow *flow = &c->device->flows[index];
    const struct matrix_flow *first = NULL;
    size_t others = 0;
    for (size_t i = 0; i < index; i++) {
        if (!flows_overlap(c, &c->device->flows[i], flow))
            continue;
        if (first == NULL)
            first = &c->device->flows[i];
        else
            others++;
    }
    if (first == NULL)
        return;
    char why[LINT_MESSAGE_MAX], more[48] = "";
    if (others > 0)
        snprintf(more, sizeof(more), " (and %zu more)", others);
    snprintf(why, sizeof(why),
             "overlaps flow \"%.24s\" (line %d)%s: one connection can match both, and the "
             "audit applies the first whose app agrees, so the other's encryption, window and "
             "waiver may never apply",
             first->id != NULL ? first->id : "?", first->line, more);
    warn(c, flow, why);
}

/* ---------------------------------------------------------------- smells */

static void lint_any(const struct lint_context *c, const struct matrix_flow *flow)
{
    char parts[128] = "";
    size_t used = 0;
    const char *items[4];
    size_t count = 0;
    if (flow->from.kind == MATRIX_PEER_ANY)
        items[count++] = "\"from\"";
    if (flow->to.kind == MATRIX_PEER_ANY)
        items[count++] = "\"to\"";
    if (flow->proto == MATRIX_PROTO_ANY)
        items[count++] = "\"proto\"";
    if ((flow->proto == MATRIX_PROTO_TCP || flow->proto == MATRIX_PROTO_UDP) && flow->any_port)
        items[count++] = "\"port\"";
    if (count == 0)
        return;
    for (size_t i = 0; i < count; i++)
        used += (size_t)snprintf(parts + used, sizeof(parts) - used, "%s%s",
                                 i == 0           ? ""
                                 : i + 1 == count ? " and "
                                                  : ", ",
                                 items[i]);
    char why[LINT_MESSAGE_MAX];
    snprintf(why, sizeof(why),
             "allows any value of %s: a matrix should name the peers, protocol and ports the "
             "device needs",
             parts);
    warn(c, flow, why);
}

static void lint_internet(const struct lint_context *c, const struct matrix_flow *flow)
{
    if (!flow->internet || flow->encryption != MATRIX_ENCRYPTION_NONE)
        return;
    warn(c, flow,
         "is exposed to the Internet (\"internet\": true) without encryption (\"encryption\": "
         "\"none\")");
}

/* The maintenance port the flow opens, or 0. */
static uint16_t maintenance_port(const struct matrix_flow *flow)
{
    for (size_t i = 0; !flow->any_port && i < COUNT_OF(maintenance_ports); i++) {
        if (matrix_flow_has_port(flow, maintenance_ports[i]))
            return maintenance_ports[i];
    }
    return 0;
}

static void lint_maintenance(const struct lint_context *c, const struct matrix_flow *flow)
{
    bool inbound = flow->to.kind == MATRIX_PEER_DEVICE && flow->from.kind != MATRIX_PEER_DEVICE;
    if (!inbound || flow->window != NULL || flow->proto == MATRIX_PROTO_ICMP)
        return;
    char why[LINT_MESSAGE_MAX], what[96];
    uint16_t port = maintenance_port(flow);
    if (app_in(flow->app, maintenance_apps, COUNT_OF(maintenance_apps)))
        snprintf(what, sizeof(what), "app %.40s", flow->app);
    else if (port != 0)
        snprintf(what, sizeof(what), "port %u", port);
    else
        return;
    snprintf(why, sizeof(why),
             "looks like remote maintenance (inbound, %s) but has no \"window\": declare when "
             "the supplier may connect",
             what);
    warn(c, flow, why);
}

static void lint_remote_tool(const struct lint_context *c, const struct matrix_flow *flow)
{
    if (!app_in(flow->app, remote_access_apps, COUNT_OF(remote_access_apps)))
        return;
    char why[LINT_MESSAGE_MAX];
    snprintf(why, sizeof(why),
             "declares the remote-access tool \"%.40s\": CLAUSIER-2025 O-9.3 allows no "
             "remote-control tool but the hospital's own; check that the hospital approved it",
             flow->app);
    warn(c, flow, why);
}

static void lint_health(const struct lint_context *c, const struct matrix_flow *flow)
{
    if (flow->encryption != MATRIX_ENCRYPTION_NONE || flow->waiver != NULL ||
        !app_in(flow->app, health_apps, COUNT_OF(health_apps)))
        return;
    char why[LINT_MESSAGE_MAX];
    snprintf(why, sizeof(why),
             "carries %.40s without encryption and without a \"waiver\": health data must be "
             "encrypted (TLS), or the hospital's acceptance written in \"waiver\"",
             flow->app);
    warn(c, flow, why);
}

/* Appends the warnings of every flow, in file order; see matrix.h. */
void matrix_lint(const struct matrix *matrix, struct diag *diag)
{
    if (matrix == NULL)
        return;
    size_t first = diag->count;
    for (size_t d = 0; d < matrix->device_count; d++) {
        struct lint_context c = {matrix, &matrix->devices[d], diag};
        for (size_t i = 0; i < c.device->flow_count; i++) {
            const struct matrix_flow *flow = &c.device->flows[i];
            lint_overlap(&c, i);
            lint_any(&c, flow);
            lint_internet(&c, flow);
            lint_maintenance(&c, flow);
            lint_remote_tool(&c, flow);
            lint_health(&c, flow);
        }
    }
    /* CSV matrices group flows by device: put the warnings in row order. */
    for (size_t i = first + 1; i < diag->count; i++) {
        struct diag_entry moving = diag->entries[i];
        size_t j = i;
        while (j > first && (moving.line < diag->entries[j - 1].line ||
                             (moving.line == diag->entries[j - 1].line &&
                              moving.column < diag->entries[j - 1].column))) {
            diag->entries[j] = diag->entries[j - 1];
            j--;
        }
        diag->entries[j] = moving;
    }
}
