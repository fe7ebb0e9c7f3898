"""The reporter: leaderboards, plots and an HTML page built from run directories (no torch)."""
