#!/usr/bin/python
"""Ansible module: walk mailwizard on this host, proving every step (stdlib only on the host)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: walk
short_description: Walk mailwizard on the host; every step proven by its probes
description:
  - Runs C(mailwizard run --json) on the host and reports the steps, their file changes and their
    probes. C(changed) only when a step wrote a file.
  - In check mode runs C(mailwizard plan --json) instead, and nothing is written; with C(--diff) each
    planned change is a diff entry (a file that holds a secret says only that it changes).
options:
  answers:
    description: The answers file on the host (TOML or JSON); without it, the walk's recorded answers.
    type: path
  through:
    description: Stop after this step.
    type: str
  root:
    description: A sandbox directory (mailwizard's C(--root)); nothing outside it is written.
    type: path
  lab:
    description: Walk inside mailwizard's lab (C(--lab)).
    type: bool
    default: false
  path:
    description: The path a first walk takes, C(lessons) (the tutorial's errors shown) or C(straight).
    type: str
    choices: [lessons, straight]
  secrets:
    description: Secrets a step asks for, by name (C(relay_password)); given in the environment,
      never on a command line.
    type: dict
    no_log: true
  command:
    description: The mailwizard program on the host.
    type: str
    default: mailwizard
"""

RETURN = r"""
steps:
  description: Each step walked, with its status and message.
  type: list
  returned: always
probes:
  description: Each probe, with its status, what was expected and what came back.
  type: list
  returned: always
summary:
  description: mailwizard's summary line (the exit code, the counts).
  type: dict
  returned: always
failed_step:
  description: On failure, the step, its message and the probe that missed.
  type: dict
  returned: failed
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule


def argv_of(params: dict, check: bool) -> list[str]:
    argv = [params["command"], "plan" if check else "run", "--json"]
    for option in ("answers", "through", "root"):
        if params.get(option):
            argv += [f"--{option}", params[option]]
    if params.get("lab"):
        argv.append("--lab")
    if params.get("path") and not check:
        argv.append("--teaching" if params["path"] == "lessons" else "--straight")
    return argv


def read_lines(text: str) -> list[dict]:
    found = []
    for line in text.splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue        # not mailwizard's: a line some other program printed
    return found


def diff_entries(events: list[dict]) -> list[dict]:
    entries = []
    for event in events:
        for change in event.get("changes", []) if event.get("event") == "plan_step" else []:
            shown = change["diff"] if change["diff"] is not None else "(this file holds a secret: it changes, not shown how)\n"
            entries.append({"before_header": change["path"], "after_header": f"{change['path']} ({event['step']})",
                            "prepared": shown})
    return entries


def main() -> None:
    module = AnsibleModule(argument_spec=dict(
        answers=dict(type="path"), through=dict(type="str"), root=dict(type="path"),
        lab=dict(type="bool", default=False), path=dict(type="str", choices=["lessons", "straight"]),
        secrets=dict(type="dict", no_log=True, default={}), command=dict(type="str", default="mailwizard"),
    ), supports_check_mode=True)
    params = module.params
    env = {f"MAILWIZARD_{name.upper()}": str(value) for name, value in (params["secrets"] or {}).items()}
    code, out, err = module.run_command(argv_of(params, module.check_mode), environ_update=env)
    events = read_lines(out)
    summary = events[-1] if events and events[-1].get("event") == "summary" else {}
    if module.check_mode:
        planned = [e for e in events if e.get("event") == "plan_step"]
        changes = sum(len(e["changes"]) for e in planned)
        result = dict(changed=changes > 0, steps=[{k: e[k] for k in ("step", "title", "status", "passed_over")}
                                                   for e in planned],
                      probes=[], summary=summary)
        if module._diff:
            result["diff"] = diff_entries(events)
        if code != 0:
            module.fail_json(msg=summary.get("refused") or err.strip() or "mailwizard plan failed", **result)
        module.exit_json(**result)
    steps = [{k: e.get(k, "") for k in ("step", "status", "message")} for e in events if e.get("event") == "step_done"]
    probes = [{k: e.get(k, "") for k in ("step", "probe", "title", "status", "expected", "got", "reason")}
              for e in events if e.get("event") == "probe_done"]
    changed = any(e.get("event") == "change_planned" for e in events)
    result = dict(changed=changed, steps=steps, probes=probes, summary=summary)
    if code != 0:
        last = steps[-1] if steps else {}
        missed = [p for p in probes if p["step"] == last.get("step") and p["status"] == "failed"]
        result["failed_step"] = dict(step=last.get("step", ""), message=last.get("message", ""),
                                     probe=missed[0] if missed else {})
        said = summary.get("refused") or last.get("message") or err.strip() or "mailwizard run failed"
        where = f"{last['step']}: " if last.get("step") and not summary.get("refused") else ""
        module.fail_json(msg=f"mailwizard: {where}{said}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
