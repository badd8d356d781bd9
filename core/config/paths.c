/* config/paths.c - home, state directory and config file locations (SPEC §4). */
#include "config/config.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* $HOME, else the passwd entry; copied into buf. NULL when unknown. */
static const char *home_dir(char *buf, size_t len)
{
    const char *h = env_nonempty("HOME");
    if (h == NULL) {
        struct passwd pw, *res = NULL;
        char tmp[4096];
        if (getpwuid_r(getuid(), &pw, tmp, sizeof(tmp), &res) != 0 || res == NULL ||
            res->pw_dir == NULL || res->pw_dir[0] == '\0')
            return NULL;
        h = res->pw_dir;
    }
    if (strlen(h) >= len)
        return NULL;
    strcpy(buf, h);
    return buf;
}

static char *join2(const char *a, const char *b)
{
    gw_buf_t buf = GW_BUF_INIT;
    if (gw_buf_printf(&buf, "%s%s", a, b) != 0) {
        gw_buf_free(&buf);
        return NULL;
    }
    return gw_buf_steal(&buf);
}

char *gw_config_expand_home(const char *path)
{
    char home[4096];
    if (path == NULL)
        return NULL;
    if (path[0] != '~' || (path[1] != '\0' && path[1] != '/'))
        return strdup(path);
    if (home_dir(home, sizeof(home)) == NULL)
        return NULL;
    /* "/" + "/x" would give "//x" */
    size_t n = strlen(home);
    while (n > 1 && home[n - 1] == '/')
        home[--n] = '\0';
    return join2(strcmp(home, "/") == 0 && path[1] ? "" : home, path + 1);
}

/* `~` expanded and made absolute against the working directory. */
static char *absolute(const char *p)
{
    char *e = gw_config_expand_home(p);
    if (e == NULL || e[0] == '/')
        return e;
    char cwd[4096];
    char *r = NULL;
    if (getcwd(cwd, sizeof(cwd)) != NULL) {
        gw_buf_t b = GW_BUF_INIT;
        if (gw_buf_printf(&b, "%s/%s", cwd, e) == 0)
            r = gw_buf_steal(&b);
        gw_buf_free(&b);
    }
    free(e);
    return r;
}

char *gw_config_state_dir(int dev)
{
    char home[4096];
    const char *env = env_nonempty("OPENCLAW_STATE_DIR");
    if (env)
        return absolute(env);
    if (home_dir(home, sizeof(home)) == NULL)
        return NULL;
    return join2(home, dev ? "/.openclaw-dev" : "/.openclaw");
}

char *gw_config_path(const gw_config_opts_t *o, int *explicit_)
{
    char home[4096];
    const char *p = o && o->path && *o->path ? o->path : env_nonempty("OPENCLAW_CONFIG_PATH");
    if (explicit_)
        *explicit_ = p != NULL;
    if (p)
        return gw_config_expand_home(p);
    if (home_dir(home, sizeof(home)) == NULL)
        return NULL;
    /* The dev profile is isolated from the real one, config included. */
    return join2(home, o && o->dev ? "/.openclaw-dev/gateway.yaml" : "/.openclaw/gateway.yaml");
}
