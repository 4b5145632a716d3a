"""Real processes in tests: start, wait for them, and fail fast with their output if they die."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path


class Proc:
    """A child process whose stdout+stderr go to a file the test can show on failure."""

    def __init__(self, args: list[str], log_path: Path, env: dict[str, str] | None = None, cwd=None):
        self.args = args
        self.log_path = log_path
        full_env = dict(os.environ)
        full_env.update(env or {})
        self._log = open(log_path, "ab")
        self.popen = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=full_env,
                                      cwd=cwd, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def check_alive(self) -> None:
        if not self.alive():
            raise AssertionError(f"{self.args} exited {self.popen.returncode}:\n{self.output()[-4000:]}")

    def terminate(self, timeout: float = 15.0) -> int:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()
        return self.popen.returncode

    def kill9(self) -> None:
        if self.alive():
            self.popen.kill()
            self.popen.wait()


def robopulse_cmd(*args: str) -> list[str]:
    """The CLI run from this interpreter, as systemd or a person would run it."""
    return [sys.executable, "-m", "protocol.cli", *args]


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.05,
               message: str = "condition", procs: tuple[Proc, ...] = ()) -> object:
    """Poll ``predicate`` until it returns a truthy value; fail fast if a watched process died."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        for proc in procs:
            proc.check_alive()
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # keep polling; report the last error on timeout
            last_exc = exc
        time.sleep(interval)
    detail = "".join(f"\n--- {p.args}:\n{p.output()[-3000:]}" for p in procs)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}; last error: {last_exc!r}{detail}")


def wait_until_responds(url: str, proc: Proc | None = None, timeout: float = 15.0) -> None:
    def ok() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                return resp.status < 500
        except urllib.error.HTTPError as exc:
            return exc.code < 500
    wait_until(ok, timeout, 0.1, f"{url} to respond", (proc,) if proc else ())
