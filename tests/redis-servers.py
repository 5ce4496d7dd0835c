#!/usr/bin/env python3
"""redis-servers.py: real Redis servers for the tests, on free loopback ports.

    redis-servers.py [options] -- PROGRAM [ARGS...]

Starts the servers of a topology in a temporary directory, waits until they
answer PING, runs PROGRAM with their addresses in its environment, and stops
them afterwards -- also when PROGRAM fails, crashes or the harness is
interrupted.  Servers a test restarts itself (fault tests) are found by
their pid files in the same directory and stopped too.

Environment given to PROGRAM (single topology):
  REDIS_HOST, REDIS_PORT            the server (REDIS_PORT is also what
                                    bench/peer_python.py reads)
  REDIS_SOCKET                      its unix socket
  DOGPILE_REDIS_SERVER_PID          its process id
  DOGPILE_REDIS_SERVER_COMMAND      how to start it again on the same port,
                                    shell-quoted (fault tests); it writes
                                    its pid to DOGPILE_REDIS_SERVER_PIDFILE
  DOGPILE_REDIS_SERVER_PIDFILE      (where the harness finds it to stop it)
  DOGPILE_REDIS_TMPDIR              the temporary directory
  DOGPILE_TEST_ARGUMENTS            --arguments with {host} and {port}
                                    filled in, for the generic suite

--per-test runs each Criterion test of PROGRAM alone (from `PROGRAM --list`)
after a FLUSHALL, since suites written for a per-process store use fixed
keys ("k", "key1") that would otherwise leak from one test to the next.

Only loopback addresses are used, and never port 6379 (a system server).
When no server can be started the run is skipped (exit 77), except under
CI=true, where it fails: a CI run never silently skips.

Topologies: single (one server) and replica (a master and a replica of it,
REDIS_REPLICA_PORT).  New ones (cluster: three masters joined with
`redis-cli --cluster create --cluster-yes`; sentinel: the replica topology
plus sentinels) subclass Topology: start() their servers with
start_server() and say what the program sees in environment().
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
STOP_TIMEOUT = 5.0


class HarnessError(Exception):
    pass


def free_port():
    """A TCP port nobody listens on now (the kernel's choice), not 6379."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port != 6379:
            return port


def command(host, port, *args, timeout=2.0):
    """Sends one command and returns its reply, decoded just enough for
    the harness (simple strings, errors, integers, bulk strings)."""
    payload = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        payload += b"$%d\r\n%s\r\n" % (len(a), a)
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(payload)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            data += chunk
        kind, rest = data[:1], data[1:data.index(b"\r\n")]
        if kind == b"-":
            raise HarnessError(rest.decode(errors="replace"))
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            body = data[data.index(b"\r\n") + 2:]
            while len(body) < n + 2:
                chunk = s.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed")
                body += chunk
            return body[:n]
        if kind == b":":
            return int(rest)
        return rest.decode()


class Server:
    """One redis-server process."""

    def __init__(self, workdir, port, extra_args=()):
        self.port = port
        self.dir = os.path.join(workdir, "server-%d" % port)
        os.makedirs(self.dir, exist_ok=True)
        self.pidfile = os.path.join(workdir, "redis-%d.pid" % port)
        self.logfile = os.path.join(self.dir, "redis.log")
        self.socket = os.path.join(self.dir, "redis.sock")
        self.argv = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(port),
            "--bind", HOST,
            "--dir", self.dir,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--pidfile", self.pidfile,
            "--logfile", self.logfile,
            "--unixsocket", self.socket,
            "--unixsocketperm", "700",
        ] + list(extra_args)
        self.process = None

    def start(self):
        self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError("redis-server on port %d exited with %d:\n%s"
                                   % (self.port, self.process.returncode,
                                      self.log_tail()))
            try:
                if command(HOST, self.port, "PING", timeout=0.5) == "PONG":
                    return
            except (OSError, HarnessError):
                pass
            time.sleep(0.02)
        raise HarnessError("redis-server on port %d did not answer within %g s"
                           % (self.port, START_TIMEOUT))

    def log_tail(self, lines=20):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Topology:
    """Servers started together; subclasses add cluster and sentinel."""

    name = None

    def __init__(self, workdir):
        self.workdir = workdir
        self.servers = []

    def start_server(self, extra_args=(), attempts=5):
        """A server on a free port; another port if that one was taken
        between choosing it and binding it."""
        last = None
        for _ in range(attempts):
            server = Server(self.workdir, free_port(), extra_args)
            try:
                server.start()
                self.servers.append(server)
                return server
            except HarnessError as e:
                server.stop()
                last = e
        raise last

    def start(self):
        raise NotImplementedError

    def environment(self):
        raise NotImplementedError

    def flush(self):
        for server in self.servers:
            command(HOST, server.port, "FLUSHALL")
            command(HOST, server.port, "SCRIPT", "FLUSH")

    def stop(self):
        for server in self.servers:
            server.stop()
        stop_restarted(self.workdir, self.servers)


class Single(Topology):
    name = "single"

    def start(self):
        self.server = self.start_server()

    def environment(self):
        s = self.server
        return {
            "REDIS_HOST": HOST,
            "REDIS_PORT": str(s.port),
            "REDIS_SOCKET": s.socket,
            "DOGPILE_REDIS_SERVER_PID": str(s.process.pid),
            "DOGPILE_REDIS_SERVER_COMMAND": shlex.join(s.argv),
            "DOGPILE_REDIS_SERVER_PIDFILE": s.pidfile,
            "DOGPILE_REDIS_TMPDIR": self.workdir,
        }

    def fill(self, template):
        return template.format(host=HOST, port=self.server.port)


class Replicated(Single):
    """A master and one replica of it: REDIS_PORT is the master,
    REDIS_REPLICA_PORT the replica (a first step to the sentinel one)."""

    name = "replica"

    def start(self):
        super().start()
        self.replica = self.start_server(
            ["--replicaof", HOST, str(self.server.port)])
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            info = command(HOST, self.replica.port, "INFO", "replication")
            if b"master_link_status:up" in info:
                return
            time.sleep(0.05)
        raise HarnessError("the replica on port %d did not sync with %d"
                           % (self.replica.port, self.server.port))

    def environment(self):
        env = super().environment()
        env["REDIS_REPLICA_PORT"] = str(self.replica.port)
        return env

    def flush(self):
        # A replica refuses FLUSHALL; it follows its master's.
        command(HOST, self.server.port, "FLUSHALL")
        command(HOST, self.server.port, "SCRIPT", "FLUSH")
        command(HOST, self.server.port, "WAIT", "1", "1000")


TOPOLOGIES = {t.name: t for t in (Single, Replicated)}


def stop_restarted(workdir, owned):
    """Servers a test started again from DOGPILE_REDIS_SERVER_COMMAND write
    pid files here; stop whichever still runs a redis-server."""
    owned_pids = {s.process.pid for s in owned if s.process is not None}
    for entry in os.listdir(workdir):
        if not (entry.startswith("redis-") and entry.endswith(".pid")):
            continue
        try:
            with open(os.path.join(workdir, entry)) as f:
                pid = int(f.read().strip())
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if b"redis-server" not in f.read():
                    continue
        except (OSError, ValueError):
            continue
        if pid in owned_pids:
            continue
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def list_tests(program):
    """Criterion's --list: "suite: N tests" then "├── name" lines."""
    out = subprocess.run(program + ["--list"], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True).stdout
    tests, suite = [], None
    for line in out.splitlines():
        if line.endswith(" tests") or line.endswith(" test"):
            suite = line.split(":")[0].strip()
        elif suite and ("── " in line):
            tests.append("%s/%s" % (suite, line.split("── ", 1)[1].strip()))
    if not tests:
        raise HarnessError("no tests listed by %s:\n%s" % (program[0], out))
    return tests


def run_per_test(topology, program, env, only):
    failed = []
    tests = list_tests(program)
    if only:
        tests = [t for t in tests if t.split("/", 1)[1] in only]
    for name in tests:
        topology.flush()
        result = subprocess.run(program + ["--filter", name], env=env,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        status = "ok" if result.returncode == 0 else "FAILED"
        print("%-60s %s" % (name, status), flush=True)
        # Always the output: sanitizer reports from Criterion's workers do
        # not change its exit status, and CI reads them from the log.
        print(result.stdout, end="", flush=True)
        if result.returncode != 0:
            failed.append(name)
    print("%d tests, %d failed%s" % (len(tests), len(failed),
                                     (": " + ", ".join(failed)) if failed
                                     else ""))
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--topology", choices=sorted(TOPOLOGIES),
                        default="single")
    parser.add_argument("--arguments", default="host={host};port={port}",
                        help="DOGPILE_TEST_ARGUMENTS template")
    parser.add_argument("--per-test", action="store_true",
                        help="run each Criterion test alone after FLUSHALL")
    parser.add_argument("--only", default="",
                        help="with --per-test: comma-separated test names")
    parser.add_argument("program", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    program = args.program[1:] if args.program[:1] == ["--"] else args.program
    if not program:
        parser.error("no program to run")

    ci = os.environ.get("CI", "").lower() == "true"
    if shutil.which("redis-server") is None:
        print("redis-servers.py: redis-server is not installed", file=sys.stderr)
        return 1 if ci else SKIP

    workdir = tempfile.mkdtemp(prefix="dogpile-redis-")
    topology = TOPOLOGIES[args.topology](workdir)
    child = None

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    status = 1
    try:
        try:
            topology.start()
        except (HarnessError, OSError) as e:
            print("redis-servers.py: cannot start the %s topology: %s"
                  % (args.topology, e), file=sys.stderr)
            return 1 if ci else SKIP
        env = dict(os.environ)
        env.update(topology.environment())
        env["DOGPILE_TEST_ARGUMENTS"] = topology.fill(args.arguments)
        if args.per_test:
            only = {t for t in args.only.split(",") if t}
            status = run_per_test(topology, program, env, only)
        else:
            child = subprocess.Popen(program, env=env)
            status = child.wait()
            if status < 0:
                print("redis-servers.py: %s killed by signal %d"
                      % (program[0], -status), file=sys.stderr)
                status = 1
    except KeyboardInterrupt:
        print("redis-servers.py: interrupted; stopping the servers",
              file=sys.stderr)
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        status = 1
    finally:
        topology.stop()
        if status != 0:
            for server in topology.servers:
                print("--- %s (port %d), last lines:\n%s"
                      % (server.logfile, server.port, server.log_tail()),
                      file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
