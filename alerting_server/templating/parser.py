"""Parser of Go's text/template, a port of text/template/parse/parse.go.

Every error message is Go's, so that a rule rejected here reads the same as when promtool rejects it.
"""

from __future__ import annotations

import math
from collections.abc import Collection

from alerting_server.templating import nodes as n
from alerting_server.templating.errors import TemplateError
from alerting_server.templating.lexer import Lexer, T, Token
from alerting_server.templating.strconv import StrconvError, go_quote, go_unquote, parse_float, parse_int

MAX_STACK_DEPTH = 10000
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1


def is_empty_tree(node: n.Node | None) -> bool:
    if node is None:
        return True
    if isinstance(node, n.ListNode):
        return all(is_empty_tree(c) for c in node.nodes)
    if isinstance(node, n.TextNode):
        return node.text.strip(" \t\r\n\v\f") == ""
    return False


class _Parser:
    def __init__(self, text: str, name: str, funcs: Collection[str], trees: dict[str, n.ListNode]) -> None:
        self.parse_name = name
        self.name = name
        self.funcs = funcs
        self.trees = trees
        self.lex = Lexer(text, break_ok="break" not in funcs, continue_ok="continue" not in funcs)
        self.token: list[Token] = [Token(T.EOF, 0, "", 1)] * 3
        self.peek_count = 0
        self.vars = ["$"]
        self.action_line = 0
        self.range_depth = 0
        self.stack_depth = 0

    # -- token buffer, as in Go: three-token look-ahead -------------------------------------------

    def next(self) -> Token:
        if self.peek_count > 0:
            self.peek_count -= 1
        else:
            self.token[0] = self.lex.next_token()
        return self.token[self.peek_count]

    def backup(self) -> None:
        self.peek_count += 1

    def backup2(self, t1: Token) -> None:
        self.token[1] = t1
        self.peek_count = 2

    def backup3(self, t2: Token, t1: Token) -> None:
        self.token[1] = t1
        self.token[2] = t2
        self.peek_count = 3

    def peek(self) -> Token:
        if self.peek_count > 0:
            return self.token[self.peek_count - 1]
        self.peek_count = 1
        self.token[0] = self.lex.next_token()
        return self.token[0]

    def next_non_space(self) -> Token:
        while True:
            tok = self.next()
            if tok.typ != T.SPACE:
                return tok

    def peek_non_space(self) -> Token:
        tok = self.next_non_space()
        self.backup()
        return tok

    # -- errors ------------------------------------------------------------------------------------

    def error(self, message: str) -> TemplateError:
        return TemplateError(f"template: {self.parse_name}:{self.token[0].line}: {message}")

    def expect(self, expected: T, context: str) -> Token:
        tok = self.next_non_space()
        if tok.typ != expected:
            raise self.unexpected(tok, context)
        return tok

    def unexpected(self, tok: Token, context: str) -> TemplateError:
        if tok.typ == T.ERROR:
            extra = ""
            if self.action_line not in (0, tok.line):
                extra = f" in action started at {self.parse_name}:{self.action_line}"
                if tok.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            return self.error(f"{tok}{extra}")
        return self.error(f"unexpected {tok} in {context}")

    # -- trees ---------------------------------------------------------------------------------------

    def add(self, name: str, root: n.ListNode) -> None:
        existing = self.trees.get(name)
        if existing is None or is_empty_tree(existing):
            self.trees[name] = root
            return
        if not is_empty_tree(root):
            raise self.error(f"template: multiple definition of template {_q(name)}")

    def parse(self) -> None:
        root = n.ListNode(self.peek().pos)
        while self.peek().typ != T.EOF:
            if self.peek().typ == T.LEFT_DELIM:
                delim = self.next()
                if self.next_non_space().typ == T.DEFINE:
                    self.parse_definition()
                    continue
                self.backup2(delim)
            node = self.text_or_action()
            if isinstance(node, n.EndNode | n.ElseNode):
                raise self.error(f"unexpected {node}")
            root.nodes.append(node)
        self.add(self.name, root)

    def _nested(self) -> tuple[list[str], int]:
        saved = (self.vars, self.range_depth)
        self.vars, self.range_depth = ["$"], 0
        return saved

    def parse_definition(self) -> None:
        context = "define clause"
        tok = self.next_non_space()
        if tok.typ not in (T.STRING, T.RAW_STRING):
            raise self.unexpected(tok, context)
        name = self.unquote(tok.val)
        self.expect(T.RIGHT_DELIM, context)
        saved = self._nested()
        body, end = self.item_list()
        if not isinstance(end, n.EndNode):
            raise self.error(f"unexpected {end} in {context}")
        self.vars, self.range_depth = saved
        self.add(name, body)

    def unquote(self, text: str) -> str:
        try:
            return go_unquote(text)
        except StrconvError as err:
            raise self.error(str(err)) from None

    def item_list(self) -> tuple[n.ListNode, n.Node]:
        body = n.ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ != T.EOF:
            node = self.text_or_action()
            if isinstance(node, n.EndNode | n.ElseNode):
                return body, node
            body.nodes.append(node)
        raise self.error("unexpected EOF")

    def text_or_action(self) -> n.Node:
        tok = self.next_non_space()
        if tok.typ == T.TEXT:
            return n.TextNode(tok.pos, tok.val)
        if tok.typ == T.LEFT_DELIM:
            self.action_line = tok.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        raise self.unexpected(tok, "input")

    def action(self) -> n.Node:
        tok = self.next_non_space()
        match tok.typ:
            case T.BLOCK:
                return self.block_control()
            case T.BREAK:
                return self.loop_control(tok, "break")
            case T.CONTINUE:
                return self.loop_control(tok, "continue")
            case T.ELSE:
                return self.else_control()
            case T.END:
                return n.EndNode(self.expect(T.RIGHT_DELIM, "end").pos)
            case T.IF:
                return n.IfNode(*self.parse_control("if"))
            case T.RANGE:
                return n.RangeNode(*self.parse_control("range"))
            case T.TEMPLATE:
                return self.template_control()
            case T.WITH:
                return n.WithNode(*self.parse_control("with"))
        self.backup()
        tok = self.peek()
        return n.ActionNode(tok.pos, tok.line, self.pipeline("command", T.RIGHT_DELIM))

    def loop_control(self, keyword: Token, word: str) -> n.Node:
        tok = self.next_non_space()
        if tok.typ != T.RIGHT_DELIM:
            raise self.unexpected(tok, "{{" + word + "}}")
        if self.range_depth == 0:
            raise self.error("{{" + word + "}} outside {{range}}")
        if word == "break":
            return n.BreakNode(keyword.pos, keyword.line)
        return n.ContinueNode(keyword.pos, keyword.line)

    def pipeline(self, context: str, end: T) -> n.PipeNode:
        tok = self.peek_non_space()
        pipe = n.PipeNode(tok.pos, tok.line)
        while True:  # declarations; loops only for the second variable of a range
            v = self.peek_non_space()
            if v.typ != T.VARIABLE:
                break
            self.next()
            token_after_variable = self.peek()
            nxt = self.peek_non_space()
            if nxt.typ in (T.ASSIGN, T.DECLARE):
                pipe.is_assign = nxt.typ == T.ASSIGN
                self.next_non_space()
                pipe.decl.append(n.VariableNode(v.pos, v.val.split(".")))
                self.vars.append(v.val)
                break
            if nxt.typ == T.CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(n.VariableNode(v.pos, v.val.split(".")))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (T.VARIABLE, T.RIGHT_DELIM, T.RIGHT_PAREN):
                        continue
                    raise self.error("range can only initialize variables")
                raise self.error(f"too many declarations in {context}")
            if token_after_variable.typ == T.SPACE:
                self.backup3(v, token_after_variable)
            else:
                self.backup2(v)
            break
        while True:
            tok = self.next_non_space()
            if tok.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if tok.typ in (
                T.BOOL,
                T.CHAR_CONSTANT,
                T.COMPLEX,
                T.DOT,
                T.FIELD,
                T.IDENTIFIER,
                T.NUMBER,
                T.NIL,
                T.RAW_STRING,
                T.STRING,
                T.VARIABLE,
                T.LEFT_PAREN,
            ):
                self.backup()
                pipe.cmds.append(self.command())
            else:
                raise self.unexpected(tok, context)

    def check_pipeline(self, pipe: n.PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.error(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], n.BoolNode | n.DotNode | n.NilNode | n.NumberNode | n.StringNode):
                raise self.error(f"non executable command in pipeline stage {i + 2}")

    def parse_control(self, context: str) -> tuple[int, int, n.PipeNode, n.ListNode, n.ListNode | None]:
        depth = len(self.vars)
        try:
            pipe = self.pipeline(context, T.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            body, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_body: n.ListNode | None = None
            if isinstance(nxt, n.ElseNode):
                # "{{else if}}" and "{{else with}}" nest a new control in the else branch; its
                # {{end}} closes both.
                if context == "if" and self.peek().typ == T.IF:
                    self.next()
                    else_body = n.ListNode(nxt.pos, [n.IfNode(*self.parse_control("if"))])
                elif context == "with" and self.peek().typ == T.WITH:
                    self.next()
                    else_body = n.ListNode(nxt.pos, [n.WithNode(*self.parse_control("with"))])
                else:
                    else_body, nxt = self.item_list()
                    if not isinstance(nxt, n.EndNode):
                        raise self.error(f"expected end; found {nxt}")
            return pipe.pos, pipe.line, pipe, body, else_body
        finally:
            del self.vars[depth:]

    def else_control(self) -> n.Node:
        peek = self.peek_non_space()
        if peek.typ in (T.IF, T.WITH):
            return n.ElseNode(peek.pos, peek.line)
        tok = self.expect(T.RIGHT_DELIM, "else")
        return n.ElseNode(tok.pos, tok.line)

    def block_control(self) -> n.Node:
        context = "block clause"
        tok = self.next_non_space()
        name = self.template_name(tok, context)
        pipe = self.pipeline(context, T.RIGHT_DELIM)
        saved = self._nested()
        body, end = self.item_list()
        if not isinstance(end, n.EndNode):
            raise self.error(f"unexpected {end} in {context}")
        self.vars, self.range_depth = saved
        self.add(name, body)
        return n.TemplateNode(tok.pos, tok.line, name, pipe)

    def template_control(self) -> n.Node:
        context = "template clause"
        tok = self.next_non_space()
        name = self.template_name(tok, context)
        pipe = None
        if self.next_non_space().typ != T.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline(context, T.RIGHT_DELIM)
        return n.TemplateNode(tok.pos, tok.line, name, pipe)

    def template_name(self, tok: Token, context: str) -> str:
        if tok.typ in (T.STRING, T.RAW_STRING):
            return self.unquote(tok.val)
        raise self.unexpected(tok, context)

    def command(self) -> n.CommandNode:
        cmd = n.CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.typ == T.SPACE:
                continue
            if tok.typ in (T.RIGHT_DELIM, T.RIGHT_PAREN):
                self.backup()
            elif tok.typ != T.PIPE:
                raise self.unexpected(tok, "operand")
            break
        if not cmd.args:
            raise self.error("empty command")
        return cmd

    def operand(self) -> n.Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == T.FIELD:
            chain = n.ChainNode(self.peek().pos, node)
            while self.peek().typ == T.FIELD:
                chain.fields.append(self.next().val[1:])
            if isinstance(node, n.FieldNode):
                return n.FieldNode(chain.pos, str(chain)[1:].split("."))
            if isinstance(node, n.VariableNode):
                return n.VariableNode(chain.pos, str(chain).split("."))
            if isinstance(node, n.BoolNode | n.StringNode | n.NumberNode | n.NilNode | n.DotNode):
                raise self.error(f"unexpected . after term {_q(str(node))}")
            return chain
        return node

    def term(self) -> n.Node | None:
        tok = self.next_non_space()
        match tok.typ:
            case T.IDENTIFIER:
                if tok.val not in self.funcs:
                    raise self.error(f"function {_q(tok.val)} not defined")
                return n.IdentifierNode(tok.pos, tok.val)
            case T.DOT:
                return n.DotNode(tok.pos)
            case T.NIL:
                return n.NilNode(tok.pos)
            case T.VARIABLE:
                return self.use_var(tok)
            case T.FIELD:
                return n.FieldNode(tok.pos, tok.val[1:].split("."))
            case T.BOOL:
                return n.BoolNode(tok.pos, tok.val == "true")
            case T.CHAR_CONSTANT | T.COMPLEX | T.NUMBER:
                return self.number(tok)
            case T.LEFT_PAREN:
                if self.stack_depth >= MAX_STACK_DEPTH:
                    raise self.error("max expression depth exceeded")
                self.stack_depth += 1
                try:
                    return self.pipeline("parenthesized pipeline", T.RIGHT_PAREN)
                finally:
                    self.stack_depth -= 1
            case T.STRING | T.RAW_STRING:
                return n.StringNode(tok.pos, tok.val, self.unquote(tok.val))
        self.backup()
        return None

    def use_var(self, tok: Token) -> n.Node:
        v = n.VariableNode(tok.pos, tok.val.split("."))
        if v.ident[0] not in self.vars:
            raise self.error(f"undefined variable {_q(v.ident[0])}")
        return v

    def number(self, tok: Token) -> n.NumberNode:
        text = tok.val
        node = n.NumberNode(tok.pos, text)
        if tok.typ == T.CHAR_CONSTANT:
            ch = self.unquote(text)
            code = ord(ch)
            node.is_int = node.is_uint = node.is_float = True
            node.int_value, node.float_value = code, float(code)
            return node
        if tok.typ == T.COMPLEX or text.endswith("i"):
            try:
                node.complex_value = complex(text.replace("_", "").replace("i", "j"))
            except ValueError:
                raise self.error(f"illegal number syntax: {_q(text)}") from None
            node.is_complex = True
            if node.complex_value.imag == 0:
                node.is_float, node.float_value = True, node.complex_value.real
                if node.float_value.is_integer():
                    node.is_int = node.is_uint = True
                    node.int_value = int(node.float_value)
            return node
        try:
            value = parse_int(text)
        except StrconvError:
            pass
        else:
            if 0 <= value <= _UINT64_MAX:
                node.is_uint = True
            if _INT64_MIN <= value <= _INT64_MAX:
                node.is_int = True
            if node.is_int or node.is_uint:
                node.int_value, node.is_float, node.float_value = value, True, float(value)
                return node
        try:
            f = parse_float(text)
        except StrconvError:
            raise self.error(f"illegal number syntax: {_q(text)}") from None
        if not any(c in text for c in ".eEpP"):
            raise self.error(f"integer overflow: {_q(text)}")
        node.is_float, node.float_value = True, f
        if math.isfinite(f) and f.is_integer():
            i = int(f)
            node.int_value = i
            node.is_int = _INT64_MIN <= i <= _INT64_MAX
            node.is_uint = 0 <= i <= _UINT64_MAX
        return node


def _q(s: str) -> str:
    return go_quote(s)


def parse(text: str, name: str, funcs: Collection[str], trees: dict[str, n.ListNode]) -> None:
    """Parses `text` as template `name`, adding it and its {{define}}s to `trees`."""
    _Parser(text, name, funcs, trees).parse()
