"""The edge agent on the robot: samplers -> windows -> outbox -> publisher.  Imports nothing from collector/ or simulator/."""

__version__ = "0.1.0"
