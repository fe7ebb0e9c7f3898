"""Task plugins: one small module per task, plus the rewards they share."""
