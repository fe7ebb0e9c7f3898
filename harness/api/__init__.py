"""What plugins import: errors, the registry, the task and algorithm contracts, the batch."""
