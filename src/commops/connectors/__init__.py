"""Connectors: read a source, yield activities. See base.py for the contract."""
