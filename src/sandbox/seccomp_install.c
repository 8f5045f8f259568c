/* Installing a compiled filter. Runs in the payload process between fork and
 * execve, so it is a single raw system call: no allocation, no locks, no
 * libseccomp (whose seccomp_load() allocates and re-generates the program). */
#include "sandbox/seccomp.h"

#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

int wh_seccomp_install(const struct sock_fprog *prog, int *listener_fd)
{
        /* NEW_LISTENER: the kernel returns the notification fd (close-on-exec)
         * through which the supervisor learns of every refused call. */
        long fd =
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, prog);
        if (fd < 0)
                return -1;
        *listener_fd = (int)fd;
        return 0;
}
