#include "cli/queue/boefje_net_limits.h"

#include <stddef.h>
#include <stdint.h>
#include <whiskers/boefje.h>

#define AT(field) offsetof(struct wh_boefje_limits, field)
const struct cli_option cli_boefje_net_limit_options[] = {
    {CLI_U64, "net-max-conns", .metavar = "N", .offset = AT(net_max_conns),
     .max = WH_BOEFJE_MAX_CONNS, .help = "connections open at once (default 64)"},
    {CLI_SIZE, "net-max-bytes", .metavar = "SIZE", .offset = AT(net_max_bytes), .max = INT64_MAX,
     .help = "bytes through the network, both ways"},
    {CLI_SIZE, "net-max-rate", .metavar = "SIZE", .offset = AT(net_max_rate), .max = INT64_MAX,
     .help = "bytes per second, both ways (as 'whiskers exec --net-max-rate')"},
    {0},
};
