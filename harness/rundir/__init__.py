"""Run-directory plumbing with no RL in it: layout and atomic writes, the lock, provenance, trackers, interrupts, fault injection."""
