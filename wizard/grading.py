"""A grade for one box: what works now, and what only the walk's history knows.

Every finished chapter is proven again *now* (its lasting probes and checks, nothing written: a
grade is what works now, not what once passed); the history (wizard/state.py) gives the attempts
per step (runs until the first pass), the undos, the path taken, the exercises started, solved and
given up and the hints shown, with their times. One canonical object (GRADE_SCHEMA) — written as
JSON, as a JUnit testsuite (one testcase per probe) or as one CSV row a gradebook imports. No
password, hash or key is in any of them: the answers are named by a digest."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import socket
import time
from pathlib import Path
from xml.etree import ElementTree

from wizard import __version__
from wizard.context import EngineError
from wizard.statuses import MET, MISSED, NOT_RUN, PASSED

GRADE_SCHEMA = "mailwizard.grade/1"
CLASS_SCHEMA = "mailwizard.class/1"
NOW_PASSING, NOW_FAILING, NOT_REACHED, PASSED_OVER = "passing", "failing", "not-reached", "passed-over"
CSV_FIELDS = ("box", "maildomain", "fqdn", "path", "chapters", "passing", "failing", "not_reached",
              "probes_met", "probes_failed", "attempts", "undos", "exercises_started", "exercises_solved",
              "hints", "given_up", "graded_at", "reached")
ZERO_TOTALS = {"chapters": 0, "passing": 0, "failing": 0, "not_reached": 0, "passed_over": 0, "probes_met": 0,
               "probes_failed": 0, "attempts": 0, "undos": 0, "exercises_started": 0, "exercises_solved": 0,
               "hints": 0, "given_up": 0}


def answers_digest(record: dict) -> str:
    """The answers named without showing them: the users' password hashes left out."""
    kept = {**record, "users": [u.get("address", "") for u in record.get("users", [])]}
    return "sha256:" + hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()


def grade(engine, box: str = "") -> dict:
    """The box's grade (an engine with no walk: a grade of zero chapters). `box`: its name in the
    class (an inventory's name; default the host name)."""
    history = list(engine.state.history)
    chapters = [_chapter(engine, chapter, history) for chapter in engine.chapters] if engine.has_answers else []
    probes = [p for c in chapters for p in c["probes"]]
    exercises = _exercises(history)
    return {
        "schema": GRADE_SCHEMA, "tool": f"mailwizard {__version__}", "graded_at": _stamp(time.time()),
        "box": box or socket.gethostname(),
        "maildomain": engine.answers.maildomain if engine.has_answers else "",
        "fqdn": engine.answers.fqdn if engine.has_answers else "",
        "answers_digest": answers_digest(engine.answers.to_record()) if engine.has_answers else "",
        "path": "lessons" if engine.teaching else "straight",
        "chapters": chapters,
        "exercises": exercises,
        "totals": {"chapters": len(chapters),
                   **{key: sum(1 for c in chapters if c["now"] == status)
                      for key, status in (("passing", NOW_PASSING), ("failing", NOW_FAILING),
                                          ("not_reached", NOT_REACHED), ("passed_over", PASSED_OVER))},
                   "probes_met": sum(1 for p in probes if p["status"] == MET),
                   "probes_failed": sum(1 for p in probes if p["status"] == MISSED),
                   "attempts": sum(c["attempts"] for c in chapters), "undos": sum(c["undos"] for c in chapters),
                   "exercises_started": len(exercises),
                   "exercises_solved": sum(1 for e in exercises if e["solved"]),
                   "hints": sum(e["hints"] for e in exercises),
                   "given_up": sum(1 for e in exercises if e["given_up"])},
    }


def unreached(box: str, last: dict | None = None) -> dict:
    """The grade of a box nobody could reach (Ansible's unreachable): nothing is known to work
    now, so no chapter is counted; its last grade, when there is one, gives only its names."""
    last = last or {}
    return {"schema": GRADE_SCHEMA, "tool": f"mailwizard {__version__}", "graded_at": _stamp(time.time()),
            "box": box, "maildomain": last.get("maildomain", ""), "fqdn": last.get("fqdn", ""),
            "answers_digest": "", "path": last.get("path", ""), "chapters": [], "exercises": [],
            "totals": dict(ZERO_TOTALS), "reached": False}


def _chapter(engine, chapter, history: list[dict]) -> dict:
    lessons = {lesson.id for lesson in chapter.lessons}
    parts = [s.id for s in engine.steps if s.id == chapter.id or s.id in lessons]
    runs = [h for h in history if h.get("kind") == "run" and h.get("step") in parts]
    passes = [i for i, h in enumerate(runs) if h.get("status") == PASSED and h.get("step") == parts[-1]]
    finished = bool(parts) and all(engine.state.status_of(part) == PASSED for part in parts)
    row = {"chapter": chapter.id, "title": engine.title(chapter), "parts": parts,
           "attempts": passes[0] + 1 if passes else len(runs),
           "undos": sum(1 for h in history if h.get("kind") == "undo" and h.get("step") in parts),
           "first_passed": _stamp(runs[passes[0]]["at"]) if passes else "",
           "last_run": _stamp(runs[-1]["at"]) if runs else "", "probes": []}
    if not finished:
        return {**row, "now": NOT_REACHED}
    if not engine.applies(chapter):
        return {**row, "now": PASSED_OVER}
    results = engine.reprove(chapter)
    row["probes"] = [{"probe": r.id, "title": r.title, "status": r.status, "expected": r.expected,
                      "got": r.actual, "reason": r.reason} for r in results]
    return {**row, "now": NOW_FAILING if any(r.status == MISSED for r in results) else NOW_PASSING}


def _exercises(history: list[dict]) -> list[dict]:
    found: list[dict] = []
    for h in history:
        kind, name = h.get("kind", ""), h.get("exercise", "")
        if kind == "exercise_started":
            found.append({"exercise": name, "started": _stamp(h["at"]), "solved": False, "given_up": False,
                          "hints": 0, "ended": ""})
        elif kind.startswith("exercise_") and found and found[-1]["exercise"] == name:
            current = found[-1]
            if kind == "exercise_hint":
                current["hints"] += 1
            elif kind in ("exercise_solved", "exercise_given_up"):
                current["solved" if kind == "exercise_solved" else "given_up"] = True
                current["ended"] = _stamp(h["at"])
    return found


def _stamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


# ---- its forms -----------------------------------------------------------------------------------
def to_json(graded: dict) -> str:
    return json.dumps(graded, indent=2, ensure_ascii=False) + "\n"


def to_junit(graded: dict) -> str:
    return class_junit([graded])


def class_junit(grades: list[dict]) -> str:
    """One testsuite a box, a testcase per probe (classname: the chapter); a chapter not reached
    is one skipped testcase."""
    root = ElementTree.Element("testsuites")
    for graded in grades:
        _suite(root, graded)
    return ElementTree.tostring(root, encoding="unicode") + "\n"


def _suite(root, graded: dict) -> None:
    if not graded.get("reached", True):
        suite = ElementTree.SubElement(root, "testsuite", name=graded["box"], hostname=graded["fqdn"] or graded["box"],
                                    timestamp=graded["graded_at"], tests="1", errors="1", failures="0", skipped="0")
        case = ElementTree.SubElement(suite, "testcase", classname="reach", name="reach")
        ElementTree.SubElement(case, "error", message="unreachable: the box could not be reached to grade it")
        return
    cases = [(c, p) for c in graded["chapters"] for p in (c["probes"] or [None])]
    suite = ElementTree.SubElement(root, "testsuite", name=graded["box"], hostname=graded["fqdn"] or graded["box"],
                                timestamp=graded["graded_at"], tests=str(len(cases)),
                                failures=str(sum(1 for _, p in cases if p and p["status"] == MISSED)),
                                skipped=str(sum(1 for c, p in cases if (p is None and c["now"] != NOW_PASSING)
                                                  or (p is not None and p["status"] == NOT_RUN))))
    for chapter, probe in cases:
        case = ElementTree.SubElement(suite, "testcase", classname=chapter["chapter"],
                                      name=probe["probe"] if probe else chapter["chapter"])
        if probe is None and chapter["now"] != NOW_PASSING:
            ElementTree.SubElement(case, "skipped", message=chapter["now"])
        elif probe is None:
            continue
        elif probe["status"] == MISSED:
            failure = ElementTree.SubElement(case, "failure", message=f"expected {probe['expected']}")
            failure.text = f"got {probe['got']}" + (f" ({probe['reason']})" if probe["reason"] else "")
        elif probe["status"] == NOT_RUN:
            ElementTree.SubElement(case, "skipped", message=probe["reason"] or "not run")


def csv_row(graded: dict) -> dict:
    totals = graded["totals"]
    return {"box": graded["box"], "maildomain": graded["maildomain"], "fqdn": graded["fqdn"], "path": graded["path"],
            "chapters": totals["chapters"], "passing": totals["passing"], "failing": totals["failing"],
            "not_reached": totals["not_reached"], "probes_met": totals["probes_met"],
            "probes_failed": totals["probes_failed"], "attempts": totals["attempts"], "undos": totals["undos"],
            "exercises_started": totals["exercises_started"], "exercises_solved": totals["exercises_solved"],
            "hints": totals["hints"], "given_up": totals["given_up"], "graded_at": graded["graded_at"],
            "reached": "yes" if graded.get("reached", True) else "no"}


def to_csv(graded: dict) -> str:
    return class_csv([graded])


def class_csv(grades: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for graded in grades:
        writer.writerow(csv_row(graded))
    return out.getvalue()


def class_json(grades: list[dict]) -> str:
    return json.dumps({"schema": CLASS_SCHEMA, "boxes": grades}, indent=2, ensure_ascii=False) + "\n"


def read_class(folder: Path, unreachable: tuple[str, ...] = ()) -> list[dict]:
    """Every box's grade in `folder` (its *.json files), by box name. A file that is not a grade
    is refused by name: a class sheet must not silently lose a student. A box named in
    `unreachable` is listed as such, even when an older grade of it lies in the folder (what
    worked then is not what works now)."""
    if not folder.is_dir():
        raise EngineError(f"{folder}: no such folder of grades (each box's `mailwizard grade` output, one file a box).")
    grades = []
    for path in sorted(folder.glob("*.json")):
        try:
            graded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise EngineError(f"{path}: not a grade ({exc}); remove it or grade that box again.") from None
        if not isinstance(graded, dict) or graded.get("schema") != GRADE_SCHEMA:
            raise EngineError(f"{path}: not a mailwizard grade (schema {GRADE_SCHEMA}); remove it or grade that box again.")
        grades.append(graded)
    by_box = {g["box"]: g for g in grades}
    for box in unreachable:
        by_box[box] = unreached(box, by_box.get(box))
    return sorted(by_box.values(), key=lambda g: g["box"])


# ---- the class page --------------------------------------------------------------------------------
MARKS = {NOW_PASSING: ("✓", "passing now"), NOW_FAILING: ("✗", "failing now"),
         NOT_REACHED: ("·", "not reached"), PASSED_OVER: ("–", "passed over (the answers leave it out)")}
PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1d1d1f; background: #fff; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; } p.meta { color: #555; margin: 0 0 1rem; }
table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: .25rem .4rem; text-align: center; }
th.chapter { writing-mode: vertical-rl; transform: rotate(180deg); font-weight: normal; font-size: .8rem; }
td.box { text-align: left; white-space: nowrap; } td.totals { text-align: left; white-space: nowrap; font-size: .85rem; }
td.passing { background: #d9f2dc; color: #0b5d1e; } td.failing { background: #f9d6d5; color: #8a1c16; font-weight: bold; }
td.not-reached { background: #f4f4f4; color: #888; } td.unreachable { background: #fde9c8; color: #7a4b00; } td.passed-over { background: #fff; color: #888; }
ul.legend { list-style: none; padding: 0; display: flex; gap: 1.2rem; font-size: .9rem; }
"""


def class_html(grades: list[dict], reports: set[str] = frozenset()) -> str:
    """One self-contained page: the boxes × the chapters, each cell the chapter's state now
    (a mark and a word, not a colour alone), its attempts and hints on hover; each box's name links
    to its report when `reports` has it (a file BOX-report.html beside the page)."""
    chapters: dict[str, str] = {}
    for graded in grades:
        for chapter in graded["chapters"]:
            chapters.setdefault(chapter["chapter"], chapter["title"])
    e = html.escape
    head = "".join(f'<th class="chapter" title="{e(title)}">{e(cid)}</th>' for cid, title in chapters.items())
    rows = []
    for graded in grades:
        box, by_id = graded["box"], {c["chapter"]: c for c in graded["chapters"]}
        name = (f'<a href="{e(box)}-report.html">{e(box)}</a>' if box in reports else e(box))
        if not graded.get("reached", True):
            rows.append(f'<tr data-box="{e(box)}" data-reached="no"><td class="box">{name}<br><small>'
                        f'{e(graded["maildomain"])}</small></td><td class="unreachable" colspan="{len(chapters) + 1}">'
                        "unreachable: the box could not be reached to grade it</td></tr>")
            continue
        cells = "".join(_cell(by_id.get(cid), title) for cid, title in chapters.items())
        t = graded["totals"]
        totals = (f"{t['passing']}/{t['chapters']} passing, {t['failing']} failing; attempts {t['attempts']}, "
                  f"undos {t['undos']}, hints {t['hints']}, exercises solved {t['exercises_solved']}")
        rows.append(f'<tr data-box="{e(box)}"><td class="box">{name}<br><small>{e(graded["maildomain"])}</small></td>'
                    f'{cells}<td class="totals">{e(totals)}</td></tr>')
    legend = "".join(f"<li>{mark} {e(word)}</li>" for mark, word in MARKS.values())
    stamps = sorted(g["graded_at"] for g in grades)
    when = f"graded {stamps[0]}" + (f" to {stamps[-1]}" if stamps and stamps[-1] != stamps[0] else "") if stamps else "no grades"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mailwizard: the class</title>"
            f"<style>{PAGE_STYLE}</style></head><body><h1>The class: {len(grades)} box(es)</h1>"
            f'<p class="meta">{e(when)}; each cell is the chapter as it works now (hover for its attempts and hints)</p>'
            f'<ul class="legend">{legend}</ul><table><thead><tr><th>box</th>{head}<th>totals</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></body></html>\n")


def _cell(chapter: dict | None, title: str) -> str:
    e = html.escape
    if chapter is None:
        return '<td class="not-reached" data-now="not-reached" title="not in this walk">·</td>'
    mark, word = MARKS[chapter["now"]]
    said = f"{title}: {word}; attempts {chapter['attempts']}, undos {chapter['undos']}"
    missed = [p for p in chapter["probes"] if p["status"] == MISSED]
    if missed:
        said += f"; {missed[0]['probe']}: expected {missed[0]['expected']}, got {missed[0]['got']}"
    return (f'<td class="{chapter["now"]}" data-chapter="{e(chapter["chapter"])}" data-now="{chapter["now"]}" '
            f'title="{e(said)}">{mark}</td>')
