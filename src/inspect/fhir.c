/* inspect/fhir: FHIR REST (and HL7 v2 over HTTP) seen in plain HTTP/1.x.
 *
 * A line-driven state machine per direction. Only message heads are read:
 * the request line up to its query string (a query never enters a buffer),
 * and the Content-Type, Accept, Content-Length and Transfer-Encoding
 * headers; every other header value (cookies, authorisation) is skipped
 * after its name. Bodies are skipped unread by Content-Length; a chunked
 * or close-delimited body ends the parsing of that direction. A request
 * counts as FHIR if its path names a FHIR base ("/fhir/", "/baseR4/") or
 * resource type, or if it carries a FHIR or HL7 media type. Only the
 * resource type is kept from the path: never an id or a query. */
#include "inspect/fhir.h"

#include <string.h>

#include "inspect/health_util.h"

#define FHIR_CONTENT_LENGTH_DIGITS 15
#define FHIR_DETECT_LINES 32

/* FHIR R4 resource types (hl7.org/fhir/R4/resourcelist.html), except the
 * two names longer than a fact name (MedicinalProductContraindication,
 * MedicinalProductUndesirableEffect). */
/* clang-format off */
static const char *const fhir_resource_types[] = {
    "Account", "ActivityDefinition", "AdverseEvent", "AllergyIntolerance", "Appointment",
    "AppointmentResponse", "AuditEvent", "Basic", "Binary", "BiologicallyDerivedProduct",
    "BodyStructure", "Bundle", "CapabilityStatement", "CarePlan", "CareTeam", "CatalogEntry",
    "ChargeItem", "ChargeItemDefinition", "Claim", "ClaimResponse", "ClinicalImpression",
    "CodeSystem", "Communication", "CommunicationRequest", "CompartmentDefinition",
    "Composition", "ConceptMap", "Condition", "Consent", "Contract", "Coverage",
    "CoverageEligibilityRequest", "CoverageEligibilityResponse", "DetectedIssue", "Device",
    "DeviceDefinition", "DeviceMetric", "DeviceRequest", "DeviceUseStatement",
    "DiagnosticReport", "DocumentManifest", "DocumentReference", "EffectEvidenceSynthesis",
    "Encounter", "Endpoint", "EnrollmentRequest", "EnrollmentResponse", "EpisodeOfCare",
    "EventDefinition", "Evidence", "EvidenceVariable", "ExampleScenario",
    "ExplanationOfBenefit", "FamilyMemberHistory", "Flag", "Goal", "GraphDefinition", "Group",
    "GuidanceResponse", "HealthcareService", "ImagingStudy", "Immunization",
    "ImmunizationEvaluation", "ImmunizationRecommendation", "ImplementationGuide",
    "InsurancePlan", "Invoice", "Library", "Linkage", "List", "Location", "Measure",
    "MeasureReport", "Media", "Medication", "MedicationAdministration", "MedicationDispense",
    "MedicationKnowledge", "MedicationRequest", "MedicationStatement", "MedicinalProduct",
    "MedicinalProductAuthorization", "MedicinalProductIndication",
    "MedicinalProductIngredient", "MedicinalProductInteraction",
    "MedicinalProductManufactured", "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical", "MessageDefinition", "MessageHeader",
    "MolecularSequence", "NamingSystem", "NutritionOrder", "Observation",
    "ObservationDefinition", "OperationDefinition", "OperationOutcome", "Organization",
    "OrganizationAffiliation", "Parameters", "Patient", "PaymentNotice",
    "PaymentReconciliation", "Person", "PlanDefinition", "Practitioner", "PractitionerRole",
    "Procedure", "Provenance", "Questionnaire", "QuestionnaireResponse", "RelatedPerson",
    "RequestGroup", "ResearchDefinition", "ResearchElementDefinition", "ResearchStudy",
    "ResearchSubject", "RiskAssessment", "RiskEvidenceSynthesis", "Schedule",
    "SearchParameter", "ServiceRequest", "Slot", "Specimen", "SpecimenDefinition",
    "StructureDefinition", "StructureMap", "Subscription", "Substance",
    "SubstanceNucleicAcid", "SubstancePolymer", "SubstanceProtein",
    "SubstanceReferenceInformation", "SubstanceSourceMaterial", "SubstanceSpecification",
    "SupplyDelivery", "SupplyRequest", "Task", "TerminologyCapabilities", "TestReport",
    "TestScript", "ValueSet", "VerificationResult", "VisionPrescription",
};
/* clang-format on */

/* Path segments that name a FHIR service base (compared ignoring case). */
static const char *const fhir_base_segments[] = {
    "fhir", "baser4", "baser4b", "baser5", "basedstu2", "basedstu3", "basestu3",
};

/* Version segments that may sit between a base and the resource type. */
static const char *const fhir_version_segments[] = {
    "r2", "r3", "r4", "r4b", "r5", "stu3", "dstu2", "dstu3",
};

/* FHIR (R4 3.1.0.1.10 and the older DSTU forms) and HL7 v2 media types. */
static const char *const fhir_media_types[] = {
    "application/fhir+json", "application/fhir+xml",   "application/fhir+ndjson",
    "application/json+fhir", "application/xml+fhir",   "x-application/hl7-v2+er7",
    "application/hl7-v2",    "application/hl7-v2+xml",
};

/* Header names whose values are read; every other value is skipped. */
static const char *const fhir_read_headers[] = {
    "content-type",
    "accept",
    "content-length",
    "transfer-encoding",
};

static const char *const fhir_methods[] = {
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS",
};

#define FHIR_COUNT(table) (sizeof(table) / sizeof((table)[0]))

const char *fhir_resource_type(const char *name, size_t len)
{
    for (size_t i = 0; i < FHIR_COUNT(fhir_resource_types); i++) {
        const char *type = fhir_resource_types[i];
        if (strlen(type) == len && memcmp(type, name, len) == 0)
            return type;
    }
    return NULL;
}

bool fhir_media_is_health(const char *media)
{
    for (size_t i = 0; i < FHIR_COUNT(fhir_media_types); i++) {
        if (strcmp(media, fhir_media_types[i]) == 0)
            return true;
    }
    return false;
}

static bool fhir_in_table(struct reader token, const char *const *table, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (health_equals_nocase(token, table[i]))
            return true;
    }
    return false;
}

/* The resource type a path segment names, exact case, or NULL. */
static const char *fhir_segment_resource(struct reader segment)
{
    size_t len = reader_left(&segment);
    const uint8_t *bytes = reader_bytes(&segment, len);
    if (bytes == NULL || len == 0)
        return NULL;
    return fhir_resource_type((const char *)bytes, len);
}

/* Looks for a FHIR base or resource type in a request target: the
 * resource type is the first segment, or the one after a base (and its
 * optional version) segment. Stops at the query or fragment. */
static void fhir_analyse_path(struct reader target, struct fhir_message *message)
{
    struct reader path = health_take_until(&target, '?');
    path = health_take_until(&path, '#');
    if (reader_left(&path) > 0 && reader_peek(&path, 0) != '/') {
        /* absolute form (proxy): skip "scheme://authority" */
        struct reader scheme = health_take_until(&path, ':');
        (void)scheme;
        reader_skip(&path, 3); /* "://" */
        struct reader authority = health_take_until(&path, '/');
        (void)authority;
    }
    if (path.failed || reader_u8(&path) != '/')
        return;
    bool after_base = true; /* the first segment may name a resource type */
    while (reader_left(&path) > 0) {
        struct reader segment = health_take_until(&path, '/');
        reader_skip(&path, reader_left(&path) > 0 ? 1 : 0);
        const char *resource = after_base ? fhir_segment_resource(segment) : NULL;
        if (resource != NULL) {
            message->fhir_path = true;
            memcpy(message->resource, resource, strlen(resource) + 1);
            return;
        }
        if (fhir_in_table(segment, fhir_base_segments, FHIR_COUNT(fhir_base_segments))) {
            message->fhir_path = true;
            after_base = true;
        } else {
            after_base = after_base && fhir_in_table(segment, fhir_version_segments,
                                                     FHIR_COUNT(fhir_version_segments));
        }
    }
}

/* "METHOD SP target[ SP version]": returns false if not a request line. */
static bool fhir_parse_request_line(struct reader line, struct fhir_message *message)
{
    struct reader method = health_take_until(&line, ' ');
    if (reader_u8(&line) != ' ' || line.failed)
        return false;
    bool known = false;
    for (size_t i = 0; i < FHIR_COUNT(fhir_methods) && !known; i++) {
        struct reader copy = method; /* methods are case-sensitive (RFC 9110 9.1) */
        size_t len = strlen(fhir_methods[i]);
        const uint8_t *bytes = reader_left(&copy) == len ? reader_bytes(&copy, len) : NULL;
        known = bytes != NULL && memcmp(bytes, fhir_methods[i], len) == 0;
    }
    if (!known)
        return false;
    struct reader target = health_take_until(&line, ' ');
    fhir_analyse_path(target, message);
    return true;
}

/* "HTTP/1.x NNN ...": returns false if not a status line. */
static bool fhir_parse_status_line(struct reader line, struct fhir_message *message)
{
    const uint8_t *version = reader_bytes(&line, 7);
    uint8_t minor = reader_u8(&line);
    uint8_t space = reader_u8(&line);
    unsigned status = 0;
    for (int i = 0; i < 3; i++) {
        uint8_t digit = reader_u8(&line);
        if (digit < '0' || digit > '9')
            return false;
        status = status * 10 + (unsigned)(digit - '0');
    }
    if (line.failed || memcmp(version, "HTTP/1.", 7) != 0 || minor < '0' || minor > '9' ||
        space != ' ')
        return false;
    message->no_body = status < 200 || status == 204 || status == 304;
    return true;
}

/* Copies a media type (before any parameter) in lower case; "" if it has
 * characters no media type has. */
static void fhir_copy_media(struct reader value, char out[FHIR_MEDIA_MAX])
{
    struct reader media = health_trim(health_take_until(&value, ';'));
    size_t len = reader_left(&media);
    out[0] = '\0';
    if (len == 0 || len >= FHIR_MEDIA_MAX)
        return;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = health_lower(reader_u8(&media));
        bool token = health_is_alnum(c) || strchr("!#$&^_.+-/", c) != NULL;
        if (!token || c == '\0')
            return;
        out[i] = (char)c;
    }
    out[len] = '\0';
}

/* Accept: keeps the first FHIR or HL7 media type of the list. */
static void fhir_read_accept(struct reader value, struct fhir_message *message)
{
    while (reader_left(&value) > 0 && message->accept[0] == '\0') {
        struct reader item = health_take_until(&value, ',');
        reader_skip(&value, reader_left(&value) > 0 ? 1 : 0);
        char media[FHIR_MEDIA_MAX];
        fhir_copy_media(item, media);
        if (fhir_media_is_health(media))
            memcpy(message->accept, media, sizeof(media));
    }
}

/* Content-Length: decimal digits only, else the body cannot be framed. */
static void fhir_read_length(struct reader value, struct fhir_message *message)
{
    struct reader digits = health_trim(value);
    size_t len = reader_left(&digits);
    uint64_t length = 0;
    if (len == 0 || len > FHIR_CONTENT_LENGTH_DIGITS)
        return;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = reader_u8(&digits);
        if (c < '0' || c > '9')
            return;
        length = length * 10 + (uint64_t)(c - '0');
    }
    message->content_length = length;
    message->has_length = true;
}

/* Transfer-Encoding: any mention of "chunked". */
static void fhir_read_transfer_encoding(struct reader value, struct fhir_message *message)
{
    static const char chunked[] = "chunked";
    size_t len = sizeof(chunked) - 1;
    while (reader_has(&value, len)) {
        struct reader window = value;
        window.end = window.pos + len;
        if (health_equals_nocase(window, chunked)) {
            message->chunked = true;
            return;
        }
        reader_skip(&value, 1);
    }
}

/* "Name: value" for the headers in fhir_read_headers. */
static void fhir_parse_header(struct reader line, struct fhir_message *message)
{
    struct reader name = health_take_until(&line, ':');
    if (reader_u8(&line) != ':' || line.failed)
        return;
    if (health_equals_nocase(name, "content-type"))
        fhir_copy_media(line, message->content_type);
    else if (health_equals_nocase(name, "accept"))
        fhir_read_accept(line, message);
    else if (health_equals_nocase(name, "content-length"))
        fhir_read_length(line, message);
    else if (health_equals_nocase(name, "transfer-encoding"))
        fhir_read_transfer_encoding(line, message);
}

/* Sets the flow's content type: the first seen, replaced once by a FHIR or
 * HL7 one if the first was not. */
static void fhir_offer_content_type(const char *media, struct fhir_facts *facts)
{
    if (media[0] == '\0')
        return;
    bool replace = facts->content_type[0] == '\0' ||
                   (!fhir_media_is_health(facts->content_type) && fhir_media_is_health(media));
    if (replace)
        memcpy(facts->content_type, media, strlen(media) + 1);
}

/* A request head is complete: commit it if it is a FHIR/HL7 request. */
static void fhir_commit_request(const struct fhir_message *message, struct fhir_facts *facts)
{
    bool health_type = fhir_media_is_health(message->content_type);
    bool health_accept = message->accept[0] != '\0';
    if (!message->fhir_path && !health_type && !health_accept)
        return;
    facts->seen = true;
    facts->requests++;
    if (message->resource[0] != '\0')
        health_list_add(&facts->resource_types[0][0], FACT_NAME_MAX, FACT_HEALTH_TYPES_MAX,
                        &facts->resource_type_count, message->resource);
    if (health_type || !health_accept)
        fhir_offer_content_type(message->content_type, facts);
    else
        fhir_offer_content_type(message->accept, facts);
}

/* The head ended (empty line): commit it and frame the body. */
static void fhir_end_head(struct fhir_stream *stream, int direction, struct fhir_facts *facts)
{
    const struct fhir_message *message = &stream->message;
    if (direction == 0)
        fhir_commit_request(message, facts);
    else if (fhir_media_is_health(message->content_type))
        fhir_offer_content_type(message->content_type, facts);
    stream->state = FHIR_STATE_START_LINE;
    if (direction != 0 && message->no_body)
        return;
    if (message->chunked || (direction != 0 && !message->has_length)) {
        stream->finished = true; /* a body this parser does not frame */
        return;
    }
    if (message->has_length && message->content_length > 0) {
        stream->skip = message->content_length;
        stream->state = FHIR_STATE_BODY;
    }
}

/* A complete line (without its \n). */
static void fhir_end_line(struct fhir_stream *stream, int direction, struct fhir_facts *facts)
{
    size_t len = stream->line_len;
    if (len > 0 && stream->line[len - 1] == '\r' && !stream->line_cut)
        len--;
    struct reader line = reader_make((const uint8_t *)stream->line, len);
    bool empty = len == 0 && !stream->line_cut;
    if (stream->state == FHIR_STATE_START_LINE) {
        if (!empty) {
            memset(&stream->message, 0, sizeof(stream->message));
            bool ok = direction == 0 ? fhir_parse_request_line(line, &stream->message)
                                     : fhir_parse_status_line(line, &stream->message);
            stream->state = FHIR_STATE_HEADERS;
            stream->finished = !ok;
        }
    } else if (empty) {
        fhir_end_head(stream, direction, facts);
    } else {
        fhir_parse_header(line, &stream->message);
    }
    explicit_bzero(stream->line, stream->line_len);
    stream->line_len = 0;
    stream->line_cut = false;
}

/* True if the header name now in the line is one whose value is read. */
static bool fhir_header_wanted(const struct fhir_stream *stream)
{
    struct reader name = reader_make((const uint8_t *)stream->line, stream->line_len);
    return fhir_in_table(name, fhir_read_headers, FHIR_COUNT(fhir_read_headers));
}

/* One byte of a head line that is not its \n. */
static void fhir_line_byte(struct fhir_stream *stream, int direction, uint8_t c)
{
    if (stream->line_cut)
        return;
    if (stream->state == FHIR_STATE_START_LINE && stream->line_len == 0 && c != '\r' &&
        (c < 'A' || c > 'Z')) {
        stream->finished = true; /* neither a method nor "HTTP/": not HTTP */
        return;
    }
    if (stream->state == FHIR_STATE_START_LINE && direction == 0 && (c == '?' || c == '#')) {
        stream->line_cut = true; /* the query string is never kept */
        return;
    }
    if (stream->state == FHIR_STATE_HEADERS && c == ':' &&
        memchr(stream->line, ':', stream->line_len) == NULL && !fhir_header_wanted(stream)) {
        stream->line_cut = true; /* a header whose value is not needed */
        return;
    }
    if (stream->line_len + 1 >= FHIR_LINE_CAP) {
        stream->line_cut = true;
        return;
    }
    stream->line[stream->line_len++] = (char)c;
}

void fhir_stream_consume(struct fhir_stream *stream, int direction, struct reader *bytes,
                         struct fhir_facts *facts)
{
    while (!stream->finished && reader_left(bytes) > 0) {
        if (stream->state == FHIR_STATE_BODY) {
            size_t take =
                reader_left(bytes) < stream->skip ? reader_left(bytes) : (size_t)stream->skip;
            reader_skip(bytes, take);
            stream->skip -= take;
            if (stream->skip == 0)
                stream->state = FHIR_STATE_START_LINE;
            continue;
        }
        uint8_t c = reader_u8(bytes);
        if (c == '\n')
            fhir_end_line(stream, direction, facts);
        else
            fhir_line_byte(stream, direction, c);
    }
    if (stream->finished)
        reader_skip(bytes, reader_left(bytes));
}

/* Copies the next line of `r` (without \r\n, cut to the buffer) and
 * consumes it with its \n. */
static struct reader fhir_detect_line(struct reader *r, uint8_t *out, size_t out_size)
{
    struct reader line = health_take_until(r, '\n');
    reader_skip(r, reader_left(r) > 0 ? 1 : 0);
    size_t len = reader_left(&line) < out_size ? reader_left(&line) : out_size;
    reader_copy(&line, out, len);
    if (len > 0 && out[len - 1] == '\r')
        len--;
    return reader_make(out, len);
}

bool fhir_detect(const uint8_t *payload, uint32_t len)
{
    struct reader r = reader_make(payload, len);
    uint8_t buffer[FHIR_LINE_CAP];
    struct fhir_message message;
    memset(&message, 0, sizeof(message));
    if (!fhir_parse_request_line(fhir_detect_line(&r, buffer, sizeof(buffer)), &message))
        return false;
    for (int i = 0; i < FHIR_DETECT_LINES && reader_left(&r) > 0 && !message.fhir_path; i++) {
        struct reader line = fhir_detect_line(&r, buffer, sizeof(buffer));
        if (reader_left(&line) == 0)
            break;
        fhir_parse_header(line, &message);
        if (fhir_media_is_health(message.content_type) || message.accept[0] != '\0')
            message.fhir_path = true;
    }
    explicit_bzero(buffer, sizeof(buffer));
    return message.fhir_path;
}
