"""Reading a params file safely: bounded in size, nesting, alias expansion and text
length, so that a hostile or mistaken file is refused with a message, never echoed."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from segreport.errors import ConfigError, clip
from segreport.files import read_at_most

#: Largest params file read (a real one is a few hundred bytes).
MAX_PARAMS_BYTES = 64 * 1024
#: Most YAML nodes a params file may hold once its aliases are expanded (alias bombs).
MAX_YAML_NODES = 10_000
#: Deepest nesting of lists and sections in a params file.
MAX_YAML_DEPTH = 50
#: Longest text a parameter (or a key) may be; longer ones are refused, not echoed.
MAX_TEXT = 1_000


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses a document whose aliases expand past
    :data:`MAX_YAML_NODES` nodes or refer to themselves (a "billion laughs" file)."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        self.depth += 1
        try:
            if self.depth > MAX_YAML_DEPTH:
                raise ValueError(f"it is nested more than {MAX_YAML_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_document(self, node: yaml.Node) -> Any:
        _check_expansion(node)
        return super().construct_document(node)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        if len(str(node.value)) > 100:
            raise ValueError(f"line {node.start_mark.line + 1}: a number of "
                             f"{len(str(node.value)):,} digits")
        return super().construct_yaml_int(node)


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


def _check_expansion(root: yaml.Node) -> None:
    """Count the nodes of ``root`` with every alias expanded, without expanding them.

    Raises
    ------
    ValueError
        past :data:`MAX_YAML_NODES` nodes, or when an alias refers to its own anchor.
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_: set[int] = set()
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if done:
            open_.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[id(node)] > MAX_YAML_NODES:
                raise ValueError(f"it holds more than {MAX_YAML_NODES:,} values once its aliases "
                                 "(*name) are expanded")
            continue
        if id(node) in open_:
            raise ValueError("an alias refers to the value it is part of")
        open_.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def safe_yaml(text: str) -> Any:
    """Load YAML text like ``yaml.safe_load``, bounded against alias bombs, deep nesting
    and numbers too long to convert.

    Raises
    ------
    yaml.YAMLError
        the text is not YAML.
    ValueError
        the text is YAML but refused; the message says why, without quoting the text.
    """
    return yaml.load(text, Loader=_BoundedLoader)  # a SafeLoader: no arbitrary objects


def read_params_file(path: Path) -> Any:
    """The YAML content of a params file, read safely.

    Raises
    ------
    ConfigError
        naming the file: missing, larger than :data:`MAX_PARAMS_BYTES`, unreadable, not
        YAML, or refused by :func:`safe_yaml`.
    """
    if not path.is_file():
        raise ConfigError(f"{path}: params file not found; check the path given to "
                          "--params, e.g. --params params/default.yaml")
    try:
        data = read_at_most(path, MAX_PARAMS_BYTES)
        if data is None:
            raise ConfigError(f"{path}: params file larger than {MAX_PARAMS_BYTES // 1024} KB; "
                              "a params file holds a few 'parameter: value' lines")
        return safe_yaml(data.decode("utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: not valid YAML{at} ({clip(problem)}); write one "
                          "'parameter: value' per line, e.g. period: 2026Q3") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: params file cannot be read ({clip(exc, 200)})") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: params file refused: {clip(exc, 200)}") from None


def check_lengths(raw: Any, source: Callable[[str], str], name: str = "") -> None:
    """Refuse any text (value or key) longer than :data:`MAX_TEXT` characters, before it
    is validated or echoed; ``source(top_level_key)`` says where it came from.

    Raises
    ------
    ConfigError
        naming the parameter and the length, never the value.
    """
    items = raw.items() if isinstance(raw, dict) else enumerate(raw) \
        if isinstance(raw, list) else ()
    for key, value in items:
        where = f"{name}.{key}" if name else str(key)
        top = where.split(".", 1)[0]
        if isinstance(key, str) and len(key) > MAX_TEXT:
            raise ConfigError(f"{source(top)}: a parameter name is {len(key):,} characters "
                              f"long (at most {MAX_TEXT:,}); it is not shown")
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise ConfigError(f"{source(top)}: parameter '{clip(where, 60)}': the value is "
                              f"{len(value):,} characters long (at most {MAX_TEXT:,}); it is "
                              "not shown")
        check_lengths(value, source, where)
