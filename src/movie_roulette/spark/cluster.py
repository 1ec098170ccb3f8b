"""A standalone Spark cluster on this machine, spread over network namespaces (make spark-cluster).

A master and N workers (default 2), each in its own Linux network namespace with its own
private IPv4 address on a bridge (`ip netns` + veth pairs); the driver (this machine's root
namespace) has the bridge's address. Only private 10.77.0.0/24 addresses on this machine are
used. The daemons are launched with the `spark-class` shipped in the pyspark package (no Spark
download). Needs root (network namespaces, a bridge, and one iptables rule letting the bridge
forward between its own ports, since Docker sets the FORWARD policy to DROP and bridged traffic
goes through iptables when br_netfilter is loaded; the rule is removed on stop).

    python -m movie_roulette.spark.cluster start [--workers 2] [--worker-memory 2g]
    python -m movie_roulette.spark.cluster status
    python -m movie_roulette.spark.cluster stop

State (pids, addresses, logs, worker folders with each executor's stdout/stderr) lives in
$MOVIE_ROULETTE_SPARK_CLUSTER_DIR (default /tmp/movie-roulette-spark-cluster).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyspark

from movie_roulette.exceptions import MovieRouletteError

BRIDGE = "mrspark0"
SUBNET = "10.77.0"
DRIVER_IP = f"{SUBNET}.1"
MASTER_IP = f"{SUBNET}.2"
MASTER_PORT = 7077
PREFIX = "mr-spark"
STATE_ENV = "MOVIE_ROULETTE_SPARK_CLUSTER_DIR"
_FORWARD_RULE = ["FORWARD", "-i", BRIDGE, "-o", BRIDGE, "-j", "ACCEPT"]


class ClusterError(MovieRouletteError):
    """The namespace cluster cannot be started or stopped; the message names the fix."""


@dataclass
class Node:
    name: str  # network namespace
    ip: str
    role: str  # master | worker
    pid: int | None = None
    log: str = ""
    work_dir: str | None = None


@dataclass
class ClusterState:
    master_url: str
    driver_ip: str
    nodes: list[Node] = field(default_factory=list)
    forward_rule: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> ClusterState:
        raw = json.loads(text)
        raw["nodes"] = [Node(**n) for n in raw["nodes"]]
        return cls(**raw)

    def workers(self) -> list[Node]:
        return [n for n in self.nodes if n.role == "worker"]


def state_dir() -> Path:
    return Path(os.environ.get(STATE_ENV, "/tmp/movie-roulette-spark-cluster"))


def _state_file() -> Path:
    return state_dir() / "cluster.json"


def spark_home() -> Path:
    return Path(pyspark.__file__).resolve().parent


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run(list(args), capture_output=True, text=True, check=False)
    if check and out.returncode != 0:
        raise ClusterError(f"`{' '.join(args)}` failed: {out.stderr.strip() or out.stdout.strip()}")
    return out


def can_create_namespaces() -> tuple[bool, str]:
    """(True, "") when this process can build the cluster, else (False, the reason)."""
    if os.geteuid() != 0:
        return False, "needs root (network namespaces, a bridge and veth pairs)"
    if shutil.which("ip") is None:
        return False, "iproute2's `ip` is missing (apt-get install -y iproute2)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return False, "Java 17 is missing (apt-get install -y openjdk-17-jre-headless)"
    probe = f"{PREFIX}-probe-{os.getpid()}"
    made = _run("ip", "netns", "add", probe, check=False)
    if made.returncode != 0:
        return False, f"`ip netns add` is refused here: {made.stderr.strip()}"
    _run("ip", "netns", "delete", probe, check=False)
    return True, ""


def _nodes(n_workers: int) -> list[Node]:
    nodes = [Node(f"{PREFIX}-master", MASTER_IP, "master")]
    nodes += [
        Node(f"{PREFIX}-w{i}", f"{SUBNET}.{2 + i}", "worker") for i in range(1, n_workers + 1)
    ]
    return nodes


def _network_up(nodes: list[Node]) -> bool:
    _run("ip", "link", "add", BRIDGE, "type", "bridge")
    _run("ip", "addr", "add", f"{DRIVER_IP}/24", "dev", BRIDGE)
    _run("ip", "link", "set", BRIDGE, "up")
    for k, node in enumerate(nodes):
        host_if = f"mrsp{k}"
        _run("ip", "netns", "add", node.name)
        _run(
            "ip", "link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", node.name
        )
        _run("ip", "link", "set", host_if, "master", BRIDGE)
        _run("ip", "link", "set", host_if, "up")
        ns = ("ip", "netns", "exec", node.name)
        _run(*ns, "ip", "addr", "add", f"{node.ip}/24", "dev", "eth0")
        _run(*ns, "ip", "link", "set", "eth0", "up")
        _run(*ns, "ip", "link", "set", "lo", "up")
    # bridged packets pass iptables when br_netfilter is loaded (Docker: FORWARD policy DROP)
    if shutil.which("iptables") and _run("iptables", "-C", *_FORWARD_RULE, check=False).returncode:
        return _run("iptables", "-I", *_FORWARD_RULE, check=False).returncode == 0
    return False


def _network_down(names: list[str], forward_rule: bool) -> None:
    if forward_rule and shutil.which("iptables"):
        _run("iptables", "-D", *_FORWARD_RULE, check=False)
    for name in names:
        _run("ip", "netns", "delete", name, check=False)  # deletes its veth pair too
    _run("ip", "link", "delete", BRIDGE, check=False)


def _launch(node: Node, args: list[str], env: dict[str, str]) -> None:
    log = state_dir() / f"{node.name}.log"
    node.log = str(log)
    spark_class = spark_home() / "bin" / "spark-class"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", node.name, str(spark_class), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**env, "SPARK_LOCAL_IP": node.ip},
            start_new_session=True,
        )
    node.pid = proc.pid


def _wait_port(ip: str, port: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((ip, port), timeout=1.0):
                return True
        except OSError:
            time.sleep(0.5)
    return False


def start(
    n_workers: int = 2,
    worker_cores: int = 1,
    worker_memory: str = "2g",
    timeout_s: float = 120.0,
) -> ClusterState:
    """Build the namespaces and start the master and workers; returns the cluster's state."""
    ok, why = can_create_namespaces()
    if not ok:
        raise ClusterError(f"make spark-cluster {why}.")
    if _state_file().exists():
        raise ClusterError(
            f"a cluster is already running (state in {_state_file()}): `make spark-cluster-stop` "
            "first."
        )
    if not 1 <= n_workers <= 8:
        raise ClusterError(f"--workers {n_workers}: use 1..8.")
    state_dir().mkdir(parents=True, exist_ok=True)
    nodes = _nodes(n_workers)
    state = ClusterState(f"spark://{MASTER_IP}:{MASTER_PORT}", DRIVER_IP, nodes)
    try:
        state.forward_rule = _network_up(nodes)
        _state_file().write_text(state.to_json())
        env = {
            **os.environ,
            "SPARK_HOME": str(spark_home()),
            "SPARK_DAEMON_MEMORY": "256m",
            "SPARK_NO_DAEMONIZE": "1",
            "PYSPARK_PYTHON": sys.executable,
        }
        master = nodes[0]
        _launch(
            master,
            [
                "org.apache.spark.deploy.master.Master",
                "--host",
                master.ip,
                "--port",
                str(MASTER_PORT),
                "--webui-port",
                "8080",
            ],
            env,
        )
        _state_file().write_text(state.to_json())
        if not _wait_port(master.ip, MASTER_PORT, timeout_s):
            raise ClusterError(f"the master did not listen on {state.master_url}; see {master.log}")
        for node in state.workers():
            node.work_dir = str(state_dir() / f"{node.name}-work")
            Path(node.work_dir).mkdir(exist_ok=True)
            _launch(
                node,
                [
                    "org.apache.spark.deploy.worker.Worker",
                    "--host",
                    node.ip,
                    "--cores",
                    str(worker_cores),
                    "--memory",
                    worker_memory,
                    "--work-dir",
                    node.work_dir,
                    "--webui-port",
                    "8081",
                    state.master_url,
                ],
                env,
            )
            _state_file().write_text(state.to_json())
        _wait_workers(state, timeout_s)
    except BaseException:
        stop()
        raise
    return state


def _wait_workers(state: ClusterState, timeout_s: float) -> None:
    """Each worker's log says it registered with the master."""
    deadline = time.monotonic() + timeout_s
    pending = list(state.workers())
    while pending and time.monotonic() < deadline:
        pending = [n for n in pending if "Successfully registered with master" not in _text(n.log)]
        time.sleep(0.5)
    if pending:
        raise ClusterError(
            f"worker(s) {[n.name for n in pending]} did not register with {state.master_url} "
            f"within {timeout_s:g} s; see {pending[0].log}"
        )


def _text(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def load_state() -> ClusterState | None:
    file = _state_file()
    return ClusterState.from_json(file.read_text()) if file.exists() else None


def stop() -> bool:
    """Stop the daemons (by their recorded process groups) and remove the network."""
    state = load_state()
    nodes = state.nodes if state else _nodes(8)
    for node in reversed(nodes):
        if node.pid:
            try:
                os.killpg(node.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
    deadline = time.monotonic() + 15
    for node in nodes:
        while node.pid and _alive(node.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if node.pid and _alive(node.pid):
            try:
                os.killpg(node.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    present = set(_run("ip", "netns", "list", check=False).stdout.split())
    _network_down(
        [n.name for n in nodes if n.name in present], state.forward_rule if state else True
    )
    if state:
        _state_file().unlink(missing_ok=True)
    return state is not None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def task_location(_: object) -> list[tuple[str, int]]:
    """Run as a Spark task: (this task's source address towards the driver, the inode of its
    network namespace), to check where executors really run."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect((DRIVER_IP, 9))  # UDP connect sends nothing; it picks the route
        address = sock.getsockname()[0]
    return [(address, os.stat("/proc/self/ns/net").st_ino)]


def kill_worker(name: str) -> None:
    """Kill one worker's process group (tests: a worker dying mid-job)."""
    state = load_state()
    for node in state.workers() if state else []:
        if node.name == name and node.pid:
            os.killpg(node.pid, signal.SIGKILL)
            return
    raise ClusterError(f"no running worker {name!r}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-cores", type=int, default=1)
    parser.add_argument("--worker-memory", default="2g")
    args = parser.parse_args(argv)
    try:
        if args.action == "start":
            state = start(args.workers, args.worker_cores, args.worker_memory)
            print(f"Spark master: {state.master_url} (driver address {state.driver_ip})")
            for node in state.nodes:
                print(f"  {node.role:6} {node.name:16} {node.ip:12} log {node.log}")
            print(
                f"Use it: spark.master: {state.master_url} and spark.driver_host: "
                f"{state.driver_ip}; stop: make spark-cluster-stop"
            )
        elif args.action == "stop":
            print("stopped" if stop() else "no cluster state found; cleaned up leftovers")
        else:
            state = load_state()
            print(state.to_json() if state else "no cluster running")
    except ClusterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
