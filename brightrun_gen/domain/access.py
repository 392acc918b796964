"""Who may use the app once signed in: the allow-list of emails and @domains, and its check."""

from __future__ import annotations

from typing import Iterable, Mapping


def parse_allowed_signins(value: str | Iterable[str] | None) -> list[str]:
    """The allow-list as lower-case entries, from 'a@x.com, @y.org' or a list of the same.

    Each entry is a full email (`elena@example.com`) or a whole domain (`@example.com`); a
    malformed entry is refused here so that a typo never quietly locks everyone out or lets
    everyone in.
    """
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else list(value)
    entries = [str(part).strip().lower() for part in parts]
    entries = [entry for entry in entries if entry]
    for entry in entries:
        local, at, domain = entry.rpartition("@")
        if not at or not domain or "@" in local or " " in entry:
            raise ValueError(f"allowed sign-in {entry!r} is neither an email (elena@example.com) "
                             "nor a domain (@example.com)")
    return entries


def signin_refusal(allowed: Iterable[str], claims: Mapping) -> str | None:
    """Why a signed-in account may not use the app, as a sentence for that person; None if it may.

    With no allow-list everyone who signs in may. With one, the provider's `email` claim must
    match an entry exactly or by its whole domain (subdomains are other domains), and must not be
    marked unverified: anyone can type someone else's address into an account that never proved it.
    """
    entries = set(parse_allowed_signins(allowed))
    if not entries:
        return None
    email = str(claims.get("email") or "").strip().lower()
    if not email:
        who = str(claims.get("name") or claims.get("sub") or "This account").strip()
        return (f"{who} signed in without an email address, so it cannot be checked against the "
                "allowed sign-ins; sign in with an account that has one")
    if str(claims.get("email_verified", True)).strip().lower() == "false":
        return f"{email} is not verified by the sign-in provider; verify it there, then sign in again"
    local, _, domain = email.partition("@")
    if local and domain and "@" not in domain and (email in entries or f"@{domain}" in entries):
        return None
    return f"{email} is not allowed to use this app; ask the owner to add you"
