"""The collector process under hostile HTTP clients (issue 17, finding 5 and parts of 7): idle
sockets beyond its file limit, a slowloris head, idle keep-alive connections, a live feed that
outlives the idle timeout, failed sign-ins, TLS on the listener.  Real broker, real collector
process, real sockets over loopback."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import time

import requests

from tests.plugins.collector import RunningCollector, new_collector
from tests.support.procs import Proc, robopulse_cmd, wait_until

VIEWER = "viewer-token-123"


def start(collector: RunningCollector, fd_limit: int | None = None) -> RunningCollector:
    """Start ``collector`` (optionally under ``prlimit --nofile``) and wait for /healthz."""
    args = robopulse_cmd("collector", "run", "--config", str(collector.config))
    if fd_limit:
        args = ["prlimit", f"--nofile={fd_limit}:{fd_limit}", "--", *args]
    collector.proc = Proc(args, collector.log_path)
    wait_until(lambda: collector.healthz().get("mqtt") == "connected", 30, 0.1, "collector up",
               (collector.proc,))
    return collector


def log_lines(collector: RunningCollector) -> list[str]:
    return collector.proc.output().splitlines()


def events(collector: RunningCollector, name: str) -> list[dict]:
    out = []
    for line in log_lines(collector):
        if f'"{name}"' in line:
            out.append(json.loads(line))
    return out


def raw_request(port: int, head: bytes, timeout: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_http_idle_flood_beyond_fd_limit_keeps_healthz_answering(broker, tmp_path):
    collector = start(new_collector(tmp_path / "c", broker), fd_limit=400)
    try:
        idle = []
        for _ in range(420):      # the probe: 420 idle sockets against a 400-fd limit
            idle.append(socket.create_connection(("127.0.0.1", collector.http_port), timeout=5))
        began = time.monotonic()
        resp = requests.get(collector.url + "/healthz", timeout=5)
        assert resp.status_code == 200 and resp.json()["status"] == "ok"
        assert time.monotonic() - began < 3
        time.sleep(2)             # the flood went on meanwhile: the log stays short
        assert requests.get(collector.url + "/healthz", timeout=5).status_code == 200
        lines = log_lines(collector)
        assert len(lines) < 40, lines[-20:]
        assert not any("Traceback" in line for line in lines)
        closed = events(collector, "http_idle_connection_closed")
        assert closed and closed[0]["count"] >= 1 and closed[0]["cap"] == 400 - 64
        for sock in idle:
            sock.close()
    finally:
        collector.proc.terminate()


def test_http_slowloris_head_closed_after_header_timeout(broker, tmp_path):
    collector = start(new_collector(tmp_path / "c", broker, **{"http.header_timeout_s": 1}))
    try:
        sock = socket.create_connection(("127.0.0.1", collector.http_port), timeout=10)
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
        began, answer = time.monotonic(), b""
        try:
            for byte in head:             # one byte every 0.1 s: a complete head would take 12 s
                sock.sendall(bytes([byte]))
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            answer = sock.recv(1024)
        except ConnectionResetError:
            pass
        waited = time.monotonic() - began
        assert waited < 4, f"connection still open after {waited:.1f}s"
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408")
        sock.close()
        assert requests.get(collector.url + "/healthz", timeout=5).status_code == 200
    finally:
        collector.proc.terminate()


def test_http_idle_keepalive_closed_but_live_feed_kept(broker, tmp_path):
    collector = start(new_collector(tmp_path / "c", broker, **{"http.idle_timeout_s": 1,
                                                               "http.feed_heartbeat_s": 1}))
    try:
        feed = requests.get(collector.url + "/api/v1/feed", headers={"Authorization": f"Bearer {VIEWER}"},
                            stream=True, timeout=(5, 10))
        assert feed.status_code == 200
        lines = feed.iter_lines(chunk_size=1, decode_unicode=True)

        keep = socket.create_connection(("127.0.0.1", collector.http_port), timeout=10)
        keep.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert keep.recv(65536).startswith(b"HTTP/1.1 200")
        began = time.monotonic()
        assert keep.recv(1024) == b""               # closed by the server: idle past 1 s
        assert time.monotonic() - began < 4
        keep.close()

        heartbeats, began = 0, time.monotonic()
        while time.monotonic() - began < 4:          # four idle timeouts later the feed still streams
            if next(lines) == ": heartbeat":
                heartbeats += 1
        assert heartbeats >= 2
        feed.close()
    finally:
        collector.proc.terminate()


def test_http_failed_auth_logged_throttled_without_token_text(broker, tmp_path):
    collector = start(new_collector(tmp_path / "c", broker))
    try:
        for i in range(30):
            resp = requests.get(collector.url + "/api/v1/customers",
                                headers={"Authorization": f"Bearer wrong-secret-{i:04d}"}, timeout=5)
            assert resp.status_code == 401
        answer = raw_request(collector.http_port, b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n"
                             b"Authorization: Bearer \xff\xfe\xfdsecret\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 401")
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["status"] == 401
        time.sleep(0.3)
        failed = events(collector, "auth_failed")
        assert {e["reason"] for e in failed} == {"unknown", "malformed"}
        assert len(failed) == 2                        # 31 failures, one line per reason and interval
        assert failed[0]["remote"] == "127.0.0.1" and failed[0]["path"] == "/api/v1/customers"
        output = collector.proc.output()
        assert "secret" not in output                   # neither token text is logged
        assert "Traceback" not in output
    finally:
        collector.proc.terminate()


def self_signed(folder) -> tuple[str, str]:
    cert, key = folder / "http.crt", folder / "http.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


def test_http_tls_listener_serves_https(broker, tmp_path):
    cert, key = self_signed(tmp_path)
    collector = new_collector(tmp_path / "c", broker, **{"http.tls_cert": cert, "http.tls_key": key})
    collector.proc = Proc(robopulse_cmd("collector", "run", "--config", str(collector.config)),
                          collector.log_path)
    https = f"https://127.0.0.1:{collector.http_port}"
    try:
        wait_until(lambda: requests.get(https + "/healthz", verify=cert, timeout=2).json()["mqtt"]
                   == "connected", 30, 0.2, "collector over https", (collector.proc,))
        resp = requests.get(https + "/api/v1/me", headers={"Authorization": f"Bearer {VIEWER}"},
                            verify=cert, timeout=5)
        assert resp.status_code == 200 and resp.json()["role"] == "viewer"
        context = ssl.create_default_context(cafile=cert)
        with socket.create_connection(("127.0.0.1", collector.http_port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")
        answer = raw_request(collector.http_port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert not answer.startswith(b"HTTP/1.1 200")   # plain HTTP is not served on a TLS listener
        assert '"scheme": "https"' in collector.proc.output()
    finally:
        collector.proc.terminate()
