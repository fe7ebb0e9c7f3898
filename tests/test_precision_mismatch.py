"""benchmarks/precision_mismatch.py on the tiny policy: the figures it prints mean what they say.

In fp32 the sampling path (cached decode) and the update's full forward agree to float round-off,
so no token's ratio is near PPO's clip and the KL of the start policy to itself is ~0; under bf16
autocast they do not. The script runs for real here so that it cannot rot.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from precision_mismatch import measure  # noqa: E402

TINY = ("task.max_source_words=40", "task.max_new_tokens=12")  # the tests' cached tiny policy


@pytest.mark.slow
def test_fp32_paths_agree_and_bf16_leaves_a_mismatch_and_a_kl_floor(bench_cache):
    fp32 = measure("summarization", "tiny", "fp32", 1, TINY)
    bf16 = measure("summarization", "tiny", "bf16", 1, TINY)
    assert fp32["tokens"] > 0 and bf16["tokens"] > 0
    assert fp32["mean_abs_delta"] < 1e-5
    assert fp32["clipfrac_ppo"] == fp32["clipfrac_dapo"] == fp32["clipfrac_gspo"] == 0.0
    assert fp32["kl_floor"] < 1e-6
    # tiny measured 3.3e-4 and 4.6e-6 (fp32: 5.4e-7 and 3.2e-8); the bounds leave a margin
    assert bf16["mean_abs_delta"] > 1e-4
    assert bf16["kl_floor"] > 1e-6
    # GSPO's sequence ratio must stay within 3e-4 of 1: bf16 round-off alone breaks that
    assert bf16["clipfrac_gspo"] > 0.0
