#include "base/strv.h"

#include <stdlib.h>

void wh_strv_free(char **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}
