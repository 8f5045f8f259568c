/* "$schema" and "$vocabulary": which keywords a resource's meta-schema
 * enables, and which draft's semantics apply (2020-12, 2019-09 or draft-07;
 * a sub-resource inherits its parent's). The standard meta-schema URIs need
 * no loading; a custom
 * meta-schema is loaded through the registry and its "$vocabulary" read. A
 * required vocabulary whiskers does not implement makes the schema unusable
 * (section 8.1.2 of the core specification); an optional one is ignored. */
#include "schema/session.h"
#include "schema/uri.h"

#include <stdlib.h>
#include <string.h>

#define DRAFT_2020_12 "https://json-schema.org/draft/2020-12/schema"
#define DRAFT_2019_09 "https://json-schema.org/draft/2019-09/schema"
#define DRAFT_07      "http://json-schema.org/draft-07/schema"

/* Draft-07 has no vocabularies; these are the keywords it defines. */
#define VOC_DRAFT7_ALL                                                                             \
        (VOC_DRAFT7 | VOC_CORE | VOC_APPLICATOR | VOC_VALIDATION | VOC_META_DATA |                 \
         VOC_FORMAT_ANNOTATION | VOC_CONTENT)

unsigned sch_vocab_draft7(void)
{
        return VOC_DRAFT7_ALL;
}

static const struct {
        const char *uri;
        unsigned bits;
} vocabularies[] = {
    {"https://json-schema.org/draft/2020-12/vocab/core", VOC_CORE},
    {"https://json-schema.org/draft/2020-12/vocab/applicator", VOC_APPLICATOR},
    {"https://json-schema.org/draft/2020-12/vocab/unevaluated", VOC_UNEVALUATED},
    {"https://json-schema.org/draft/2020-12/vocab/validation", VOC_VALIDATION},
    {"https://json-schema.org/draft/2020-12/vocab/meta-data", VOC_META_DATA},
    {"https://json-schema.org/draft/2020-12/vocab/format-annotation", VOC_FORMAT_ANNOTATION},
    {"https://json-schema.org/draft/2020-12/vocab/format-assertion", VOC_FORMAT_ASSERTION},
    {"https://json-schema.org/draft/2020-12/vocab/content", VOC_CONTENT},
    /* 2019-09: unevaluated* belong to the applicator vocabulary. */
    {"https://json-schema.org/draft/2019-09/vocab/core", VOC_DRAFT2019 | VOC_CORE},
    {"https://json-schema.org/draft/2019-09/vocab/applicator",
     VOC_DRAFT2019 | VOC_APPLICATOR | VOC_UNEVALUATED},
    {"https://json-schema.org/draft/2019-09/vocab/validation", VOC_DRAFT2019 | VOC_VALIDATION},
    {"https://json-schema.org/draft/2019-09/vocab/meta-data", VOC_DRAFT2019 | VOC_META_DATA},
    {"https://json-schema.org/draft/2019-09/vocab/format", VOC_DRAFT2019 | VOC_FORMAT_ANNOTATION},
    {"https://json-schema.org/draft/2019-09/vocab/content", VOC_DRAFT2019 | VOC_CONTENT},
};

static const struct {
        const char *uri;
        unsigned bits;
} known_drafts[] = {
    {DRAFT_2020_12, VOC_DEFAULT},
    {DRAFT_2019_09, VOC_DRAFT2019 | VOC_DEFAULT},
    {DRAFT_07, VOC_DRAFT7_ALL},
};

/* Drafts before 07: accepted, evaluated with draft-07 semantics, warned about. */
static const char *const older_drafts[] = {
    "http://json-schema.org/draft-04/schema",
    "http://json-schema.org/draft-06/schema",
};

static bool same_uri(const char *a, const char *b)
{
        size_t n = uri_nofrag_len(a);
        return strlen(b) == n && strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n + 1] == '\0');
}

static unsigned vocab_bits(const char *uri)
{
        for (size_t i = 0; i < sizeof(vocabularies) / sizeof(vocabularies[0]); i++)
                if (strcmp(uri, vocabularies[i].uri) == 0)
                        return vocabularies[i].bits;
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
                unsigned bit = vocab_bits(key);
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
        for (size_t i = 0; i < sizeof(known_drafts) / sizeof(known_drafts[0]); i++) {
                if (same_uri(uri, known_drafts[i].uri)) {
                        *out = known_drafts[i].bits;
                        return 0;
                }
        }
        for (size_t i = 0; i < sizeof(older_drafts) / sizeof(older_drafts[0]); i++) {
                if (same_uri(uri, older_drafts[i])) {
                        sch_warn(s,
                                 "$schema %s: drafts 2020-12, 2019-09 and 07 are implemented; "
                                 "this schema is evaluated as draft-07",
                                 uri);
                        *out = VOC_DRAFT7_ALL;
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
