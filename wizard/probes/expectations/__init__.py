"""One module a kind of expectation: how it is described and judged (see wizard/probes/registry.py)."""
