"""The fixed split of a labelled training file into a tune fold and a check fold.

Anyone can recompute it: an item belongs to the tune fold when the first eight bytes of the
SHA-256 of its id, read as a big-endian number, leave a remainder below 70 when divided by 100
(about 70 % of the items); every other item is in the check fold. Rules and fitted weights are
tuned on the tune fold only; the check fold is looked at in aggregate, to see whether a change
holds on replies nobody tuned for.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

TUNE_PERCENT = 70


class Fold(StrEnum):
    tune = "tune"
    check = "check"


def fold_of(item_id: str) -> Fold:
    digest = hashlib.sha256(item_id.encode("utf-8")).digest()
    return Fold.tune if int.from_bytes(digest[:8], "big") % 100 < TUNE_PERCENT else Fold.check


def is_written(fields: dict) -> bool:
    """Written to cover every level (source "written"), as opposed to a real brand reply."""
    return fields.get("source") == "written"
