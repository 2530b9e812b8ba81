"""Read a criteria file (YAML, safe loading only) into an :class:`IndexSpec`, and back.

The file is untrusted: only PyYAML's safe loader is used (no Python tags), alias expansion,
nesting depth and file size are capped, and duplicate keys are refused rather than silently
overwritten. Every problem comes back at once as an :class:`Issue` whose location is the YAML
path (``criteria[2].children[0].rule.bands[1]``) with its line number.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import Issue, SpecError
from .checks import structural_issues
from .index import IndexSpec

MAX_FILE_BYTES = 5_000_000
MAX_EXPANDED_NODES = 200_000
MAX_DEPTH = 64

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _walk_yaml(
    node: yaml.Node,
    path: str,
    lines: dict[str, int],
    issues: list[Issue],
    budget: list[int],
    depth: int,
) -> None:
    """Check size/depth/duplicate keys and record each path's line number."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge(
            f"the document expands to more than {MAX_EXPANDED_NODES} nodes "
            "(YAML aliases that multiply?)"
        )
    if depth > MAX_DEPTH:
        raise _TooLarge(f"the document is nested more than {MAX_DEPTH} levels deep")
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        keys: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in keys:
                issues.append(
                    Issue(
                        "duplicate_key",
                        _join(path, key),
                        f"key '{key}' appears twice in one mapping (line "
                        f"{key_node.start_mark.line + 1}); the second would silently "
                        "replace the first.",
                    )
                )
            keys.add(key)
            _walk_yaml(value_node, _join(path, key), lines, issues, budget, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk_yaml(item, f"{path}[{i}]", lines, issues, budget, depth + 1)


class _TooLarge(Exception):
    pass


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def parse_yaml(text: str, source: str) -> tuple[Any, dict[str, int], list[Issue]]:
    """Safe-load YAML text: (data, path → line, duplicate-key issues)."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(
            f"{source}: not valid YAML", [Issue("yaml_syntax", where, str(problem))]
        ) from None
    except RecursionError:
        raise SpecError(
            f"{source}: refused",
            [Issue("too_deep", "", "the document is nested too deeply to read")],
        ) from None
    lines: dict[str, int] = {}
    issues: list[Issue] = []
    if root is not None:
        try:
            _walk_yaml(root, "", lines, issues, [MAX_EXPANDED_NODES], 0)
        except _TooLarge as exc:
            raise SpecError(f"{source}: refused", [Issue("too_large", "", str(exc))]) from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:  # e.g. a python/object tag: the safe loader refuses it
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(
            f"{source}: not valid YAML", [Issue("yaml_tag", where, str(problem))]
        ) from None
    return data, lines, issues


def _location(loc: tuple[int | str, ...], data: Any) -> str:
    """Turn a pydantic error location into a YAML path, skipping union tags pydantic adds."""
    parts: list[str] = []
    current = data
    tagged = False
    for item in loc:
        # pydantic names a tagged union's member by its tag right after the field: skip it once,
        # even when the tag is also a key of the mapping (kind: column has a 'column' key)
        if not tagged and isinstance(current, dict) and item == current.get("kind"):
            tagged = True
            continue
        tagged = False
        if isinstance(item, int) and isinstance(current, list) and 0 <= item < len(current):
            parts.append(f"[{item}]")
            current = current[item]
        elif isinstance(item, str) and isinstance(current, dict) and item in current:
            parts.append(f".{item}" if parts else item)
            current = current[item]
        elif (
            isinstance(item, str)
            and isinstance(current, dict)
            and not item.startswith(("function-", "tagged-union["))
            and item not in _TAGS
        ):
            parts.append(f".{item}" if parts else item)  # a missing key: name it
            current = None
    return "".join(parts)


_TAGS = {
    "column",
    "ratio",
    "survey",
    "appraisal",
    "yes_no",
    "identity",
    "linear",
    "bands",
    "minmax",
    "relative_to_best",
    "target",
    "count",
    "deduction",
    "table",
    "lax-or-strict",
    "json-or-python",
}


def _message(error: Any) -> str:
    msg = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    kind = error["type"]
    if kind == "missing":
        return "is required."
    if kind == "extra_forbidden":
        return "is not a known key (typo?)."
    got = error.get("input")
    if kind not in ("value_error",) and not isinstance(got, dict | list):
        return f"{msg}. Got {got!r} instead."
    return msg if msg.endswith(".") else msg + "."


def validation_issues(exc: ValidationError, data: Any, lines: dict[str, int]) -> list[Issue]:
    issues = []
    for error in exc.errors():
        where = _location(tuple(error["loc"]), data)
        line = lines.get(where) or lines.get(where.rsplit(".", 1)[0]) if where else None
        location = f"{where} (line {line})" if line else where or "(top level)"
        issues.append(Issue(str(error["type"]), location, _message(error)))
    return issues


def _with_lines(issues: list[Issue], lines: dict[str, int]) -> list[Issue]:
    out = []
    for issue in issues:
        line = lines.get(issue.location)
        if line and "(line" not in issue.location:
            issue = Issue(issue.code, f"{issue.location} (line {line})", issue.message, issue.hint)
        out.append(issue)
    return out


def spec_from_data(
    data: Any, source: str = "<criteria>", lines: dict[str, int] | None = None
) -> IndexSpec:
    """Validate plain data (as loaded from YAML) into an IndexSpec, or raise SpecError."""
    lines = lines or {}
    if not isinstance(data, dict):
        raise SpecError(
            f"{source}: invalid criteria file",
            [
                Issue(
                    "not_a_mapping",
                    "(top level)",
                    f"the file must be a mapping of keys (id, name, inputs, criteria, …). "
                    f"Got {type(data).__name__} instead.",
                )
            ],
        )
    try:
        issues = _with_lines(structural_issues(data), lines)
    except (TypeError, ValueError, AttributeError, KeyError):
        # data too malformed for the cross-checks (a list where an id belongs…): pydantic
        # reports the type errors, and the cross-checks run once those are fixed
        issues = []
    try:
        spec = IndexSpec.model_validate(data, context={"structure_checked": True})
    except ValidationError as exc:
        issues = validation_issues(exc, data, lines) + issues
        spec = None
    if issues or spec is None:
        raise SpecError(f"{source}: {len(issues)} problem(s) in the criteria file", issues)
    return spec


def read_spec_text(path: str | Path) -> str:
    file = Path(path)
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise SpecError(f"{file}: cannot read the criteria file ({exc.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise SpecError(
            f"{file}: refused: {size} bytes is larger than a criteria file may be "
            f"({MAX_FILE_BYTES} bytes)"
        )
    raw = file.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{file}: the criteria file must be UTF-8 text (byte {exc.start} is not)"
        ) from None


def load_spec(path: str | Path) -> IndexSpec:
    """Load and validate a criteria file; raise :class:`SpecError` listing every problem."""
    source = str(path)
    data, lines, issues = parse_yaml(read_spec_text(path), source)
    if issues:
        try:
            spec_from_data(data, source, lines)
        except SpecError as exc:
            issues = issues + list(exc.issues)
        raise SpecError(f"{source}: {len(issues)} problem(s) in the criteria file", issues)
    return spec_from_data(data, source, lines)


def validate_spec(path: str | Path) -> list[Issue]:
    """The problems of a criteria file (empty when it is valid)."""
    try:
        load_spec(path)
    except SpecError as exc:
        return list(exc.issues) or [Issue("invalid", str(path), exc.summary)]
    return []


def spec_to_data(spec: IndexSpec) -> dict[str, Any]:
    """Plain data for YAML/JSON: defaults left out so the file stays as short as written."""
    return spec.model_dump(mode="json", exclude_defaults=True, exclude_none=True)


class _Dumper(yaml.SafeDumper):
    """Block style for the tree, flow style for small leaf mappings (measure, rule, bands),
    so a dumped file reads like a hand-written one."""


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    flat = all(
        not isinstance(v, dict | list)
        or (isinstance(v, list) and all(not isinstance(i, dict | list) for i in v))
        for v in data.values()
    )
    nested_flat = (
        all(
            not isinstance(v, list)
            or all(
                isinstance(i, dict) and all(not isinstance(x, dict | list) for x in i.values())
                for i in v
            )
            for v in data.values()
        )
        and "children" not in data
        and "criteria" not in data
        and "id" not in data
    )
    return dumper.represent_mapping(
        "tag:yaml.org,2002:map", data.items(), flow_style=flat or nested_flat
    )


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # PyYAML writes U+0085 (next line) raw in a plain or single-quoted scalar, where it reads
    # back as a line break; a double-quoted scalar escapes it.
    style = '"' if "\x85" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(str, _represent_str)


def dump_spec(spec: IndexSpec, path: str | Path | None = None) -> str:
    """Write the spec as YAML (the round trip ``load(dump(spec)) == spec`` holds)."""
    text = yaml.dump(
        spec_to_data(spec), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100
    )
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def json_schema() -> str:
    """The JSON Schema of the criteria file format, for editors and CI."""
    schema = IndexSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "par-index criteria file"
    return json.dumps(schema, ensure_ascii=False, indent=2)
