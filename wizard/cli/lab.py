"""`mailwizard lab` and `--lab`: the lab built, changed and taken down, and a command re-run inside it."""

from __future__ import annotations

import os
import sys

from wizard.answers import load_answers
from wizard.cli.common import EXIT_FAILED, EXIT_OK, EXIT_REFUSED, Printer, peek_engine
from wizard.state import StateStore
from wizard.system import System


def lab_plan(args):
    """The lab's names and addresses: from --answers, else the walk's answers, else the lab this
    process runs in, else the default lab (named MAILWIZARD_LAB when that is set)."""
    import dataclasses

    from wizard.answers import Answers, parse_lab
    from wizard.lab.network import LAB_ENV, LabPlan, lab_we_are_in

    if getattr(args, "answers", None):
        # Only names and addresses are wanted here: the passwords need not be hashed.
        return LabPlan.from_answers(load_answers(args.answers, hash_passwords=False))
    record = StateStore(System()).load().answers
    if record:
        return LabPlan.from_answers(Answers.from_record(record))
    named = {"name": os.environ[LAB_ENV]} if os.environ.get(LAB_ENV) else {}
    lab = lab_we_are_in() or parse_lab(named)
    return LabPlan.from_answers(dataclasses.replace(Answers(), lab=tuple(lab.items())))


def cmd_lab(args) -> int:
    from wizard.lab.network import Lab, LabError

    printer = Printer(False)
    if args.root:
        printer.say("the lab builds network namespaces on this box; it has no sandbox (--root).")
        return EXIT_REFUSED
    lab = Lab(System(), lab_plan(args))
    try:
        if args.action in ("up", "down", "status"):
            if args.address:
                raise LabError(f"`lab {args.action}` takes no address.")
            lines = {"up": lab.up, "down": lab.down, "status": lab.status}[args.action]()
        else:
            lines = lab_world(args, lab)
    except LabError as exc:
        print(f"mailwizard lab: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    for line in lines:
        printer.say(line)
    if args.action == "up":
        printer.say("now: `mailwizard run --lab --answers FILE` (or `mailwizard --lab`) walks the "
                    "steps inside the lab; `mailwizard lab down` removes it.")
    return EXIT_OK


def lab_world(args, lab) -> list[str]:
    """A teacher's hand on the lab's outside: the walk's DNS records published into the lab's zone
    (as a registrar would) or taken out, the outside mail server strict or lenient, the CA
    stopped, port 80 closed by a firewall, a renewal forced."""
    from wizard.lab.network import LabError, publish, set_receiver

    if not lab.is_up():
        raise LabError(f"the lab '{lab.plan.name}' is not up: run `mailwizard lab up` first.")
    if args.action in ("list", "unlist", "blocklist-refuses", "blocklist-answers"):
        return [block_list_change(args, lab.plan)]
    if args.action == "renew":
        return lab.renew()
    if args.action == "stop-ca":
        return [lab.stop_acme()]
    if args.action in ("block-80", "open-80"):
        return [lab.block_port_80(args.action == "block-80")]
    if args.action in ("block-25", "open-25"):
        return [lab.block_outbound_25(args.action == "block-25")]
    if args.action in ("strict", "lenient"):
        set_receiver(lab.plan, args.action)
        return [f"the outside mail server {lab.plan.exthost} is now {args.action}"]
    if args.action == "unpublish":
        publish(lab.plan, [])
        return ["the lab's DNS serves none of the walk's records now"]
    engine = peek_engine(args)
    if engine.answers is None:
        raise LabError("publish needs the walk's answers: give them with --answers FILE.")
    rows = engine.zone_records()
    publish(lab.plan, rows)
    return [f"published in the lab's DNS: {name} {rdtype} {value if len(value) < 70 else value[:66] + ' …'}"
            for name, rdtype, value in rows]


def block_list_change(args, plan) -> str:
    """`lab list ADDRESS`, `lab unlist ADDRESS`: who the lab's block list lists;
    `lab blocklist-refuses` / `blocklist-answers`: whether it answers at all (Spamhaus' trap)."""
    import ipaddress

    from wizard.lab.network import LabError, set_blocklist

    if args.action.startswith("blocklist-"):
        refuses = args.action == "blocklist-refuses"
        set_blocklist(plan, refuses=refuses)
        return (f"{plan.blocklist} now answers every query with 127.255.255.254, as Spamhaus answers "
                "queries that come through public resolvers" if refuses else f"{plan.blocklist} answers again")
    try:
        address = str(ipaddress.IPv4Address(args.address or ""))
    except ValueError:
        raise LabError(f"`lab {args.action}` needs an IPv4 address, like {plan.dns_address}.") from None
    listed = [a for a in plan.blocklist_state()["listed"] if a != address]
    set_blocklist(plan, listed=listed + [address] if args.action == "list" else listed)
    return f"{plan.blocklist} " + ("now lists " if args.action == "list" else "no longer lists ") + address


def enter_lab(args, argv: list[str]) -> int | None:
    """With --lab, run this same command again inside the lab's mail namespace.

    Postfix, Dovecot and every check then see the lab's DNS; probes "from outside" start in the
    external namespace. Returns an exit code when it cannot, None when already inside.
    """
    from wizard.lab.network import LAB_ENV, Lab, current_netns_is

    plan = lab_plan(args)
    if current_netns_is(plan.mail_ns):
        return None
    lab = Lab(System(), plan)
    example = not args.answers and not StateStore(System()).exists
    if example and not args.root:
        missing, selections = packages_for_the_lab()
        if missing:
            code = install_for_the_lab(args, missing, selections)
            if code is not None:
                return code
    if plan.mail_ns not in lab.namespaces() and example:
        # `--lab` with nothing else, on a box with no walk: the whole tutorial in the lab.
        from wizard.lab.network import LabError

        print(f"mailwizard: building the lab '{plan.name}' first (`mailwizard lab down` removes it):", flush=True)
        try:
            for line in lab.up():
                print(f"    {line}", flush=True)
        except LabError as exc:
            print(f"mailwizard: {exc}", file=sys.stderr)
            return EXIT_FAILED
    if plan.mail_ns not in lab.namespaces():
        print(f"mailwizard: the lab '{plan.name}' is not up: run `mailwizard lab up` first "
              "(with the same --answers).", file=sys.stderr)
        return EXIT_REFUSED
    if not lab.is_up():
        print(f"mailwizard: warning: the lab '{plan.name}' is damaged ({'; '.join(lab.status()[1:3])}); "
              "the probes from outside will fail. `mailwizard lab down` then `lab up` rebuilds it.",
              file=sys.stderr)
    env = dict(os.environ, **{LAB_ENV: plan.name})
    os.execvpe("ip", ["ip", "netns", "exec", plan.mail_ns, sys.executable, "-m", "wizard", *argv], env)
    return EXIT_FAILED      # not reached: exec replaced us


def packages_for_the_lab() -> tuple[list[str], str]:
    """The Debian packages a lab walk on its example answers installs and this box lacks (the
    chapters those answers take, as the lab takes them: with its own CA), and the debconf
    answers those chapters give apt."""
    from wizard.answers import lab_example
    from wizard.config import fill
    from wizard.session import chapters

    values = lab_example().in_a_lab().values()
    taken = [step for step in chapters() if step.applies(values) and step.packages]
    system = System()
    missing = [p for step in taken for p in step.packages
               if "install ok installed" not in system.query(["dpkg-query", "-W", "-f=${Status}", p]).stdout]
    selections = "".join(fill(line, values) + "\n" for step in taken for line in step.debconf)
    return missing, selections


def install_for_the_lab(args, missing: list[str], selections: str) -> int | None:
    """Inside the lab apt reaches no mirror, so what the walk installs is installed first, here,
    with the user's consent (--yes, or a yes at the terminal); None once it is, else the exit code."""
    from wizard.packages import install_outside_the_lab, other_mta

    system = System()
    command = f"apt-get install {' '.join(missing)}"
    holder = other_mta(system) if "postfix" in missing else None
    replaces = (f" {holder[0]} (from {holder[1]}) holds port 25: apt removes {holder[1]}, which "
                "Postfix replaces." if holder else "")
    said = (f"the walk needs {' '.join(missing)}, and the lab's network reaches no package mirror, "
            f"so they are installed first, on this box (`{command}`).{replaces}")
    if getattr(args, "yes", False):
        agreed = True
    elif sys.stdin.isatty():
        agreed = input(f"mailwizard: {said} Install them now? [y/N] ").strip().lower() in ("y", "yes")
    else:
        agreed = False
    if not agreed:
        # Refused before anything is made.
        print(f"mailwizard: {said} Run `{command}` yourself, or the same command again with --yes "
              "(`mailwizard run --lab --yes`) or at a terminal to say yes.", file=sys.stderr)
        return EXIT_REFUSED
    print(f"mailwizard: installing {' '.join(missing)} for the lab ({command}):", flush=True)
    problem = install_outside_the_lab(system, missing, selections,
                                      on_line=lambda line: print(f"    {line}", flush=True))
    if problem:
        print(f"mailwizard: {problem}", file=sys.stderr)
        return EXIT_FAILED
    return None
