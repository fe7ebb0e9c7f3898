"""The RL loop: setup, rollout, dynamic sampling, one update (step), budget and held-out scoring."""
