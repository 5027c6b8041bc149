/* rules: the `fluxaudit-rules/1` file that maps finding codes to whether
 * they are raised, their severity, requirements and title.
 *
 * The whole file is validated into a scratch copy and committed to the
 * caller's struct only when no error was found, so a bad file never leaves
 * rules half applied. Every error is reported at its file:line:column. */
#include "fluxaudit/rules.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fluxaudit/dpi.h"
#include "util/json_locate.h"

#define RULES_FILE_MAX ((size_t)1024 * 1024) /* a rules file is a few KiB */
#define DESCRIBE_MAX 64

static const char *const top_keys[] = {"format", "findings", "ndpi_risks", "remote_access_apps"};
static const char *const rule_keys[] = {"severity", "requirements", "title", "enabled", "variants"};
static const char *const variant_keys[] = {"severity", "title", "enabled"};
static const char *const risk_keys[] = {"finding", "severity"};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

struct rules_loader {
    struct json_reporter report;
};

/* True if text has no control character (it ends up in reports). */
static bool text_is_clean(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7F)
            return false;
    }
    return true;
}

/* Copies a non-blank string of less than RULE_TEXT_MAX bytes into out. */
static bool copy_short_text(struct rules_loader *l, const char *key, const cJSON *node,
                            char out[RULE_TEXT_MAX], const char *what)
{
    if (!cJSON_IsString(node)) {
        json_report_expected(&l->report, key, node, what);
        return false;
    }
    size_t len = strlen(node->valuestring);
    if (len >= RULE_TEXT_MAX) {
        json_report_error(&l->report, node, "\"%s\": too long (%zu bytes, at most %d)", key, len,
                          RULE_TEXT_MAX - 1);
        return false;
    }
    if (len == 0 || strspn(node->valuestring, " ") == len) {
        json_report_error(&l->report, node, "\"%s\": expected %s, got a blank string", key, what);
        return false;
    }
    if (!text_is_clean(node->valuestring)) {
        json_report_error(&l->report, node, "\"%s\": control characters are not allowed", key);
        return false;
    }
    memcpy(out, node->valuestring, len + 1);
    return true;
}

/* Reads "severity" of `object` into *out; a missing key is an error only
 * when `required`. Returns true if a valid severity was read. */
static bool load_severity(struct rules_loader *l, const cJSON *object, bool required,
                          enum severity *out)
{
    const char *what = "\"critical\", \"high\", \"medium\", \"low\" or \"info\"";
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(object, "severity");
    if (node == NULL) {
        if (required)
            json_report_error(&l->report, object, "missing required key \"severity\" (expected %s)",
                              what);
        return false;
    }
    if (!cJSON_IsString(node) || !severity_parse(node->valuestring, out)) {
        json_report_expected(&l->report, "severity", node, what);
        return false;
    }
    return true;
}

/* Reads an optional boolean "enabled" (default true). */
static bool load_enabled(struct rules_loader *l, const cJSON *object)
{
    const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(object, "enabled");
    if (enabled == NULL)
        return true;
    if (!cJSON_IsBool(enabled)) {
        json_report_expected(&l->report, "enabled", enabled, "true or false");
        return true;
    }
    return cJSON_IsTrue(enabled);
}

/* True for names made of [a-z0-9-], 1 to RULE_VARIANT_NAME_MAX-1 bytes. */
static bool variant_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len >= RULE_VARIANT_NAME_MAX)
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

static void load_variants(struct rules_loader *l, const cJSON *object, struct rule *rule)
{
    const cJSON *variants = cJSON_GetObjectItemCaseSensitive(object, "variants");
    if (variants == NULL)
        return;
    if (!cJSON_IsObject(variants)) {
        json_report_expected(&l->report, "variants", variants,
                             "an object mapping variant names to "
                             "{\"severity\": ...}");
        return;
    }
    const cJSON *member;
    cJSON_ArrayForEach (member, variants) {
        char q[DESCRIBE_MAX];
        if (!variant_name_ok(member->string)) {
            json_report_error_at_key(&l->report, member,
                                     "variant name %s: expected 1 to %d characters among "
                                     "a-z, 0-9 and '-'",
                                     json_locate_quote(member->string, q, sizeof(q)),
                                     RULE_VARIANT_NAME_MAX - 1);
            continue;
        }
        if (rule->variant_count >= RULE_MAX_VARIANTS) {
            json_report_error_at_key(&l->report, member, "too many variants (at most %d)",
                                     RULE_MAX_VARIANTS);
            return;
        }
        if (!cJSON_IsObject(member)) {
            json_report_expected(&l->report, member->string, member, "an object with \"severity\"");
            continue;
        }
        struct rule_variant *variant = &rule->variants[rule->variant_count++];
        snprintf(variant->name, sizeof(variant->name), "%s", member->string);
        json_report_unknown_keys(&l->report, member, variant_keys, COUNT_OF(variant_keys),
                                 "a variant");
        load_severity(l, member, true, &variant->severity);
        variant->enabled = load_enabled(l, member);
        const cJSON *title = cJSON_GetObjectItemCaseSensitive(member, "title");
        if (title != NULL)
            copy_short_text(l, "title", title, variant->title, "a one-line title");
    }
}

static void load_requirements(struct rules_loader *l, const cJSON *object, struct rule *rule)
{
    const char *what = "an array of 1 to 6 requirement references such as "
                       "\"CLAUSIER-2025 O-8.1\"";
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(object, "requirements");
    if (node == NULL) {
        json_report_error(&l->report, object, "missing required key \"requirements\" (expected %s)",
                          what);
        return;
    }
    int n = cJSON_IsArray(node) ? cJSON_GetArraySize(node) : 0;
    if (n == 0) {
        json_report_expected(&l->report, "requirements", node, what);
        return;
    }
    if (n > RULE_MAX_REQUIREMENTS) {
        json_report_error(&l->report, node,
                          "\"requirements\": too many references (%d, at most %d)", n,
                          RULE_MAX_REQUIREMENTS);
        return;
    }
    const cJSON *item;
    cJSON_ArrayForEach (item, node) {
        if (copy_short_text(l, "requirements", item, rule->requirements[rule->requirement_count],
                            "a requirement reference such as \"CLAUSIER-2025 O-8.1\""))
            rule->requirement_count++;
    }
}

static void load_rule(struct rules_loader *l, const cJSON *member, struct rule *rule)
{
    memset(rule, 0, sizeof(*rule));
    rule->enabled = true;
    if (!cJSON_IsObject(member)) {
        json_report_expected(&l->report, member->string, member,
                             "an object with \"severity\", "
                             "\"requirements\" and \"title\"");
        return;
    }
    json_report_unknown_keys(&l->report, member, rule_keys, COUNT_OF(rule_keys), "a rule");
    load_severity(l, member, true, &rule->severity);
    load_requirements(l, member, rule);
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(member, "title");
    if (title == NULL)
        json_report_error(&l->report, member,
                          "missing required key \"title\" (expected a one-line title)");
    else
        copy_short_text(l, "title", title, rule->title, "a one-line title");
    rule->enabled = load_enabled(l, member);
    load_variants(l, member, rule);
}

/* "ndpi_risks": { "NDPI_SMB_INSECURE_VERSION": { "finding": CODE, "severity": S } } */
static void load_risks(struct rules_loader *l, const cJSON *root, struct rules *out)
{
    const cJSON *risks = cJSON_GetObjectItemCaseSensitive(root, "ndpi_risks");
    if (risks == NULL)
        return;
    if (!cJSON_IsObject(risks)) {
        json_report_expected(&l->report, "ndpi_risks", risks,
                             "an object mapping nDPI risk names to "
                             "{\"finding\": CODE}");
        return;
    }
    const cJSON *member;
    cJSON_ArrayForEach (member, risks) {
        char q[DESCRIBE_MAX];
        int risk = dpi_risk_from_key(member->string);
        if (risk < 0) {
            json_report_error_at_key(&l->report, member,
                                     "unknown nDPI risk %s (expected a name of nDPI 4.2's "
                                     "ndpi_risk_enum such as \"NDPI_SMB_INSECURE_VERSION\")",
                                     json_locate_quote(member->string, q, sizeof(q)));
            continue;
        }
        if (out->risk_count >= RULES_MAX_RISKS) {
            json_report_error_at_key(&l->report, member, "too many nDPI risks (at most %d)",
                                     RULES_MAX_RISKS);
            return;
        }
        if (!cJSON_IsObject(member)) {
            json_report_expected(&l->report, member->string, member, "an object with \"finding\"");
            continue;
        }
        json_report_unknown_keys(&l->report, member, risk_keys, COUNT_OF(risk_keys),
                                 "an nDPI risk rule");
        struct risk_rule *rule = &out->risks[out->risk_count];
        rule->risk = (unsigned)risk;
        snprintf(rule->key, sizeof(rule->key), "%s", member->string);
        const cJSON *finding = cJSON_GetObjectItemCaseSensitive(member, "finding");
        if (finding == NULL) {
            json_report_error(&l->report, member,
                              "missing required key \"finding\" (expected a finding code)");
            continue;
        }
        if (!cJSON_IsString(finding) || !finding_code_parse(finding->valuestring, &rule->code)) {
            json_report_expected(&l->report, "finding", finding,
                                 "a finding code such as \"INSECURE_PROTOCOL\"");
            continue;
        }
        rule->has_severity = load_severity(l, member, false, &rule->severity);
        out->risk_count++;
    }
}

/* "remote_access_apps": ["TeamViewer", ...] */
static void load_remote_access_apps(struct rules_loader *l, const cJSON *root, struct rules *out)
{
    const char *what = "an array of nDPI application names such as \"TeamViewer\"";
    const cJSON *apps = cJSON_GetObjectItemCaseSensitive(root, "remote_access_apps");
    if (apps == NULL)
        return;
    if (!cJSON_IsArray(apps)) {
        json_report_expected(&l->report, "remote_access_apps", apps, what);
        return;
    }
    const cJSON *item;
    cJSON_ArrayForEach (item, apps) {
        if (out->remote_access_app_count >= RULES_MAX_APPS) {
            json_report_error(&l->report, item,
                              "\"remote_access_apps\": too many names (at most %d)",
                              RULES_MAX_APPS);
            return;
        }
        if (!cJSON_IsString(item) || item->valuestring[0] == '\0' ||
            strlen(item->valuestring) >= RULES_APP_NAME_MAX || !text_is_clean(item->valuestring)) {
            json_report_expected(&l->report, "remote_access_apps", item,
                                 "an application name of 1 to 31 "
                                 "printable characters");
            continue;
        }
        snprintf(out->remote_access_apps[out->remote_access_app_count++], RULES_APP_NAME_MAX, "%s",
                 item->valuestring);
    }
}

static void load_findings(struct rules_loader *l, const cJSON *root, struct rules *out)
{
    const cJSON *findings = cJSON_GetObjectItemCaseSensitive(root, "findings");
    if (findings == NULL) {
        json_report_error(&l->report, root,
                          "missing required key \"findings\" (expected an object mapping "
                          "finding codes to rules)");
        return;
    }
    if (!cJSON_IsObject(findings)) {
        json_report_expected(&l->report, "findings", findings,
                             "an object mapping finding codes to rules");
        return;
    }
    bool seen[FINDING_CODE_COUNT] = {false};
    const char *codes[FINDING_CODE_COUNT];
    for (int i = 0; i < FINDING_CODE_COUNT; i++)
        codes[i] = finding_code_name((enum finding_code)i);
    const cJSON *member;
    cJSON_ArrayForEach (member, findings) {
        enum finding_code code;
        char q[DESCRIBE_MAX];
        if (!finding_code_parse(member->string, &code)) {
            const char *hint = json_locate_suggest(member->string, codes, FINDING_CODE_COUNT);
            if (hint != NULL)
                json_report_error_at_key(&l->report, member,
                                         "unknown finding code %s (did you mean \"%s\"?)",
                                         json_locate_quote(member->string, q, sizeof(q)), hint);
            else
                json_report_error_at_key(&l->report, member, "unknown finding code %s",
                                         json_locate_quote(member->string, q, sizeof(q)));
            continue;
        }
        /* Duplicate keys were refused by json_locate_parse already. */
        seen[code] = true;
        load_rule(l, member, &out->by_code[code]);
    }
    for (int i = 0; i < FINDING_CODE_COUNT; i++) {
        if (!seen[i])
            json_report_error(&l->report, findings,
                              "\"findings\": missing rule for %s (every finding code must "
                              "have one)",
                              codes[i]);
    }
}

/* Parses and validates rules held in memory; see rules.h. */
bool rules_parse(const char *name, const char *text, size_t len, struct rules *rules,
                 struct diag *diag)
{
    size_t errors_before = diag->errors;
    size_t entries_before = diag->count;
    if (len > RULES_FILE_MAX) {
        diag_error(diag, name, 0, 0, "file too large (%zu bytes, at most %zu)", len,
                   RULES_FILE_MAX);
        return false;
    }
    struct json_document doc;
    if (!json_locate_parse(name, text, len, &doc, diag))
        return false;
    struct rules_loader l = {.report = {name, diag, &doc.locations}};
    struct rules *scratch = calloc(1, sizeof(*scratch));
    const cJSON *root = doc.root;
    if (scratch == NULL) {
        diag_error(diag, name, 0, 0, "out of memory");
    } else if (!cJSON_IsObject(root)) {
        char got[DESCRIBE_MAX];
        json_locate_describe(root, got, sizeof(got));
        json_report_error(&l.report, root,
                          "expected a JSON object with \"format\": \"%s\" at the top level, "
                          "got %s",
                          RULES_FORMAT, got);
    } else {
        json_report_unknown_keys(&l.report, root, top_keys, COUNT_OF(top_keys), "the rules file");
        const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
        if (format == NULL)
            json_report_error(&l.report, root, "missing \"format\": expected \"format\": \"%s\"",
                              RULES_FORMAT);
        else if (!cJSON_IsString(format) || strcmp(format->valuestring, RULES_FORMAT) != 0)
            json_report_expected(&l.report, "format", format, "\"" RULES_FORMAT "\"");
        load_findings(&l, root, scratch);
        load_risks(&l, root, scratch);
        load_remote_access_apps(&l, root, scratch);
    }
    json_locate_sort_diag(diag, entries_before);
    bool ok = diag->errors == errors_before;
    if (ok)
        *rules = *scratch;
    free(scratch);
    json_locate_free(&doc);
    return ok;
}

/* Loads the rules file at `path`; see rules.h. */
bool rules_load(const char *path, struct rules *rules, struct diag *diag)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        diag_error(diag, path, 0, 0, "cannot open: %s", strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fileno(file), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(file);
        diag_error(diag, path, 0, 0, "cannot read: is a directory");
        return false;
    }
    char *text = malloc(RULES_FILE_MAX + 1);
    size_t len = text != NULL ? fread(text, 1, RULES_FILE_MAX + 1, file) : 0;
    bool failed = text == NULL || ferror(file);
    fclose(file);
    if (failed) {
        diag_error(diag, path, 0, 0, "cannot read: %s",
                   text == NULL ? "out of memory" : "read error");
        free(text);
        return false;
    }
    bool ok = rules_parse(path, text, len, rules, diag);
    free(text);
    return ok;
}

const struct rule_variant *rule_find_variant(const struct rule *rule, const char *name)
{
    for (size_t i = 0; name != NULL && i < rule->variant_count; i++) {
        if (strcmp(rule->variants[i].name, name) == 0)
            return &rule->variants[i];
    }
    return NULL;
}

/* $FLUXAUDIT_RULES when set; else the source tree's rules/findings.json
 * when it exists (running from a build directory); else the installed
 * copy. */
const char *rules_default_path(void)
{
    const char *env = getenv("FLUXAUDIT_RULES");
    if (env != NULL && env[0] != '\0')
        return env;
#ifdef FLUXAUDIT_SOURCE_ROOT
    if (access(FLUXAUDIT_SOURCE_ROOT "/rules/findings.json", R_OK) == 0)
        return FLUXAUDIT_SOURCE_ROOT "/rules/findings.json";
#endif
#ifdef FLUXAUDIT_DATADIR
    return FLUXAUDIT_DATADIR "/findings.json";
#else
    return "/usr/local/share/fluxaudit/findings.json";
#endif
}
