"""The viewer's small predicate language, parsed into a tree and turned into SQL with bound
parameters. Nothing from the user's text reaches the SQL but through a parameter, or as a column
name checked against the table's columns and quoted.

    where   := or
    or      := and ("OR" and)*
    and     := not ("AND" not)*
    not     := "NOT" not | "(" or ")" | column ( op literal | "IS" ["NOT"] "NULL" )
    op      := "=" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    column  := name (letters, digits, _) | "double-quoted name" ("" for a quote inside)
    literal := 'single-quoted text' ('' for a quote inside) | number (-12, 3.5, 1e6)
    orderby := column ["ASC" | "DESC"] ("," column ["ASC" | "DESC"])*

Keywords are case-insensitive. Errors (``PredicateError``) say what was expected and where, as a
1-based character position in the user's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

MAX_LENGTH = 2000
MAX_DEPTH = 32
OPERATORS = ("<=", ">=", "!=", "<>", "=", "<", ">")
KEYWORDS = {"AND", "OR", "NOT", "IS", "NULL", "ASC", "DESC"}


class PredicateError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(_("%(message)s (at character %(position)s)") % {"message": message, "position": position})
        self.position = position


@dataclass(frozen=True)
class Token:
    kind: str  # name, quoted_name, string, number, op, lparen, rparen, comma, keyword, end
    value: str
    position: int  # 1-based


@dataclass(frozen=True)
class Comparison:
    column: str
    op: str
    value: str | int | float


@dataclass(frozen=True)
class IsNull:
    column: str
    negated: bool


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Both:
    op: str  # AND, OR
    left: Node
    right: Node


Node = Comparison | IsNull | Not | Both

_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_LENGTH:
        raise PredicateError(
            _("The expression is longer than %(max_length)s characters") % {"max_length": MAX_LENGTH}, MAX_LENGTH + 1
        )
    tokens, i = [], 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "'\"":
            end, value = _quoted(text, i)
            tokens.append(Token("string" if char == "'" else "quoted_name", value, i + 1))
            i = end
        elif char == "(":
            tokens.append(Token("lparen", char, i + 1))
            i += 1
        elif char == ")":
            tokens.append(Token("rparen", char, i + 1))
            i += 1
        elif char == ",":
            tokens.append(Token("comma", char, i + 1))
            i += 1
        elif (number := _NUMBER.match(text, i)) and (char != "-" or not tokens or tokens[-1].kind == "op"):
            tokens.append(Token("number", number.group(), i + 1))
            i = number.end()
        elif operator := next((op for op in OPERATORS if text.startswith(op, i)), None):
            tokens.append(Token("op", "!=" if operator == "<>" else operator, i + 1))
            i += len(operator)
        elif name := _NAME.match(text, i):
            word = name.group()
            kind = "keyword" if word.upper() in KEYWORDS else "name"
            tokens.append(Token(kind, word.upper() if kind == "keyword" else word, i + 1))
            i = name.end()
        else:
            raise PredicateError(_("Unexpected character %(char)s") % {"char": repr(char)}, i + 1)
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _quoted(text: str, start: int) -> tuple[int, str]:
    quote, i, out = text[start], start + 1, []
    while i < len(text):
        if text[i] == quote:
            if text.startswith(quote * 2, i):
                out.append(quote)
                i += 2
                continue
            return i + 1, "".join(out)
        out.append(text[i])
        i += 1
    if quote == "'":
        never_closed = _("The quoted text opened here is never closed (double a %(quote)s to put one inside)")
    else:
        never_closed = _("The quoted column name opened here is never closed (double a %(quote)s to put one inside)")
    raise PredicateError(never_closed % {"quote": quote}, start + 1)


class _Parser:
    def __init__(self, text: str, columns: list[str]) -> None:
        self.tokens, self.at, self.columns = tokenize(text), 0, columns

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def take(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def keyword(self, word: str) -> bool:
        if self.token.kind == "keyword" and self.token.value == word:
            self.at += 1
            return True
        return False

    def expect_end(self) -> None:
        if self.token.kind != "end":
            raise PredicateError(
                _("Expected AND, OR or the end, found %(shown)s") % {"shown": _shown(self.token)}, self.token.position
            )

    def or_(self, depth: int) -> Node:
        node = self.and_(depth)
        while self.keyword("OR"):
            node = Both("OR", node, self.and_(depth))
        return node

    def and_(self, depth: int) -> Node:
        node = self.not_(depth)
        while self.keyword("AND"):
            node = Both("AND", node, self.not_(depth))
        return node

    def not_(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise PredicateError(
                _("The expression nests deeper than %(max_depth)s levels") % {"max_depth": MAX_DEPTH},
                self.token.position,
            )
        if self.keyword("NOT"):
            return Not(self.not_(depth + 1))
        if self.token.kind == "lparen":
            opened = self.take()
            node = self.or_(depth + 1)
            if self.token.kind != "rparen":
                raise PredicateError(
                    _("Expected ')' to close the '(' at character %(position)s, found %(shown)s")
                    % {"position": opened.position, "shown": _shown(self.token)},
                    self.token.position,
                )
            self.take()
            return node
        column = self.column()
        if self.keyword("IS"):
            negated = self.keyword("NOT")
            if not self.keyword("NULL"):
                raise PredicateError(
                    _("Expected NULL after IS, found %(shown)s") % {"shown": _shown(self.token)}, self.token.position
                )
            return IsNull(column, negated)
        if self.token.kind != "op":
            raise PredicateError(
                _("Expected an operator (= != < <= > >=) or IS NULL after '%(column)s', found %(shown)s")
                % {"column": column, "shown": _shown(self.token)},
                self.token.position,
            )
        op = self.take().value
        literal = self.take()
        if literal.kind == "string":
            return Comparison(column, op, literal.value)
        if literal.kind == "number":
            number = literal.value
            value: int | float = int(number) if re.fullmatch(r"-?\d+", number) else float(number)
            return Comparison(column, op, value)
        hint = _(" (quote text with single quotes)") if literal.kind in ("name", "quoted_name") else ""
        raise PredicateError(
            _("Expected a number or a 'quoted' text after %(op)s, found %(shown)s%(hint)s")
            % {"op": op, "shown": _shown(literal), "hint": hint},
            literal.position,
        )

    def column(self) -> str:
        token = self.token
        if token.kind not in ("name", "quoted_name"):
            raise PredicateError(
                _("Expected a column name, found %(shown)s") % {"shown": _shown(token)}, token.position
            )
        self.take()
        if token.value not in self.columns:
            near = ", ".join(self.columns[:20])
            raise PredicateError(
                _("No column '%(value)s' in this table (its columns: %(near)s)") % {"value": token.value, "near": near},
                token.position,
            )
        return token.value


def _shown(token: Token) -> str:
    if token.kind == "end":
        return _("the end")
    if token.kind == "string":
        return _("the text '%(value)s'") % {"value": token.value}
    return f"'{token.value}'"


def parse_where(text: str, columns: list[str]) -> Node:
    parser = _Parser(text, columns)
    if parser.token.kind == "end":
        raise PredicateError(_("The expression is empty"), 1)
    node = parser.or_(0)
    parser.expect_end()
    return node


def parse_orderby(text: str, columns: list[str]) -> list[tuple[str, bool]]:
    """[(column, descending)], in order."""
    parser = _Parser(text, columns)
    order: list[tuple[str, bool]] = []
    while True:
        column = parser.column()
        descending = parser.keyword("DESC")
        if not descending:
            parser.keyword("ASC")
        order.append((column, descending))
        if parser.token.kind != "comma":
            break
        parser.take()
    if parser.token.kind != "end":
        raise PredicateError(_("Expected ',', ASC, DESC or the end, found %(shown)s") % {"shown": _shown(parser.token)},
                             parser.token.position)  # fmt: skip
    return order


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def to_sql(node: Node) -> tuple[str, list[Any]]:
    """The tree as a SQL boolean expression with ``?`` placeholders, and their values in order."""
    if isinstance(node, Comparison):
        op = "<>" if node.op == "!=" else node.op
        return f"{quote_identifier(node.column)} {op} ?", [node.value]
    if isinstance(node, IsNull):
        return f"{quote_identifier(node.column)} IS {'NOT ' if node.negated else ''}NULL", []
    if isinstance(node, Not):
        inner, values = to_sql(node.operand)
        return f"(NOT {inner})", values
    left, left_values = to_sql(node.left)
    right, right_values = to_sql(node.right)
    return f"({left} {node.op} {right})", left_values + right_values


def order_sql(order: list[tuple[str, bool]]) -> str:
    return ", ".join(f"{quote_identifier(column)} {'DESC' if desc else 'ASC'} NULLS LAST" for column, desc in order)
