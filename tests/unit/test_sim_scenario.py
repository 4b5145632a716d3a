"""Scenario files: every key validated, errors name the key, relative times resolve."""

import pytest

from protocol.config import ConfigError
from simulator import scenario

NOW = 1_764_064_800_000  # 2025-11-25T10:00:00Z


def doc(**over):
    base = {"scenario": {"name": "t", "seed": 3},
            "customers": [{"id": "acme", "scene": "museum", "robots": 3, "sites": ["a", "b"]}],
            "faults": []}
    base.update(over)
    return base


def error_key(document) -> str:
    with pytest.raises(ConfigError) as info:
        scenario.parse(document, NOW)
    return info.value.key


def test_sim_scenario_defaults_and_robots_spread_over_sites():
    scn = scenario.parse(doc(), NOW)
    acme = scn.customers[0]
    assert [r.id for r in acme.robots] == ["acme-r01", "acme-r02", "acme-r03"]
    assert [r.site for r in acme.robots] == ["a", "b", "a"]
    assert scn.interval_s == 10 and scn.live_start_ms == NOW
    assert acme.contract_end == "2026-11-25"


def test_sim_scenario_relative_and_absolute_times():
    d = doc()
    d["customers"][0].update(onboarded="-10d", contract_start="2025-01-01", contract_end="+30d")
    d["faults"] = [{"kind": "lidar_failing", "customer": "acme", "robot": "2", "start": "-2h", "end": "+90s"}]
    scn = scenario.parse(d, NOW)
    c = scn.customers[0]
    assert c.onboarded_ms == NOW - 10 * 86_400_000
    assert (c.contract_start, c.contract_end) == ("2025-01-01", "2025-12-25")
    f = scn.faults[0]
    assert (f.robot, f.start_ms, f.end_ms) == ("acme-r02", NOW - 7_200_000, NOW + 90_000)
    assert scn.faults_for(c.robots[1]) == (f,) and scn.faults_for(c.robots[0]) == ()


@pytest.mark.parametrize("mutate, key", [
    (lambda d: d["customers"][0].update(scene="zoo"), "customers[0].scene"),
    (lambda d: d["customers"][0].update(id="Bad Id"), "customers[0].id"),
    (lambda d: d["customers"][0].update(robots=0), "customers[0].robots"),
    (lambda d: d["customers"][0].update(engagement=1.5), "customers[0].engagement"),
    (lambda d: d["customers"][0].update(opening_hours="9-5"), "customers[0].opening_hours"),
    (lambda d: d["customers"][0].update(closed_days=["funday"]), "customers[0].closed_days[0]"),
    (lambda d: d["customers"][0].update(colour="red"), "customers[0].colour"),
    (lambda d: d["customers"][0].update(contract_start="+10d", contract_end="+5d"), "customers[0].contract_end"),
    (lambda d: d["customers"][0].update(onboarded="+1d"), "customers[0].onboarded"),
    (lambda d: d["customers"].append(dict(d["customers"][0])), "customers[1].id"),
    (lambda d: d["scenario"].update(interval_s=0), "scenario.interval_s"),
    (lambda d: d["scenario"].update(local_start="25:00"), "scenario.local_start"),
    (lambda d: d.update(customers=[]), "customers"),
    (lambda d: d["faults"].append({"kind": "meteor", "customer": "acme"}), "faults[0].kind"),
    (lambda d: d["faults"].append({"kind": "lidar_failing", "customer": "acme"}), "faults[0].robot"),
    (lambda d: d["faults"].append({"kind": "lidar_failing", "customer": "acme", "robot": "9"}),
     "faults[0].robot"),
    (lambda d: d["faults"].append({"kind": "site_network_down", "customer": "acme", "site": "z"}),
     "faults[0].site"),
    (lambda d: d["faults"].append({"kind": "disengaging", "customer": "nobody"}), "faults[0].customer"),
    (lambda d: d["faults"].append({"kind": "powered_off", "customer": "acme", "robot": "1", "start": "soon"}),
     "faults[0].start"),
    (lambda d: d["faults"].append({"kind": "powered_off", "customer": "acme", "robot": "1", "start": "+5m",
                                   "end": "+1m"}), "faults[0].end"),
    (lambda d: d["faults"].append({"kind": "clock_skew", "customer": "acme", "robot": "1"}),
     "faults[0].offset"),
    (lambda d: d["faults"].append({"kind": "disengaging", "customer": "acme", "robot": "1"}),
     "faults[0].robot"),
])
def test_sim_scenario_bad_values_name_the_key(mutate, key):
    d = doc()
    mutate(d)
    assert error_key(d) == key


def test_sim_scenario_local_start_picks_the_time_zone():
    d = doc()
    d["scenario"]["local_start"] = "10:30"
    scn = scenario.parse(d, NOW)
    local_s = (NOW // 1000 + scn.utc_offset_s) % 86400
    assert local_s == 10 * 3600 + 30 * 60


def test_sim_scenario_builtin_demo_loads_with_about_60_robots():
    scn = scenario.load(scenario.builtin("demo"), NOW)
    assert len(scn.customers) == 8 and len(scn.robots) == 60
    assert {c.scene for c in scn.customers} >= {"museum", "ktv", "scenic", "conference"}
    assert {f.kind for f in scn.faults} == set(scenario.FAULT_KINDS)


def test_sim_scenario_customers_csv_has_the_contract_header():
    csv_text = scenario.customers_csv(scenario.load(scenario.builtin("demo"), NOW))
    lines = csv_text.splitlines()
    # the contract's header plus its optional timezone and hours (section 6, issue 13)
    assert lines[0] == "id,name,scene,tier,contract_start,contract_end,arr,csm,timezone,hours"
    assert len(lines) == 9 and "南京博物院" in csv_text


def test_sim_scenario_hours_imported_for_venues_that_cut_power_rounded_inward():
    scn = scenario.parse({"scenario": {"utc_offset_h": 5.5}, "customers": [
        {"id": "hall", "scene": "conference", "robots": 1, "opening_hours": "08:00-18:00"},
        {"id": "late", "scene": "conference", "robots": 1, "opening_hours": "18:00-02:00"},
        {"id": "park", "scene": "scenic", "robots": 1}]}, NOW)
    rows = {line.split(",")[0]: line.split(",")[-2:] for line in scenario.customers_csv(scn).splitlines()[1:]}
    # +05:30 -> Asia/Shanghai (+08:00): 2 h 30 later; robots of scenic spots stay on: hours learned
    assert rows == {"hall": ["Asia/Shanghai", "10:30-20:30"], "late": ["Asia/Shanghai", "20:30-04:30"],
                    "park": ["", ""]}
    scn = scenario.parse({"scenario": {"utc_offset_h": 5.5 + 10 / 3600}, "customers": [
        {"id": "hall", "scene": "conference", "robots": 1, "opening_hours": "08:00-18:00"}]}, NOW)
    # 10 s off the minute: opening rounded up, closing down (never open while the robots are off)
    assert scenario.collector_hours(scn, scn.customers[0]) == "10:30-20:29"


def test_sim_scenario_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        scenario.load(tmp_path / "none.toml", NOW)
    bad = tmp_path / "bad.toml"
    bad.write_text("[scenario\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        scenario.load(bad, NOW)


def test_sim_cli_bad_input_exits_2_naming_the_key(tmp_path, capsys):
    from simulator import cli

    bad = tmp_path / "bad.toml"
    bad.write_text('[[customers]]\nid = "a"\nscene = "zoo"\nrobots = 1\n')
    assert cli.main(["run", "--scenario", str(bad)]) == 2
    assert "customers[0].scene" in capsys.readouterr().err
    assert cli.main(["run", "--scenario", "demo", "--broker", "nohost"]) == 2
    assert "--broker" in capsys.readouterr().err
    assert cli.main(["run", "--scenario", "demo", "--start", "soon"]) == 2
    assert "--start" in capsys.readouterr().err
