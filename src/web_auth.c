/* web_auth: accounts (yescrypt through libxcrypt), in-memory login sessions
 * and the failed-login limit of the web UI. See web_auth.h and docs/web.md.
 *
 * Why yescrypt from libxcrypt: it is the hash Debian itself uses for
 * /etc/shadow, memory-hard, and libxcrypt is part of every Debian system,
 * so the accounts file needs no new library. */
#include "web_auth.h"

#include <crypt.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fluxaudit/web.h"

#define HASH_PREFIX "$y$"
#define HASH_MAX 256

struct account {
    char user[WEB_AUTH_USER_MAX + 1];
    char hash[HASH_MAX];
};

struct session {
    char id[WEB_AUTH_SESSION_ID_LEN + 1];
    uint64_t created; /* 0: free slot */
};

struct failures {
    uint8_t address[16];
    uint64_t window_start; /* 0: free slot */
    unsigned count;
};

struct web_auth {
    struct account *accounts;
    size_t account_count;
    char dummy_hash[HASH_MAX]; /* checked for unknown users, so timing tells nothing */
    pthread_mutex_t lock;      /* sessions and failures */
    struct session sessions[WEB_AUTH_SESSIONS_MAX];
    struct failures failures[WEB_AUTH_TRACKED_ADDRESSES];
};

/* ---- accounts file ----------------------------------------------------- */

bool web_auth_user_valid(const char *user)
{
    size_t len = strlen(user);
    if (len == 0 || len > WEB_AUTH_USER_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = user[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '@' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* True when `hash` looks like a yescrypt string: the prefix, then only
 * the characters crypt(5) uses, within HASH_MAX. */
static bool hash_valid(const char *hash, size_t len)
{
    if (len < sizeof(HASH_PREFIX) || len >= HASH_MAX || strncmp(hash, HASH_PREFIX, 3) != 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = hash[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '/' || c == '$';
        if (!ok)
            return false;
    }
    return true;
}

/* Reads all of `path` (at most WEB_AUTH_FILE_MAX bytes) into a new string.
 * A missing file is an empty one when `missing_ok`. */
static char *read_file_bounded(const char *path, bool missing_ok, char *err, size_t err_len)
{
    FILE *in = fopen(path, "r");
    if (in == NULL) {
        if (missing_ok && errno == ENOENT)
            return strdup("");
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(WEB_AUTH_FILE_MAX + 1);
    if (text == NULL) {
        fclose(in);
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    size_t len = fread(text, 1, WEB_AUTH_FILE_MAX + 1, in);
    bool failed = ferror(in) != 0;
    fclose(in);
    if (failed || len > WEB_AUTH_FILE_MAX || memchr(text, '\0', len) != NULL) {
        snprintf(err, err_len, "%s: %s", path,
                 failed ? "read error" : "too large or not text (accounts file)");
        free(text);
        return NULL;
    }
    text[len] = '\0';
    return text;
}

/* Parses one "user:hash" line (already cut, no newline) into `account`.
 * Returns 0, or the 1-based column where the line goes wrong. */
static int parse_account_line(const char *line, size_t len, struct account *account)
{
    const char *colon = memchr(line, ':', len);
    if (colon == NULL)
        return (int)(len < 4096 ? len : 4096) + 1;
    size_t user_len = (size_t)(colon - line);
    if (user_len > WEB_AUTH_USER_MAX)
        return 1;
    size_t hash_len = len - user_len - 1;
    memcpy(account->user, line, user_len);
    account->user[user_len] = '\0';
    if (!web_auth_user_valid(account->user))
        return 1;
    if (!hash_valid(colon + 1, hash_len))
        return (int)user_len + 2;
    memcpy(account->hash, colon + 1, hash_len);
    account->hash[hash_len] = '\0';
    return 0;
}

static bool line_is_comment(const char *line, size_t len)
{
    return len == 0 || line[0] == '#';
}

/* Calls `visit` on every line of `text` (without "\n" or a final "\r"),
 * stopping early when it returns false. */
static bool for_each_line(const char *text,
                          bool (*visit)(void *ctx, const char *line, size_t len, unsigned number),
                          void *ctx)
{
    unsigned number = 0;
    const char *line = text;
    while (*line != '\0') {
        const char *newline = strchr(line, '\n');
        size_t len = newline != NULL ? (size_t)(newline - line) : strlen(line);
        const char *next = newline != NULL ? newline + 1 : line + len;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        number++;
        if (!visit(ctx, line, len, number))
            return false;
        line = next;
    }
    return true;
}

struct load_ctx {
    struct web_auth *auth;
    const char *path;
    char *err;
    size_t err_len;
    bool failed;
};

/* Appends "path:line:column: message" to the error text (one per line):
 * every bad line of the file is reported, not only the first. */
static void load_error(struct load_ctx *ctx, unsigned line, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void load_error(struct load_ctx *ctx, unsigned line, int column, const char *fmt, ...)
{
    ctx->failed = true;
    size_t used = strnlen(ctx->err, ctx->err_len);
    if (used + 2 >= ctx->err_len)
        return;
    if (used > 0)
        ctx->err[used++] = '\n';
    int n = snprintf(ctx->err + used, ctx->err_len - used, "%s:%u:%d: ", ctx->path, line, column);
    if (n < 0 || (size_t)n >= ctx->err_len - used)
        return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(ctx->err + used + (size_t)n, ctx->err_len - used - (size_t)n, fmt, args);
    va_end(args);
}

static bool load_line(void *opaque, const char *line, size_t len, unsigned number)
{
    struct load_ctx *ctx = opaque;
    struct web_auth *auth = ctx->auth;
    if (line_is_comment(line, len))
        return true;
    if (auth->account_count >= WEB_AUTH_ACCOUNTS_MAX) {
        load_error(ctx, number, 1, "more than %d accounts", WEB_AUTH_ACCOUNTS_MAX);
        return false;
    }
    struct account *account = &auth->accounts[auth->account_count];
    int column = parse_account_line(line, len, account);
    if (column != 0) {
        load_error(ctx, number, column,
                   "expected USER:HASH (user of [A-Za-z0-9._@-], yescrypt hash \"$y$...\")");
        return true;
    }
    for (size_t i = 0; i < auth->account_count; i++) {
        if (strcmp(auth->accounts[i].user, account->user) == 0) {
            load_error(ctx, number, 1, "account \"%s\" given twice", account->user);
            return true;
        }
    }
    auth->account_count++;
    return true;
}

/* Hashes `password` with a fresh salt into `out`. Returns false when the
 * system has no yescrypt or no randomness. */
static bool hash_password(const char *password, char out[HASH_MAX])
{
    char *setting = crypt_gensalt_ra(HASH_PREFIX, 0, NULL, 0);
    if (setting == NULL)
        return false;
    struct crypt_data *data = calloc(1, sizeof(*data));
    bool ok = false;
    if (data != NULL) {
        const char *hash = crypt_rn(password, setting, data, (int)sizeof(*data));
        if (hash != NULL && hash_valid(hash, strlen(hash))) {
            snprintf(out, HASH_MAX, "%s", hash);
            ok = true;
        }
        explicit_bzero(data, sizeof(*data));
        free(data);
    }
    free(setting);
    return ok;
}

/* Compares `len` bytes in a time that does not depend on where they differ. */
static bool equal_constant_time(const char *a, const char *b, size_t len)
{
    unsigned char diff = 0;
    for (size_t i = 0; i < len; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

/* True when `password` hashes to `hash`. */
static bool password_matches(const char *password, const char *hash)
{
    struct crypt_data *data = calloc(1, sizeof(*data));
    if (data == NULL)
        return false;
    const char *computed = crypt_rn(password, hash, data, (int)sizeof(*data));
    size_t len = strlen(hash);
    bool ok =
        computed != NULL && strlen(computed) == len && equal_constant_time(computed, hash, len);
    explicit_bzero(data, sizeof(*data));
    free(data);
    return ok;
}

struct web_auth *web_auth_create(const char *path, char *err, size_t err_len)
{
    struct web_auth *auth = calloc(1, sizeof(*auth));
    if (auth == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&auth->lock, NULL);
    if (path == NULL)
        return auth;
    if (err_len > 0)
        err[0] = '\0'; /* load_error appends to it */
    char *text = read_file_bounded(path, false, err, err_len);
    auth->accounts = calloc(WEB_AUTH_ACCOUNTS_MAX, sizeof(*auth->accounts));
    struct load_ctx ctx = {auth, path, err, err_len, false};
    bool ok = text != NULL && auth->accounts != NULL && for_each_line(text, load_line, &ctx) &&
              !ctx.failed;
    if (ok && auth->account_count > 0 && !hash_password("fluxaudit-dummy", auth->dummy_hash)) {
        snprintf(err, err_len, "yescrypt is not available from crypt()");
        ok = false;
    }
    if (text != NULL && auth->accounts == NULL)
        snprintf(err, err_len, "out of memory");
    free(text);
    if (!ok) {
        web_auth_destroy(auth);
        return NULL;
    }
    return auth;
}

void web_auth_destroy(struct web_auth *auth)
{
    if (auth == NULL)
        return;
    pthread_mutex_destroy(&auth->lock);
    free(auth->accounts);
    explicit_bzero(auth, sizeof(*auth));
    free(auth);
}

bool web_auth_required(const struct web_auth *auth)
{
    return auth != NULL && auth->account_count > 0;
}

/* ---- failed logins ----------------------------------------------------- */

/* The failure record of `address`, or NULL. Caller holds the lock. */
static struct failures *failures_find(struct web_auth *auth, const uint8_t address[16])
{
    for (size_t i = 0; i < WEB_AUTH_TRACKED_ADDRESSES; i++) {
        struct failures *f = &auth->failures[i];
        if (f->window_start != 0 && memcmp(f->address, address, 16) == 0)
            return f;
    }
    return NULL;
}

static bool rate_limited(struct web_auth *auth, const uint8_t address[16], uint64_t now)
{
    pthread_mutex_lock(&auth->lock);
    const struct failures *f = failures_find(auth, address);
    bool limited = f != NULL && now - f->window_start < WEB_AUTH_FAILURE_WINDOW &&
                   f->count >= WEB_AUTH_FAILURES_PER_WINDOW;
    pthread_mutex_unlock(&auth->lock);
    return limited;
}

/* Counts a failure; a new address takes a free slot or the oldest window. */
static void record_failure(struct web_auth *auth, const uint8_t address[16], uint64_t now)
{
    pthread_mutex_lock(&auth->lock);
    struct failures *f = failures_find(auth, address);
    if (f == NULL) {
        f = &auth->failures[0];
        for (size_t i = 0; i < WEB_AUTH_TRACKED_ADDRESSES; i++) {
            if (auth->failures[i].window_start < f->window_start)
                f = &auth->failures[i];
        }
        memcpy(f->address, address, 16);
        f->window_start = 0;
    }
    if (f->window_start == 0 || now - f->window_start >= WEB_AUTH_FAILURE_WINDOW) {
        f->window_start = now != 0 ? now : 1;
        f->count = 0;
    }
    f->count++;
    pthread_mutex_unlock(&auth->lock);
}

/* ---- sessions ---------------------------------------------------------- */

static bool new_session_id(char id[WEB_AUTH_SESSION_ID_LEN + 1])
{
    uint8_t random[WEB_AUTH_SESSION_ID_LEN / 2];
    if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random))
        return false;
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(random); i++) {
        id[2 * i] = hex[random[i] >> 4];
        id[2 * i + 1] = hex[random[i] & 0xf];
    }
    id[WEB_AUTH_SESSION_ID_LEN] = '\0';
    explicit_bzero(random, sizeof(random));
    return true;
}

/* Stores `id` in a free or expired slot, else over the oldest session. */
static void session_store(struct web_auth *auth, const char *id, uint64_t now)
{
    pthread_mutex_lock(&auth->lock);
    struct session *slot = &auth->sessions[0];
    for (size_t i = 0; i < WEB_AUTH_SESSIONS_MAX; i++) {
        struct session *s = &auth->sessions[i];
        if (s->created == 0 || now - s->created >= WEB_AUTH_SESSION_TTL) {
            slot = s;
            break;
        }
        if (s->created < slot->created)
            slot = s;
    }
    memcpy(slot->id, id, WEB_AUTH_SESSION_ID_LEN + 1);
    slot->created = now != 0 ? now : 1;
    pthread_mutex_unlock(&auth->lock);
}

/* The slot holding `id`, or NULL; every slot is compared in constant time
 * so the lookup leaks nothing about stored ids. Caller holds the lock. */
static struct session *session_find(struct web_auth *auth, const char *id)
{
    if (id == NULL || strlen(id) != WEB_AUTH_SESSION_ID_LEN)
        return NULL;
    struct session *found = NULL;
    for (size_t i = 0; i < WEB_AUTH_SESSIONS_MAX; i++) {
        struct session *s = &auth->sessions[i];
        bool same = equal_constant_time(s->id, id, WEB_AUTH_SESSION_ID_LEN);
        if (same && s->created != 0)
            found = s;
    }
    return found;
}

bool web_auth_session_valid(struct web_auth *auth, const char *session_id, uint64_t now)
{
    if (!web_auth_required(auth))
        return true;
    pthread_mutex_lock(&auth->lock);
    struct session *s = session_find(auth, session_id);
    bool valid = s != NULL && now >= s->created && now - s->created < WEB_AUTH_SESSION_TTL;
    if (s != NULL && !valid)
        memset(s, 0, sizeof(*s));
    pthread_mutex_unlock(&auth->lock);
    return valid;
}

void web_auth_logout(struct web_auth *auth, const char *session_id)
{
    if (auth == NULL)
        return;
    pthread_mutex_lock(&auth->lock);
    struct session *s = session_find(auth, session_id);
    if (s != NULL)
        memset(s, 0, sizeof(*s));
    pthread_mutex_unlock(&auth->lock);
}

enum web_login_result web_auth_login(struct web_auth *auth, const uint8_t address[16],
                                     const char *user, const char *password, uint64_t now,
                                     char session_id[WEB_AUTH_SESSION_ID_LEN + 1])
{
    if (!web_auth_required(auth))
        return WEB_LOGIN_REFUSED;
    if (rate_limited(auth, address, now))
        return WEB_LOGIN_RATE_LIMITED;
    const char *hash = auth->dummy_hash;
    bool known = false;
    for (size_t i = 0; i < auth->account_count; i++) {
        if (strcmp(auth->accounts[i].user, user) == 0) {
            hash = auth->accounts[i].hash;
            known = true;
        }
    }
    /* The hash runs for unknown users too: the answer time tells nothing. */
    bool matches = strlen(password) <= WEB_AUTH_PASSWORD_MAX && password_matches(password, hash);
    if (!known || !matches) {
        record_failure(auth, address, now);
        return WEB_LOGIN_REFUSED;
    }
    if (!new_session_id(session_id))
        return WEB_LOGIN_ERROR;
    session_store(auth, session_id, now);
    return WEB_LOGIN_OK;
}

/* ---- web_account_set --------------------------------------------------- */

struct rewrite_ctx {
    FILE *out;
    const char *user;
    const char *hash;
    bool replaced;
    const char *path;
    char *err;
    size_t err_len;
};

/* Copies one line of the old file, replacing the account of `user`;
 * refuses a malformed line rather than dropping it. */
static bool rewrite_line(void *opaque, const char *line, size_t len, unsigned number)
{
    struct rewrite_ctx *ctx = opaque;
    if (line_is_comment(line, len)) {
        fprintf(ctx->out, "%.*s\n", (int)len, line);
        return true;
    }
    struct account account;
    int column = parse_account_line(line, len, &account);
    if (column != 0) {
        snprintf(ctx->err, ctx->err_len, "%s:%u:%d: malformed line (expected USER:HASH)", ctx->path,
                 number, column);
        return false;
    }
    if (strcmp(account.user, ctx->user) == 0) {
        if (!ctx->replaced)
            fprintf(ctx->out, "%s:%s\n", ctx->user, ctx->hash);
        ctx->replaced = true;
        return true;
    }
    fprintf(ctx->out, "%.*s\n", (int)len, line);
    return true;
}

/* Writes `content` to a new 0600 file next to `path` and renames it over
 * `path`, so a reader sees the old file or the new one, never a mix. */
static bool write_atomically(const char *path, const char *content, size_t len, char *err,
                             size_t err_len)
{
    size_t tmp_len = strlen(path) + sizeof(".XXXXXX");
    char *tmp = malloc(tmp_len);
    if (tmp == NULL) {
        snprintf(err, err_len, "out of memory");
        return false;
    }
    snprintf(tmp, tmp_len, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, err_len, "%s: %s", tmp, strerror(errno));
        free(tmp);
        return false;
    }
    bool ok = fchmod(fd, 0600) == 0;
    size_t done = 0;
    while (ok && done < len) {
        ssize_t n = write(fd, content + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        done += ok ? (size_t)n : 0;
    }
    ok = ok && fsync(fd) == 0;
    ok = (close(fd) == 0) && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return ok;
}

bool web_account_set(const char *accounts_path, const char *user, const char *password, char *err,
                     size_t err_len)
{
    if (accounts_path == NULL || user == NULL || password == NULL) {
        snprintf(err, err_len, "no accounts file, user or password");
        return false;
    }
    if (!web_auth_user_valid(user)) {
        snprintf(err, err_len, "bad user name (1-%d characters of A-Z a-z 0-9 . _ @ -)",
                 WEB_AUTH_USER_MAX);
        return false;
    }
    size_t password_len = strlen(password);
    if (password_len == 0 || password_len > WEB_AUTH_PASSWORD_MAX) {
        snprintf(err, err_len, "the password must have 1-%d bytes", WEB_AUTH_PASSWORD_MAX);
        return false;
    }
    char *old = read_file_bounded(accounts_path, true, err, err_len);
    if (old == NULL)
        return false;
    char hash[HASH_MAX];
    if (!hash_password(password, hash)) {
        snprintf(err, err_len, "cannot hash the password: yescrypt or randomness unavailable");
        free(old);
        return false;
    }
    char *content = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&content, &len);
    bool ok = out != NULL;
    if (ok) {
        struct rewrite_ctx ctx = {out, user, hash, false, accounts_path, err, err_len};
        ok = for_each_line(old, rewrite_line, &ctx);
        if (ok && !ctx.replaced)
            fprintf(out, "%s:%s\n", user, hash);
        ok = (fclose(out) == 0) && ok;
    } else {
        snprintf(err, err_len, "out of memory");
    }
    free(old);
    ok = ok && write_atomically(accounts_path, content, len, err, err_len);
    explicit_bzero(hash, sizeof(hash));
    free(content);
    return ok;
}
