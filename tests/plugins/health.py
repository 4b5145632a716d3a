"""Fixtures for the health tests."""
