/* config/parse.c - libyaml events to a configuration tree with positions. */
#include "config/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "config/expand.h"
#include "config/get.h"

/* A map or list being filled. */
typedef struct frame_s {
    gw_cfg_node_t *node;
    char *key;            /* owned: pending map key, NULL when the next scalar is a key */
    int key_line, key_col;
    int merge_key;        /* the pending key is a merge key (<<) */
    int discard;          /* this subtree is a duplicate key's value: dropped */
    gw_cfg_node_t *merge_into; /* this node is a merge source for that map */
} frame_t;

typedef struct anchor_s {
    char *name; /* owned */
    gw_cfg_node_t *node;
    int complete;
} anchor_t;

typedef struct ctx_s {
    const char *text;
    size_t len;
    unsigned flags;
    gw_diag_t *d;
    gw_cfg_node_t *root;
    const char *file; /* the root's copy */
    int errors;       /* problems reported */
    int nomem;
    int docs;
    int got_root;
    size_t nodes;
    frame_t *stack;
    size_t depth, stack_cap;
    anchor_t *anchors;
    size_t nanchors, anchors_cap;
    gw_cfg_node_t **discard; /* merge sources and duplicate values, freed at the end */
    size_t ndiscard, discard_cap;
} ctx_t;

static void problem(ctx_t *c, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(ctx_t *c, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (c->d)
        gw_diag_addv(c->d, c->file, line, col, fmt, ap);
    va_end(ap);
    c->errors++;
}

static int keep_for_later(ctx_t *c, gw_cfg_node_t *n)
{
    if (c->ndiscard == c->discard_cap) {
        size_t cap = c->discard_cap ? c->discard_cap * 2 : 8;
        gw_cfg_node_t **p = realloc(c->discard, cap * sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        c->discard = p;
        c->discard_cap = cap;
    }
    c->discard[c->ndiscard++] = n;
    return 0;
}

static int push(ctx_t *c, gw_cfg_node_t *n, int discard, gw_cfg_node_t *merge_into)
{
    if (c->depth == c->stack_cap) {
        size_t cap = c->stack_cap ? c->stack_cap * 2 : 16;
        frame_t *p = realloc(c->stack, cap * sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        c->stack = p;
        c->stack_cap = cap;
    }
    frame_t *f = &c->stack[c->depth++];
    memset(f, 0, sizeof(*f));
    f->node = n;
    f->discard = discard;
    f->merge_into = merge_into;
    return 0;
}

static int add_anchor(ctx_t *c, const yaml_char_t *name, gw_cfg_node_t *n, int complete)
{
    if (name == NULL)
        return 0;
    if (c->nanchors == c->anchors_cap) {
        size_t cap = c->anchors_cap ? c->anchors_cap * 2 : 8;
        anchor_t *p = realloc(c->anchors, cap * sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        c->anchors = p;
        c->anchors_cap = cap;
    }
    char *s = strdup((const char *)name);
    if (s == NULL)
        return -ENOMEM;
    c->anchors[c->nanchors++] = (anchor_t){s, n, complete};
    return 0;
}

static int count_node(ctx_t *c, int line, int col)
{
    if (++c->nodes <= GW_CFG_MAX_NODES)
        return 0;
    problem(c, line, col, "the document has more than %u values (an alias that expands "
            "exponentially?)", GW_CFG_MAX_NODES);
    return -E2BIG;
}

/* Copies the keys of `src` (a map, or a list of maps) missing from `map`:
 * explicit keys win over merged ones, earlier sources over later ones. */
static int merge(ctx_t *c, gw_cfg_node_t *map, gw_cfg_node_t *src)
{
    if (src->type == OC_CFG_LIST) {
        for (size_t i = 0; i < src->len; i++) {
            int rc = merge(c, map, src->items[i]);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    if (src->type != OC_CFG_MAP) {
        problem(c, src->line, src->col, "a merge key (<<) takes a map or a list of maps, "
                "got %s", gw_cfg_type_name(src));
        return 0;
    }
    for (size_t i = 0; i < src->len; i++) {
        if (gw_cfg_lookup(map, src->keys[i]))
            continue;
        gw_cfg_node_t *v = gw_cfg_copy(src->items[i], &c->nodes);
        if (v == NULL || gw_cfg_map_add(map, src->keys[i], v) != 0) {
            gw_cfg_free(v);
            return -ENOMEM;
        }
        v->flags |= GW_CFG_F_MERGED;
        if (c->nodes > GW_CFG_MAX_NODES)
            return count_node(c, src->line, src->col);
    }
    return 0;
}

static int expand(ctx_t *c, gw_cfg_node_t *n)
{
    if ((c->flags & GW_CFG_PARSE_NO_EXPAND) || n->type != OC_CFG_SCALAR ||
        strchr(n->scalar, '$') == NULL)
        return 0;
    gw_buf_t why = GW_BUF_INIT;
    char *out = NULL;
    int rc = gw_cfg_expand(n->scalar, &out, &why);
    if (rc == -EINVAL) {
        gw_cfg_error(c->d, n, "%s", why.data ? why.data : "bad ${...} reference");
        c->errors++;
        rc = 0;
    } else if (rc == 0 && strcmp(out, n->scalar) != 0) {
        n->raw = n->scalar;
        n->scalar = out;
        out = NULL;
    }
    free(out);
    gw_buf_free(&why);
    return rc;
}

/* Places a new value `n` (owned by the caller until this returns 0) into
 * the container on top of the stack; pushes it when it is a container.
 * `fresh`: a scalar just read (alias copies are expanded already). */
static int place(ctx_t *c, gw_cfg_node_t *n, int container, int fresh)
{
    frame_t *f = &c->stack[c->depth - 1];
    gw_cfg_node_t *parent = f->node;
    gw_cfg_node_t *merge_into = NULL;
    int discard = f->discard; /* inside a dropped duplicate value */
    int detached = 0;         /* not part of the tree: kept aside until the end */
    int rc = 0;

    if (parent->type == OC_CFG_LIST) {
        rc = gw_cfg_list_add(parent, n);
    } else {
        gw_cfg_node_t *old = gw_cfg_lookup(parent, f->key);
        n->key_line = f->key_line;
        n->key_col = f->key_col;
        if (f->merge_key) {
            merge_into = parent;
            detached = 1;
        } else if (old && (old->flags & GW_CFG_F_MERGED)) {
            size_t i = 0;
            while (parent->items[i] != old)
                i++;
            rc = gw_cfg_replace_at(parent, i, n);
        } else if (old) {
            if (!discard)
                problem(c, f->key_line, f->key_col, "duplicate key '%s' %s%s (first defined "
                        "at line %d; keep one)", f->key, parent->path[0] ? "in " :
                        "at the top level", parent->path, old->key_line);
            discard = 1;
            detached = 1;
        } else {
            rc = gw_cfg_map_add(parent, f->key, n);
        }
        if (rc == 0 && detached) {
            /* A path for messages; anchors may point into it, so it lives
             * until the end. */
            char *p = merge_into ? strdup(parent->path) : gw_cfg_path_join(parent->path, f->key);
            if (p == NULL)
                return -ENOMEM;
            free(n->path);
            n->path = p;
            rc = keep_for_later(c, n);
        }
        free(f->key);
        f->key = NULL;
        f->merge_key = 0;
    }
    if (rc != 0)
        return rc;
    if (fresh && !discard && (rc = expand(c, n)) != 0)
        return rc;
    if (container)
        return push(c, n, discard, merge_into);
    if (merge_into)
        return merge(c, merge_into, n);
    return 0;
}

static int is_null_scalar(const yaml_event_t *e)
{
    const char *tag = (const char *)e->data.scalar.tag;
    const char *v = (const char *)e->data.scalar.value;
    if (tag && strcmp(tag, YAML_NULL_TAG) == 0)
        return 1;
    if (tag || e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    return !strcmp(v, "") || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
           !strcmp(v, "NULL");
}

static gw_cfg_node_t *new_node(ctx_t *c, int type, const yaml_mark_t *m)
{
    gw_cfg_node_t *n = gw_cfg_node_new(type);
    if (n == NULL)
        return NULL;
    n->file = c->file;
    n->line = n->key_line = (int)m->line + 1;
    n->col = n->key_col = (int)m->column + 1;
    return n;
}

/* Where the document's top level is not a map. */
static void bad_top(ctx_t *c, const yaml_mark_t *m, const char *what)
{
    problem(c, (int)m->line + 1, (int)m->column + 1, "the top level must be a map of sections "
            "(server:, plugins:, ...), got %s", what);
}

static int on_scalar(ctx_t *c, yaml_event_t *e)
{
    const yaml_mark_t *m = &e->start_mark;
    const char *v = (const char *)e->data.scalar.value;
    if (c->depth == 0) {
        if (!is_null_scalar(e))
            bad_top(c, m, "a string");
        c->got_root = 1;
        return c->errors ? -EINVAL : 0;
    }
    frame_t *f = &c->stack[c->depth - 1];
    if (f->node->type == OC_CFG_MAP && f->key == NULL) {
        f->key = strdup(v);
        if (f->key == NULL)
            return -ENOMEM;
        f->key_line = (int)m->line + 1;
        f->key_col = (int)m->column + 1;
        f->merge_key = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                       e->data.scalar.tag == NULL && strcmp(v, "<<") == 0;
        return 0;
    }
    if (count_node(c, (int)m->line + 1, (int)m->column + 1) != 0)
        return -E2BIG;
    int null = is_null_scalar(e);
    gw_cfg_node_t *n = new_node(c, null ? OC_CFG_NULL : OC_CFG_SCALAR, m);
    if (n == NULL)
        return -ENOMEM;
    if (!null) {
        const char *tag = (const char *)e->data.scalar.tag;
        n->scalar = strdup(v);
        n->quoted = e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
                    (tag && strcmp(tag, YAML_STR_TAG) == 0);
        if (n->scalar == NULL) {
            gw_cfg_free(n);
            return -ENOMEM;
        }
    }
    int rc = add_anchor(c, e->data.scalar.anchor, n, 1);
    if (rc == 0)
        rc = place(c, n, 0, 1);
    if (rc != 0 && n->parent == NULL && !(c->ndiscard && c->discard[c->ndiscard - 1] == n))
        gw_cfg_free(n);
    return rc;
}

static int on_start(ctx_t *c, yaml_event_t *e, int type)
{
    const yaml_mark_t *m = &e->start_mark;
    const yaml_char_t *anchor = type == OC_CFG_MAP ? e->data.mapping_start.anchor
                                                   : e->data.sequence_start.anchor;
    if (c->depth == 0) {
        if (type != OC_CFG_MAP) {
            bad_top(c, m, "a list");
            return -EINVAL;
        }
        c->got_root = 1;
        c->root->line = c->root->key_line = (int)m->line + 1;
        c->root->col = c->root->key_col = (int)m->column + 1;
        int rc = add_anchor(c, anchor, c->root, 0);
        return rc ? rc : push(c, c->root, 0, NULL);
    }
    frame_t *f = &c->stack[c->depth - 1];
    if (f->node->type == OC_CFG_MAP && f->key == NULL) {
        problem(c, (int)m->line + 1, (int)m->column + 1, "a map or list used as a key is not "
                "supported (keys are plain strings)");
        return -EINVAL;
    }
    if (count_node(c, (int)m->line + 1, (int)m->column + 1) != 0)
        return -E2BIG;
    gw_cfg_node_t *n = new_node(c, type, m);
    if (n == NULL)
        return -ENOMEM;
    int rc = add_anchor(c, anchor, n, 0);
    if (rc == 0)
        rc = place(c, n, 1, 0);
    if (rc != 0 && n->parent == NULL && !(c->ndiscard && c->discard[c->ndiscard - 1] == n))
        gw_cfg_free(n);
    return rc;
}

static int on_end(ctx_t *c)
{
    frame_t *f = &c->stack[--c->depth];
    free(f->key);
    for (size_t i = 0; i < c->nanchors; i++)
        if (c->anchors[i].node == f->node)
            c->anchors[i].complete = 1;
    if (f->merge_into)
        return merge(c, f->merge_into, f->node);
    return 0;
}

static int on_alias(ctx_t *c, yaml_event_t *e)
{
    const yaml_mark_t *m = &e->start_mark;
    const char *name = (const char *)e->data.alias.anchor;
    int line = (int)m->line + 1, col = (int)m->column + 1;
    if (c->depth == 0) {
        bad_top(c, m, "an alias");
        return -EINVAL;
    }
    frame_t *f = &c->stack[c->depth - 1];
    if (f->node->type == OC_CFG_MAP && f->key == NULL) {
        problem(c, line, col, "an alias used as a key is not supported (keys are plain "
                "strings)");
        return -EINVAL;
    }
    const anchor_t *a = NULL;
    for (size_t i = c->nanchors; i-- > 0;)
        if (strcmp(c->anchors[i].name, name) == 0) {
            a = &c->anchors[i];
            break;
        }
    if (a == NULL) {
        problem(c, line, col, "unknown alias *%s (define &%s on a value above this line)",
                name, name);
        return -EINVAL;
    }
    if (!a->complete) {
        problem(c, line, col, "alias *%s is inside the value it refers to (recursive aliases "
                "are not supported)", name);
        return -EINVAL;
    }
    gw_cfg_node_t *n = gw_cfg_copy(a->node, &c->nodes);
    if (n == NULL)
        return -ENOMEM;
    if (c->nodes > GW_CFG_MAX_NODES) {
        gw_cfg_free(n);
        return count_node(c, line, col);
    }
    /* Point at the alias for the value itself; its inner values keep the
     * positions where they were written. */
    n->line = n->key_line = line;
    n->col = n->key_col = col;
    int rc = place(c, n, 0, 0);
    if (rc != 0 && n->parent == NULL && !(c->ndiscard && c->discard[c->ndiscard - 1] == n))
        gw_cfg_free(n);
    return rc;
}

/* 1-based line and column of byte `off` (reader errors carry only an offset). */
static void offset_pos(const ctx_t *c, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < c->len; i++) {
        if (c->text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static int line_has_tab_indent(const ctx_t *c, size_t line0)
{
    size_t i = 0;
    for (size_t l = 0; l < line0 && i < c->len; i++)
        if (c->text[i] == '\n')
            l++;
    for (; i < c->len && (c->text[i] == ' ' || c->text[i] == '\t'); i++)
        if (c->text[i] == '\t')
            return 1;
    return 0;
}

static void syntax_error(ctx_t *c, const yaml_parser_t *p)
{
    int line, col;
    if (p->error == YAML_READER_ERROR) {
        offset_pos(c, p->problem_offset, &line, &col);
        problem(c, line, col, "invalid YAML: %s (the file must be UTF-8 text)",
                p->problem ? p->problem : "unreadable input");
        return;
    }
    if (p->error == YAML_MEMORY_ERROR) {
        c->nomem = 1;
        return;
    }
    line = (int)p->problem_mark.line + 1;
    col = (int)p->problem_mark.column + 1;
    const char *tab = line_has_tab_indent(c, p->problem_mark.line)
                          ? "; indent with spaces, YAML does not allow tabs" : "";
    if (p->context)
        problem(c, line, col, "invalid YAML: %s (%s at line %d, column %d%s)",
                p->problem ? p->problem : "syntax error", p->context,
                (int)p->context_mark.line + 1, (int)p->context_mark.column + 1, tab);
    else if (*tab)
        problem(c, line, col, "invalid YAML: %s (%s)", p->problem ? p->problem : "syntax error",
                tab + 2);
    else
        problem(c, line, col, "invalid YAML: %s", p->problem ? p->problem : "syntax error");
}

static int run(ctx_t *c)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return -ENOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)c->text, c->len);
    int rc = 0, done = 0;
    while (!done && rc == 0) {
        yaml_event_t e;
        if (!yaml_parser_parse(&p, &e)) {
            syntax_error(c, &p);
            rc = c->nomem ? -ENOMEM : -EINVAL;
            break;
        }
        switch (e.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++c->docs > 1) {
                problem(c, (int)e.start_mark.line + 1, (int)e.start_mark.column + 1,
                        "a second YAML document starts here; a config file holds one "
                        "(remove this '---' and what follows, or merge the two)");
                rc = -EINVAL;
            }
            break;
        case YAML_SCALAR_EVENT:
            rc = on_scalar(c, &e);
            break;
        case YAML_MAPPING_START_EVENT:
            rc = on_start(c, &e, OC_CFG_MAP);
            break;
        case YAML_SEQUENCE_START_EVENT:
            rc = on_start(c, &e, OC_CFG_LIST);
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            rc = on_end(c);
            break;
        case YAML_ALIAS_EVENT:
            rc = on_alias(c, &e);
            break;
        default:
            break;
        }
        yaml_event_delete(&e);
    }
    yaml_parser_delete(&p);
    return rc;
}

int gw_cfg_parse(const char *name, const char *text, size_t len, unsigned flags,
                 gw_cfg_node_t **root, gw_diag_t *d)
{
    ctx_t c;
    memset(&c, 0, sizeof(c));
    *root = NULL;
    c.text = text;
    c.len = len;
    c.flags = flags;
    c.d = d;
    c.root = gw_cfg_new_root(name);
    if (c.root == NULL)
        return -ENOMEM;
    c.file = c.root->file;
    if (c.root->file)
        c.root->line = c.root->col = c.root->key_line = c.root->key_col = 1;

    int rc = run(&c);
    /* Problems in values (unset ${VAR}, duplicate keys) leave a whole tree:
     * it is returned with -EINVAL so validation can report the rest too. */
    int soft = rc == 0 && c.errors;

    while (c.depth > 0)
        free(c.stack[--c.depth].key);
    free(c.stack);
    for (size_t i = 0; i < c.nanchors; i++)
        free(c.anchors[i].name);
    free(c.anchors);
    for (size_t i = 0; i < c.ndiscard; i++)
        gw_cfg_free(c.discard[i]);
    free(c.discard);
    if (rc != 0) {
        gw_cfg_free(c.root);
        return rc == -ENOMEM ? -ENOMEM : -EINVAL;
    }
    *root = c.root;
    return soft ? -EINVAL : 0;
}

int gw_cfg_parse_string(const char *name, const char *text, gw_cfg_node_t **root, gw_diag_t *d)
{
    return gw_cfg_parse(name, text, strlen(text), 0, root, d);
}

/* Reads a whole regular file; -errno, or -EFBIG past the limit. */
static int slurp(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = 0;
    char *buf = NULL;
    size_t n = 0;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
    } else if (S_ISDIR(st.st_mode)) {
        rc = -EISDIR;
    } else if (st.st_size > (off_t)GW_CFG_MAX_FILE_BYTES) {
        rc = -EFBIG;
    } else {
        size_t cap = (size_t)st.st_size + 1;
        buf = malloc(cap);
        if (buf == NULL)
            rc = -ENOMEM;
        while (rc == 0) {
            if (n + 1 >= cap) { /* the file grew (or is a pipe) */
                if (cap > GW_CFG_MAX_FILE_BYTES) {
                    rc = -EFBIG;
                    break;
                }
                char *p = realloc(buf, cap * 2);
                if (p == NULL) {
                    rc = -ENOMEM;
                    break;
                }
                buf = p;
                cap *= 2;
            }
            ssize_t r = read(fd, buf + n, cap - n - 1);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                rc = -errno;
            else if (r == 0)
                break;
            else
                n += (size_t)r;
        }
    }
    close(fd);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int gw_cfg_parse_file_flags(const char *path, unsigned flags, gw_cfg_node_t **root,
                            gw_diag_t *d)
{
    char *text = NULL;
    size_t len = 0;
    *root = NULL;
    int rc = slurp(path, &text, &len);
    if (rc == -EFBIG) {
        if (d)
            gw_diag_add(d, NULL, 0, 0, "cannot read %s: larger than %u MiB (is this the "
                        "config file?)", path, GW_CFG_MAX_FILE_BYTES >> 20);
        return rc;
    }
    if (rc != 0) {
        if (d && rc != -ENOMEM)
            gw_diag_add(d, NULL, 0, 0, "cannot read %s: %s", path, strerror(-rc));
        return rc;
    }
    rc = gw_cfg_parse(path, text, len, flags, root, d);
    free(text);
    return rc;
}

int gw_cfg_parse_file(const char *path, gw_cfg_node_t **root, gw_diag_t *d)
{
    return gw_cfg_parse_file_flags(path, 0, root, d);
}
