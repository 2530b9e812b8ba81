"""par-index: score and rank public-administration reform indices from criteria files.

>>> import par_index as pi
>>> spec = pi.load_spec("criteria/par-2025.yaml")          # doctest: +SKIP
>>> results = pi.score(spec, {"registry": "registry.csv", ...})  # doctest: +SKIP
>>> results.ranking                                         # doctest: +SKIP
"""

from ._version import __version__
from .api import compare as compare
from .api import low_ranking as low_ranking
from .api import report as report
from .api import resolve_sources as resolve_sources
from .api import score as score
from .api import uncertainty as uncertainty
from .errors import DataError as DataError
from .errors import Issue as Issue
from .errors import ParIndexError as ParIndexError
from .errors import SpecError as SpecError
from .io.inputs import read_inputs as read_inputs
from .results import Comparison as Comparison
from .results import Results as Results
from .results import Uncertainty as Uncertainty
from .results import WeakReport as WeakReport
from .samples import bundled_path as bundled_path
from .samples import sample_inputs as sample_inputs
from .spec import IndexSpec as IndexSpec
from .spec import dump_spec as dump_spec
from .spec import load_spec as load_spec
from .spec import validate_spec as validate_spec
from .tables import InputData as InputData

__all__ = [
    "Comparison",
    "DataError",
    "IndexSpec",
    "InputData",
    "Issue",
    "ParIndexError",
    "Results",
    "SpecError",
    "Uncertainty",
    "WeakReport",
    "__version__",
    "bundled_path",
    "compare",
    "dump_spec",
    "load_spec",
    "low_ranking",
    "read_inputs",
    "report",
    "resolve_sources",
    "sample_inputs",
    "score",
    "uncertainty",
    "validate_spec",
]
