/* finding: names of the stable finding codes and severities (DESIGN.md). */
#include "fluxaudit/finding.h"

#include <stddef.h>
#include <string.h>

/* Indexed by enum finding_code; these names are an external interface
 * (reports, rules files, SIEM filters): never rename one. */
static const char *const finding_code_names[FINDING_CODE_COUNT] = {
    [FINDING_FLOW_UNDECLARED] = "FLOW_UNDECLARED",
    [FINDING_FLOW_INTERNET_UNDECLARED] = "FLOW_INTERNET_UNDECLARED",
    [FINDING_FLOW_INBOUND_INTERNET] = "FLOW_INBOUND_INTERNET",
    [FINDING_FLOW_APP_MISMATCH] = "FLOW_APP_MISMATCH",
    [FINDING_FLOW_OUTSIDE_WINDOW] = "FLOW_OUTSIDE_WINDOW",
    [FINDING_FLOW_NOT_OBSERVED] = "FLOW_NOT_OBSERVED",
    [FINDING_SERVICE_UNDECLARED] = "SERVICE_UNDECLARED",
    [FINDING_TLS_OBSOLETE_VERSION] = "TLS_OBSOLETE_VERSION",
    [FINDING_TLS_WEAK_CIPHER] = "TLS_WEAK_CIPHER",
    [FINDING_TLS_WEAK_CERTIFICATE] = "TLS_WEAK_CERTIFICATE",
    [FINDING_ENCRYPTION_BELOW_DECLARED] = "ENCRYPTION_BELOW_DECLARED",
    [FINDING_CLEARTEXT_CREDENTIALS] = "CLEARTEXT_CREDENTIALS",
    [FINDING_DEFAULT_CREDENTIALS] = "DEFAULT_CREDENTIALS",
    [FINDING_CLEARTEXT_HEALTH_DATA] = "CLEARTEXT_HEALTH_DATA",
    [FINDING_REMOTE_ACCESS_TOOL] = "REMOTE_ACCESS_TOOL",
    [FINDING_WIFI_WEAK_SECURITY] = "WIFI_WEAK_SECURITY",
    [FINDING_WIFI_NOT_ENTERPRISE] = "WIFI_NOT_ENTERPRISE",
    [FINDING_WIFI_WEAK_EAP] = "WIFI_WEAK_EAP",
    [FINDING_INSECURE_PROTOCOL] = "INSECURE_PROTOCOL",
};

static const char *const severity_names[SEVERITY_COUNT] = {
    [SEVERITY_CRITICAL] = "critical",
    [SEVERITY_HIGH] = "high",
    [SEVERITY_MEDIUM] = "medium",
    [SEVERITY_LOW] = "low",
    [SEVERITY_INFO] = "info",
};

/* Returns the code's name, or "UNKNOWN" for a value out of range. */
const char *finding_code_name(enum finding_code code)
{
    if ((unsigned)code >= FINDING_CODE_COUNT)
        return "UNKNOWN";
    return finding_code_names[code];
}

/* Parses an exact (case-sensitive) code name; returns false if unknown. */
bool finding_code_parse(const char *name, enum finding_code *out)
{
    if (name == NULL)
        return false;
    for (int i = 0; i < FINDING_CODE_COUNT; i++) {
        if (strcmp(name, finding_code_names[i]) == 0) {
            if (out != NULL)
                *out = (enum finding_code)i;
            return true;
        }
    }
    return false;
}

/* Returns the severity's name, or "unknown" for a value out of range. */
const char *severity_name(enum severity severity)
{
    if ((unsigned)severity >= SEVERITY_COUNT)
        return "unknown";
    return severity_names[severity];
}

/* Parses an exact (lower-case) severity name; returns false if unknown. */
bool severity_parse(const char *name, enum severity *out)
{
    if (name == NULL)
        return false;
    for (int i = 0; i < SEVERITY_COUNT; i++) {
        if (strcmp(name, severity_names[i]) == 0) {
            if (out != NULL)
                *out = (enum severity)i;
            return true;
        }
    }
    return false;
}
