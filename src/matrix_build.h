/* matrix_build: the matrix model from a JSON-shaped tree, for the loaders
 * of other forms (CSV spreadsheets, MUD files) that build such a tree with
 * the positions of their own input, so that every error of the shared
 * validation points into the file the user wrote. Internal to src/. */
#ifndef FLUXAUDIT_MATRIX_BUILD_H
#define FLUXAUDIT_MATRIX_BUILD_H

#include <cjson/cJSON.h>

#include "fluxaudit/diag.h"
#include "fluxaudit/matrix.h"
#include "util/json_locate.h"

/* Validates `root` (the fluxaudit-matrix/1 shape) and builds the model, or
 * returns NULL with every error at its position in `locations` (sorted),
 * reported under `name`. */
struct matrix *matrix_build(const char *name, const cJSON *root,
                            const struct json_locations *locations, struct diag *diag);

#endif
