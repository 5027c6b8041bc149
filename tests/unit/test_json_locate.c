/* Unit tests of json_locate: positions of values and keys, strictness,
 * and the error positions of bad input. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_locate.h"

/* Parses `text`; on failure returns false with diag holding the errors. */
static bool parse(const char *text, size_t len, struct json_document *doc, struct diag *d)
{
    diag_init(d);
    return json_locate_parse("t.json", text, len, doc, d);
}

/* Asserts that `text` is refused with exactly one error `expected`. */
static void assert_refused(const char *text, size_t len, const char *expected)
{
    struct json_document doc;
    struct diag d;
    ck_assert_msg(!parse(text, len, &doc, &d), "accepted: %s", text);
    ck_assert_ptr_null(doc.root);
    ck_assert_uint_eq(d.count, 1);
    char buf[512];
    diag_format(&d, 0, buf, sizeof(buf));
    ck_assert_str_eq(buf, expected);
    diag_free(&d);
}

static void assert_at(const struct json_document *doc, const cJSON *node, int line, int col)
{
    int l = -1, c = -1;
    ck_assert_ptr_nonnull(node);
    ck_assert(json_locate_find(&doc->locations, node, &l, &c));
    ck_assert_int_eq(l, line);
    ck_assert_int_eq(c, col);
}

static void assert_key_at(const struct json_document *doc, const cJSON *node, int line, int col)
{
    int l = -1, c = -1;
    ck_assert(json_locate_find_key(&doc->locations, node, &l, &c));
    ck_assert_int_eq(l, line);
    ck_assert_int_eq(c, col);
}

START_TEST(test_nested_positions)
{
    const char *text = "{\n"
                       "  \"a\": [1, {\"b\": true}],\n"
                       "  \"c\":\t\"x\",\n"
                       "\"d\" : { \"e\" : null, \"f\": -1.5e3 }\n"
                       "}\n";
    struct json_document doc;
    struct diag d;
    ck_assert(parse(text, strlen(text), &doc, &d));
    ck_assert_uint_eq(doc.locations.count, 9);
    const cJSON *a = cJSON_GetObjectItem(doc.root, "a");
    assert_at(&doc, doc.root, 1, 1);
    assert_at(&doc, a, 2, 8);
    assert_key_at(&doc, a, 2, 3);
    assert_at(&doc, cJSON_GetArrayItem(a, 0), 2, 9);
    const cJSON *inner = cJSON_GetArrayItem(a, 1);
    assert_at(&doc, inner, 2, 12);
    assert_at(&doc, cJSON_GetObjectItem(inner, "b"), 2, 18);
    assert_key_at(&doc, cJSON_GetObjectItem(inner, "b"), 2, 13);
    assert_at(&doc, cJSON_GetObjectItem(doc.root, "c"), 3, 8); /* tab is one column */
    const cJSON *dd = cJSON_GetObjectItem(doc.root, "d");
    assert_key_at(&doc, dd, 4, 1);
    assert_at(&doc, dd, 4, 7);
    assert_at(&doc, cJSON_GetObjectItem(dd, "e"), 4, 15);
    assert_at(&doc, cJSON_GetObjectItem(dd, "f"), 4, 26);
    int l = 7, c = 7;
    /* An array element has no key; an unknown node has no position. */
    ck_assert(!json_locate_find_key(&doc.locations, cJSON_GetArrayItem(a, 0), &l, &c));
    ck_assert_int_eq(l, 0);
    cJSON other = {0};
    ck_assert(!json_locate_find(&doc.locations, &other, &l, &c));
    ck_assert_int_eq(c, 0);
    json_locate_free(&doc);
    ck_assert_ptr_null(doc.root);
    diag_free(&d);
}
END_TEST

START_TEST(test_escapes_utf8_crlf)
{
    /* Columns count bytes: "é" is 2, an escape sequence its written length. */
    const char *text = "{\"k\\\"\\u00e9\": \"\\ud83d\\ude00\\n\", \"\xc3\xa9t\xc3\xa9\": 1,\r\n"
                       "\r\n"
                       "  \"z\": \"\xe2\x82\xac\", \"y\": 2\r\n}";
    struct json_document doc;
    struct diag d;
    ck_assert(parse(text, strlen(text), &doc, &d));
    const cJSON *first = doc.root->child;
    ck_assert_str_eq(first->string, "k\"\xc3\xa9");
    ck_assert_str_eq(first->valuestring, "\xf0\x9f\x98\x80\n");
    assert_key_at(&doc, first, 1, 2);
    assert_at(&doc, first, 1, 15);
    assert_key_at(&doc, first->next, 1, 33);
    assert_at(&doc, first->next, 1, 42);
    assert_key_at(&doc, cJSON_GetObjectItem(doc.root, "z"), 3, 3);
    assert_at(&doc, cJSON_GetObjectItem(doc.root, "y"), 3, 20);
    json_locate_free(&doc);
    diag_free(&d);
}
END_TEST

START_TEST(test_bom_and_lone_cr)
{
    const char *text = "\xef\xbb\xbf{\r\"a\": 1}";
    struct json_document doc;
    struct diag d;
    ck_assert(parse(text, strlen(text), &doc, &d));
    assert_at(&doc, doc.root, 1, 1);
    assert_at(&doc, doc.root->child, 2, 6);
    json_locate_free(&doc);
    diag_free(&d);
}
END_TEST

START_TEST(test_syntax_errors)
{
    assert_refused("{\"a\": 1 \"b\": 2}", 15, "t.json:1:9: error: expected ',' or '}' after an "
                   "object member, got '\"'");
    assert_refused("[1, 2,]", 7, "t.json:1:7: error: trailing comma before ']'");
    assert_refused("{\"a\": 1,\n}", 10, "t.json:2:1: error: trailing comma before '}'");
    assert_refused("{\"a\" 1}", 7, "t.json:1:6: error: expected ':' after the member name, got "
                   "'1'");
    assert_refused("{a: 1}", 6, "t.json:1:2: error: expected a member name in double quotes, "
                   "got 'a'");
    assert_refused("{\"a\": \"abc", 10, "t.json:1:7: error: unterminated string");
    assert_refused("{\"a\": \"ab\ncd\"}", 14, "t.json:1:10: error: line break inside a string "
                   "(missing closing quote?)");
    assert_refused("[\"a\tb\"]", 7, "t.json:1:4: error: control character U+0009 inside a "
                   "string: write it as an escape");
    assert_refused("[\"\\x\"]", 6, "t.json:1:3: error: invalid escape: expected one of \\\" \\\\ "
                   "\\/ \\b \\f \\n \\r \\t \\uXXXX");
    assert_refused("[\"\\u12G4\"]", 10, "t.json:1:3: error: invalid \\u escape: expected 4 "
                   "hexadecimal digits");
    assert_refused("[\"\\u0000\"]", 10, "t.json:1:3: error: \\u0000 is not allowed in strings");
    assert_refused("[\"\\udc00\"]", 10, "t.json:1:3: error: invalid \\u escape: lone low "
                   "surrogate");
    assert_refused("[\"\\ud800x\"]", 11, "t.json:1:3: error: invalid \\u escape: high "
                   "surrogate without its low surrogate");
    assert_refused("[01]", 4, "t.json:1:2: error: invalid number: leading zero");
    assert_refused("[1.]", 4, "t.json:1:4: error: invalid number: expected a digit after '.'");
    assert_refused("[-]", 3, "t.json:1:2: error: invalid number: expected a digit");
    assert_refused("[1e+]", 5, "t.json:1:5: error: invalid number: expected a digit in the "
                   "exponent");
    assert_refused("[tru]", 5, "t.json:1:2: error: invalid literal: expected a value (string, "
                   "number, object, array, true, false or null)");
    assert_refused("{} x", 4, "t.json:1:4: error: unexpected 'x' after the end of the JSON "
                   "value");
    assert_refused("{}\x01", 3, "t.json:1:3: error: unexpected byte 0x01 after the end of the "
                   "JSON value");
    assert_refused("[1,\n", 4, "t.json:2:1: error: unexpected end of file: expected a value");
    assert_refused("\n\n  ", 4, "t.json: error: empty file: expected a JSON document");
    assert_refused("", 0, "t.json: error: empty file: expected a JSON document");
    assert_refused("{\"a\": 'x'}", 10, "t.json:1:7: error: expected a value (string, number, "
                   "object, array, true, false or null), got '''");
}
END_TEST

START_TEST(test_utf8_errors)
{
    assert_refused("{\"a\":\n  \"R\xe9\"}", 12, "t.json:2:5: error: invalid UTF-8 byte 0xE9: "
                   "the file must be encoded in UTF-8");
    /* Overlong encoding of '/', a UTF-16 surrogate, a truncated sequence. */
    assert_refused("[\"\xc0\xaf\"]", 6, "t.json:1:3: error: invalid UTF-8 byte 0xC0: the file "
                   "must be encoded in UTF-8");
    assert_refused("[\"\xed\xa0\x80\"]", 7, "t.json:1:3: error: invalid UTF-8 byte 0xED: the "
                   "file must be encoded in UTF-8");
    assert_refused("[\"\xe2\x82\"]", 6, "t.json:1:3: error: invalid UTF-8 byte 0xE2: the file "
                   "must be encoded in UTF-8");
    /* An embedded NUL is a control character, not the end of the text. */
    assert_refused("[1]\0[2]", 7, "t.json:1:4: error: unexpected byte 0x00 after the end of the "
                   "JSON value");
}
END_TEST

START_TEST(test_duplicate_keys)
{
    const char *text = "{\"a\": 1, \"b\": {\"x\": 1, \"x\": 2, \"x\": 3},\n \"a\": 2}";
    struct json_document doc;
    struct diag d;
    ck_assert(!parse(text, strlen(text), &doc, &d));
    ck_assert_uint_eq(d.count, 3);
    char buf[256];
    diag_format(&d, 0, buf, sizeof(buf));
    ck_assert_str_eq(buf, "t.json:2:2: error: duplicate key \"a\" (first defined at line 1, "
                          "column 2)");
    diag_format(&d, 1, buf, sizeof(buf));
    ck_assert_str_eq(buf, "t.json:1:24: error: duplicate key \"x\" (first defined at line 1, "
                          "column 16)");
    diag_format(&d, 2, buf, sizeof(buf));
    ck_assert_str_eq(buf, "t.json:1:32: error: duplicate key \"x\" (first defined at line 1, "
                          "column 16)");
    diag_free(&d);
}
END_TEST

START_TEST(test_limits)
{
    /* Nesting: JSON_LOCATE_MAX_DEPTH levels pass, one more fails. */
    char text[2 * JSON_LOCATE_MAX_DEPTH + 4];
    memset(text, '[', JSON_LOCATE_MAX_DEPTH);
    memset(text + JSON_LOCATE_MAX_DEPTH, ']', JSON_LOCATE_MAX_DEPTH);
    struct json_document doc;
    struct diag d;
    ck_assert(parse(text, 2 * JSON_LOCATE_MAX_DEPTH, &doc, &d));
    json_locate_free(&doc);
    diag_free(&d);
    memset(text, '[', JSON_LOCATE_MAX_DEPTH + 1);
    memset(text + JSON_LOCATE_MAX_DEPTH + 1, ']', JSON_LOCATE_MAX_DEPTH + 1);
    assert_refused(text, 2 * JSON_LOCATE_MAX_DEPTH + 2,
                   "t.json:1:65: error: nesting deeper than 64 levels");
    /* A number longer than cJSON copies. */
    char number[80] = "[";
    memset(number + 1, '7', 64);
    strcpy(number + 65, "]");
    assert_refused(number, strlen(number), "t.json:1:2: error: number too long (more than 63 "
                   "characters)");
    /* Size cap, checked before anything is read. */
    assert_refused("{}", (size_t)JSON_LOCATE_MAX_BYTES + 1, "t.json: error: file too large "
                   "(16777217 bytes, at most 16777216)");
}
END_TEST

START_TEST(test_offset_and_helpers)
{
    int line, col;
    json_locate_offset("ab\r\ncd\ne", 8, 5, &line, &col);
    ck_assert_int_eq(line, 2);
    ck_assert_int_eq(col, 2);
    json_locate_offset("ab", 2, 99, &line, &col);
    ck_assert_int_eq(line, 1);
    ck_assert_int_eq(col, 3);
    const char *words[] = {"format", "devices", "hosts"};
    ck_assert_str_eq(json_locate_suggest("devics", words, 3), "devices");
    ck_assert_str_eq(json_locate_suggest("Hosts", words, 3), "hosts");
    ck_assert_ptr_null(json_locate_suggest("xyz", words, 3));
    ck_assert_ptr_null(json_locate_suggest("ab", words, 3));
    char buf[64];
    cJSON *s = cJSON_CreateString("a\"b\x01");
    json_locate_describe(s, buf, sizeof(buf));
    ck_assert_str_eq(buf, "\"a\\\"b\\x01\"");
    cJSON_Delete(s);
    s = cJSON_CreateString("0123456789012345678901234567890123456789abc");
    json_locate_describe(s, buf, sizeof(buf));
    ck_assert_str_eq(buf, "\"0123456789012345678901234567890123456789...\"");
    cJSON_Delete(s);
    cJSON *n = cJSON_CreateNumber(80);
    json_locate_describe(n, buf, sizeof(buf));
    ck_assert_str_eq(buf, "80");
    cJSON_Delete(n);
    cJSON *a = cJSON_CreateArray();
    json_locate_describe(a, buf, sizeof(buf));
    ck_assert_str_eq(buf, "an empty array");
    cJSON_Delete(a);
}
END_TEST

START_TEST(test_sort_diag)
{
    struct diag d;
    diag_init(&d);
    diag_error(&d, "x", 1, 1, "before");
    diag_error(&d, "f", 5, 2, "c");
    diag_error(&d, "f", 2, 9, "a");
    diag_error(&d, "f", 5, 2, "d");
    diag_error(&d, "f", 0, 0, "whole");
    json_locate_sort_diag(&d, 1);
    const char *order[] = {"before", "whole", "a", "c", "d"};
    for (size_t i = 0; i < 5; i++)
        ck_assert_str_eq(d.entries[i].message, order[i]);
    diag_free(&d);
}
END_TEST

static Suite *json_locate_suite(void)
{
    Suite *s = suite_create("json_locate");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_nested_positions);
    tcase_add_test(tc, test_escapes_utf8_crlf);
    tcase_add_test(tc, test_bom_and_lone_cr);
    tcase_add_test(tc, test_syntax_errors);
    tcase_add_test(tc, test_utf8_errors);
    tcase_add_test(tc, test_duplicate_keys);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_offset_and_helpers);
    tcase_add_test(tc, test_sort_diag);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(json_locate_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
