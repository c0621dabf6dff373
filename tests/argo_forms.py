"""Values exactly as Argo Workflows v3.7.18 hands them to our containers.

Written down from argoproj/argo-workflows at tags v3.7.12 and v3.7.18 (read, not copied;
these forms are the same in both); every form names the upstream file it comes from, and
Go's own encoders (strconv/quote.go, encoding/json/encode.go). Tests feed these, never our
own idea of Argo.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence

# workflow/controller/operator.go ~405-427: failures is a nil slice when nothing failed;
# json.Marshal(nil slice) is `null`, and the global is strconv.Quote(...) of that.
FAILURES_NONE = '"null"'
# operator_test.go TestStepsOnExitFailures (~4196-4214) asserts this prefix of the global:
UPSTREAM_TEST_FAILURES_PREFIX = (
    r'[{\"displayName\":\"exit-handlers\",\"message\":\"Pod failed\",'
    r'\"templateName\":\"intentional-fail\",\"phase\":\"Failed\",\"podName\":\"exit-handlers\"')
# failedNodeStatus (operator.go ~140-147): JSON field order of each failed node.
FAILED_NODE_FIELDS = ("displayName", "message", "templateName", "phase", "podName",
                      "finishedAt")
# workflow.status is the WorkflowPhase string (operator.go ~394-403).
WORKFLOW_STATUSES = ("Succeeded", "Failed", "Error")
# workflow.duration: fmt.Sprintf("%f", seconds) (operator.go ~2563), "0.000000" when unset.
DURATION_ZERO = "0.000000"


def go_json(value: object) -> str:
    """``encoding/json.Marshal`` (Go 1.22 and later, which Argo v3.7 is built with): compact;
    ``<``, ``>``, ``&``, U+2028 and U+2029 escaped as ``\\u003c``…; control characters as
    ``\\b \\f \\n \\r \\t`` or ``\\u00XX``, as Python writes them too."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def _go_printable(char: str) -> bool:
    """Go's ``unicode.IsPrint``: letters, marks, numbers, punctuation, symbols, ASCII space."""
    return char == " " or unicodedata.category(char)[0] in "LMNPS"


def go_quote(text: str) -> str:
    """``strconv.Quote``: printable runes as they are, ``\\"`` and ``\\\\``; ``\\a \\b \\f
    \\n \\r \\t \\v``; other runes below U+0020 and DEL as ``\\xNN``; other unprintable
    runes as ``\\uNNNN`` or ``\\UNNNNNNNN`` (appendEscapedRune)."""
    short = {"\a": "a", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t", "\v": "v",
             '"': '"', "\\": "\\"}
    out = ['"']
    for char in text:
        code = ord(char)
        if char in short:
            out.append("\\" + short[char])
        elif _go_printable(char):
            out.append(char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def go_duration(seconds: float) -> str:
    """``fmt.Sprintf("%f", …)``: six decimals (workflow.duration, a step's duration)."""
    return f"{seconds:f}"


def failures_global(nodes: Sequence[Mapping[str, str]]) -> str:
    """``{{workflow.failures}}`` for these failed nodes (``FAILURES_NONE`` for none)."""
    if not nodes:
        return FAILURES_NONE
    return go_quote(go_json([{k: node.get(k, "") for k in FAILED_NODE_FIELDS}
                             for node in nodes]))


def substitute(template: object, values: Mapping[str, str]) -> object:
    """Argo's parameter substitution: marshal to JSON, put each value in JSON-escaped
    (``strconv.Quote`` minus its outer quotes), unmarshal (``workflow/common/util.go``
    SubstituteParams ~223, ``util/template/simple_template.go`` ~50-58). Unknown tags stay.
    """
    text = json.dumps(template)
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", go_quote(value)[1:-1])
    return json.loads(text)
