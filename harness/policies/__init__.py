"""Policies: loading models, the embedded SmolLM2, the tiny test policy and their cache."""
