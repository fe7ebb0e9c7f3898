"""Task plugins: one small module per task, plus the rewards they share."""

# The task modules, in the order `bench list` shows their tasks (harness/api/registry.py).
__all__ = ["summarization", "translation", "dialogue", "sentiment"]
