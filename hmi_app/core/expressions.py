"""Safe expressions over tag values, for screen bindings such as ``line1.filler.speed > 0``.

The text is parsed with :mod:`ast` and only a whitelist of node kinds is accepted; the tree is
compiled into a tree of small closures, so nothing of the user's text is ever ``eval``-ed. A dotted
name (``line1.tank.level``) is one tag name, never an attribute access. Allowed: numbers, strings,
``True``/``False``, tag names, ``+ - * / // %`` and unary ``-``/``+``, comparisons (chained too,
``in``/``not in`` with a literal tuple), ``and``/``or``/``not`` (always giving ``True``/``False``),
``x if c else y`` and the functions abs, min, max, round, int, float, bool and str.
"""

from __future__ import annotations

import ast
import io
import keyword
import operator
import re
import tokenize
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal, NoReturn

ResultKind = Literal["bool", "number", "string", "any"]
Evaluator = Callable[[Mapping[str, Any]], Any]

MAX_LENGTH: Final = 500
"""Longest expression text accepted (characters)."""
MAX_DEPTH: Final = 50
"""Deepest nesting of operations accepted."""
MAX_SEQUENCE: Final = 10_000
"""Longest string (or tuple) a ``*`` may build, so one expression cannot eat the memory."""
MAX_ROUND_DIGITS: Final = 20
_TOO_DEEP: Final = f"expression nested too deeply (more than {MAX_DEPTH} operations in one another)"

# the project's tag name rule (hmi_app.core.project.model.TAG_NAME), kept here so this module
# depends on nothing else
_TAG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_CONSTANT_WORDS = frozenset({"True", "False", "None"})


class ExpressionError(ValueError):
    """An expression that is not allowed, does not parse, or fails when evaluated.

    ``str(exc)`` is a one-line message for the user; ``offset`` is the 0-based character position
    of the problem in the expression text.
    """

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def is_tag_reference(text: str) -> bool:
    """True for a plain dotted tag name like ``line1.filler.speed`` (no spaces, no operators)."""
    return bool(_TAG_NAME.fullmatch(text)) and text not in _CONSTANT_WORDS


# ---- evaluation helpers ---------------------------------------------------------------------
def _mul(a: Any, b: Any) -> Any:
    # a repeated string or tuple is the one way a short expression could build a huge value
    if isinstance(a, int) and isinstance(b, str | tuple | list | bytes):
        a, b = b, a
    if (
        isinstance(a, str | tuple | list | bytes)
        and isinstance(b, int)
        and len(a) * b > MAX_SEQUENCE
    ):
        raise ValueError(f"result longer than {MAX_SEQUENCE} items")
    return a * b


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, str | bytes):
        raise TypeError("'%' formatting of text is not allowed; use str() and +")
    return a % b


def _round(value: Any, ndigits: Any = None) -> Any:
    if ndigits is None:
        return round(value)
    if not isinstance(ndigits, int) or abs(ndigits) > MAX_ROUND_DIGITS:
        raise ValueError(f"round() digits must be a whole number within ±{MAX_ROUND_DIGITS}")
    return round(value, ndigits)


_BINARY: Final[dict[type[ast.operator], Callable[[Any, Any], Any]]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: _mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: _mod,
}
_NO_CONSTANT: Final = object()
_COMPARE: Final[dict[type[ast.cmpop], Callable[[Any, Any], Any]]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
# name -> (function, fewest arguments, most arguments (None: any), result kind (None: of args))
_FUNCTIONS: Final[dict[str, tuple[Callable[..., Any], int, int | None, ResultKind | None]]] = {
    "abs": (abs, 1, 1, "number"),
    "min": (min, 1, None, None),
    "max": (max, 1, None, None),
    "round": (_round, 1, 2, "number"),
    "int": (int, 1, 1, "number"),
    "float": (float, 1, 1, "number"),
    "bool": (bool, 1, 1, "bool"),
    "str": (str, 1, 1, "string"),
}
_NOT_ALLOWED: Final[dict[type[ast.AST], str]] = {
    ast.Subscript: "indexing with [...]",
    ast.Slice: "slices",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "generator expressions",
    ast.NamedExpr: "assignment (:=)",
    ast.JoinedStr: "f-strings",
    ast.Dict: "dictionaries",
    ast.Set: "sets",
    ast.List: "lists (a list is only allowed after 'in')",
    ast.Tuple: "tuples (a tuple is only allowed after 'in')",
    ast.Starred: "starred arguments (*)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}
_OPERATOR_WORDS: Final[dict[type[ast.AST], str]] = {
    ast.Pow: "the ** operator",
    ast.LShift: "the << operator",
    ast.RShift: "the >> operator",
    ast.BitAnd: "the & operator",
    ast.BitOr: "the | operator",
    ast.BitXor: "the ^ operator",
    ast.MatMult: "the @ operator",
    ast.Invert: "the ~ operator",
    ast.Is: "'is' (use ==)",
    ast.IsNot: "'is not' (use !=)",
}


def _binop_kind(op: ast.operator, left: ResultKind, right: ResultKind) -> ResultKind:
    if isinstance(op, ast.Add | ast.Mult) and "string" in (left, right):
        return "string"
    return "number"


def _common_kind(kinds: Sequence[ResultKind]) -> ResultKind:
    """Kind of a value that is one of several (if/else branches, min/max arguments): a tag's
    value is taken to be of the kind of the known ones (``min(a.x, 100)`` is a number)."""
    known = {kind for kind in kinds if kind != "any"}
    return known.pop() if len(known) == 1 else "any"


class _Compiler:
    """Turns a checked syntax tree into closures, collecting tag names and the result kind."""

    def __init__(
        self, text: str, source: str, lead: int, keyword_parts: dict[tuple[int, int], str]
    ) -> None:
        self.text = text  # the user's text without leading blanks
        self.source = source  # the same with keyword parts of tag names swapped for "_"s
        self.lead = lead  # characters of leading blanks cut off before parsing
        self.lines = source.splitlines(keepends=True) or [""]
        self.keyword_parts = keyword_parts
        self.tags: dict[str, int] = {}  # name -> offset of first use

    # ---- positions and errors ----
    def offset(self, node: ast.AST) -> int:
        """0-based character offset of ``node`` in the user's text."""
        lineno: int = getattr(node, "lineno", 1)
        col: int = getattr(node, "col_offset", 0)
        return self.char_offset(lineno, col, in_bytes=True)

    def char_offset(self, lineno: int, col: int, *, in_bytes: bool) -> int:
        before = sum(len(line) for line in self.lines[: lineno - 1])
        line = self.lines[lineno - 1] if lineno - 1 < len(self.lines) else ""
        if in_bytes:  # ast columns count UTF-8 bytes
            col = len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))
        return self.lead + before + col

    def fail(self, message: str, node: ast.AST) -> NoReturn:
        offset = self.offset(node)
        raise ExpressionError(f"{message} (at character {offset + 1})", offset)

    def not_allowed(self, what: str, node: ast.AST) -> NoReturn:
        self.fail(f"not allowed: {what}", node)

    def operator_at(self, left: ast.AST) -> ast.AST:
        """A stand-in node at the operator that follows ``left`` (past closing brackets), so an
        error about an operator points at the operator, not at the start of its left operand."""
        lineno: int = getattr(left, "end_lineno", None) or 1
        line = self.lines[lineno - 1]
        end: int = getattr(left, "end_col_offset", None) or 0
        col = len(line.encode("utf-8")[:end].decode("utf-8", "ignore"))
        while col < len(line) and line[col] in " \t)":
            col += 1
        marker = ast.Constant(None)
        marker.lineno = lineno
        marker.col_offset = len(line[:col].encode("utf-8"))
        return marker

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or self.text.strip()

    # ---- nodes ----
    def compile(self, node: ast.AST, depth: int = 0) -> tuple[Evaluator, ResultKind]:
        if depth >= MAX_DEPTH:
            self.fail(
                _TOO_DEEP,
                node,
            )
        depth += 1
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name | ast.Attribute):
            return self.tag(node)
        if isinstance(node, ast.BinOp):
            return self.binop(node, depth)
        if isinstance(node, ast.UnaryOp):
            return self.unaryop(node, depth)
        if isinstance(node, ast.BoolOp):
            return self.boolop(node, depth)
        if isinstance(node, ast.Compare):
            return self.compare(node, depth)
        if isinstance(node, ast.IfExp):
            return self.ifexp(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        self.not_allowed(_NOT_ALLOWED.get(type(node), type(node).__name__), node)

    def constant(self, node: ast.Constant) -> tuple[Evaluator, ResultKind]:
        value = node.value
        kind: ResultKind
        if isinstance(value, bool):
            kind = "bool"
        elif isinstance(value, int | float):
            kind = "number"
        elif isinstance(value, str):
            kind = "string"
        else:
            self.not_allowed(f"the constant {self.segment(node)}", node)
        return (lambda values: value), kind

    def tag_name(self, node: ast.AST) -> str:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            end = (node.end_lineno or 1, node.end_col_offset or 0)
            parts.append(self.keyword_parts.get(end, node.attr))
            node = node.value
        if not isinstance(node, ast.Name):
            self.not_allowed(f"attributes of {self.segment(node)} (only of tag names)", node)
        parts.append(node.id)
        for part in parts:
            if part.startswith("__") or part.endswith("__"):
                self.not_allowed(f"the name {part!r}", node)
        return ".".join(reversed(parts))

    def tag(self, node: ast.Name | ast.Attribute) -> tuple[Evaluator, ResultKind]:
        name = self.tag_name(node)
        if name in _FUNCTIONS:
            self.fail(f"the function {name!r} needs (...)", node)
        self.tags.setdefault(name, self.offset(node))
        return (lambda values: values[name]), "any"

    def guarded(self, node: ast.AST, fn: Evaluator) -> Evaluator:
        """``fn`` with Python's runtime errors turned into ExpressionError at ``node``."""
        offset = self.offset(node)
        where = self.segment(node)

        def run(values: Mapping[str, Any]) -> Any:
            try:
                return fn(values)
            except ExpressionError:
                raise
            except KeyError as exc:
                raise ExpressionError(f"no value for tag {exc.args[0]!r}", offset) from None
            except ZeroDivisionError:
                raise ExpressionError(f"division by zero in {where}", offset) from None
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise ExpressionError(f"{exc} (in {where})", offset) from None

        return run

    def binop(self, node: ast.BinOp, depth: int) -> tuple[Evaluator, ResultKind]:
        func = _BINARY.get(type(node.op))
        if func is None:
            word = _OPERATOR_WORDS.get(type(node.op), type(node.op).__name__)
            self.not_allowed(word, self.operator_at(node.left))
        left, lkind = self.compile(node.left, depth)
        right, rkind = self.compile(node.right, depth)
        constant = node.right.value if isinstance(node.right, ast.Constant) else _NO_CONSTANT
        return self.apply2(node, func, left, right, constant), _binop_kind(node.op, lkind, rkind)

    def apply2(
        self,
        node: ast.AST,
        func: Callable[[Any, Any], Any],
        left: Evaluator,
        right: Evaluator,
        constant: Any,
    ) -> Evaluator:
        """``func(left, right)``; a constant right side is folded in (``a.b > 0`` is then one
        call less, which is most of its cost)."""
        if constant is not _NO_CONSTANT:
            return self.guarded(node, lambda values: func(left(values), constant))
        return self.guarded(node, lambda values: func(left(values), right(values)))

    def unaryop(self, node: ast.UnaryOp, depth: int) -> tuple[Evaluator, ResultKind]:
        operand, _ = self.compile(node.operand, depth)
        if isinstance(node.op, ast.Not):
            return (lambda values: not operand(values)), "bool"
        if isinstance(node.op, ast.USub):
            return self.guarded(node, lambda values: -operand(values)), "number"
        if isinstance(node.op, ast.UAdd):
            return self.guarded(node, lambda values: +operand(values)), "number"
        self.not_allowed(_OPERATOR_WORDS.get(type(node.op), type(node.op).__name__), node)

    def boolop(self, node: ast.BoolOp, depth: int) -> tuple[Evaluator, ResultKind]:
        parts = tuple(self.compile(value, depth)[0] for value in node.values)
        if len(parts) == 2:
            first, second = parts
            if isinstance(node.op, ast.And):
                return (lambda values: bool(first(values)) and bool(second(values))), "bool"
            return (lambda values: bool(first(values)) or bool(second(values))), "bool"
        if isinstance(node.op, ast.And):
            return (lambda values: all(part(values) for part in parts)), "bool"
        return (lambda values: any(part(values) for part in parts)), "bool"

    def literal_tuple(self, node: ast.AST) -> tuple[Any, ...]:
        if not isinstance(node, ast.Tuple | ast.List):
            self.fail(f"'in' needs a literal tuple like (1, 3), not {self.segment(node)}", node)
        items: list[Any] = []
        for element in node.elts:
            inner = element.operand if isinstance(element, ast.UnaryOp) else element
            if isinstance(inner, ast.Constant):  # -1 is a unary minus on a constant
                items.append(self.compile(element)[0]({}))
            else:
                self.not_allowed(
                    f"{self.segment(element)} in the tuple after 'in' (only constants)", element
                )
        return tuple(items)

    def compare(self, node: ast.Compare, depth: int) -> tuple[Evaluator, ResultKind]:
        ops: list[Callable[[Any, Any], Any]] = []
        comparators: list[Evaluator] = []
        lefts = [node.left, *node.comparators]
        for index, (op, comparator) in enumerate(zip(node.ops, node.comparators, strict=True)):
            func = _COMPARE.get(type(op))
            if func is None:
                word = _OPERATOR_WORDS.get(type(op), type(op).__name__)
                self.not_allowed(word, self.operator_at(lefts[index]))
            ops.append(func)
            if isinstance(op, ast.In | ast.NotIn):
                comparators.append(_constant(self.literal_tuple(comparator)))
            else:
                comparators.append(self.compile(comparator, depth)[0])
        left = self.compile(node.left, depth)[0]
        if len(ops) == 1:
            right_node = node.comparators[0]
            constant: Any = _NO_CONSTANT
            if isinstance(node.ops[0], ast.In | ast.NotIn):  # the literal tuple
                constant = comparators[0]({})
            elif isinstance(right_node, ast.Constant):
                constant = right_node.value
            return self.apply2(node, ops[0], left, comparators[0], constant), "bool"
        steps = tuple(zip(ops, comparators, strict=True))

        def chain(values: Mapping[str, Any]) -> bool:
            current = left(values)
            for func, comparator in steps:
                following = comparator(values)
                if not func(current, following):
                    return False
                current = following
            return True

        return self.guarded(node, chain), "bool"

    def ifexp(self, node: ast.IfExp, depth: int) -> tuple[Evaluator, ResultKind]:
        test = self.compile(node.test, depth)[0]
        body, bkind = self.compile(node.body, depth)
        orelse, okind = self.compile(node.orelse, depth)
        kind = _common_kind((bkind, okind))
        return (lambda values: body(values) if test(values) else orelse(values)), kind

    def call(self, node: ast.Call, depth: int) -> tuple[Evaluator, ResultKind]:
        if not isinstance(node.func, ast.Name):
            self.not_allowed(f"calling {self.segment(node.func)} (method calls)", node)
        name = node.func.id
        entry = _FUNCTIONS.get(name)
        if entry is None:
            self.fail(f"unknown function {name!r} (allowed: {', '.join(_FUNCTIONS)})", node)
        if node.keywords:
            self.not_allowed(f"keyword arguments to {name}()", node.keywords[0])
        func, fewest, most, kind = entry
        count = len(node.args)
        if count < fewest or (most is not None and count > most):
            if most == fewest:
                wanted = f"{fewest} argument" + ("s" if fewest > 1 else "")
            elif most is None:
                wanted = f"at least {fewest} argument" + ("s" if fewest > 1 else "")
            else:
                wanted = f"{fewest} or {most} arguments"
            self.fail(f"{name}() takes {wanted}, not {count}", node)
        compiled = [self.compile(arg, depth) for arg in node.args]
        args = tuple(evaluate for evaluate, _ in compiled)
        result_kind = kind or _common_kind([arg_kind for _, arg_kind in compiled])
        if count == 1:
            arg = args[0]
            return self.guarded(node, lambda values: func(arg(values))), result_kind
        return self.guarded(node, lambda values: func(*[arg(values) for arg in args])), result_kind


def _constant(value: Any) -> Evaluator:
    return lambda values: value


class Expression:
    """A compiled, checked expression: the tags it reads, what it gives, and how to evaluate it."""

    __slots__ = ("_evaluate", "result_kind", "single_tag", "tags", "text")

    def __init__(
        self,
        text: str,
        tags: tuple[str, ...],
        result_kind: ResultKind,
        evaluate: Evaluator,
        single_tag: str | None,
    ) -> None:
        self.text = text
        self.tags = tags
        """Tag names referenced, in order of first use, without duplicates."""
        self.result_kind: ResultKind = result_kind
        self.single_tag = single_tag
        """The tag name when the whole expression is one tag reference (maybe in brackets)."""
        self._evaluate = evaluate

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """The result for tag values by name; ExpressionError on a runtime error or missing tag."""
        try:
            return self._evaluate(values)
        except ExpressionError:
            raise
        except KeyError as exc:  # tag lookups outside an operation are not guarded
            raise ExpressionError(f"no value for tag {exc.args[0]!r}", 0) from None
        except (TypeError, ValueError, ArithmeticError) as exc:  # e.g. ``not`` of an odd value
            raise ExpressionError(f"{exc} (in {self.text.strip()})", 0) from None

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


def _keyword_parts(text: str) -> tuple[str, dict[tuple[int, int], str]]:
    """Swap keywords used as parts of a dotted tag name (``tank.in``) for placeholders of the
    same length, so the text parses; returns the text and placeholder end -> the original word.
    """
    found: dict[tuple[int, int], str] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text, found  # the parser reports the problem with its own position
    lines = text.splitlines(keepends=True)
    previous: tokenize.TokenInfo | None = None
    edits: list[tuple[int, int, str]] = []
    for token in tokens:
        if (
            token.type == tokenize.NAME
            and keyword.iskeyword(token.string)
            and previous is not None
            and previous.type == tokenize.OP
            and previous.string == "."
        ):
            row, col = token.start
            edits.append((row, col, token.string))
        if token.type not in (tokenize.NL, tokenize.COMMENT):
            previous = token
    for row, col, word in edits:
        line = lines[row - 1]
        placeholder = "_" * len(word)
        lines[row - 1] = line[:col] + placeholder + line[col + len(word) :]
        end_bytes = len(lines[row - 1][: col + len(word)].encode("utf-8"))
        found[(row, end_bytes)] = word
    return "".join(lines), found


def compile_expression(text: str) -> Expression:
    """Check and compile ``text``; ExpressionError (with the offset of the problem) if it is not
    a valid, allowed expression."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is {len(text)} characters long; at most {MAX_LENGTH} are allowed",
            MAX_LENGTH,
        )
    stripped = text.lstrip()
    if not stripped.strip():
        raise ExpressionError("expression is empty", 0)
    lead = len(text) - len(stripped)  # the parser refuses leading blanks ("unexpected indent")
    source, keyword_parts = _keyword_parts(stripped)
    compiler = _Compiler(stripped, source, lead, keyword_parts)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        if exc.lineno is None or not exc.offset:
            offset = len(text.rstrip())
        else:  # SyntaxError.offset counts characters from 1
            offset = min(
                compiler.char_offset(exc.lineno, exc.offset - 1, in_bytes=False), len(text)
            )
        message = (exc.msg or "invalid syntax").replace("invalid syntax. ", "invalid syntax: ")
        raise ExpressionError(f"{message} (at character {offset + 1})", offset) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"expression cannot be parsed: {exc}", lead) from None
    try:
        evaluate, kind = compiler.compile(tree.body)
    except RecursionError:
        raise ExpressionError(
            _TOO_DEEP,
            lead,
        ) from None
    tags = tuple(sorted(compiler.tags, key=compiler.tags.__getitem__))
    body = tree.body
    single = compiler.tag_name(body) if isinstance(body, ast.Name | ast.Attribute) else None
    return Expression(text, tags, kind, evaluate, single)


__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Expression",
    "ExpressionError",
    "ResultKind",
    "compile_expression",
    "is_tag_reference",
]
