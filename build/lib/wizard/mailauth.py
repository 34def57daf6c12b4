"""DKIM, SPF and DMARC as the wizard states and checks them: the records a zone publishes, and
the verdict on a signed message. The cryptography and the parsing are dkimpy's, not ours."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

TxtLookup = Callable[[bytes], bytes | None]


def dkim_record_text(public_key_b64: str) -> str:
    """The TXT value of SELECTOR._domainkey.DOMAIN for an RSA key."""
    return f"v=DKIM1; k=rsa; p={public_key_b64}"


def zone_strings(text: str, width: int = 255) -> str:
    """A TXT value as zone-file strings of at most 255 characters each (RFC 1035's limit for one
    string; a 2048-bit key is longer), which resolvers join back into one value."""
    pieces = [text[i:i + width] for i in range(0, len(text), width)] or [""]
    return " ".join(f'"{piece}"' for piece in pieces)


def dkim_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}"


@dataclass(frozen=True)
class DkimVerdict:
    ok: bool
    domain: str = ""
    selector: str = ""
    why: str = ""

    def describe(self) -> str:
        if self.ok:
            return f"DKIM-Signature d={self.domain} s={self.selector} verifies"
        where = f" (d={self.domain} s={self.selector})" if self.domain else ""
        return f"DKIM signature does not verify{where}: {self.why}"


def verify_dkim(message: bytes, lookup: TxtLookup | None = None) -> DkimVerdict:
    """The first DKIM-Signature of `message`, checked against the record `lookup` gives for its
    selector (the resolver's, when no lookup is given)."""
    import dkim

    signer = dkim.DKIM(message, minkey=1024)
    if not any(name.lower() == b"dkim-signature" for name, _ in signer.headers):
        return DkimVerdict(False, why="the message has no DKIM-Signature header (nobody signed it)")
    try:
        ok = signer.verify(dnsfunc=lookup) if lookup else signer.verify()
    except dkim.DKIMException as exc:
        return DkimVerdict(False, why=str(exc))
    domain = (signer.domain or b"").decode(errors="replace")
    selector = (signer.selector or b"").decode(errors="replace")
    return DkimVerdict(bool(ok), domain, selector,
                       "" if ok else "the signature does not match the message and the key")


def key_lookup(selector: str, domain: str, record: str) -> TxtLookup:
    """A lookup that knows one record: `record` for SELECTOR._domainkey.DOMAIN, nothing else."""
    wanted = dkim_name(selector, domain).lower().rstrip(".")

    def lookup(name: bytes, timeout: float = 5) -> bytes | None:
        asked = name.decode(errors="replace").lower().rstrip(".")
        return record.encode() if asked == wanted else None

    return lookup


# ---- records as the zone holds them -----------------------------------------------------------

def zone_line(name: str, rdtype: str, value: str, ttl: int = 3600) -> str:
    """One zone-file line, ready to paste at a DNS provider."""
    data = zone_strings(value) if rdtype == "TXT" else value
    return f"{name}. {ttl} IN {rdtype} {data}"


def _tags(value: str) -> dict[str, str]:
    """A DKIM or DMARC record's tag=value list (RFC 6376 3.2), blanks removed."""
    tags = {}
    for part in value.split(";"):
        if "=" in part:
            key, _, tag_value = part.partition("=")
            tags[key.strip().lower()] = "".join(tag_value.split())
    return tags


def _kind(value: str) -> str:
    head = value.strip().split(";")[0].split()[0].lower() if value.strip() else ""
    return head if head in ("v=spf1", "v=dkim1", "v=dmarc1") else ""


def same_record(rdtype: str, have: str, want: str) -> bool:
    if rdtype != "TXT":
        return have.lower().rstrip(".") == want.lower().rstrip(".")
    if _kind(want) in ("v=dkim1", "v=dmarc1"):
        wanted = _tags(want)
        return _kind(have) == _kind(want) and all(_tags(have).get(k) == v for k, v in wanted.items())
    return " ".join(have.split()).lower() == " ".join(want.split()).lower()


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else f"{text[:28]}…{text[-28:]}"


def record_difference(rdtype: str, found: list[str], want: str) -> str:
    """How the published record of the same kind differs from the wanted one ("" when none is
    published). Other TXT records at the name (site verifications...) are not ours to judge."""
    kind = _kind(want) if rdtype == "TXT" else ""
    ours = [have for have in found if _kind(have) == kind] if kind else list(found)
    if not ours:
        return ""
    have = ours[0]
    if kind in ("v=dkim1", "v=dmarc1"):
        published = _tags(have)
        parts = [f"{key}= is {_short(published[key]) if key in published else 'missing'}, "
                 f"expected {_short(value)}"
                 for key, value in _tags(want).items() if published.get(key) != value]
        return "; ".join(parts)
    if kind == "v=spf1" and len(ours) > 1:
        return f"{len(ours)} SPF records at one name (receivers then ignore both): {'; '.join(ours)}"
    return f"{_short(have)} (expected {_short(want)})"
