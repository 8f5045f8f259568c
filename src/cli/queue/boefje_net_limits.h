/* The network limits of one boefje run, as `whiskers scan` and
 * `whiskers submit --boefje` take them: {CLI_GROUP, .group =
 * cli_boefje_net_limit_options, .offset = offsetof(args, a struct
 * wh_boefje_limits)}. Each lowers the allowlist's default where smaller. */
#ifndef WH_CLI_QUEUE_BOEFJE_NET_LIMITS_H
#define WH_CLI_QUEUE_BOEFJE_NET_LIMITS_H

#include "cli/opt/options.h"

extern const struct cli_option cli_boefje_net_limit_options[];

#endif
