/* web: the embedded web UI and its read-only JSON API (libmicrohttpd).
 * See include/fluxaudit/web.h and docs/web.md.
 *
 * Request threads never see the live tables: they take a reference on the
 * newest published snapshot (report text in every format, rendered once,
 * and the parsed JSON report) and build their answer from it. Every request
 * target is parsed here from the raw bytes the client sent (MHD's URI log
 * callback), so a percent-encoded NUL, a repeated or unknown parameter or a
 * dot segment is refused before anything is routed. */
#include "fluxaudit/web.h"
#include "util/hex.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "fluxaudit/finding.h"
#include "web_assets.h"
#include "web_auth.h"

#define WEB_DEFAULT_LISTEN "127.0.0.1:8080"
#define WEB_PATH_MAX 256        /* bytes of a request path */
#define WEB_QUERY_MAX 1024      /* bytes of a query string */
#define WEB_VALUE_MAX 256       /* bytes of a decoded parameter value */
#define WEB_SEGMENTS_MAX 4      /* path segments of the longest route */
#define WEB_PARAMS_MAX 4        /* parameters of the richest route */
#define WEB_LOGIN_BODY_MAX 1024 /* bytes of a login form */
#define WEB_PEM_MAX 65536u      /* bytes of a certificate or key file */
#define WEB_THREADS 4
#define WEB_CONNECTIONS_MAX 64
#define WEB_CONNECTIONS_PER_IP 16
#define WEB_TIMEOUT_SECONDS 30
#define WEB_CONNECTION_MEMORY 32768u /* headers beyond this: 431 from MHD */
#define WEB_COOKIE "fluxaudit_session"

#define CSP                                                                                        \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE"
#define TYPE_JSON "application/json; charset=utf-8"
#define TYPE_TEXT "text/plain; charset=utf-8"

/* ---- snapshots --------------------------------------------------------- */

enum web_format {
    WEB_FORMAT_JSON,
    WEB_FORMAT_HTML,
    WEB_FORMAT_CSV,
    WEB_FORMAT_SYSLOG,
    WEB_FORMAT_COUNT
};

static const struct {
    const char *extension;
    const char *content_type;
} web_formats[WEB_FORMAT_COUNT] = {
    [WEB_FORMAT_JSON] = {"json", TYPE_JSON},
    [WEB_FORMAT_HTML] = {"html", "text/html; charset=utf-8"},
    [WEB_FORMAT_CSV] = {"csv", "text/csv; charset=utf-8"},
    [WEB_FORMAT_SYSLOG] = {"syslog", TYPE_TEXT},
};

struct web_snapshot {
    atomic_uint refs;             /* the server's, plus one per request using it */
    char *text[WEB_FORMAT_COUNT]; /* the report in every format */
    size_t length[WEB_FORMAT_COUNT];
    cJSON *report; /* the JSON report, parsed; read-only */
    double rate_pps;
    double span_seconds; /* last frame - first frame, 0 when none */
    uint64_t serial;     /* set when published: 1, 2, ... */
};

static void snapshot_free(struct web_snapshot *snapshot)
{
    for (size_t i = 0; i < WEB_FORMAT_COUNT; i++)
        free(snapshot->text[i]);
    cJSON_Delete(snapshot->report);
    free(snapshot);
}

static void snapshot_release(struct web_snapshot *snapshot)
{
    if (snapshot != NULL && atomic_fetch_sub(&snapshot->refs, 1) == 1)
        snapshot_free(snapshot);
}

/* Renders one format into memory. Returns false and a message. */
static bool render_format(enum web_format format, const struct report_input *input, char **text,
                          size_t *length, char *err, size_t err_len)
{
    FILE *out = open_memstream(text, length);
    if (out == NULL) {
        snprintf(err, err_len, "out of memory");
        return false;
    }
    bool ok = false;
    switch (format) {
    case WEB_FORMAT_JSON:
        ok = report_write_json(out, input, err, err_len);
        break;
    case WEB_FORMAT_HTML:
        ok = report_write_html(out, input, err, err_len);
        break;
    case WEB_FORMAT_CSV:
        ok = report_write_csv(out, input, err, err_len);
        break;
    case WEB_FORMAT_SYSLOG:
        ok = report_write_syslog(out, input, NULL, err, err_len);
        break;
    case WEB_FORMAT_COUNT:
        break;
    }
    if (fclose(out) != 0 && ok) {
        snprintf(err, err_len, "out of memory rendering the %s report",
                 web_formats[format].extension);
        ok = false;
    }
    return ok;
}

struct web_snapshot *web_snapshot_create(const struct report_input *input, double rate_pps,
                                         char *err, size_t err_len)
{
    struct web_snapshot *snapshot = calloc(1, sizeof(*snapshot));
    if (snapshot == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    atomic_init(&snapshot->refs, 1);
    for (size_t i = 0; i < WEB_FORMAT_COUNT; i++) {
        if (!render_format((enum web_format)i, input, &snapshot->text[i], &snapshot->length[i], err,
                           err_len)) {
            snapshot_free(snapshot);
            return NULL;
        }
    }
    snapshot->report =
        cJSON_ParseWithLength(snapshot->text[WEB_FORMAT_JSON], snapshot->length[WEB_FORMAT_JSON]);
    if (snapshot->report == NULL ||
        !cJSON_IsArray(cJSON_GetObjectItem(snapshot->report, "devices"))) {
        snprintf(err, err_len, "the JSON report cannot be read back");
        snapshot_free(snapshot);
        return NULL;
    }
    snapshot->rate_pps = rate_pps >= 0 ? rate_pps : 0;
    const struct pipeline_counters *counters = input->counters;
    if (counters != NULL && counters->first_usec != 0 && counters->last_usec > counters->first_usec)
        snapshot->span_seconds = (double)(counters->last_usec - counters->first_usec) / 1e6;
    return snapshot;
}

/* ---- server ------------------------------------------------------------ */

struct web_server {
    struct MHD_Daemon *daemon;
    pthread_mutex_t lock;         /* guards `current` and `serial` */
    struct web_snapshot *current; /* NULL until the first web_publish */
    uint64_t serial;
    struct web_auth *auth;
    bool tls;
    bool live;
    bool loopback; /* bound to loopback: Host must name loopback */
    char *cert_pem;
    char *key_pem;
    char address[64];
};

/* A reference on the current snapshot (NULL before the first publish). */
static struct web_snapshot *snapshot_acquire(struct web_server *server)
{
    pthread_mutex_lock(&server->lock);
    struct web_snapshot *snapshot = server->current;
    if (snapshot != NULL)
        atomic_fetch_add(&snapshot->refs, 1);
    pthread_mutex_unlock(&server->lock);
    return snapshot;
}

/* Publishing to no server frees the snapshot: a caller whose server failed
 * to start still has a way to release what it created. */
void web_publish(struct web_server *server, struct web_snapshot *snapshot)
{
    if (server == NULL) {
        snapshot_release(snapshot);
        return;
    }
    if (snapshot == NULL)
        return;
    pthread_mutex_lock(&server->lock);
    struct web_snapshot *old = server->current;
    snapshot->serial = ++server->serial;
    server->current = snapshot;
    pthread_mutex_unlock(&server->lock);
    snapshot_release(old);
}

const char *web_listen_address(const struct web_server *server)
{
    return server->address;
}

/* ---- per-request state ------------------------------------------------- */

struct web_request {
    char *target; /* the raw request target; NULL when too long */
    bool started; /* the access handler has seen the request */
    size_t body_length;
    bool body_too_large;
    char body[WEB_LOGIN_BODY_MAX + 1];
};

/* MHD's URI log callback: keeps the request target as the client sent it,
 * before MHD decodes it (a decoded %00 would cut the string). */
static void *request_begin(void *cls, const char *uri, struct MHD_Connection *connection)
{
    (void)cls;
    (void)connection;
    struct web_request *request = calloc(1, sizeof(*request));
    if (request != NULL && strlen(uri) <= WEB_PATH_MAX + 1 + WEB_QUERY_MAX)
        request->target = strdup(uri);
    return request;
}

static void request_end(void *cls, struct MHD_Connection *connection, void **req_cls,
                        enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)connection;
    (void)code;
    struct web_request *request = *req_cls;
    if (request != NULL) {
        free(request->target);
        explicit_bzero(request->body, sizeof(request->body)); /* may hold a password */
        free(request);
    }
    *req_cls = NULL;
}

/* ---- responses --------------------------------------------------------- */

/* Adds the headers every answer carries. */
static void add_common_headers(const struct web_server *server, struct MHD_Response *response)
{
    MHD_add_response_header(response, "Content-Security-Policy", CSP);
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(response, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(response, "X-Frame-Options", "DENY");
    MHD_add_response_header(response, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(response, "Cross-Origin-Resource-Policy", "same-origin");
    /* Campaign data and session-dependent pages are never cached. */
    MHD_add_response_header(response, "Cache-Control", "no-store");
    if (server->tls)
        MHD_add_response_header(response, "Strict-Transport-Security", "max-age=31536000");
}

/* Queues `response` (consumed) with status and content type. */
static enum MHD_Result send_response(const struct web_server *server,
                                     struct MHD_Connection *connection, unsigned status,
                                     const char *content_type, struct MHD_Response *response)
{
    if (response == NULL)
        return MHD_NO;
    add_common_headers(server, response);
    if (content_type != NULL)
        MHD_add_response_header(response, "Content-Type", content_type);
    enum MHD_Result result = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return result;
}

/* Answers with a copy of `length` bytes of `body`. */
static enum MHD_Result send_copy(const struct web_server *server, struct MHD_Connection *connection,
                                 unsigned status, const char *content_type, const char *body,
                                 size_t length)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(length, (void *)body, MHD_RESPMEM_MUST_COPY);
    return send_response(server, connection, status, content_type, response);
}

/* Answers with `body`, a malloc'ed string that MHD frees. */
static enum MHD_Result send_owned(const struct web_server *server,
                                  struct MHD_Connection *connection, unsigned status,
                                  const char *content_type, char *body)
{
    if (body == NULL)
        return MHD_NO;
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (response == NULL)
        free(body);
    return send_response(server, connection, status, content_type, response);
}

/* An error answer: {"error": message} under /api/, plain text elsewhere. */
static enum MHD_Result send_error(const struct web_server *server,
                                  struct MHD_Connection *connection, bool api, unsigned status,
                                  const char *message)
{
    char body[256];
    if (api)
        snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", message);
    else
        snprintf(body, sizeof(body), "%u %s\n", status, message);
    return send_copy(server, connection, status, api ? TYPE_JSON : TYPE_TEXT, body, strlen(body));
}

static enum MHD_Result send_not_allowed(const struct web_server *server,
                                        struct MHD_Connection *connection, bool api,
                                        const char *allow)
{
    const char *message = "method not allowed";
    char body[64];
    snprintf(body, sizeof(body), api ? "{\"error\":\"%s\"}\n" : "405 %s\n", message);
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    if (response != NULL)
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
    return send_response(server, connection, MHD_HTTP_METHOD_NOT_ALLOWED,
                         api ? TYPE_JSON : TYPE_TEXT, response);
}

static enum MHD_Result send_redirect(const struct web_server *server,
                                     struct MHD_Connection *connection, const char *location,
                                     const char *cookie)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (response == NULL)
        return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_LOCATION, location);
    if (cookie != NULL)
        MHD_add_response_header(response, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    return send_response(server, connection, MHD_HTTP_SEE_OTHER, TYPE_TEXT, response);
}

static void release_snapshot_callback(void *cls)
{
    snapshot_release(cls);
}

/* Answers with one rendering of `snapshot`, handing MHD the reference: the
 * text is sent without a copy and released when the answer is done. */
static enum MHD_Result send_report(const struct web_server *server,
                                   struct MHD_Connection *connection, struct web_snapshot *snapshot,
                                   enum web_format format)
{
    struct MHD_Response *response = MHD_create_response_from_buffer_with_free_callback_cls(
        snapshot->length[format], snapshot->text[format], release_snapshot_callback, snapshot);
    if (response == NULL) {
        snapshot_release(snapshot);
        return MHD_NO;
    }
    char disposition[96];
    snprintf(disposition, sizeof(disposition), "attachment; filename=\"fluxaudit-report.%s\"",
             web_formats[format].extension);
    MHD_add_response_header(response, "Content-Disposition", disposition);
    return send_response(server, connection, MHD_HTTP_OK, web_formats[format].content_type,
                         response);
}

static enum MHD_Result send_json(const struct web_server *server, struct MHD_Connection *connection,
                                 cJSON *json)
{
    if (json == NULL)
        return send_error(server, connection, true, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "out of memory");
    char *text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    if (text == NULL)
        return send_error(server, connection, true, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "out of memory");
    /* cJSON allocates with malloc (default hooks): MHD may free it. */
    return send_owned(server, connection, MHD_HTTP_OK, TYPE_JSON, text);
}

/* ---- request target: strict parsing ----------------------------------- */

/* Percent-decodes `length` bytes into `out` (`size` bytes with the NUL),
 * '+' as a space when `plus_is_space` (query values). Refuses a bad
 * escape, a NUL or control character, and an output that does not fit. */
static bool decode_component(const char *in, size_t length, bool plus_is_space, char *out,
                             size_t size)
{
    size_t used = 0;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%') {
            int high = i + 2 < length ? hex_digit_value(in[i + 1]) : -1;
            int low = high >= 0 ? hex_digit_value(in[i + 2]) : -1;
            if (low < 0)
                return false;
            c = (unsigned char)(high * 16 + low);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f || used + 1 >= size)
            return false;
        out[used++] = (char)c;
    }
    out[used] = '\0';
    return true;
}

struct target {
    size_t segment_count;
    char segments[WEB_SEGMENTS_MAX][WEB_PATH_MAX + 1]; /* decoded */
    const char *query;                                 /* raw, after '?'; NULL when none */
    size_t query_length;
};

/* Splits and checks the raw request target. Returns 0, or the HTTP status
 * of the refusal (400, 404 for a path deeper than any route, 414). */
static unsigned parse_target(const char *raw, struct target *target)
{
    memset(target, 0, sizeof(*target));
    const char *question = strchr(raw, '?');
    size_t path_length = question != NULL ? (size_t)(question - raw) : strlen(raw);
    if (path_length > WEB_PATH_MAX)
        return MHD_HTTP_URI_TOO_LONG;
    if (question != NULL) {
        target->query = question + 1;
        target->query_length = strlen(question + 1);
        if (target->query_length > WEB_QUERY_MAX)
            return MHD_HTTP_URI_TOO_LONG;
        for (size_t i = 0; i < target->query_length; i++) {
            unsigned char c = (unsigned char)target->query[i];
            if (c <= 0x20 || c >= 0x7f || c == '#')
                return MHD_HTTP_BAD_REQUEST;
        }
    }
    if (path_length == 0 || raw[0] != '/')
        return MHD_HTTP_BAD_REQUEST; /* "*", absolute-form, empty */
    for (size_t i = 0; i < path_length; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '#')
            return MHD_HTTP_BAD_REQUEST;
    }
    if (path_length == 1)
        return 0; /* "/" */
    const char *segment = raw + 1;
    const char *end = raw + path_length;
    while (segment <= end) {
        const char *slash = memchr(segment, '/', (size_t)(end - segment));
        size_t length = slash != NULL ? (size_t)(slash - segment) : (size_t)(end - segment);
        if (length == 0)
            return MHD_HTTP_BAD_REQUEST; /* "//" or a trailing slash */
        if (target->segment_count == WEB_SEGMENTS_MAX)
            return MHD_HTTP_NOT_FOUND;
        char *decoded = target->segments[target->segment_count++];
        if (!decode_component(segment, length, false, decoded, WEB_PATH_MAX + 1))
            return MHD_HTTP_BAD_REQUEST;
        if (strcmp(decoded, ".") == 0 || strcmp(decoded, "..") == 0)
            return MHD_HTTP_BAD_REQUEST; /* dot segments, raw or encoded */
        if (slash == NULL)
            break;
        segment = slash + 1;
    }
    return 0;
}

struct param {
    const char *name;
    bool present;
    char value[WEB_VALUE_MAX + 1];
};

/* Parses `query` into `params` (the names a route accepts). Unknown,
 * repeated, nameless or badly encoded parameters are refused (false). An
 * empty value is taken as absent ("severity=" filters nothing). */
static bool parse_params(const char *query, size_t length, struct param *params, size_t count)
{
    if (query == NULL || length == 0)
        return true;
    const char *item = query;
    const char *end = query + length;
    while (item <= end) {
        const char *amp = memchr(item, '&', (size_t)(end - item));
        size_t item_length = amp != NULL ? (size_t)(amp - item) : (size_t)(end - item);
        const char *equal = memchr(item, '=', item_length);
        if (equal == NULL)
            return false;
        size_t name_length = (size_t)(equal - item);
        struct param *param = NULL;
        for (size_t i = 0; i < count; i++) {
            if (strlen(params[i].name) == name_length &&
                memcmp(params[i].name, item, name_length) == 0)
                param = &params[i];
        }
        if (param == NULL || param->present)
            return false;
        param->present = true;
        if (!decode_component(equal + 1, item_length - name_length - 1, true, param->value,
                              sizeof(param->value)))
            return false;
        if (amp == NULL)
            break;
        item = amp + 1;
    }
    return true;
}

/* The value of a parameter given with a non-empty value, else NULL. */
static const char *param_value(const struct param *param)
{
    return param->present && param->value[0] != '\0' ? param->value : NULL;
}

/* ---- routes ------------------------------------------------------------ */

enum route {
    ROUTE_NONE,
    ROUTE_INDEX,
    ROUTE_LOGIN,
    ROUTE_LOGOUT,
    ROUTE_ASSET,
    ROUTE_HEALTH,
    ROUTE_SUMMARY,
    ROUTE_DEVICES,
    ROUTE_DEVICE,
    ROUTE_FINDINGS,
    ROUTE_FLOWS,
    ROUTE_REPORT,
};

struct routed {
    enum route route;
    bool api;
    const struct web_asset *asset; /* ROUTE_ASSET, ROUTE_INDEX, ROUTE_LOGIN */
    enum web_format format;        /* ROUTE_REPORT */
    const char *device;            /* ROUTE_DEVICE: decoded name */
};

static const struct web_asset *asset_find(const char *name)
{
    for (size_t i = 0; i < web_asset_count; i++) {
        if (strcmp(web_assets[i].name, name) == 0)
            return &web_assets[i];
    }
    return NULL;
}

static bool route_api(const struct target *target, struct routed *routed)
{
    static const struct {
        const char *name;
        enum route route;
    } simple[] = {{"health", ROUTE_HEALTH},
                  {"summary", ROUTE_SUMMARY},
                  {"devices", ROUTE_DEVICES},
                  {"findings", ROUTE_FINDINGS},
                  {"flows", ROUTE_FLOWS}};
    const char *name = target->segments[1];
    if (target->segment_count == 2) {
        for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
            if (strcmp(name, simple[i].name) == 0) {
                routed->route = simple[i].route;
                return true;
            }
        }
        for (size_t i = 0; i < WEB_FORMAT_COUNT; i++) {
            if (strncmp(name, "report.", 7) == 0 &&
                strcmp(name + 7, web_formats[i].extension) == 0) {
                routed->route = ROUTE_REPORT;
                routed->format = (enum web_format)i;
                return true;
            }
        }
        return false;
    }
    if (target->segment_count == 3 && strcmp(name, "devices") == 0) {
        routed->route = ROUTE_DEVICE;
        routed->device = target->segments[2];
        return true;
    }
    return false;
}

/* Maps a parsed target to its route; ROUTE_NONE for anything else. */
static void route_target(const struct target *target, struct routed *routed)
{
    memset(routed, 0, sizeof(*routed));
    const char *first = target->segments[0];
    routed->api = target->segment_count >= 1 && strcmp(first, "api") == 0;
    if (target->segment_count == 0 ||
        (target->segment_count == 1 && strcmp(first, "index.html") == 0)) {
        routed->route = ROUTE_INDEX;
        routed->asset = asset_find("index.html");
    } else if (target->segment_count == 1 && strcmp(first, "login") == 0) {
        routed->route = ROUTE_LOGIN;
        routed->asset = asset_find("login.html");
    } else if (target->segment_count == 1 && strcmp(first, "logout") == 0) {
        routed->route = ROUTE_LOGOUT;
    } else if (target->segment_count == 2 && strcmp(first, "assets") == 0) {
        routed->asset = asset_find(target->segments[1]);
        routed->route = routed->asset != NULL ? ROUTE_ASSET : ROUTE_NONE;
    } else if (routed->api && target->segment_count >= 2) {
        route_api(target, routed);
    }
}

/* ---- reading the snapshot's report ------------------------------------- */

static const char *const severity_names[] = {"critical", "high", "medium", "low", "info"};

static cJSON *devices_of(const struct web_snapshot *snapshot)
{
    return cJSON_GetObjectItemCaseSensitive(snapshot->report, "devices");
}

static const char *device_name(const cJSON *device)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(device, "name"));
}

static cJSON *device_find(const struct web_snapshot *snapshot, const char *name)
{
    const cJSON *device;
    cJSON_ArrayForEach (device, devices_of(snapshot)) {
        const char *this_name = device_name(device);
        if (this_name != NULL && strcmp(this_name, name) == 0)
            return (cJSON *)device;
    }
    return NULL;
}

/* Copies member `name` of `from` into `to` (null when absent). */
static void copy_member(cJSON *to, const cJSON *from, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(from, name);
    cJSON_AddItemToObject(to, name,
                          item != NULL ? cJSON_Duplicate(item, true) : cJSON_CreateNull());
}

static double number_member(const cJSON *object, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    return cJSON_IsNumber(item) ? item->valuedouble : 0;
}

/* A device's identity, verdict and counts (the overview row). */
static cJSON *device_row(const cJSON *device)
{
    cJSON *row = cJSON_CreateObject();
    static const char *const members[] = {"name",      "vendor",  "model",  "location",
                                          "addresses", "verdict", "counts", "coverage"};
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
        copy_member(row, device, members[i]);
    cJSON_AddNumberToObject(
        row, "finding_count",
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(device, "findings")));
    cJSON_AddNumberToObject(row, "flow_count",
                            cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(device, "flows")));
    return row;
}

/* Totals over the devices: verdicts and open findings per severity. */
static cJSON *summary_totals(const struct web_snapshot *snapshot)
{
    double by_severity[5] = {0};
    double waived = 0;
    double conform = 0;
    double deviations = 0;
    const cJSON *device;
    cJSON_ArrayForEach (device, devices_of(snapshot)) {
        const cJSON *counts = cJSON_GetObjectItemCaseSensitive(device, "counts");
        for (size_t i = 0; i < 5; i++)
            by_severity[i] += number_member(counts, severity_names[i]);
        waived += number_member(counts, "waived");
        const char *verdict =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(device, "verdict"));
        if (verdict != NULL && strcmp(verdict, "conform") == 0)
            conform++;
        else
            deviations++;
    }
    cJSON *totals = cJSON_CreateObject();
    cJSON_AddNumberToObject(totals, "devices", conform + deviations);
    cJSON_AddNumberToObject(totals, "conform", conform);
    cJSON_AddNumberToObject(totals, "deviations", deviations);
    for (size_t i = 0; i < 5; i++)
        cJSON_AddNumberToObject(totals, severity_names[i], by_severity[i]);
    cJSON_AddNumberToObject(totals, "waived", waived);
    return totals;
}

static cJSON *build_summary(const struct web_server *server, const struct web_snapshot *snapshot)
{
    const cJSON *report = snapshot->report;
    cJSON *summary = cJSON_CreateObject();
    cJSON_AddBoolToObject(summary, "live", server->live);
    cJSON_AddBoolToObject(summary, "login_required", web_auth_required(server->auth));
    cJSON_AddNumberToObject(summary, "serial", (double)snapshot->serial);
    copy_member(summary, report, "generated_at");
    copy_member(summary, report, "matrix");
    cJSON *capture = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(report, "capture"), true);
    if (capture == NULL)
        capture = cJSON_CreateObject();
    cJSON_AddNumberToObject(capture, "rate_pps", snapshot->rate_pps);
    cJSON_AddNumberToObject(capture, "span_seconds", snapshot->span_seconds);
    cJSON_AddItemToObject(summary, "capture", capture);
    cJSON_AddItemToObject(summary, "totals", summary_totals(snapshot));
    cJSON *rows = cJSON_AddArrayToObject(summary, "devices");
    const cJSON *device;
    cJSON_ArrayForEach (device, devices_of(snapshot)) {
        cJSON_AddItemToArray(rows, device_row(device));
    }
    copy_member(summary, report, "wifi");
    copy_member(summary, report, "unattributed");
    cJSON_AddNumberToObject(summary, "dropped_results", number_member(report, "dropped_results"));
    return summary;
}

static cJSON *build_devices(const struct web_snapshot *snapshot)
{
    cJSON *answer = cJSON_CreateObject();
    cJSON *rows = cJSON_AddArrayToObject(answer, "devices");
    const cJSON *device;
    cJSON_ArrayForEach (device, devices_of(snapshot)) {
        cJSON_AddItemToArray(rows, device_row(device));
    }
    return answer;
}

static bool string_member_is(const cJSON *object, const char *name, const char *wanted)
{
    const char *value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(object, name));
    return wanted == NULL || (value != NULL && strcmp(value, wanted) == 0);
}

struct finding_filter {
    const char *severity;
    const char *code;
    const char *device;
    const char *status;
};

/* The entries of array `member` ("findings" or "flows") of every device
 * (or the one named), each with a "device" member first, that match. */
static cJSON *build_list(const struct web_snapshot *snapshot, const char *member,
                         const struct finding_filter *filter)
{
    cJSON *answer = cJSON_CreateObject();
    cJSON *count = cJSON_AddNumberToObject(answer, "count", 0);
    cJSON *list = cJSON_AddArrayToObject(answer, member);
    double matched = 0;
    const cJSON *device;
    cJSON_ArrayForEach (device, devices_of(snapshot)) {
        const char *name = device_name(device);
        if (name == NULL || (filter->device != NULL && strcmp(name, filter->device) != 0))
            continue;
        const cJSON *entry;
        cJSON_ArrayForEach (entry, cJSON_GetObjectItemCaseSensitive(device, member)) {
            if (!string_member_is(entry, "severity", filter->severity) ||
                !string_member_is(entry, "code", filter->code) ||
                !string_member_is(entry, "status", filter->status))
                continue;
            cJSON *copy = cJSON_CreateObject();
            cJSON_AddStringToObject(copy, "device", name);
            const cJSON *field;
            cJSON_ArrayForEach (field, entry) {
                cJSON_AddItemToObject(copy, field->string, cJSON_Duplicate(field, true));
            }
            cJSON_AddItemToArray(list, copy);
            matched++;
        }
    }
    cJSON_SetNumberValue(count, matched);
    return answer;
}

/* ---- handlers ---------------------------------------------------------- */

struct context {
    struct web_server *server;
    struct MHD_Connection *connection;
    struct web_request *request;
    const struct target *target;
    const struct routed *routed;
    bool post;
};

static enum MHD_Result bad_parameters(const struct context *ctx)
{
    return send_error(ctx->server, ctx->connection, ctx->routed->api, MHD_HTTP_BAD_REQUEST,
                      "bad or unknown query parameter");
}

static enum MHD_Result send_asset(const struct context *ctx, const struct web_asset *asset)
{
    if (asset == NULL)
        return send_error(ctx->server, ctx->connection, false, MHD_HTTP_NOT_FOUND, "not found");
    struct MHD_Response *response =
        MHD_create_response_from_buffer(asset->size, (void *)asset->data, MHD_RESPMEM_PERSISTENT);
    return send_response(ctx->server, ctx->connection, MHD_HTTP_OK, asset->content_type, response);
}

/* Findings (with filters) or flows (device filter) of the snapshot. */
static enum MHD_Result handle_list(const struct context *ctx, struct web_snapshot *snapshot,
                                   bool findings)
{
    struct param params[] = {
        {.name = "device"}, {.name = "severity"}, {.name = "code"}, {.name = "status"}};
    size_t count = findings ? 4 : 1;
    if (!parse_params(ctx->target->query, ctx->target->query_length, params, count))
        return bad_parameters(ctx);
    struct finding_filter filter = {.device = param_value(&params[0]),
                                    .severity = param_value(&params[1]),
                                    .code = param_value(&params[2]),
                                    .status = param_value(&params[3])};
    enum severity severity;
    enum finding_code code;
    bool valid = (filter.device == NULL || device_find(snapshot, filter.device) != NULL) &&
                 (filter.severity == NULL || severity_parse(filter.severity, &severity)) &&
                 (filter.code == NULL || finding_code_parse(filter.code, &code)) &&
                 (filter.status == NULL || strcmp(filter.status, "open") == 0 ||
                  strcmp(filter.status, "waived") == 0);
    if (!valid)
        return bad_parameters(ctx);
    return send_json(ctx->server, ctx->connection,
                     build_list(snapshot, findings ? "findings" : "flows", &filter));
}

/* The routes that read the snapshot (every /api/ route but health). */
static enum MHD_Result handle_data(const struct context *ctx)
{
    struct param none[1] = {{.name = ""}};
    enum route route = ctx->routed->route;
    if (route != ROUTE_FINDINGS && route != ROUTE_FLOWS &&
        !parse_params(ctx->target->query, ctx->target->query_length, none, 0))
        return bad_parameters(ctx);
    struct web_snapshot *snapshot = snapshot_acquire(ctx->server);
    if (snapshot == NULL)
        return send_error(ctx->server, ctx->connection, true, MHD_HTTP_SERVICE_UNAVAILABLE,
                          "no data yet");
    if (route == ROUTE_REPORT)
        return send_report(ctx->server, ctx->connection, snapshot, ctx->routed->format);
    enum MHD_Result result;
    if (route == ROUTE_SUMMARY) {
        result = send_json(ctx->server, ctx->connection, build_summary(ctx->server, snapshot));
    } else if (route == ROUTE_DEVICES) {
        result = send_json(ctx->server, ctx->connection, build_devices(snapshot));
    } else if (route == ROUTE_DEVICE) {
        const cJSON *device = device_find(snapshot, ctx->routed->device);
        result = device != NULL
                     ? send_json(ctx->server, ctx->connection, cJSON_Duplicate(device, true))
                     : send_error(ctx->server, ctx->connection, true, MHD_HTTP_NOT_FOUND,
                                  "no such device");
    } else {
        result = handle_list(ctx, snapshot, route == ROUTE_FINDINGS);
    }
    snapshot_release(snapshot);
    return result;
}

/* The client's address as 16 bytes (IPv4 mapped), for the login limit. */
static void client_address(struct MHD_Connection *connection, uint8_t address[16])
{
    memset(address, 0, 16);
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL)
        return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        address[10] = 0xff;
        address[11] = 0xff;
        memcpy(address + 12, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(address, &in6->sin6_addr, 16);
    }
}

static uint64_t now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec + 1; /* never 0: 0 marks free slots */
}

/* A cross-site form cannot log a browser in: an Origin, when sent, must be
 * this server's. */
static bool origin_allowed(const struct context *ctx)
{
    const char *origin = MHD_lookup_connection_value(ctx->connection, MHD_HEADER_KIND, "Origin");
    if (origin == NULL)
        return true;
    const char *host = MHD_lookup_connection_value(ctx->connection, MHD_HEADER_KIND, "Host");
    if (host == NULL)
        return false;
    char expected[WEB_PATH_MAX + 16];
    snprintf(expected, sizeof(expected), "%s://%s", ctx->server->tls ? "https" : "http", host);
    return strcmp(origin, expected) == 0;
}

static enum MHD_Result handle_login_post(const struct context *ctx)
{
    struct web_server *server = ctx->server;
    struct web_request *request = ctx->request;
    if (request->body_too_large)
        return send_error(server, ctx->connection, false, MHD_HTTP_CONTENT_TOO_LARGE,
                          "login form too large");
    if (!web_auth_required(server->auth))
        return send_redirect(server, ctx->connection, "/", NULL);
    if (!origin_allowed(ctx))
        return send_error(server, ctx->connection, false, MHD_HTTP_FORBIDDEN,
                          "cross-origin login refused");
    struct param params[] = {{.name = "user"}, {.name = "password"}};
    bool parsed = parse_params(request->body, request->body_length, params, 2) &&
                  params[0].present && params[1].present;
    enum web_login_result result = WEB_LOGIN_REFUSED;
    char session[WEB_AUTH_SESSION_ID_LEN + 1] = "";
    if (parsed) {
        uint8_t address[16];
        client_address(ctx->connection, address);
        result = web_auth_login(server->auth, address, params[0].value, params[1].value,
                                now_seconds(), session);
    }
    explicit_bzero(params[1].value, sizeof(params[1].value));
    if (result == WEB_LOGIN_RATE_LIMITED) {
        struct MHD_Response *response = MHD_create_response_from_buffer(
            strlen("429 too many failed logins, wait a minute\n"),
            (void *)"429 too many failed logins, wait a minute\n", MHD_RESPMEM_PERSISTENT);
        if (response != NULL)
            MHD_add_response_header(response, MHD_HTTP_HEADER_RETRY_AFTER, "60");
        return send_response(server, ctx->connection, MHD_HTTP_TOO_MANY_REQUESTS, TYPE_TEXT,
                             response);
    }
    if (result == WEB_LOGIN_ERROR)
        return send_error(server, ctx->connection, false, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "cannot create a session");
    if (result != WEB_LOGIN_OK)
        return send_redirect(server, ctx->connection, "/login?error=refused", NULL);
    char cookie[WEB_AUTH_SESSION_ID_LEN + 128];
    snprintf(cookie, sizeof(cookie),
             WEB_COOKIE "=%s; Path=/; Max-Age=%u; HttpOnly; SameSite=Strict%s", session,
             WEB_AUTH_SESSION_TTL, server->tls ? "; Secure" : "");
    enum MHD_Result sent = send_redirect(server, ctx->connection, "/", cookie);
    explicit_bzero(cookie, sizeof(cookie));
    explicit_bzero(session, sizeof(session));
    return sent;
}

static const char *session_cookie(struct MHD_Connection *connection)
{
    return MHD_lookup_connection_value(connection, MHD_COOKIE_KIND, WEB_COOKIE);
}

static enum MHD_Result handle_logout(const struct context *ctx)
{
    web_auth_logout(ctx->server->auth, session_cookie(ctx->connection));
    char cookie[128];
    snprintf(cookie, sizeof(cookie), WEB_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
             ctx->server->tls ? "; Secure" : "");
    return send_redirect(ctx->server, ctx->connection, "/login", cookie);
}

/* The login page, and its only parameter: which message to show. */
static enum MHD_Result handle_login_page(const struct context *ctx)
{
    struct param params[] = {{.name = "error"}};
    if (!parse_params(ctx->target->query, ctx->target->query_length, params, 1))
        return bad_parameters(ctx);
    const char *error = param_value(&params[0]);
    if (error != NULL && strcmp(error, "refused") != 0)
        return bad_parameters(ctx);
    return send_asset(ctx, ctx->routed->asset);
}

/* True when a Host header names this server: with a loopback listener the
 * host must be a loopback literal or "localhost", so a web page whose name
 * was re-bound to 127.0.0.1 (DNS rebinding) cannot read the API. */
static bool host_allowed(const struct context *ctx)
{
    if (!ctx->server->loopback)
        return true;
    const char *host = MHD_lookup_connection_value(ctx->connection, MHD_HEADER_KIND, "Host");
    if (host == NULL)
        return true; /* HTTP/1.0; MHD refuses HTTP/1.1 without Host */
    char name[WEB_PATH_MAX];
    size_t length = strlen(host);
    const char *colon = host[0] == '[' ? strstr(host, "]:") : strrchr(host, ':');
    if (colon != NULL)
        length = (size_t)(colon - host) + (host[0] == '[' ? 1 : 0);
    if (length >= sizeof(name))
        return false;
    memcpy(name, host, length);
    name[length] = '\0';
    if (strcmp(name, "localhost") == 0 || strcmp(name, "[::1]") == 0)
        return true;
    struct in_addr v4;
    return inet_pton(AF_INET, name, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

static bool route_is_public(enum route route)
{
    return route == ROUTE_LOGIN || route == ROUTE_ASSET || route == ROUTE_HEALTH;
}

static enum MHD_Result dispatch_route(const struct context *ctx)
{
    const struct routed *routed = ctx->routed;
    struct web_server *server = ctx->server;
    if (routed->route == ROUTE_LOGIN && ctx->post)
        return handle_login_post(ctx);
    if (!route_is_public(routed->route) && web_auth_required(server->auth) &&
        !web_auth_session_valid(server->auth, session_cookie(ctx->connection), now_seconds())) {
        if (routed->api)
            return send_error(server, ctx->connection, true, MHD_HTTP_UNAUTHORIZED,
                              "login required");
        return send_redirect(server, ctx->connection, "/login", NULL);
    }
    struct param none[1] = {{.name = ""}};
    switch (routed->route) {
    case ROUTE_LOGIN:
        return handle_login_page(ctx);
    case ROUTE_LOGOUT:
    case ROUTE_INDEX:
    case ROUTE_ASSET:
    case ROUTE_HEALTH:
        if (!parse_params(ctx->target->query, ctx->target->query_length, none, 0))
            return bad_parameters(ctx);
        if (routed->route == ROUTE_LOGOUT)
            return handle_logout(ctx);
        if (routed->route == ROUTE_HEALTH)
            return send_copy(server, ctx->connection, MHD_HTTP_OK, TYPE_TEXT, "ok\n", 3);
        return send_asset(ctx, routed->asset);
    default:
        return handle_data(ctx);
    }
}

static enum MHD_Result dispatch(struct web_server *server, struct MHD_Connection *connection,
                                struct web_request *request, const char *method)
{
    bool get =
        strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (request->target == NULL)
        return send_error(server, connection, false, MHD_HTTP_URI_TOO_LONG, "URI too long");
    bool api = strncmp(request->target, "/api/", 5) == 0;
    if (!get && !post)
        return send_not_allowed(server, connection, api, "GET, HEAD");
    struct target target;
    unsigned refusal = parse_target(request->target, &target);
    if (refusal != 0)
        return send_error(server, connection, api, refusal,
                          refusal == MHD_HTTP_URI_TOO_LONG ? "URI too long"
                          : refusal == MHD_HTTP_NOT_FOUND  ? "not found"
                                                           : "bad request target");
    struct routed routed;
    route_target(&target, &routed);
    struct context ctx = {server, connection, request, &target, &routed, post};
    if (!host_allowed(&ctx))
        return send_error(server, connection, routed.api, MHD_HTTP_MISDIRECTED_REQUEST,
                          "unexpected Host header");
    if (routed.route == ROUTE_NONE)
        return send_error(server, connection, routed.api, MHD_HTTP_NOT_FOUND, "not found");
    if (post && routed.route != ROUTE_LOGIN)
        return send_not_allowed(server, connection, routed.api, "GET, HEAD");
    if (!post && request->body_length > 0)
        return send_error(server, connection, routed.api, MHD_HTTP_BAD_REQUEST,
                          "unexpected request body");
    return dispatch_route(&ctx);
}

/* MHD's access handler: collects a (bounded) body, then dispatches. */
static enum MHD_Result handle_request(void *cls, struct MHD_Connection *connection, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **req_cls)
{
    (void)url;
    (void)version;
    struct web_server *server = cls;
    struct web_request *request = *req_cls;
    if (request == NULL)
        return send_error(server, connection, false, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "out of memory");
    if (!request->started) {
        request->started = true;
        return MHD_YES; /* the next call brings the body, or its end */
    }
    if (*upload_data_size != 0) {
        size_t room = WEB_LOGIN_BODY_MAX - request->body_length;
        if (*upload_data_size > room) {
            request->body_too_large = true;
            request->body_length = WEB_LOGIN_BODY_MAX;
        } else {
            memcpy(request->body + request->body_length, upload_data, *upload_data_size);
            request->body_length += *upload_data_size;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    request->body[request->body_length] = '\0';
    return dispatch(server, connection, request, method);
}

/* ---- starting and stopping --------------------------------------------- */

/* Parses "A.B.C.D:PORT" or "[IPv6]:PORT" (literals only, port 0-65535). */
static bool parse_listen(const char *text, struct sockaddr_storage *address, bool *ipv6,
                         bool *loopback)
{
    memset(address, 0, sizeof(*address));
    const char *port_text;
    char host[INET6_ADDRSTRLEN + 1];
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - text - 1) >= sizeof(host))
            return false;
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        port_text = close + 2;
    } else {
        const char *colon = strchr(text, ':');
        if (colon == NULL || (size_t)(colon - text) >= sizeof(host))
            return false;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        port_text = colon + 1;
    }
    size_t digits = strspn(port_text, "0123456789");
    if (digits == 0 || digits > 5 || port_text[digits] != '\0')
        return false;
    long port = strtol(port_text, NULL, 10);
    if (port > 65535)
        return false;
    struct sockaddr_in *in = (struct sockaddr_in *)address;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)address;
    *ipv6 = text[0] == '[';
    if (*ipv6) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
            return false;
        *loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
        return true;
    }
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
        return false;
    *loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    return true;
}

/* Reads a PEM file of at most WEB_PEM_MAX bytes into a new string. */
static char *read_pem(const char *path, char *err, size_t err_len)
{
    FILE *in = fopen(path, "r");
    if (in == NULL) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = calloc(1, WEB_PEM_MAX + 1);
    size_t length = text != NULL ? fread(text, 1, WEB_PEM_MAX + 1, in) : 0;
    bool failed = text == NULL || ferror(in) != 0;
    fclose(in);
    if (failed || length == 0 || length > WEB_PEM_MAX || memchr(text, '\0', length) != NULL ||
        strstr(text, "-----BEGIN ") == NULL) {
        snprintf(err, err_len, "%s: not a PEM file of at most %u bytes", path, WEB_PEM_MAX);
        if (text != NULL)
            explicit_bzero(text, WEB_PEM_MAX + 1);
        free(text);
        return NULL;
    }
    return text;
}

static void free_secret(char *text)
{
    if (text != NULL) {
        explicit_bzero(text, strlen(text));
        free(text);
    }
}

static void server_free(struct web_server *server)
{
    snapshot_release(server->current);
    web_auth_destroy(server->auth);
    free_secret(server->key_pem);
    free_secret(server->cert_pem);
    pthread_mutex_destroy(&server->lock);
    free(server);
}

/* Loads the certificate and key; both or neither must be given. */
static bool load_tls(struct web_server *server, const struct web_options *options, char *err,
                     size_t err_len)
{
    if (options->tls_cert == NULL && options->tls_key == NULL)
        return true;
    if (options->tls_cert == NULL || options->tls_key == NULL) {
        snprintf(err, err_len, "HTTPS needs both a certificate and a key");
        return false;
    }
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(err, err_len, "this libmicrohttpd has no TLS support");
        return false;
    }
    server->cert_pem = read_pem(options->tls_cert, err, err_len);
    server->key_pem = server->cert_pem != NULL ? read_pem(options->tls_key, err, err_len) : NULL;
    server->tls = server->key_pem != NULL;
    return server->tls;
}

/* Fills server->address from the bound port. */
static void record_address(struct web_server *server, const struct sockaddr_storage *address,
                           bool ipv6)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info != NULL ? info->port : 0;
    char host[INET6_ADDRSTRLEN] = "";
    if (ipv6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)address)->sin6_addr, host, sizeof(host));
        snprintf(server->address, sizeof(server->address), "[%s]:%u", host, port);
    } else {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)address)->sin_addr, host, sizeof(host));
        snprintf(server->address, sizeof(server->address), "%s:%u", host, port);
    }
}

static struct MHD_Daemon *start_daemon(struct web_server *server,
                                       const struct sockaddr_storage *address, bool ipv6)
{
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD;
    if (ipv6)
        flags |= MHD_USE_DUAL_STACK;
    uint16_t port = ntohs(ipv6 ? ((const struct sockaddr_in6 *)address)->sin6_port
                               : ((const struct sockaddr_in *)address)->sin_port);
    struct MHD_OptionItem tls_options[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, server->cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, server->key_pem},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES},
        {MHD_OPTION_END, 0, NULL},
    };
    if (server->tls)
        flags |= MHD_USE_TLS;
    else
        tls_options[0].option = MHD_OPTION_END;
    return MHD_start_daemon(flags, port, NULL, NULL, handle_request, server, MHD_OPTION_SOCK_ADDR,
                            address, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)WEB_THREADS,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_CONNECTIONS_MAX,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)WEB_CONNECTIONS_PER_IP,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_TIMEOUT_SECONDS,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_CONNECTION_MEMORY,
                            MHD_OPTION_URI_LOG_CALLBACK, request_begin, server,
                            MHD_OPTION_NOTIFY_COMPLETED, request_end, server, MHD_OPTION_ARRAY,
                            tls_options, MHD_OPTION_END);
}

struct web_server *web_start(const struct web_options *options, char *err, size_t err_len)
{
    const char *listen = options->listen != NULL ? options->listen : WEB_DEFAULT_LISTEN;
    struct sockaddr_storage address;
    bool ipv6 = false;
    bool loopback = false;
    if (!parse_listen(listen, &address, &ipv6, &loopback)) {
        snprintf(err, err_len,
                 "bad listen address \"%.64s\" (expected ADDR:PORT or [IPv6]:PORT, port 0-65535)",
                 listen);
        return NULL;
    }
    struct web_server *server = calloc(1, sizeof(*server));
    if (server == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&server->lock, NULL);
    server->live = options->live;
    server->loopback = loopback;
    if (!load_tls(server, options, err, err_len)) {
        server_free(server);
        return NULL;
    }
    server->auth = web_auth_create(options->accounts, err, err_len);
    if (server->auth == NULL) {
        server_free(server);
        return NULL;
    }
    server->daemon = start_daemon(server, &address, ipv6);
    if (server->daemon == NULL) {
        snprintf(err, err_len, "cannot serve on %s (address in use, not local, or bad %s)", listen,
                 server->tls ? "certificate or key" : "options");
        server_free(server);
        return NULL;
    }
    record_address(server, &address, ipv6);
    return server;
}

void web_stop(struct web_server *server)
{
    if (server == NULL)
        return;
    MHD_stop_daemon(server->daemon);
    server_free(server);
}
