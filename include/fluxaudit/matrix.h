/* matrix: the supplier's declared flow matrix, loaded and validated.
 *
 * matrix_load_json reads the `fluxaudit-matrix/1` JSON form of DESIGN.md and
 * returns an immutable model, or records every error it finds as
 * file:line:column diagnostics and returns NULL: a matrix is never half
 * loaded. The model owns all its strings. */
#ifndef FLUXAUDIT_MATRIX_H
#define FLUXAUDIT_MATRIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fluxaudit/diag.h"
#include "fluxaudit/netaddr.h"

#define MATRIX_FORMAT "fluxaudit-matrix/1"

enum matrix_proto { MATRIX_PROTO_ANY, MATRIX_PROTO_TCP, MATRIX_PROTO_UDP, MATRIX_PROTO_ICMP };

/* Minimum protection a flow must show, weakest first. */
enum matrix_encryption {
    MATRIX_ENCRYPTION_NONE,
    MATRIX_ENCRYPTION_TLS12, /* "tls1.2+" */
    MATRIX_ENCRYPTION_TLS13, /* "tls1.3" */
    MATRIX_ENCRYPTION_SSH,
    MATRIX_ENCRYPTION_IPSEC,
    MATRIX_ENCRYPTION_DTLS12, /* "dtls1.2+" */
    MATRIX_ENCRYPTION_SNMPV3,
};

enum matrix_peer_kind {
    MATRIX_PEER_DEVICE,   /* "device": the device that owns the flow */
    MATRIX_PEER_HOST,     /* a name from "hosts": index in matrix->hosts */
    MATRIX_PEER_OTHER_DEVICE, /* a name from "devices": index in matrix->devices */
    MATRIX_PEER_PREFIX,   /* a literal address or CIDR */
    MATRIX_PEER_DNS,      /* a DNS name (matched against SNI / Host / DNS answers) */
    MATRIX_PEER_INTERNET, /* any public address */
    MATRIX_PEER_ANY,
};

struct matrix_peer {
    enum matrix_peer_kind kind;
    size_t index;             /* MATRIX_PEER_HOST / OTHER_DEVICE */
    struct net_prefix prefix; /* MATRIX_PEER_PREFIX */
    char *dns_name;           /* MATRIX_PEER_DNS, lower case; may start with "*." */
    char *text;               /* as written in the file */
};

struct port_range {
    uint16_t low;
    uint16_t high; /* inclusive */
};

struct matrix_flow {
    char *id;
    char *description;        /* may be NULL */
    struct matrix_peer from;  /* emitter (connection initiator) */
    struct matrix_peer to;    /* receiver */
    enum matrix_proto proto;
    bool any_port;
    struct port_range *ports; /* receiver ports when !any_port */
    size_t port_count;
    char *app;                /* expected application, NULL when not declared */
    enum matrix_encryption encryption;
    bool internet;
    char *window;             /* NULL when always allowed */
    char *waiver;             /* NULL when no waiver */
    int line;                 /* where the flow starts in the file */
    int column;
};

struct matrix_host {
    char *name;
    struct net_prefix *prefixes;
    size_t prefix_count;
    char **dns_names;         /* lower case */
    size_t dns_name_count;
};

struct matrix_device {
    char *name;
    char *vendor;             /* may be NULL */
    char *model;
    char *location;
    struct net_prefix *prefixes; /* IP addresses (host prefixes) or subnets */
    size_t prefix_count;
    struct mac_addr *macs;
    size_t mac_count;
    char **address_texts;     /* addresses as written, for reports */
    size_t address_count;
    struct matrix_flow *flows;
    size_t flow_count;
};

struct matrix {
    char *path;
    char *site;               /* may be NULL */
    char *timezone;           /* may be NULL */
    bool has_internal;        /* "internal" given: replaces the defaults */
    struct net_prefix *internal;
    size_t internal_count;
    struct matrix_host *hosts;
    size_t host_count;
    struct matrix_device *devices;
    size_t device_count;
};

/* Loads and validates the JSON matrix at `path`. Returns the model, or NULL
 * with every error appended to `diag`. */
struct matrix *matrix_load_json(const char *path, struct diag *diag);

/* Same, from a buffer; `name` is used in diagnostics. */
struct matrix *matrix_parse_json(const char *name, const char *text, size_t len, struct diag *diag);

void matrix_free(struct matrix *matrix);

/* Returns true if `addr` is in the site's internal networks (the matrix's
 * "internal" list, or the defaults of net_addr_is_default_internal). A NULL
 * matrix means the defaults. */
bool matrix_is_internal(const struct matrix *matrix, const struct net_addr *addr);

/* Returns the index of the device that owns `addr` or `mac` (either may be
 * NULL), or -1. When several match, the first in file order wins. */
long matrix_find_device(const struct matrix *matrix, const struct net_addr *addr,
                        const struct mac_addr *mac);

/* Returns true if `addr` is in one of the device's addresses or subnets, or
 * `mac` is one of its MACs (either may be NULL). */
bool matrix_device_owns(const struct matrix_device *device, const struct net_addr *addr,
                        const struct mac_addr *mac);

/* Returns true if `port` is one of the flow's receiver ports. */
bool matrix_flow_has_port(const struct matrix_flow *flow, uint16_t port);

const char *matrix_encryption_name(enum matrix_encryption encryption);
const char *matrix_proto_name(enum matrix_proto proto);

/* Imports the RFC 8520 MUD file at `mud_path` as the flows of every device
 * of `inventory_path` (an ordinary fluxaudit-matrix/1 JSON file) whose
 * "model" is the MUD's "model-name" (any case) or its "mud-url"; those
 * devices keep their own flows and get the MUD's after them (docs/mud.md).
 * Returns the model, or NULL with every error at its file:line:column in
 * the file it comes from; constructs that cannot be imported exactly are
 * warnings in `diag`. */
struct matrix *matrix_load_mud(const char *mud_path, const char *inventory_path, struct diag *diag);

/* ---- CSV matrices, conversion (src/matrix_csv.c; docs/matrix.md "CSV") ----
 *
 * A CSV matrix NAME.csv has one row per flow (columns device, id,
 * description, from, to, proto, port, app, encryption, internet, window,
 * waiver); its inventory NAME.inventory.csv one row per device or named host
 * (device, kind, addresses, vendor, model, location); an optional
 * NAME.site.csv holds key,value rows (site, timezone, internal). Errors are
 * reported at the file, line and column of the offending cell in whichever
 * of the three files holds it. */

/* One CSV file held in memory; `text` NULL means the file is absent. */
struct matrix_csv_input {
    const char *name; /* used in diagnostics */
    const char *text;
    size_t len;
};

/* Loads the CSV matrix at `path` with its inventory (`inventory_path`, or
 * NAME.inventory.csv beside `path` when NULL) and NAME.site.csv beside
 * `path` if it exists. Returns the model, or NULL with every error of the
 * three files appended to `diag`. */
struct matrix *matrix_load_csv(const char *path, const char *inventory_path, struct diag *diag);

/* Same, from buffers (`site` may be NULL). */
struct matrix *matrix_parse_csv(const struct matrix_csv_input *matrix_csv,
                                const struct matrix_csv_input *inventory,
                                const struct matrix_csv_input *site, struct diag *diag);

/* Loads a matrix by the extension of `path` (case-insensitive): ".csv" with
 * matrix_load_csv, ".json" with matrix_load_json (an `inventory_path` is
 * then an error), ".mud.json" with matrix_load_mud (`inventory_path`
 * required). Anything else is refused. */
struct matrix *matrix_load(const char *path, const char *inventory_path, struct diag *diag);

/* Writes the model as fluxaudit-matrix/1 JSON: two-space indentation, keys
 * in the order of docs/matrix.md, empty optional texts omitted, so that
 * JSON -> model -> JSON is stable. Returns false with a message in `err` on
 * a write error. */
bool matrix_write_json(const struct matrix *matrix, FILE *out, char *err, size_t err_len);

/* Writes the model as NAME.csv at `path` with NAME.inventory.csv and
 * NAME.site.csv beside it (',' separator, RFC 4180 quoting, CRLF, UTF-8
 * without BOM). Each file is written to a temporary name and renamed only
 * when all three are complete. Returns false with a message in `err`. */
bool matrix_write_csv(const struct matrix *matrix, const char *path, char *err, size_t err_len);

/* Same, to three open streams (matrix rows, inventory, site settings). */
bool matrix_write_csv_streams(const struct matrix *matrix, FILE *flows, FILE *inventory,
                              FILE *site, char *err, size_t err_len);

/* Appends a warning (diag_warning, never an error) at the flow's line and
 * column in matrix->path for every smell of docs/matrix.md "Lint":
 * overlapping flows, "any" peers, protocols or ports, Internet exposure
 * without encryption, remote maintenance without a window, declared
 * remote-access tools, health protocols in clear without a waiver. */
void matrix_lint(const struct matrix *matrix, struct diag *diag);

#endif
