"""The publish layer: the LaTeX printer, documents, the writer, backward code and notebook views."""
