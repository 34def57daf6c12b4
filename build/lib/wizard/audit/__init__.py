"""`mailwizard audit`: what the public mail testers check, run against the walk's server from its
outside vantage point. Below the engine: it imports neither the engine nor a face."""
