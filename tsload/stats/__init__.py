"""Latency statistics: HDR histograms that merge exactly across sessions, processes and machines."""
