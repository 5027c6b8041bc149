/* web_assets: the web UI's static files (every file of web/), compiled into the binary
 * by scripts/embed-assets.py (src/web_assets.c is generated). */
#ifndef FLUXAUDIT_WEB_ASSETS_H
#define FLUXAUDIT_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
    const char *name;         /* file name under web/, served as /assets/NAME */
    const char *content_type; /* from the extension */
    const unsigned char *data;
    size_t size;
};

extern const struct web_asset web_assets[];
extern const size_t web_asset_count;

#endif
