"""Ansible connection: a booted container (systemd-nspawn), entered by its first process's pid."""

from __future__ import annotations

DOCUMENTATION = r"""
name: nsenter
short_description: Run tasks in a booted container by entering its namespaces
description:
  - Runs every command with C(nsenter --target PID --all) on the controller, as root, so the
    container's mount, network, PID and other namespaces, its root directory. For booted
    C(systemd-nspawn) boxes that are not registered with machined (C(--register=no)), where
    neither ssh nor machinectl reach them. Files go in and out through C(cat) inside the box.
options:
  leader:
    description: The pid, on the controller, of the box's first process (its systemd).
    type: int
    required: true
    vars:
      - name: mailwizard_nsenter_pid
"""

import shlex
import subprocess

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.connection import ConnectionBase

# The box's own environment, not the controller's.
INSIDE = ["env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
          "LANG=C.UTF-8"]


class Connection(ConnectionBase):
    transport = "mailwizard.box.nsenter"
    has_pipelining = False

    def _inside(self, command: str) -> list[str]:
        return ["nsenter", "--target", str(self.get_option("leader")), "--all", *INSIDE, "/bin/sh", "-c", command]

    def _connect(self):
        self._connected = True
        return self

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        done = subprocess.run(self._inside(cmd), input=in_data, capture_output=True)
        return done.returncode, done.stdout, done.stderr

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        with open(in_path, "rb") as source:
            done = subprocess.run(self._inside(f"cat > {shlex.quote(out_path)}"), stdin=source, capture_output=True)
        if done.returncode != 0:
            raise AnsibleConnectionFailure(f"could not put {out_path} in the box: {done.stderr.decode(errors='replace')}")

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        with open(out_path, "wb") as target:
            done = subprocess.run(self._inside(f"cat {shlex.quote(in_path)}"), stdout=target, stderr=subprocess.PIPE)
        if done.returncode != 0:
            raise AnsibleConnectionFailure(f"could not fetch {in_path} from the box: {done.stderr.decode(errors='replace')}")

    def close(self):
        self._connected = False
