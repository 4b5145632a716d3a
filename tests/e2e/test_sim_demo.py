"""Must-show 4: ``robopulse demo`` (headless) shows customers of all three colours and firing alerts
through the API within two minutes of starting, the dashboard answers, and Ctrl-C stops it all."""

import datetime
import json
import signal
import socket
import time
import urllib.request

from tests.support.procs import Proc, robopulse_cmd, wait_until


def get(url: str, token: str | None = None):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(req, timeout=15) as resp:
        body = resp.read()
        return json.loads(body) if resp.headers.get_content_type() == "application/json" else body.decode()


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_sim_demo_shows_three_colours_and_firing_alerts_within_two_minutes(tmp_path):
    data = tmp_path / "demo-data"
    started = time.monotonic()
    demo = Proc(robopulse_cmd("demo", "--headless", "--port", "0", "--data-dir", str(data)), tmp_path / "demo.log")
    try:
        info = wait_until(lambda: json.loads((data / "demo.json").read_text()), 120, 0.5, "the demo to be ready",
                          (demo,))
        api, token = info["url"] + "api/v1/", info["viewer_token"]
        seen: dict = {}

        def three_colours_and_alerts():
            seen["colours"] = {c["id"]: (c.get("health") or {}).get("color")
                               for c in get(api + "customers", token)["items"]}
            seen["firing"] = [(a["rule"], a["customer"], a["summary"])
                              for a in get(api + "alerts?state=firing", token)["items"]]
            return {"green", "yellow", "red"} <= set(seen["colours"].values()) and seen["firing"]

        left = 120 - (time.monotonic() - started)
        try:
            wait_until(three_colours_and_alerts, left, 1.0, "green, yellow and red customers and firing alerts",
                       (demo,))
        except AssertionError:
            raise AssertionError(f"after two minutes: {seen}") from None
        assert len(seen["colours"]) == 8 and info["robots"] == 60
        assert all(summary and customer in summary for _, customer, summary in seen["firing"])  # the reasons
        html = get(info["url"])
        assert "<html" in html.lower()
        # issue 14: the demo imports goals and events for its fleet, judged on the back-filled history
        goals = {c: get(api + f"customers/{c}/goals", token)["items"] for c in seen["colours"]}
        judged = {(c, g["metric"]): (g["status"], g["progress"], g["days_elapsed"])
                  for c, items in goals.items() for g in items}
        assert sum(map(len, goals.values())) == 9, judged
        assert all(days >= 10 for _, _, days in judged.values()), judged
        assert judged[("xihu-scenic", "interactions_per_robot_day")][0] in ("achieved", "on_track"), judged
        assert judged[("xihu-scenic", "interactions_per_robot_day")][1] > 1000, judged
        assert judged[("harbour-mall", "interactions_per_robot_day")][0] == "at_risk", judged
        assert judged[("river-art-museum", "active_day_share")][0] == "at_risk", judged
        assert all(progress is not None for _, progress, _ in judged.values()), judged
        events = {c: get(api + f"customers/{c}/events", token)["total"] for c in seen["colours"]}
        assert sum(events.values()) == 6 and events["union-hospital"] == 1, events
        today = datetime.datetime.now(datetime.UTC).date()
        period = f"from={today - datetime.timedelta(days=120)}&to={today}"
        outcomes = get(api + "outcomes?" + period, token)["overall"]
        assert outcomes["expansion_rate_by_count"] > 0, outcomes  # three expansions in the last 120 days
    finally:
        if demo.alive():
            demo.popen.send_signal(signal.SIGINT)  # Ctrl-C
    assert demo.popen.wait(90) == 0, demo.output()[-3000:]
    assert not listening(info["http_port"]) and not listening(info["broker_port"])
    assert "demo_stopping" in demo.output()
