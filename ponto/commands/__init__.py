"""The `ponto` command's groups beyond the pipeline's own (one module per group)."""
