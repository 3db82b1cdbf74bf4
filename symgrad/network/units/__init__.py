"""One unit per layer (``base.Layer``): its forward, lemmas, closed-form backward pass, LaTeX and
PyTorch code. ``table.py`` is the one list of them."""
