"""Simulated robots driven through the real agent code, for tests and demos."""
