"""One run end to end: rollout, evaluation, budget, the training loop and the run directory."""
