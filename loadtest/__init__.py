"""Ponto's load test: a JMeter plan (punches.jmx) plus a runner that verifies the database afterwards.

`loadtest/run --help` is the entry point; loadtest/README.md explains how to read the report.
"""
