"""Tensor math of RL on language models, no I/O: log-probs, KL, advantages, value, losses."""
