/* References between objects (docs/contract.md "References").
 *
 * While the output streams in, each reference field of a valid object is
 * checked for form (a primary key "Type|...") and target type, and noted.
 * When the stream has ended, every noted reference must name an object of
 * the output, the input object, or an object of a type the manifest lists
 * in external_types (objects the platform is known to hold: "Network").
 * Anything else is a dangling reference. */
#include "contract/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool type_listed(json_t *list, const char *pk)
{
        size_t tl = strcspn(pk, "|");
        for (size_t i = 0; i < json_array_size(list); i++) {
                const char *t = json_string_value(json_array_get(list, i));
                if (strlen(t) == tl && strncmp(t, pk, tl) == 0)
                        return true;
        }
        return false;
}

static int note(struct checker *c, const struct ref_field *f, const char *value, uint64_t line,
                const char *from)
{
        if (!pk_valid(value)) {
                cerr_add(c->errors, "bad_reference", line, NULL, 0,
                         "%.300s: field \"%s\" must hold a primary key \"Type|...\", not "
                         "\"%.300s\"",
                         from, f->name, value);
                return -1;
        }
        if (f->allowed && !type_listed(f->allowed, value)) {
                cerr_add(c->errors, "bad_reference", line, NULL, 0,
                         "%.300s: field \"%s\" refers to a %.*s, which its schema does not allow "
                         "(x-reference)",
                         from, f->name, (int)strcspn(value, "|"), value);
                return -1;
        }
        if (c->n_refs == c->cap_refs) {
                size_t ncap = c->cap_refs ? c->cap_refs * 2 : 64;
                struct pending_ref *nr = realloc(c->refs, ncap * sizeof(*nr));
                if (!nr)
                        goto oom;
                c->refs = nr;
                c->cap_refs = ncap;
        }
        struct pending_ref *r = &c->refs[c->n_refs];
        *r = (struct pending_ref){line, strdup(f->name), strdup(value), strdup(from)};
        if (!r->field || !r->value || !r->from) {
                free(r->field), free(r->value), free(r->from);
                goto oom;
        }
        c->n_refs++;
        return 0;
oom:
        c->oom = true;
        return -1;
}

static void forget_from(struct checker *c, size_t n)
{
        while (c->n_refs > n) {
                struct pending_ref *r = &c->refs[--c->n_refs];
                free(r->field), free(r->value), free(r->from);
        }
}

/* All or nothing: an object with one bad reference is refused, and its
 * other references must not come back as dangling ones. */
int checker_note_refs(struct checker *c, const struct object_type *t, json_t *obj, uint64_t line,
                      const char *from)
{
        size_t before = c->n_refs;
        int rc = 0;
        for (size_t i = 0; i < t->n_refs; i++) {
                json_t *v = json_object_get(obj, t->refs[i].name);
                if (json_is_string(v) && note(c, &t->refs[i], json_string_value(v), line, from) < 0)
                        rc = -1;
                for (size_t j = 0; json_is_array(v) && j < json_array_size(v); j++) {
                        const char *s = json_string_value(json_array_get(v, j));
                        if (s && note(c, &t->refs[i], s, line, from) < 0)
                                rc = -1;
                }
        }
        if (rc < 0)
                forget_from(c, before);
        return rc;
}

void checker_resolve(struct checker *c, const char *input_pk)
{
        for (size_t i = 0; i < c->n_refs; i++) {
                const struct pending_ref *r = &c->refs[i];
                if (wh_strset_has(&c->keys, r->value) ||
                    (input_pk && strcmp(input_pk, r->value) == 0) ||
                    type_listed(c->manifest->external_types, r->value))
                        continue;
                cerr_add(c->errors, "dangling_reference", r->line, NULL, 0,
                         "%.300s: field \"%s\" refers to %.300s, which is neither in the output "
                         "nor the input object, and %.*s is not in external_types",
                         r->from, r->field, r->value, (int)strcspn(r->value, "|"), r->value);
        }
}
