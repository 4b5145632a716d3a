"""What the benchmarks read off the processes they measure: CPU seconds and resident memory of a
process and its children (the collector's writer process is a child of its own), and one figure of
a collector's ``/metrics``."""

from __future__ import annotations

import urllib.request

import psutil


def cpu_s(proc: psutil.Process) -> float:
    """User + system CPU seconds of one process."""
    t = proc.cpu_times()
    return t.user + t.system


def process_tree(proc: psutil.Process) -> list[psutil.Process]:
    """The process and its children, recursively."""
    try:
        return [proc] + proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return [proc]


def cpu_of(members: list[psutil.Process]) -> float:
    """CPU seconds summed over ``members``; a process that has gone counts nothing."""
    total = 0.0
    for p in members:
        try:
            total += cpu_s(p)
        except psutil.NoSuchProcess:
            pass
    return total


def rss_of(members: list[psutil.Process]) -> int:
    """Resident bytes summed over ``members``; a process that has gone counts nothing."""
    total = 0
    for p in members:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def tree_cpu_s(proc: psutil.Process) -> float:
    return cpu_of(process_tree(proc))


def tree_rss(proc: psutil.Process) -> int:
    return rss_of(process_tree(proc))


def metric(url: str, name: str) -> float:
    """An unlabelled series of the collector at ``url`` (0 when absent)."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
    return 0.0
