"""One module per operation; each builds its forward pass and its closed forms."""
