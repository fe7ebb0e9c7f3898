"""The modern REINFORCE family as presets: each names its parts and its paper, nothing else.

A preset is a registered algorithm that reuses a baseline's update (REINFORCE or PPO's clipped
surrogate) and pins the shared parts listed in `baselines/preset_table.py`: the advantage
estimator, the loss aggregation, the ratio level and clip bounds, epochs and minibatches, and
the KL placement, estimator and β. Every part is one of the shared, separately tested pieces
(harness/rl/), so two presets differ only in their parts, and an explicit `-o` of any part
overrides the preset. The learning rate is the base algorithm's (tuned here for comparable step
sizes on smollm2-135m): the papers' values are for models of 1.5–70 B parameters.
"""

from dataclasses import replace

from baselines import ppo, reinforce
from baselines.preset_table import PRESETS
from harness.api.algorithm import Algorithm

BASES = {"reinforce": reinforce.ALGORITHM, "ppo": ppo.ALGORITHM}


def preset(name: str) -> Algorithm:
    """The registered algorithm `name`: its base update with the parts PRESETS pins."""
    entry = PRESETS[name]
    return replace(BASES[entry["base"]], name=name, preset=entry["parts"], paper=entry["paper"])


#: RLOO (Ahmadian et al. 2024): a reinforce preset
RLOO = preset("rloo")
#: GRPO (Shao et al. 2024): a ppo preset
GRPO = preset("grpo")
#: Dr. GRPO (Liu et al. 2025): a ppo preset
DR_GRPO = preset("dr-grpo")
#: REINFORCE++ (Hu 2025): a ppo preset
REINFORCE_PP = preset("reinforce++")
#: ReMax (Li et al. 2023): a reinforce preset
REMAX = preset("remax")
#: GSPO (Zheng et al. 2025): a ppo preset
GSPO = preset("gspo")
#: DAPO (Yu et al. 2025): a ppo preset
DAPO = preset("dapo")
