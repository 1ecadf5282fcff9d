"""Terraform's expression language, as far as the static checks of infra/terraform evaluate it: what a
plan knows before it creates anything. Literals, templates, references with attribute and index
access, tuple and object constructors, for expressions, conditionals, operators and the functions in
``FUNCTIONS``. python-hcl2 hands expressions over as text (``"${...}"``); ``parse_template`` turns
that text into a node, and a node is evaluated against the names in scope (``var``, ``local``,
``path``, the symbols of a for expression). A reference to a resource, a data source or a module
output raises ``Unknown``: its value exists only after apply. Whatever this module does not know, or
what would fail in a plan, raises ``EvaluationError``.

Why one module: the parser builds the nodes the evaluator walks, and the functions take and return
the evaluator's values; split, each part would import the others."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any

import yaml


class EvaluationError(ValueError):
    """The expression fails as a plan would fail, or uses something this evaluator does not know."""

    local: str | None = None
    """The local whose own expression failed, when one did: what depends on it fails with it."""


class Unknown(Exception):
    """The value is known only after apply."""


# Roots of references to objects that exist only after apply (or, for each and count, per instance).
_LATE_ROOTS = {"module", "data", "self", "each", "count", "terraform"}
_RESOURCE_TYPE = re.compile(r"^[a-z0-9]+_[a-z0-9_]+$")


@dataclass(frozen=True)
class Namespace:
    """``var``, ``local`` or ``path``: each attribute is computed on demand."""

    name: str
    get: Callable[[str], Any]


class Scope:
    """The names an expression sees, and the functions it may call."""

    def __init__(self, names: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]) -> None:
        self.names = dict(names)
        self.functions = functions

    def lookup(self, name: str) -> Any:
        if name in self.names:
            return self.names[name]
        if name in _LATE_ROOTS or _RESOURCE_TYPE.match(name):
            raise Unknown(name)
        raise EvaluationError(f"unknown name '{name}'")

    def with_names(self, names: Mapping[str, Any]) -> Scope:
        return Scope({**self.names, **names}, self.functions)


Node = Callable[[Scope], Any]


# --- values ---------------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a tuple"
    if isinstance(value, dict | Namespace):
        return "an object"
    return type(value).__name__


def _number(value: Any) -> int | float:
    """Integral numbers as int, as Terraform prints and compares them."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def to_string(value: Any) -> str:
    """A primitive as a template interpolates it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(_number(value))
    raise EvaluationError(f"cannot interpolate {_kind(value)} into a string")


def attribute(value: Any, name: str) -> Any:
    if isinstance(value, Namespace):
        return value.get(name)
    if isinstance(value, dict):
        if name not in value:
            raise EvaluationError(f"has no attribute '{name}'")
        return value[name]
    raise EvaluationError(f"'.{name}' of {_kind(value)}")


def index(value: Any, key: Any) -> Any:
    if isinstance(value, dict | Namespace):
        if isinstance(key, dict | list) or key is None:
            raise EvaluationError(f"an object's key is not {_kind(key)}")
        return attribute(value, to_string(key))
    if isinstance(value, list):
        position = int(key) if isinstance(key, str) and key.isdigit() else key
        if isinstance(position, bool) or not isinstance(position, int | float) or not float(position).is_integer():
            raise EvaluationError(f"a tuple's index is not {key!r}")
        position = int(position)
        if not 0 <= position < len(value):
            raise EvaluationError(f"index {position} is out of range (length {len(value)})")
        return value[position]
    raise EvaluationError(f"[{key!r}] of {_kind(value)}")


def _items(collection: Any) -> Iterator[tuple[Any, Any]]:
    """What a for expression iterates: a tuple's positions, an object's keys in lexical order."""
    if isinstance(collection, list):
        yield from enumerate(collection)
    elif isinstance(collection, dict):
        for key in sorted(collection):
            yield key, collection[key]
    else:
        raise EvaluationError(f"a for expression cannot iterate {_kind(collection)}")


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise EvaluationError(f"{where} is {_kind(value)}, not a bool")
    return value


def _numeric(value: Any, operator: str) -> int | float:
    if isinstance(value, str):
        try:
            return _number(float(value)) if "." in value or "e" in value.lower() else int(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EvaluationError(f"'{operator}' of {_kind(value)}")
    return value


def _equal(a: Any, b: Any) -> bool:
    """Terraform's ==: values of different types are never equal (1 is not "1", true is not 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    numbers = isinstance(a, int | float) and isinstance(b, int | float)
    return (numbers or type(a) is type(b)) and a == b


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: _number(a / b),
    "%": lambda a, b: a % b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _binary(operator: str, left: Node, right: Node) -> Node:
    if operator in ("==", "!="):

        def equality(scope: Scope) -> bool:
            equal = _equal(left(scope), right(scope))
            return equal if operator == "==" else not equal

        return equality
    if operator in ("&&", "||"):

        def logical(scope: Scope) -> bool:
            a = _bool(left(scope), f"the left of '{operator}'")
            b = _bool(right(scope), f"the right of '{operator}'")
            return (a and b) if operator == "&&" else (a or b)

        return logical

    def arithmetic(scope: Scope) -> Any:
        return _ARITHMETIC[operator](_numeric(left(scope), operator), _numeric(right(scope), operator))

    return arithmetic


# --- parsing --------------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER_TOKEN = re.compile(r"\d+(\.\d+)?([eE][+-]?\d+)?")
_SPACE = re.compile(r"\s+|#[^\n]*|//[^\n]*|/\*.*?\*/", re.S)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
# Longest first, so that "<=" is not read as "<".
_OPERATORS = [
    ("||",),
    ("&&",),
    ("==", "!="),
    ("<=", ">=", "<", ">"),
    ("+", "-"),
    ("*", "/", "%"),
]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str) -> EvaluationError:
        return EvaluationError(f"{message} at {self.pos} of {self.text!r}")

    # A template: literal text and ${...} interpolations, up to the closing quote of a string literal,
    # or to the end of the text (python-hcl2's strings and template files, whose escapes are resolved).
    def template(self, quoted: bool) -> Node:
        parts: list[str | Node] = []
        literal: list[str] = []
        text = self.text
        while True:
            if self.pos >= len(text):
                if quoted:
                    raise self.error("unterminated string")
                break
            char = text[self.pos]
            if quoted and char == '"':
                self.pos += 1
                break
            if quoted and char == "\\":
                literal.append(self._escape())
            elif text.startswith(("$${", "%%{"), self.pos):
                literal.append(text[self.pos + 1 : self.pos + 3])
                self.pos += 3
            elif text.startswith("${", self.pos):
                if literal:
                    parts.append("".join(literal))
                    literal = []
                self.pos += 2
                if text.startswith("~", self.pos):
                    raise self.error("strip markers are not supported")
                parts.append(self.expression())
                self.expect("}")
            elif text.startswith("%{", self.pos):
                raise self.error("template directives are not supported")
            else:
                literal.append(char)
                self.pos += 1
        if literal:
            parts.append("".join(literal))
        return _template(parts)

    def _escape(self) -> str:
        code = self.text[self.pos + 1 : self.pos + 2]
        if code in _ESCAPES:
            self.pos += 2
            return _ESCAPES[code]
        width = {"u": 4, "U": 8}.get(code)
        digits = self.text[self.pos + 2 : self.pos + 2 + (width or 0)]
        if width and re.fullmatch(r"[0-9A-Fa-f]+", digits) and len(digits) == width:
            self.pos += 2 + width
            return chr(int(digits, 16))
        raise self.error(f"unknown escape '\\{code}'")

    def space(self) -> None:
        while True:
            match = _SPACE.match(self.text, self.pos)
            if not match or not match.group(0):
                return
            self.pos = match.end()

    def peek(self, token: str) -> bool:
        self.space()
        if not self.text.startswith(token, self.pos):
            return False
        # "=" is not "==" nor "=>"; a name is not the start of a longer name.
        follower = self.text[self.pos + len(token) : self.pos + len(token) + 1]
        if token == "=" and follower in ("=", ">"):
            return False
        if token in ("<", ">", "!") and follower == "=":
            return False
        return not (token[-1].isalnum() and (follower.isalnum() or follower in "_-"))

    def take(self, token: str) -> bool:
        if self.peek(token):
            self.pos += len(token)
            return True
        return False

    def expect(self, token: str) -> None:
        if not self.take(token):
            raise self.error(f"expected '{token}'")

    def name(self) -> str:
        self.space()
        match = _NAME.match(self.text, self.pos)
        if not match:
            raise self.error("expected a name")
        self.pos = match.end()
        return match.group(0)

    def expression(self) -> Node:
        condition = self._binary(0)
        if not self.take("?"):
            return condition
        when_true = self.expression()
        self.expect(":")
        when_false = self.expression()

        def conditional(scope: Scope) -> Any:
            chosen = when_true if _bool(condition(scope), "a condition") else when_false
            return chosen(scope)

        return conditional

    def _binary(self, level: int) -> Node:
        if level == len(_OPERATORS):
            return self._unary()
        left = self._binary(level + 1)
        while True:
            operator = next((token for token in _OPERATORS[level] if self.peek(token)), None)
            if operator is None:
                return left
            self.pos += len(operator)
            left = _binary(operator, left, self._binary(level + 1))

    def _unary(self) -> Node:
        if self.take("!"):
            operand = self._unary()
            return lambda scope: not _bool(operand(scope), "the operand of '!'")
        if self.take("-"):
            negated = self._unary()
            return lambda scope: -_numeric(negated(scope), "-")
        return self._postfix(self._primary())

    def _postfix(self, node: Node) -> Node:
        while True:
            if self.peek(".*") or self.peek("[*]"):
                raise self.error("splat expressions are not supported")
            if self.take("."):
                self.space()
                number = re.compile(r"\d+").match(self.text, self.pos)
                if number:
                    self.pos = number.end()
                    node = _index_node(node, _constant(int(number.group(0))))
                else:
                    node = _attribute_node(node, self.name())
            elif self.take("["):
                key = self.expression()
                self.expect("]")
                node = _index_node(node, key)
            else:
                return node

    def _primary(self) -> Node:
        self.space()
        text, pos = self.text, self.pos
        number = _NUMBER_TOKEN.match(text, pos)
        if number:
            self.pos = number.end()
            literal = number.group(0)
            return _constant(_number(float(literal)) if not literal.isdigit() else int(literal))
        if text.startswith('"', pos):
            self.pos += 1
            return self.template(quoted=True)
        if text.startswith("<<", pos):
            raise self.error("heredocs are not supported")
        if self.take("("):
            inner = self.expression()
            self.expect(")")
            return inner
        if self.take("["):
            return self._for("]") if self.peek("for") else self._tuple()
        if self.take("{"):
            return self._for("}") if self.peek("for") else self._object()
        word = self.name()
        if word in ("true", "false"):
            return _constant(word == "true")
        if word == "null":
            return _constant(None)
        if self.take("("):
            return self._call(word)
        return lambda scope: scope.lookup(word)

    def _call(self, function: str) -> Node:
        arguments: list[Node] = []
        while not self.take(")"):
            arguments.append(self.expression())
            if self.peek("..."):
                raise self.error("argument expansion is not supported")
            if not self.take(","):
                self.expect(")")
                break

        if function in ("can", "try"):
            return _catching(function, arguments)

        def call(scope: Scope) -> Any:
            if function not in scope.functions:
                raise EvaluationError(f"the static check does not evaluate {function}()")
            return scope.functions[function](*(argument(scope) for argument in arguments))

        return call

    def _tuple(self) -> Node:
        items: list[Node] = []
        while not self.take("]"):
            items.append(self.expression())
            if not self.take(","):
                self.expect("]")
                break
        return lambda scope: [item(scope) for item in items]

    def _object(self) -> Node:
        entries: list[tuple[Node, Node]] = []
        while not self.take("}"):
            self.space()
            name = _NAME.match(self.text, self.pos)
            if name and name.group(0) not in ("true", "false", "null"):
                # An identifier as a key is the literal string, not a reference.
                after = self.pos
                self.pos = name.end()
                if self.peek("=") or self.peek(":"):
                    key: Node = _constant(name.group(0))
                else:
                    self.pos = after
                    key = self.expression()
            else:
                key = self.expression()
            if not (self.take("=") or self.take(":")):
                raise self.error("expected '=' or ':' after an object key")
            entries.append((key, self.expression()))
            self.take(",")

        def construct(scope: Scope) -> dict[str, Any]:
            return {_key(key(scope)): value(scope) for key, value in entries}

        return construct

    def _for(self, closing: str) -> Node:
        self.expect("for")
        symbols = [self.name()]
        if self.take(","):
            symbols.append(self.name())
        self.expect("in")
        collection = self.expression()
        self.expect(":")
        key = None
        if closing == "}":
            key = self.expression()
            self.expect("=>")
        value = self.expression()
        if self.peek("..."):
            raise self.error("grouping for expressions are not supported")
        condition = self.expression() if self.take("if") else None
        self.expect(closing)

        def each(scope: Scope) -> Iterator[Scope]:
            for item_key, item_value in _items(collection(scope)):
                names = dict(zip(symbols, (item_key, item_value) if len(symbols) == 2 else (item_value,), strict=True))
                inner = scope.with_names(names)
                if condition is None or _bool(condition(inner), "a for expression's condition"):
                    yield inner

        if key is None:
            return lambda scope: [value(inner) for inner in each(scope)]

        def construct(scope: Scope) -> dict[str, Any]:
            result: dict[str, Any] = {}
            for inner in each(scope):
                name = _key(key(inner))
                if name in result:
                    raise EvaluationError(f"duplicate key '{name}' in a for expression")
                result[name] = value(inner)
            return result

        return construct


def _catching(function: str, arguments: list[Node]) -> Node:
    """can(x): whether x evaluates; try(a, b, ...): the first that does. A value only apply knows
    stays unknown, as in a plan."""
    if not arguments or (function == "can" and len(arguments) != 1):
        raise EvaluationError(f"{function}() with {len(arguments)} arguments")

    def catching(scope: Scope) -> Any:
        for argument in arguments:
            try:
                value = argument(scope)
            except EvaluationError:
                continue
            return True if function == "can" else value
        if function == "can":
            return False
        raise EvaluationError("try(): no argument evaluates")

    return catching


def _key(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        raise EvaluationError(f"an object key is {_kind(value)}")
    return to_string(value)


def _constant(value: Any) -> Node:
    return lambda _scope: value


def _attribute_node(node: Node, name: str) -> Node:
    return lambda scope: attribute(node(scope), name)


def _index_node(node: Node, key: Node) -> Node:
    return lambda scope: index(node(scope), key(scope))


def _template(parts: list[str | Node]) -> Node:
    if len(parts) == 1 and not isinstance(parts[0], str):
        return parts[0]  # "${x}" is x itself, of whatever type

    def render(scope: Scope) -> str:
        return "".join(part if isinstance(part, str) else to_string(part(scope)) for part in parts)

    return render


@cache
def parse_template(text: str) -> Node:
    """A string as python-hcl2 serialises it: literal text with ``${...}`` expressions."""
    parser = _Parser(text)
    return parser.template(quoted=False)


def parse_expression(text: str) -> Node:
    parser = _Parser(text)
    node = parser.expression()
    parser.space()
    if parser.pos != len(text):
        raise parser.error("unexpected text after the expression")
    return node


# --- functions ------------------------------------------------------------------------------------


def _yaml_value(value: Any) -> Any:
    """Terraform's yamldecode gives timestamps as RFC 3339 strings; PyYAML gives dates."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return datetime.combine(value, time()).isoformat() + "Z"
    if isinstance(value, dict):
        return {to_string(key): _yaml_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_yaml_value(item) for item in value]
    return value


def yamldecode(text: str) -> Any:
    try:
        return _yaml_value(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise EvaluationError(f"yamldecode: {exc}") from None


def _file(path: str) -> str:
    if not Path(path).is_absolute():
        raise EvaluationError(f"file(): '{path}' is relative; the static check reads paths under path.module only")
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise EvaluationError(f"file(): no such file {path} ({exc.strerror})") from None


def _regex(pattern: str, text: str) -> Any:
    """Terraform's regex(): the match, its groups as a list, or its named groups as an object."""
    match = re.search(pattern, text)
    if match is None:
        raise EvaluationError(f"regex(): '{pattern}' does not match '{text}'")
    if match.re.groupindex:
        return match.groupdict()
    if match.re.groups:
        return list(match.groups())
    return match.group(0)


def _tonumber(value: Any) -> Any:
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    if isinstance(value, str) and _NUMBER_TOKEN.fullmatch(value.lstrip("-")):
        return _number(float(value))
    raise EvaluationError(f"tonumber(): {value!r} is not a number")


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value is not None and value != "":
            return value
    raise EvaluationError("coalesce(): no non-null, non-empty argument")


def _merge(*maps: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for item in maps:
        if item is None:
            continue
        if not isinstance(item, dict):
            raise EvaluationError(f"merge(): {_kind(item)} is not an object")
        result.update(item)
    return result


def _toset(values: Any) -> list[Any]:
    if not isinstance(values, list):
        raise EvaluationError(f"toset(): {_kind(values)} is not a list")
    unique = list(dict.fromkeys(values))
    return sorted(unique) if all(isinstance(value, str) for value in unique) else unique


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return _number(value) if isinstance(value, float) else value


def _templatefile(path: str, variables: Any) -> str:
    if not isinstance(variables, dict):
        raise EvaluationError("templatefile(): the variables are not an object")
    node = parse_template(_file(path))
    return to_string(node(Scope(variables, FUNCTIONS)))


def _length(value: Any) -> int:
    if not isinstance(value, str | list | dict):
        raise EvaluationError(f"length() of {_kind(value)}")
    return len(value)


def _lookup(mapping: Any, key: str, *default: Any) -> Any:
    if isinstance(mapping, dict) and key in mapping:
        return mapping[key]
    if default:
        return default[0]
    raise EvaluationError(f"lookup(): no key '{key}'")


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "coalesce": _coalesce,
    "contains": lambda values, value: value in values,
    "file": _file,
    "jsondecode": json.loads,
    "jsonencode": lambda value: json.dumps(_jsonable(value), separators=(",", ":")),
    "length": _length,
    "lookup": _lookup,
    "merge": _merge,
    "regex": _regex,
    "templatefile": _templatefile,
    "tonumber": _tonumber,
    "toset": _toset,
    "tostring": lambda value: None if value is None else to_string(value),
    "trimsuffix": lambda text, suffix: text.removesuffix(suffix),
    "yamldecode": yamldecode,
}
"""The functions the static checks evaluate; any other makes the evaluation fail, saying so."""
