"""Baseline RL algorithms; they share the runner's rollout → score → advantage pipeline."""
