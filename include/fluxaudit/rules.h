/* rules: how facts become findings, as data (rules/findings.json).
 *
 * For every finding code: whether it is raised, its severity, the
 * requirements it enforces (short names of requirements.md) and a one-line
 * title. A hospital tunes these without recompiling. rules_load refuses a
 * file with any error, reporting all of them as file:line:column. */
#ifndef FLUXAUDIT_RULES_H
#define FLUXAUDIT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "fluxaudit/diag.h"
#include "fluxaudit/finding.h"

#define RULES_FORMAT "fluxaudit-rules/1"
#define RULE_MAX_REQUIREMENTS 6
#define RULE_TEXT_MAX 96

struct rule {
    bool enabled;
    enum severity severity;
    char title[RULE_TEXT_MAX];
    char requirements[RULE_MAX_REQUIREMENTS][RULE_TEXT_MAX];
    size_t requirement_count;
};

struct rules {
    struct rule by_code[FINDING_CODE_COUNT];
};

/* Loads `path`. Every finding code must be defined exactly once. Returns
 * true on success; on failure `rules` is untouched and `diag` holds every
 * error. */
bool rules_load(const char *path, struct rules *rules, struct diag *diag);

/* Same, from a buffer; `name` is used in diagnostics. */
bool rules_parse(const char *name, const char *text, size_t len, struct rules *rules, struct diag *diag);

/* The rules file installed with the program, or the one in the source tree
 * when running from a build directory. */
const char *rules_default_path(void);

#endif
