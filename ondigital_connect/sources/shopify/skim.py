"""Reading a page reply's ``pageInfo`` and ``extensions`` without decoding its nodes.

When worker processes decode order pages (``workers``), this process only needs what decides
the next request: the cursor (``data.<root>.pageInfo``), the throttle status
(``extensions.cost``) and whether there are errors. GraphQL answers fields in the order the
query selects them, and our page queries select ``pageInfo`` before ``nodes``, so the cursor
sits in the first bytes of the body and ``extensions`` in the last. Any body not shaped
exactly like that (errors, other key order, whitespace we do not expect) is left to the full
decoder, so skimming can only be skipped, never wrong.
"""

from __future__ import annotations

import json
import re
from typing import Any

_DECODER = json.JSONDecoder()
#: how far into the body the ``pageInfo`` object may end (a cursor is about 100 bytes)
_PREFIX_BYTES = 2048
_TAIL_BYTES = 4096
_EXTENSIONS = b'"extensions"'
_ERRORS = b'"errors"'


def _head(root: str) -> re.Pattern[bytes]:
    return re.compile(rb'\{\s*"data"\s*:\s*\{\s*"' + re.escape(root.encode())
                      + rb'"\s*:\s*\{\s*"pageInfo"\s*:\s*')


class PageSkim:
    """Reads ``{"data": {root: {"pageInfo": ...}}, "extensions": ...}`` from a page body.

    ``read`` returns that payload (``nodes`` left out), or None when the body is not a plain
    page of ``root`` (then the caller decodes it in full).
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self._head = _head(root)

    def read(self, content: bytes) -> dict[str, Any] | None:
        """The skimmed payload, or None if the body is anything but a plain page.

        A body that mentions ``"errors"`` anywhere is never skimmed: GraphQL may send errors
        beside data, and only the full decoder raises them.
        """
        if _ERRORS in content:
            return None
        info = self._page_info(content)
        if info is None:
            return None
        extensions = self._extensions(content)
        if extensions is None:
            return None
        return {"data": {self.root: {"pageInfo": info}}, "extensions": extensions}

    def _page_info(self, content: bytes) -> dict[str, Any] | None:
        match = self._head.match(content)
        if match is None:
            return None
        head = content[match.end():match.end() + _PREFIX_BYTES].decode("utf-8", "ignore")
        try:
            info, end = _DECODER.raw_decode(head)
        except ValueError:
            return None
        rest = head[end:].lstrip()  # what follows pageInfo: more fields of the connection
        if not isinstance(info, dict) or not rest.startswith(","):
            return None
        if not isinstance(info.get("hasNextPage"), bool):
            return None
        return info

    @staticmethod
    def _extensions(content: bytes) -> dict[str, Any] | None:
        """``extensions`` when it is the body's last member (``...},"extensions":{...}}``)."""
        tail = content[-_TAIL_BYTES:]
        at = tail.rfind(_EXTENSIONS)
        if at < 0:
            return None
        before = tail[:at].rstrip()
        after = tail[at + len(_EXTENSIONS):].lstrip()
        if not before.endswith(b",") or not after.startswith(b":"):
            return None
        text = after[1:].decode("utf-8", "ignore")
        try:
            value, end = _DECODER.raw_decode(text.lstrip())
        except ValueError:
            return None
        closing = text.lstrip()[end:].strip()
        if closing != "}" or not isinstance(value, dict):
            return None
        return value
