"""mailwizard's benchmarks: each measure is a ratio against a baseline taken in the same run.

    benchmarks/run [--quick] [--only startup|why|lab|fleet]

Prints a table and writes benchmarks/results.json. Needs root and the test set-up
(`sudo bash .ci/test` once, or `bash .ci/setup --test`): it builds its own lab ("mwbench"),
walks it, and puts every file, daemon and namespace back as it found them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

sys.path.insert(0, str(REPO / "tests"))

from benchmarks.fleet import fleet_measures  # noqa: E402
from benchmarks.floor import lab_values, script as floor_script  # noqa: E402
from benchmarks.startup_probe import ANSWERS as STARTUP_ANSWERS  # noqa: E402
from fixture_data import ANSWERS as SUITE_ANSWERS, kept_files  # noqa: E402

PYTHON = sys.executable
# The suite's answers and its list of the files it puts back, with a lab of the benchmark's own.
# The certificate chapter is left out (ca = "none"): the floor does not ask an ACME CA (yet), and
# a walk and its floor must do the same daemon work for the ratio to mean anything.
ANSWERS = SUITE_ANSWERS + '[certificate]\nca = "none"\n[lab]\nname = "mwbench"\n'
KEPT = kept_files()


def mailwizard(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "wizard", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def timed(argv: list[str], **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    return time.perf_counter() - started, done


def measure(name, unit, value, baseline, target, note=""):
    ratio = value / baseline if baseline else None
    return {"name": name, "unit": unit, "value": round(value, 4), "baseline": round(baseline, 4),
            "ratio": round(ratio, 3) if ratio is not None else None, "target": target, "note": note}


# ---- 1. start-up ---------------------------------------------------------------------------------

def startup(runs: int) -> list[dict]:
    """Both apps started as a user's second start finds them: Python's bytecode cache written
    (an installed wheel has it from the start; PYTHONDONTWRITEBYTECODE, set on some boxes, would
    make the wizard alone compile its modules at every start). One start of each warms it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    samples = {"bare": [], "wizard": [], "whole": []}
    memory = {"bare": 0, "wizard": 0}
    for n in range(runs + 1):
        for kind in ("bare", "wizard"):       # interleaved, so drift hits both alike
            done = subprocess.run([PYTHON, str(HERE / "startup_probe.py"), kind], cwd=REPO, env=env,
                                  capture_output=True, text=True, timeout=60, check=True)
            if not n:
                continue                    # the warm-up
            first, whole, kib = done.stdout.split()
            samples[kind].append(float(first))
            if kind == "wizard":
                samples["whole"].append(float(whole))
            memory[kind] = max(memory[kind], int(kib))
    bare = statistics.median(samples["bare"])
    return [measure("start-up to first paint", "s", statistics.median(samples["wizard"]), bare, 1.5,
                    f"median of {runs}; baseline: a bare Textual app painting one widget; the first "
                    "frame handed to the terminal"),
            measure("start-up to the walk on screen", "s", statistics.median(samples["whole"]), bare, None,
                    "the step list and the selected step's Explain (and a first start's path question); "
                    "reported beside the first paint, no target of its own"),
            measure("start-up peak memory", "MiB", memory["wizard"] / 1024, memory["bare"] / 1024,
                    round(80 / (memory["bare"] / 1024), 3), "target: at most 80 MiB")]


# A bare Textual app as the terminal measure's floor: a label and a footer.
BARE_IN_A_TERMINAL = """
from textual.app import App
from textual.widgets import Footer, Label

class Bare(App):
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self):
        yield Label("a bare Textual app")
        yield Footer()

Bare().run()
"""


TMUX = ["tmux", "-L", f"mailwizard-bench-{os.getpid()}"]


def startup_in_a_terminal(runs: int) -> list[dict]:
    """From the command typed to the text seen in a real terminal (tmux, 120x36, read back with
    `capture-pane` every 10 ms): mailwizard's walk on a first start (a step of the list, a line
    of the selected step's explanation and the path question) against a bare Textual app's label
    and footer. Starting tmux costs both the same."""
    from steps import ALL_STEPS

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["TERM"] = "xterm-256color"
    samples: dict[str, list[float]] = {"bare": [], "wizard": []}
    # A tmux server of the benchmark's own, kept up between the runs by a session that waits:
    # a server whose last session ends exits, and the next run could meet it on its way out.
    subprocess.run([*TMUX, "new-session", "-d", "-s", "hold", "sleep 600"], check=True, timeout=10)
    with tempfile.TemporaryDirectory(prefix="mailwizard-bench-tmux-") as scratch:
        bare = Path(scratch, "bare.py")
        bare.write_text(BARE_IN_A_TERMINAL)
        answers = Path(scratch, "answers.toml")
        answers.write_text(STARTUP_ANSWERS)
        for n in range(runs + 1):             # interleaved; the first of each warms the caches
            root = Path(scratch, f"box{n}")
            commands = {"bare": ([PYTHON, str(bare)], ("a bare Textual app", "Quit")),
                        "wizard": ([PYTHON, "-m", "wizard", "--root", str(root), "--answers", str(answers)],
                                   (ALL_STEPS[0].title[:20], "or held by Postfix", "Follow the tutorial's lessons"))}
            for kind, (argv, texts) in commands.items():
                took = seconds_to_text(argv, texts, env)
                if n:
                    samples[kind].append(took)
    subprocess.run([*TMUX, "kill-server"], capture_output=True, timeout=10)
    bare_median = statistics.median(samples["bare"])
    return [measure("start-up to the walk in a terminal", "s", statistics.median(samples["wizard"]), bare_median,
                    1.5, f"median of {runs}; tmux 120x36; baseline: a bare Textual app's label and footer in "
                    "the same terminal")]


def seconds_to_text(argv: list[str], texts: tuple[str, ...], env: dict) -> float:
    session = f"mwbench{os.getpid()}"
    started = time.perf_counter()
    subprocess.run([*TMUX, "new-session", "-d", "-s", session, "-x", "120", "-y", "36", shlex.join(argv)],
                   cwd=REPO, env=env, check=True, timeout=10)
    try:
        deadline = started + 30
        while time.perf_counter() < deadline:
            shown = subprocess.run([*TMUX, "capture-pane", "-p", "-t", session], capture_output=True,
                                   text=True, timeout=10).stdout
            if all(text in shown for text in texts):
                return time.perf_counter() - started
            time.sleep(0.01)
        raise SystemExit(f"{texts} never appeared in the terminal; it showed:\n{shown}")
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", session], capture_output=True, timeout=10)


# ---- the lab and a clean box ----------------------------------------------------------------------

DKIM_KEYS = Path("/var/lib/rspamd/dkim")


def stop_rspamd() -> None:
    """rspamd as the dkim chapter (or the floor) started it; its hyperscan cache stays."""
    pid_file = Path("/run/rspamd/rspamd.pid")
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 15)
    except (OSError, ValueError, IndexError):
        return
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.05)


class Box:
    """Keeps the files a walk touches and puts them back, with daemons, users and the lab."""

    def __init__(self, answers: Path):
        self.answers = answers
        self.saved = {p: Path(p).read_bytes() if Path(p).exists() else None for p in KEPT}
        self.had_vmail = subprocess.run(["getent", "passwd", "vmail"], capture_output=True).returncode == 0
        self.had_var_vmail = Path("/var/vmail").exists()
        self.dkim_keys = {p.name for p in DKIM_KEYS.glob("*")}   # keys there before stay

    def fresh(self) -> None:
        mailwizard("reset", "--yes")
        for command in (["postfix", "stop"], ["dovecot", "stop"]):
            subprocess.run(command, capture_output=True)
        stop_rspamd()
        from wizard.lab.network import LabPlan, publish, set_receiver
        from wizard.answers import load_answers
        plan = LabPlan.from_answers(load_answers(self.answers))
        if plan.rundir.exists():          # the lab's DNS and receiver as the tutorial's world has them
            publish(plan, [])
            set_receiver(plan, "lenient")
        deadline = time.monotonic() + 10
        while Path("/run/dovecot/master.pid").exists() and time.monotonic() < deadline:
            try:
                os.kill(int(Path("/run/dovecot/master.pid").read_text()), 0)
            except (OSError, ValueError):
                break
            time.sleep(0.05)
        subprocess.run(["postsuper", "-d", "ALL"], capture_output=True)
        for path, data in self.saved.items():
            if path.startswith("/var/log") or path == "/var/mail/root":
                continue
            if data is None:
                Path(path).unlink(missing_ok=True)
            else:
                Path(path).write_bytes(data)
        shutil.rmtree("/var/lib/mailwizard", ignore_errors=True)
        if not self.had_var_vmail:
            shutil.rmtree("/var/vmail", ignore_errors=True)
        # reset keeps the key; the wizard and the floor each make their own
        for path in DKIM_KEYS.glob("*"):
            if path.name not in self.dkim_keys:
                path.unlink(missing_ok=True)

    def restore(self) -> None:
        self.fresh()
        for path, data in self.saved.items():
            if data is None:
                Path(path).unlink(missing_ok=True)
            else:
                Path(path).write_bytes(data)
        if not self.had_vmail:
            subprocess.run(["userdel", "vmail"], capture_output=True)
            subprocess.run(["groupdel", "vmail"], capture_output=True)
        mailwizard("lab", "down", "--answers", str(self.answers))


# ---- 2. checks ------------------------------------------------------------------------------------

def checks(answers: Path, runs: int) -> list[dict]:
    from wizard.answers import load_answers
    from wizard.lab.network import LabPlan, write_zone

    lookup = ("import dns.resolver, time; r = dns.resolver.Resolver(); r.lifetime = 2; "
              "r.resolve('mail.example.test', 'A')")
    plan = LabPlan.from_answers(load_answers(answers))
    floor = statistics.median(timed(["ip", "netns", "exec", plan.mail_ns, PYTHON, "-c", lookup])[0]
                              for _ in range(runs))
    healthy = statistics.median(timed([PYTHON, "-m", "wizard", "check", "--lab", "--answers", str(answers)],
                                      cwd=REPO)[0] for _ in range(runs))
    write_zone(plan, silent=True)
    try:
        silent, _ = timed([PYTHON, "-m", "wizard", "check", "--lab", "--answers", str(answers),
                           "--timeout", "2"], cwd=REPO)
    finally:
        write_zone(plan)
    return [measure("checks, healthy lab DNS", "s", healthy, floor, round(1.0 / floor, 3),
                    "baseline: one process doing one DNS lookup; target: at most 1 s"),
            measure("checks, DNS black-holed", "s", silent, 2.0, 1.2,
                    "baseline: the configured timeout (2 s); every check runs at once")]


# ---- 3. and 4. the walk and the delivery wait ---------------------------------------------------------

def walk(box: Box, answers: Path) -> list[dict]:
    from steps import ALL_STEPS
    from wizard.answers import load_answers
    from wizard.lab.network import LabPlan
    from wizard.platform import detect
    from wizard.system import System

    loaded = load_answers(answers).in_a_lab()        # as `run --lab` takes them
    plan = LabPlan.from_answers(loaded)
    values = {**loaded.values(), **detect(System()).values(), **plan.values(), **lab_values(plan),
              "vantage": f"netns:{plan.ext_ns}"}
    passwords = {u.address: u.password for u in loaded.users}

    # The chapters proven by the audit's own checks are measured by `audit_measures`: the floor
    # types SMTP and IMAP, not TLS handshakes by the dozen. The walk stops before the first of
    # them (a walk cannot pass over a chapter on its way to a later one).
    first_audited = next((k for k, step in enumerate(ALL_STEPS) if proven_by_audit(step)), len(ALL_STEPS))
    steps = ALL_STEPS[:first_audited]
    box.fresh()
    wizard_seconds, run = timed([PYTHON, "-m", "wizard", "run", "--lab", "--answers", str(answers),
                                 "--through", steps[-1].id], cwd=REPO)
    if run.returncode != 0:
        raise SystemExit(f"the walk failed, no benchmark:\n{run.stdout}{run.stderr}")
    state = json.loads(Path("/var/lib/mailwizard/state.json").read_text())
    wizard_steps = {sid: rec.get("finished", 0) - rec.get("started", rec.get("finished", 0))
                    for sid, rec in state["steps"].items()}
    lags = [p["notice_lag"] for rec in state["steps"].values() for p in rec.get("probes", [])
            if p.get("notice_lag") is not None]

    box.fresh()
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write(floor_script(steps, values, loaded.users, passwords))
    floor_seconds, floor = timed(["ip", "netns", "exec", plan.mail_ns, "env", f"EXT_NS={plan.ext_ns}",
                                  "bash", f.name])
    os.unlink(f.name)
    if floor.returncode != 0:       # a floor cut short would make the walk look slow
        raise SystemExit(f"the floor script failed, no benchmark:\n{floor.stderr[-2000:]}")
    stamps = [line.split() for line in floor.stdout.splitlines() if line.startswith("step ")]
    floor_steps = {a[1]: float(b[2]) - float(a[2]) for a, b in zip(stamps, stamps[1:])}
    breakdown = {sid: {"wizard": round(wizard_steps.get(sid, 0), 3), "floor": round(floor_steps.get(sid, 0), 3)}
                 for sid in floor_steps}
    gave_up = [line for line in floor.stderr.splitlines() if "gave up" in line]
    results = [measure("walk, whole tutorial in the lab", "s", wizard_seconds, floor_seconds, 1.1,
                       "baseline: the floor script (benchmarks/floor.py), the same files, reloads and probes with "
                       "curl/openssl/bash" + (f"; floor gave up on {len(gave_up)} wait(s)" if gave_up else ""))]
    results[0]["breakdown"] = breakdown
    if lags:
        results.append(measure("delivery noticed after it happened", "s", max(lags), 0.1, 1.0,
                               f"worst of {len(lags)} deliveries (median {statistics.median(lags):.3f} s); "
                               "baseline: the 0.1 s target"))
    return results


def proven_by_audit(step) -> bool:
    from wizard.model import AuditCheck

    return any(isinstance(probe.action, AuditCheck) for probe in step.probes)


# ---- 5. the audit ---------------------------------------------------------------------------------

def audit_measures(answers: Path) -> list[dict]:
    """The whole audit of the walked server against its slowest single check, each run as a user
    runs it (`mailwizard audit --lab [--check NAME]`): run at once, the battery should cost little
    more than the check that takes longest."""
    from wizard.audit.battery import check_names

    def audit_seconds(*args: str) -> float:
        seconds, done = timed([PYTHON, "-m", "wizard", "audit", "--lab", "--answers", str(answers), *args], cwd=REPO)
        if "Traceback" in done.stderr:
            raise SystemExit(f"the audit failed, no benchmark:\n{done.stderr}")
        return seconds

    singles = {name: audit_seconds("--check", name) for name in check_names() if name not in ("mx", "greeting")}
    slowest = max(singles, key=singles.get)
    whole = statistics.median(audit_seconds() for _ in range(3))
    return [measure("audit, whole battery in the lab", "s", whole, singles[slowest], 1.5,
                    f"baseline: its slowest single check alone ({slowest}, `audit --check {slowest}`)")]


# ---- 6. `why` on a busy server's logs -------------------------------------------------------------

# The child reports its own peak memory: ru_maxrss of RUSAGE_CHILDREN is a maximum over every
# child this process ever waited for, not the last one's.
PEAK_OF = ("import resource, runpy, sys\n"
           "sys.argv = ['mailwizard', *sys.argv[1:]]\n"
           "try:\n    runpy.run_module('wizard', run_name='__main__')\n"
           "except SystemExit:\n    pass\n"
           "sys.stdout.flush()\n"
           "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)")


def why_measures(runs: int) -> list[dict]:
    """`why` for a queue id, a Message-ID and an address of the newest message in logs of one and
    four million lines (rotated parts, one compressed), each against `mailwizard --version`'s own
    start-up in the same run (a question should cost little more than starting), with `grep -F`
    for the same key beside it; and its peak memory, which must not grow with the logs."""
    from benchmarks.biglog import write

    def seconds_and_kib(*args: str) -> tuple[float, int]:
        started = time.perf_counter()
        done = subprocess.run([PYTHON, "-c", PEAK_OF, *args], cwd=REPO, capture_output=True, text=True,
                              timeout=120)
        took = time.perf_counter() - started
        if "Traceback" in done.stderr:
            raise SystemExit(f"`why` failed, no benchmark:\n{done.stderr}")
        return took, int(done.stderr.strip().splitlines()[-1])

    def grep_seconds(root: Path, key: str) -> float:
        logs = sorted(str(p) for p in (root / "var/log").iterdir() if not p.name.endswith(".gz"))
        started = time.perf_counter()
        subprocess.run(["grep", "-F", "-h", key, *logs], capture_output=True, timeout=60)
        subprocess.run(["zgrep", "-F", "-h", key, str(root / "var/log/mail.log.2.gz")], capture_output=True,
                       timeout=60)
        return time.perf_counter() - started

    measures, peaks = [], {}
    for lines in (1_000_000, 4_000_000):
        with tempfile.TemporaryDirectory(prefix="mailwizard-bench-why-") as scratch:
            root = Path(scratch)
            keys = write(root, lines)
            seconds_and_kib("--version")                    # warm: the bytecode and the page cache
            version = statistics.median(seconds_and_kib("--version")[0] for _ in range(runs))
            for kind in ("queue id", "message id", "address"):
                samples = [seconds_and_kib("why", keys[kind], "--root", scratch) for _ in range(runs + 1)][1:]
                took = statistics.median(s for s, _ in samples)
                peaks[lines] = max([peaks.get(lines, 0)] + [k for _, k in samples])
                grep = statistics.median(grep_seconds(root, keys[kind]) for _ in range(runs))
                if lines == 1_000_000:
                    measures.append(measure(
                        f"why {kind.upper().replace(' ', '-')}, 1M log lines", "s", took - version, 0.3, 1.0,
                        f"value: beyond `--version`'s start-up ({version:.3f} s, median of {runs}); baseline: "
                        f"the 0.3 s allowed; whole run {took:.3f} s; grep -F/zgrep for the same key {grep:.3f} s"))
    measures.append(measure("why peak memory, 4M against 1M lines", "MiB", peaks[4_000_000] / 1024,
                            peaks[1_000_000] / 1024, 1.1,
                            f"must not grow with the logs; target also: at most 100 MiB "
                            f"(4M lines: {peaks[4_000_000] / 1024:.0f} MiB)"))
    return measures


def describe_machine() -> str:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    mem = int(next(l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines()
                   if l.startswith("MemTotal"))) // 1024
    from wizard.platform import detect
    from wizard.system import System

    return (f"{cpu}, {os.cpu_count()} cores, {mem} MiB; {detect(System()).describe()}; "
            f"Python {platform.python_version()}; kernel {platform.release()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (3 instead of 7)")
    parser.add_argument("--only", choices=("startup", "why", "lab", "fleet"),
                        help="one group of measures; the others in results.json are kept as they were")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("benchmarks/run needs root (it builds a lab and walks it): sudo benchmarks/run", file=sys.stderr)
        return 2
    runs = 3 if args.quick else 7
    measures = []
    if args.only in (None, "startup"):
        measures += startup(runs)
        measures += startup_in_a_terminal(runs)
    if args.only in (None, "why"):
        measures += why_measures(runs)
    if args.only in (None, "lab"):
        measures += lab_measures(runs)
    if args.only in (None, "fleet"):
        measures += fleet_measures(REPO, SUITE_ANSWERS, 3 if args.quick else 5)
    if args.only:
        measures = merged(json.loads((HERE / "results.json").read_text())["measures"], measures)
    results = {"machine": describe_machine(), "measures": measures}
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"machine: {results['machine']}")
    print(f"{'measure':<38} {'value':>9} {'baseline':>9} {'ratio':>7} {'target':>7}")
    for m in measures:
        mark = "" if m["target"] is None or m["ratio"] is None else ("  ok" if m["ratio"] <= m["target"] else "  MISSED")
        target = "—" if m["target"] is None else m["target"]
        print(f"{m['name']:<38} {m['value']:>8.3f}{m['unit'][0]} {m['baseline']:>9.3f} {m['ratio']:>7.2f} "
              f"{target:>7}{mark}")
    for sid, times in measures_breakdown(measures).items():
        print(f"    {sid:<18} wizard {times['wizard']:>6.2f} s   floor {times['floor']:>6.2f} s")
    return 0


def merged(kept: list[dict], new: list[dict]) -> list[dict]:
    """The kept measures with the new ones in their places (new names at the end)."""
    fresh = {m["name"]: m for m in new}
    out = [fresh.pop(m["name"], m) for m in kept]
    return out + list(fresh.values())


def lab_measures(runs: int) -> list[dict]:
    """Everything that needs the lab: the checks, the walk against its floor, the audit."""
    measures = []
    with tempfile.TemporaryDirectory() as scratch:
        answers = Path(scratch, "answers.toml")
        answers.write_text(ANSWERS)
        box = Box(answers)
        try:
            up = mailwizard("lab", "up", "--answers", str(answers))
            if up.returncode != 0:
                raise SystemExit(up.stderr)
            measures += checks(answers, runs)
            measures += walk(box, answers)
            measures += audit_measures(answers)
        finally:
            box.restore()
    return measures


def measures_breakdown(measures: list[dict]) -> dict:
    return next((m.get("breakdown", {}) for m in measures if "breakdown" in m), {})


if __name__ == "__main__":
    sys.exit(main())
