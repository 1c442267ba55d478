"""AWS errors are one readable line, even when an emulator answers a JSON service with XML."""

from __future__ import annotations

from botocore.exceptions import ClientError

from labctl.cohorts.aws_errors import error_text

XML_BODY = (
    '<?xml version="1.0" encoding="utf-8"?>\n<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code>'
    "<Message>The request signature we calculated does not match.</Message><Type>Sender</Type></Error>"
    "</Errors></ErrorResponse>"
)


def client_error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "ListFunctions")


def test_a_parsed_error_is_code_and_message():
    assert error_text(client_error("AccessDenied", "no")) == "AccessDenied: no"


def test_an_xml_body_botocore_could_not_parse_is_read_for_code_and_message():
    assert error_text(client_error("403", XML_BODY)) == (
        "SignatureDoesNotMatch: The request signature we calculated does not match."
    )


def test_other_errors_keep_their_first_line_and_whitespace_is_folded():
    assert error_text(ValueError("first\nsecond")) == "first"
    assert error_text(client_error("Throttling", "slow\n  down")) == "Throttling: slow down"
