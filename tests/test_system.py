import os
import subprocess
import sys

import pytest

from wizard.state import State, StateError
from wizard.system import System, TEMP_SUFFIX


def test_atomic_write_keeps_mode_and_leaves_no_temp(tmp_path):
    system = System(tmp_path)
    system.write_file("/etc/x.conf", "one\n", mode=0o640)
    system.write_file("/etc/x.conf", "two\n")
    target = tmp_path / "etc/x.conf"
    assert target.read_text() == "two\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert not (tmp_path / f"etc/x.conf{TEMP_SUFFIX}").exists()


def test_sandbox_records_commands_instead_of_running_them(tmp_path):
    system = System(tmp_path)
    result = system.run(["touch", str(tmp_path / "should-not-exist")])
    assert result.ok and not (tmp_path / "should-not-exist").exists()
    assert any("did not run" in e for e in system.events)
    assert system.query(["true"]).ok


def test_crash_at_a_write_point_leaves_the_old_file_whole(tmp_path):
    target = tmp_path / "etc/x.conf"
    target.parent.mkdir(parents=True)
    target.write_text("old\n")
    code = ("from pathlib import Path; from wizard.system import System;"
            f"System(Path({str(tmp_path)!r})).write_file('/etc/x.conf', 'new\\n')")
    env = dict(os.environ, MAILWIZARD_CRASH_AT="write:/etc/x.conf")
    proc = subprocess.run([sys.executable, "-c", code], env=env)
    assert proc.returncode == -9
    assert target.read_text() == "old\n"
    assert System(tmp_path).remove_stale_temps(["/etc/x.conf"]) == [str(target) + TEMP_SUFFIX]


def test_damaged_state_file_gives_a_clear_error():
    with pytest.raises(StateError, match="not valid JSON"):
        State.from_json("{not json")
    with pytest.raises(StateError, match="format"):
        State.from_json('{"format": 99}')
    state = State(answers={"maildomain": "example.test"}, steps={"install": {"status": "passed"}})
    assert State.from_json(state.to_json()).steps == state.steps


def test_a_command_streams_its_lines_and_a_silent_one_is_cut_off(tmp_path):
    from wizard.system import System

    seen = []
    done = System().run(["sh", "-c", "echo one; echo two >&2; echo three; exit 3"], on_line=seen.append)
    assert seen == ["one", "three"] and done.returncode == 3 and "two" in done.stderr
    seen.clear()
    cut = System().run(["sh", "-c", "echo started; exec sleep 30"], on_line=seen.append, timeout=0.5)
    assert seen == ["started"] and cut.returncode == 124 and "timed out" in cut.stderr
