"""Views of the canonical event: log sources, field roles, the QRadar table (data in YAML, loaders here)."""
