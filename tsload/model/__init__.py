"""The DevOps fleet and its values: pure, no I/O, numpy-vectorised (see docs/model.md)."""

from __future__ import annotations

from tsload.model.encode import EncodedRequest, EncodeOptions, RequestEncoder
from tsload.model.fleet import Fleet, FleetConfig
from tsload.model.schema import EVENT_DIMENSION_NAMES, EVENT_NAMES, METRIC_DIMENSION_NAMES, METRIC_NAMES
from tsload.model.summary import summary_lines
from tsload.model.values import ValueModel

__all__ = [
    "EVENT_DIMENSION_NAMES",
    "EVENT_NAMES",
    "METRIC_DIMENSION_NAMES",
    "METRIC_NAMES",
    "EncodeOptions",
    "EncodedRequest",
    "Fleet",
    "FleetConfig",
    "RequestEncoder",
    "ValueModel",
    "summary_lines",
]
