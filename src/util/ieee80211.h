/* ieee80211: the radio headers of monitor-mode captures and the 802.11 MAC
 * header, shared by decode (data frames into the IP view) and the access
 * inspector (management frames and EAPOL).
 *
 * Internal to the program. Every byte goes through util/reader.h; lengths
 * declared by the radio headers only ever shrink the frame, never grow it.
 * No allocation, no state. */
#ifndef FLUXAUDIT_UTIL_IEEE80211_H
#define FLUXAUDIT_UTIL_IEEE80211_H

#include <stdbool.h>
#include <stdint.h>

#include "fluxaudit/netaddr.h"
#include "util/reader.h"

enum ieee80211_status {
    IEEE80211_OK,
    IEEE80211_MALFORMED,   /* truncated or inconsistent radio/MAC header, bad FCS */
    IEEE80211_UNSUPPORTED, /* a well-formed frame this parser does not follow */
};

/* Frame types of the frame control field. */
enum { IEEE80211_TYPE_MANAGEMENT = 0, IEEE80211_TYPE_CONTROL = 1, IEEE80211_TYPE_DATA = 2 };

/* Management subtypes the access inspector reads. */
enum {
    IEEE80211_ASSOC_REQUEST = 0,
    IEEE80211_ASSOC_RESPONSE = 1,
    IEEE80211_REASSOC_REQUEST = 2,
    IEEE80211_REASSOC_RESPONSE = 3,
    IEEE80211_PROBE_RESPONSE = 5,
    IEEE80211_BEACON = 8,
};

enum { ETHERTYPE_EAPOL = 0x888e };

/* One 802.11 MAC header (management or data frame). Addresses are mapped
 * per ToDS/FromDS: `source`/`destination` are the SA/DA, `bssid` is zero
 * for a 4-address (WDS) frame, which has none. */
struct ieee80211_header {
    uint8_t type;                    /* IEEE80211_TYPE_* */
    uint8_t subtype;
    bool to_ds;
    bool from_ds;
    bool protected_frame;            /* body encrypted (WEP/TKIP/CCMP/GCMP) */
    bool fragment;                   /* a non-first fragment: the body is no LLC header */
    bool amsdu;                      /* QoS data carrying an A-MSDU */
    bool null_data;                  /* a data subtype without a body (Null, QoS Null...) */
    struct mac_addr receiver;        /* address 1 */
    struct mac_addr transmitter;     /* address 2 */
    struct mac_addr source;
    struct mac_addr destination;
    struct mac_addr bssid;
};

/* Strips the radio header of link type `dlt` (plain 802.11, radiotap,
 * PPI, Prism, AVS) from `frame`, which then covers the 802.11 frame
 * without its FCS when the radio header says one is present. `data_pad`
 * tells whether radiotap announced padding after the MAC header. Returns
 * IEEE80211_MALFORMED for a cut or inconsistent radio header or a frame
 * flagged with a bad FCS, IEEE80211_UNSUPPORTED for a PPI header that does
 * not carry 802.11 or a link type that is not 802.11. */
enum ieee80211_status ieee80211_strip_radio(int dlt, struct reader *frame, bool *data_pad);

/* True for the five 802.11 link types ieee80211_strip_radio knows. */
bool ieee80211_is_link_type(int dlt);

/* Reads the MAC header of a management or data frame from `frame`, leaving
 * it on the frame body (after the padding `data_pad` announces). Returns
 * IEEE80211_UNSUPPORTED for control and extension frames and an unknown
 * protocol version, IEEE80211_MALFORMED for a cut header. */
enum ieee80211_status ieee80211_read_header(struct reader *frame, bool data_pad,
                                            struct ieee80211_header *out);

/* Reads an LLC/SNAP header (AA AA 03, OUI 00-00-00 or 00-00-F8) and its
 * Ethernet type. Returns IEEE80211_UNSUPPORTED for another LLC,
 * IEEE80211_MALFORMED for a cut one. */
enum ieee80211_status ieee80211_read_snap(struct reader *body, uint16_t *ethertype);

#endif
