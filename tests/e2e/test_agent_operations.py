"""Must-shows 4, 5, 6, 7: outbox full, bad input, TLS + password, `robopulse agent status`."""

from __future__ import annotations

import json
import subprocess
import time

from tests.e2e.test_agent_pipeline import contiguous, send_statsd, totals
from tests.support.procs import robopulse_cmd, wait_until


def status_cmd(config_path, *extra):
    result = subprocess.run(robopulse_cmd("agent", "status", "--config", str(config_path), *extra),
                            capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


def status_json(config_path):
    code, out, err = status_cmd(config_path, "--json")
    assert code == 0, out + err
    return json.loads(out)


def wait_agent_up(path, proc):
    """The agent writes its first status after binding StatsD: lines sent before would be lost."""
    def up():
        code, out, _ = status_cmd(path, "--json")
        return code == 0 and json.loads(out).get("statsd")
    wait_until(up, 60, message="the agent up", procs=(proc,))


def test_agent_outbox_full_drops_the_oldest_and_says_how_many(make_broker, agent_config, start_agent,
                                                             make_subscriber):
    broker = make_broker(start=False)  # down from the start
    path, cfg = agent_config(broker, buffer={"max_windows": 5})
    proc = start_agent(path)
    wait_until(lambda: status_json(path)["next_seq"] >= 12, 60, message="12 windows closed", procs=(proc,))
    broker.start()
    sub = make_subscriber(broker.port)
    wait_until(lambda: sub.windows() and status_json(path)["backlog"]["windows"] <= 2, 60,
               message="the outbox drained", procs=(proc,))
    assert proc.terminate() == 0
    windows = sub.windows()
    dropped = sum(w.c.get("agent.dropped_windows", 0) for w in windows.values())
    first = min(windows)
    assert first > 1 and contiguous(windows)
    assert dropped == first - 1  # exactly seq 1..first-1, the oldest, and the count says so
    summary = json.loads(status_cmd(path, "--json")[1])["outbox"]
    assert summary["dropped_total"] == dropped


def test_agent_bad_config_exits_non_zero_naming_the_key(agent_config, tmp_path):
    path, _ = agent_config(None, agent={"interval_s": -5})
    for command in ("check-config", "run"):
        result = subprocess.run(robopulse_cmd("agent", command, "--config", str(path)), capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 2
        assert "agent.interval_s" in result.stderr and "between 1 and 3600" in result.stderr
    good, _ = agent_config(None, name="good")
    result = subprocess.run(robopulse_cmd("agent", "check-config", "--config", str(good)), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and "OK" in result.stdout


def test_agent_bad_statsd_lines_are_counted_and_the_agent_goes_on(broker, agent_config, start_agent,
                                                                  make_subscriber):
    sub = make_subscriber(broker.port)
    path, cfg = agent_config(broker)
    proc = start_agent(path)
    wait_agent_up(path, proc)
    send_statsd(cfg["ingest"]["statsd"], ["garbage", "asr.requests:-3|c", "x:1|c", "asr.requests:1|q",
                                          "asr.requests:4|c"], per_datagram=5)
    wait_until(lambda: totals(sub.windows())["agent.statsd_bad_lines"] == 4, 30,
               message="4 bad lines counted", procs=(proc,))
    assert totals(sub.windows())["asr.requests"] == 4
    assert proc.alive()


def test_agent_tls_with_client_certificate_and_password(make_broker, tls_files, agent_config, start_agent,
                                                       make_subscriber):
    broker = make_broker(tls=tls_files, require_certificate=True, passwords={"robot": "s3cret", "cs": "pw"})
    sub = make_subscriber(broker.port, tls=tls_files, username="cs", password="pw")
    tls = {"tls_ca": str(tls_files.ca), "tls_cert": str(tls_files.client_cert), "tls_key": str(tls_files.client_key)}
    path, cfg = agent_config(broker, mqtt={"username": "robot", "password": "s3cret", **tls})
    proc = start_agent(path)
    wait_agent_up(path, proc)
    send_statsd(cfg["ingest"]["statsd"], ["tts.requests:9|c"])
    wait_until(lambda: totals(sub.windows())["tts.requests"] == 9, 30, message="windows over TLS", procs=(proc,))
    assert any(s["state"] == "online" for s, _ in sub.statuses())
    snap = status_json(path)
    assert snap["connection"]["connected"] and snap["connection"]["tls"]
    assert proc.terminate() == 0


def test_agent_wrong_password_is_reported_and_retried_with_backoff(make_broker, agent_config, start_agent):
    broker = make_broker(passwords={"robot": "s3cret"})
    path, _ = agent_config(broker, mqtt={"username": "robot", "password": "wrong", "reconnect_max_s": 4})
    proc = start_agent(path)

    def refused_attempts():
        events = [json.loads(line) for line in proc.output().splitlines() if line.startswith("{")]
        return [e for e in events if e["event"] == "mqtt_connect_refused"]
    attempts = wait_until(lambda: len(refused_attempts()) >= 3 and refused_attempts(), 60,
                          message="three refused attempts", procs=(proc,))
    assert all("password" in e["error"].lower() or "not authorized" in e["error"].lower() for e in attempts)
    assert [e["attempt"] for e in attempts[:3]] == [1, 2, 3]
    assert attempts[2]["retry_in_s"] >= 2  # the wait grows
    snap = status_json(path)
    assert not snap["connection"]["connected"] and "refused" in snap["connection"]["last_error"]
    code, out, _ = status_cmd(path)
    assert "NOT CONNECTED" in out and "refused" in out


def test_agent_status_with_broker_up_down_and_no_agent(broker, agent_config, start_agent, make_subscriber):
    sub = make_subscriber(broker.port)
    path, cfg = agent_config(broker, agent={"publish_interval_s": 1})
    code, out, _ = status_cmd(path)
    assert code == 3 and "agent not running" in out
    proc = start_agent(path)
    wait_agent_up(path, proc)
    send_statsd(cfg["ingest"]["statsd"], ["asr.requests:100|c", "asr.unrecognized:30|c", "usage.wakeups:7|c",
                                          "skill.guide:2|c"])
    wait_until(lambda: totals(sub.windows())["asr.requests"] == 100, 30, message="counts", procs=(proc,))
    wait_until(lambda: status_json(path)["last_hour_covered_s"] > 0 and status_json(path)["connection"]["last_publish_ms"],
               30, message="status up", procs=(proc,))
    code, out, _ = status_cmd(path)
    assert code == 0 and "CONNECTED to 127.0.0.1" in out and "NOT CONNECTED" not in out
    assert "asr        CRIT" in out and "crit 20%" in out and "wakeups 7" in out and "guide 2" in out

    broker.stop()
    wait_until(lambda: not status_json(path)["connection"]["connected"] and status_json(path)["backlog"]["windows"] >= 2,
               30, message="status while the broker is down", procs=(proc,))
    code, out, _ = status_cmd(path)
    assert code == 0 and "NOT CONNECTED" in out and "backlog" in out
    snap = status_json(path)
    assert snap["backlog"]["oldest_age_s"] is not None

    proc.terminate()
    code, out, _ = status_cmd(path)
    assert code == 3 and "agent not running" in out and "windows waiting" in out


def test_agent_status_over_http_on_loopback(broker, agent_config, start_agent):
    from tests.support.broker import free_port
    import urllib.request

    listen = f"127.0.0.1:{free_port()}"
    path, _ = agent_config(broker, status={"listen": listen})
    proc = start_agent(path)

    def fetch():
        with urllib.request.urlopen(f"http://{listen}/status", timeout=2) as resp:
            return json.loads(resp.read())
    snap = wait_until(lambda: fetch()["connection"]["connected"] and fetch(), 30, message="HTTP status",
                      procs=(proc,))
    assert snap["robot"] == "r-1" and snap["running"] is True
    assert status_json(path)["robot"] == "r-1"
    proc.terminate()
    code, out, _ = status_cmd(path)
    assert code == 3 and "agent not running" in out


def test_agent_second_instance_on_the_same_state_dir_refuses(broker, agent_config, start_agent):
    path, _ = agent_config(broker)
    first = start_agent(path)
    wait_agent_up(path, first)
    path2, _ = agent_config(broker, name="agent2",
                            agent={"state_dir": str(path.parent / "state")})
    second = start_agent(path2, "agent2.log")
    wait_until(lambda: not second.alive(), 30, message="the second agent to exit")
    assert second.popen.returncode == 1 and "agent_already_running" in second.output()
    first.check_alive()


def test_agent_environment_overrides_the_file(agent_config):
    import os

    path, _ = agent_config(None)
    env = dict(os.environ, ROBOPULSE_AGENT_ROBOT_ID="r-env", ROBOPULSE_MQTT_PORT="8883")
    result = subprocess.run(robopulse_cmd("agent", "check-config", "--config", str(path)), capture_output=True,
                            text=True, timeout=60, env=env)
    assert result.returncode == 0 and "robot r-env" in result.stdout and ":8883" in result.stdout
    env["ROBOPULSE_MQTT_PORT"] = "not-a-port"
    result = subprocess.run(robopulse_cmd("agent", "check-config", "--config", str(path)), capture_output=True,
                            text=True, timeout=60, env=env)
    assert result.returncode == 2 and "mqtt.port" in result.stderr and "ROBOPULSE_MQTT_PORT" in result.stderr
