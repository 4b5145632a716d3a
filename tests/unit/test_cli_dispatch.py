import subprocess
import sys

from protocol.cli import main


def test_cli_help_lists_groups(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for group in ("agent", "collector", "sim", "demo"):
        assert group in out


def test_cli_unknown_command_is_an_error(capsys):
    assert main(["frobnicate"]) == 2
    assert "unknown command" in capsys.readouterr().err


def test_cli_protocol_imports_nothing_heavy():
    code = ("import sys, protocol.cli, protocol.codec, protocol.topics, protocol.catalogue, protocol.config;"
            "bad=[m for m in sys.modules if m.split('.')[0] in ('aiohttp','collector','simulator','structlog','paho','psutil','sqlite_utils')];"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
