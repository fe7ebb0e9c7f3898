"""Hash splits: an item's split follows from a hash of its key, so no file edit reshuffles it."""

import hashlib
from collections.abc import Mapping


def md5_bucket(key: str) -> int:
    """The item's percent bucket 0..99 from the MD5 of its key."""
    return int(hashlib.md5(key.encode()).hexdigest(), 16) % 100


def share_of(bucket: int, shares: Mapping[str, tuple[int, int]]) -> str:
    """The name whose [low, high) percent range holds `bucket`, e.g. {"train": (0, 90), ...}."""
    return next(name for name, (low, high) in shares.items() if low <= bucket < high)
