"""The derive layer: the chain-rule engine, losses, recorded steps, and the Derivation as data."""
