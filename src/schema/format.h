/* "format" assertions (used when asserting is on: the format-assertion
 * vocabulary, or WH_SCHEMA_ASSERT_FORMAT). Each checker takes a string's
 * bytes and says whether it is a valid instance of the format. */
#ifndef WH_SCHEMA_FORMAT_H
#define WH_SCHEMA_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

/* 1-based id of a known format, 0 if unknown. */
int sch_format_id(const char *name);
bool sch_format_check(int id, const char *s, size_t len);

/* The checkers, grouped by file. */
bool fmt_date_time(const char *s, size_t len);
bool fmt_date(const char *s, size_t len);
bool fmt_time(const char *s, size_t len);
bool fmt_duration(const char *s, size_t len);
bool fmt_ipv4(const char *s, size_t len);
bool fmt_ipv6(const char *s, size_t len);
bool fmt_hostname(const char *s, size_t len);
bool fmt_idn_hostname(const char *s, size_t len);
bool fmt_email(const char *s, size_t len);
bool fmt_idn_email(const char *s, size_t len);
bool fmt_uri(const char *s, size_t len);
bool fmt_uri_reference(const char *s, size_t len);
bool fmt_iri(const char *s, size_t len);
bool fmt_iri_reference(const char *s, size_t len);
bool fmt_uri_template(const char *s, size_t len);
bool fmt_json_pointer(const char *s, size_t len);
bool fmt_relative_json_pointer(const char *s, size_t len);
bool fmt_regex(const char *s, size_t len);
bool fmt_uuid(const char *s, size_t len);

#endif
