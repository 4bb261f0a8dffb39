"""What a button asks for: the action codes carried in signed button data.

The values are the wire format. Buttons already sent to citizens carry them, and bot/notify/compose.py
packs the survey button ("sv") itself, so a value never changes: only the readable names may.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """A button's first part. Short values: button data must fit Telegram's 64 bytes with its signature."""

    FACET = "f"  # another facet of an answer card: procedure key, facet
    PICK = "p"  # a procedure picked from a list: procedure key, facet
    NONE_OF_THESE = "n"  # none of the procedures offered
    CHECKLIST = "cl"  # the document checklist of a procedure: procedure key
    CHECK_TOGGLE = "ct"  # tick or untick a document: procedure key, item index
    FIELDS = "lf"  # the list of fields (lĩnh vực)
    FIELD_PAGE = "lv"  # one page of a field's procedures: field index, page
    MENU = "m"  # a main-menu item: proc | browse | case | follow | feedback | help
    FOLLOW = "fo"  # follow a verified case: case id
    UNFOLLOW = "uf"  # stop following: case id or "all"
    FEEDBACK_CATEGORY = "gc"  # feedback category picked: category key
    FEEDBACK_SKIP_CODE = "gs"  # feedback sent without a case code
    SURVEY_START = "sv"  # the satisfaction survey, from a notification: case id
    SURVEY_SCORE = "ss"  # one criterion scored: criterion index, score 1-5
    ERASE = "xd"  # erase my data, confirmed or not: y | n
    SURVEY_SKIP_COMMENT = "sc"  # survey sent without a comment
    FULL = "fa"  # the whole card of a facet, past the short one: procedure key, facet
    SPECIAL = "sp"  # the documents of special situations: procedure key
    GUIDE = "gd"  # a situation question answered: procedure key, the option indexes so far ("*": skip)
    GUIDE_TOGGLE = "gt"  # tick a document of the fitted checklist: procedure key, option indexes, item index
    NATIONAL = "nx"  # a national procedure we have no guide for, picked from a list: its national code


def parse_action(code: str) -> Action | None:
    """The action a button's first part names; None for anything else (a button of a future or past version)."""
    try:
        return Action(code)
    except ValueError:
        return None
