"""The chain layer: the chain rule's one pass over a polynomial layer's terms, losses, the recorded
steps and their rules, and an op's derivation as data."""
