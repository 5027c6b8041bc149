/* dicom_uids: names of the common DICOM SOP classes (PS3.6 annex A), the
 * abstract syntaxes an association proposes. Internal to inspect/. */
#ifndef FLUXAUDIT_INSPECT_DICOM_UIDS_H
#define FLUXAUDIT_INSPECT_DICOM_UIDS_H

#include <stddef.h>

/* Returns the short name of the SOP class `uid` ("CT Image Storage"), at
 * most FACT_NAME_MAX - 1 characters, or NULL if the table does not know it. */
const char *dicom_uid_name(const char *uid);

/* The table itself, for tests: entry `index` (NULL past the end). */
const char *dicom_uid_table_uid(size_t index);
const char *dicom_uid_table_name(size_t index);

#endif
