"""Fixtures for the collector tests."""
