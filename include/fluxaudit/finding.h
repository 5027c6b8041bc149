/* finding: the stable finding codes and severities of DESIGN.md. */
#ifndef FLUXAUDIT_FINDING_H
#define FLUXAUDIT_FINDING_H

#include <stdbool.h>

enum finding_code {
    FINDING_FLOW_UNDECLARED,
    FINDING_FLOW_INTERNET_UNDECLARED,
    FINDING_FLOW_INBOUND_INTERNET,
    FINDING_FLOW_APP_MISMATCH,
    FINDING_FLOW_OUTSIDE_WINDOW,
    FINDING_FLOW_NOT_OBSERVED,
    FINDING_SERVICE_UNDECLARED,
    FINDING_TLS_OBSOLETE_VERSION,
    FINDING_TLS_WEAK_CIPHER,
    FINDING_TLS_WEAK_CERTIFICATE,
    FINDING_ENCRYPTION_BELOW_DECLARED,
    FINDING_CLEARTEXT_CREDENTIALS,
    FINDING_DEFAULT_CREDENTIALS,
    FINDING_CLEARTEXT_HEALTH_DATA,
    FINDING_REMOTE_ACCESS_TOOL,
    FINDING_WIFI_WEAK_SECURITY,
    FINDING_WIFI_NOT_ENTERPRISE,
    FINDING_WIFI_WEAK_EAP,
    FINDING_INSECURE_PROTOCOL,
    FINDING_CODE_COUNT
};

/* Ordered from most to least severe, so `a < b` means a is worse. */
enum severity {
    SEVERITY_CRITICAL,
    SEVERITY_HIGH,
    SEVERITY_MEDIUM,
    SEVERITY_LOW,
    SEVERITY_INFO,
    SEVERITY_COUNT
};

/* "FLOW_UNDECLARED"... */
const char *finding_code_name(enum finding_code code);

/* Parses a code name; returns false if unknown. */
bool finding_code_parse(const char *name, enum finding_code *out);

/* "critical", "high", ... */
const char *severity_name(enum severity severity);

/* Parses a severity name; returns false if unknown. */
bool severity_parse(const char *name, enum severity *out);

#endif
