"""What the conversation decided for one event, beside its replies: the scripted conversations (`tthc-bot
converse`) and the tests read it rather than running the matcher again."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.replies.events import Reply


@dataclass(frozen=True)
class Turn:
    """`intent` is the matcher's (procedure, case_status, greeting, thanks, help, feedback, out_of_scope) or, for
    what is not free text, command, button, flood, error, unsupported. `procedure` is the curated id answered (or
    offered first, when `confident` is false), `code` its national code."""

    intent: str
    procedure: str | None = None
    code: str | None = None
    facet: str | None = None
    confident: bool = True


@dataclass(frozen=True)
class Answered:
    replies: list[Reply]
    turn: Turn = field(default_factory=lambda: Turn("unknown"))
