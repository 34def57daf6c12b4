"""The classroom lab: a simulated internet in network namespaces (DNS, an outside host)."""
