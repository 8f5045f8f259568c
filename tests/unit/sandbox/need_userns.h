/* Sandboxed runs need user namespaces. Where the kernel or its policy
 * refuses them to this user (user.max_user_namespaces=0,
 * kernel.unprivileged_userns_clone=0, AppArmor's
 * restrict_unprivileged_userns) the calling test is skipped, saying so;
 * CI=true fails instead. Probed with unshare(2) in a child, not with
 * whiskers, so a broken sandbox still fails. Include after cmocka.h. */
#ifndef WH_TEST_NEED_USERNS_H
#define WH_TEST_NEED_USERNS_H

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static inline void need_userns(void)
{
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 ? 0 : 1);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return;
        const char *ci = getenv("CI");
        if (ci && strcmp(ci, "true") == 0)
                fail_msg("user namespaces are refused to this user (CI=true must run this test)");
        print_message("SKIP: user namespaces are refused to this user here: this sandboxed run "
                      "was NOT tested\n");
        skip();
}

#endif
