"""The criteria language: pydantic models, structural checks, YAML loading. No pandas, no IO
beyond reading the criteria file itself."""

from .index import IndexSpec, SurveyInput, TableInput, Units
from .loader import dump_spec, json_schema, load_spec, spec_from_data, validate_spec
from .nodes import AppliesTo, Node, Tier

__all__ = [
    "AppliesTo",
    "IndexSpec",
    "Node",
    "SurveyInput",
    "TableInput",
    "Tier",
    "Units",
    "dump_spec",
    "json_schema",
    "load_spec",
    "spec_from_data",
    "validate_spec",
]
