"""The key/value cache argument under both of transformers' names.

transformers 5.x renamed `past_key_values` to `cache` (inputs of `forward` and `generate`, and
the model output's field) and warns on the old name; older releases within our lower bound only
know `past_key_values`. These two helpers pick whichever the loaded model understands.
"""

import inspect
from functools import cache
from typing import Any

from transformers import PreTrainedModel


@cache
def cache_argument(model_type: type) -> str:
    """`cache` when the model's forward takes it, else `past_key_values`."""
    parameters = inspect.signature(model_type.forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"


def with_cache(model: PreTrainedModel, kv: Any) -> dict[str, Any]:
    """The keyword argument that passes the KV cache `kv` to the model's forward or generate."""
    return {cache_argument(type(model)): kv}


def returned_cache(outputs: Any) -> Any:
    """The KV cache a forward returned (`cache`, or `past_key_values` on older releases)."""
    return outputs["cache"] if "cache" in outputs else outputs["past_key_values"]
