"""The core layer: exact polynomials and tensors, symbols and naming, errors, the size budget."""
