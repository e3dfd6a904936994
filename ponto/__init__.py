"""Ponto: a storage-first serverless punch clock."""
