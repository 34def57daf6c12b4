"""One module a kind of probe action: how it is carried out (see wizard/probes/registry.py)."""
