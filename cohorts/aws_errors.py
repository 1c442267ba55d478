"""AWS errors as one readable line, whatever the endpoint sent back."""

from __future__ import annotations

import re

from botocore.exceptions import ClientError

XML_FIELD = re.compile(r"<(Code|Message)>([^<]*)</\1>")


def error_text(exc: Exception) -> str:
    """`Code: Message` of a ClientError on one line; an XML error body that botocore could not parse
    (an emulator answering a JSON service with XML) is read for its Code and Message."""
    if not isinstance(exc, ClientError):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    error = exc.response.get("Error", {})
    code, message = str(error.get("Code", "error")), str(error.get("Message", ""))
    fields = dict(XML_FIELD.findall(message))
    if fields:
        code, message = fields.get("Code", code), fields.get("Message", "")
    return " ".join(f"{code}: {message}".rstrip(": ").split())
