"""The Timestream target: the fast write path (own SigV4 + lean HTTP/1.1), the SDK path, endpoint
discovery, error classification and the database/table lifecycle."""

from __future__ import annotations

from tsload.targets.timestream.discovery import EndpointDiscovery
from tsload.targets.timestream.outcome import Attempt, Kind
from tsload.targets.timestream.writer import FastWriter, RecordWriter, SdkWriter

__all__ = ["Attempt", "EndpointDiscovery", "FastWriter", "Kind", "RecordWriter", "SdkWriter"]
