#!/usr/bin/python
"""Ansible module: the host's mailwizard grade, proven now (read-only, never changed)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: grade
short_description: The host's mailwizard grade (every finished chapter proven again now)
description:
  - Runs C(mailwizard grade --format json) on the host; read-only, never C(changed), and runs in check
    mode too. A host with no walk has a grade of zero chapters.
options:
  answers:
    description: The answers file on the host (its passwords let the login probes log in).
    type: path
  root:
    description: A sandbox directory (mailwizard's C(--root)).
    type: path
  lab:
    description: Grade inside mailwizard's lab (C(--lab)).
    type: bool
    default: false
  box:
    description: The box's name in the grade (a class names its boxes by the inventory's names).
    type: str
  command:
    description: The mailwizard program on the host.
    type: str
    default: mailwizard
"""

RETURN = r"""
grade:
  description: The canonical grade (schema mailwizard.grade/1).
  type: dict
  returned: always
"""

import json

from ansible.module_utils.basic import AnsibleModule


def main() -> None:
    module = AnsibleModule(argument_spec=dict(
        answers=dict(type="path"), root=dict(type="path"), lab=dict(type="bool", default=False),
        box=dict(type="str"), command=dict(type="str", default="mailwizard"),
    ), supports_check_mode=True)
    params = module.params
    argv = [params["command"], "grade", "--format", "json"]
    for option in ("answers", "root", "box"):
        if params.get(option):
            argv += [f"--{option}", params[option]]
    if params["lab"]:
        argv.append("--lab")
    code, out, err = module.run_command(argv)
    try:
        grade = json.loads(out)
    except ValueError:
        module.fail_json(msg=f"mailwizard grade said no grade: {err.strip() or out.strip()}", changed=False)
    # A chapter failing now is the grade's news, not the module's failure.
    module.exit_json(changed=False, grade=grade, failing=grade["totals"]["failing"])


if __name__ == "__main__":
    main()
