"""The CLI: listing, one-line errors with exit code 2, no torch at start-up."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from harness.cli import app

runner = CliRunner()


def test_list_names_every_kind():
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    for word in (
        "Tasks",
        "summarization",
        "Algorithms",
        "reinforce",
        "Policies",
        "smollm2-135m",
        "tiny",
        "Rewards",
        "rouge",
        "bleu",
    ):
        assert word in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", "summarisation", "--algo", "reinforce"],
            "unknown task 'summarisation'; did you mean 'summarization'? (tasks: capitals,",
        ),
        (
            ["run", "summarization", "--algo", "reinforc"],
            "unknown algorithm 'reinforc'; did you mean 'reinforce'?",
        ),
        (
            ["run", "summarization", "--algo", "reinforce", "-o", "rollout.kl_coeff=1"],
            "unknown option 'rollout.kl_coeff'; did you mean 'rollout.kl_coef'?",
        ),
        (
            ["run", "summarization", "--algo", "reinforce", "-o", "advantage=gea"],
            "rollout.advantage must be one of batch-mean, batch-whiten, ema, gae, "
            "group-batch-whiten, group-mean, group-norm, none, remax, rloo; got 'gea'",
        ),
        (["run", "summarization"], "bench run needs a TASK and --algo ALGO"),
    ],
)
def test_bad_input_is_one_line_with_exit_code_2(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_help_list_and_ls_do_not_import_torch():
    code = (
        "import sys; from typer.testing import CliRunner; from harness.cli import app; "
        "r = CliRunner(); assert r.invoke(app, ['--help']).exit_code == 0; "
        "assert r.invoke(app, ['list']).exit_code == 0; "
        "assert r.invoke(app, ['ls', '--help']).exit_code == 0; "
        "assert r.invoke(app, ['show', '--help']).exit_code == 0; "
        "assert r.invoke(app, ['run', 'x', '--algo', 'reinforce']).exit_code == 2; "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_an_error_message_keeps_its_brackets(capsys):
    import typer

    from harness.api.errors import BenchError
    from harness.cli import fail

    with pytest.raises(typer.Exit) as exit_info:
        fail(BenchError('the ray executor needs Ray: pip install "rl-lm-bench[ray]"'))
    assert exit_info.value.exit_code == 2
    assert 'pip install "rl-lm-bench[ray]"' in capsys.readouterr().err


def test_every_command_turns_errors_into_one_line():
    """Each command is wrapped by `one_line_errors`, the one place a BenchError becomes a line."""
    from harness.cli.rewards import reward_app

    infos = [*app.registered_commands, *reward_app.registered_commands]
    assert len(infos) == 11
    for info in infos:
        assert info.callback.__code__.co_qualname == "one_line_errors.<locals>.guarded", info.name


def test_help_lists_the_commands_in_their_order():
    """`bench --help` lists the commands in `harness.cli.COMMAND_ORDER`, then the groups."""
    import typer

    group = typer.main.get_command(app)
    names = ["eval", "list", "run", "export", "validate", "report", "ls", "show", "sweep"]
    assert group.list_commands(None) == [*names, "reward"]  # `reward` is a group: groups last
