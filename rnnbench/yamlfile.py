"""Experiment YAML read as YAML 1.2 (its core schema), remembering what was written where.

PyYAML reads YAML 1.1, where `on`, `off`, `yes` and `no` are booleans, `010` is 8 and `1_000` is 1000, while
`1e6` stays text. Experiment files are read by the YAML 1.2 core rules instead: only true/false are booleans,
numbers are written as in most languages (`10`, `1e-3`, `1e6`, `0x1f`), everything else is text. PyYAML only
parses and composes the node tree here (told to leave plain scalars unresolved); `read` builds the values.

`read(text)` also refuses what PyYAML would accept silently or choke on: a key given twice in one mapping, tags
other than the standard ones, aliases that expand to more than MAX_VALUES values ("billion laughs"), nesting
deeper than MAX_DEPTH. It returns the value and, for each scalar, its key path and the text as written, so an
error can quote `on` rather than what it became. `dump(value)` writes YAML that both this reader and PyYAML's
read back as `value`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

MAX_DEPTH = 50  # levels of nesting; an experiment file needs four
MAX_VALUES = 100_000  # values once aliases are expanded; an experiment file holds a few hundred


class Problems(ValueError):
    """What makes a text unreadable as an experiment file, one line each. `syntax`: it is not YAML at all."""

    def __init__(self, problems: list[str], syntax: bool = False):
        self.problems = problems
        self.syntax = syntax
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Written:
    """A scalar as the file writes it: its text (unquoted) and line (1-based; None for text not from a file)."""

    text: str
    line: int | None


# ------------------------------------------------------------------------------------- the YAML 1.2 core schema

NULL = re.compile(r"~|null|Null|NULL|")
BOOLEANS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
INTEGER = re.compile(r"[-+]?[0-9]+")
OCTAL = re.compile(r"0o[0-7]+")
HEXADECIMAL = re.compile(r"0x[0-9a-fA-F]+")
FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
INFINITY = re.compile(r"[-+]?\.(inf|Inf|INF)")
NAN = re.compile(r"\.(nan|NaN|NAN)")


def plain_value(text: str):
    """A plain (unquoted) scalar as the YAML 1.2 core schema reads it.

    Examples: 'true' -> True, 'on' -> 'on', '~' -> None, '010' -> 10, '0o10' -> 8, '1e3' -> 1000.0,
    '1_000' -> '1_000', '.inf' -> inf, 'gru' -> 'gru'.
    """
    if NULL.fullmatch(text):
        return None
    if text in BOOLEANS:
        return BOOLEANS[text]
    if INTEGER.fullmatch(text):
        try:
            return int(text)
        except ValueError:  # more digits than Python converts: as a float, it is infinite and refused as such
            return float(text)
    if OCTAL.fullmatch(text):
        return int(text[2:], 8)
    if HEXADECIMAL.fullmatch(text):
        return int(text[2:], 16)
    if INFINITY.fullmatch(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if NAN.fullmatch(text):
        return float("nan")
    if FLOAT.fullmatch(text):
        return float(text)
    return text


def dotted(path: tuple) -> str:
    """Example: ('variants', 1, 'name') -> 'variants[1].name'; () -> '(top level)'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(top level)"


# ------------------------------------------------------------------------------------------------ reading

PLAIN = "tag:rnnbench:plain"  # a scalar written without quotes or tag, resolved by plain_value() when built
STANDARD = "tag:yaml.org,2002:"
SCALAR_TAGS = {STANDARD + kind for kind in ("str", "int", "float", "bool", "null")}


class _Resolver(BaseResolver):
    """Resolves nothing: an untagged plain scalar is marked PLAIN, every other node gets its standard tag."""

    def resolve(self, kind, value, implicit):
        if kind is ScalarNode and implicit[0]:
            return PLAIN
        return super().resolve(kind, value, implicit)


class _Composer(Reader, Scanner, Parser, Composer, _Resolver):
    """PyYAML's parser and composer, refusing nesting deeper than MAX_DEPTH (its composer recurses per level)."""

    def __init__(self, text: str):
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Resolver.__init__(self)
        self.depth = 0

    def compose_node(self, parent, index):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise Problems(
                    [
                        f"line {self.peek_event().start_mark.line + 1}: nested more than {MAX_DEPTH} levels "
                        "deep; an experiment file needs a few"
                    ]
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def read(text: str) -> tuple[object, dict[tuple, Written]]:
    """(the value of a YAML 1.2 document, {key path: Written} for each scalar in it); raises Problems.

    Example: 'train:\\n  learning_rate: 1e-3\\n  weight_decay: on\\n' ->
    ({'train': {'learning_rate': 0.001, 'weight_decay': 'on'}},
     {('train', 'learning_rate'): Written('1e-3', 2), ('train', 'weight_decay'): Written('on', 3)}).
    An empty document is None.
    """
    composer = None
    try:
        composer = _Composer(text)
        root = composer.get_single_node()
    except yaml.YAMLError as err:
        raise Problems([_one_line(err, text)], syntax=True) from None
    except RecursionError:  # MAX_DEPTH stops the composer long before; this is the last line of defence
        raise Problems([f"nested too deeply (more than {MAX_DEPTH} levels)"]) from None
    finally:
        if composer is not None:
            composer.dispose()
    if root is None:
        return None, {}
    _measure(root, 1, {}, set(), root.start_mark.line + 1)
    builder = _Builder()
    value = builder.build(root, ())
    if builder.problems:
        raise Problems([problem for _, problem in sorted(builder.problems, key=lambda found: found[0])])
    return value, builder.written


def _one_line(err: yaml.YAMLError, text: str) -> str:
    """A PyYAML error as one line. Example: 'line 3, column 9: not valid YAML: expected ',' or ']', but got ...'."""
    if isinstance(err, yaml.reader.ReaderError):  # a character YAML does not allow (binary content)
        line = text.count("\n", 0, err.position) + 1
        return f"line {line}: not valid YAML: unacceptable character #x{err.character:04x} ({err.reason})"
    context = getattr(err, "context", None) or ""
    if context.startswith("found duplicate anchor"):  # YAML 1.2 allows it, but it is never what was meant here
        anchor = context.removeprefix("found duplicate anchor ").split(";")[0]
        first, second = err.context_mark.line + 1, err.problem_mark.line + 1
        return f"line {second}: anchor {anchor} is defined twice (lines {first} and {second}); rename one"
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    said = "; ".join(part for part in (getattr(err, "context", None), getattr(err, "problem", None)) if part)
    return f"{where}not valid YAML: {said or str(err).splitlines()[0]}"


def _measure(node, depth: int, heights: dict, open_nodes: set, line: int) -> int:
    """How many values `node` expands to, counting each alias as a copy of its anchor (memoised per node, so
    nine levels of nine aliases each are counted in 81 steps, not 9**9). Refuses more than MAX_VALUES values,
    nesting deeper than MAX_DEPTH once aliases are expanded, and an alias inside its own anchor. `line`: where
    the value that holds `node` starts (an alias has no node of its own to name)."""
    known = heights.get(id(node))
    if depth + (known[1] - 1 if known else 0) > MAX_DEPTH:
        raise Problems([f"line {line}: nested more than {MAX_DEPTH} levels deep once aliases are expanded"])
    if known:
        return known[0]
    if id(node) in open_nodes:
        raise Problems([f"line {line}: an alias refers to a value that contains it"])
    children = (
        []
        if isinstance(node, ScalarNode)
        else node.value
        if isinstance(node, SequenceNode)
        else [part for pair in node.value for part in pair]
    )
    open_nodes.add(id(node))
    here = node.start_mark.line + 1
    size = 1 + sum(_measure(child, depth + 1, heights, open_nodes, here) for child in children)
    open_nodes.discard(id(node))
    if size > MAX_VALUES:
        raise Problems(
            [
                f"line {here}: expands to more than {MAX_VALUES:,} values through aliases (an alias bomb?); "
                "an experiment file holds a few hundred"
            ]
        )
    heights[id(node)] = (size, 1 + max((heights[id(child)][1] for child in children), default=0))
    return size


class _Builder:
    """Builds values from a measured node tree, collecting problems rather than stopping at the first."""

    def __init__(self):
        self.problems: list[tuple[int, str]] = []  # (line, problem)
        self.written: dict[tuple, Written] = {}
        self.checked: set[int] = set()  # mappings whose keys were checked (an alias builds its anchor again)

    def build(self, node, path: tuple):
        line = node.start_mark.line + 1
        if isinstance(node, ScalarNode):
            return self.scalar(node, path, line)
        if isinstance(node, SequenceNode):
            if node.tag != STANDARD + "seq":
                self.refuse_tag(node.tag, line)
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        if node.tag != STANDARD + "map":
            self.refuse_tag(node.tag, line)
        return self.mapping(node, path)

    def scalar(self, node: ScalarNode, path: tuple, line: int):
        self.written[path] = Written(node.value, line)
        if node.tag == PLAIN:
            return plain_value(node.value)
        if node.tag == STANDARD + "str":  # quoted, a block scalar, or tagged !!str
            return node.value
        if node.tag not in SCALAR_TAGS:
            self.refuse_tag(node.tag, line)
            return node.value
        kind = node.tag.removeprefix(STANDARD)
        value = plain_value(node.value)
        fits = {
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "null": value is None,
        }[kind]
        if not fits:
            self.problems.append((line, f"line {line}: !!{kind} {node.value!r} is not a YAML 1.2 {kind}"))
            return node.value
        return float(value) if kind == "float" else value

    def refuse_tag(self, tag: str, line: int) -> None:
        """A tag that would make PyYAML build something else than plain data (!!python/object, !!binary, !!set)."""
        shown = "!!" + tag.removeprefix(STANDARD) if tag.startswith(STANDARD) else tag
        self.problems.append(
            (
                line,
                f"line {line}: tag {shown} is not allowed (only !!str, !!int, !!float, !!bool, "
                "!!null, !!seq and !!map)",
            )
        )

    def mapping(self, node: MappingNode, path: tuple) -> dict:
        """Explicit keys, over the keys merged in with `<<:` (the first merged mapping wins, as YAML merge says)."""
        check = id(node) not in self.checked
        self.checked.add(id(node))
        merges, entries, first_line = [], [], {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                self.problems.append((line, f"line {line}: a key must be a name, not a list or mapping"))
                continue
            key = key_node.value
            if check and key in first_line:
                lines = f"on line {line}" if line == first_line[key] else f"(lines {first_line[key]} and {line})"
                fix = "merge both in one: <<: [*first, *second]" if key == "<<" else "keep one"
                self.problems.append((line, f"{dotted(path + (key,))}: given twice {lines}; {fix}"))
            first_line.setdefault(key, line)
            if key == "<<" and key_node.tag == PLAIN:
                merges += self.merge_sources(value_node)
            else:
                entries.append((key, value_node))
        result = {}
        for source in reversed(merges):
            result.update(self.build(source, path))
        for key, value_node in entries:
            self.forget(path + (key,))
            result[key] = self.build(value_node, path + (key,))
        return result

    def merge_sources(self, node) -> list:
        """The mappings `<<:` merges: one mapping, or a list of them."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        if all(isinstance(source, MappingNode) for source in sources):
            return sources
        line = node.start_mark.line + 1
        self.problems.append((line, f"line {line}: `<<` merges a mapping or a list of mappings"))
        return []

    def forget(self, path: tuple) -> None:
        """Drop what a merged mapping wrote under `path`: an explicit key replaces it."""
        for known in [known for known in self.written if known[: len(path)] == path]:
            del self.written[known]


# ------------------------------------------------------------------------------------------------ writing


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, which quotes text that YAML 1.1 would read as something else ('on', '1_000');
    this one also quotes text that YAML 1.2 would ('1e5', '0o17')."""


def _represent_text(dumper: yaml.SafeDumper, text: str):
    style = "'" if not isinstance(plain_value(text), str) else None
    return dumper.represent_scalar(STANDARD + "str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def dump(value) -> str:
    """YAML that `read` and yaml.safe_load both read back as `value`, keys in their given order.

    Example: {'name': '1e5', 'description': 'on'} -> "name: '1e5'\\ndescription: 'on'\\n".
    """
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def scalar(value, digits: int | None = None) -> str:
    """One value as a YAML file writes it, for tables and messages; a float to `digits` significant digits where
    given. Examples: None -> 'null', True -> 'true', 0.001 -> '0.001', 'word' -> 'word'; (0.001893185, 3) ->
    '0.00189'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if digits is not None and isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)
