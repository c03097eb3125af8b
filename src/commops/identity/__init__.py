"""Knowing each person across platforms."""
