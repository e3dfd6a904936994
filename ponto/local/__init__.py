"""Pieces of `ponto local`: the pipeline on one machine, without AWS or Docker."""
