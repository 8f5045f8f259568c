/* OpenKAT primary keys: "ObjectType|natural|key|parts".
 *
 * An object's key is its "primary_key" field when it has one, else it is
 * made from the "x-natural-key" fields of its schema the way OpenKAT makes
 * it: the type, then each field's value joined by "|", where a reference
 * field contributes the reference's own natural key (what follows its
 * type: "Network|internet" gives "internet") unless the entry says
 * "whole", and null gives "". A key given and a key made must agree. */
#include "contract/internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool pk_valid(const char *s)
{
        if (!isalpha((unsigned char)*s))
                return false;
        const char *p = s;
        while (isalnum((unsigned char)*p))
                p++;
        return *p == '|' && p[1] != '\0';
}

static bool is_ref_field(const struct object_type *t, const char *field)
{
        for (size_t i = 0; i < t->n_refs; i++)
                if (strcmp(t->refs[i].name, field) == 0)
                        return true;
        return false;
}

/* Appends one part to buf; false with why set when the value cannot be one. */
static bool add_part(const struct object_type *t, const struct key_part *k, json_t *v, char *buf,
                     size_t cap, size_t *len, char *why, size_t whylen)
{
        char num[32];
        const char *s = "";
        if (json_is_string(v)) {
                s = json_string_value(v);
                if (!k->whole && is_ref_field(t, k->field)) {
                        if (!pk_valid(s)) {
                                snprintf(why, whylen, "natural key field \"%s\" is not a reference",
                                         k->field);
                                return false;
                        }
                        s = strchr(s, '|') + 1;
                }
        } else if (json_is_integer(v)) {
                snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                s = num;
        } else if (json_is_boolean(v)) {
                s = json_is_true(v) ? "True" : "False"; /* as Python's str() */
        } else if (v && !json_is_null(v)) {
                snprintf(why, whylen,
                         "natural key field \"%s\" is not a string, integer, boolean or null",
                         k->field);
                return false;
        }
        size_t n = strlen(s);
        if (*len + 1 + n + 1 > cap) {
                snprintf(why, whylen, "its natural key is longer than %zu bytes", cap - 1);
                return false;
        }
        buf[(*len)++] = '|';
        memcpy(buf + *len, s, n + 1);
        *len += n;
        return true;
}

static char *make_key(const struct object_type *t, json_t *obj, char *why, size_t whylen)
{
        size_t cap = 65536, len = strlen(t->name);
        char *buf = malloc(cap);
        if (!buf) {
                snprintf(why, whylen, "out of memory");
                return NULL;
        }
        memcpy(buf, t->name, len + 1);
        for (size_t i = 0; i < t->n_key; i++) {
                if (!add_part(t, &t->key[i], json_object_get(obj, t->key[i].field), buf, cap, &len,
                              why, whylen)) {
                        free(buf);
                        return NULL;
                }
        }
        return buf;
}

char *pk_of(const struct object_type *t, json_t *obj, char *why, size_t whylen)
{
        *why = '\0';
        json_t *given = json_object_get(obj, "primary_key");
        char *made = t && t->key ? make_key(t, obj, why, whylen) : NULL;
        if (!given || *why)
                return made;
        const char *g = json_string_value(given);
        size_t tl = t ? strlen(t->name) : 0;
        if (!g || !pk_valid(g) || (t && (strncmp(g, t->name, tl) != 0 || g[tl] != '|'))) {
                snprintf(why, whylen, "primary_key must be a string \"%s|...\"",
                         t ? t->name : "Type");
                free(made);
                return NULL;
        }
        if (made && strcmp(made, g) != 0) {
                snprintf(why, whylen, "primary_key is not the one its natural key makes (%.200s)",
                         made);
                free(made);
                return NULL;
        }
        free(made);
        return strdup(g);
}
