"""Run-directory plumbing with no RL in it: the layout and atomic writes, the lock, provenance,
trackers, interrupts and fault injection."""
