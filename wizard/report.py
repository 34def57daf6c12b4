"""The walk as one document: every step, what it changed, every probe with its transcript and
its expected and actual outcome, the errata met, timings, versions and the answers — never a
password or a hash. Markdown for a code forge, or one self-contained HTML file (no external
reference: it reads offline and prints well)."""

from __future__ import annotations

import html
import re
import time

from wizard.engine import LESSONS_ELSEWHERE, Engine
from wizard.statuses import audit_status, probe_status


def _answers_lines(engine: Engine) -> list[tuple[str, str]]:
    a = engine.answers
    return [("mail domain", a.maildomain), ("mail server", a.fqdn),
            ("mailboxes", ", ".join(u.address for u in a.users) or "none"),
            ("outside address", a.external_address),
            ("outside vantage point", _vantage_used(engine))]


def _vantage_used(engine: Engine) -> str:
    """The vantage point the walk's probes used (in the lab, its outside namespace), and the
    name the server saw it by: what the walk recorded, not what a later session would guess."""
    seen = engine.state.outside
    if not seen.get("vantage"):
        return engine.values().get("vantage") or engine.answers.vantage
    if seen.get("given"):
        return f"{seen['vantage']}, greeting as {seen['name']} ({seen['found']})"
    if seen.get("name") and seen.get("proper"):
        return f"{seen['vantage']}, seen as {seen['name']} ({seen['address']}; PTR and A agree)"
    return f"{seen['vantage']} ({seen.get('found', 'its name was not learned')})"


def _steps(engine: Engine):
    """Each step as the faces show it (the engine's view), with its record and its time."""
    for row in engine.views():
        record = engine.state.steps.get(row.step.id, {})
        started, finished = record.get("started"), record.get("finished")
        seconds = f"{finished - started:.2f} s" if started and finished else ""
        yield row.step, row.status, record, seconds, row.title


def _diffs(engine: Engine, step) -> list[str]:
    """What the step changed: the difference between the renders before and after it."""
    from wizard.config import is_secret, managed_paths
    from wizard.outcomes import unified_diff

    k = engine.index(step.id) + 1
    out = []
    for path in managed_paths(engine.steps[:k]):
        before, after = engine.render(path, k - 1), engine.render(path, k)
        if after is not None and before != after:
            out.append(_without_secrets(engine, unified_diff(path, before, after, is_secret(path, engine.steps))))
    return out


def _without_secrets(engine: Engine, text: str) -> str:
    for user in engine.answers.users:
        for secret in {user.password_hash, user.password_hash.split("}", 1)[-1], user.password}:
            if secret:
                text = text.replace(secret, "(password hash, not shown)")
    for secret in engine.secrets():
        text = text.replace(secret, "(secret, not shown)")
    return text


def _followed(engine: Engine, probe: dict) -> str:
    """For a failed probe whose mail was queued: `why`'s verdict on that queue id."""
    if probe.get("status") != "failed":
        return ""
    queued = next((m.group(1) for line in probe.get("transcript", [])
                   for m in [re.search(r"queued as ([0-9A-Za-z]+)", line)] if m), "")
    if not queued:
        return ""
    found, _, _ = engine.why(queued)
    return found.verdict if found else ""


def _certificate_lines(facts) -> list[tuple[str, str]]:
    return [("for", facts.subject), ("issued by", facts.issuer), ("serial", facts.serial),
            ("valid until", f"{facts.not_after} ({facts.days_left} days left; certbot renews it)")]


def _verdicts(engine: Engine) -> list[str]:
    """What the receiving side said about the walk's mail (the lab's strict receiver)."""
    return [f"{step_id}/{probe['id']}: {line.split(') ', 1)[-1]}"
            for step_id, record in engine.state.steps.items() for probe in record.get("probes", [])
            for line in probe.get("transcript", []) if "verdict)" in line]


def _audit_lines(engine: Engine) -> tuple[str, list[str]]:
    """The last `mailwizard audit`: when and from where, its summary, and every row not passed."""
    audit = engine.last_audit()
    if audit is None:
        return "", []
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(audit.started))
    head = f"{when}, from {audit.target.via}: {audit.summary()}"
    rows = [f"[{audit_status(r.status).word}] {r.id}: {r.found}" + (f" — fix: {r.fix}" if r.fix else "")
            for r in audit.rows if r.status != "passed"]
    return head, rows or ["every row passed"]


def markdown(engine: Engine) -> str:
    out = [f"# mailwizard walk: {engine.answers.fqdn}", "",
           f"{engine.platform.describe()}; report made {time.strftime('%Y-%m-%d %H:%M')}", "", "## Answers", ""]
    out += [f"- {name}: `{value}`" for name, value in _answers_lines(engine)]
    closing = engine.closing_notes()
    if closing:
        out += ["", "## For mail clients", "", "```", *closing, "```"]
    records = engine.zone_lines()
    if records:
        out += ["", "## DNS records to publish", "", "```", *records, "```"]
    certificate = engine.certificate()
    if certificate:
        out += ["", "## The certificate the server serves", "", *[f"- {name}: {value}" for name, value in
                                                                 _certificate_lines(certificate)]]
    verdicts = _verdicts(engine)
    if verdicts:
        out += ["", "## What the receiver said", "", *[f"- `{line}`" for line in verdicts]]
    audited, findings = _audit_lines(engine)
    if audited:
        out += ["", "## The last audit (`mailwizard audit`)", "", audited, "", *[f"- {line}" for line in findings]]
    for step, status, record, seconds, title in _steps(engine):
        out += ["", f"## {step.id} — {title}", "", f"Status: **{status}**" + (f" ({seconds})" if seconds else "")]
        if record.get("message"):
            out.append(f"\n{record['message']}")
        passed = engine.lessons_gone_past(step)
        if passed:
            out += ["", f"Lessons this path went past: {LESSONS_ELSEWHERE}", "", *[f"- {line}" for line in passed]]
        for erratum in engine.errata(step):
            out.append(f"\n> {erratum.ref}: {erratum.text}")
        for diff in _diffs(engine, step):
            out += ["", "```diff", diff.rstrip(), "```"]
        for probe in record.get("probes", []):
            out += ["", f"### {probe['id']}: {probe['title']} — {probe_status(probe['status']).report}", "",
                    f"- expected: {probe['expected']}", f"- got: {probe.get('actual') or '—'}"]
            if probe.get("reason"):
                out.append(f"- why: {probe['reason']}")
            followed = _followed(engine, probe)
            if followed:
                out.append(f"- what became of the mail (`mailwizard why`): {followed}")
            if probe.get("transcript"):
                out += ["", "```", *probe["transcript"], "```"]
    return _without_secrets(engine, "\n".join(out) + "\n")


CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{border-bottom:2px solid #444}h2{margin-top:2.5rem;border-bottom:1px solid #bbb}
pre{background:#f4f4f4;padding:.6rem;overflow-x:auto;font-size:.85rem;white-space:pre-wrap}
.met{color:#176c2c}.failed{color:#b00020}.inconclusive,.not-run{color:#8a6d00}
.erratum{border-left:4px solid #c90;padding-left:.6rem;color:#555}
@media print{pre{page-break-inside:avoid}h2{page-break-after:avoid}}"""


def html_report(engine: Engine) -> str:
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>mailwizard walk: {e(engine.answers.fqdn)}</title><style>{CSS}</style></head><body>",
           f"<h1>mailwizard walk: {e(engine.answers.fqdn)}</h1>",
           f"<p>{e(engine.platform.describe())}; report made {time.strftime('%Y-%m-%d %H:%M')}</p>",
           "<h2>Answers</h2><ul>"]
    out += [f"<li>{e(name)}: <code>{e(value)}</code></li>" for name, value in _answers_lines(engine)]
    out.append("</ul>")
    closing = engine.closing_notes()
    if closing:
        out += ["<h2>For mail clients</h2>", f"<pre>{e(chr(10).join(closing))}</pre>"]
    records = engine.zone_lines()
    if records:
        out += ["<h2>DNS records to publish</h2>", f"<pre>{e(chr(10).join(records))}</pre>"]
    certificate = engine.certificate()
    if certificate:
        out += ["<h2>The certificate the server serves</h2><ul>"] + [
            f"<li>{e(name)}: {e(value)}</li>" for name, value in _certificate_lines(certificate)] + ["</ul>"]
    verdicts = _verdicts(engine)
    if verdicts:
        out += ["<h2>What the receiver said</h2><ul>"] + [f"<li><code>{e(v)}</code></li>" for v in verdicts] + ["</ul>"]
    audited, findings = _audit_lines(engine)
    if audited:
        out += ["<h2>The last audit (<code>mailwizard audit</code>)</h2>", f"<p>{e(audited)}</p><ul>"] + [
            f"<li>{e(line)}</li>" for line in findings] + ["</ul>"]
    for step, status, record, seconds, title in _steps(engine):
        out.append(f'<h2 id="{e(step.id)}">{e(step.id)} — {e(title)}</h2>')
        out.append(f"<p>Status: <strong>{e(status)}</strong>{e(' (' + seconds + ')' if seconds else '')}</p>")
        if record.get("message"):
            out.append(f"<p>{e(record['message'])}</p>")
        passed = engine.lessons_gone_past(step)
        if passed:
            out += [f"<p>Lessons this path went past: {e(LESSONS_ELSEWHERE)}</p><ul>",
                    *[f"<li>{e(line)}</li>" for line in passed], "</ul>"]
        out += [f'<p class="erratum">{e(x.ref)}: {e(x.text)}</p>' for x in engine.errata(step)]
        out += [f"<pre>{e(diff)}</pre>" for diff in _diffs(engine, step)]
        for probe in record.get("probes", []):
            out.append(f'<h3 class="{e(probe["status"])}">{e(probe["id"])}: {e(probe["title"])} — '
                       f'{e(probe_status(probe["status"]).report)}</h3>')
            out.append(f"<p>expected: {e(probe['expected'])}<br>got: {e(probe.get('actual') or '—')}"
                       + (f"<br>why: {e(probe['reason'])}" if probe.get("reason") else "")
                       + (f"<br>what became of the mail: {e(followed)}" if (followed := _followed(engine, probe)) else "")
                       + "</p>")
            if probe.get("transcript"):
                out.append(f"<pre>{e(chr(10).join(probe['transcript']))}</pre>")
    out.append("</body></html>")
    return _without_secrets(engine, "\n".join(out) + "\n")
