"""The docstrings of dataclass fields (the string literal under each field), read from source.

Python keeps no such attribute docstring at run time, so the documentation of every `-o` key is
read from the class's source with `ast`: one place for the words (the dataclass), whether they
are shown by `--help`-style listings or in the generated reference page of the docs.
"""

import ast
import dataclasses
import inspect
import textwrap
import typing
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldDoc:
    """One field of a config dataclass: name, type as written, default and its docstring."""

    name: str
    annotation: str
    default: str
    doc: str


def field_docs(cls: type) -> list[FieldDoc]:
    """Every dataclass field of `cls`, in order, with the docstring under it ('' if none)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs: dict[str, str] = {}
    for node, after in zip(body, [*body[1:], None], strict=True):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            literal = after.value if isinstance(after, ast.Expr) else None
            if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
                docs[node.target.id] = " ".join(inspect.cleandoc(literal.value).split())
    return [
        FieldDoc(item.name, annotation_text(item.type), default_text(item), docs.get(item.name, ""))
        for item in dataclasses.fields(cls)
    ]


def annotation_text(annotation: Any) -> str:
    """A field's type as a reader writes it (`int | None`; a Literal as its values, `a | b`)."""
    if typing.get_origin(annotation) is typing.Literal:
        return " | ".join(str(value) for value in typing.get_args(annotation))
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", None)
    return str(text or annotation).replace("typing.", "")


def default_text(item: dataclasses.Field) -> str:
    """A field's default as JSON-like text ('required' when it has none)."""
    if item.default is not dataclasses.MISSING:
        return "null" if item.default is None else repr(item.default)
    if item.default_factory is not dataclasses.MISSING:
        value = item.default_factory()
        return "{}" if value == {} else type(value).__name__
    return "required"
