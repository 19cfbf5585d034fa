"""Detection: Sigma rules compiled once into an IR (``ir``), evaluated locally (``python``)."""
