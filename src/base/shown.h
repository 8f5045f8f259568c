/* Text a sandboxed program wrote (its stderr, an exception's message),
 * printed for a person: a terminal acts on control characters instead of
 * showing them (ESC starts sequences that clear the screen, retitle the
 * window or, with OSC 52, write the clipboard), so they are printed as
 * escapes: "\x1b", "\u009b". Newlines and tabs are kept. */
#ifndef WH_BASE_SHOWN_H
#define WH_BASE_SHOWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Writes the n bytes of s (UTF-8) to out, controls escaped. */
void wh_fput_shown(FILE *out, const char *s, size_t n);

/* Writes s (UTF-8, may be NULL: nothing) for a one-line field: newlines and
 * tabs escaped too, so that it cannot start a line of its own. */
void wh_fput_shown_line(FILE *out, const char *s);

#endif
