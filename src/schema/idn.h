/* Internationalized host names: Punycode (RFC 3492) and a subset of the
 * IDNA2008 label rules (RFC 5891/5892) used by the hostname and
 * idn-hostname formats. Implemented: A-label decoding with the round-trip
 * check, the hyphen rules, no leading combining mark, code points limited
 * to letters (lower-case and other), marks and decimal digits plus the RFC
 * 5892 exceptions, and the CONTEXTJ/CONTEXTO rules (with scripts
 * approximated by their main blocks). Not implemented: the Bidi rule (RFC
 * 5893) and the full derived property table. */
#ifndef WH_SCHEMA_IDN_H
#define WH_SCHEMA_IDN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDN_MAX_LABEL 64 /* code points; longer labels are invalid anyway */

/* An ASCII label with "--" in positions 3-4: valid only as an "xn--"
 * A-label holding a valid U-label. */
bool idn_a_label_ok(const char *s, size_t n);
bool idn_u_label_ok(const uint32_t *cp, size_t n);
/* Length of the A-label ("xn--" + Punycode) for cp, or 0 if too long. */
size_t idn_a_label_len(const uint32_t *cp, size_t n);

int punycode_decode(const char *in, size_t len, uint32_t *out, size_t *outlen, size_t cap);
/* Encode into out (cap bytes); returns the length, or -1 if it does not fit. */
long punycode_encode(const uint32_t *cp, size_t n, char *out, size_t cap);

#endif
