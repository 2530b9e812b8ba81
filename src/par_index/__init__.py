"""par-index: score and rank public-administration reform indices from criteria files.

>>> import par_index as pi
>>> spec = pi.load_spec("criteria/par-2025.yaml")          # doctest: +SKIP
>>> results = pi.score(spec, {"registry": "registry.csv", ...})  # doctest: +SKIP
>>> results.ranking                                         # doctest: +SKIP
"""

from ._version import __version__
from .api import resolve_sources as resolve_sources
from .api import score as score
from .errors import DataError as DataError
from .errors import Issue as Issue
from .errors import ParIndexError as ParIndexError
from .errors import SpecError as SpecError
from .io.inputs import read_inputs as read_inputs
from .results import Results as Results
from .samples import bundled_path as bundled_path
from .samples import sample_inputs as sample_inputs
from .spec import IndexSpec as IndexSpec
from .spec import dump_spec as dump_spec
from .spec import load_spec as load_spec
from .spec import validate_spec as validate_spec
from .tables import InputData as InputData

__all__ = [
    "DataError",
    "IndexSpec",
    "InputData",
    "Issue",
    "ParIndexError",
    "Results",
    "SpecError",
    "__version__",
    "bundled_path",
    "dump_spec",
    "load_spec",
    "read_inputs",
    "resolve_sources",
    "sample_inputs",
    "score",
    "validate_spec",
]
