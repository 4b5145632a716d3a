"""Three network namespaces for the chaos suite, always removed again.

    robots ns  --veth--  wan ns (router; the link goes through a TUN and tests/chaos/impair.py)  --veth--  broker ns
                                                                                               \\--veth-- this (root) ns

The robots reach the broker only across the impaired link; the collector and the test (in the root
namespace) reach the broker over a clean veth, as a collector in the data centre would.  Addresses are
10.200.N.x/30 pairs in namespaces made here, N chosen per process so that two runs do not collide.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, check=check)


def unavailable() -> str | None:
    """Why the suite cannot run here, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the chaos suite needs root (network namespaces, veth, TUN)"
    if shutil.which("ip") is None:
        return "`ip` (Debian package iproute2) is missing"
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun is missing (no TUN support in this kernel or container)"
    probe = f"rpprobe{os.getpid()}"
    made = sh("ip", "netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    sh("ip", "netns", "del", probe, check=False)
    return None


def sweep_stale() -> list[str]:
    """Remove the namespaces of earlier runs whose process is gone (a run killed with SIGKILL cannot
    clean up after itself); a live run's namespaces are left alone."""
    removed = []
    listing = sh("ip", "netns", "list", check=False).stdout
    for line in listing.splitlines():
        name = line.split()[0] if line.strip() else ""
        match = re.fullmatch(r"rpc(\d+)-(robots|wan|broker)", name)
        if match and not os.path.exists(f"/proc/{match.group(1)}"):
            sh("ip", "netns", "del", name, check=False)
            removed.append(name)
    return removed


def free_octet(seed: int) -> int:
    """A third octet N whose 10.200.N.0/24 no interface of this (root) namespace uses yet."""
    used = {int(m) for m in re.findall(r"inet 10\.200\.(\d+)\.", sh("ip", "-o", "addr", "show", check=False).stdout)}
    for i in range(250):
        n = (seed + i) % 250 + 1
        if n not in used:
            return n
    raise RuntimeError("no free 10.200.N.0/24 left in this namespace")


@dataclass
class ChaosNet:
    tag: str = field(default_factory=lambda: f"rpc{os.getpid()}")  # interface names stay <= 15 chars
    octet: int = field(default_factory=lambda: free_octet(os.getpid()))
    made: list[str] = field(default_factory=list)

    @property
    def robots_ns(self) -> str:
        return f"{self.tag}-robots"

    @property
    def wan_ns(self) -> str:
        return f"{self.tag}-wan"

    @property
    def broker_ns(self) -> str:
        return f"{self.tag}-broker"

    @property
    def tun(self) -> str:
        return "rpimpair0"

    def addr(self, host: int) -> str:
        return f"10.200.{self.octet}.{host}"

    @property
    def broker_for_robots(self) -> str:
        return self.addr(6)

    @property
    def broker_for_root(self) -> str:
        return self.addr(10)

    def ns(self, ns: str, *args: str) -> None:
        sh("ip", "netns", "exec", ns, *args)

    def up(self) -> "ChaosNet":
        sweep_stale()
        try:
            self._up()
        except BaseException:
            self.down()
            raise
        return self

    def _up(self) -> None:
        t, a = self.tag, self.addr
        for ns in (self.robots_ns, self.wan_ns, self.broker_ns):
            sh("ip", "netns", "add", ns)
            self.made.append(ns)
            self.ns(ns, "ip", "link", "set", "lo", "up")
        # robots <-> wan: 10.200.N.1 (wan) / .2 (robots)
        sh("ip", "link", "add", f"{t}r", "netns", self.robots_ns, "type", "veth", "peer", "name", f"{t}w1",
           "netns", self.wan_ns)
        # wan <-> broker: .5 (wan) / .6 (broker)
        sh("ip", "link", "add", f"{t}w2", "netns", self.wan_ns, "type", "veth", "peer", "name", f"{t}b",
           "netns", self.broker_ns)
        # root <-> broker: .9 (root) / .10 (broker); deleting the broker ns deletes both ends
        sh("ip", "link", "add", f"{t}h", "type", "veth", "peer", "name", f"{t}c", "netns", self.broker_ns)
        self.ns(self.robots_ns, "ip", "addr", "add", f"{a(2)}/30", "dev", f"{t}r")
        self.ns(self.wan_ns, "ip", "addr", "add", f"{a(1)}/30", "dev", f"{t}w1")
        self.ns(self.wan_ns, "ip", "addr", "add", f"{a(5)}/30", "dev", f"{t}w2")
        self.ns(self.broker_ns, "ip", "addr", "add", f"{a(6)}/30", "dev", f"{t}b")
        self.ns(self.broker_ns, "ip", "addr", "add", f"{a(10)}/30", "dev", f"{t}c")
        sh("ip", "addr", "add", f"{a(9)}/30", "dev", f"{t}h")
        for ns, dev in ((self.robots_ns, f"{t}r"), (self.wan_ns, f"{t}w1"), (self.wan_ns, f"{t}w2"),
                        (self.broker_ns, f"{t}b"), (self.broker_ns, f"{t}c")):
            self.ns(ns, "ip", "link", "set", dev, "up")
        sh("ip", "link", "set", f"{t}h", "up")
        self.ns(self.robots_ns, "ip", "route", "add", "default", "via", a(1))
        self.ns(self.broker_ns, "ip", "route", "add", f"{a(0)}/30", "via", a(5))
        # the wan router: what arrives on either veth goes into the TUN (the impairment), what comes out
        # of the TUN is routed by the main table to the other side
        self.ns(self.wan_ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for key in ("all", "default", f"{t}w1", f"{t}w2"):
            self.ns(self.wan_ns, "sysctl", "-qw", f"net.ipv4.conf.{key}.rp_filter=0")
        self.ns(self.wan_ns, "ip", "tuntap", "add", "dev", self.tun, "mode", "tun")
        self.ns(self.wan_ns, "sysctl", "-qw", f"net.ipv4.conf.{self.tun}.rp_filter=0")
        self.ns(self.wan_ns, "ip", "link", "set", self.tun, "up")
        self.ns(self.wan_ns, "ip", "route", "add", "default", "dev", self.tun, "table", "100")
        for dev in (f"{t}w1", f"{t}w2"):
            self.ns(self.wan_ns, "ip", "rule", "add", "iif", dev, "lookup", "100")

    def exec_prefix(self, ns: str) -> list[str]:
        return ["ip", "netns", "exec", ns]

    def down(self) -> None:
        """Remove every namespace made here (their veths and the TUN go with them)."""
        for ns in reversed(self.made):
            sh("ip", "netns", "del", ns, check=False)
        self.made.clear()
        sh("ip", "link", "del", f"{self.tag}h", check=False)  # normally gone with the broker ns
