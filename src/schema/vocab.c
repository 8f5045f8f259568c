/* "$schema" and "$vocabulary": which keywords a resource's meta-schema
 * enables. The draft 2020-12 meta-schema URI needs no loading; a custom
 * meta-schema is loaded through the registry and its "$vocabulary" read. A
 * required vocabulary whiskers does not implement makes the schema unusable
 * (section 8.1.2 of the core specification); an optional one is ignored. */
#include "schema/session.h"
#include "schema/uri.h"

#include <stdlib.h>
#include <string.h>

#define DRAFT_2020_12 "https://json-schema.org/draft/2020-12/schema"
#define VOCAB_PREFIX  "https://json-schema.org/draft/2020-12/vocab/"

static const struct {
        const char *name;
        unsigned bit;
} vocabularies[] = {
    {"core", VOC_CORE},
    {"applicator", VOC_APPLICATOR},
    {"unevaluated", VOC_UNEVALUATED},
    {"validation", VOC_VALIDATION},
    {"meta-data", VOC_META_DATA},
    {"format-annotation", VOC_FORMAT_ANNOTATION},
    {"format-assertion", VOC_FORMAT_ASSERTION},
    {"content", VOC_CONTENT},
};

/* Earlier drafts: accepted, evaluated with 2020-12 semantics, warned about. */
static const char *const older_drafts[] = {
    "http://json-schema.org/draft-04/schema",
    "http://json-schema.org/draft-06/schema",
    "http://json-schema.org/draft-07/schema",
    "https://json-schema.org/draft/2019-09/schema",
};

static bool same_uri(const char *a, const char *b)
{
        size_t n = uri_nofrag_len(a);
        return strlen(b) == n && strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n + 1] == '\0');
}

static unsigned vocab_bit(const char *uri)
{
        if (strncmp(uri, VOCAB_PREFIX, strlen(VOCAB_PREFIX)) != 0)
                return 0;
        for (size_t i = 0; i < sizeof(vocabularies) / sizeof(vocabularies[0]); i++)
                if (strcmp(uri + strlen(VOCAB_PREFIX), vocabularies[i].name) == 0)
                        return vocabularies[i].bit;
        return 0;
}

static int from_metaschema(struct sch_session *s, const char *uri, unsigned *out)
{
        size_t n = uri_nofrag_len(uri);
        char *doc_uri = strndup(uri, n);
        if (!doc_uri)
                return sch_fail(s, "out of memory");
        struct sch_resource *meta = sch_load(s, doc_uri);
        free(doc_uri);
        if (!meta)
                return wh_err_prefix(s->err, "meta-schema %s named by $schema", uri);
        json_t *voc = json_object_get(meta->root, "$vocabulary");
        if (!voc) {
                *out = meta->vocab;
                return 0;
        }
        if (!json_is_object(voc))
                return sch_fail(s, "$vocabulary of meta-schema %s must be an object", uri);
        unsigned bits = VOC_CORE;
        const char *key;
        json_t *required;
        json_object_foreach(voc, key, required)
        {
                unsigned bit = vocab_bit(key);
                if (!json_is_boolean(required))
                        return sch_fail(s, "$vocabulary of %s: values must be booleans", uri);
                if (!bit && json_is_true(required))
                        return sch_fail(s,
                                        "meta-schema %s requires vocabulary %s, which whiskers "
                                        "does not implement",
                                        uri, key);
                bits |= bit;
        }
        *out = bits;
        return 0;
}

int sch_vocab(struct sch_session *s, json_t *schema, unsigned inherited, unsigned *out)
{
        json_t *v = json_object_get(schema, "$schema");
        *out = inherited;
        if (!v)
                return 0;
        if (!json_is_string(v) || !uri_is_absolute(json_string_value(v)))
                return sch_fail(s, "$schema must be an absolute URI");
        const char *uri = json_string_value(v);
        if (same_uri(uri, DRAFT_2020_12)) {
                *out = VOC_DEFAULT;
                return 0;
        }
        for (size_t i = 0; i < sizeof(older_drafts) / sizeof(older_drafts[0]); i++) {
                if (same_uri(uri, older_drafts[i])) {
                        sch_warn(s,
                                 "$schema %s: only draft 2020-12 is implemented; this "
                                 "schema is evaluated as 2020-12",
                                 uri);
                        *out = VOC_DEFAULT;
                        return 0;
                }
        }
        /* A meta-schema naming itself: its own $vocabulary is not in force
         * for it; evaluate it with the default vocabularies. */
        json_t *id = json_object_get(schema, "$id");
        if (json_is_string(id) && same_uri(uri, json_string_value(id))) {
                *out = VOC_DEFAULT;
                return 0;
        }
        return from_metaschema(s, uri, out);
}
