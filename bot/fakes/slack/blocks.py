"""Block Kit as Slack enforces it: the limits that make it refuse a message or a view, and the
lookups a user's click or form submission needs.

Only the limits an app is likely to hit are checked; the error messages follow Slack's
"[ERROR] … [json-pointer:/blocks/0/text/text]" form so a failing test reads like production.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bot.fakes.slack.errors import SlackError

MAX_MESSAGE_TEXT = 40_000
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_BUTTON_TEXT = 75
MAX_ID_LENGTH = 255

KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
# (block type, path to a text inside the block, maximum characters)
_TEXT_LIMITS = (
    ("section", ("text", "text"), 3000),
    ("header", ("text", "text"), 150),
    ("input", ("label", "text"), 2000),
    ("input", ("hint", "text"), 2000),
    ("markdown", ("text",), 12_000),
)
# (block type, list field, maximum items, maximum characters of each item's text)
_LIST_LIMITS = (
    ("section", "fields", 10, 2000),
    ("context", "elements", 10, None),
    ("actions", "elements", 25, None),
)


def validate_message(
    text: str | None, blocks: Sequence[Any] | None, attachments: Sequence[Any] | None
) -> None:
    """Raise the error chat.postMessage/chat.update would answer for this content."""
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    if text and len(text) > MAX_MESSAGE_TEXT:
        raise SlackError("msg_too_long")
    if blocks is not None:
        problems = _block_problems(blocks, MAX_MESSAGE_BLOCKS, "/blocks")
        if problems:
            raise SlackError("invalid_blocks", problems)


def validate_view(view: Any, *, expected_type: str) -> None:
    """Raise the error views.open/update/push/publish would answer for this view."""
    if not isinstance(view, Mapping) or view.get("type") != expected_type:
        raise SlackError("invalid_arguments", [f"[ERROR] view.type must be {expected_type}"])
    problems = _block_problems(view.get("blocks", []), MAX_VIEW_BLOCKS, "/view/blocks")
    for name in ("title", "submit", "close"):
        if len(_text_of(view.get(name))) > MAX_VIEW_TITLE:
            problems.append(_too_long(MAX_VIEW_TITLE, f"/view/{name}/text"))
    if expected_type == "modal" and not _text_of(view.get("title")):
        problems.append("[ERROR] missing required field: title [json-pointer:/view]")
    if len(view.get("private_metadata", "")) > MAX_PRIVATE_METADATA:
        problems.append(_too_long(MAX_PRIVATE_METADATA, "/view/private_metadata"))
    if problems:
        raise SlackError("invalid_arguments", problems)


def find_element(blocks: Sequence[Mapping[str, Any]], action_id: str) -> tuple[str, dict[str, Any]]:
    """The (block_id, element) a user can interact with, by the element's action_id."""
    for block_id, element in _interactive_elements(blocks):
        if element.get("action_id") == action_id:
            return block_id, dict(element)
    raise LookupError(f"no interactive element with action_id {action_id!r} in these blocks")


def input_state(
    blocks: Sequence[Mapping[str, Any]], values: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """A view's `state.values` after a user filled its inputs, keyed by action_id in `values`.

    A value is what the user typed or picked: text for text and number inputs, an option value
    for selects and radio buttons, a list of option values for checkboxes and multi-selects,
    a user, channel or conversation id for those pickers, "YYYY-MM-DD" for a date picker.
    """
    state: dict[str, dict[str, Any]] = {}
    unknown = set(values)
    for block_id, element in _interactive_elements(blocks):
        action_id = element.get("action_id", "")
        if action_id in values:
            state.setdefault(block_id, {})[action_id] = _element_state(element, values[action_id])
            unknown.discard(action_id)
    if unknown:
        raise LookupError(f"no input with action_id {sorted(unknown)} in this view")
    return state


def element_action(element: Mapping[str, Any], value: Any) -> dict[str, Any]:
    """The `actions[0]` of a block_actions payload, less ids, when a user uses `element`.

    A button sends its own value; other elements send what the user picked, as in `input_state`.
    """
    if element.get("type") == "button":
        action = {"type": "button", "text": element.get("text"), "value": element.get("value")}
        return {key: item for key, item in action.items() if item is not None}
    if element.get("type") == "overflow":
        return {"type": "overflow", "selected_option": _option(element, value)}
    return _element_state(element, value)


def _block_problems(blocks: Any, max_blocks: int, pointer: str) -> list[str]:
    if not isinstance(blocks, list):
        return [f"[ERROR] must be an array [json-pointer:{pointer}]"]
    if len(blocks) > max_blocks:
        return [f"[ERROR] no more than {max_blocks} items allowed [json-pointer:{pointer}]"]
    problems: list[str] = []
    seen_block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"{pointer}/{index}"
        if not isinstance(block, Mapping) or block.get("type") not in KNOWN_BLOCK_TYPES:
            problems.append(f"[ERROR] unsupported block type [json-pointer:{where}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen_block_ids:
                problems.append(f"[ERROR] duplicate block_id [json-pointer:{where}/block_id]")
            elif len(block_id) > MAX_ID_LENGTH:
                problems.append(_too_long(MAX_ID_LENGTH, f"{where}/block_id"))
            seen_block_ids.add(block_id)
        problems.extend(_single_block_problems(block, where))
    return problems


def _single_block_problems(block: Mapping[str, Any], where: str) -> Iterator[str]:
    block_type = block["type"]
    for limited_type, path, limit in _TEXT_LIMITS:
        text = _dig(block, path)
        if limited_type == block_type and isinstance(text, str) and len(text) > limit:
            yield _too_long(limit, f"{where}/{'/'.join(path)}")
    for limited_type, name, max_items, max_text in _LIST_LIMITS:
        items = block.get(name) if limited_type == block_type else None
        if not items:
            continue
        if len(items) > max_items:
            yield f"[ERROR] no more than {max_items} items allowed [json-pointer:{where}/{name}]"
        for index, item in enumerate(items):
            if max_text is not None and len(_text_of(item)) > max_text:
                yield _too_long(max_text, f"{where}/{name}/{index}/text")
    if block_type == "header" and _dig(block, ("text", "type")) != "plain_text":
        yield f"[ERROR] must be plain_text [json-pointer:{where}/text/type]"
    if block_type == "section" and not block.get("text") and not block.get("fields"):
        yield f"[ERROR] must provide either text or fields [json-pointer:{where}]"
    for index, element in enumerate(_elements_of(block)):
        if element.get("type") == "button" and len(_text_of(element.get("text"))) > MAX_BUTTON_TEXT:
            yield _too_long(MAX_BUTTON_TEXT, f"{where}/elements/{index}/text/text")


def _interactive_elements(
    blocks: Sequence[Mapping[str, Any]],
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for block in blocks:
        # Slack gives blocks without a block_id a generated one; theirs is random, ours stable.
        block_id = block.get("block_id") or f"block-{block.get('type')}"
        for element in _elements_of(block):
            if "action_id" in element:
                yield block_id, element


def _elements_of(block: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if block.get("type") == "actions":
        return list(block.get("elements", []))
    if block.get("type") == "input":
        return [block["element"]] if "element" in block else []
    if block.get("type") == "section" and "accessory" in block:
        return [block["accessory"]]
    return []


def _element_state(element: Mapping[str, Any], value: Any) -> dict[str, Any]:
    element_type = element.get("type", "")
    state: dict[str, Any] = {"type": element_type}
    if element_type in ("static_select", "radio_buttons", "external_select"):
        state["selected_option"] = _option(element, value)
    elif element_type in ("checkboxes", "multi_static_select", "multi_external_select"):
        state["selected_options"] = [_option(element, item) for item in value]
    elif element_type in ("users_select", "conversations_select", "channels_select"):
        state[f"selected_{element_type.removesuffix('s_select')}"] = value
    elif element_type in ("multi_users_select", "multi_conversations_select"):
        kind = element_type.removeprefix("multi_").removesuffix("s_select")
        state[f"selected_{kind}s"] = list(value)
    elif element_type == "datepicker":
        state["selected_date"] = value
    else:  # plain_text_input, number_input, email_text_input, url_text_input
        state["value"] = value
    return state


def _option(element: Mapping[str, Any], value: str) -> dict[str, Any]:
    options = list(element.get("options", []))
    for group in element.get("option_groups", []):
        options.extend(group.get("options", []))
    for option in options:
        if option.get("value") == value:
            return dict(option)
    raise LookupError(f"{element.get('action_id')!r} has no option with value {value!r}")


def _dig(obj: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _text_of(text_object: Any) -> str:
    if isinstance(text_object, Mapping):
        return str(text_object.get("text", ""))
    return ""


def _too_long(limit: int, pointer: str) -> str:
    return f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}]"
