"""The command's own messages: Ctrl-C while torch and the plugins load ends with a word,
not a traceback; a plugin that fails to load is one warning line for every command but
`ganbench plugins`, which shows it; a leaderboard of a folder with no results says so."""

from __future__ import annotations

import subprocess
import sys

from ganbench.cli import command_name


def test_ctrl_c_during_start_up_prints_no_traceback():
    # Ctrl-C while the command imports torch, made deterministic: an import finder raises
    # the KeyboardInterrupt a real SIGINT would, at the first import of torch (a signal
    # sent from here lands wherever a busy machine happens to be, and some libraries
    # swallow it).
    script = (
        "import sys\n"
        "class CtrlC:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, CtrlC())\n"
        "sys.argv = ['ganbench', 'list', 'gans']\n"
        "from ganbench.__main__ import main\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 130 and "interrupted" in result.stderr


def test_command_name_skips_options_and_their_values():
    assert command_name(["--no-plugin", "plugins", "list", "gans"]) == "list"
    assert command_name(["plugins", "--json"]) == "plugins"
    assert command_name(["--version"]) is None


def test_one_warning_line_for_a_broken_plugin_except_in_ganbench_plugins(capsys):
    from ganbench.cli import warn_about_plugins
    from ganbench.plugins import Plugins, PluginInfo

    infos = [PluginInfo("fine", "dist", "1", "m"), PluginInfo("broken", "dist", "1", "m", error="ImportError: no")]
    plugins = Plugins(manager=None, infos=infos, registry=None)
    warn_about_plugins(plugins, ["run", "--suite", "brain-mri"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "1 plugin(s) failed to load or register (broken)" in lines[0]
    warn_about_plugins(plugins, ["plugins"])
    assert capsys.readouterr().err == ""


def test_leaderboard_of_a_missing_results_folder_says_so(tmp_path):
    from click.testing import CliRunner

    from ganbench.cli import cli
    from ganbench.plugins import load_plugins

    for source, message in ((tmp_path / "nope", "does not exist"), (tmp_path, "holds no results.sqlite")):
        outcome = CliRunner().invoke(cli, ["leaderboard", "--suite", "brain-mri", "--results", str(source)], obj=load_plugins())
        assert outcome.exit_code == 2 and message in outcome.output, outcome.output


def test_an_empty_name_list_or_a_setting_given_twice_is_refused(tmp_path):
    from click.testing import CliRunner

    from ganbench.cli import cli
    from ganbench.plugins import load_plugins

    for args, message in (
        (["--gans", ""], "--gans is empty"),
        (["--gans", " , "], "--gans is empty"),
        (["--classifiers", ""], "--classifiers is empty"),
        (["--metric-setting", "classifier_epochs=1", "--metric-setting", "classifier_epochs=2"], "classifier_epochs is given twice"),
    ):
        outcome = CliRunner().invoke(cli, ["run", "--suite", "brain-mri", "--results", str(tmp_path / "r"), *args], obj=load_plugins())
        assert outcome.exit_code == 2 and message in outcome.output, outcome.output
        assert not (tmp_path / "r").exists()
