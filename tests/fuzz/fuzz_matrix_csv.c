/* Fuzz target of the CSV matrix loader, its writers and lint.
 *
 * Input: two little-endian 16-bit lengths (matrix, inventory, each cut to
 * what is left), then the matrix, the inventory, and the site file: the
 * rest, absent when empty. Invariants: a refused matrix comes with at
 * least one error; an accepted one has no error, lints without errors, and
 * survives JSON and CSV round trips to the same JSON. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/matrix.h"

static char *write_json(const struct matrix *m)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (out == NULL)
        abort();
    char err[128];
    if (!matrix_write_json(m, out, err, sizeof(err)))
        abort();
    fclose(out);
    return buf;
}

/* JSON -> model -> JSON and CSV -> model -> JSON give `json` back. */
static void check_round_trips(const struct matrix *m, const char *json)
{
    struct diag d;
    diag_init(&d);
    struct matrix *again = matrix_parse_json("a.json", json, strlen(json), &d);
    if (again == NULL || d.count != 0)
        abort();
    char *json2 = write_json(again);
    if (strcmp(json, json2) != 0)
        abort();
    char *text[3] = {NULL, NULL, NULL};
    size_t len[3] = {0, 0, 0};
    FILE *out[3];
    for (int i = 0; i < 3; i++) {
        out[i] = open_memstream(&text[i], &len[i]);
        if (out[i] == NULL)
            abort();
    }
    char err[128];
    if (!matrix_write_csv_streams(m, out[0], out[1], out[2], err, sizeof(err)))
        abort();
    for (int i = 0; i < 3; i++)
        fclose(out[i]);
    struct matrix_csv_input in[3] = {{"o.csv", text[0], len[0]},
                                     {"o.inventory.csv", text[1], len[1]},
                                     {"o.site.csv", text[2], len[2]}};
    struct matrix *back = matrix_parse_csv(&in[0], &in[1], &in[2], &d);
    if (back == NULL || d.count != 0)
        abort();
    char *json3 = write_json(back);
    if (strcmp(json, json3) != 0)
        abort();
    free(json2);
    free(json3);
    for (int i = 0; i < 3; i++)
        free(text[i]);
    matrix_free(again);
    matrix_free(back);
    diag_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    size_t rest = size - 4;
    size_t matrix_len = (size_t)data[0] | (size_t)data[1] << 8;
    matrix_len = matrix_len < rest ? matrix_len : rest;
    size_t inventory_len = (size_t)data[2] | (size_t)data[3] << 8;
    inventory_len = inventory_len < rest - matrix_len ? inventory_len : rest - matrix_len;
    size_t site_len = rest - matrix_len - inventory_len;
    const char *text = (const char *)data + 4;
    struct matrix_csv_input matrix = {"m.csv", text, matrix_len};
    struct matrix_csv_input inventory = {"m.inventory.csv", text + matrix_len, inventory_len};
    struct matrix_csv_input site = {"m.site.csv", text + matrix_len + inventory_len, site_len};
    struct diag d;
    diag_init(&d);
    struct matrix *m = matrix_parse_csv(&matrix, &inventory, site_len == 0 ? NULL : &site, &d);
    if (m == NULL && (d.errors == 0 || d.count == 0))
        abort();
    if (m != NULL) {
        if (d.errors != 0)
            abort();
        matrix_lint(m, &d);
        if (d.errors != 0)
            abort();
        char *json = write_json(m);
        check_round_trips(m, json);
        free(json);
        matrix_free(m);
    }
    diag_free(&d);
    return 0;
}
