"""The base model and small shared types of the criteria language."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class SpecModel(BaseModel):
    """Frozen, strict, unknown keys rejected: a typo in a criteria file is an error, never ignored.

    ``strict`` keeps YAML 1.1 surprises out: ``yes`` (a boolean) is not accepted as a number or a
    name, and ``"1.5"`` (a string) is not silently turned into a number.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        allow_inf_nan=False,
        use_attribute_docstrings=True,  # `par-index schema` describes every key
    )


NodeId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=120),
]
"""A node id: letters, digits, ``_ . -``; stable across years (e.g. ``entry``, ``1.1.2``)."""

Name = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Direction = Literal["higher_is_better", "lower_is_better"]
