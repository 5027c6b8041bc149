/* rules: how facts become findings, as data (rules/findings.json).
 *
 * For every finding code: whether it is raised, its severity, the
 * requirements it enforces (short names of requirements.md), a one-line
 * title and optional named variants with their own severity (a CBC suite is
 * a lower-severity TLS_WEAK_CIPHER than RC4). Which nDPI flow risks become
 * findings, and which applications are remote-access tools, are data too.
 * A hospital tunes all of it without recompiling. rules_load refuses a file
 * with any error, reporting all of them as file:line:column. */
#ifndef FLUXAUDIT_RULES_H
#define FLUXAUDIT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "fluxaudit/diag.h"
#include "fluxaudit/finding.h"

#define RULES_FORMAT "fluxaudit-rules/1"
#define RULE_MAX_REQUIREMENTS 6
#define RULE_TEXT_MAX 96

#define RULE_MAX_VARIANTS 8
#define RULE_VARIANT_NAME_MAX 24
#define RULES_MAX_RISKS 48
#define RULES_MAX_APPS 32
#define RULES_APP_NAME_MAX 32

/* A named case of a finding code with its own severity and title, e.g.
 * TLS_WEAK_CIPHER "legacy" (CBC or no forward secrecy). */
struct rule_variant {
    char name[RULE_VARIANT_NAME_MAX];
    bool enabled;
    enum severity severity;
    char title[RULE_TEXT_MAX];    /* "" to use the rule's title */
};

struct rule {
    bool enabled;
    enum severity severity;
    char title[RULE_TEXT_MAX];
    char requirements[RULE_MAX_REQUIREMENTS][RULE_TEXT_MAX];
    size_t requirement_count;
    struct rule_variant variants[RULE_MAX_VARIANTS];
    size_t variant_count;
};

/* An nDPI flow risk that an auditor must see, and the finding it raises. */
struct risk_rule {
    unsigned risk;                /* nDPI risk number (bit in flow_facts.ndpi_risks) */
    char key[48];                 /* its name in the rules file, e.g. "NDPI_SMB_INSECURE_VERSION" */
    enum finding_code code;
    bool has_severity;            /* overrides the code's severity */
    enum severity severity;
};

struct rules {
    struct rule by_code[FINDING_CODE_COUNT];
    struct risk_rule risks[RULES_MAX_RISKS];
    size_t risk_count;
    char remote_access_apps[RULES_MAX_APPS][RULES_APP_NAME_MAX]; /* nDPI protocol names */
    size_t remote_access_app_count;
};

/* Loads `path`. Every finding code must be defined exactly once. Returns
 * true on success; on failure `rules` is untouched and `diag` holds every
 * error. */
bool rules_load(const char *path, struct rules *rules, struct diag *diag);

/* Same, from a buffer; `name` is used in diagnostics. */
bool rules_parse(const char *name, const char *text, size_t len, struct rules *rules, struct diag *diag);

/* The variant `name` of `rule`, or NULL when it has none by that name. */
const struct rule_variant *rule_find_variant(const struct rule *rule, const char *name);

/* The rules file installed with the program, or the one in the source tree
 * when running from a build directory. */
const char *rules_default_path(void);

#endif
