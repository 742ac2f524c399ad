"""The parse tree of a template, with each node's `str` matching Go's Node.String().

Go puts that string into execution errors (`executing "x" at <humanize .>`), so it matters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from alerting_server.templating.strconv import go_quote


@dataclass(eq=False)
class Node:
    pos: int


@dataclass(eq=False)
class TextNode(Node):
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(eq=False)
class DotNode(Node):
    def __str__(self) -> str:
        return "."


@dataclass(eq=False)
class NilNode(Node):
    def __str__(self) -> str:
        return "nil"


@dataclass(eq=False)
class BoolNode(Node):
    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(eq=False)
class NumberNode(Node):
    text: str
    is_int: bool = False
    is_uint: bool = False
    is_float: bool = False
    is_complex: bool = False
    int_value: int = 0
    float_value: float = 0.0
    complex_value: complex = 0j

    def __str__(self) -> str:
        return self.text


@dataclass(eq=False)
class StringNode(Node):
    quoted: str
    text: str

    def __str__(self) -> str:
        return self.quoted


@dataclass(eq=False)
class IdentifierNode(Node):
    ident: str

    def __str__(self) -> str:
        return self.ident


@dataclass(eq=False)
class VariableNode(Node):
    ident: list[str]

    def __str__(self) -> str:
        return ".".join(self.ident)


@dataclass(eq=False)
class FieldNode(Node):
    ident: list[str]

    def __str__(self) -> str:
        return "".join("." + i for i in self.ident)


@dataclass(eq=False)
class ChainNode(Node):
    node: Node
    fields: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        base = f"({self.node})" if isinstance(self.node, PipeNode) else str(self.node)
        return base + "".join("." + f for f in self.fields)


@dataclass(eq=False)
class CommandNode(Node):
    args: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, PipeNode) else str(a) for a in self.args)


@dataclass(eq=False)
class PipeNode(Node):
    line: int
    decl: list[VariableNode] = field(default_factory=list)
    cmds: list[CommandNode] = field(default_factory=list)
    is_assign: bool = False

    def __str__(self) -> str:
        head = ""
        if self.decl:
            head = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return head + " | ".join(str(c) for c in self.cmds)


@dataclass(eq=False)
class ListNode(Node):
    nodes: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


@dataclass(eq=False)
class ActionNode(Node):
    line: int
    pipe: PipeNode

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


@dataclass(eq=False)
class BranchNode(Node):
    line: int
    pipe: PipeNode
    body: ListNode
    else_body: ListNode | None
    keyword = ""

    def __str__(self) -> str:
        s = "{{" + self.keyword + " " + str(self.pipe) + "}}" + str(self.body)
        if self.else_body is not None:
            s += "{{else}}" + str(self.else_body)
        return s + "{{end}}"


@dataclass(eq=False)
class IfNode(BranchNode):
    keyword = "if"


@dataclass(eq=False)
class RangeNode(BranchNode):
    keyword = "range"


@dataclass(eq=False)
class WithNode(BranchNode):
    keyword = "with"


@dataclass(eq=False)
class TemplateNode(Node):
    line: int
    name: str
    pipe: PipeNode | None

    def __str__(self) -> str:
        if self.pipe is None:
            return "{{template " + go_quote(self.name) + "}}"
        return "{{template " + go_quote(self.name) + " " + str(self.pipe) + "}}"


@dataclass(eq=False)
class BreakNode(Node):
    line: int

    def __str__(self) -> str:
        return "{{break}}"


@dataclass(eq=False)
class ContinueNode(Node):
    line: int

    def __str__(self) -> str:
        return "{{continue}}"


@dataclass(eq=False)
class EndNode(Node):
    """Only lives during parsing: the `{{end}}` that closes a list."""

    def __str__(self) -> str:
        return "{{end}}"


@dataclass(eq=False)
class ElseNode(Node):
    """Only lives during parsing: the `{{else}}` that splits a list."""

    line: int

    def __str__(self) -> str:
        return "{{else}}"
