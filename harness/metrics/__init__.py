"""Statistics and diversity of generations; numpy and sacrebleu only, never torch."""
