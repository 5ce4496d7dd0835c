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
                                    tools/dev/bench-peer.py reads)
  REDIS_SOCKET                      its unix socket
  DOGPILE_REDIS_SERVER_PID          its process id
  DOGPILE_REDIS_SERVER_COMMAND      how to start it again on the same port,
                                    shell-quoted (fault tests); it writes
                                    its pid to DOGPILE_REDIS_SERVER_PIDFILE
  DOGPILE_REDIS_SERVER_PIDFILE      (where the harness finds it to stop it)
  DOGPILE_REDIS_TMPDIR              the temporary directory
  DOGPILE_TEST_ARGUMENTS            --arguments with {host} and {port}
                                    filled in, for the generic suite
Every topology also gives, for each of its servers (P its port):
  DOGPILE_REDIS_COMMAND_P, DOGPILE_REDIS_PIDFILE_P   as above

Topologies:
  single    one server.
  replica   a master and a replica of it: REDIS_PORT is the master,
            REDIS_REPLICA_PORT the replica.
  cluster   three masters, no replicas, joined with `redis-cli --cluster
            create --cluster-yes` (cluster-node-timeout 1 s,
            cluster-require-full-coverage no, so that a node killed by a
            test leaves the others serving); the harness waits until every
            node says cluster_state:ok.  REDIS_PORT is the first node,
            REDIS_CLUSTER_PORTS all three ("p1,p2,p3"); {nodes} in
            --arguments is "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3".
  sentinel  the replica topology watched by --sentinels redis-sentinel
            processes (default 1) as the service "dogpile", quorum 1,
            down-after-milliseconds 500, failover-timeout 2000 and short
            internal periods (SENTINEL DEBUG: INFO every 100 ms, PING
            every 250 ms), so that a failover takes about a second; the harness waits until the sentinels know the
            replica (and each other).  REDIS_SENTINEL_PORTS,
            REDIS_SENTINEL_SERVICE; {sentinels} and {service} in
            --arguments.  A test that fails over finds the master through
            the sentinels, not from REDIS_PORT.

--per-test runs each Criterion test of PROGRAM alone (from `PROGRAM --list`)
after a FLUSHALL (of every cluster master; of the current master behind
the sentinels), since suites written for a per-process store use fixed
keys ("k", "key1") that would otherwise leak from one test to the next.

Only loopback addresses are used, never port 6379 or 26379 (a system
server), and every process is stopped afterwards, also the ones a test
restarted (found by their pid files).  When no server can be started the
run is skipped (exit 77), except under CI=true, where it fails: a CI run
never silently skips.
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


_handed_out = set()


def free_port():
    """A TCP port nobody listens on now (the kernel's choice), not a
    system server's, and not one this harness handed out before (a
    cluster node's bus port is chosen before its server binds it)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port not in (6379, 26379) and port not in _handed_out:
            _handed_out.add(port)
            return port


def _read_reply(f):
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"-":
        raise HarnessError(rest.decode(errors="replace"))
    if kind == b"+":
        return rest.decode()
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        body = f.read(n + 2)
        if len(body) != n + 2:
            raise ConnectionError("connection closed")
        return body[:n]
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise HarnessError("unexpected reply %r" % line)


def command(host, port, *args, timeout=2.0):
    """Sends one command and returns its reply: simple strings as str,
    bulk strings as bytes, integers, arrays as lists; an error reply
    raises HarnessError."""
    payload = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        payload += b"$%d\r\n%s\r\n" % (len(a), a)
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(payload)
        with s.makefile("rb") as f:
            return _read_reply(f)


def wait_until(what, predicate, timeout=START_TIMEOUT, period=0.05):
    """Polls @predicate (errors count as "not yet") until it is true."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, HarnessError) as e:
            last = e
        time.sleep(period)
    raise HarnessError("%s: not within %g s%s"
                       % (what, timeout, " (%s)" % last if last else ""))


class Server:
    """One redis-server process."""

    def __init__(self, workdir, port, extra_args=()):
        self.port = port
        self.dir = os.path.join(workdir, "server-%d" % port)
        os.makedirs(self.dir, exist_ok=True)
        self.pidfile = os.path.join(workdir, "redis-%d.pid" % port)
        self.logfile = os.path.join(self.dir, "redis.log")
        self.socket = os.path.join(self.dir, "redis.sock")
        self.argv = self.program() + [
            "--port", str(port),
            "--bind", HOST,
            "--dir", self.dir,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--pidfile", self.pidfile,
            "--logfile", self.logfile,
        ] + self.server_args() + list(extra_args)
        self.process = None

    def program(self):
        return [shutil.which("redis-server") or "redis-server"]

    def server_args(self):
        return [
            "--unixsocket", self.socket,
            "--unixsocketperm", "700",
            # Redis 7 waits 5 s for more replicas before a diskless full
            # sync; the replica and sentinel topologies need it at once.
            "--repl-diskless-sync-delay", "0",
        ]

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
        raise HarnessError("%s on port %d did not answer within %g s"
                           % (self.argv[0], self.port, START_TIMEOUT))

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


class SentinelServer(Server):
    """One redis-sentinel process watching @master as @service."""

    def __init__(self, workdir, port, master_port, service):
        self.master_port = master_port
        self.service = service
        super().__init__(workdir, port)
        self.logfile = os.path.join(self.dir, "sentinel.log")
        self.config = os.path.join(self.dir, "sentinel.conf")
        # The sentinel rewrites its configuration file: a fresh one each
        # start from the harness; a test's restart reuses what it wrote.
        with open(self.config, "w") as f:
            f.write("sentinel monitor %s %s %d 1\n"
                    "sentinel down-after-milliseconds %s 500\n"
                    "sentinel failover-timeout %s 2000\n"
                    "sentinel parallel-syncs %s 1\n"
                    % (service, HOST, master_port, service, service,
                       service))
        self.argv = [shutil.which("redis-sentinel") or "redis-sentinel",
                     self.config] + self.argv[1:]
        self.argv[self.argv.index("--logfile") + 1] = self.logfile

    def program(self):
        return [shutil.which("redis-sentinel") or "redis-sentinel"]

    def server_args(self):
        return []


class Topology:
    """Servers started together."""

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
        env = {"DOGPILE_REDIS_TMPDIR": self.workdir}
        for server in self.servers:
            env["DOGPILE_REDIS_COMMAND_%d" % server.port] = \
                shlex.join(server.argv)
            env["DOGPILE_REDIS_PIDFILE_%d" % server.port] = server.pidfile
        return env

    def placeholders(self):
        return {"host": HOST}

    def fill(self, template):
        return template.format(**self.placeholders())

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
        env = super().environment()
        env.update({
            "REDIS_HOST": HOST,
            "REDIS_PORT": str(s.port),
            "REDIS_SOCKET": s.socket,
            "DOGPILE_REDIS_SERVER_PID": str(s.process.pid),
            "DOGPILE_REDIS_SERVER_COMMAND": shlex.join(s.argv),
            "DOGPILE_REDIS_SERVER_PIDFILE": s.pidfile,
        })
        return env

    def placeholders(self):
        return {"host": HOST, "port": self.server.port}


class Replicated(Single):
    """A master and one replica of it: REDIS_PORT is the master,
    REDIS_REPLICA_PORT the replica (a first step to the sentinel one)."""

    name = "replica"

    def start(self):
        super().start()
        self.replica = self.start_server(
            ["--replicaof", HOST, str(self.server.port)])
        wait_until("the replica on port %d syncing with %d"
                   % (self.replica.port, self.server.port),
                   lambda: b"master_link_status:up" in command(
                       HOST, self.replica.port, "INFO", "replication"))

    def environment(self):
        env = super().environment()
        env["REDIS_REPLICA_PORT"] = str(self.replica.port)
        return env

    def flush(self):
        # A replica refuses FLUSHALL; it follows its master's.
        command(HOST, self.server.port, "FLUSHALL")
        command(HOST, self.server.port, "SCRIPT", "FLUSH")
        command(HOST, self.server.port, "WAIT", "1", "1000")


class Cluster(Topology):
    """Three masters of a Redis Cluster, no replicas."""

    name = "cluster"
    MASTERS = 3

    def start(self):
        cli = shutil.which("redis-cli")
        if cli is None:
            raise HarnessError("redis-cli is not installed")
        for _ in range(self.MASTERS):
            # The bus port is named: port + 10000 may be taken, or > 65535.
            self.start_server([
                "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "1000",
                "--cluster-port", str(free_port()),
                "--cluster-require-full-coverage", "no",
            ])
        try:
            result = subprocess.run(
                [cli, "--cluster", "create"]
                + ["%s:%d" % (HOST, s.port) for s in self.servers]
                + ["--cluster-yes"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True,
                timeout=START_TIMEOUT * 3)
        except subprocess.TimeoutExpired as e:
            raise HarnessError("redis-cli --cluster create did not finish "
                               "within %g s:\n%s" % (e.timeout, e.output))
        if result.returncode != 0:
            raise HarnessError("redis-cli --cluster create failed:\n%s"
                               % result.stdout)
        for server in self.servers:
            wait_until("cluster_state:ok on port %d" % server.port,
                       lambda p=server.port: b"cluster_state:ok" in command(
                           HOST, p, "CLUSTER", "INFO"))

    def ports(self):
        return [s.port for s in self.servers]

    def environment(self):
        env = super().environment()
        env.update({
            "REDIS_HOST": HOST,
            "REDIS_PORT": str(self.servers[0].port),
            "REDIS_CLUSTER_PORTS": ",".join(str(p) for p in self.ports()),
        })
        return env

    def placeholders(self):
        return {"host": HOST, "port": self.servers[0].port,
                "nodes": ",".join("%s:%d" % (HOST, p) for p in self.ports())}

    def flush(self):
        for port in self.ports():
            command(HOST, port, "FLUSHALL")
            command(HOST, port, "SCRIPT", "FLUSH")


class SentinelTopology(Replicated):
    """A master and a replica watched by sentinels."""

    name = "sentinel"
    SERVICE = "dogpile"
    count = 1

    def start(self):
        if shutil.which("redis-sentinel") is None:
            raise HarnessError("redis-sentinel is not installed")
        super().start()
        self.sentinels = []
        for _ in range(self.count):
            self.sentinels.append(self.start_sentinel())
        for sentinel in self.sentinels:
            # Periods of ms instead of s: a failover in about a second.
            # While a master is down a sentinel reads its replicas' INFO
            # once a second, and promotes only a replica whose INFO is
            # younger than 5 ping periods: a ping period under 200 ms
            # makes it find "no good slave" now and then, and retry only
            # after 2 x failover-timeout.
            command(HOST, sentinel.port, "SENTINEL", "DEBUG",
                    "info-period", "100", "ping-period", "250",
                    "publish-period", "200", "ask-period", "200")
            wait_until("sentinel %d knowing the replica %d"
                       % (sentinel.port, self.replica.port),
                       lambda s=sentinel: self.replica_known(s))
            if self.count > 1:
                wait_until("sentinel %d knowing the other sentinels"
                           % sentinel.port,
                           lambda s=sentinel: self.others_known(s))

    def start_sentinel(self, attempts=5):
        last = None
        for _ in range(attempts):
            sentinel = SentinelServer(self.workdir, free_port(),
                                      self.server.port, self.SERVICE)
            try:
                sentinel.start()
                self.servers.append(sentinel)
                return sentinel
            except HarnessError as e:
                sentinel.stop()
                last = e
        raise last

    def replica_known(self, sentinel):
        for fields in command(HOST, sentinel.port, "SENTINEL", "replicas",
                              self.SERVICE):
            info = dict(zip(fields[::2], fields[1::2]))
            if (info.get(b"port") == str(self.replica.port).encode()
                    and info.get(b"master-link-status") == b"ok"
                    and info.get(b"flags") == b"slave"):
                return True
        return False

    def others_known(self, sentinel):
        fields = command(HOST, sentinel.port, "SENTINEL", "master",
                         self.SERVICE)
        info = dict(zip(fields[::2], fields[1::2]))
        return int(info.get(b"num-other-sentinels", 0)) == self.count - 1

    def master_port(self):
        for sentinel in self.sentinels:
            try:
                address = command(HOST, sentinel.port, "SENTINEL",
                                  "get-master-addr-by-name", self.SERVICE)
                return int(address[1])
            except (OSError, HarnessError):
                continue
        return self.server.port

    def environment(self):
        env = super().environment()
        env.update({
            "REDIS_SENTINEL_PORTS": ",".join(str(s.port)
                                             for s in self.sentinels),
            "REDIS_SENTINEL_SERVICE": self.SERVICE,
        })
        return env

    def placeholders(self):
        values = super().placeholders()
        values.update({
            "sentinels": ",".join("%s:%d" % (HOST, s.port)
                                  for s in self.sentinels),
            "service": self.SERVICE,
        })
        return values

    def flush(self):
        port = self.master_port()
        command(HOST, port, "FLUSHALL")
        command(HOST, port, "SCRIPT", "FLUSH")
        command(HOST, port, "WAIT", "1", "1000")


TOPOLOGIES = {t.name: t for t in (Single, Replicated, Cluster,
                                  SentinelTopology)}


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
                cmdline = f.read()
            if b"redis-server" not in cmdline \
                    and b"redis-sentinel" not in cmdline:
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
    parser.add_argument("--sentinels", type=int, default=1,
                        help="sentinel topology: how many sentinels")
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
    topology.count = args.sentinels
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
