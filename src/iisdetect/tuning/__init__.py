"""tuning stage."""
