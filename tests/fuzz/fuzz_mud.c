/* Fuzz target: the MUD importer (JSON scan, MUD checks, ACE translation,
 * binding to a fixed inventory, matrix validation, freeing) on arbitrary
 * bytes. Both files live in memory files (memfd), read through
 * /proc/self/fd, so no disk is touched. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fluxaudit/matrix.h"

static const char inventory[] =
    "{\"format\": \"fluxaudit-matrix/1\", \"timezone\": \"UTC\",\n"
    " \"hosts\": {\"my-controller\": [\"10.0.0.9\"]},\n"
    " \"devices\": [\n"
    "  {\"name\": \"a\", \"model\": \"InfuPump 7\", \"addresses\": [\"10.0.0.1\"]},\n"
    "  {\"name\": \"b\", \"model\": \"https://lighting.example.com/lightbulb2000\",\n"
    "   \"addresses\": [\"10.0.0.2\"], \"flows\": [{\"id\": \"F1\", \"from\": \"device\",\n"
    "   \"to\": \"any\", \"proto\": \"any\"}]}]}\n";

/* Returns a path naming a memory file holding `data`, or false. */
static bool memory_file(const char *name, const void *data, size_t size, int *fd, char *path,
                        size_t len)
{
    *fd = memfd_create(name, 0);
    if (*fd < 0)
        return false;
    if (size > 0 && write(*fd, data, size) != (ssize_t)size) {
        close(*fd);
        return false;
    }
    snprintf(path, len, "/proc/self/fd/%d", *fd);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int mud_fd, inventory_fd;
    char mud_path[64], inventory_path[64];
    if (!memory_file("mud", data, size, &mud_fd, mud_path, sizeof(mud_path)))
        return 0;
    if (!memory_file("inventory", inventory, sizeof(inventory) - 1, &inventory_fd, inventory_path,
                     sizeof(inventory_path))) {
        close(mud_fd);
        return 0;
    }
    struct diag diag;
    diag_init(&diag);
    struct matrix *m = matrix_load_mud(mud_path, inventory_path, &diag);
    if (m != NULL) {
        if (diag.errors != 0)
            __builtin_trap(); /* a model is never returned with errors */
        for (size_t i = 0; i < m->device_count; i++) {
            for (size_t j = 0; j < m->devices[i].flow_count; j++)
                (void)matrix_flow_has_port(&m->devices[i].flows[j], 443);
        }
    } else if (diag.errors == 0) {
        __builtin_trap(); /* a refusal always says why */
    }
    char line[1400];
    for (size_t i = 0; i < diag.count; i++)
        diag_format(&diag, i, line, sizeof(line));
    matrix_free(m);
    diag_free(&diag);
    close(mud_fd);
    close(inventory_fd);
    return 0;
}
