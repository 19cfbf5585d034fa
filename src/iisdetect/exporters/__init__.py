"""Exports of compiled rules to other query languages (each a small renderer over the rule IR)."""
