"""Test harness shared by every test: a private Mosquitto, process helpers, waiting helpers."""
