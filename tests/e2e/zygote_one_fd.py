#!/usr/bin/python3
"""A warm zygote for the tests (runtime "exec", "warm": "fork"), written to
the protocol as it was before children moved themselves into their memory
cgroup (docs/warm.md "Protocol"): it takes one fd with "input N" (the
kernel drops the tasks file sent after the channel), so the supervisor
moves its children. Cold, and in each child after "go": a Hostname per
word of stdin; the word "oom" allocates 512 MiB first.

The file "fork" beside it says how children are forked:
  clone        new user and pid namespaces (x86_64's clone), as warm wants
  plain        a plain fork(): refused by the supervisor
  clone-first  the first child cloned, the rest plain"""
import ctypes
import os
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = '{"object_type":"Hostname","network":"Network|internet","name":"%s"}'


def serve():
    words = sys.stdin.read().split()
    if "oom" in words:
        eaten = b"o" * (512 << 20)  # noqa: F841
    for h in words:
        print(HOST % h)
    sys.stdout.flush()


def forker(how):
    clones = [how != "plain"]

    def fork():
        if not clones[0]:
            return os.fork()
        clones[0] = how == "clone"
        return ctypes.PyDLL(None).syscall(56, 0x30000011, 0, 0, 0, 0)

    return fork


if os.environ.get("WHISKERS_WARM") != "fork":
    serve()
    sys.exit(0)
fork = forker(open(os.path.join(HERE, "fork")).read().strip())
ctl = socket.socket(fileno=0)
ctl.send(b"ready\n")
while True:
    msg, fds, _, _ = socket.recv_fds(ctl, 256, 1)
    if not msg:
        sys.exit(0)
    pid = fork()
    if pid == 0:
        os.setpgid(0, 0)
        chan = socket.socket(fileno=fds[0])
        chan.send(b"hello\n")
        _, io, _, _ = socket.recv_fds(chan, 256, 3)  # "go", or the end when refused
        for i, fd in enumerate(io):
            os.dup2(fd, i)
        if io:
            serve()
        os._exit(0)
    os.close(fds[0])
    _, status = os.waitpid(pid, 0)
    ctl.send(b"exit %s %d 0 0\n" % (msg.split()[1], status))
