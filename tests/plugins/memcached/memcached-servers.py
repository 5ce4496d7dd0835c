#!/usr/bin/env python3
"""memcached-servers.py: real memcached servers for the tests, on free
loopback ports.

    memcached-servers.py [options] -- PROGRAM [ARGS...]

Starts --servers memcached processes (default 1) on free 127.0.0.1 ports
and, with --socket, one more on a unix socket, in a temporary directory;
waits until each answers `version`; runs PROGRAM with their addresses in
its environment; and stops them afterwards, also when PROGRAM fails,
crashes or the harness is interrupted.  Servers a test restarts itself
are found by their pid files and stopped too.

Environment given to PROGRAM:
  MEMCACHED_HOST, MEMCACHED_PORT   the first server (MEMCACHED_PORT is
                                   also what tools/dev/bench-peer.py reads)
  MEMCACHED_PORTS                  every TCP server's port, "p1,p2,p3"
  MEMCACHED_SOCKET                 the unix-socket server's path (--socket)
  DOGPILE_MEMCACHED_COMMAND_P      how to start server P again on its port
                                   (shell-quoted; it daemonizes and writes
                                   DOGPILE_MEMCACHED_PIDFILE_P)
  DOGPILE_MEMCACHED_PIDFILE_P      where its pid is
  DOGPILE_MEMCACHED_TMPDIR         the temporary directory
  DOGPILE_TEST_ARGUMENTS           --arguments with {url} (the first
                                   server), {urls} (all, comma-separated)
                                   and {socket} filled in

--sasl USER:PASSWORD starts every server with SASL (-S, binary protocol
only) and that one user, in a sasldb of its own (saslpasswd2, from
sasl2-bin, with the PLAIN mechanism of libsasl2-modules); PROGRAM gets
MEMCACHED_SASL_USER and MEMCACHED_SASL_PASSWORD.

--per-test runs each Criterion test of PROGRAM alone (from `PROGRAM
--list`) after a flush_all of every server: the generic suite uses fixed
keys ("key1") that would otherwise leak from one test into the next.  A
server a test killed and did not bring back is started again first, so
one failed fault test does not fail the ones after it.

Only loopback is used, never port 11211 (a system server).  When no
server can start the run is skipped (exit 77), except under CI=true,
where it fails: a CI run never silently skips.
"""

import argparse
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
HOST = "127.0.0.1"
START_TIMEOUT = 10.0


class HarnessError(Exception):
    pass


def free_port():
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port != 11211:
            return port


def ask(address, line, timeout=1.0):
    """Sends one text-protocol command; returns the first reply line."""
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(address)
        s.sendall(line.encode() + b"\r\n")
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
        return reply.decode(errors="replace").strip()


def ask_binary_version(address, timeout=1.0):
    """Whether a binary-protocol `version` gets an answer (a SASL server
    answers it before any authentication, and nothing in text)."""
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    request = bytes([0x80, 0x0b]) + bytes(22)
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(address)
        s.sendall(request)
        header = s.recv(24)
        return len(header) >= 1 and header[0] == 0x81


def sasl_setup(workdir, credentials):
    """A sasldb with the one user of USER:PASSWORD and the config that
    points memcached at it; returns the SASL_CONF_PATH folder."""
    user, _, password = credentials.partition(":")
    if not user or not password:
        raise HarnessError("--sasl takes USER:PASSWORD")
    tool = shutil.which("saslpasswd2")
    if tool is None:
        raise HarnessError("saslpasswd2 (sasl2-bin) is not installed")
    db = os.path.join(workdir, "sasldb")
    subprocess.run([tool, "-a", "memcached", "-c", "-p", "-f", db, user],
                   input=password.encode(), check=True)
    with open(os.path.join(workdir, "memcached.conf"), "w") as f:
        f.write("mech_list: plain\nsasldb_path: %s\n" % db)
    return workdir


def memcached_argv(workdir, name, listen):
    pidfile = os.path.join(workdir, "memcached-%s.pid" % name)
    argv = [shutil.which("memcached") or "memcached", "-m", "64",
            "-c", "1024", "-U", "0", "-P", pidfile] + listen
    if os.getuid() == 0:
        argv += ["-u", "root"]  # memcached refuses to run as root without
    return argv, pidfile


class Server:
    sasl_conf = None  # SASL_CONF_PATH when --sasl is given

    def __init__(self, workdir, port=None, path=None):
        self.port, self.path = port, path
        name = str(port) if port else "socket"
        listen = (["-l", HOST, "-p", str(port)] if port
                  else ["-s", path, "-a", "0700"])
        self.argv, self.pidfile = memcached_argv(workdir, name, listen)
        self.address = (HOST, port) if port else path
        self.process = None

    def restart_command(self):
        prefix = []
        if Server.sasl_conf:
            prefix = ["env", "SASL_CONF_PATH=" + Server.sasl_conf]
        return " ".join(shlex.quote(a) for a in prefix + self.argv + ["-d"])

    def start(self):
        env = dict(os.environ)
        if Server.sasl_conf:
            env["SASL_CONF_PATH"] = Server.sasl_conf
        self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                        env=env)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError("memcached %s exited with %d"
                                   % (self.address, self.process.returncode))
            if self.answers():
                return
            time.sleep(0.02)
        raise HarnessError("memcached %s did not answer within %g s"
                           % (self.address, START_TIMEOUT))

    def answers(self):
        try:
            if Server.sasl_conf:
                return ask_binary_version(self.address, 0.5)
            return ask(self.address, "version", 0.5).startswith("VERSION")
        except OSError:
            return False

    def flush(self):
        """Empties the server; starts it again if a test left it dead."""
        if not self.answers():
            if self.process is not None:
                self.process.poll()  # reap the one the test killed
            self.start()
            return
        ask(self.address, "flush_all")

    def stop(self):
        pids = set()
        if self.process is not None and self.process.poll() is None:
            pids.add(self.process.pid)
        try:
            with open(self.pidfile) as f:
                pids.add(int(f.read().strip()))
        except (OSError, ValueError):
            pass
        for pid in pids:
            for sig in (signal.SIGCONT, signal.SIGTERM):
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        if self.process is not None:
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def list_tests(program):
    """Criterion's --list: "suite: N tests" then "├── name" lines."""
    out = subprocess.run([program, "--list"], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True).stdout
    tests, suite = [], None
    for line in out.splitlines():
        if line.endswith(" tests") or line.endswith(" test"):
            suite = line.split(":")[0].strip()
        elif suite and ("── " in line):
            tests.append("%s/%s" % (suite, line.split("── ", 1)[1].strip()))
    if not tests:
        raise HarnessError("no tests listed by %s:\n%s" % (program, out))
    return tests


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--servers", type=int, default=1)
    parser.add_argument("--socket", action="store_true")
    parser.add_argument("--per-test", action="store_true")
    parser.add_argument("--arguments", default="")
    parser.add_argument("--sasl", metavar="USER:PASSWORD")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no PROGRAM given")

    workdir = tempfile.mkdtemp(prefix="dogpile-memcached-")
    if args.sasl and args.per_test:
        parser.error("--per-test flushes in text, which --sasl refuses")
    servers = [Server(workdir, port=free_port()) for _ in range(args.servers)]
    if args.socket:
        servers.append(Server(workdir, path=os.path.join(workdir, "mc.sock")))
    env = dict(os.environ)
    try:
        try:
            if args.sasl:
                Server.sasl_conf = sasl_setup(workdir, args.sasl)
                env["MEMCACHED_SASL_USER"], _, env["MEMCACHED_SASL_PASSWORD"] \
                    = args.sasl.partition(":")
            for s in servers:
                if Server.sasl_conf:
                    s.argv.append("-S")
                s.start()
        except (OSError, HarnessError, subprocess.CalledProcessError) as e:
            print("memcached-servers.py: %s" % e, file=sys.stderr)
            if os.environ.get("CI") == "true":
                return 1
            return SKIP
        tcp = [s for s in servers if s.port]
        urls = ",".join("%s:%d" % (HOST, s.port) for s in tcp)
        sock = next((s.path for s in servers if s.path), "")
        env.update({
            "MEMCACHED_HOST": HOST,
            "MEMCACHED_PORT": str(tcp[0].port) if tcp else "",
            "MEMCACHED_PORTS": ",".join(str(s.port) for s in tcp),
            "MEMCACHED_SOCKET": sock,
            "DOGPILE_MEMCACHED_TMPDIR": workdir,
            "DOGPILE_TEST_ARGUMENTS": args.arguments
                .replace("{url}", urls.split(",")[0] if tcp else sock)
                .replace("{urls}", urls).replace("{socket}", sock),
        })
        for s in tcp:
            env["DOGPILE_MEMCACHED_COMMAND_%d" % s.port] = s.restart_command()
            env["DOGPILE_MEMCACHED_PIDFILE_%d" % s.port] = s.pidfile
        if not args.per_test:
            return subprocess.run(command, env=env).returncode
        failed = 0
        for test in list_tests(command[0]):
            for s in servers:
                s.flush()
            rc = subprocess.run(command + ["--filter", test], env=env).returncode
            if rc != 0:
                print("memcached-servers.py: %s failed (%d)" % (test, rc),
                      file=sys.stderr)
                failed += 1
        return 1 if failed else 0
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
