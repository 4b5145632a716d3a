"""Issue 17, finding 7 (HTTP and CSV parts) and the accept-error log of finding 5, on a real aiohttp
server over loopback: JSON errors everywhere under /api/v1, a 401 for undecodable credentials, the
CSV guard for a leading TAB or CR, the TLS key pair checked, EMFILE on accept logged without a
flood."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from collector.config import load_mapping
from protocol.config import ConfigError
from tests.plugins.api import ADMIN, bearer

ROOT = Path(__file__).resolve().parents[2]


def raw_request(port: int, head: bytes) -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    head_text, _, body = rest.partition(b"\r\n\r\n")
    headers = dict(line.split(": ", 1) for line in head_text.decode("latin-1").split("\r\n") if ": " in line)
    return int(status_line.split()[1]), headers, body


def test_api_undecodable_authorization_is_401_json(live_api):
    status, headers, body = raw_request(live_api.port, b"GET /api/v1/customers HTTP/1.1\r\nHost: x\r\n"
                                        b"Authorization: Bearer \xff\xfe\x80\x81-token\r\n"
                                        b"Connection: close\r\n\r\n")
    assert status == 401
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["error"] == {"status": 401, "message": "malformed bearer token"}


def test_api_unknown_route_is_404_json(live_api):
    resp = requests.get(live_api.url + "/api/v1/no-such-thing", headers=bearer(), timeout=5)
    assert resp.status_code == 404
    assert resp.json()["error"]["status"] == 404
    resp = requests.get(live_api.url + "/api/v1/no-such-thing", timeout=5)   # no token: 401 first
    assert resp.status_code == 401 and resp.json()["error"]["status"] == 401


def test_api_wrong_method_is_405_json_with_allow(live_api):
    resp = requests.delete(live_api.url + "/api/v1/customers", headers=bearer(), timeout=5)
    assert resp.status_code == 405
    assert resp.json()["error"]["status"] == 405
    assert "GET" in resp.headers["Allow"]


def test_api_body_too_large_is_413_json(live_api, api_seed):
    alert = api_seed.alerts["ktv_offline"]
    resp = requests.post(f"{live_api.url}/api/v1/alerts/{alert}/ack", headers=bearer(ADMIN),
                         data=json.dumps({"note": "x" * 100_000}), timeout=5)
    assert resp.status_code == 413
    assert resp.json()["error"]["status"] == 413


def test_api_outside_api_errors_stay_as_they_were(live_api):
    resp = requests.get(live_api.url + "/no-such-page", timeout=5)
    assert resp.status_code == 404 and not resp.headers["Content-Type"].startswith("application/json")


async def test_api_export_guards_leading_tab_and_cr(api_client, api_seed):
    conn = api_seed.connect()
    conn.execute("UPDATE robots SET scene = ?, agent_version = ? WHERE id = 'k-001'",
                 ("\t=HYPERLINK(\"http://evil\")", "\r=1+2"))
    conn.execute("UPDATE robots SET agent_version = ? WHERE id = 'k-002'", ("\n=ok",))
    conn.close()
    resp = await api_client.get("/api/v1/export/robots.csv?customer=kiwi-ktv", headers=bearer())
    assert resp.status == 200
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"), newline="")))
    body = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert body["k-001"]["scene"] == "'\t=HYPERLINK(\"http://evil\")"
    assert body["k-001"]["agent_version"] == "'\r=1+2"
    assert body["k-002"]["agent_version"] == "\n=ok"   # not on the list: kept as sent


def test_api_tls_cert_needs_its_key():
    with pytest.raises(ConfigError, match="http.tls_key"):
        load_mapping({"http": {"tls_cert": "/etc/robopulse/http.crt"}})
    with pytest.raises(ConfigError, match="http.tls_cert"):
        load_mapping({"http": {"tls_key": "/etc/robopulse/http.key"}})


#: a real listener in a process whose file descriptors are all but used up, as when SQLite, pipes
#: and sockets have taken the rest: accept() fails with EMFILE as fast as the loop retries it
EMFILE_SERVER = r"""
import asyncio, json, os, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))
from aiohttp import web
from collector.http.connections import CONNECTIONS, Connections
from collector.http.listener import start_listener
from protocol.config import Values
from protocol.logs import configure_logging

configure_logging("info", json=True)

async def main():
    app = web.Application()
    app[CONNECTIONS] = Connections(1000, 30)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    listener = await start_listener(runner, "127.0.0.1", 0, Values(tls_cert="", tls_key=""))
    if sys.argv[1] == "default":
        asyncio.get_running_loop().set_exception_handler(None)
    held = []
    while True:
        try:
            held.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:
            break
    for fd in held[-4:]:
        os.close(fd)
    print(json.dumps({"event": "ready", "port": listener.port}), flush=True)
    await asyncio.sleep(3)

asyncio.run(main())
"""


def run_emfile_server(handler: str, tmp_path: Path) -> list[str]:
    log = tmp_path / f"{handler}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", EMFILE_SERVER, handler], stdout=out,
                                stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 20
        while '"ready"' not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        port = next(json.loads(line)["port"] for line in log.read_text().splitlines() if '"ready"' in line)
        clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(40)]
        proc.wait(30)
        for sock in clients:
            sock.close()
    return log.read_text().splitlines()


def test_http_accept_emfile_logged_once_per_interval(tmp_path):
    flood = run_emfile_server("default", tmp_path)      # asyncio's own handler, for comparison
    assert sum("Too many open files" in line for line in flood) > 100
    lines = run_emfile_server("throttled", tmp_path)
    errors = [json.loads(line) for line in lines if '"event_loop_error"' in line]
    assert len(errors) == 1, lines[:20]
    assert "Too many open files" in errors[0]["error"] and errors[0]["count"] == 1
    assert len(lines) < 6 and not any("Traceback" in line for line in lines)
