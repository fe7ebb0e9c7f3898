"""Budget accounting: exact sample budgets, other limits, invalid budgets."""

from harness.config.run_config import BudgetConfig
from harness.loop.budget import Spent, prompts_for_update, stop_reason


def test_sample_budget_is_never_overshot():
    budget = BudgetConfig(samples=100)
    # 8 prompts × 4 = 32 per update: 32, 64, 96, then one prompt (4 samples) → exactly 100.
    spent, sizes = Spent(), []
    while stop_reason(budget, spent, 8, 4) is None:
        prompts = prompts_for_update(budget, spent, 8, 4)
        sizes.append(prompts)
        spent.samples += prompts * 4
        spent.updates += 1
    assert sizes == [8, 8, 8, 1]
    assert spent.samples == 100
    assert stop_reason(budget, spent, 8, 4) == "samples"


def test_samples_left_below_one_prompt_stop_the_run():
    assert stop_reason(BudgetConfig(samples=34), Spent(samples=32), 8, 4) == "samples"


def test_other_limits():
    assert stop_reason(BudgetConfig(samples=None, updates=3), Spent(updates=3), 8, 4) == "updates"
    assert stop_reason(BudgetConfig(samples=None, tokens=50), Spent(tokens=51), 8, 4) == "tokens"
    assert (
        stop_reason(BudgetConfig(samples=None, seconds=1.0), Spent(seconds=1.5), 8, 4) == "seconds"
    )
    assert stop_reason(BudgetConfig(samples=None, seconds=1.0), Spent(seconds=0.5), 8, 4) is None
