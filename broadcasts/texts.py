"""A broadcast's text, filled in for each recipient: {first_name}, {name} and {account}."""

from core.replies import unknown_placeholders
from core.segments import MAX_BODY_LENGTH

PLACEHOLDERS = ("first_name", "name", "account")


def first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else ""


def render_broadcast(body: str, *, name: str, account_name: str) -> str:
    """The text one recipient gets; a contact without a name gets the placeholder empty."""
    return (
        body.replace("{first_name}", first_name(name))
        .replace("{name}", name)
        .replace("{account}", account_name)
        .strip()
    )


def body_problem(body: str, *, account_name: str, longest_name: int) -> str | None:
    """Why this text cannot go to this audience as written, or None."""
    if not body.strip():
        return "Type the message to send."
    unknown = unknown_placeholders(body, known=PLACEHOLDERS)
    if unknown:
        return (
            f"Unknown placeholder {', '.join(unknown)}: use {{first_name}}, {{name}} or "
            "{account}."
        )
    longest = len(render_broadcast(body, name="x" * longest_name, account_name=account_name))
    if longest > MAX_BODY_LENGTH:
        return (
            f"Filled in for the longest name in the audience this text is {longest:,} "
            f"characters; a message is at most {MAX_BODY_LENGTH:,}."
        )
    return None
