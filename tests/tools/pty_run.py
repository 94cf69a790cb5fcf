#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Run a command with a pseudo-terminal as its controlling terminal.

Usage: pty_run.py [--answer TEXT]... [--timeout SECS] [--transcript FILE]
                  [--type FILE] [--stdin-tty] -- COMMAND [ARGS...]

The child gets a new session whose controlling terminal is the slave side
of a fresh pty (setsid + TIOCSCTTY), so opening /dev/tty works, while its
stdin, stdout and stderr stay those of this script (files and pipes the
caller set up).  Whenever the terminal shows a passphrase prompt (a line
mentioning "passphrase" and ending in ':'), the next --answer is typed,
once echo has been turned off, followed by a newline.  Prompts beyond the
answers are left unanswered (the child times out).  Everything written to
the terminal is saved to --transcript if given.

Exit status: the child's (128+N if killed by signal N), 124 on timeout,
125 on a usage or setup error.
"""
import fcntl
import os
import re
import select
import signal
import sys
import termios
import time

PROMPT = re.compile(rb"(?i)passphrase[^\n]*:\s*$")


OPTS = {"typed": None, "stdin_tty": False}


def parse_args(argv):
    answers, timeout, transcript = [], 30.0, None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            return answers, timeout, transcript, argv[i + 1:]
        if a == "--stdin-tty":
            OPTS["stdin_tty"] = True
            i += 1
            continue
        if a in ("--answer", "--timeout", "--transcript", "--type") and \
                i + 1 < len(argv):
            v = argv[i + 1]
            if a == "--answer":
                answers.append(v)
            elif a == "--timeout":
                timeout = float(v)
            elif a == "--type":
                with open(v, "rb") as f:
                    OPTS["typed"] = f.read()
            else:
                transcript = v
            i += 2
            continue
        return answers, timeout, transcript, argv[i:]
    return answers, timeout, transcript, []


def child(slave, master, cmd):
    try:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        if OPTS["stdin_tty"]:
            os.dup2(slave, 0)
        os.close(slave)
        os.execvp(cmd[0], cmd)
    except OSError as exc:
        os.write(2, ("pty_run: %s: %s\n" % (cmd[0], exc)).encode())
    os._exit(127)


def echo_off(fd):
    try:
        return not termios.tcgetattr(fd)[3] & termios.ECHO
    except termios.error:
        return False


def main():
    answers, timeout, transcript, cmd = parse_args(sys.argv[1:])
    if not cmd:
        sys.stderr.write(__doc__)
        return 125
    master, slave = os.openpty()
    if OPTS["typed"] is not None:
        # queue it on the terminal before the child exists: nothing of it
        # may be lost when the child turns echo off
        for line in OPTS["typed"].splitlines(keepends=True):
            os.write(master, line)
        os.write(master, b"\x04")
    pid = os.fork()
    if pid == 0:
        child(slave, master, cmd)
    # keep the slave open: its termios tell when echo is off, and the
    # master then never sees EIO before we are done
    log = bytearray()
    pending = bytearray()	# terminal output since the last answer
    deadline = time.monotonic() + timeout
    status = None
    while status is None:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            sys.stderr.write("pty_run: timeout after %gs\n" % timeout)
            status = 124
            break
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                data = os.read(master, 4096)
            except OSError:
                data = b""
            log += data
            pending += data
        if answers and PROMPT.search(bytes(pending)) and echo_off(slave):
            os.write(master, answers.pop(0).encode() + b"\n")
            pending.clear()
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
            if status < 0:
                status = 128 - status
    while select.select([master], [], [], 0)[0]:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        log += data
    os.close(master)
    os.close(slave)
    if transcript:
        with open(transcript, "wb") as f:
            f.write(bytes(log))
    return status


if __name__ == "__main__":
    sys.exit(main())
