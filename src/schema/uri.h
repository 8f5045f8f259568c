/* URI references (RFC 3986): parsing into components, resolution of a
 * reference against a base URI (section 5.2), dot-segment removal, fragment
 * splitting and percent-decoding. Used to turn $id/$ref/$schema values into
 * the absolute URIs the registry is keyed by. */
#ifndef WH_SCHEMA_URI_H
#define WH_SCHEMA_URI_H

#include <stdbool.h>
#include <stddef.h>

struct uri_part {
        const char *s;
        size_t len;
        bool present;
};

struct uri {
        struct uri_part scheme, authority, path, query, fragment;
};

/* Split s into components (never fails: every string is a URI reference
 * under the RFC's generic regular expression). */
void uri_parse(const char *s, struct uri *u);
bool uri_is_absolute(const char *s);
/* Resolve ref against base (which should be absolute). Returns a malloc'd
 * string, NULL when out of memory. The result keeps ref's fragment; an empty
 * fragment ("x#") is dropped. */
char *uri_resolve(const char *base, const char *ref);
/* Length of s without its fragment ("#..." part). */
size_t uri_nofrag_len(const char *s);
/* Percent-decode s[0..len) into out (at least len + 1 bytes, NUL-terminated);
 * returns the decoded length, or -1 for a malformed escape. */
long uri_percent_decode(const char *s, size_t len, char *out);

#endif
