"""The query workload as data: `<workload>/config.ini` and `<workload>/queries/{single,multi}/*.sql`.

The INI format is the sample's, unchanged: ``[default]`` with ``query_mode`` (regular | row_count),
``repetitions`` (queries per session, 100 when absent) and ``retries`` (retries per query call, 0
when absent), and ``[query_distribution]`` with ``<query name> = <weight in percent>``. Unlike the
sample, weights need not add up to 100: they are normalised (the sample silently failed every
execution otherwise). Every problem is a `WorkloadError` (a ConfigError) naming the file and what is
wrong.
"""

from __future__ import annotations

import configparser
import math
import string
from dataclasses import dataclass
from pathlib import Path

from tsload._errors import WorkloadError

QUERY_MODES = ("regular", "row_count")
DEFAULT_REPETITIONS = 100
DEFAULT_RETRIES = 0
_DEFAULT_KEYS = frozenset({"query_mode", "repetitions", "retries"})

#: Placeholders a query file may use (the workload spec's query parameters); anything else is an error.
IDENTIFIER_PLACEHOLDERS = ("db", "table")
EXPRESSION_PLACEHOLDERS = ("end",)
LITERAL_PLACEHOLDERS = (
    "region",
    "cell",
    "silo",
    "az",
    "microservice",
    "instance_type",
    "os_version",
    "instance_name",
    "process_name",
    "jdk_version",
)
PLACEHOLDERS = frozenset(IDENTIFIER_PLACEHOLDERS + EXPRESSION_PLACEHOLDERS + LITERAL_PLACEHOLDERS)


@dataclass(frozen=True)
class WorkloadConfig:
    """The parsed mix. ``weights``: (query, probability) with probabilities summing to 1."""

    path: Path
    query_mode: str
    repetitions: int
    retries: int
    weights: tuple[tuple[str, float], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.weights)


@dataclass(frozen=True)
class Workload:
    """A workload folder resolved for one data model (single or multi)."""

    directory: Path
    model: str  # "single" | "multi"
    config: WorkloadConfig
    templates: dict[str, str]  # query name -> SQL template (only the queries of the mix)


def default_workload_dir() -> Path:
    """The bundled DevOps workload: inside an installed wheel (``tsload/_workloads/devops``, put
    there by the wheel build's force-include) or, in a checkout, the repository's ``workloads/devops``."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_workloads" / "devops", package.parent / "workloads" / "devops"):
        if (candidate / "config.ini").is_file():
            return candidate
    raise WorkloadError(
        "workload_dir",
        f"a workload folder: the bundled one is missing (looked in {package / '_workloads' / 'devops'} "
        f"and {package.parent / 'workloads' / 'devops'})",
    )


def _positive_int(path: Path, key: str, raw: str, *, minimum: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise WorkloadError(path, f"[default] {key}: an integer", got=raw.strip()) from None
    if value < minimum:
        raise WorkloadError(path, f"[default] {key}: an integer >= {minimum}", got=value)
    return value


def parse_config(path: Path, known_queries: frozenset[str] | None = None) -> WorkloadConfig:
    """Read and validate a workload INI file; ``known_queries`` (when given) are the allowed names."""
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkloadError("config_file", "an existing INI file", got=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkloadError("config_file", f"a readable INI file ({exc})", got=path) from None
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        raise WorkloadError(path, f"a valid INI file ({' '.join(str(exc).split())})") from None

    mode, repetitions, retries = "regular", DEFAULT_REPETITIONS, DEFAULT_RETRIES
    if parser.has_section("default"):
        section = parser["default"]
        unknown = sorted(set(section) - _DEFAULT_KEYS)
        if unknown:
            raise WorkloadError(path, "[default]: query_mode, repetitions or retries", got=unknown[0])
        mode = section.get("query_mode", "regular").strip()
        if mode not in QUERY_MODES:
            raise WorkloadError(path, "[default] query_mode: regular or row_count", got=mode)
        if "repetitions" in section:
            repetitions = _positive_int(path, "repetitions", section["repetitions"], minimum=1)
        if "retries" in section:
            retries = _positive_int(path, "retries", section["retries"], minimum=0)

    if not parser.has_section("query_distribution"):
        raise WorkloadError(path, "a [query_distribution] section")
    raw_weights: list[tuple[str, float]] = []
    for name, raw in parser["query_distribution"].items():
        if known_queries is not None and name not in known_queries:
            allowed = ", ".join(sorted(known_queries)) or "none"
            raise WorkloadError(path, f"[query_distribution]: a query of the workload ({allowed})", got=name)
        try:
            weight = float(raw.strip())
        except ValueError:
            raise WorkloadError(path, f"[query_distribution] {name}: a number", got=raw.strip()) from None
        if not math.isfinite(weight) or weight < 0:
            raise WorkloadError(path, f"[query_distribution] {name}: a finite number >= 0", got=raw.strip())
        raw_weights.append((name, weight))
    if not raw_weights:
        raise WorkloadError(path, "[query_distribution]: at least one query")
    total = math.fsum(w for _, w in raw_weights)
    if total <= 0:
        raise WorkloadError(path, "[query_distribution]: weights with a positive total", got=total)
    weights = tuple((name, w / total) for name, w in raw_weights)
    return WorkloadConfig(path, mode, repetitions, retries, weights)


def check_template(path: Path, text: str) -> None:
    """Every ``{placeholder}`` must be one of `PLACEHOLDERS`; braces must balance."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise WorkloadError(
            path, f"placeholders in valid syntax ({exc}; write literal braces as {{{{ }}}})"
        ) from None
    for field in fields:
        if field not in PLACEHOLDERS:
            allowed = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
            raise WorkloadError(path, f"placeholders {allowed}", got="{" + field + "}")


def load_templates(queries_dir: Path) -> dict[str, str]:
    """Every ``*.sql`` of one model folder, by file stem."""
    if not queries_dir.is_dir():
        raise WorkloadError(queries_dir, "a folder of *.sql query files", got="none")
    out: dict[str, str] = {}
    for f in sorted(queries_dir.glob("*.sql")):
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise WorkloadError(f, f"a readable query file ({exc})") from None
        if not text.strip():
            raise WorkloadError(f, "a query (the file is empty)")
        check_template(f, text)
        out[f.stem.lower()] = text
    return out


def load_workload(
    directory: Path | None = None,
    *,
    config: Path | None = None,
    multi: bool = False,
    folder: str | None = None,
) -> Workload:
    """Load a workload folder (default: the bundled DevOps one) for the single or multi model, or
    for another dialect's query `folder` (``influxql``, ``influxdb-sql``: a target's `QueryLanguage`)."""
    base = default_workload_dir() if directory is None else directory.expanduser()
    if not base.is_dir():
        raise WorkloadError("workload_dir", "a workload folder", got=base)
    model = folder or ("multi" if multi else "single")
    if not (base / "queries" / model).is_dir():
        raise WorkloadError("workload_dir", f"a workload folder holding queries/{model}/", got=base)
    templates = load_templates(base / "queries" / model)
    cfg = parse_config((config or base / "config.ini").expanduser(), frozenset(templates))
    return Workload(base, model, cfg, {n: templates[n] for n in cfg.names})
