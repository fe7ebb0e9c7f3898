"""Baseline RL algorithms; they share the runner's rollout → score → advantage pipeline."""

# The algorithm modules, in the order `bench list` shows them (harness/api/registry.py);
# within a module (the presets), source order.
__all__ = ["reinforce", "ppo", "trpo", "presets", "supervised"]
