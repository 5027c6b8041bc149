/* dicom_uids: SOP class UID -> short name.
 *
 * The names follow PS3.6 annex A, shortened to fit a fact name (modality
 * abbreviations CT, MR, US..., "Q/R" for Query/Retrieve). A linear scan:
 * the table is small and is only read when an association PDU arrives. */
#include "inspect/dicom_uids.h"

#include <string.h>

struct dicom_uid_entry {
    const char *uid;
    const char *name;
};

static const struct dicom_uid_entry dicom_uid_table[] = {
    /* services */
    {"1.2.840.10008.1.1", "Verification"},
    {"1.2.840.10008.1.20.1", "Storage Commitment Push"},
    {"1.2.840.10008.3.1.2.3.3", "Modality Performed Proc Step"},
    {"1.2.840.10008.3.1.2.3.5", "MPPS Notification"},
    {"1.2.840.10008.5.1.1.1", "Basic Film Session"},
    {"1.2.840.10008.5.1.1.2", "Basic Film Box"},
    {"1.2.840.10008.5.1.1.9", "Basic Grayscale Print Mgmt"},
    {"1.2.840.10008.5.1.1.16", "Printer"},
    {"1.2.840.10008.5.1.1.18", "Basic Color Print Mgmt"},
    /* query/retrieve and worklists */
    {"1.2.840.10008.5.1.4.1.2.1.1", "Patient Root Q/R FIND"},
    {"1.2.840.10008.5.1.4.1.2.1.2", "Patient Root Q/R MOVE"},
    {"1.2.840.10008.5.1.4.1.2.1.3", "Patient Root Q/R GET"},
    {"1.2.840.10008.5.1.4.1.2.2.1", "Study Root Q/R FIND"},
    {"1.2.840.10008.5.1.4.1.2.2.2", "Study Root Q/R MOVE"},
    {"1.2.840.10008.5.1.4.1.2.2.3", "Study Root Q/R GET"},
    {"1.2.840.10008.5.1.4.1.2.3.1", "Patient/Study Only Q/R FIND"},
    {"1.2.840.10008.5.1.4.1.2.3.2", "Patient/Study Only Q/R MOVE"},
    {"1.2.840.10008.5.1.4.1.2.3.3", "Patient/Study Only Q/R GET"},
    {"1.2.840.10008.5.1.4.31", "Modality Worklist FIND"},
    {"1.2.840.10008.5.1.4.33", "Instance Availability Notif"},
    {"1.2.840.10008.5.1.4.34.6.1", "UPS Push"},
    {"1.2.840.10008.5.1.4.34.6.2", "UPS Watch"},
    {"1.2.840.10008.5.1.4.34.6.3", "UPS Pull"},
    {"1.2.840.10008.5.1.4.34.6.4", "UPS Event"},
    /* storage */
    {"1.2.840.10008.5.1.4.1.1.1", "CR Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.1.1", "DX Image Storage (Presentation)"},
    {"1.2.840.10008.5.1.4.1.1.1.1.1", "DX Image Storage (Processing)"},
    {"1.2.840.10008.5.1.4.1.1.1.2", "MG Image Storage (Presentation)"},
    {"1.2.840.10008.5.1.4.1.1.1.2.1", "MG Image Storage (Processing)"},
    {"1.2.840.10008.5.1.4.1.1.1.3", "IO Image Storage (Presentation)"},
    {"1.2.840.10008.5.1.4.1.1.1.3.1", "IO Image Storage (Processing)"},
    {"1.2.840.10008.5.1.4.1.1.2", "CT Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.2.1", "Enhanced CT Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.3.1", "US Multi-frame Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.4", "MR Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.4.1", "Enhanced MR Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.6.1", "US Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.7", "Secondary Capture Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.9.1.1", "12-lead ECG Waveform Storage"},
    {"1.2.840.10008.5.1.4.1.1.9.1.2", "General ECG Waveform Storage"},
    {"1.2.840.10008.5.1.4.1.1.9.2.1", "Hemodynamic Waveform Storage"},
    {"1.2.840.10008.5.1.4.1.1.11.1", "Grayscale Softcopy PS Storage"},
    {"1.2.840.10008.5.1.4.1.1.12.1", "XA Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.12.2", "XRF Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.13.1.3", "Breast Tomosynthesis Storage"},
    {"1.2.840.10008.5.1.4.1.1.20", "NM Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.66", "Raw Data Storage"},
    {"1.2.840.10008.5.1.4.1.1.66.1", "Spatial Registration Storage"},
    {"1.2.840.10008.5.1.4.1.1.77.1.4", "VL Photographic Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.77.1.6", "VL Whole Slide Microscopy"},
    {"1.2.840.10008.5.1.4.1.1.88.11", "Basic Text SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.22", "Enhanced SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.33", "Comprehensive SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.59", "Key Object Selection Document"},
    {"1.2.840.10008.5.1.4.1.1.88.67", "X-Ray Radiation Dose SR"},
    {"1.2.840.10008.5.1.4.1.1.104.1", "Encapsulated PDF Storage"},
    {"1.2.840.10008.5.1.4.1.1.104.2", "Encapsulated CDA Storage"},
    {"1.2.840.10008.5.1.4.1.1.128", "PET Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.130", "Enhanced PET Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.481.1", "RT Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.481.2", "RT Dose Storage"},
    {"1.2.840.10008.5.1.4.1.1.481.3", "RT Structure Set Storage"},
    {"1.2.840.10008.5.1.4.1.1.481.4", "RT Beams Treatment Record"},
    {"1.2.840.10008.5.1.4.1.1.481.5", "RT Plan Storage"},
    {"1.2.840.10008.5.1.4.1.1.481.8", "RT Ion Plan Storage"},
};

#define DICOM_UID_COUNT (sizeof(dicom_uid_table) / sizeof(dicom_uid_table[0]))

const char *dicom_uid_name(const char *uid)
{
    if (uid == NULL)
        return NULL;
    for (size_t i = 0; i < DICOM_UID_COUNT; i++) {
        if (strcmp(dicom_uid_table[i].uid, uid) == 0)
            return dicom_uid_table[i].name;
    }
    return NULL;
}

const char *dicom_uid_table_uid(size_t index)
{
    return index < DICOM_UID_COUNT ? dicom_uid_table[index].uid : NULL;
}

const char *dicom_uid_table_name(size_t index)
{
    return index < DICOM_UID_COUNT ? dicom_uid_table[index].name : NULL;
}
