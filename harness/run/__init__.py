"""One run end to end: the runner, its schedule of evaluations, checkpoints, result.json, the
anchor rows (start, lead-n, echo), export, and `bench eval` for outside checkpoints."""
