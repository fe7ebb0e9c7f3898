"""Sweeps: a YAML spec → tuning trials, selection on val, report runs; local or Ray executors."""
