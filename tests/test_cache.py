"""The build cache: concurrent first uses build a folder once and never delete a loaded one."""

import threading
import time
from pathlib import Path

from harness.policies.cache import build_once, write_folder_atomically


def test_concurrent_first_uses_build_once(tmp_path: Path) -> None:
    """Two workers on a cold cache: one builds, the other waits and finds the folder built.

    Before the lock both built, and the second rename deleted the folder the first was
    reading (a reference sweep's second run failed on its tokenizer).
    """
    folder = tmp_path / "policies" / "model"
    builds: list[str] = []

    def build() -> None:
        builds.append(threading.current_thread().name)
        time.sleep(0.3)  # long enough for the other worker to arrive meanwhile
        write_folder_atomically(folder, lambda staging: (staging / "weights").write_text("w"))

    results: dict[str, bool] = {}

    def worker() -> None:
        built = build_once(folder, lambda f: (f / "weights").exists(), build)
        results[threading.current_thread().name] = built

    threads = [threading.Thread(target=worker, name=f"w{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert sorted(results.values()) == [False, True]
    assert (folder / "weights").read_text() == "w"


def test_a_built_folder_is_not_rebuilt(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()

    def build() -> None:
        raise AssertionError("a built folder was rebuilt")

    assert build_once(folder, Path.exists, build) is False
