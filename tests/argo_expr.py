"""Argo's ``retryStrategy.expression``, evaluated as the controller does for the subset of
expr-lang (github.com/expr-lang/expr) our expression uses: ``asInt`` (argo-workflows
util/expr/env/env.go), ``in``, ``contains``, ``startsWith``, ``==``, ``!=``, ``&&``, ``||``,
``!``, with the string variables ``lastRetry.exitCode``, ``lastRetry.status`` and
``lastRetry.message`` (v3.7.18 workflow/controller/operator.go buildRetryStrategyLocalScope).
Anything else in an expression fails the translation, never passes silently.
"""

from __future__ import annotations

import re

# The operators this tiny translator knows; anything else in the expression fails the test.
_TOKENS = re.compile(r"\s*(asInt\(|lastRetry\.(?:exitCode|status|message)|'[^']*'|-?\d+|"
                     r"\|\||&&|!\(|==|!=|\bin\b|\bcontains\b|\bstartsWith\b|[()\[\],])")


_NAMES = {"lastRetry.exitCode": "exit_code", "lastRetry.status": "status",
          "lastRetry.message": "message"}


def evaluate(expression: str, exit_code: str, status: str, message: str) -> bool:
    """expr-lang semantics for the subset our expression uses, via Python."""
    out: list[str] = []
    pos = 0
    while pos < len(expression):
        match = _TOKENS.match(expression, pos)
        assert match, f"unsupported syntax at `{expression[pos:]}`"
        token = match.group(1)
        pos = match.end()
        out.append({"asInt(": "int(", "||": " or ", "&&": " and ", "!(": " not (",
                    "in": " in ", "contains": " @CONTAINS@ ",
                    "startsWith": " @STARTSWITH@ "}.get(token) or _NAMES.get(token, token))
    python = "".join(out)
    # `a contains 'b'` is `'b' in a`, `a startsWith 'b'` is `a.startswith('b')`; the
    # expression only applies them to a variable and a literal.
    python = re.sub(r"(\w+) @CONTAINS@ ('[^']*')", r"(\2 in \1)", python)
    python = re.sub(r"(\w+) @STARTSWITH@ ('[^']*')", r"\1.startswith(\2)", python)
    assert "@" not in python, python
    scope = {"int": int, "exit_code": exit_code, "status": status, "message": message}
    return bool(eval(python, {"__builtins__": {}}, scope))  # noqa: S307
