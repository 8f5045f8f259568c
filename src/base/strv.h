/* A vector of malloc'd strings, as lists of names are returned
 * (char **v with its count n). */
#ifndef WH_BASE_STRV_H
#define WH_BASE_STRV_H

#include <stddef.h>

/* Free each of v's n strings, then v; NULL is fine. */
void wh_strv_free(char **v, size_t n);

#endif
