"""Execution of a parsed template, a port of text/template/exec.go.

Errors read like Go's: `template: NAME:LINE:COL: executing "NAME" at <NODE>: MESSAGE`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass

from alerting_server.templating import nodes as n
from alerting_server.templating.builtins import BuiltinError
from alerting_server.templating.errors import TemplateError
from alerting_server.templating.gofmt import format_v
from alerting_server.templating.htmlescape import HtmlEscaper, UnsupportedContext
from alerting_server.templating.signature import signature_of
from alerting_server.templating.strconv import go_quote
from alerting_server.templating.values import (
    NO_VALUE,
    go_methods,
    go_type_name,
    is_missing,
    is_struct,
    map_zero,
    truth,
)

# Templates come from callers and run inside rule evaluation and notification delivery, so one
# execution has a budget, shared with the templates it calls by {{template}} and `tmpl`. Go's
# own limit is 100000 nested calls; Python's stack ends long before that, and no real template
# nests more than a few levels.
MAX_EXEC_DEPTH = 100
# Nodes walked: a notification listing a thousand alerts through a large template walks a few
# tens of thousands; an exponential {{template}} fan-out hits this in well under a second.
MAX_EXEC_STEPS = 200_000
# Characters of output, and of any one function's result: far above any annotation or message.
MAX_OUTPUT = 1 << 20
_MISSING = object()  # no final value from a previous pipeline stage (Go's missingVal)


@dataclass
class _Budget:
    steps: int = 0
    output: int = 0
    depth: int = 0
    # html/template's escaping, for a template run as HTML.
    html: HtmlEscaper | None = None


_BUDGET: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


@dataclass
class _Var:
    name: str
    value: object


class State:
    """One execution of one template (Go's `state`); {{template}} makes a new one."""

    def __init__(
        self,
        text: str,
        parse_name: str,
        name: str,
        trees: Mapping[str, n.ListNode],
        funcs: Mapping[str, Callable[..., object]],
        out: list[str],
        budget: _Budget,
    ) -> None:
        self.text = text
        self.parse_name = parse_name
        self.name = name
        self.trees = trees
        self.funcs = funcs
        self.out = out
        self.budget = budget
        self.vars: list[_Var] = []
        self.node: n.Node | None = None

    # -- errors ------------------------------------------------------------------------------

    def at(self, node: n.Node) -> None:
        self.node = node

    def error(self, message: str) -> TemplateError:
        if self.node is None:
            return TemplateError(f"template: {self.name}: {message}")
        pos = self.node.pos
        before = self.text[:pos]
        line = 1 + before.count("\n")
        col = len(before[before.rfind("\n") + 1 :].encode())
        return TemplateError(
            f'template: {self.parse_name}:{line}:{col}: executing "{self.name}" at <{self.node}>: {message}'
        )

    # -- variables -----------------------------------------------------------------------------

    def mark(self) -> int:
        return len(self.vars)

    def pop(self, mark: int) -> None:
        del self.vars[mark:]

    def push(self, name: str, value: object) -> None:
        self.vars.append(_Var(name, value))

    def set_var(self, name: str, value: object) -> None:
        for v in reversed(self.vars):
            if v.name == name:
                v.value = value
                return
        raise self.error(f"undefined variable: {name}")

    def set_top_var(self, k: int, value: object) -> None:
        self.vars[-k].value = value

    def var_value(self, name: str) -> object:
        for v in reversed(self.vars):
            if v.name == name:
                return v.value
        raise self.error(f"undefined variable: {name}")

    # -- walking -------------------------------------------------------------------------------

    def write(self, text: str) -> None:
        self.budget.output += len(text)
        if self.budget.output > MAX_OUTPUT:
            raise self.error(f"output exceeds {MAX_OUTPUT} characters")
        self.out.append(text)

    def walk(self, dot: object, node: n.Node) -> None:
        self.at(node)
        self.budget.steps += 1
        if self.budget.steps > MAX_EXEC_STEPS:
            raise self.error(f"exceeded maximum execution steps ({MAX_EXEC_STEPS})")
        if isinstance(node, n.ActionNode):
            value = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, value)
        elif isinstance(node, n.BreakNode):
            raise _Break
        elif isinstance(node, n.ContinueNode):
            raise _Continue
        elif isinstance(node, n.IfNode | n.WithNode):
            self.walk_if_or_with(dot, node)
        elif isinstance(node, n.ListNode):
            for child in node.nodes:
                self.walk(dot, child)
        elif isinstance(node, n.RangeNode):
            self.walk_range(dot, node)
        elif isinstance(node, n.TemplateNode):
            self.walk_template(dot, node)
        elif isinstance(node, n.TextNode):
            html = self.budget.html
            self.write(node.text if html is None else html.text(node.text))
        else:
            raise self.error(f"unknown node: {node}")

    def walk_if_or_with(self, dot: object, node: n.IfNode | n.WithNode) -> None:
        mark = self.mark()
        try:
            value = self.eval_pipeline(dot, node.pipe)
            if truth(value):
                self.walk(value if isinstance(node, n.WithNode) else dot, node.body)
            elif node.else_body is not None:
                self.walk(dot, node.else_body)
        finally:
            self.pop(mark)

    def walk_range(self, dot: object, node: n.RangeNode) -> None:
        self.at(node)
        outer = self.mark()
        try:
            value = self.eval_pipeline(dot, node.pipe)
            mark = self.mark()
            items = self._range_items(value)
            if items is None:
                raise self.error(f"range can't iterate over {format_v(value)}")
            ran = False
            for key, elem in items:
                ran = True
                decl = node.pipe.decl
                if decl:
                    if node.pipe.is_assign:
                        self.set_var(decl[0].ident[0], key if len(decl) > 1 else elem)
                    else:
                        self.set_top_var(1, elem)
                if len(decl) > 1:
                    if node.pipe.is_assign:
                        self.set_var(decl[1].ident[0], elem)
                    else:
                        self.set_top_var(2, key)
                try:
                    self.walk(elem, node.body)
                except _Continue:
                    pass
                except _Break:
                    break
                finally:
                    self.pop(mark)
            if not ran and node.else_body is not None:
                self.walk(dot, node.else_body)
        finally:
            self.pop(outer)

    @staticmethod
    def _range_items(value: object) -> Iterable[tuple[object, object]] | None:
        if is_missing(value):
            return ()
        if isinstance(value, Mapping):
            keys = sorted(value, key=lambda k: (not isinstance(k, int | float), k))
            return [(k, value[k]) for k in keys]
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return ((i, i) for i in range(value))  # lazily: the step budget ends a huge range
        if isinstance(value, list | tuple):
            return list(enumerate(value))
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            return None
        return enumerate(value)

    def walk_template(self, dot: object, node: n.TemplateNode) -> None:
        self.at(node)
        tree = self.trees.get(node.name)
        if tree is None:
            raise self.error(f"no such template {_quote(node.name)}")
        if self.budget.depth >= MAX_EXEC_DEPTH:
            raise self.error(f"exceeded maximum template depth ({MAX_EXEC_DEPTH})")
        new_dot = self.eval_pipeline(dot, node.pipe) if node.pipe is not None else None
        child = State(self.text, self.parse_name, node.name, self.trees, self.funcs, self.out, self.budget)
        child.push("$", new_dot)
        self.budget.depth += 1
        try:
            child.walk(new_dot, tree)
        finally:
            self.budget.depth -= 1

    # -- evaluation ----------------------------------------------------------------------------

    def eval_pipeline(self, dot: object, pipe: n.PipeNode | None) -> object:
        if pipe is None:
            return NO_VALUE
        self.at(pipe)
        value: object = _MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.ident[0], value)
            else:
                self.push(var.ident[0], value)
        return value

    def not_a_function(self, args: list[n.Node], final: object) -> None:
        if len(args) > 1 or final is not _MISSING:
            raise self.error(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: object, cmd: n.CommandNode, final: object) -> object:
        first = cmd.args[0]
        if isinstance(first, n.FieldNode):
            self.at(first)
            return self.eval_field_chain(dot, dot, first, first.ident, cmd.args, final)
        if isinstance(first, n.ChainNode):
            return self.eval_chain_node(dot, first, cmd.args, final)
        if isinstance(first, n.IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, n.PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, n.VariableNode):
            return self.eval_variable_node(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, n.BoolNode):
            return first.value
        if isinstance(first, n.DotNode):
            return dot
        if isinstance(first, n.NilNode):
            raise self.error("nil is not a command")
        if isinstance(first, n.NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, n.StringNode):
            return first.text
        raise self.error(f"can't evaluate command {_quote(str(first))}")

    def ideal_constant(self, c: n.NumberNode) -> object:
        self.at(c)
        text = c.text
        looks_float = any(ch in text for ch in ".eEpP") and not text.lower().lstrip("+-").startswith("0x")
        if c.is_complex:
            return c.complex_value
        if c.is_float and not text.startswith("'") and looks_float:
            return c.float_value
        if c.is_int:
            return c.int_value
        raise self.error(f"{text} overflows int")

    def eval_chain_node(self, dot: object, chain: n.ChainNode, args: list[n.Node], final: object) -> object:
        self.at(chain)
        if isinstance(chain.node, n.NilNode):
            raise self.error(f"indirection through explicit nil in {chain}")
        pipe = self.eval_arg(dot, None, chain.node)
        return self.eval_field_chain(dot, pipe, chain, chain.fields, args, final)

    def eval_variable_node(
        self, dot: object, var: n.VariableNode, args: list[n.Node], final: object
    ) -> object:
        self.at(var)
        value = self.var_value(var.ident[0])
        if len(var.ident) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, var, var.ident[1:], args, final)

    def eval_field_chain(
        self,
        dot: object,
        receiver: object,
        node: n.Node,
        idents: list[str],
        args: list[n.Node],
        final: object,
    ) -> object:
        for ident in idents[:-1]:
            receiver = self.eval_field(dot, ident, node, [], _MISSING, receiver)
        return self.eval_field(dot, idents[-1], node, args, final, receiver)

    def eval_field(
        self, dot: object, name: str, node: n.Node, args: list[n.Node], final: object, receiver: object
    ) -> object:
        if receiver is NO_VALUE:
            return NO_VALUE
        if receiver is None:
            raise self.error(f"nil pointer evaluating interface {{}}.{name}")
        has_args = len(args) > 1 or final is not _MISSING
        if name in go_methods(receiver):
            return self.eval_call(dot, getattr(receiver, name), node, name, args, final)
        if isinstance(receiver, Mapping):
            if has_args:
                raise self.error(f"{name} is not a method but has arguments")
            return receiver[name] if name in receiver else map_zero(receiver)
        if not name.startswith("_") and not isinstance(receiver, str | int | float | list | tuple):
            attr = getattr(receiver, name, _MISSING)
            if attr is not _MISSING:
                if inspect.ismethod(attr):
                    return self.eval_call(dot, attr, node, name, args, final)
                if has_args:
                    raise self.error(f"{name} has arguments but cannot be invoked as function")
                return attr
        raise self.error(f"can't evaluate field {name} in type {go_type_name(receiver)}")

    def eval_function(
        self, dot: object, node: n.IdentifierNode, cmd: n.Node, args: list[n.Node], final: object
    ) -> object:
        self.at(node)
        name = node.ident
        fn = self.funcs.get(name)
        if fn is None:
            raise self.error(f"{_quote(name)} is not a defined function")
        if name in ("and", "or"):
            return self.eval_and_or(dot, name, args, final)
        return self.eval_call(dot, fn, cmd, name, args, final)

    def eval_and_or(self, dot: object, name: str, args: list[n.Node], final: object) -> object:
        rest = args[1:]
        num_in = len(rest) + (final is not _MISSING)
        if num_in < 1:
            raise self.error(f"wrong number of args for {name}: want at least 1 got 0")
        value: object = NO_VALUE
        for arg in rest:
            value = self.eval_arg(dot, None, arg)
            if truth(value) == (name == "or"):
                return value
        if final is not _MISSING:
            value = final
        return value

    def eval_call(
        self,
        dot: object,
        fn: Callable[..., object],
        node: n.Node,
        name: str,
        args: list[n.Node],
        final: object,
    ) -> object:
        rest = args[1:] if args else []
        sig = signature_of(fn)
        num_in = len(rest) + (final is not _MISSING)
        if sig.variadic is not False:
            if num_in < sig.num_fixed:
                raise self.error(
                    f"wrong number of args for {name}: want at least {sig.num_fixed} got {len(rest)}"
                )
        elif num_in != sig.num_fixed:
            raise self.error(f"wrong number of args for {name}: want {sig.num_fixed} got {num_in}")
        argv = [self.eval_arg(dot, sig.param_type(i), arg) for i, arg in enumerate(rest)]
        if final is not _MISSING:
            argv.append(self.validate_type(final, sig.param_type(num_in - 1)))
        try:
            result = fn(*argv)
        except (_Break, _Continue):
            raise
        except (TemplateError, BuiltinError, Exception) as err:
            self.at(node)
            raise self.error(f"error calling {name}: {err}") from err
        if isinstance(result, str) and len(result) > MAX_OUTPUT:
            raise self.error(f"error calling {name}: result exceeds {MAX_OUTPUT} characters")
        return result

    def eval_arg(self, dot: object, typ: str | None, node: n.Node) -> object:
        self.at(node)
        if isinstance(node, n.DotNode):
            return self.validate_type(dot, typ)
        if isinstance(node, n.NilNode):
            if typ is None:
                return None
            raise self.error(f"cannot assign nil to {typ}")
        if isinstance(node, n.FieldNode):
            return self.validate_type(
                self.eval_field_chain(dot, dot, node, node.ident, [node], _MISSING), typ
            )
        if isinstance(node, n.VariableNode):
            return self.validate_type(self.eval_variable_node(dot, node, [], _MISSING), typ)
        if isinstance(node, n.PipeNode):
            return self.validate_type(self.eval_pipeline(dot, node), typ)
        if isinstance(node, n.IdentifierNode):
            return self.validate_type(self.eval_function(dot, node, node, [], _MISSING), typ)
        if isinstance(node, n.ChainNode):
            return self.validate_type(self.eval_chain_node(dot, node, [], _MISSING), typ)
        if typ is None:
            if isinstance(node, n.BoolNode):
                return node.value
            if isinstance(node, n.NumberNode):
                return self.ideal_constant(node)
            if isinstance(node, n.StringNode):
                return node.text
        elif typ == "bool":
            if isinstance(node, n.BoolNode):
                return node.value
            raise self.error(f"expected bool; found {node}")
        elif typ == "string":
            if isinstance(node, n.StringNode):
                return node.text
            raise self.error(f"expected string; found {node}")
        elif typ == "int":
            if isinstance(node, n.NumberNode) and node.is_int:
                return node.int_value
            raise self.error(f"expected integer; found {node}")
        elif typ == "float64":
            if isinstance(node, n.NumberNode) and node.is_float:
                return node.float_value
            raise self.error(f"expected float; found {node}")
        raise self.error(f"can't handle {node} for arg of type {typ}")

    def validate_type(self, value: object, typ: str | None) -> object:
        if value is NO_VALUE or value is _MISSING:
            if typ is None:
                return None
            raise self.error(f"invalid value; expected {typ}")
        if typ is None:
            return value
        if go_type_name(value) != typ:
            raise self.error(f"wrong type for value; expected {typ}; got {go_type_name(value)}")
        return value

    def print_value(self, node: n.Node, value: object) -> None:
        self.at(node)
        if callable(value) and not is_struct(value) and not hasattr(value, "String"):
            raise self.error(f"can't print {node} of type {go_type_name(value)}")
        html = self.budget.html
        if html is None:
            self.write(format_v(NO_VALUE if value is None else value))
            return
        try:
            self.write(html.value(NO_VALUE if value is None else value, _predefined_escaper(node)))
        except UnsupportedContext as e:
            raise self.error(str(e)) from None


def _predefined_escaper(node: n.Node) -> str | None:
    """ "urlquery" or "html" when the action's pipeline ends with it: html/template then uses it in
    place of its own escapers that do the same (escape.go ensurePipelineContains)."""
    if not isinstance(node, n.ActionNode) or not node.pipe.cmds:
        return None
    args = node.pipe.cmds[-1].args
    if args and isinstance(args[0], n.IdentifierNode) and args[0].ident in ("urlquery", "html"):
        return args[0].ident
    return None


def _quote(s: str) -> str:
    return go_quote(s)


def execute(
    text: str,
    name: str,
    trees: Mapping[str, n.ListNode],
    funcs: Mapping[str, Callable[..., object]],
    data: object,
    template_name: str | None = None,
    *,
    html: bool = False,
) -> str:
    """Runs template `template_name` (default: `name`) of the set parsed from `text` on `data`.

    `html`: escape as Go's html/template does (see htmlescape); a template run from inside
    another keeps its caller's escaping."""
    target = name if template_name is None else template_name
    tree = trees.get(target)
    out: list[str] = []
    if tree is None:
        raise TemplateError(f'template: {name}: "{target}" is an incomplete or empty template')
    outer = _BUDGET.get()
    # A template run from inside another (Prometheus' `tmpl`) spends its caller's budget.
    budget = outer or _Budget(html=HtmlEscaper() if html else None)
    if budget.depth >= MAX_EXEC_DEPTH:
        raise TemplateError(
            f'template: {name}: executing "{target}": exceeded maximum template depth ({MAX_EXEC_DEPTH})'
        )
    state = State(text, name, target, trees, funcs, out, budget)
    dot = NO_VALUE if data is None else data  # Go: reflect.ValueOf(nil) is the invalid value
    state.push("$", dot)
    token = _BUDGET.set(budget)
    budget.depth += 1
    try:
        state.walk(dot, tree)
    except RecursionError:
        # Deeply nested pipelines or control structures, within the depth limit of calls.
        raise TemplateError(f'template: {name}: executing "{target}": nesting too deep') from None
    finally:
        budget.depth -= 1
        _BUDGET.reset(token)
    return "".join(out)
