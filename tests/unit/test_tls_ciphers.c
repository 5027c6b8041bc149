/* Unit tests for tls_ciphers: lookups of known suites with exact names and
 * flags, unknown numbers, the weak/legacy verdicts, and the table itself
 * (sorted, unique, every entry's flags consistent with its name). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/tls_ciphers.h"

#define TABLE_SIZE 357 /* entries in the table (registry as kept, see tls_ciphers.c) */

struct known_suite {
    uint16_t id;
    const char *name;
    uint32_t flags;
    bool weak;
    bool legacy;
};

enum {
    NUL = TLS_CIPHER_NULL,
    EXP = TLS_CIPHER_EXPORT,
    ANON = TLS_CIPHER_ANON,
    RC4 = TLS_CIPHER_RC4,
    DES = TLS_CIPHER_DES,
    DES3 = TLS_CIPHER_3DES,
    CBC = TLS_CIPHER_CBC,
    PFS = TLS_CIPHER_PFS,
    AEAD = TLS_CIPHER_AEAD,
    TLS13 = TLS_CIPHER_TLS13,
    SIG = TLS_CIPHER_SIGNALLING,
};

static const struct known_suite known[] = {
    {0x0000, "TLS_NULL_WITH_NULL_NULL", NUL | ANON, true, false},
    {0x0001, "TLS_RSA_WITH_NULL_MD5", NUL, true, false},
    {0x0002, "TLS_RSA_WITH_NULL_SHA", NUL, true, false},
    {0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", EXP | RC4, true, false},
    {0x0004, "TLS_RSA_WITH_RC4_128_MD5", RC4, true, false},
    {0x0005, "TLS_RSA_WITH_RC4_128_SHA", RC4, true, false},
    {0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", EXP | CBC, true, false},
    {0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA", CBC, false, true},
    {0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", EXP | DES | CBC, true, false},
    {0x0009, "TLS_RSA_WITH_DES_CBC_SHA", DES | CBC, true, false},
    {0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", DES3 | CBC, true, false},
    {0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA", EXP | DES | CBC | PFS, true, false},
    {0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", DES3 | CBC | PFS, true, false},
    {0x0017, "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5", EXP | ANON | RC4, true, false},
    {0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", ANON | RC4, true, false},
    {0x0019, "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA", EXP | ANON | DES | CBC, true, false},
    {0x001B, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA", ANON | DES3 | CBC, true, false},
    {0x001E, "TLS_KRB5_WITH_DES_CBC_SHA", DES | CBC, true, false},
    {0x0020, "TLS_KRB5_WITH_RC4_128_SHA", RC4, true, false},
    {0x0026, "TLS_KRB5_EXPORT_WITH_DES_CBC_40_SHA", EXP | DES | CBC, true, false},
    {0x002B, "TLS_KRB5_EXPORT_WITH_RC4_40_MD5", EXP | RC4, true, false},
    {0x002C, "TLS_PSK_WITH_NULL_SHA", NUL, true, false},
    {0x002D, "TLS_DHE_PSK_WITH_NULL_SHA", NUL | PFS, true, false},
    {0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", CBC, false, true},
    {0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", CBC | PFS, false, true},
    {0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", ANON | CBC, true, false},
    {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", CBC, false, true},
    {0x003A, "TLS_DH_anon_WITH_AES_256_CBC_SHA", ANON | CBC, true, false},
    {0x003B, "TLS_RSA_WITH_NULL_SHA256", NUL, true, false},
    {0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", CBC, false, true},
    {0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", CBC, false, true},
    {0x0060, "TLS_RSA_EXPORT1024_WITH_RC4_56_MD5", EXP | RC4, true, false},
    {0x0062, "TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA", EXP | DES | CBC, true, false},
    {0x0066, "TLS_DHE_DSS_WITH_RC4_128_SHA", RC4 | PFS, true, false},
    {0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", CBC | PFS, false, true},
    {0x006D, "TLS_DH_anon_WITH_AES_256_CBC_SHA256", ANON | CBC, true, false},
    {0x0089, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA", ANON | CBC, true, false},
    {0x008A, "TLS_PSK_WITH_RC4_128_SHA", RC4, true, false},
    {0x008B, "TLS_PSK_WITH_3DES_EDE_CBC_SHA", DES3 | CBC, true, false},
    {0x0096, "TLS_RSA_WITH_SEED_CBC_SHA", CBC, false, true},
    {0x009B, "TLS_DH_anon_WITH_SEED_CBC_SHA", ANON | CBC, true, false},
    {0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", AEAD, false, true},
    {0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", PFS | AEAD, false, false},
    {0x00A7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384", ANON | AEAD, true, false},
    {0x00A8, "TLS_PSK_WITH_AES_128_GCM_SHA256", AEAD, false, true},
    {0x00AA, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256", PFS | AEAD, false, false},
    {0x00B1, "TLS_PSK_WITH_NULL_SHA384", NUL, true, false},
    {0x00B9, "TLS_RSA_PSK_WITH_NULL_SHA384", NUL, true, false},
    {0x00C5, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256", ANON | CBC, true, false},
    {0x00C6, "TLS_SM4_GCM_SM3", PFS | AEAD | TLS13, false, false},
    {0x00C7, "TLS_SM4_CCM_SM3", PFS | AEAD | TLS13, false, false},
    {0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", SIG, false, false},
    {0x1301, "TLS_AES_128_GCM_SHA256", PFS | AEAD | TLS13, false, false},
    {0x1302, "TLS_AES_256_GCM_SHA384", PFS | AEAD | TLS13, false, false},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", PFS | AEAD | TLS13, false, false},
    {0x1304, "TLS_AES_128_CCM_SHA256", PFS | AEAD | TLS13, false, false},
    {0x1305, "TLS_AES_128_CCM_8_SHA256", PFS | AEAD | TLS13, false, false},
    {0x5600, "TLS_FALLBACK_SCSV", SIG, false, false},
    {0xC001, "TLS_ECDH_ECDSA_WITH_NULL_SHA", NUL, true, false},
    {0xC002, "TLS_ECDH_ECDSA_WITH_RC4_128_SHA", RC4, true, false},
    {0xC004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA", CBC, false, true},
    {0xC006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA", NUL | PFS, true, false},
    {0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", RC4 | PFS, true, false},
    {0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", DES3 | CBC | PFS, true, false},
    {0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", CBC | PFS, false, true},
    {0xC00B, "TLS_ECDH_RSA_WITH_NULL_SHA", NUL, true, false},
    {0xC010, "TLS_ECDHE_RSA_WITH_NULL_SHA", NUL | PFS, true, false},
    {0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", RC4 | PFS, true, false},
    {0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", DES3 | CBC | PFS, true, false},
    {0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", CBC | PFS, false, true},
    {0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", CBC | PFS, false, true},
    {0xC015, "TLS_ECDH_anon_WITH_NULL_SHA", NUL | ANON, true, false},
    {0xC016, "TLS_ECDH_anon_WITH_RC4_128_SHA", ANON | RC4, true, false},
    {0xC017, "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA", ANON | DES3 | CBC, true, false},
    {0xC019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", ANON | CBC, true, false},
    {0xC01A, "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA", DES3 | CBC, true, false},
    {0xC01D, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA", CBC, false, true},
    {0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", CBC | PFS, false, true},
    {0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", CBC | PFS, false, true},
    {0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", PFS | AEAD, false, false},
    {0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", PFS | AEAD, false, false},
    {0xC02D, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256", AEAD, false, true},
    {0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", PFS | AEAD, false, false},
    {0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", PFS | AEAD, false, false},
    {0xC033, "TLS_ECDHE_PSK_WITH_RC4_128_SHA", RC4 | PFS, true, false},
    {0xC039, "TLS_ECDHE_PSK_WITH_NULL_SHA", NUL | PFS, true, false},
    {0xC03A, "TLS_ECDHE_PSK_WITH_NULL_SHA256", NUL | PFS, true, false},
    {0xC03B, "TLS_ECDHE_PSK_WITH_NULL_SHA384", NUL | PFS, true, false},
    {0xC03C, "TLS_RSA_WITH_ARIA_128_CBC_SHA256", CBC, false, true},
    {0xC05A, "TLS_DH_anon_WITH_ARIA_128_GCM_SHA256", ANON | AEAD, true, false},
    {0xC05C, "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256", PFS | AEAD, false, false},
    {0xC072, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256", CBC | PFS, false, true},
    {0xC08A, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", PFS | AEAD, false, false},
    {0xC09C, "TLS_RSA_WITH_AES_128_CCM", AEAD, false, true},
    {0xC09E, "TLS_DHE_RSA_WITH_AES_128_CCM", PFS | AEAD, false, false},
    {0xC0A0, "TLS_RSA_WITH_AES_128_CCM_8", AEAD, false, true},
    {0xC0AA, "TLS_PSK_DHE_WITH_AES_128_CCM_8", PFS | AEAD, false, false},
    {0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", PFS | AEAD, false, false},
    {0xC0AF, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", PFS | AEAD, false, false},
    {0xC0B0, "TLS_ECCPWD_WITH_AES_128_GCM_SHA256", AEAD, false, true},
    {0xC0B4, "TLS_SHA256_SHA256", NUL | PFS | TLS13, true, false},
    {0xC0B5, "TLS_SHA384_SHA384", NUL | PFS | TLS13, true, false},
    {0xC100, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC", 0, false, true},
    {0xC103, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L", PFS | AEAD | TLS13, false, false},
    {0xC106, "TLS_GOSTR341112_256_WITH_MAGMA_MGM_S", PFS | AEAD | TLS13, false, false},
    {0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", PFS | AEAD, false, false},
    {0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", PFS | AEAD, false, false},
    {0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", PFS | AEAD, false, false},
    {0xCCAB, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256", AEAD, false, true},
    {0xCCAE, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256", AEAD, false, true},
    {0xD001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256", PFS | AEAD, false, false},
    {0xD003, "TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256", PFS | AEAD, false, false},
    {0xD005, "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256", PFS | AEAD, false, false},
};
#define KNOWN_COUNT (sizeof(known) / sizeof(known[0]))

START_TEST(test_known_suite)
{
    const struct known_suite *k = &known[_i];
    const struct tls_cipher_info *info = tls_cipher_lookup(k->id);
    ck_assert_msg(info != NULL, "0x%04x missing", k->id);
    ck_assert_uint_eq(info->id, k->id);
    ck_assert_str_eq(info->name, k->name);
    ck_assert_msg(info->flags == k->flags, "%s: flags 0x%x, want 0x%x", k->name, info->flags,
                  k->flags);
    ck_assert_msg(tls_cipher_is_weak(info) == k->weak, "%s: weak", k->name);
    ck_assert_msg(tls_cipher_is_legacy(info) == k->legacy, "%s: legacy", k->name);
}
END_TEST

/* GREASE, registry gaps, private and draft ranges are not in the table. */
START_TEST(test_unknown_suites)
{
    static const uint16_t unknown[] = {
        0x001C, 0x001D, 0x0047, 0x005F, 0x0080, 0x0083, 0x00C8, 0x00FE, 0x0100, 0x0A0A,
        0x1300, 0x1306, 0x1A1A, 0x55FF, 0x5601, 0xC000, 0xC0B6, 0xC0FF, 0xC107, 0xCC13,
        0xCC15, 0xCCA7, 0xCCAF, 0xD000, 0xD004, 0xD006, 0xE011, 0xFAFA, 0xFEFE, 0xFEFF,
        0xFFE0, 0xFFFF,
    };
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        ck_assert_msg(tls_cipher_lookup(unknown[i]) == NULL, "0x%04x found", unknown[i]);
    }
    ck_assert(!tls_cipher_is_weak(NULL));
    ck_assert(!tls_cipher_is_legacy(NULL));
}
END_TEST

/* Every id 0..0xFFFF: the entries found are consecutive table slots in
 * increasing id order, so the table is sorted, without duplicates, and the
 * bisection reaches every entry. */
START_TEST(test_table_sorted_unique)
{
    const struct tls_cipher_info *first = tls_cipher_lookup(0x0000);
    const struct tls_cipher_info *previous = NULL;
    size_t count = 0;
    for (uint32_t id = 0; id <= 0xFFFF; id++) {
        const struct tls_cipher_info *info = tls_cipher_lookup((uint16_t)id);
        if (info == NULL)
            continue;
        ck_assert_uint_eq(info->id, id);
        if (previous != NULL)
            ck_assert_ptr_eq(info, previous + 1);
        previous = info;
        count++;
    }
    ck_assert_ptr_nonnull(first);
    ck_assert_uint_eq(count, TABLE_SIZE);
    ck_assert_ptr_eq(previous, first + TABLE_SIZE - 1);
    ck_assert_uint_eq(previous->id, 0xD005);
}
END_TEST

static bool has(const char *name, const char *part)
{
    return strstr(name, part) != NULL;
}

/* The flags of one entry as its IANA name tells them (the rules of
 * tls_ciphers.c, restated independently). */
static uint32_t flags_from_name(const struct tls_cipher_info *info)
{
    const char *n = info->name;
    if (has(n, "_SCSV"))
        return SIG;
    bool tls13 = !has(n, "_WITH_") || has(n, "_MGM_");
    uint32_t flags = 0;
    if (has(n, "_WITH_NULL_") || strcmp(n, "TLS_SHA256_SHA256") == 0 ||
        strcmp(n, "TLS_SHA384_SHA384") == 0)
        flags |= NUL;
    if (has(n, "EXPORT"))
        flags |= EXP;
    if (has(n, "_anon_") || info->id == 0)
        flags |= ANON;
    if (has(n, "_RC4_"))
        flags |= RC4;
    if (has(n, "_DES_") || has(n, "_DES40_"))
        flags |= DES;
    if (has(n, "3DES_EDE"))
        flags |= DES3;
    if (has(n, "_CBC"))
        flags |= CBC;
    if (strncmp(n, "TLS_DHE_", 8) == 0 || strncmp(n, "TLS_ECDHE_", 10) == 0 ||
        strncmp(n, "TLS_PSK_DHE_", 12) == 0 || tls13)
        flags |= PFS;
    if (has(n, "_GCM") || has(n, "_CCM") || has(n, "_MGM_") || has(n, "CHACHA20_POLY1305"))
        flags |= AEAD;
    if (tls13)
        flags |= TLS13;
    return flags;
}

START_TEST(test_flags_match_names)
{
    size_t weak = 0;
    size_t legacy = 0;
    for (uint32_t id = 0; id <= 0xFFFF; id++) {
        const struct tls_cipher_info *info = tls_cipher_lookup((uint16_t)id);
        if (info == NULL)
            continue;
        ck_assert_msg(strncmp(info->name, "TLS_", 4) == 0, "%s", info->name);
        ck_assert_msg(info->flags == flags_from_name(info), "%s: 0x%x vs 0x%x", info->name,
                      info->flags, flags_from_name(info));
        /* weak and legacy never both hold; AEAD and CBC never both */
        ck_assert(!(tls_cipher_is_weak(info) && tls_cipher_is_legacy(info)));
        ck_assert(!((info->flags & AEAD) && (info->flags & CBC)));
        weak += tls_cipher_is_weak(info);
        legacy += tls_cipher_is_legacy(info);
    }
    ck_assert_uint_eq(weak, 106);
    ck_assert_uint_eq(legacy, 187);
}
END_TEST

static Suite *tls_ciphers_suite(void)
{
    Suite *s = suite_create("tls_ciphers");
    TCase *lookups = tcase_create("lookups");
    tcase_add_loop_test(lookups, test_known_suite, 0, KNOWN_COUNT);
    tcase_add_test(lookups, test_unknown_suites);
    suite_add_tcase(s, lookups);
    TCase *table = tcase_create("table");
    tcase_add_test(table, test_table_sorted_unique);
    tcase_add_test(table, test_flags_match_names);
    suite_add_tcase(s, table);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(tls_ciphers_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
